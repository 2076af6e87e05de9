"""Input checks that run before anything is uploaded or charged.

A file's type is decided by its content, never its name: a PNG called photo.jpg is
uploaded as image/png, and a text file called photo.jpg is refused here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ycecli.errors import InvalidInput
from ycecli.features import MediaRules


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None


def sniff_content_type(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/mp4"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _fmt_bytes(n: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def check_media(path: Path, rules: MediaRules, *, label: str = "input") -> MediaInfo:
    """Return what the file is, or raise InvalidInput naming the file and the rule."""
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as fh:
            head = fh.read(32)
    except FileNotFoundError:
        raise InvalidInput(
            f"{label} {path}: no such file", hint="Check the path (or use id:<file_id>)."
        ) from None
    except IsADirectoryError:
        raise InvalidInput(f"{label} {path}: is a directory, not a file") from None
    except OSError as exc:
        raise InvalidInput(f"{label} {path}: cannot be read ({exc.strerror})") from None
    allowed = "/".join(t.split("/")[1] for t in rules.content_types)
    content_type = sniff_content_type(head)
    if content_type not in rules.content_types:
        found = content_type or "not a recognised image or video"
        raise InvalidInput(
            f"{label} {path}: format {found} is not accepted here",
            hint=f"This feature takes {allowed} (checked by content, not by file name).",
        )
    if size == 0:
        raise InvalidInput(f"{label} {path}: the file is empty")
    if size >= rules.max_bytes:
        raise InvalidInput(
            f"{label} {path}: {_fmt_bytes(size)} is too large",
            hint=f"The limit is under {_fmt_bytes(rules.max_bytes)}; resize or recompress it.",
        )
    if not content_type.startswith("image/"):
        return MediaInfo(path, content_type, size)
    width, height = image_size(path, label=label)
    long_side, short_side = max(width, height), min(width, height)
    rule_text = rules.describe()
    if rules.max_long_side and long_side > rules.max_long_side:
        raise InvalidInput(
            f"{label} {path}: {width}x{height} has a long side over {rules.max_long_side}",
            hint=f"Resize it so the long side is at most {rules.max_long_side} ({rule_text}).",
        )
    if rules.min_short_side and short_side < rules.min_short_side:
        raise InvalidInput(
            f"{label} {path}: {width}x{height} has a short side under {rules.min_short_side}",
            hint=f"Use a larger image ({rule_text}).",
        )
    if rules.max_short_side and short_side > rules.max_short_side:
        raise InvalidInput(
            f"{label} {path}: {width}x{height} has a short side over {rules.max_short_side}",
            hint=f"Resize it ({rule_text}).",
        )
    return MediaInfo(path, content_type, size, width, height)


def image_size(path: Path, *, label: str = "input") -> tuple[int, int]:
    """Width and height from the header alone; Pillow does not decode the pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise InvalidInput(
            f"{label} {path}: the image header cannot be read ({exc})",
            hint="The file looks truncated or corrupt; re-export it.",
        ) from None
