"""Uploads and downloads against the sandbox's storage, over real sockets."""

import pytest

from tests.conftest import SAMPLE, make_image, profile_for
from ycecli.api import Yce
from ycecli.errors import NetworkError, OutputExists
from ycecli.sandbox.server import Fault
from ycecli.transfer import download


def run_enhance(sandbox, paths, tmp_path, **kwargs):
    with Yce(profile_for(sandbox), paths=paths) as yce:
        return yce.run("enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "out.jpg", **kwargs)


def test_upload_sends_exactly_the_returned_headers_and_never_chunks(sandbox, paths, tmp_path):
    png = make_image(tmp_path / "named-like-a.jpg", fmt="PNG")  # content decides the type
    with Yce(profile_for(sandbox), paths=paths) as yce:
        yce.run("enhance", str(png), {"scale": 1}, output=tmp_path / "o.png")
    [headers] = sandbox.upload_log
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Length"] == str(png.stat().st_size)
    assert "Transfer-Encoding" not in headers
    assert "Authorization" not in headers  # presigned URLs must not get our token


def test_one_truncated_download_is_resumed_with_range(sandbox, paths, tmp_path):
    sandbox.inject(Fault("truncate", method="GET", path="/storage/files/", count=1))
    [result] = run_enhance(sandbox, paths, tmp_path)
    from PIL import Image

    with Image.open(result.files[0]) as img:
        img.load()  # a truncated JPEG would fail to decode
        assert img.size == (640, 480)


def test_a_failed_download_leaves_no_partial_file(sandbox, paths, tmp_path):
    sandbox.inject(Fault("truncate", method="GET", path="/storage/files/", count=100))
    with Yce(profile_for(sandbox), paths=paths) as yce:
        yce.client.sleep = lambda s: None  # no need to wait out the backoff
        with pytest.raises(NetworkError):
            yce.run("enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "out.jpg")
    assert not (tmp_path / "out.jpg").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_download_never_replaces_a_file_that_appeared_meanwhile(sandbox, paths, tmp_path):
    [result] = run_enhance(sandbox, paths, tmp_path)
    target = tmp_path / "late.jpg"
    target.write_bytes(b"mine")
    with Yce(profile_for(sandbox), paths=paths) as yce, pytest.raises(OutputExists):
        download(yce.client, result.urls[0], target)
    assert target.read_bytes() == b"mine"
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_overwrite_replaces_when_asked(sandbox, paths, tmp_path):
    (tmp_path / "out.jpg").write_bytes(b"old")
    [result] = run_enhance(sandbox, paths, tmp_path, overwrite=True)
    assert (tmp_path / "out.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert result.files == [str(tmp_path / "out.jpg")]


def test_upload_retries_a_5xx_from_storage(sandbox, paths, tmp_path):
    sandbox.inject(Fault("status", method="PUT", path="/storage/upload/", status=503))
    [result] = run_enhance(sandbox, paths, tmp_path)
    assert result.status == "success"
    assert len(sandbox.upload_log) == 1  # the 503 was answered before the upload handler
