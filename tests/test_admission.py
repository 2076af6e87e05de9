"""What admission control promises a user: a task is started only when it can be kept
alive, no two machines share a request id, one input is one task however many
processes are given it, and every rerun works and says what it skipped."""

import os
import subprocess
import sys
import time
from collections import deque

import pytest
from PIL import Image

from tests.conftest import fast_config, make_image, profile_for, run_cli, sandbox_clock
from ycecli.api import Yce
from ycecli.client import make_budget
from ycecli.config import Paths
from ycecli.sandbox.server import Sandbox

RUN_PATH = "/s2s/v1.0/task/enhance"


def runs(sandbox, path=RUN_PATH) -> int:
    return sum(1 for method, p in sandbox.requests if method == "POST" and p == path)


@pytest.mark.parametrize("scope", ["account", "file"])
def test_two_machines_on_one_account_each_get_their_own_result(tmp_path, scope, virtual_clock):
    """Two fresh state dirs (two CI runners) on one account, different photos: under
    either reading of 003:1631 the second is not mistaken for the first."""
    red = make_image(tmp_path / "red.jpg", size=(40, 30))
    Image.new("RGB", (40, 30), (20, 200, 40)).save(tmp_path / "green.jpg")
    config = fast_config(request_id_scope=scope)
    with Sandbox(config=config, clock=sandbox_clock(virtual_clock)) as sandbox:
        outputs = []
        for name, photo in (("a", red), ("b", tmp_path / "green.jpg")):
            machine = tmp_path / f"machine-{name}"
            paths = Paths(machine / "config.yaml", machine / "cache", machine / "state")
            with Yce(profile_for(sandbox), paths=paths) as yce:
                [result] = yce.run("enhance", str(photo), {"scale": 1}, output=machine / "o.jpg")
            outputs.append((result, machine / "o.jpg"))
        assert len(sandbox.tasks) == 2
    (first, first_file), (second, second_file) = outputs
    assert first.request_id != second.request_id
    assert first.task_id != second.task_id
    assert Image.open(first_file).convert("RGB").getpixel((5, 5))[0] > 90  # red-ish
    assert Image.open(second_file).convert("RGB").getpixel((5, 5))[1] > 150  # green


@pytest.mark.wallclock  # two processes at once: one waits on the other in real time
def test_two_processes_given_the_same_input_start_one_task(sandbox_env, tmp_path):
    sandbox_env.config.task_seconds = 2.0
    photo = make_image(tmp_path / "same.jpg")
    command = [sys.executable, "-m", "ycecli", "enhance", str(photo), "--scale", "1"]
    procs = [
        subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outs = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err for _, err in outs]
    assert runs(sandbox_env) == 1 and len(sandbox_env.charges()) == 1
    target = tmp_path / "same_enhance_scale-1.jpg"
    for stdout, _ in outs:
        assert stdout.decode().strip() == str(target)  # both report the one result
    assert any(b"waiting for its result" in err for _, err in outs)


@pytest.fixture
def cutouts(tmp_path):
    folder = tmp_path / "dir"
    folder.mkdir()
    for i in range(3):
        Image.new("RGB", (48, 32), (40 * i, 90, 160)).save(folder / f"p{i}.jpg")
    return folder


def test_a_rerun_skips_what_is_done_whatever_the_result_format_and_says_so(
    sandbox_env, tmp_path, cutouts
):
    first = run_cli("--json", "bg-remove", str(cutouts), "-o", "out/")
    assert first.code == 0, first.stderr
    earlier = {line["input"]: line for line in first.json_lines()}
    started = len(sandbox_env.tasks)

    again = run_cli("bg-remove", str(cutouts), "-o", "out/")
    assert again.code == 0, again.stderr
    assert len(sandbox_env.tasks) == started  # nothing new started
    written = sorted(f"out/p{i}_bg-remove.png" for i in range(3))
    assert sorted(again.stdout.split()) == written  # every path, as a fresh run prints it
    assert again.stderr.count(": skipped (done earlier): out/p") == 3

    # The chaining recipe reads dst_ids: a rerun carries the earlier ones.
    as_json = run_cli("--json", "bg-remove", str(cutouts), "-o", "out/")
    for line in as_json.json_lines():
        assert line["status"] == "skipped"
        assert line["dst_ids"] and line["dst_ids"] == earlier[line["input"]]["dst_ids"]
        assert line["files"] == earlier[line["input"]]["files"]


def test_a_dropped_task_is_reported_and_left_out_and_the_rest_run(
    sandbox_env, tmp_path, cutouts, virtual_clock
):
    # The first run's task is never polled in time: the API drops it (and may charge).
    sandbox_env.config.polling_window = 0.5
    sandbox_env.config.task_seconds = 5.0
    photo = cutouts / "p0.jpg"
    dropped = run_cli("enhance", str(photo), "--scale", "1", "--timeout", "1")
    assert dropped.code == 7, dropped.stderr
    virtual_clock.sleep(0.8)  # the window passes
    listed = run_cli("task", "wait", "enhance", sandbox_env_last_task(sandbox_env))
    assert listed.code == 5  # InvalidTaskId: the journal now says dropped
    sandbox_env.config.polling_window = 10.0
    sandbox_env.config.task_seconds = 0.3

    rerun = run_cli("--json", "enhance", str(cutouts), "--scale", "1", "-o", "out/")
    assert rerun.code == 10, rerun.stderr  # some failed (reported), the rest done
    lines = {os.path.basename(line["input"]): line for line in rerun.json_lines()}
    assert lines["p0.jpg"]["status"] == "dropped"
    assert "--retry-dropped" in lines["p0.jpg"]["error_message"]
    assert [lines[f"p{i}.jpg"]["status"] for i in (1, 2)] == ["success", "success"]

    retried = run_cli(
        "--json", "enhance", str(cutouts), "--scale", "1", "-o", "out/", "--retry-dropped"
    )
    assert retried.code == 0, retried.stderr
    statuses = {os.path.basename(line["input"]): line["status"] for line in retried.json_lines()}
    assert statuses == {"p0.jpg": "success", "p1.jpg": "skipped", "p2.jpg": "skipped"}


def sandbox_env_last_task(sandbox) -> str:
    return max(sandbox.tasks.values(), key=lambda t: t.created).task_id


def test_a_one_off_waits_for_the_budget_before_spending_anything_and_says_so(sandbox, tmp_path):
    sandbox.config.rate_limit_ip, sandbox.config.rate_limit_ip_window = 6, 12.0
    config = tmp_path / "config.yaml"
    config.write_text(
        "profiles:\n  tight:\n"
        f"    client_id: {sandbox.client_id}\n    client_secret: {sandbox.client_secret}\n"
        f"    api_base: {sandbox.url}\n    rate_limit_ip: 6\n    rate_limit_ip_window: 12\n"
    )
    config.chmod(0o600)
    env = {"YCE_CONFIG": str(config), "YCE_PROFILE": "tight"}
    # Another tool of this user spent five requests a moment ago.
    paths = Paths.from_env()
    budget = make_budget(
        profile_for(sandbox, rate_limit_ip=6, rate_limit_ip_window=12.0), paths, time.sleep
    )
    now = sandbox.clock.now()  # the tests' virtual clock, which yce keeps too
    budget.preload([now - 1.0] * 5)
    sandbox.ip_hits.setdefault("127.0.0.1", deque()).extend([now - 1.0] * 5)
    photo = make_image(tmp_path / "one.jpg")
    started = sandbox.clock.now()
    result = run_cli("enhance", str(photo), "--scale", "1", env=env)
    assert result.code == 0, result.stderr
    assert "waiting" in result.stderr and "for the rate limit: 6 requests per 12 s per IP" in (
        result.stderr
    )
    [task] = sandbox.tasks.values()
    # Nothing was created or submitted until the five had left the window.
    assert task.created - started > 8.0
    assert sandbox.rate_limited == 0 and not [
        t for t in sandbox.tasks.values() if t.state == "dropped"
    ]


def test_limits_that_cannot_keep_a_task_alive_refuse_before_spending(sandbox, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        "profiles:\n  starved:\n"
        f"    client_id: {sandbox.client_id}\n    client_secret: {sandbox.client_secret}\n"
        f"    api_base: {sandbox.url}\n    rate_limit_ip: 1\n    rate_limit_ip_window: 60\n"
    )
    config.chmod(0o600)
    photo = make_image(tmp_path / "one.jpg")
    result = run_cli(
        "enhance", str(photo), env={"YCE_CONFIG": str(config), "YCE_PROFILE": "starved"}
    )
    assert result.code == 3, result.stderr
    assert "cannot fit" in result.stderr and "polling window" in result.stderr
    assert sandbox.requests == []  # not even the upload slot
