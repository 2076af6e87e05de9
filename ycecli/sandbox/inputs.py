"""The engine's look at its input files, before it works on them.

The limits are the registry's: the MediaRules of each input, or those a feature's
`sandbox_rules` picks for the run body (SD or HD skin analysis, clothes' garment
mode). 003 reports a broken limit as an engine error: the upload and the run request
succeed, and the task ends with status "error" and the code the feature's error table
names (CATALOG 1.10-1.11), charging nothing (003:360). yce checks the same rules before
it uploads (ycecli.validate); the sandbox checks them again on the bytes that arrived,
so that a client that skips or gets its own checks wrong fails here as it would there.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ycecli.features import Feature, MediaRules
from ycecli.sandbox.engines import RULES
from ycecli.sandbox.model import EngineError
from ycecli.validate import read_mp4_header, sniff_content_type

# 003:399-401 list "container: mov, mp4" for the clip features, although their upload
# enum declares only video/mp4: a QuickTime file uploaded as video/mp4 is decoded.
_SAME_CONTAINER = {"video/quicktime": "video/mp4"}


def input_rules(feature: Feature, root: Mapping[str, Any]) -> dict[str, MediaRules]:
    """The rules of each input for this run body (`root`: the v1 payload or the v2 body)."""
    rules = {spec.name: spec.rules for spec in feature.inputs}
    if feature.sandbox_rules:
        rules.update(RULES[feature.sandbox_rules](feature, root))
    return rules


def check_task_inputs(
    feature: Feature, root: Mapping[str, Any], inputs: Mapping[str, list[tuple[bytes, str]]]
) -> None:
    """Raise EngineError for the first input, in declaration order, that breaks a rule."""
    rules = input_rules(feature, root)
    for spec in feature.inputs:
        for data, _declared_type in inputs.get(spec.name, []):
            check_input(data, rules[spec.name], spec.name)


def check_input(data: bytes, rules: MediaRules, name: str) -> None:
    """Judge one file by its bytes, never by the content type it was uploaded as."""
    codes = rules.codes
    if len(data) >= rules.max_bytes:
        raise EngineError(
            codes.file_size,
            f"{name}: {len(data)} bytes exceeds the limit of under {rules.max_bytes} bytes",
        )
    found = sniff_content_type(data[:32])
    kind = _SAME_CONTAINER.get(found, found) if found is not None else None
    if kind not in rules.content_types:
        wanted = "/".join(t.split("/")[1] for t in rules.content_types)
        raise EngineError(codes.decode, f"{name}: {found or 'unknown data'} is not {wanted}")
    if kind.startswith("image/"):
        breach = rules.size_breach(*_image_size(data, rules, name))
    else:
        header = read_mp4_header(io.BytesIO(data), len(data))
        if header is None or header.video_codec is None:
            raise EngineError(codes.decode, f"{name}: the clip has no video track to decode")
        breach = rules.clip_breach(**header.facts())
    if breach is not None:
        raise EngineError(getattr(codes, breach.kind), f"{name}: {breach.problem}")


def _image_size(data: bytes, rules: MediaRules, name: str) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise EngineError(rules.codes.decode, f"{name}: cannot decode the image: {exc}") from None
