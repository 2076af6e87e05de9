"""The scheduler at the API's real limits, in real time, with tasks that take seconds.

Time-scaled runs hide what matters here: a running task needs a poll inside its
10 s window, and those polls compete with new work for one budget shared by every
yce process. These tests take minutes; `pytest -m "not realtime"` leaves them out
locally, CI runs them.
"""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from tests.conftest import run_cli
from ycecli.sandbox.server import Sandbox, SandboxConfig

pytestmark = pytest.mark.realtime

RUN_PATH = "/s2s/v1.0/task/enhance"


def photos(folder, count):
    folder.mkdir()
    for i in range(count):
        Image.new("RGB", (64, 48), (i * 15 % 256, 80, 160)).save(folder / f"in{i:02d}.jpg")
    return sorted(folder.iterdir())


def assert_nothing_lost(sandbox, inputs: int) -> None:
    states = [task.state for task in sandbox.tasks.values()]
    assert states.count("dropped") == 0, states
    assert sandbox.rate_limited == 0  # no 429 earned
    runs = [p for m, p in sandbox.requests if m == "POST" and p == RUN_PATH]
    assert len(runs) == inputs  # exactly one run request per input
    assert len(sandbox.charges()) == inputs


def test_a_batch_of_twelve_at_the_documented_limits_loses_nothing(tmp_path, monkeypatch):
    # 003's limits (100 requests per 5 min per IP, 100 per min per token), its 10 s
    # polling window, and tasks that take 6 s.
    with Sandbox(config=SandboxConfig(task_seconds=6.0)) as sandbox:
        for key, value in sandbox.env().items():
            monkeypatch.setenv(key, value)
        inputs = photos(tmp_path / "in", 12)
        result = run_cli("enhance", *map(str, inputs), "-o", "out/", "--scale", "1", timeout=300)
        assert result.code == 0, result.stderr
        assert len(list((tmp_path / "out").iterdir())) == 12
        assert_nothing_lost(sandbox, 12)


def test_sixteen_one_off_commands_four_at_a_time_under_a_tight_limit(tmp_path, monkeypatch):
    # A profile allowed 30 requests a minute per IP, so the sixteen commands (three
    # or four requests each) must share it over two minutes or more, each waiting
    # before it spends anything, none leaving a task unpolled.
    config = SandboxConfig(task_seconds=4.0, rate_limit_ip=30, rate_limit_ip_window=60.0)
    with Sandbox(config=config) as sandbox:
        profile = tmp_path / "config.yaml"
        profile.write_text(
            "profiles:\n  tight:\n"
            f"    client_id: {sandbox.client_id}\n    client_secret: {sandbox.client_secret}\n"
            f"    api_base: {sandbox.url}\n    rate_limit_ip: 30\n    rate_limit_ip_window: 60\n"
        )
        profile.chmod(0o600)
        monkeypatch.setenv("YCE_CONFIG", str(profile))
        monkeypatch.setenv("YCE_PROFILE", "tight")
        inputs = photos(tmp_path / "in", 16)

        def one_off(photo):
            return subprocess.run(
                [sys.executable, "-m", "ycecli", "enhance", str(photo), "--scale", "1"],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=600,
            )

        with ThreadPoolExecutor(4) as pool:  # xargs -P 4
            done = list(pool.map(one_off, inputs))
        for proc in done:
            assert proc.returncode == 0, proc.stderr
        assert any("for the rate limit: 30 requests per min per IP" in p.stderr for p in done)
        assert_nothing_lost(sandbox, 16)
