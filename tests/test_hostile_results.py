"""Results are checked before yce says "wrote": a broken or hostile storage server
never leaves a wrong file, a redirect body or a half-appended resume on disk, and a
reply never makes yce connect into the local network.

tests/hostile.py stands between yce and the sandbox (or serves alone) and makes one
thing go wrong per test.
"""

from __future__ import annotations

import socket

import pytest

from tests.hostile import (
    FILES,
    UPLOAD,
    Hostile,
    Reply,
    enhance,
    jpeg_bytes,
    loopback_client,
    parts_in,
    status_edit,
    task_id_in,
    yce_cli,
)
from ycecli.client import UnsafeUrl
from ycecli.errors import ApiError
from ycecli.shell import shell_command
from ycecli.transfer import download


def test_an_error_page_is_not_saved_as_the_result_and_the_task_can_be_fetched_again(
    sandbox, proxy, tmp_path
):
    page = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
    proxy.on("GET", FILES, Reply(200, page, {"Content-Type": "text/html"}), times=1)
    out = tmp_path / "img_enhance.jpg"
    result, _ = enhance(sandbox, proxy, out)
    assert result.code == 5, result.stderr
    assert "not a JPEG, PNG or WebP image" in result.stderr
    assert "HTML" in result.stderr
    task_id = task_id_in(result.stderr)
    assert shell_command("yce", "task", "wait", "enhance", task_id) in result.stderr
    assert not out.exists() and parts_in(tmp_path) == []

    again, _ = yce_cli(sandbox, proxy, "task", "wait", "enhance", task_id, "-o", str(out))
    assert again.code == 0, again.stderr
    from PIL import Image

    with Image.open(out) as img:
        assert img.size == (640, 480)
    assert len(sandbox.charges()) == 1  # fetched twice, paid once


def test_an_empty_result_body_is_never_a_result(sandbox, proxy, tmp_path):
    proxy.on("GET", FILES, Reply(200, b"", {"Content-Type": "image/jpeg"}))
    out = tmp_path / "o.jpg"
    result, _ = enhance(sandbox, proxy, out)
    assert result.code == 5, result.stderr
    assert "is empty" in result.stderr
    assert not out.exists() and parts_in(tmp_path) == []


def test_a_video_result_must_be_an_mp4(tmp_path):
    with Hostile() as server:
        server.on("GET", "/clip.mp4", Reply(200, jpeg_bytes(), {"Content-Type": "video/mp4"}))
        server.on("GET", "/real.mp4", Reply(200, b"\x00\x00\x00\x18ftypmp42" + bytes(100)))
        client = loopback_client(tmp_path, server.url)
        with pytest.raises(ApiError) as info:
            download(client, server.url + "/clip.mp4", tmp_path / "c.mp4", kind="video")
        assert info.value.exit_status == 5 and "not an MP4 video" in info.value.message
        download(client, server.url + "/real.mp4", tmp_path / "r.mp4", kind="video")
    assert (tmp_path / "r.mp4").stat().st_size == 112
    assert not (tmp_path / "c.mp4").exists()


def test_a_resumed_download_honours_content_range(tmp_path):
    data = jpeg_bytes((1200, 900))
    size = len(data)
    with Hostile() as server:
        # The first answer drops halfway; the second answers the Range request with
        # a 206 that starts at byte 0, which today was appended to the half.
        server.on("GET", "/r.jpg", Reply(200, data, drop_after=size // 2), times=1)
        server.on(
            "GET",
            "/r.jpg",
            Reply(206, data, {"Content-Range": f"bytes 0-{size - 1}/{size}"}),
            times=1,
        )
        client = loopback_client(tmp_path, server.url)
        download(client, server.url + "/r.jpg", tmp_path / "r.jpg", kind="image")
        assert server.seen("/r.jpg")[1].header("Range") == f"bytes={size // 2}-"
    assert (tmp_path / "r.jpg").read_bytes() == data


def test_a_range_reply_for_another_offset_restarts_from_zero(tmp_path):
    data = jpeg_bytes()
    size = len(data)
    with Hostile() as server:
        server.on("GET", "/r.jpg", Reply(200, data, drop_after=size // 2), times=1)
        wrong = Reply(206, data[10:], {"Content-Range": f"bytes 10-{size - 1}/{size}"})
        server.on("GET", "/r.jpg", wrong, times=1)
        server.on("GET", "/r.jpg", Reply(200, data))
        client = loopback_client(tmp_path, server.url)
        download(client, server.url + "/r.jpg", tmp_path / "r.jpg", kind="image")
        assert server.seen("/r.jpg")[2].header("Range") is None  # a fresh start
    assert (tmp_path / "r.jpg").read_bytes() == data


def test_a_200_to_a_range_request_is_a_full_restart(tmp_path):
    data = jpeg_bytes()
    with Hostile() as server:
        server.on("GET", "/r.jpg", Reply(200, data, drop_after=len(data) // 3), times=1)
        server.on("GET", "/r.jpg", Reply(200, data))
        client = loopback_client(tmp_path, server.url)
        download(client, server.url + "/r.jpg", tmp_path / "r.jpg", kind="image")
    assert (tmp_path / "r.jpg").read_bytes() == data


def test_a_result_sent_compressed_anyway_is_decoded_and_not_length_checked(tmp_path):
    import gzip

    data = jpeg_bytes()
    packed = gzip.compress(data)
    with Hostile() as server:
        server.on("GET", "/r.jpg", Reply(200, packed, {"Content-Encoding": "gzip"}))
        client = loopback_client(tmp_path, server.url)
        download(client, server.url + "/r.jpg", tmp_path / "r.jpg", kind="image")
        assert server.seen("/r.jpg")[0].header("Accept-Encoding") == "identity"
    assert (tmp_path / "r.jpg").read_bytes() == data


def test_storage_redirects_are_followed_without_credentials(sandbox, proxy, tmp_path):
    # The API sets a cookie; the result redirects to another host on the same name.
    def with_cookie(request):
        reply = proxy.forward(request)
        reply.headers["Set-Cookie"] = "session=secret-cookie; Path=/"
        return reply

    proxy.on(None, "/s2s/", with_cookie)
    with Hostile(sandbox.url) as storage:
        proxy.on(
            "GET",
            FILES,
            lambda request: Reply(302, b"moved", {"Location": storage.url + request.path}),
        )
        out = tmp_path / "o.jpg"
        result, _ = enhance(sandbox, proxy, out)
        assert result.code == 0, result.stderr
        [fetched] = storage.seen(FILES)
    assert fetched.header("Authorization") is None
    assert fetched.header("Cookie") is None
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"


def test_a_redirect_loop_ends_in_an_error_naming_it(sandbox, proxy, tmp_path):
    proxy.on("GET", FILES, lambda request: Reply(302, b"", {"Location": request.path}))
    out = tmp_path / "o.jpg"
    result, _ = enhance(sandbox, proxy, out)
    assert result.code == 5, result.stderr
    assert "more than 5 redirects" in result.stderr
    assert not out.exists() and parts_in(tmp_path) == []


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254, a link-local"),
        ("http://10.1.2.3/result.jpg", "10.1.2.3, a private"),
        ("file:///etc/passwd", "is not an http(s) URL"),
    ],
)
def test_result_urls_into_the_local_network_are_refused(sandbox, proxy, tmp_path, url, says):
    def point_elsewhere(data):
        data["result"]["results"][0]["data"][0]["url"] = url

    status_edit(proxy, point_elsewhere)
    out = tmp_path / "o.jpg"
    result, elapsed = enhance(sandbox, proxy, out, timeout=30)
    assert result.code == 5, result.stderr
    assert says in result.stderr
    assert elapsed < 15  # refused, not tried until the connect timeout
    assert not out.exists()


def test_loopback_is_allowed_only_when_the_api_base_is_loopback(tmp_path):
    data = jpeg_bytes()
    with Hostile() as server:
        server.on("GET", "/r.jpg", Reply(200, data))
        public = loopback_client(tmp_path, "http://8.8.8.8")
        for url in (server.url + "/r.jpg", server.url.replace("127.0.0.1", "localhost") + "/r.jpg"):
            with pytest.raises(UnsafeUrl) as info:
                download(public, url, tmp_path / "r.jpg", kind="image", from_reply=True)
            assert "a loopback address" in info.value.message
        assert server.requests == []  # never connected
        local = loopback_client(tmp_path, server.url)
        download(local, server.url + "/r.jpg", tmp_path / "r.jpg", kind="image", from_reply=True)
    assert (tmp_path / "r.jpg").read_bytes() == data


def test_a_dns_answer_that_changes_before_the_connection_is_caught(tmp_path, monkeypatch):
    """DNS rebinding: the name resolves to a public address when checked, then to
    127.0.0.1 when urllib3 connects. The connected peer is checked too."""
    real = socket.getaddrinfo
    answers = []

    def rebinding(host, port, *args, **kwargs):
        if host == "results.example.com":
            answers.append(host)
            ip = "93.184.216.34" if len(answers) == 1 else "127.0.0.1"
            return real(ip, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    with Hostile() as server:
        server.on("GET", "/r.jpg", Reply(200, jpeg_bytes()))
        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        client = loopback_client(tmp_path, "http://8.8.8.8")
        url = f"http://results.example.com:{server.url.rsplit(':', 1)[1]}/r.jpg"
        with pytest.raises(UnsafeUrl) as info:
            download(client, url, tmp_path / "r.jpg", kind="image", from_reply=True)
        assert "127.0.0.1, a loopback address" in info.value.message
        assert server.requests == []  # refused before a byte was sent
    assert len(answers) == 2


def test_upload_urls_into_the_local_network_are_refused(sandbox, proxy, tmp_path):
    def point_elsewhere(data):
        data["result"]["files"][0]["requests"][0]["url"] = "http://169.254.169.254/upload"

    proxy.on("POST", UPLOAD, lambda request: proxy.forward_json(request, point_elsewhere))
    result, _ = enhance(sandbox, proxy, tmp_path / "o.jpg", timeout=30)
    assert result.code == 5, result.stderr
    assert "169.254.169.254, a link-local address" in result.stderr


def test_part_files_left_by_a_killed_run_are_removed_by_the_next(sandbox, proxy, tmp_path):
    import fcntl

    out = tmp_path / "o.jpg"
    stale = tmp_path / ".o.jpg.1a2b3c4d.part"
    stale.write_bytes(b"half a result")
    live = tmp_path / ".o.jpg.99999999.part"  # another run, still writing
    live.write_bytes(b"")
    other = tmp_path / ".other.jpg.1a2b3c4d.part"
    other.write_bytes(b"not ours")
    with open(live, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result, _ = enhance(sandbox, proxy, out)
        assert result.code == 0, result.stderr
        assert sorted(parts_in(tmp_path)) == sorted([live.name, other.name])
    assert out.exists()
