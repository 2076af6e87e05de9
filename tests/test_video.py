"""Video checks: a clip's length and frame size come from its own mp4 headers.

The clips are hand-made mp4s (one still frame, see the sandbox's `still_mp4`), so
these tests need no ffmpeg; a booby-trapped `ffprobe` first on PATH proves that none
is run even where one is installed.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from PIL import Image

from ycecli.errors import InvalidInput
from ycecli.sandbox.engines.video import still_mp4
from ycecli.validate import VideoInfo, check_video, probe_video

TRAP = """#!/bin/sh
touch "$(dirname "$0")/ffprobe-was-run"
exit 1
"""


def make_clip(path: Path, seconds: float = 12.5, size=(1920, 1080), codec=b"avc1") -> Path:
    frame = io.BytesIO()
    Image.new("L", (8, 8)).save(frame, format="JPEG")
    path.write_bytes(still_mp4(frame.getvalue(), size[0], size[1], seconds, codec=codec))
    return path


@pytest.fixture
def trapped_ffprobe(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "fakebin"
    folder.mkdir()
    script = folder / "ffprobe"
    script.write_text(TRAP)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    return folder / "ffprobe-was-run"


def test_the_headers_give_length_size_and_codec_and_ffprobe_is_never_run(tmp_path, trapped_ffprobe):
    clip = make_clip(tmp_path / "clip.mp4")
    assert probe_video(clip) == VideoInfo(12.5, 1920, 1080, "avc1", ())
    check_video(clip, max_duration=60, max_long_side=1920)
    assert not trapped_ffprobe.exists()


def test_without_ffprobe_on_path_the_clip_is_still_measured(tmp_path, monkeypatch):
    empty = tmp_path / "emptybin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    clip = make_clip(tmp_path / "clip.mp4", seconds=4)
    assert probe_video(clip).duration == 4.0


def test_a_name_that_looks_like_an_option_is_still_the_local_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_clip(tmp_path / "-i.mp4", seconds=2)
    assert probe_video("-i.mp4").duration == 2.0


def test_a_clip_a_few_hundredths_over_the_limit_passes(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", seconds=30.05)
    assert check_video(clip, max_duration=30).duration == pytest.approx(30.05)


def test_a_clip_that_is_too_long_is_refused(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", seconds=30.5)
    with pytest.raises(InvalidInput, match="30.50 s is longer than the 30 s limit") as info:
        check_video(clip, max_duration=30, label="source")
    assert "Trim it to 30 seconds" in info.value.hint


def test_a_clip_that_is_too_large_is_refused(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", size=(2560, 1440))
    with pytest.raises(InvalidInput, match="2560x1440 is too large; the long side may be at most"):
        check_video(clip, max_long_side=1920)


def test_a_fragmented_clip_states_no_length_and_is_not_refused_for_it(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", seconds=0)  # mvhd duration 0, as fragmented mp4s say
    info = check_video(clip, max_duration=30)
    assert info.duration is None and info.long_side == 1920


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x00\x00\x18ftypmp42" + bytes(64),  # an mp4 signature and nothing more
        b"",
    ],
)
def test_a_clip_without_a_movie_box_is_refused_clearly(tmp_path, content, trapped_ffprobe):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(content)
    with pytest.raises(InvalidInput, match="not a readable video") as info:
        probe_video(clip, label="source")
    assert "'moov' box" in info.value.message and "complete mp4" in info.value.hint
    assert not trapped_ffprobe.exists()


def test_a_clip_cut_short_is_refused(tmp_path):
    whole = make_clip(tmp_path / "whole.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[:-40])  # the moov box, written last, runs past the end
    with pytest.raises(InvalidInput, match="not a readable video"):
        probe_video(cut)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="no such file"):
        probe_video(tmp_path / "gone.mp4")
