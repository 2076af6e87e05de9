"""Hooks of the analysis features (see ycecli.hooks for the stages).

Skin analysis: the concerns come from --concern or --preset and decide the photo's
size rules (SD or HD); the result ZIP is kept and unpacked, safely, into a folder
beside it, and its scores become the command's table.

Face analyzer: the attributes come back inline as JSON; they are tabulated and,
with -o, written to a file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ycecli.errors import ApiError, InvalidInput, YceError
from ycecli.features.analysis import (
    FACE_FEATURES,
    PRESETS,
    SKIN_HD_RULES,
    SKIN_SD_RULES,
    check_concerns,
    is_hd,
)
from ycecli.files import refuse_existing, write_atomic
from ycecli.hooks.skin_results import extract_zip, make_overlays, read_scores

# --- shared ------------------------------------------------------------------------


# --- skin analysis -----------------------------------------------------------------


def skin_concerns(ctx, params: dict) -> dict:
    """--concern or --preset (one of the two) -> the checked `dst_actions`."""

    concerns = params.get("concern") or []
    preset = params.get("preset")
    direct = params.get("dst_actions") or []  # the Python API may pass the API's name
    given = [name for name, value in (("--concern", concerns), ("--preset", preset)) if value]
    if direct and not given:
        chosen = direct
    elif len(given) > 1:
        raise InvalidInput(
            "skin-analysis: give --concern or --preset, not both",
            hint="--preset picks a whole set; --concern lists the concerns one by one.",
        )
    elif not given:
        raise InvalidInput(
            "skin-analysis: no skin concerns given",
            hint="Pass --preset (" + ", ".join(PRESETS) + ") or 4, 7 or 14 names with "
            "--concern, e.g. --concern wrinkle,pore,texture,acne.",
        )
    else:
        chosen = concerns or PRESETS[str(preset)]
    return {**params, "dst_actions": list(check_concerns(chosen))}


def skin_rules(ctx, params: dict, rules: dict) -> dict:
    """The photo limits of the chosen mode: SD or HD (003:1156)."""

    hd = is_hd(params.get("dst_actions") or [])
    return {**rules, "source": SKIN_HD_RULES if hd else SKIN_SD_RULES}


def skin_folder(zip_path: Path) -> Path:
    """Where a result ZIP is unpacked: beside it, named after it (x.zip -> x/)."""
    if zip_path.suffix:
        return zip_path.with_suffix("")
    # -o named the ZIP without a suffix: the folder cannot take the very same name.
    return zip_path.with_name(zip_path.name + "_files")


def skin_check_job(ctx, job, params: dict) -> None:
    """Before any upload: the folder the result will be unpacked into must be free,
    and --overlay needs the photo itself to draw on."""
    if job.target is not None:
        refuse_existing(
            skin_folder(job.target),
            overwrite=ctx.overwrite,
            detail=" (the result ZIP is unpacked there)",
            hint="Pass --overwrite to replace its files, or choose another -o.",
        )
    if params.get("overlay"):
        ref = job.refs["source"][0]
        if ref.path is None:
            raise InvalidInput(
                f"--overlay needs the photo to draw on, and {job.label} is a file id",
                hint="Pass the photo's path or URL, or leave out --overlay.",
            )


def skin_unpack(ctx, job, result) -> None:
    """Unpack each result ZIP beside itself, tabulate its scores, draw the overlays."""
    try:
        _skin_unpack(ctx, job, result)
    except YceError as exc:
        result.record_error(exc)
        raise


def _skin_unpack(ctx, job, result) -> None:

    zips = [Path(p) for p in result.files if Path(p).suffix.lower() == ".zip"]
    if not zips and result.files:
        # -o named the ZIP without a suffix; it is still the result.
        zips = [Path(result.files[0])]
    table: list[tuple[str, str]] = []
    scores: list[dict] = []
    folders: list[str] = []
    overlays: list[str] = []
    for zip_path in zips:
        folder = skin_folder(zip_path)
        written = extract_zip(zip_path, folder, overwrite=ctx.overwrite)
        result.files.extend(str(p) for p in written)
        folders.append(str(folder))
        rows = read_scores(folder)
        for row in rows:
            label = row.concern if row.area is None else f"{row.concern}.{row.area}"
            table.append((label, f"{row.ui_score} (raw {row.raw_score:.1f})"))
            scores.append({**asdict(row), "result": str(folder)})
        if (job.params or {}).get("overlay"):
            photo = _local_photo(job)
            if photo is None:
                ctx.note(f"{job.label}: the photo is not at hand; no overlays drawn")
                continue
            drawn = make_overlays(photo, folder, rows, folder / "overlays")
            overlays.extend(str(p) for p in drawn)
            # The contact sheet is what a person opens: its path goes first.
            result.files[:0] = [str(drawn[-1])]
            result.extra["contact_sheet"] = str(drawn[-1])
            result.files.extend(str(p) for p in drawn[:-1])
    result.extra["table"] = table
    result.extra["scores"] = scores
    result.extra["folders"] = folders
    if overlays:
        result.extra["overlays"] = overlays


def _local_photo(job) -> Path | None:
    refs = job.refs.get("source") or []
    if refs and refs[0].path is not None and Path(refs[0].path).is_file():
        return Path(refs[0].path)
    return None


# --- face analyzer -----------------------------------------------------------------


def face_features(ctx, params: dict) -> dict:
    """No --feature: every documented attribute (see the declaration for why)."""

    if params.get("feature"):
        return params
    return {**params, "feature": list(FACE_FEATURES)}


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), sub, rows)
        return
    if isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value):
        rows.append((prefix, ", ".join(_text(v) for v in value)))
        return
    if isinstance(value, list):
        for index, sub in enumerate(value):
            _flatten(f"{prefix}[{index}]", sub, rows)
        return
    rows.append((prefix, _text(value)))


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)  # true / false / null, as in the API's JSON
    return str(value)


def face_table(ctx, job, result) -> None:
    """`analysis_result` -> table rows ("eyebrow.left_shape  Hard Angled"), the raw
    object in extra["analysis"], and with -o the JSON file."""
    try:
        _face_table(ctx, job, result)
    except YceError as exc:
        result.record_error(exc)
        raise


def _face_table(ctx, job, result) -> None:

    found = [
        d["analysis_result"]
        for d in result.data
        if isinstance(d, dict) and d.get("analysis_result") is not None
    ]
    if not found:
        raise ApiError(
            f"{job.label}: the task succeeded but its result has no analysis_result",
            hint="Fetch it again with `yce task wait`, or run the analysis again.",
        )
    # One entry is the documented case; should the API send several, none is lost.
    analysis = found[0] if len(found) == 1 else found
    rows: list[tuple[str, str]] = []
    _flatten("", analysis, rows)
    result.extra["table"] = rows
    result.extra["analysis"] = analysis
    if job.target is not None:
        text = json.dumps(analysis, indent=2, ensure_ascii=False) + "\n"
        write_atomic(Path(job.target), text.encode("utf-8"), overwrite=ctx.overwrite)
        result.files.append(str(job.target))


HOOKS: dict[str, Callable[..., Any]] = {
    "skin_concerns": skin_concerns,
    "skin_rules": skin_rules,
    "skin_check_job": skin_check_job,
    "skin_unpack": skin_unpack,
    "face_features": face_features,
    "face_table": face_table,
}
