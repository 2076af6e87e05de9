import io
import struct
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import make_image
from ycecli.errors import InvalidInput
from ycecli.features import MediaRules, get_feature
from ycecli.sandbox.engines.video import still_mp4
from ycecli.validate import Mp4Header, check_media, read_mp4_header, sniff_content_type


def test_type_comes_from_content_not_name(tmp_path):
    png = make_image(tmp_path / "photo.jpg", fmt="PNG")
    assert check_media(png, MediaRules()).content_type == "image/png"
    assert sniff_content_type(b"GIF89a....") == "image/gif"


@pytest.mark.parametrize(
    "rules, size, fragment",
    [
        (MediaRules(max_long_side=100), (101, 50), "long side over 100"),
        (MediaRules(min_short_side=480), (1000, 479), "short side under 480"),
        (MediaRules(content_types=("image/jpeg",)), None, "format image/png"),
    ],
)
def test_rules_name_the_file_and_the_rule(tmp_path, rules, size, fragment):
    path = make_image(tmp_path / "x.png", size=size or (10, 10), fmt="PNG")
    with pytest.raises(InvalidInput) as info:
        check_media(path, rules)
    assert fragment in info.value.message
    assert str(path) in info.value.message


def test_truncated_image_is_refused(tmp_path):
    path = make_image(tmp_path / "x.png", fmt="PNG")
    Path(path).write_bytes(path.read_bytes()[:20])
    with pytest.raises(InvalidInput, match="header cannot be read"):
        check_media(path, MediaRules())


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _movie(*, moov_first: bool, large_mdat: bool, mvhd_version: int = 0) -> bytes:
    frame = io.BytesIO()
    Image.new("L", (8, 8)).save(frame, format="JPEG")
    data = still_mp4(frame.getvalue(), 1280, 720, 12.5, codec=b"avc1")
    moov_at = data.rindex(b"moov") - 4
    ftyp_end = struct.unpack(">I", data[:4])[0]
    ftyp, mdat, moov = data[:ftyp_end], data[ftyp_end:moov_at], data[moov_at:]
    if mvhd_version == 1:
        # mvhd version 1: 64-bit times and duration (ISO 14496-12 8.2.2).
        mvhd_at = moov.index(b"mvhd") - 4
        old_size = struct.unpack(">I", moov[mvhd_at : mvhd_at + 4])[0]
        rest = moov[mvhd_at + 8 + 20 : mvhd_at + old_size]
        payload = bytes([1, 0, 0, 0]) + struct.pack(">QQIQ", 0, 0, 1000, 12_500) + rest
        moov = _box(b"moov", moov[8:mvhd_at] + _box(b"mvhd", payload) + moov[mvhd_at + old_size :])
    if large_mdat:
        # The 64-bit size form (size field 1), as encoders write for media over 4 GB.
        mdat = struct.pack(">I4sQ", 1, b"mdat", len(mdat) + 8) + mdat[8:]
    return ftyp + (moov + mdat if moov_first else mdat + moov)


@pytest.mark.parametrize(
    "moov_first, large_mdat, version",
    [(False, False, 0), (True, False, 0), (False, True, 0), (False, False, 1)],
)
def test_mp4_headers_are_read_wherever_the_movie_box_is(moov_first, large_mdat, version):
    data = _movie(moov_first=moov_first, large_mdat=large_mdat, mvhd_version=version)
    header = read_mp4_header(io.BytesIO(data), len(data))
    assert header == Mp4Header(12.5, 1280, 720, "avc1", ())


def test_a_file_without_a_movie_box_states_nothing():
    data = b"\x00\x00\x00\x18ftypmp42" + bytes(64)
    assert read_mp4_header(io.BytesIO(data), len(data)) is None
    cut = _movie(moov_first=False, large_mdat=False)[:-40]  # moov runs past the end
    assert read_mp4_header(io.BytesIO(cut), len(cut)) is None


def test_a_clip_that_states_nothing_passes_the_media_check_for_the_duration_hook(tmp_path):
    # Its refusal is the clip features' (tests/test_features_video.py), where the length is needed.
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    rules = get_feature("video-enhance").primary_input.rules
    assert check_media(path, rules).content_type == "video/mp4"


@pytest.mark.parametrize(
    "size, fragment",
    [
        ((1000, 1080), "1000x1080 is too large: the width must be under 1920"),
        ((1919, 1079), None),
    ],
)
def test_width_and_height_limits_are_strict(tmp_path, size, fragment):
    rules = MediaRules(width_under=1920, height_under=1080)
    path = make_image(tmp_path / "x.jpg", size=size)
    if fragment is None:
        assert check_media(path, rules).width == size[0]
        return
    with pytest.raises(InvalidInput, match=fragment) as info:
        check_media(path, rules)
    assert "width < 1920 and height < 1080" in info.value.hint
