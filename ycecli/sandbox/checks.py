"""The sandbox's request checks: what the API refuses with a 4xx before it does
anything, each refusal a SandboxError (ycecli.sandbox.model). Pure functions of the
request: nothing here reads or changes the sandbox's state (ycecli.sandbox.state
passes in what a check needs to know, e.g. whether a file id exists).

- headers: the Bearer token, one auth mechanism on storage URLs, a storage PUT's
  Content-Length and Content-Type against what its slot was signed for;
- bodies: JSON objects only, the upload request's files, and every run body against
  the feature's declaration in the registry (ycecli.features): its containers, fields,
  types and ranges, style ids, then the feature's own cross-field check
  (`sandbox_check`, a name in ycecli.sandbox.engines.CHECKS);
- queries: integers in range.

The engine's look at the uploaded bytes (sizes, formats, resolutions) is not a
request check: it fails the task instead, in ycecli.sandbox.inputs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ycecli.errors import InvalidInput
from ycecli.features import Feature, Param, get_path
from ycecli.sandbox.engines import CHECKS
from ycecli.sandbox.model import SandboxError, StoredFile
from ycecli.sandbox.styles import style_group_of

# The content types the 003 upload endpoints accept (their enum: 003:1.14.1), and
# the one value the video features accept.
UPLOAD_TYPES_IMAGE = ("image/jpg", "image/jpeg", "image/png")
UPLOAD_TYPES_VIDEO = ("video/mp4",)


# -- headers ------------------------------------------------------------------------


def bearer_token(headers) -> str:
    """The token of an `Authorization: Bearer ...` header (its validity is the
    state's to judge)."""
    value = headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme != "Bearer" or not token:
        raise SandboxError(401, "Missing access token", "InvalidAccessToken")
    return token


def one_auth_mechanism(headers) -> None:
    """S3 refuses a presigned URL that also carries an Authorization header (a client
    that sends its API token to storage, or a ~/.netrc entry that requests applies),
    before it looks at the signature."""
    if headers.get("Authorization") is not None:
        raise SandboxError(
            400,
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be specified",
            "InvalidArgument",
        )


def check_upload_headers(headers, stored: StoredFile) -> None:
    """A presigned PUT, as strict as S3 is about it: no chunked body, and exactly the
    Content-Length and Content-Type the upload slot was created for."""
    if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
        raise SandboxError(
            501,
            "A header you provided implies functionality that is not "
            "implemented: Transfer-Encoding",
            "NotImplemented",
        )
    length = headers.get("Content-Length")
    if length is None:
        raise SandboxError(
            411, "You must provide the Content-Length HTTP header.", "MissingContentLength"
        )
    if not length.isdigit() or int(length) != stored.declared_size:
        raise SandboxError(
            403,
            "The request signature we calculated does not match the "
            "signature you provided (Content-Length)",
            "SignatureDoesNotMatch",
        )
    if headers.get("Content-Type") != stored.content_type:
        raise SandboxError(
            403,
            "The request signature we calculated does not match the "
            "signature you provided (Content-Type)",
            "SignatureDoesNotMatch",
        )


# -- bodies ---------------------------------------------------------------------------


def json_body(headers, body: bytes) -> dict:
    """A POST's body: JSON, and a JSON object."""
    ctype = headers.get("Content-Type", "")
    if not ctype.startswith("application/json"):
        raise SandboxError(400, "Content-Type must be application/json", "InvalidParameters")
    try:
        parsed = json.loads(body or b"null")
    except ValueError:
        raise SandboxError(400, "Request body is not valid JSON", "InvalidParameters") from None
    if not isinstance(parsed, dict):
        raise SandboxError(400, "Request body must be a JSON object", "InvalidParameters")
    return parsed


def check_files_body(body: dict) -> list:
    """An upload request (`POST /file/...`): its non-empty `files` array."""
    require_keys(body, required={"files"}, allowed={"files"})
    files = body["files"]
    if not isinstance(files, list) or not files:
        raise SandboxError(400, "files must be a non-empty array", "InvalidParameters")
    return files


def check_file_entry(feature: Feature, entry: Any) -> tuple[str, str, int]:
    """One entry of an upload request's `files`: (content type, file name, size)."""
    primary = feature.primary_input
    video = primary is not None and primary.rules.content_types[0].startswith("video/")
    allowed_types = UPLOAD_TYPES_VIDEO if video else UPLOAD_TYPES_IMAGE
    limit = max(spec.rules.max_bytes for spec in feature.inputs)
    if not isinstance(entry, dict):
        raise SandboxError(400, "each file must be an object", "InvalidParameters")
    require_keys(
        entry,
        required={"content_type", "file_name", "file_size"},
        allowed={"content_type", "file_name", "file_size"},
        where="files[]",
    )
    ctype, name, size = entry["content_type"], entry["file_name"], entry["file_size"]
    if ctype not in allowed_types:
        raise SandboxError(
            400,
            f"content_type must be one of {', '.join(allowed_types)}",
            "InvalidParameters",
        )
    if not isinstance(name, str) or not name:
        raise SandboxError(400, "file_name must be a non-empty string", "InvalidParameters")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise SandboxError(400, "file_size must be a positive integer", "InvalidParameters")
    # "Should not be larger than 10MB" (100MB for video), and the limits tables
    # say "< 10MB": the stricter reading, the registry's max_bytes (see TEN_MB).
    if size >= limit:
        raise SandboxError(
            400,
            f"file_size {size} is not under the limit of {limit} bytes",
            "InvalidParameters",
        )
    return ctype, name, size


def check_vto_body(feature: Feature, body: dict, known_file: Callable[[str], bool]) -> None:
    """Check a v2 try-on body against seed 002's schema and the declaration."""
    specs = {spec.name: spec for spec in feature.inputs}
    allowed = {"source_info", "object_infos"}
    for spec in feature.inputs:
        allowed |= {spec.field, *([spec.url_field] if spec.url_field else [])}
    require_keys(body, required={"source_info", "object_infos"}, allowed=allowed)
    names: dict[str, list[str]] = {}
    for name, spec in specs.items():
        given = [f for f in (spec.field, spec.url_field) if f in body]
        if len(given) > 1:
            raise SandboxError(
                400, f"give {spec.field} or {spec.url_field}, not both", "InvalidParameters"
            )
        if not given:
            if spec.required:
                raise SandboxError(
                    400, f"{spec.field} or {spec.url_field} is required", "InvalidParameters"
                )
            continue
        value = body[given[0]]
        values = value if spec.as_list else [value]
        if spec.as_list and (not isinstance(value, list) or not value):
            raise SandboxError(400, f"{given[0]} must be a non-empty array", "InvalidParameters")
        if not all(isinstance(v, str) and v for v in values):
            raise SandboxError(400, f"{given[0]} must hold strings", "InvalidParameters")
        if given[0] == spec.field:
            for fid in values:
                if not known_file(fid):
                    raise SandboxError(
                        400, f"Unknown file id in {spec.field}: {fid}", "InvalidParameters"
                    )
        names[name] = values
    source_info = body["source_info"]
    require_keys(source_info, required={"name"}, allowed={"name", "mask_name"}, where="source_info")
    if source_info["name"] != names["source"][0]:
        raise SandboxError(
            400, "source_info.name must name the source file id or URL", "InvalidParameters"
        )
    if source_info.get("mask_name") not in (None, *names.get("source_mask", [])):
        raise SandboxError(
            400, "source_info.mask_name must name the source mask", "InvalidParameters"
        )
    objects = body["object_infos"]
    products = names["product"]
    if not isinstance(objects, list) or len(objects) != len(products):
        raise SandboxError(
            400, "object_infos must hold one entry per reference file", "InvalidParameters"
        )
    declared = {p.name: p for p in feature.params}
    for index, info in enumerate(objects):
        where = f"object_infos[{index}]"
        require_keys(
            info, required={"name"}, allowed={"name", "mask_name", "parameter"}, where=where
        )
        if info["name"] != products[index]:
            raise SandboxError(
                400, f"{where}.name must name reference file {index}", "InvalidParameters"
            )
        parameter = info.get("parameter") or {}
        require_keys(parameter, required=set(), allowed=set(declared), where=f"{where}.parameter")
        for name, value in parameter.items():
            if value is not None:
                _check_value(declared[name], value)


def check_run_body(feature: Feature, body: dict, known_file: Callable[[str], bool]) -> None:
    """Check a run-task body against the feature's declaration, as the API would:
    every container the declaration implies must be there, hold only declared fields,
    carry every required one, and each value must have the declared type and range."""
    require_keys(body, required={"request_id", "payload"}, allowed={"request_id", "payload"})
    rid = body["request_id"]
    if not isinstance(rid, int) or isinstance(rid, bool) or rid < 0:
        raise SandboxError(400, "request_id must be a non-negative integer", "InvalidParameters")
    payload = body["payload"]
    if not isinstance(payload, dict):
        raise SandboxError(400, "payload must be an object", "InvalidParameters")
    sendable = [p for p in feature.params if p.send]
    outer = {p.path[0] for p in sendable if p.path and p.path[0] != "actions"}
    payload_keys = {"actions", *outer} | ({"file_sets"} if feature.file_sets else set())
    required_outer = {p.path[0] for p in sendable if p.required and p.path[0] != "actions"}
    require_keys(
        payload,
        required={"actions", *required_outer} | ({"file_sets"} if feature.file_sets else set()),
        allowed=payload_keys,
        where="payload",
    )
    if feature.file_sets:
        _check_file_sets(feature, payload["file_sets"], known_file)
    if feature.sandbox_check:
        # The feature's own rules first: their messages are the documented ones
        # (e.g. "must select 4, 7 or 14 distinct dst_actions"); ycecli.sandbox.engines.
        try:
            CHECKS[feature.sandbox_check](feature, body)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            # A malformed body must get the API's 400, not crash the check.
            raise SandboxError(400, f"malformed request body: {exc}", "InvalidParameters") from None
    actions = payload["actions"]
    if not isinstance(actions, list) or len(actions) != 1 or not isinstance(actions[0], dict):
        raise SandboxError(400, "payload.actions must hold exactly one action", "InvalidParameters")
    if not isinstance(actions[0].get("id"), int) or isinstance(actions[0].get("id"), bool):
        raise SandboxError(400, "payload.actions[0].id must be an integer", "InvalidParameters")
    containers: dict[tuple, dict[str, Param]] = {("actions", 0): {}}
    if feature.action_params:
        containers[("actions", 0, "params")] = {}
    for p in sendable:
        containers.setdefault(tuple(p.path), {})[p.name] = p
    for path, declared in containers.items():
        where = "payload" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in path)
        try:
            node = get_path(payload, path)
        except (KeyError, IndexError, TypeError):
            if any(p.required for p in declared.values()) or path == ("actions", 0, "params"):
                raise SandboxError(400, f"{where} is required", "InvalidParameters") from None
            continue
        extra = set()
        if path == ("actions", 0):
            extra = {"id"} | ({"params"} if feature.action_params else set())
        require_keys(
            node,
            required={n for n, p in declared.items() if p.required} | ({"id", "params"} & extra),
            allowed=set(declared) | extra,
            where=where,
        )
        for name, value in node.items():
            if name in declared:
                _check_value(declared[name], value)
    if feature.styles:
        _check_styles(feature, get_path(payload, ("actions", 0)).get("params") or {})


def _check_file_sets(feature: Feature, file_sets: Any, known_file: Callable[[str], bool]):
    if not isinstance(file_sets, dict):
        raise SandboxError(400, "payload.file_sets must be an object", "InvalidParameters")
    fields = {spec.field: spec for spec in feature.inputs}
    required = {spec.field for spec in feature.inputs if spec.required}
    require_keys(file_sets, required=required, allowed=set(fields), where="payload.file_sets")
    for name, ids in file_sets.items():
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise SandboxError(
                400, f"payload.file_sets.{name} must be an array of file ids", "InvalidParameters"
            )
        for fid in ids:
            if not known_file(fid):
                raise SandboxError(
                    400, f"Unknown file id in payload.file_sets.{name}: {fid}", "InvalidParameters"
                )


def _check_styles(feature: Feature, params: dict) -> None:
    group = params.get("style_group_id")
    for style_id in params.get("style_ids") or []:
        actual = style_group_of(feature.slug, style_id)
        if actual is None:
            raise SandboxError(400, f"Invalid style id {style_id}", "InvalidParameters")
        if group is not None and actual != group:
            raise SandboxError(
                400, f"Style {style_id} is not in style group {group}", "InvalidParameters"
            )


def _check_value(param: Param, value: Any) -> None:
    types: dict[str, type | tuple[type, ...]] = {
        "int": int,
        "float": (int, float),
        "str": str,
        "bool": bool,
        "point": list,
        "points": list,
        "str_list": list,
        "int_list": list,
        "object": dict,
        "object_list": list,
    }
    ok = isinstance(value, types[param.kind]) and (
        param.kind == "bool" or not isinstance(value, bool)
    )
    if ok and param.kind == "point":
        ok = len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if ok and param.kind == "int_list":
        ok = all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if ok and param.kind == "str_list":
        ok = all(isinstance(v, str) for v in value)
    if ok and param.kind == "points":
        ok = all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in p)
            for p in value
        )
    if not ok:
        raise SandboxError(400, f"{param.name} must be of type {param.kind}", "InvalidParameters")
    try:
        param.coerce(value)
    except InvalidInput as exc:
        raise SandboxError(
            400, f"{param.name}: {exc.hint or exc.message}", "InvalidParameters"
        ) from None


def require_keys(obj: Any, *, required: set, allowed: set, where: str = "body") -> None:
    if not isinstance(obj, dict):
        raise SandboxError(400, f"{where} must be an object", "InvalidParameters")
    missing = sorted(required - set(obj))
    if missing:
        raise SandboxError(
            400, f"{where}: missing required field(s) {', '.join(missing)}", "InvalidParameters"
        )
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise SandboxError(
            400, f"{where}: unknown field(s) {', '.join(unknown)}", "InvalidParameters"
        )


# -- queries --------------------------------------------------------------------------


def query_int(query: dict, name: str, *, default: int, low: int, high: int) -> int:
    values = query.get(name)
    if not values:
        return default
    try:
        value = int(values[0])
    except ValueError:
        raise SandboxError(400, f"{name} must be an integer", "InvalidParameters") from None
    if not low <= value <= high:
        raise SandboxError(400, f"{name} must be between {low} and {high}", "InvalidParameters")
    return value
