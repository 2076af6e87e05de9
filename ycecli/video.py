"""Duration and resolution checks for video inputs, read with ffprobe when it is there.

ffprobe reads only the container headers it needs, so a 100 MB video is checked
without yce reading it. ffprobe is optional: without it the checks are skipped with
a note, and the API remains the judge.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ycecli.errors import InvalidInput

# A clip cut to exactly N seconds often reports a few hundredths more (audio priming,
# the last frame's duration); refusing it locally would turn away a video the API
# takes.
DURATION_SLACK = 0.1
PROBE_TIMEOUT = 120.0  # seconds; headers are read in well under one even on slow disks


@dataclass(frozen=True)
class VideoInfo:
    duration: float | None  # seconds; None when the container does not say
    width: int
    height: int
    fps: float | None
    video_codec: str | None
    audio_codec: str | None
    container: str | None  # ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"

    @property
    def long_side(self) -> int:
        return max(self.width, self.height)


def _float(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None  # ffprobe writes "N/A" for what it cannot tell
    return number if number >= 0 else None


def _rate(value: object) -> float | None:
    # Frame rates come as fractions such as "30000/1001"; "0/0" means unknown.
    try:
        rate = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None
    return float(rate) if rate > 0 else None


def _unreadable(label: str, path: Path, why: str) -> InvalidInput:
    return InvalidInput(
        f"{label} {path}: not a readable video ({why})",
        hint="Check that the file is a complete video (mp4 or mov).",
    )


def probe_video(path: str | os.PathLike, *, label: str = "input") -> VideoInfo | None:
    """What ffprobe says about the video, or None when ffprobe is not installed."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{label} {path}: no such file")
    # "file:" with an absolute path: a name starting with "-" or looking like a URL
    # ("http:...", "concat:...") must still be read as this local file.
    target = "file:" + os.path.abspath(path)
    command = [
        ffprobe,
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_streams",
        "-show_format",
        target,
    ]
    try:
        proc = subprocess.run(
            command, capture_output=True, timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise _unreadable(label, path, f"ffprobe gave no answer in {PROBE_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise _unreadable(label, path, f"ffprobe could not run: {exc.strerror}") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise _unreadable(label, path, detail[-1] if detail else f"ffprobe exit {proc.returncode}")
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise _unreadable(label, path, "ffprobe's report is not JSON") from None
    if not isinstance(report, dict):
        raise _unreadable(label, path, "ffprobe's report is not a JSON object")
    streams = [s for s in report.get("streams") or [] if isinstance(s, dict)]
    fmt = report.get("format") if isinstance(report.get("format"), dict) else {}
    # Cover art in an mp4 is a one-frame "video" stream; it is not the video.
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    if video is None:
        raise _unreadable(label, path, "it has no video stream")
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    try:
        width, height = int(video["width"]), int(video["height"])
    except (KeyError, TypeError, ValueError):
        raise _unreadable(label, path, "the video stream has no frame size") from None
    duration = _float(fmt.get("duration"))
    if duration is None:
        duration = _float(video.get("duration"))
    return VideoInfo(
        duration=duration,
        width=width,
        height=height,
        fps=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")),
        video_codec=video.get("codec_name"),
        audio_codec=audio.get("codec_name") if audio else None,
        container=fmt.get("format_name"),
    )


def check_video(
    path: str | os.PathLike,
    *,
    max_duration: float | None = None,
    max_long_side: int | None = None,
    note: Callable[[str], None] | None = None,
    label: str = "input",
) -> VideoInfo | None:
    """Refuse a video that is too long or too large before it is uploaded.

    Returns what ffprobe found, or None when ffprobe is missing (after one note).
    """
    info = probe_video(path, label=label)
    if info is None:
        if note:
            note(f"ffprobe not found: skipping the duration and resolution checks for {path}")
        return None
    if max_duration is not None:
        if info.duration is None:
            if note:
                note(f"{path}: the video does not state its duration; skipping that check")
        elif info.duration > max_duration + DURATION_SLACK:
            raise InvalidInput(
                f"{label} {path}: {info.duration:.2f} s is longer than the "
                f"{max_duration:g} s limit",
                hint=f"Trim it to {max_duration:g} seconds or less.",
            )
    if max_long_side is not None and info.long_side > max_long_side:
        raise InvalidInput(
            f"{label} {path}: {info.width}x{info.height} is too large; the long side "
            f"may be at most {max_long_side} px",
            hint=f"Scale it down so that its long side is {max_long_side} px or less.",
        )
    return info


__all__ = ["VideoInfo", "check_video", "probe_video"]
