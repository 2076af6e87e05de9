"""Skin analysis results: unpacking the result ZIP, reading its scores and drawing its
masks over the photo (the concerns themselves are declared in ycecli.features.analysis).

The result is a ZIP we did not make, so it is unpacked as untrusted input: no entry may
land outside the target folder, and a refused ZIP leaves nothing behind.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ycecli import pictures
from ycecli.errors import ApiError, InvalidInput, OutputExists
from ycecli.features.analysis import RESULT_FOLDER, SCORE_FILE
from ycecli.files import atomic_file, umask
from ycecli.validate import open_image

if TYPE_CHECKING:
    # Aliased: the functions below import the PIL.Image module as `Image`.
    from PIL.Image import Image as PILImage

# A real result holds at most 24 masks and a JSON file of a few kB, so these limits are
# far above anything legitimate and far below what would fill a disk.
MAX_ZIP_ENTRIES = 1000
MAX_ZIP_BYTES = 1 << 30
MAX_SCORE_FILE_BYTES = 16 << 20


def _refuse(zip_path: Path, name: str, reason: str) -> ApiError:
    return ApiError(
        f"{zip_path}: refusing the ZIP entry {name!r}: {reason}",
        hint="Nothing was extracted. A result from the API never holds such an entry, "
        "so the file is damaged or was tampered with.",
    )


_DRIVE = re.compile(r"^[A-Za-z]:")


def _entry_parts(zip_path: Path, name: str) -> tuple[str, ...]:
    # Backslashes count as separators too: a Windows tool would honour them.
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise _refuse(zip_path, name, "it has an absolute path")
    pieces = re.split(r"[\\/]", name)
    if ".." in pieces:
        raise _refuse(zip_path, name, "it climbs out of the folder with ..")
    if any(":" in piece for piece in pieces):
        raise _refuse(zip_path, name, "it names a drive or a stream")
    return tuple(piece for piece in pieces if piece not in ("", "."))


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]
    is_dir: bool


def _plan(
    zf: zipfile.ZipFile, zip_path: Path, max_total_bytes: int, max_entries: int
) -> list[_Member]:
    """Every entry checked before a byte is written."""
    infos = zf.infolist()
    if len(infos) > max_entries:
        raise ApiError(
            f"{zip_path}: {len(infos)} entries, more than the {max_entries} allowed",
            hint="Nothing was extracted. A skin-analysis result holds a few dozen files.",
        )
    members: list[_Member] = []
    total = 0
    for info in infos:
        name = info.filename
        parts = _entry_parts(zip_path, name)
        # Only Unix-made ZIPs put a file type in the high bits; elsewhere they are 0.
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind == stat.S_IFLNK:
            raise _refuse(zip_path, name, "it is a symbolic link")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR) or (
            kind == stat.S_IFDIR and not info.is_dir()
        ):
            raise _refuse(zip_path, name, "it is not a regular file or folder")
        if info.flag_bits & 0x1:
            raise _refuse(zip_path, name, "it is encrypted")
        if not parts:
            continue
        total += info.file_size
        if total > max_total_bytes:
            raise ApiError(
                f"{zip_path}: unpacks to more than {max_total_bytes} bytes",
                hint="Nothing was extracted. A skin-analysis result is a few MB; this "
                "looks like a ZIP bomb or a damaged file.",
            )
        members.append(_Member(info, parts, info.is_dir()))
    # Two entries for one path (or a file where another entry needs a folder) would
    # make the result depend on the order of extraction: refuse instead.
    files: set[tuple[str, ...]] = set()
    folders: set[tuple[str, ...]] = set()
    for member in members:
        key = tuple(part.casefold() for part in member.parts)
        if member.is_dir:
            folders.add(key)
        else:
            if key in files:
                raise _refuse(zip_path, member.info.filename, "the ZIP holds it twice")
            files.add(key)
        folders.update(key[:i] for i in range(1, len(key)))
    clash = files & folders
    if clash:
        raise _refuse(zip_path, "/".join(sorted(clash)[0]), "it is both a file and a folder")
    return members


def _copy_entry(
    zf: zipfile.ZipFile, member: _Member, dest: Path, zip_path: Path, budget: int
) -> int:
    """Write one entry; returns the bytes written. The header sizes are not trusted."""
    written = 0
    try:
        with zf.open(member.info) as src, open(dest, "xb") as out:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > member.info.file_size or written > budget:
                    raise ApiError(
                        f"{zip_path}: {member.info.filename!r} unpacks to more than its "
                        "header says",
                        hint="Nothing was extracted; the ZIP is damaged or hostile.",
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise ApiError(
            f"{zip_path}: {member.info.filename!r} cannot be unpacked ({exc})",
            hint="Nothing was extracted. The download may be truncated; fetch the result "
            "again while its URL is valid (2 hours).",
        ) from None
    return written


def extract_zip(
    zip_path: Path | str,
    target_dir: Path | str,
    *,
    overwrite: bool = False,
    max_total_bytes: int = MAX_ZIP_BYTES,
    max_entries: int = MAX_ZIP_ENTRIES,
) -> list[Path]:
    """Unpack a result ZIP into `target_dir`; returns the files written, in ZIP order.

    Every entry is checked first, then the ZIP is unpacked into a hidden folder beside
    the target and renamed into place, so a refused or broken ZIP writes nothing. An
    existing target folder is merged into; a file already there is only replaced with
    `overwrite`.
    """
    zip_path = Path(zip_path)
    target = Path(target_dir)
    if target.exists() and not target.is_dir():
        raise OutputExists(
            f"{target} already exists and is not a folder",
            hint="Choose another output folder with -o.",
        )
    try:
        zf = zipfile.ZipFile(zip_path)
    except FileNotFoundError:
        raise InvalidInput(f"{zip_path}: no such file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ApiError(
            f"{zip_path}: not a readable ZIP ({exc})",
            hint="Nothing was extracted. The download may be truncated; fetch the result "
            "again while its URL is valid (2 hours).",
        ) from None
    with zf:
        members = _plan(zf, zip_path, max_total_bytes, max_entries)
        if target.exists() and not overwrite:
            taken = [
                target.joinpath(*m.parts)
                for m in members
                if not m.is_dir and os.path.lexists(target.joinpath(*m.parts))
            ]
            if taken:
                raise OutputExists(
                    f"{taken[0]} already exists"
                    + (f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""),
                    hint="Pass --overwrite to replace them, or choose another -o.",
                )
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
        )
        try:
            os.chmod(staging, 0o777 & ~umask())
            budget = max_total_bytes
            relative: list[Path] = []
            for member in members:
                dest = staging.joinpath(*member.parts)
                if member.is_dir:
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                budget -= _copy_entry(zf, member, dest, zip_path, budget)
                relative.append(Path(*member.parts))
            if _move_into_place(staging, target):
                return [target / rel for rel in relative]
            _merge(staging, target, members)
            return [target / rel for rel in relative]
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(staging: Path, target: Path) -> bool:
    """Rename the whole folder when the target is new: one atomic step."""
    if target.exists():
        return False
    try:
        os.rename(staging, target)
    except OSError:
        # The target appeared meanwhile (or is an empty folder on a system that will
        # not rename over it): fall back to merging.
        return False
    return True


def _merge(staging: Path, target: Path, members: list[_Member]) -> None:
    root = target.resolve()
    for member in members:
        dest = target.joinpath(*member.parts)
        folder = dest if member.is_dir else dest.parent
        folder.mkdir(parents=True, exist_ok=True)
        # A symlinked folder already in the target must not carry files elsewhere.
        if not folder.resolve().is_relative_to(root):
            raise OutputExists(
                f"{folder} leads outside {target} (a symbolic link)",
                hint="Choose another output folder with -o.",
            )
        if member.is_dir:
            continue
        if dest.is_dir() and not dest.is_symlink():
            raise OutputExists(f"{dest} already exists and is a folder")
        os.replace(staging.joinpath(*member.parts), dest)


# --- scores --------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreRow:
    """One score of score_info.json; `area` is the face area of the split HD entries."""

    concern: str
    area: str | None
    raw_score: float  # 1-100, higher is healthier
    ui_score: int  # 1-100, the calibrated score to show people
    mask: str | None  # the mask's file name in the result folder


def _read_score_bytes(path: Path) -> tuple[bytes, str]:
    if not path.exists():
        raise InvalidInput(f"{path}: no such file or folder")
    if path.is_dir():
        for candidate in (path / SCORE_FILE, path / RESULT_FOLDER / SCORE_FILE):
            if candidate.is_file():
                path = candidate
                break
        else:
            raise InvalidInput(
                f"{path} holds no {SCORE_FILE} (nor {RESULT_FOLDER}/{SCORE_FILE})",
                hint="Point at the folder a skin-analysis result was unpacked into, "
                "or at the result ZIP itself.",
            )
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            by_name = {info.filename.replace("\\", "/"): info for info in zf.infolist()}
            for name in (f"{RESULT_FOLDER}/{SCORE_FILE}", SCORE_FILE):
                info = by_name.get(name)
                if info is not None and not info.is_dir():
                    if info.file_size > MAX_SCORE_FILE_BYTES:
                        raise ApiError(f"{path}: {name} is implausibly large")
                    try:
                        return zf.read(info), f"{path}:{name}"
                    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                        raise ApiError(f"{path}: {name} cannot be unpacked ({exc})") from None
            raise ApiError(
                f"{path}: the ZIP holds no {RESULT_FOLDER}/{SCORE_FILE}",
                hint="Is this a skin-analysis result?",
            )
    if path.stat().st_size > MAX_SCORE_FILE_BYTES:
        raise ApiError(f"{path}: implausibly large for a {SCORE_FILE}")
    return path.read_bytes(), str(path)


def _number(value: object) -> bool:
    # bool is an int in Python, and NaN or infinity is no score.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _row(where: str, concern: str, area: str | None, entry: dict) -> ScoreRow:
    key = concern if area is None else f"{concern}.{area}"
    raw, ui = entry.get("raw_score"), entry.get("ui_score")
    for field, value in (("raw_score", raw), ("ui_score", ui)):
        if not _number(value):
            raise ApiError(
                f"{where}: {key}.{field} is {value!r}, not a number",
                hint="The result file is damaged; run the analysis again.",
            )
    assert isinstance(raw, int | float) and isinstance(ui, int | float)  # checked above
    mask = entry.get("output_mask_name")
    return ScoreRow(
        concern=concern,
        area=area,
        raw_score=float(raw),
        ui_score=int(round(ui)),
        mask=mask if isinstance(mask, str) and mask else None,
    )


def _is_score(entry: object) -> bool:
    return isinstance(entry, dict) and ("raw_score" in entry or "ui_score" in entry)


def read_scores(path_or_dir: Path | str) -> list[ScoreRow]:
    """The scores of a result, in the file's order, one row per concern or area.

    Takes the unpacked folder (score_info.json at its top or under skinanalysisResult/),
    the result ZIP, or score_info.json itself. Keys that are not scores are skipped, so
    a newer API adding fields does not break older clients.
    """
    data, where = _read_score_bytes(Path(path_or_dir))
    try:
        scores = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(
            f"{where}: not valid JSON ({exc})",
            hint="The result file is damaged; run the analysis again.",
        ) from None
    if not isinstance(scores, dict):
        raise ApiError(f"{where}: expected a JSON object, found {type(scores).__name__}")
    rows: list[ScoreRow] = []
    for concern, entry in scores.items():
        if _is_score(entry):
            rows.append(_row(where, concern, None, entry))
        elif isinstance(entry, dict):
            rows.extend(
                _row(where, concern, area, sub) for area, sub in entry.items() if _is_score(sub)
            )
    return rows


# --- overlays ------------------------------------------------------------------------

THUMB_SIDE = 256
# Masks without an alpha channel are read as a grey level and painted in this colour.
_TINT = (255, 40, 120)


def overlay_file_name(row: ScoreRow) -> str:
    stem = row.concern if row.area is None else f"{row.concern}_{row.area}"
    # The names come from the result file: keep them to one harmless path component.
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_") or "mask"
    return f"{stem}_overlay.png"


def _find_mask(masks_dir: Path, name: str | None) -> Path | None:
    # The name comes from the result file, so it must be a bare file name.
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        return None
    for folder in (masks_dir, masks_dir / RESULT_FOLDER):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _open_image(path: Path, error, what: str):

    return open_image(path, label=f"the {what}", error=error)


def _blend(photo, mask):
    """The photo with the mask painted over it as the doc says: by the mask's alpha."""
    from PIL import Image

    if mask.size != photo.size:
        mask = mask.resize(photo.size, Image.Resampling.BILINEAR)
    if "A" in mask.getbands() or "transparency" in mask.info:
        layer = mask.convert("RGBA")
    else:
        layer = Image.new("RGBA", photo.size, _TINT)
        layer.putalpha(mask.convert("L"))
    return Image.alpha_composite(photo.convert("RGBA"), layer).convert("RGB")


def _save_png(img, dest: Path) -> None:
    """Write beside the target and rename, so a reader never sees half a PNG."""
    with atomic_file(dest) as out:
        img.save(out, format="PNG")


def _label(row: ScoreRow) -> str:
    return row.concern if row.area is None else f"{row.concern}.{row.area}"


def score_colour(score: float) -> tuple[int, int, int]:
    """Red for a low score through amber to green for a high one: a higher score is
    healthier skin (003:908)."""
    t = min(1.0, max(0.0, (float(score) - 1) / 99))
    if t < 0.5:
        return (220, round(60 + 300 * t), 60)
    return (round(220 - 340 * (t - 0.5)), 210, 60)


def _contact_sheet(photo, photo_name: str, tiles: list[tuple[PILImage, ScoreRow]]):
    """The photo first, then each overlay captioned with its concern and score, under
    a title and a legend of every score (coloured by how healthy it is)."""
    cells = [pictures.Tile(photo, ["original", photo_name])]
    cells += [pictures.Tile(img, [_label(row), f"score {row.ui_score}"]) for img, row in tiles]
    legend = [(score_colour(row.ui_score), f"{_label(row)} {row.ui_score}") for _, row in tiles]
    return pictures.contact_sheet(
        cells,
        side=THUMB_SIDE,
        title=f"{photo_name}: skin scores, 1 to 100, higher is healthier",
        legend=legend,
    )


def make_overlays(
    source_image: Path | str,
    masks_dir: Path | str,
    rows: Iterable[ScoreRow],
    out_dir: Path | str,
) -> list[Path]:
    """Write `<concern>[_<area>]_overlay.png` for each row whose mask exists, each the
    size of the photo, then contact_sheet.png with all of them captioned; returns the
    paths written, contact sheet last. Files of those names in `out_dir` are replaced.
    """
    from PIL import Image, ImageOps

    source_image, masks_dir, out_dir = Path(source_image), Path(masks_dir), Path(out_dir)
    photo = _open_image(source_image, InvalidInput, "photo")
    # The masks match either the stored pixels or the upright (EXIF-rotated) photo,
    # depending on how the engine read it; use whichever the mask fits.
    upright = ImageOps.exif_transpose(photo)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tiles: list[tuple[PILImage, ScoreRow]] = []
    for row in rows:
        mask_path = _find_mask(masks_dir, row.mask)
        dest = out_dir / overlay_file_name(row)
        if mask_path is None or dest in written:
            continue
        with _open_image(mask_path, ApiError, "mask") as mask:
            fits_upright = mask.size == upright.size and mask.size != photo.size
            overlay = _blend(upright if fits_upright else photo, mask)
        _save_png(overlay, dest)
        written.append(dest)
        overlay.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        tiles.append((overlay, row))
    if not written:
        raise InvalidInput(
            f"no mask of these scores was found in {masks_dir}",
            hint="Pass the folder the result ZIP was unpacked into: it holds "
            f"{SCORE_FILE} and the *_output.png masks.",
        )
    sheet_path = out_dir / "contact_sheet.png"
    original = upright.convert("RGB")
    original.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    _save_png(_contact_sheet(original, source_image.name, tiles), sheet_path)
    written.append(sheet_path)
    return written
