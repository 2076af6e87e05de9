"""Duration and resolution of video inputs, read from the mp4's own headers.

Only the top-level box headers and the `moov` box are read (see
`ycecli.validate.read_mp4_header`), so a 100 MB clip is measured without yce reading
it, and nothing outside Python is run: ffprobe, where installed, is not used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ycecli.errors import InvalidInput
from ycecli.validate import read_mp4_header

# A clip cut to exactly N seconds often reports a few hundredths more (audio priming,
# the last frame's duration); refusing it locally would turn away a video the API
# takes.
DURATION_SLACK = 0.1


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


__all__ = ["DURATION_SLACK", "VideoInfo", "check_video", "probe_video"]
