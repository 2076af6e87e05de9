"""Video checks: ffprobe's report decides, and a missing ffprobe only skips the checks.

A fake `ffprobe` first on PATH prints a canned report, so these tests need neither
ffmpeg nor real video files.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from ycecli.errors import InvalidInput
from ycecli.video import VideoInfo, check_video, probe_video

FAKE_FFPROBE = """#!{python}
import json, pathlib, sys
here = pathlib.Path(__file__).parent
(here / "argv.json").write_text(json.dumps(sys.argv[1:]))
sys.stdout.write((here / "stdout.txt").read_text())
sys.stderr.write((here / "stderr.txt").read_text())
sys.exit(int((here / "exit.txt").read_text()))
"""


def report(
    *,
    duration="12.500000",
    width=1920,
    height=1080,
    rate="30000/1001",
    audio="aac",
    cover_art=False,
) -> dict:
    streams = [
        {
            "index": 0,
            "codec_name": "h264",
            "codec_type": "video",
            "width": width,
            "height": height,
            "avg_frame_rate": rate,
            "r_frame_rate": rate,
            "duration": duration,
            "disposition": {"attached_pic": 0},
        }
    ]
    if audio:
        streams.append({"index": 1, "codec_name": audio, "codec_type": "audio"})
    if cover_art:
        streams.insert(
            0,
            {
                "index": 2,
                "codec_name": "mjpeg",
                "codec_type": "video",
                "width": 600,
                "height": 600,
                "disposition": {"attached_pic": 1},
            },
        )
    return {
        "streams": streams,
        "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": duration},
    }


class FakeFfprobe:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        script = folder / "ffprobe"
        script.write_text(FAKE_FFPROBE.format(python=sys.executable))
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        self.answer(report())

    def answer(self, stdout: dict | str, *, exit_code: int = 0, stderr: str = "") -> None:
        text = stdout if isinstance(stdout, str) else json.dumps(stdout)
        (self.folder / "stdout.txt").write_text(text)
        (self.folder / "stderr.txt").write_text(stderr)
        (self.folder / "exit.txt").write_text(str(exit_code))

    @property
    def argv(self) -> list[str]:
        return json.loads((self.folder / "argv.json").read_text())


@pytest.fixture
def ffprobe(tmp_path, monkeypatch) -> FakeFfprobe:
    folder = tmp_path / "fakebin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    return FakeFfprobe(folder)


@pytest.fixture
def no_ffprobe(tmp_path, monkeypatch):
    empty = tmp_path / "emptybin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture
def clip(tmp_path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    return path


def test_without_ffprobe_the_checks_are_skipped_with_one_note(no_ffprobe, clip):
    notes = []
    assert check_video(clip, max_duration=1, max_long_side=1, note=notes.append) is None
    assert notes == [f"ffprobe not found: skipping the duration and resolution checks for {clip}"]
    assert probe_video(clip) is None
    assert check_video(clip, max_duration=1) is None  # no note callback: still fine


def test_probe_reads_the_report(ffprobe, clip):
    info = probe_video(clip)
    assert info == VideoInfo(
        duration=12.5,
        width=1920,
        height=1080,
        fps=pytest.approx(29.97, abs=0.01),
        video_codec="h264",
        audio_codec="aac",
        container="mov,mp4,m4a,3gp,3g2,mj2",
    )
    assert ffprobe.argv == [
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_streams",
        "-show_format",
        "file:" + os.path.abspath(clip),
    ]


def test_probe_skips_cover_art_and_tolerates_missing_details(ffprobe, clip):
    ffprobe.answer(report(duration="N/A", rate="0/0", audio=None, cover_art=True))
    info = probe_video(clip)
    assert (info.width, info.height, info.video_codec) == (1920, 1080, "h264")
    assert info.duration is None and info.fps is None and info.audio_codec is None


def test_a_name_that_looks_like_an_option_is_still_the_local_file(ffprobe, tmp_path):
    odd = tmp_path / "-i.mp4"
    odd.write_bytes(b"x")
    probe_video(odd)
    assert ffprobe.argv[-1] == "file:" + os.path.abspath(odd)


def test_a_video_within_the_limits_passes(ffprobe, clip):
    ffprobe.answer(report(duration="30.021333", width=2160, height=3840))
    info = check_video(clip, max_duration=30, max_long_side=4096)
    assert info is not None and info.long_side == 3840


def test_a_video_that_is_too_long_is_refused(ffprobe, clip):
    ffprobe.answer(report(duration="31.5"))
    with pytest.raises(InvalidInput) as caught:
        check_video(clip, max_duration=30)
    assert str(clip) in caught.value.message
    assert "31.50 s is longer than the 30 s limit" in caught.value.message


def test_a_video_that_is_too_large_is_refused(ffprobe, clip):
    ffprobe.answer(report(width=4100, height=2304))
    with pytest.raises(InvalidInput) as caught:
        check_video(clip, max_duration=30, max_long_side=4096)
    assert str(clip) in caught.value.message
    assert "4100x2304" in caught.value.message and "4096 px" in caught.value.message


def test_an_unknown_duration_is_noted_not_refused(ffprobe, clip):
    ffprobe.answer(report(duration="N/A"))
    notes = []
    assert check_video(clip, max_duration=30, note=notes.append) is not None
    assert len(notes) == 1 and "duration" in notes[0]


@pytest.mark.parametrize(
    "stdout, exit_code, stderr, why",
    [
        ("", 1, "clip.mp4: Invalid data found when processing input\n", "Invalid data found"),
        ("not json", 0, "", "not JSON"),
        (json.dumps({"streams": [{"codec_type": "audio"}], "format": {}}), 0, "", "no video"),
        (json.dumps({"streams": [{"codec_type": "video"}], "format": {}}), 0, "", "frame size"),
    ],
)
def test_a_file_ffprobe_cannot_read_is_refused(ffprobe, clip, stdout, exit_code, stderr, why):
    ffprobe.answer(stdout, exit_code=exit_code, stderr=stderr)
    with pytest.raises(InvalidInput) as caught:
        check_video(clip, max_duration=30)
    assert f"{clip}: not a readable video" in caught.value.message
    assert why in caught.value.message


def test_a_missing_file_is_refused(ffprobe, tmp_path):
    with pytest.raises(InvalidInput, match="no such file"):
        check_video(tmp_path / "nope.mp4", max_duration=30)
