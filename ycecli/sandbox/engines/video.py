"""The sandbox's engine for the video features (ycecli.features.video): producers of
(clearly not AI) results. See ycecli.sandbox.model for the Producer contract.

- Image to video: a real mp4 holding one frame, the photo in grey, shown for
  `custom.dst_duration` seconds (a Motion-JPEG track, written here by hand: no ffmpeg).
- Video enhance, face swap and style transfer: the input clip, unchanged. When the clip
  states its length (an `mvhd` box), a `dst_duration` that is not the clip's length
  fails the task with error_unexpected_video_duration, as the API documents (003:430).

The documented input limits (format, codecs, size, length, resolution, aspect ratio)
are checked before any producer runs, by ycecli.sandbox.inputs.
"""

from __future__ import annotations

import io
import struct

from ycecli.sandbox.imaging import open_image
from ycecli.sandbox.model import Check, EngineError, Output, Producer, Rules
from ycecli.validate import read_mp4_header

TIMESCALE = 1000  # units per second in the movie and media headers we write

# Output limits of image to video: "Up to 720p" (std) and "Up to 1080p" (pro)
# (003:16383-16384); the mode is the engine's choice when not given.
_I2V_SHORT_SIDE = {"std": 720, "pro": 1080, None: 720}


def _box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def still_mp4(
    jpeg: bytes, width: int, height: int, seconds: float, codec: bytes = b"jpeg"
) -> bytes:
    """An mp4 (ISO BMFF) with one video track: a single JPEG frame lasting `seconds`.

    `codec` is the sample entry's code. The sandbox's own results say "jpeg", which is
    what they hold. Tests label a clip "avc1" to stand for a real encoder's H.264 output:
    the engine checks the label (003:399-401) and never decodes a frame.
    """
    duration = round(seconds * TIMESCALE)
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isom", b"mp41")
    mdat_header = struct.pack(">I", 8 + len(jpeg)) + b"mdat"
    chunk_offset = len(ftyp) + len(mdat_header)
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, TIMESCALE, duration),
        struct.pack(">IH", 0x10000, 0x100),  # rate 1.0, volume 1.0
        bytes(10),
        _MATRIX,
        bytes(24),
        struct.pack(">I", 2),  # next track id
    )
    tkhd = _full_box(
        b"tkhd",
        0,
        3,  # enabled, in movie
        struct.pack(">IIIII", 0, 0, 1, 0, duration),
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0),  # layer, group, volume, reserved
        _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _full_box(
        b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, TIMESCALE, duration, 0x55C4, 0)
    )  # 0x55C4: language "und"
    hdlr = _full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00")
    sample_entry = _box(
        codec,
        bytes(6),
        struct.pack(">H", 1),  # data reference index
        bytes(16),
        struct.pack(">HH", width, height),
        struct.pack(">II", 0x480000, 0x480000),  # 72 dpi
        bytes(4),
        struct.pack(">H", 1),  # frames per sample
        bytes([11]) + b"Photo (yce)".ljust(31, b"\x00"),
        struct.pack(">Hh", 0x18, -1),
    )
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry),
        _full_box(b"stts", 0, 0, struct.pack(">III", 1, 1, duration)),
        _full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, 1, 1)),
        _full_box(b"stsz", 0, 0, struct.pack(">III", 0, 1, len(jpeg))),
        _full_box(b"stco", 0, 0, struct.pack(">II", 1, chunk_offset)),
    )
    minf = _box(
        b"minf",
        _full_box(b"vmhd", 0, 1, bytes(8)),
        _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1))),
        stbl,
    )
    moov = _box(b"moov", mvhd, _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf)))
    return ftyp + mdat_header + jpeg + moov


def mp4_duration(data: bytes) -> float | None:
    """The movie's length in seconds from its `mvhd` box, or None if it states none."""
    header = read_mp4_header(io.BytesIO(data), len(data))
    return header.seconds if header is not None else None


def image_to_video(inputs, params) -> list:
    from PIL import Image

    data, _ = inputs["source"][0]
    img = open_image(data)
    width, height = img.size
    limit = _I2V_SHORT_SIDE.get(params.get("mode"), 720)
    if min(width, height) > limit:
        ratio = limit / min(width, height)
        img = img.resize((round(width * ratio), round(height * ratio)), Image.Resampling.LANCZOS)
    frame = io.BytesIO()
    img.convert("L").save(frame, format="JPEG", quality=85)
    seconds = int(params.get("dst_duration") or 5)
    return [Output(still_mp4(frame.getvalue(), img.width, img.height, seconds), "video/mp4")]


def video_copy(inputs, params) -> list:
    """The clip unchanged, once its length was checked against dst_duration."""
    data, _ = inputs["source"][0]
    length = mp4_duration(data)
    wanted = params.get("dst_duration")
    # Whole seconds cannot match a fractional length exactly: within a second passes.
    if length is not None and wanted is not None and abs(wanted - length) >= 1:
        raise EngineError(
            "error_unexpected_video_duration",
            f"Video durateion is not equal to the dstDuration ({length:.2f} s vs {wanted})",
        )
    return [Output(data, "video/mp4")]


PRODUCERS: dict[str, Producer] = {
    "image_to_video": image_to_video,
    "video_copy": video_copy,
}
CHECKS: dict[str, Check] = {}
RULES: dict[str, Rules] = {}
