"""Hooks of the portrait features (see ycecli.hooks for the stages).

Face swap (003:13404-14088) is two tasks: a detection task (`face-swap/pre-process`)
on the uploaded target lists its faces, then the swap task names, for each face to
replace, the reference image that goes on it (`face_mapping`, [{index: reference,
position: face}]). The detection runs in `before_submit`, through the same machinery
as every task (a fresh request_id, journaled before it is sent, polled within the
polling window).

The style generators (headshot, avatar, studio) need `len(style_ids) <=
custom.output_count` (003:14625).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ycecli import pictures
from ycecli.errors import InvalidInput
from ycecli.features import get_feature
from ycecli.run.types import InputRef, Job, SkipTask, TaskResult
from ycecli.shell import shell_command
from ycecli.validate import open_image

DETECT_COMMAND = "face-swap-detect"
_MAP_FORM = re.compile(r"\s*(\d+)\s*:\s*(\d+)\s*")
_MAP_HINT = (
    "Give --map REF:FACE once per face to replace: REF is the position of a --ref "
    "(0 for the first), FACE the index of a face in the target (from `--detect-only`), "
    "e.g. --map 0:0 --map 1:1."
)


# -- style generators ----------------------------------------------------------------


def style_output_count(ctx, params: dict) -> dict:
    """--count defaults to the number of styles, and may not be below it."""
    command = ctx.feature.command
    ids = params.get("style_ids") or []
    if not ids:
        raise InvalidInput(
            f"{command}: --style is required",
            hint=f"See `yce styles list {command}` for the style ids.",
        )
    count = params.get("output_count")
    if count is None:
        # The seed has no default; one image per style is the fewest it allows.
        return {**params, "output_count": len(ids)}
    if len(ids) > count:
        raise InvalidInput(
            f"{command}: {len(ids)} styles but --count {count}",
            hint=f"The number of styles must be at most --count (003:14625): give --count "
            f"{len(ids)} or more, or fewer --style.",
        )
    return params


# -- face swap: mapping ------------------------------------------------------------


def _pairs(params: dict) -> list[tuple[int, int]] | None:
    """(reference, face) pairs from --map; None when it was not given."""
    if not params.get("face_map"):
        return None
    pairs = []
    for text in params["face_map"]:
        match = _MAP_FORM.fullmatch(str(text))
        if not match:
            raise InvalidInput(f"face-swap: --map {text!r} is not REF:FACE", hint=_MAP_HINT)
        pairs.append((int(match.group(1)), int(match.group(2))))
    return pairs


def face_swap_prepare(ctx, params: dict) -> dict:
    """--map is well formed and replaces each face at most once. A face_mapping given
    by a library caller is taken as their --map, so it is checked the same way."""
    if params.get("detect_only"):
        return params
    mapping = params.get("face_mapping")
    if mapping and not params.get("face_map"):
        try:
            given = [f"{int(m['index'])}:{int(m['position'])}" for m in mapping]
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                "face-swap: face_mapping must be a list of {index, position} objects",
                hint=_MAP_HINT,
            ) from None
        params = {**params, "face_map": given}
    pairs = _pairs(params) or []
    faces = [face for _, face in pairs]
    repeated = sorted({face for face in faces if faces.count(face) > 1})
    if repeated:
        raise InvalidInput(
            f"face-swap: face {repeated[0]} is mapped more than once in --map",
            hint="Each face of the target can take one reference only. " + _MAP_HINT,
        )
    return params


def face_swap_check(ctx, job, params: dict) -> None:
    """Before anything is uploaded: references are given, and --map names only them.
    Without --map only one reference makes sense (it goes on the only face)."""
    if params.get("detect_only"):
        return
    refs = job.refs.get("ref") or []
    if not refs:
        raise InvalidInput(
            "face-swap: --ref is required",
            hint="Give the face to put in with --ref FILE (repeat it for several faces), "
            "or list the target's faces first with --detect-only.",
        )
    pairs = _pairs(params)
    if pairs is None:
        if len(refs) > 1:
            raise InvalidInput(
                f"face-swap: {len(refs)} --ref given but no --map says which face each goes on",
                hint="List the faces with "
                f"`{shell_command('yce', 'face-swap', job.label, '--detect-only')}`. " + _MAP_HINT,
            )
        return
    for ref, face in pairs:
        if ref >= len(refs):
            raise InvalidInput(
                f"face-swap: --map {ref}:{face} names reference {ref}, but only "
                f"{len(refs)} --ref {'was' if len(refs) == 1 else 'were'} given "
                f"(0..{len(refs) - 1})",
                hint=_MAP_HINT,
            )
    unused = sorted(set(range(len(refs))) - {ref for ref, _ in pairs})
    if unused:
        ctx.note(
            f"--ref {', '.join(map(str, unused))} not used by --map (uploaded but not swapped in)",
            label=job.label,
        )


def face_swap_mapping(ctx, job, params: dict) -> dict:
    """The face_mapping to send: from --map, or 0:0 for one reference (checked
    against the detected faces before the swap is submitted)."""
    if params.get("detect_only"):
        # The job ends after the detection task: the references are never needed,
        # so they are not uploaded (only drawn beside the faces), and no face_mapping
        # is ever sent. What it writes is the picture of the numbered faces, not a
        # swap: that picture is the job's output, and the only file checked.
        ctx.state.setdefault("face_swap_refs", {})[id(job)] = job.refs.pop("ref", [])
        if job.target is not None and not job.target_given:
            stem = job.refs["source"][0].stem
            job.target, job.target_given = job.target.with_name(f"{stem}_faces.jpg"), True
        return {**params, "face_mapping": []}
    pairs = _pairs(params) or [(0, 0)]
    mapping = [{"index": ref, "position": face} for ref, face in pairs]
    return {**params, "face_mapping": mapping}


# -- face swap: detection ------------------------------------------------------------


def _box(face: dict) -> list:
    """A face's box as the API gives it: 003's sample nests it, [[x, y, w, h]]
    (the convention of its four numbers is undocumented)."""
    bbox = face.get("bbox")
    if isinstance(bbox, list) and len(bbox) == 1 and isinstance(bbox[0], list):
        return bbox[0]
    return bbox if isinstance(bbox, list) else []


def _describe(faces: list[dict]) -> str:
    if not faces:
        return "no face found"
    return "; ".join(f"face {f['index']}: box {','.join(map(str, f['box']))}" for f in faces)


def _detect(ctx, job, source_id: str) -> dict:
    """Run the detection task on the uploaded target; return {faces, task_id}."""
    detect = get_feature(DETECT_COMMAND)
    ctx.note("detecting faces (face-swap/pre-process task)", label=job.label)
    detect_job = Job(
        label=job.label,
        # The target is already uploaded: the id is reused, nothing is sent again.
        refs={"source": [InputRef(job.label, file_id=source_id)]},
        target=None,
        target_given=False,
        params={},
    )
    result = TaskResult(feature=detect.command, input=job.label)
    # The same path as every task: request_id, journal, submit, poll, journal.
    ctx.run_task(detect, detect_job, result)
    raw = [face for entry in result.data for face in (entry.get("faces") or [])]
    faces = [
        {"index": i, "box": _box(face), "bbox": face.get("bbox")}
        for i, face in enumerate(raw)
        if isinstance(face, dict)
    ]
    return {"faces": faces, "task_id": result.task_id}


def face_swap_detect(ctx, job, file_ids: dict, params: dict) -> dict:
    detected = _detect(ctx, job, file_ids["source"][0])
    faces = detected["faces"]
    ctx.state.setdefault("face_swap", {})[id(job)] = detected
    ctx.note(f"{len(faces)} face(s): {_describe(faces)}", label=job.label)
    if params.get("detect_only"):
        _stop_after_detection(ctx, job, detected)
    if not faces:
        raise InvalidInput(
            f"face-swap: the detection task found no face in {job.label}; no swap was run",
            hint="Use a target photo with clear, frontal, uncovered faces.",
        )
    pairs = _pairs(params)
    if pairs is None and len(faces) != 1:
        raise InvalidInput(
            f"face-swap: {job.label} has {len(faces)} faces ({_describe(faces)}); "
            "say which to replace",
            hint=_MAP_HINT,
        )
    for ref, face in pairs or []:
        if face >= len(faces):
            raise InvalidInput(
                f"face-swap: --map {ref}:{face} names face {face}, but {job.label} has "
                f"{len(faces)} ({_describe(faces)}); no swap was run",
                hint=_MAP_HINT,
            )
    return params


def _stop_after_detection(ctx, job, detected: dict) -> None:
    faces = detected["faces"]
    extra = {
        "faces": faces,
        "detection_task_id": detected["task_id"],
        "table": [(f"face {f['index']}", ",".join(map(str, f["box"]))) for f in faces],
    }
    files = []
    source = job.refs["source"][0]
    refs = ctx.state.get("face_swap_refs", {}).get(id(job), [])
    if job.target is not None and source.path is not None:
        draw_faces(source.path, faces, refs, job.target)
        files.append(str(job.target))
    elif job.target is not None:
        ctx.note(f"{job.label} has no local copy to draw the faces on", label=job.label)
    raise SkipTask(extra, files)


def draw_faces(target_path, faces: list[dict], refs: list, dest) -> None:
    """The target with each face framed and numbered as --map numbers it (FACE), and
    below it each --ref with its number (REF), so a mapping is chosen by looking."""
    from PIL import Image, ImageDraw

    with open_image(target_path, label="the target photo", error=InvalidInput) as photo:
        marked = pictures.numbered_boxes(photo, [face["box"] for face in faces])
    tiles = []
    for number, ref in enumerate(refs):
        caption = [f"--ref {number}", ref.stem]
        if ref.path is None:
            tiles.append(pictures.Tile(None, caption, missing=f"{ref.text}: not a local file"))
            continue
        with open_image(ref.path, label="a --ref photo", error=InvalidInput) as img:
            tiles.append(pictures.Tile(img.copy(), caption))
    side = marked.width
    text_font = pictures.font(side / 40)
    line_h = pictures.text_size("Agj", text_font)[1] + side // 80
    count = f"{len(faces)} face{'s' if len(faces) != 1 else ''} found" if faces else "no face found"
    lines = [f"{count}: --map REF:FACE puts --ref REF on face FACE (e.g. --map 0:0)"]
    strip = None
    if tiles:
        columns = max(len(tiles), 4)
        strip = pictures.contact_sheet(
            tiles, side=side // columns - 2 * max(6, side // 80), columns=columns
        )
    height = marked.height + len(lines) * line_h + side // 80 * 2 + (strip.height if strip else 0)
    picture = Image.new("RGB", (side, height), pictures.PAPER)
    picture.paste(marked, (0, 0))
    draw = ImageDraw.Draw(picture)
    y = marked.height + side // 80
    for line in lines:
        draw.text(
            (side // 80, y),
            pictures.fit_text(line, text_font, side),
            fill=pictures.INK,
            font=text_font,
        )
        y += line_h
    if strip is not None:
        picture.paste(strip, (0, y))
    pictures.save_atomic(picture, Path(dest))


def face_swap_report(ctx, job, result) -> None:
    """The faces and the mapping used go into the result (`--json`)."""
    detected = ctx.state.get("face_swap", {}).get(id(job))
    if detected:
        result.extra["faces"] = detected["faces"]
        result.extra["detection_task_id"] = detected["task_id"]
    result.extra["face_mapping"] = job.params.get("face_mapping")


HOOKS: dict[str, Callable[..., Any]] = {
    "style_output_count": style_output_count,
    "face_swap_prepare": face_swap_prepare,
    "face_swap_check": face_swap_check,
    "face_swap_mapping": face_swap_mapping,
    "face_swap_detect": face_swap_detect,
    "face_swap_report": face_swap_report,
}
