"""A batch at the API's documented limits, on the tests' virtual clock (tests/conftest.py)
so that the minutes it waits for them take no time: the sandbox keeps the same clock,
so a task left unpolled past its window is still dropped. test_realtime.py runs such
batches in real time."""

import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import make_image, profile_for, run_cli, sandbox_clock
from ycecli.api import Yce
from ycecli.sandbox.server import Fault, Sandbox, SandboxConfig


def limits_profile(sandbox, config):
    return profile_for(
        sandbox,
        rate_limit_ip=config.rate_limit_ip,
        rate_limit_ip_window=config.rate_limit_ip_window,
        rate_limit_token=config.rate_limit_token,
        rate_limit_token_window=config.rate_limit_token_window,
        polling_window=config.polling_window,
    )


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    return [str(make_image(folder / f"img{i:02d}.jpg", size=(16, 12))) for i in range(50)]


def test_fifty_inputs_at_the_documented_limits_lose_nothing_and_pay_once(
    paths, tmp_path, inputs, virtual_clock
):
    config = SandboxConfig(task_seconds=8.0)
    with Sandbox(config=config, clock=sandbox_clock(virtual_clock)) as sandbox:
        with Yce(limits_profile(sandbox, config), paths=paths) as yce:
            results = yce.run(
                "enhance", inputs, {"scale": 1}, output=tmp_path / "out", raise_errors=False
            )
            stats = yce.last_batch_stats
        assert [r.status for r in results] == ["success"] * 50
        assert sandbox.rate_limited == 0  # no 429 earned by yce
        assert [t.state for t in sandbox.tasks.values()].count("dropped") == 0
        charged = [c["target_id"] for c in sandbox.charges()]
        assert sorted(charged) == sorted(r.task_id for r in results)  # one charge each
        # Files were registered several per request, not one request per file.
        creations = [p for m, p in sandbox.requests if p == "/s2s/v1.1/file/enhance"]
        assert len(creations) == 1
        assert stats["max_in_flight"] >= 1


def test_a_burst_of_429s_slows_everything_and_still_loses_nothing(
    paths, tmp_path, inputs, virtual_clock
):
    config = SandboxConfig(task_seconds=8.0)
    with Sandbox(config=config, clock=sandbox_clock(virtual_clock)) as sandbox:
        # A burst on task creation, with a Retry-After: every request holds back.
        sandbox.inject(
            Fault(
                "status",
                path="/s2s/v1.0/task/enhance",
                method="POST",
                status=429,
                count=3,
                retry_after=1,
            )
        )
        # One on a poll: retried at once, well inside the task's polling window (a
        # rate-limited poll does not count as one for the server).
        sandbox.inject(
            Fault("status", path="/s2s/v1.0/task/enhance", method="GET", status=429, count=1)
        )
        with Yce(limits_profile(sandbox, config), paths=paths) as yce:
            started = sandbox.clock.now()
            results = yce.run(
                "enhance", inputs[:10], {"scale": 1}, output=tmp_path / "out", raise_errors=False
            )
            elapsed = sandbox.clock.now() - started
        assert [r.status for r in results] == ["success"] * 10
        assert [t.state for t in sandbox.tasks.values()].count("dropped") == 0
        assert len(sandbox.charges()) == 10
        assert elapsed > 1.0  # the Retry-After held the batch back


def test_ctrl_c_in_a_batch_with_downloads_in_flight_exits_within_two_seconds(sandbox_env, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        make_image(folder / f"p{i}.jpg", size=(16 + i, 12))
    # Every result download stalls: the interrupt lands while all three are in flight.
    sandbox_env.inject(Fault("delay", method="GET", path="/storage/files/", delay=20, count=3))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ycecli", "enhance", str(folder), "-o", "out/", "--scale", "1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        # The results' part files (the token is written through one of its own too).
        while len(list((tmp_path / "out").rglob("*.part"))) < 3:
            assert time.monotonic() < deadline, "the downloads never started"
            time.sleep(0.05)
        interrupted = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
        took = time.monotonic() - interrupted
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert took < 2.0
    assert list(tmp_path.rglob("*.part")) == []  # nothing partial left behind
    # The three tasks, paid for, stay resumable.
    listed = run_cli("--json", "task", "list", "--open")
    assert len(listed.json_lines()) == 3
    resumed = run_cli("task", "resume")
    assert resumed.code == 0, resumed.stderr
    assert len(list((tmp_path / "out").iterdir())) == 3
    assert len(sandbox_env.charges()) == 3  # finished, not paid for again
