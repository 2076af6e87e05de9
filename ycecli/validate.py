"""Input checks that run before anything is uploaded or charged.

A file's type is decided by its content, never its name: a PNG called photo.jpg is
uploaded as image/png, and a text file called photo.jpg is refused here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ycecli.errors import InvalidInput, LocalError, YceError
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
    rule_text = rules.describe()

    def check_size(width: int, height: int) -> None:
        long_side, short_side = max(width, height), min(width, height)
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

    img = _open_header(
        path,
        label=label,
        error=InvalidInput,
        check_size=check_size,
        resize_hint=f"Resize it ({rule_text})",
    )
    with img:
        width, height = img.size
        if img.format == "JPEG":
            # libjpeg still reads every scan when it scales down while decoding, so a
            # truncated file fails the same way, in a third of the time.
            img.draft(img.mode, (max(1, width // 8), max(1, height // 8)))
        _decode(img, path, label=label, error=InvalidInput)
    return MediaInfo(path, content_type, size, width, height)


# The most pixels yce decodes in any image it opens, inputs or results: above every
# documented limit (4096x4096 is 17 megapixels) and a 61-megapixel camera's photo as
# a --background, below Pillow's own warning threshold (89 megapixels).
MAX_PIXELS = 80_000_000


def open_image(
    path: Path | str,
    *,
    label: str,
    error: type[YceError] = InvalidInput,
    max_pixels: int = MAX_PIXELS,
):
    """Open and fully decode an image, or raise `error` (InvalidInput for the user's
    files, ApiError for results) naming the file. The size is checked from the header
    before a pixel is decoded, so a small file declaring a huge image costs nothing;
    Pillow's decompression-bomb warning never reaches the user."""
    img = _open_header(Path(path), label=label, error=error, max_pixels=max_pixels)
    _decode(img, path, label=label, error=error)
    return img


def _hint(error: type[YceError], what: str) -> str:
    """`what` to do about a file of the user's; a result is the API's to fix."""
    if issubclass(error, InvalidInput):
        return f"{what}; nothing was uploaded or charged."
    return "The API returned this file; run the task again, and report it if it recurs."


def _open_header(
    path: Path,
    *,
    label: str,
    error: type[YceError],
    max_pixels: int = MAX_PIXELS,
    check_size: Callable[[int, int], None] | None = None,
    resize_hint: str = "Resize it",
):
    from PIL import Image, UnidentifiedImageError

    megapixels = max_pixels // 1_000_000
    try:
        with warnings.catch_warnings():
            # Pillow warns (on stderr) between its limit and twice it, and refuses
            # beyond; yce judges the size itself, just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
    except Image.DecompressionBombError:
        raise error(
            f"{label} {path}: the image is far larger than {megapixels} megapixels",
            hint=_hint(error, resize_hint),
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise error(
            f"{label} {path}: the image header cannot be read ({exc})",
            hint=_hint(error, "The file looks truncated or corrupt; re-export it"),
        ) from None
    width, height = img.size
    try:
        if check_size is not None:
            check_size(width, height)
        if width * height > max_pixels:
            raise error(
                f"{label} {path}: {width}x{height} is over the {megapixels} megapixels yce decodes",
                hint=_hint(error, resize_hint),
            )
    except YceError:
        img.close()
        raise
    return img


def _decode(img, path, *, label: str, error: type[YceError]) -> None:
    """Decode every pixel: a truncated or corrupt file fails here, not at the API.
    Pillow's LOAD_TRUNCATED_IMAGES would paint the missing part grey instead; yce
    never turns it on."""
    from PIL import Image

    try:
        img.load()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        img.close()
        raise error(
            f"{label} {path}: the image data is truncated or corrupt ({exc})",
            hint=_hint(error, "Re-export or download it again"),
        ) from None


def _fs_limit(folder: Path, name: str, usual: int) -> int:
    """The file system's limit at `folder`; the usual one where it cannot be asked
    (no pathconf on Windows), none at all where it has none (pathconf's -1)."""
    try:
        value = os.pathconf(folder, name)
    except (AttributeError, OSError, ValueError):
        return usual
    return value if value > 0 else 2**31


# A download is written to `.<name>.<8 random characters>.part` beside its target
# (ycecli.transfer), so the target's name must leave room for that.
_TEMP_NAME_EXTRA = len("..") + 8 + len(".part")


def check_output_path(path: Path) -> None:
    """Refuse, before anything is uploaded or spent, a result path this file system
    cannot hold: a name or a path longer than it allows."""
    absolute = Path(os.path.abspath(path))
    existing = absolute.parent
    while not os.path.isdir(existing) and existing != existing.parent:
        existing = existing.parent
    name_max, path_max = (
        _fs_limit(existing, "PC_NAME_MAX", 255),
        _fs_limit(existing, "PC_PATH_MAX", 4096),
    )
    parts = absolute.parts[1:]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        room = name_max - _TEMP_NAME_EXTRA if last else name_max
        length = len(os.fsencode(part))
        if length > room:
            what = "the file name" if last else f"the folder name {part[:24]}..."
            raise LocalError(
                f"{path}: {what} is {length} bytes, too long for the file system "
                f"(at most {room} here)",
                path=str(path),
                hint="Choose a shorter name with -o (or shorter input names); nothing was "
                "uploaded or charged.",
            )
    if len(os.fsencode(str(absolute))) + _TEMP_NAME_EXTRA >= path_max:
        raise LocalError(
            f"{path}: the path is too long for the file system (at most {path_max} bytes)",
            path=str(path),
            hint="Write somewhere with a shorter path (-o); nothing was uploaded or charged.",
        )
