"""Every image yce opens is decoded whole and size-checked first: a truncated input or
mask is refused before it is paid for, and a decompression bomb, from the user or
from the server, is one clean error line, never a Pillow warning or a crash."""

import struct
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from tests.conftest import SAMPLE, run_cli
from ycecli.errors import ApiError, InvalidInput
from ycecli.features import MediaRules
from ycecli.hooks.skin_results import ScoreRow, make_overlays
from ycecli.sandbox.engines import PRODUCERS
from ycecli.validate import check_media


def solid_png(path: Path, width: int, height: int) -> Path:
    """A valid black 1-bit PNG of any size, written a block of rows at a time: a
    30000x30000 one is about 100 kB on disk and 900 megapixels once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the packed pixels
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row * min(1000, height - y)) for y in range(0, height, 1000))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", data + packer.flush())
        + chunk(b"IEND", b"")
    )
    return path


def noisy_image(path: Path, fmt: str, size=(400, 300), mode="RGB") -> Path:
    Image.effect_noise(size, 60).convert(mode).save(path, format=fmt)
    return path


def truncate(path: Path, keep: float = 0.9) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def uploads(sandbox) -> int:
    return sum(1 for method, _ in sandbox.requests if method == "POST" and "/file/" in _)


@pytest.mark.parametrize("fmt, name", [("JPEG", "cut.jpg"), ("PNG", "cut.png")])
def test_a_truncated_image_is_refused_before_it_is_uploaded(sandbox_env, tmp_path, fmt, name):
    photo = truncate(noisy_image(tmp_path / name, fmt))
    with Image.open(photo) as img:
        assert img.size == (400, 300)  # the header alone looks fine
    result = run_cli("enhance", str(photo))
    assert result.code == 4, result.stderr
    assert str(photo) in result.stderr and "truncated" in result.stderr
    assert "Traceback" not in result.stderr
    assert uploads(sandbox_env) == 0 and sandbox_env.charges() == []


def test_a_truncated_mask_is_refused_naming_the_mask(sandbox_env, tmp_path):
    photo = noisy_image(tmp_path / "room.jpg", "JPEG")
    # Noise does not compress, so cutting the file cuts into the pixel data.
    cut = truncate(noisy_image(tmp_path / "mask.png", "PNG", mode="L"))
    result = run_cli("obj-remove", str(photo), "--mask", str(cut))
    assert result.code == 4, result.stderr
    assert f"mask {cut}" in result.stderr and "truncated" in result.stderr
    assert uploads(sandbox_env) == 0


def test_checking_never_turns_on_pillows_truncated_image_loading(tmp_path):
    photo = truncate(noisy_image(tmp_path / "cut.jpg", "JPEG"))
    with pytest.raises(InvalidInput, match="truncated"):
        check_media(photo, MediaRules())
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("side", [10_000, 30_000])
def test_a_huge_input_is_one_clean_line_without_pillow_warnings(sandbox_env, tmp_path, side):
    big = solid_png(tmp_path / f"big{side}.png", side, side)
    result = run_cli("enhance", str(big))
    assert result.code == 4, result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines] == ["error", "hint"], result.stderr
    assert str(big) in lines[0]
    for noise in ("Warning", "Bomb", "DOS attack", "Traceback"):
        assert noise not in result.stderr
    assert uploads(sandbox_env) == 0


def test_a_huge_mask_from_the_server_is_an_api_error_not_a_crash(
    sandbox_env, tmp_path, monkeypatch
):
    bomb = solid_png(tmp_path / "bomb.png", 30_000, 30_000).read_bytes()
    monkeypatch.setitem(PRODUCERS, "foreground_mask", lambda inputs, params: [(bomb, "image/png")])
    result = run_cli("bg-blur", str(SAMPLE), "--blur", "8")
    assert result.code == 5, result.stderr
    assert "the result" in result.stderr and "megapixels" in result.stderr
    for noise in ("Warning", "Bomb", "Traceback", "unexpected"):
        assert noise not in result.stderr


def test_overlays_refuse_a_huge_mask_from_the_result(tmp_path):
    photo = noisy_image(tmp_path / "face.jpg", "JPEG", size=(200, 300))
    masks = tmp_path / "masks"
    masks.mkdir()
    solid_png(masks / "pore_output.png", 10_000, 10_000)
    rows = [ScoreRow("pore", None, 50.0, 70, "pore_output.png")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ApiError, match="pore_output.png: 10000x10000 is over"):
            make_overlays(photo, masks, rows, tmp_path / "overlays")
    assert [str(w.message) for w in caught] == []
