"""The sandbox's skin analysis: a result ZIP shaped exactly like the API's (003:849), with
scores from a hash of the photo and masks that are plain ellipses, so nobody can take
it for a real analysis."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from collections.abc import Sequence

from ycecli.features.analysis import (
    HD_AREAS,
    HD_CONCERNS,
    RESULT_FOLDER,
    SCORE_FILE,
    SD_CONCERNS,
    mask_file_name,
)
from ycecli.sandbox.imaging import png_bytes
from ycecli.sandbox.model import EngineError

# The key order of the doc's score_info.json samples (003:948, 003:1080), which is not
# the enum order; the sandbox writes the requested concerns in this order.
SD_SAMPLE_ORDER = (
    "wrinkle",
    "droopy_upper_eyelid",
    "droopy_lower_eyelid",
    "firmness",
    "acne",
    "moisture",
    "eye_bag",
    "dark_circle_v2",
    "age_spot",
    "radiance",
    "redness",
    "oiliness",
    "pore",
    "texture",
)
HD_SAMPLE_ORDER = (
    "hd_redness",
    "hd_oiliness",
    "hd_age_spot",
    "hd_radiance",
    "hd_moisture",
    "hd_dark_circle",
    "hd_eye_bag",
    "hd_droopy_upper_eyelid",
    "hd_droopy_lower_eyelid",
    "hd_firmness",
    "hd_texture",
    "hd_acne",
    "hd_pore",
    "hd_wrinkle",
)

# Where each mask's ellipse goes, as fractions of the image (x0, y0, x1, y1), for a face
# filling a portrait photo as the doc asks. Paired features get a mirrored twin.
_FACE = (0.15, 0.08, 0.85, 0.92)
_REGIONS: dict[str, tuple[tuple[float, float, float, float], bool]] = {
    "forehead": ((0.25, 0.08, 0.75, 0.28), False),
    "glabellar": ((0.43, 0.25, 0.57, 0.38), False),
    "nose": ((0.42, 0.35, 0.58, 0.62), False),
    "crowfeet": ((0.10, 0.32, 0.24, 0.46), True),
    "periocular": ((0.24, 0.32, 0.46, 0.48), True),
    "cheek": ((0.15, 0.46, 0.40, 0.70), True),
    "nasolabial": ((0.30, 0.55, 0.42, 0.75), True),
    "marionette": ((0.30, 0.72, 0.42, 0.88), True),
    "eye_bag": ((0.27, 0.43, 0.45, 0.52), True),
    "dark_circle": ((0.27, 0.41, 0.45, 0.50), True),
    "droopy_upper_eyelid": ((0.27, 0.32, 0.45, 0.38), True),
    "droopy_lower_eyelid": ((0.27, 0.42, 0.45, 0.47), True),
}

# Fixed ZIP timestamps: the same photo and concerns give the same bytes.
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def check_dst_actions(dst_actions: Sequence[object]) -> str | None:
    """The API's 400 InvalidParameters message for bad `dst_actions` (003:787), or None."""
    known = set(SD_CONCERNS) | set(HD_CONCERNS)
    for name in dst_actions:
        if not isinstance(name, str) or name not in known:
            return f"Not available dst_action {name}"
    if len(dst_actions) not in (4, 7, 14) or len(set(dst_actions)) != len(dst_actions):
        return "must select 4, 7 or 14 distinct dst_actions"
    if len({str(name).startswith("hd_") for name in dst_actions}) > 1:
        return "cannot mix HD and SD dst_actions"
    return None


def _scores(seed: bytes, key: str) -> tuple[float, int]:
    digest = hashlib.sha256(seed + key.encode()).digest()
    raw = 1 + 99 * int.from_bytes(digest[:8], "big") / 2**64
    # The doc's samples put ui_score near 45 + 0.45 * raw: kinder, as it says.
    ui = min(100, max(1, round(45 + 0.45 * raw)))
    return raw, ui


def _entries(concerns: Sequence[str], seed: bytes) -> tuple[dict, list[tuple[str, str]]]:
    """score_info.json's content, and (mask name, region) for each mask."""
    order = HD_SAMPLE_ORDER if concerns and concerns[0].startswith("hd_") else SD_SAMPLE_ORDER
    info: dict = {}
    masks: list[tuple[str, str]] = []
    for concern in order:
        if concern not in concerns:
            continue
        areas = HD_AREAS.get(concern)
        if areas is None:
            raw, ui = _scores(seed, concern)
            name = mask_file_name(concern)
            info[concern] = {"raw_score": raw, "ui_score": ui, "output_mask_name": name}
            region = concern.removeprefix("hd_").removesuffix("_v2")
            masks.append((name, region))
            continue
        info[concern] = {}
        for area in areas:
            raw, ui = _scores(seed, f"{concern}/{area}")
            name = mask_file_name(concern, area)
            info[concern][area] = {"raw_score": raw, "ui_score": ui, "output_mask_name": name}
            masks.append((name, area))
    return info, masks


def _mask_png(size: tuple[int, int], name: str, region: str, seed: bytes) -> bytes:
    from PIL import Image, ImageDraw

    width, height = size
    colour = tuple(hashlib.sha256(seed + name.encode()).digest()[:3])
    img = Image.new("RGBA", size, (*colour, 0))
    draw = ImageDraw.Draw(img)
    box, mirrored = _REGIONS.get(region, (_FACE, False))
    boxes = [box, (1 - box[2], box[1], 1 - box[0], box[3])] if mirrored else [box]
    for x0, y0, x1, y1 in boxes:
        left, top = x0 * width, y0 * height
        right, bottom = max(left, x1 * width - 1), max(top, y1 * height - 1)
        draw.ellipse((left, top, right, bottom), fill=(*colour, 160))
    return png_bytes(img)


def _file_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


def _folder_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name.rstrip("/") + "/", date_time=_ZIP_TIME)
    info.external_attr = ((stat.S_IFDIR | 0o755) << 16) | 0x10  # 0x10: MS-DOS folder bit
    return info


def build_skin_zip(image_bytes: bytes, concerns: Sequence[str]) -> bytes:
    """The result ZIP for `concerns` (already valid `dst_actions`): only the requested
    keys and masks, each mask an RGBA PNG the size of the photo."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image_bytes)) as img:
            size = img.size
    except (UnidentifiedImageError, OSError) as exc:
        raise EngineError("error_decode_image", f"cannot decode source image: {exc}") from None
    seed = hashlib.sha256(image_bytes).digest()
    info, masks = _entries(list(concerns), seed)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(_folder_info(RESULT_FOLDER), b"")
        score_json = json.dumps(info, separators=(",", ":"))
        zf.writestr(_file_info(f"{RESULT_FOLDER}/{SCORE_FILE}"), score_json)
        for name, region in masks:
            zf.writestr(_file_info(f"{RESULT_FOLDER}/{name}"), _mask_png(size, name, region, seed))
    return out.getvalue()


def build_zip_slip(entry_name: str = "../evil.txt", *, symlink_target: str | None = None) -> bytes:
    """A hostile result for tests: a normal score_info.json plus `entry_name`, which
    escapes the folder by default, or is a symbolic link to `symlink_target`."""
    info, _ = _entries(SD_CONCERNS[:4], b"zip-slip")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(_file_info(f"{RESULT_FOLDER}/{SCORE_FILE}"), json.dumps(info))
        evil = _file_info(entry_name)
        if symlink_target is not None:
            evil.compress_type = zipfile.ZIP_STORED
            evil.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(evil, symlink_target)
        else:
            zf.writestr(evil, b"written outside the target folder\n")
    return out.getvalue()
