"""Replies are validated, bounded and timed: a reply of the wrong shape, size or speed
is a clear error with its own exit code (and the task id, once a task may have been
charged), never a traceback, a hang or all the memory there is.

tests/hostile.py stands between yce and the sandbox (or serves alone) and makes one
thing go wrong per test.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from tests.conftest import SAMPLE, profile_for
from tests.hostile import (
    CREDIT,
    RUN,
    STATUS,
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
from ycecli.api import Yce
from ycecli.client import MalformedReply
from ycecli.errors import NetworkError, TaskTimeout
from ycecli.shell import shell_command
from ycecli.transfer import download


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda data: [data], "is a JSON array where the API documents an object"),
        (lambda data: data["result"].update(results=[{"id": 0, "data": ["x"]}]), "data[0]`"),
        (lambda data: data["result"]["results"][0]["data"][0].update(url=42), ".url`"),
        (lambda data: data["result"].update(results="done"), "result.results`"),
        (lambda data: data["result"].update(status=["success"]), "result.status`"),
    ],
)
def test_a_status_reply_of_the_wrong_shape_exits_5_naming_the_field(
    sandbox, proxy, tmp_path, edit, field
):
    status_edit(proxy, edit, times=1)
    out = tmp_path / "o.jpg"
    result, _ = enhance(sandbox, proxy, out)
    assert result.code == 5, result.stderr
    assert field in result.stderr
    assert "unexpected" not in result.stderr  # not a traceback turned into exit 1
    task_id = task_id_in(result.stderr)
    assert shell_command("yce", "task", "wait", "enhance", task_id) in result.stderr
    again, _ = yce_cli(sandbox, proxy, "task", "wait", "enhance", task_id, "-o", str(out))
    assert again.code == 0, again.stderr
    assert len(sandbox.charges()) == 1


def test_a_task_id_that_is_not_a_string_exits_5_naming_it(sandbox, proxy, tmp_path):
    proxy.on(
        "POST",
        RUN,
        lambda request: proxy.forward_json(request, lambda d: d["result"].update(task_id=7)),
    )
    result, _ = enhance(sandbox, proxy, tmp_path / "o.jpg")
    assert result.code == 5, result.stderr
    assert "`result.task_id` is a JSON number, not a string" in result.stderr


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["result"]["files"][0]["requests"][0].update(url=12), "requests[0].url`"),
        (lambda d: d["result"].update(files={"a": 1}), "`result.files` is a JSON object"),
        (lambda d: d["result"]["files"].__setitem__(0, "slot"), "`result.files[0]` is a JSON"),
        (
            lambda d: d["result"]["files"][0]["requests"][0]["headers"].update(
                {"Content-Length": "lots"}
            ),
            "headers.Content-Length`",
        ),
    ],
)
def test_an_upload_slot_of_the_wrong_shape_exits_5_naming_the_field(
    sandbox, proxy, tmp_path, edit, field
):
    proxy.on("POST", UPLOAD, lambda request: proxy.forward_json(request, edit))
    result, _ = enhance(sandbox, proxy, tmp_path / "o.jpg", timeout=30)
    assert result.code == 5, result.stderr
    assert field in result.stderr
    assert sandbox.charges() == []


def test_a_reply_that_is_an_array_exits_5_not_1(sandbox, proxy):
    proxy.on("GET", CREDIT, Reply(200, b"[1, 2, 3]", {"Content-Type": "application/json"}))
    result, _ = yce_cli(sandbox, proxy, "units")
    assert result.code == 5, result.stderr
    assert "is a JSON array where the API documents an object" in result.stderr


def test_an_error_reply_with_odd_fields_exits_5_not_1(sandbox, proxy):
    body = json.dumps({"error_code": ["InsufficientCredit"], "error": {"message": [1, 2]}})
    proxy.on("GET", CREDIT, Reply(400, body.encode(), {"Content-Type": "application/json"}))
    result, _ = yce_cli(sandbox, proxy, "units")
    assert result.code == 5, result.stderr
    assert 'HTTP 400 ["InsufficientCredit"]' in result.stderr


@pytest.mark.parametrize("length", [None, -1])  # declared, or unknown until the end
def test_a_huge_reply_is_cut_at_the_cap_without_reading_the_rest(sandbox, proxy, length):
    size = 64 << 20
    block = b"[" + b"0," * ((1 << 20) // 2 - 1) + b"0]"

    def endless():
        for _ in range(size // len(block)):
            yield block

    declared = size // len(block) * len(block) if length is None else -1
    proxy.on("GET", CREDIT, Reply(200, endless(), {"Content-Type": "application/json"}, declared))
    result, elapsed = yce_cli(sandbox, proxy, "units")
    assert result.code == 5, result.stderr
    assert "larger than 2 MiB" in result.stderr
    assert proxy.bytes_sent < 24 << 20  # the rest was never read


def test_a_trickling_status_reply_ends_at_the_timeout_with_the_task_id(sandbox, proxy, tmp_path):
    body = json.dumps({"status": 200, "result": {"status": "running", "results": []}}).encode()
    proxy.on("GET", STATUS + "?", Reply(200, body, trickle=1.0))
    result, elapsed = enhance(sandbox, proxy, tmp_path / "o.jpg", "--timeout", "6", timeout=40)
    assert result.code == 7, result.stderr
    assert elapsed < 15
    task_id = task_id_in(result.stderr)
    assert shell_command("yce", "task", "wait", "enhance", task_id) in result.stderr


@pytest.mark.parametrize("where", ["body", "headers"])
def test_every_exchange_ends_by_the_read_timeout_however_slow_the_reply(tmp_path, where):
    body = json.dumps({"status": 200, "results": []}).encode()
    trickle = {"trickle": 0.5} if where == "body" else {"header_trickle": 0.5}
    with Hostile() as server:
        server.on("GET", CREDIT, Reply(200, body, {"Content-Type": "application/json"}, **trickle))
        client = loopback_client(
            tmp_path, server.url, connect_timeout=0.5, read_timeout=1.5, max_retries=0
        )
        started = time.monotonic()
        with pytest.raises(NetworkError) as info:
            client.call("GET", CREDIT, authenticate=False)
        elapsed = time.monotonic() - started
    assert elapsed < 4
    assert "no complete reply within 2 s" in info.value.message


def test_a_trickling_download_is_cut_off_at_the_floor_rate(tmp_path, monkeypatch):
    monkeypatch.setattr("ycecli.client.MIN_TRANSFER_RATE", 1 << 20)  # 1 s per block
    with Hostile() as server:
        server.on("GET", "/r.jpg", Reply(200, jpeg_bytes(), trickle=0.2))
        client = loopback_client(
            tmp_path, server.url, connect_timeout=0.5, read_timeout=0.5, max_retries=0
        )
        started = time.monotonic()
        with pytest.raises(NetworkError) as info:
            download(client, server.url + "/r.jpg", tmp_path / "r.jpg", kind="image")
    assert time.monotonic() - started < 5
    assert "no complete reply" in info.value.message
    assert parts_in(tmp_path) == []


def test_success_without_results_exits_6_with_the_task_id(sandbox, proxy, tmp_path):
    status_edit(proxy, lambda data: data["result"].update(results=[]))
    out = tmp_path / "o.jpg"
    result, _ = enhance(sandbox, proxy, out)
    assert result.code == 6, result.stderr
    assert f"task {task_id_in(result.stderr)} failed: no_results" in result.stderr
    assert not out.exists()


def test_success_without_results_fails_every_input_of_a_batch(sandbox, proxy, tmp_path):
    status_edit(proxy, lambda data: data["result"].update(results=[]))
    second = tmp_path / "second.jpg"
    second.write_bytes(SAMPLE.read_bytes())
    result, _ = yce_cli(
        sandbox, proxy, "enhance", str(SAMPLE), str(second), "-o", f"{tmp_path}/out/"
    )
    assert result.code == 6, result.stderr
    assert result.stderr.count("no_results") >= 2
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("status", ["failed", "cancelled", "expired"])
def test_an_unknown_final_status_fails_at_once(sandbox, proxy, tmp_path, status):
    def respond(request):
        return proxy.forward_json(request, lambda d: d["result"].update(status=status))

    proxy.on("GET", STATUS + "?", respond)
    result, elapsed = enhance(sandbox, proxy, tmp_path / "o.jpg", "--timeout", "20", timeout=40)
    assert result.code == 6, result.stderr
    assert f"'{status}'" in result.stderr and "unknown_status" in result.stderr
    assert elapsed < 10


def test_an_unknown_final_status_fails_every_input_of_a_batch(sandbox, proxy, tmp_path):
    def respond(request):
        return proxy.forward_json(request, lambda d: d["result"].update(status="cancelled"))

    proxy.on("GET", STATUS + "?", respond)
    second = tmp_path / "second.jpg"
    second.write_bytes(SAMPLE.read_bytes())
    result, elapsed = yce_cli(
        sandbox,
        proxy,
        "enhance",
        str(SAMPLE),
        str(second),
        "-o",
        f"{tmp_path}/out/",
        "--timeout",
        "20",
        timeout=40,
    )
    assert result.code == 6, result.stderr
    assert result.stderr.count("'cancelled'") >= 2
    assert elapsed < 10


def test_queue_states_keep_polling(sandbox, proxy, paths, tmp_path):
    def respond(request):
        return proxy.forward_json(request, lambda d: d["result"].update(status="Pending"))

    proxy.on("GET", STATUS + "?", respond, times=2)
    with Yce(profile_for(sandbox, api_base=proxy.url), paths=paths) as yce:
        [result] = yce.run("enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "o.jpg")
    assert result.files == [str(tmp_path / "o.jpg")]
    assert len(proxy.seen(STATUS + "?")) >= 3


def test_status_is_always_one_of_three_words():
    from ycecli.tasks import parse_status

    def reply(status, results=()):
        return {"status": 200, "result": {"status": status, "results": list(results)}}

    found = [{"id": 0, "data": [{"url": "https://x/y.jpg", "dst_id": "d"}]}]
    assert parse_status(reply("QUEUED")).status == "running"
    assert parse_status(reply("success", found)).status == "success"
    assert parse_status(reply("completed", found)).status == "success"
    gone = parse_status(reply("success"))
    assert (gone.status, gone.error) == ("error", "no_results")
    odd = parse_status(reply("paused"))
    assert (odd.status, odd.error) == ("error", "unknown_status")
    assert "'paused'" in odd.error_message
    with pytest.raises(MalformedReply, match="result.polling_interval"):
        parse_status({"result": {"status": "running", "polling_interval": "soon"}})


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "soon", "1e9", "Infinity"])
def test_a_retry_after_that_makes_no_sense_means_the_normal_backoff(tmp_path, value):
    ok = json.dumps({"status": 200, "results": []}).encode()
    with Hostile() as server:
        server.on("GET", CREDIT, Reply(429, b"{}", {"Retry-After": value}), times=1)
        server.on("GET", CREDIT, Reply(200, ok, {"Content-Type": "application/json"}))
        client = loopback_client(tmp_path, server.url)
        waits = []
        client.sleep = waits.append
        assert client.call("GET", CREDIT, authenticate=False) == {"status": 200, "results": []}
    assert len(waits) == 1
    assert 0 < waits[0] <= client.retry.base  # the first backoff, not 60 s nor nothing


def test_a_retry_after_date_is_honoured(tmp_path):
    ok = json.dumps({"status": 200}).encode()
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=4), usegmt=True)
    with Hostile() as server:
        server.on("GET", CREDIT, Reply(429, b"{}", {"Retry-After": when}), times=1)
        server.on("GET", CREDIT, Reply(200, ok))
        client = loopback_client(tmp_path, server.url)
        waits = []
        client.sleep = waits.append
        client.call("GET", CREDIT, authenticate=False)
    assert len(waits) == 1 and 2 <= waits[0] <= 4


def test_a_long_wait_is_announced_on_stderr(sandbox, proxy):
    proxy.on("GET", CREDIT, Reply(429, b"{}", {"Retry-After": "6"}), times=1)
    result, elapsed = yce_cli(sandbox, proxy, "units")
    assert result.code == 0, result.stderr
    assert f"waiting 6 s: HTTP 429, retrying GET {CREDIT}" in result.stderr
    assert elapsed >= 6


def test_a_short_wait_is_not_announced(sandbox, proxy):
    proxy.on("GET", CREDIT, Reply(429, b"{}", {"Retry-After": "1"}), times=1)
    result, _ = yce_cli(sandbox, proxy, "units")
    assert result.code == 0, result.stderr
    assert "waiting" not in result.stderr


def test_a_poll_cut_by_the_timeout_is_a_timeout_not_a_network_error(sandbox, proxy, paths):
    body = json.dumps({"status": 200, "result": {"status": "running"}}).encode()
    proxy.on("GET", STATUS + "?", Reply(200, body, trickle=0.5))
    with Yce(profile_for(sandbox, api_base=proxy.url), paths=paths) as yce:
        started = sandbox.clock.now()
        with pytest.raises(TaskTimeout) as info:
            yce.run(
                "enhance", str(SAMPLE), {"scale": 2}, output=paths.state_dir / "o.jpg", timeout=2
            )
    assert sandbox.clock.now() - started < 8
    assert info.value.task_id and info.value.exit_status == 7
