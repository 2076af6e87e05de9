"""Input checks that run before anything is uploaded or charged.

A file's type is decided by its content, never its name: a PNG called photo.jpg is
uploaded as image/png, and a text file called photo.jpg is refused here. The rules
are the registry's MediaRules, the same the sandbox's engine applies to the uploaded
bytes; a clip is judged by what its mp4 headers state (read here, without ffprobe).
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ycecli.errors import InvalidInput, LocalError, YceError
from ycecli.features import Breach, MediaRules
from ycecli.features.spec import DURATION_SLACK

if TYPE_CHECKING:
    from PIL.ImageFile import ImageFile


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


def _fmt_bytes(n: float) -> str:
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
        with open(path, "rb") as fh:
            header = read_mp4_header(fh, size)
        if header is not None:
            _refuse(path, label, rules, rules.clip_breach(**header.facts()))
        return MediaInfo(path, content_type, size)
    rule_text = rules.describe()

    def check_size(width: int, height: int) -> None:
        _refuse(path, label, rules, rules.size_breach(width, height))

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
) -> ImageFile:
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
) -> ImageFile:
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


def _decode(img: ImageFile, path: Path | str, *, label: str, error: type[YceError]) -> None:
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


def _refuse(path: Path, label: str, rules: MediaRules, breach: Breach | None) -> None:
    if breach is not None:
        raise InvalidInput(
            f"{label} {path}: {breach.problem}", hint=f"{breach.fix} ({rules.describe()})."
        )


# -- mp4 headers --------------------------------------------------------------------

# The `moov` box holds only headers and sample tables: a few kB to a few MB even for a
# long clip. A larger one is not read, and the clip is then judged as unknown.
MAX_MOOV_BYTES = 64 << 20


@dataclass(frozen=True)
class Mp4Header:
    """What an mp4 (or mov) states about itself in its `moov` box."""

    seconds: float | None  # from `mvhd`; None when it says 0 (a fragmented file)
    width: int | None  # the video track's `tkhd` size, as displayed
    height: int | None
    video_codec: str | None  # the video track's sample entry, e.g. "avc1"
    audio_codecs: tuple[str, ...]

    def facts(self) -> dict:
        return {
            "video_codec": self.video_codec,
            "audio_codecs": self.audio_codecs,
            "width": self.width,
            "height": self.height,
            "seconds": self.seconds,
        }


def read_mp4_header(fh: BinaryIO, size: int) -> Mp4Header | None:
    """The headers of an ISO base media file, reading only its top-level box headers
    and its `moov` box (which may come after the media data). None when there is no
    readable `moov`: the file states nothing, or is not a movie at all."""
    pos = 0
    while pos + 8 <= size:
        fh.seek(pos)
        head = fh.read(16)
        if len(head) < 8:
            return None
        box_size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if box_size == 1:
            if len(head) < 16:
                return None
            box_size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < header or pos + box_size > size:
            return None
        if kind == b"moov":
            if box_size > MAX_MOOV_BYTES:
                return None
            fh.seek(pos + header)
            return _parse_moov(fh.read(box_size - header))
        pos += box_size
    return None


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in data[start:end]."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        box_size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if box_size == 1:
            if pos + 16 > end:
                return
            box_size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif box_size == 0:
            box_size = end - pos
        if box_size < header or pos + box_size > end:
            return
        yield kind, pos + header, pos + box_size
        pos += box_size


def _child(data: bytes, start: int, end: int, *path: bytes) -> tuple[int, int] | None:
    for kind, c_start, c_end in _boxes(data, start, end):
        if kind == path[0]:
            return (c_start, c_end) if len(path) == 1 else _child(data, c_start, c_end, *path[1:])
    return None


def _parse_moov(moov: bytes) -> Mp4Header:
    seconds = None
    width = height = None
    video_codec = None
    audio: list[str] = []
    for kind, start, end in _boxes(moov):
        if kind == b"mvhd" and end - start >= 20:
            if moov[start] == 1 and end - start >= 32:
                timescale, duration = struct.unpack(">IQ", moov[start + 20 : start + 32])
            else:
                timescale, duration = struct.unpack(">II", moov[start + 12 : start + 20])
            if timescale and duration:
                seconds = duration / timescale
        if kind != b"trak":
            continue
        handler = _child(moov, start, end, b"mdia", b"hdlr")
        # hdlr: version and flags (4), pre_defined (4), then the handler type.
        track_type = moov[handler[0] + 8 : handler[0] + 12] if handler else b""
        entry = _sample_entry(moov, start, end)
        if track_type == b"vide" and video_codec is None:
            video_codec = entry
            tkhd = _child(moov, start, end, b"tkhd")
            if tkhd and tkhd[1] - tkhd[0] >= 8:
                # The last 8 bytes of tkhd, in either version: width and height, 16.16.
                fixed_w, fixed_h = struct.unpack(">II", moov[tkhd[1] - 8 : tkhd[1]])
                width, height = fixed_w >> 16, fixed_h >> 16
        elif track_type == b"soun" and entry is not None:
            audio.append(entry)
    return Mp4Header(seconds, width or None, height or None, video_codec, tuple(audio))


def _sample_entry(moov: bytes, start: int, end: int) -> str | None:
    stsd = _child(moov, start, end, b"mdia", b"minf", b"stbl", b"stsd")
    # stsd: version and flags (4), entry count (4), then sample entries (boxes).
    if stsd is None or stsd[1] - stsd[0] < 16:
        return None
    entry_type = moov[stsd[0] + 12 : stsd[0] + 16]
    return entry_type.decode("latin-1")


# -- video inputs: duration and resolution from the mp4's own headers (only the
# top-level box headers and `moov` are read; ffprobe, where installed, is not used).
@dataclass(frozen=True)
class VideoInfo:
    duration: float | None  # seconds; None when the movie header says 0 (fragmented mp4)
    width: int | None  # the video track's display size; None without a video track
    height: int | None
    video_codec: str | None  # the sample entry's code, e.g. "avc1"
    audio_codecs: tuple[str, ...]

    @property
    def long_side(self) -> int | None:
        if self.width is None or self.height is None:
            return None
        return max(self.width, self.height)


def probe_video(path: str | os.PathLike, *, label: str = "input") -> VideoInfo:
    """What the clip's `moov` box states; InvalidInput when it has no readable one."""
    path = Path(path)
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as fh:
            header = read_mp4_header(fh, size)
    except FileNotFoundError:
        raise InvalidInput(f"{label} {path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{label} {path}: is a directory, not a file") from None
    except OSError as exc:
        raise InvalidInput(f"{label} {path}: cannot be read ({exc.strerror})") from None
    if header is None:
        # Every playable mp4 has a movie box, fragmented ones included; without it the
        # file is cut short or not a movie, and the engine could not decode it either.
        raise InvalidInput(
            f"{label} {path}: not a readable video (it has no complete 'moov' box, "
            "which states the clip's length and frame size)",
            hint="Check that the file is a complete mp4; re-export it if it was cut short.",
        )
    return VideoInfo(
        duration=header.seconds,
        width=header.width,
        height=header.height,
        video_codec=header.video_codec,
        audio_codecs=header.audio_codecs,
    )


def check_video(
    path: str | os.PathLike,
    *,
    max_duration: float | None = None,
    max_long_side: int | None = None,
    label: str = "input",
) -> VideoInfo:
    """Refuse a clip that is too long or too large before it is uploaded."""
    info = probe_video(path, label=label)
    seconds = info.duration
    if max_duration is not None and seconds is not None and seconds > max_duration + DURATION_SLACK:
        raise InvalidInput(
            f"{label} {path}: {seconds:.2f} s is longer than the {max_duration:g} s limit",
            hint=f"Trim it to {max_duration:g} seconds or less.",
        )
    long_side = info.long_side
    if max_long_side is not None and long_side is not None and long_side > max_long_side:
        raise InvalidInput(
            f"{label} {path}: {info.width}x{info.height} is too large; the long side "
            f"may be at most {max_long_side} px",
            hint=f"Scale it down so that its long side is {max_long_side} px or less.",
        )
    return info
