"""Before anything is spent: every input resolved and checked, every output named.

Default names follow ycecli.run.naming; an existing output is refused here (through
ycecli.files.refuse_existing), never discovered after the task was paid for."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ycecli.errors import InvalidInput, YceError
from ycecli.files import refuse_existing
from ycecli.run.naming import check_output_name, name_tail
from ycecli.run.types import InputRef, Job, safe_name
from ycecli.transfer import download
from ycecli.validate import check_media, check_output_path

if TYPE_CHECKING:
    from ycecli.features import Feature, InputSpec
    from ycecli.run.session import Session

RESULT_SUFFIX = {"zip": ".zip", "json": ".json", "video": ".mp4", "image": ".jpg"}
# Names an image result may take besides its input's suffix (a PNG cut-out of a JPEG).
IMAGE_RESULT_SUFFIXES = (".jpg", ".png", ".webp")


def plan_jobs(
    session: Session,
    feature: Feature,
    inputs: Iterable[str] | str,
    *,
    extra_inputs: Mapping[str, Iterable[str] | str] | None = None,
    output: str | Path | None = None,
    overwrite: bool = False,
    rules: Mapping[str, Any] | None = None,
    layout: Mapping[str, Path] | None = None,
    existing_ok: bool = False,
    params: Mapping[str, Any] | None = None,
) -> list[Job]:
    """Resolve and check every input and output; raise before anything is spent.

    `rules` overrides an input's MediaRules by input name (limits that depend on
    parameters); `layout` gives each input's result folder below the output
    directory (see ycecli.batch); with `existing_ok`, an existing output is left for
    the caller to judge (it may be this very input's earlier result). `params`, the
    parameters as the user gave them, name the default outputs (ycecli.run.naming)."""
    rules = rules or {}
    primary = feature.primary_input
    texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
    if primary is None:
        # No input file at all (text-to-image): one task, named after the command.
        texts = [time.strftime(f"{feature.command}-%Y%m%d-%H%M%S")]
    elif not texts:
        raise InvalidInput(f"{feature.command}: no input given")
    shared: dict[str, list[InputRef]] = {}
    for spec in feature.inputs:
        if spec is primary:
            continue
        extra = (extra_inputs or {}).get(spec.name)
        values = [extra] if isinstance(extra, str) else list(extra or [])
        if not values and spec.required:
            raise InvalidInput(f"{feature.command}: {spec.flag} is required")
        shared[spec.name] = [
            resolve_input(session, spec, InputRef.parse(v), rules.get(spec.name)) for v in values
        ]

    out_path = Path(output).expanduser() if output is not None else None
    as_dir = out_path is not None and (
        len(texts) > 1 or out_path.is_dir() or str(output).endswith(("/", "\\"))
    )
    if output is not None:
        check_output_name(feature, output, len(texts), as_dir)
    # A command with no input file is named by the time it ran: it never collides.
    tail = name_tail(feature, params or {}, extra_inputs or {}) if primary else ""
    jobs: list[Job] = []
    seen: set[Path] = set()
    for text in texts:
        if primary is None:
            ref = InputRef(text, path=Path(text))
        else:
            ref = resolve_input(session, primary, InputRef.parse(text), rules.get(primary.name))
        target: Path | None = None
        given = False
        if feature.result != "json" or out_path is not None:
            if out_path is not None and not as_dir:
                target, given = out_path, True
            else:
                base = out_path if out_path is not None and as_dir else Path.cwd()
                base = base / (layout or {}).get(text, Path())
                suffix = ref.suffix if feature.result == "image" and primary else ""
                suffix = suffix or RESULT_SUFFIX[feature.result]
                target = base / f"{ref.stem}_{feature.command}{tail}{suffix}"
            if target in seen:
                raise InvalidInput(
                    f"{feature.command}: two inputs would both write {target}",
                    hint="Give the inputs distinct names, or run them separately.",
                )
            seen.add(target)
            check_output_path(target)
            refuse_existing(target, overwrite=overwrite or existing_ok)
        refs = {primary.name: [ref], **shared} if primary is not None else dict(shared)
        jobs.append(Job(label=text, refs=refs, target=target, target_given=given))
    return jobs


def resolve_input(session: Session, spec: InputSpec, ref: InputRef, rules: Any = None) -> InputRef:
    """Fetch URL inputs to a temporary file, and check local files."""
    rules = rules or spec.rules
    if ref.file_id is not None:
        return ref  # an id was checked when it was first uploaded or produced
    if ref.url is not None and spec.url_field:
        return ref  # the API fetches public URLs itself (v2 try-on); nothing to upload
    if ref.url is not None:
        local = _fetch_url(session, ref.url)
        info = check_media(local, rules, label=f"{spec.name} {ref.url} (downloaded)")
        return InputRef(ref.text, path=local, url=ref.url, info=info)
    assert ref.path is not None
    info = check_media(ref.path, rules, label=spec.name)
    return InputRef(ref.text, path=ref.path, info=info)


def _fetch_url(session: Session, url: str) -> Path:
    name = safe_name(Path(unquote(urlsplit(url).path)).name) or "download"
    scratch = session.tmpdir()
    target = scratch / f"{len(list(scratch.iterdir()))}-{name}"
    try:
        return download(session.client, url, target)
    except YceError as exc:
        raise InvalidInput(
            f"input {url} could not be downloaded: {exc.message}",
            hint="Check the URL, or download it yourself and pass the file.",
        ) from None


def check_targets(feature: Feature, jobs: Iterable[Job], overwrite: bool) -> None:
    """An output that exists is never replaced without `overwrite`: refuse before
    anything is spent. A result's format may differ from its input's (a JPEG in, a
    PNG cut-out back), so every name the result could take is checked."""
    for job in jobs:
        if job.target is None:
            continue
        candidates = [job.target]
        if not job.target_given and feature.result == "image":
            candidates += [job.target.with_suffix(s) for s in IMAGE_RESULT_SUFFIXES]
        for path in candidates:
            refuse_existing(path, overwrite=overwrite)


def result_path(target: Path, target_given: bool, url: str, index: int) -> Path:
    """Where the `index`th result of a task goes: the -o name as given, or the
    planned name with the result's own extension; later results get _2, _3..."""
    path = target
    if not target_given:
        path = target.with_suffix(suffix_from_url(url) or target.suffix)
    if index:
        path = path.with_name(f"{path.stem}_{index + 1}{path.suffix}")
    return path


def wait_target(
    feature: Feature, task_id: str, output: str | Path | None, recorded: list[str]
) -> tuple[Path | None, bool]:
    """Where `yce task wait` puts a task's results: -o (a file, or a folder), else
    where the journal says its run meant to, else a name from the task id."""
    target: Path | None = None
    given = False
    if output is not None:
        target, given = Path(output).expanduser(), True
        if target.is_dir() or str(output).endswith(("/", "\\")):
            target, given = target / f"{feature.command}_{safe_name(task_id)[:16]}", False
    elif recorded:
        target = Path(recorded[0])
    elif feature.result != "json":
        digest = hashlib.sha256(task_id.encode()).hexdigest()[:10]
        target = Path.cwd() / f"task-{digest}_{feature.command}{RESULT_SUFFIX[feature.result]}"
    if target is not None and not target.suffix and feature.result != "json":
        target = target.with_suffix(RESULT_SUFFIX[feature.result])
    return target, given


def suffix_from_url(url: str) -> str:
    suffix = Path(unquote(urlsplit(url).path)).suffix.lower()
    return (
        {".jpeg": ".jpg"}.get(suffix, suffix)
        if suffix in (".jpg", ".jpeg", ".png", ".mp4", ".zip", ".json", ".webp")
        else ""
    )
