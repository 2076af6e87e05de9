"""Shared fixtures: every test gets its own config, cache and state dirs, and tests
that need the API get a real sandbox on a loopback port (no mocks of requests).

Tests run on a virtual clock (tests/clockhook/virtual_clock.py): yce's waits (its
pacing of polls, its rate-limit waits, its backoffs) are skipped rather than slept,
in the yce processes a test starts and in the Clients it makes here, and the sandbox
(made with sandbox_clock()) keeps the same clock, so a task yce leaves unpolled past
its window is still dropped. Where the real time between events is the point, a test
says so: the `wallclock` marker keeps the whole test on the wall clock,
on_the_wall_clock() one process (one to be caught mid-task, or one of several running
at once). The `realtime` tests are on the wall clock too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.clockhook.virtual_clock import ENV as CLOCK_ENV
from tests.clockhook.virtual_clock import SandboxClock, SharedClock
from ycecli.config import Paths, Profile
from ycecli.sandbox.server import Sandbox, SandboxConfig

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "examples" / "sample.jpg"
CLOCKHOOK = Path(__file__).resolve().parent / "clockhook"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No test reads or writes the real ~/.config, ~/.cache or ~/.local/state, and
    no stray YCE_* variable from the developer's shell leaks in."""
    for name in list(os.environ):
        if name.startswith("YCE_") or name in ("NO_COLOR", "XDG_CONFIG_HOME"):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def paths(isolated_env) -> Paths:
    return Paths.from_env()


def fast_config(**overrides) -> SandboxConfig:
    """Tasks that finish in a blink and ask to be polled often."""
    values = {"task_seconds": 0.3, "polling_interval_ms": 100}
    values.update(overrides)
    return SandboxConfig(**values)


def virtual_clock_env(clock: SharedClock, env: dict | None = None) -> dict[str, str]:
    """The variables that put a Python process on `clock`: its sitecustomize is
    imported first (PYTHONPATH) and finds the clock's file."""
    env = os.environ if env is None else env
    path = env.get("PYTHONPATH")
    return {
        CLOCK_ENV: clock.path,
        "PYTHONPATH": os.pathsep.join([str(CLOCKHOOK), *([path] if path else [])]),
    }


@pytest.fixture(autouse=True)
def virtual_clock(request, tmp_path_factory, monkeypatch):
    """The clock yce waits on in this test, shared with the sandboxes made with
    sandbox_clock(), the Clients made in this process (their backoffs, their budget's
    and scheduler's waits; an id_token's timestamp stays on the wall clock) and every
    Python process started with this environment. None (the wall clock) for tests
    marked `wallclock` or `realtime`."""
    if request.node.get_closest_marker("wallclock") or request.node.get_closest_marker("realtime"):
        yield None
        return
    from ycecli.client import Client

    # Beside the test's folders, not in them: tests list what they wrote.
    clock = SharedClock(tmp_path_factory.mktemp("clock") / "offset", create=True)
    for key, value in virtual_clock_env(clock).items():
        monkeypatch.setenv(key, value)
    made = Client.__init__

    def on_the_virtual_clock(self, profile, paths, **kwargs):
        given = "sleep" in kwargs
        kwargs.setdefault("sleep", clock.sleep)
        made(self, profile, paths, **kwargs)
        if not given:
            self.budget.clock = clock.now

    monkeypatch.setattr(Client, "__init__", on_the_virtual_clock)
    yield clock


def on_the_wall_clock(env: dict[str, str]) -> dict[str, str]:
    """`env` for a Python process that must run in real time: a yce run the test
    catches mid-task, one of several yce runs at once (a wait skipped by one would
    move the clock under the others), a process kept alive by sleeping. The virtual
    clock is the wall clock until something on it skips a wait, and then runs ahead
    of it by what was skipped: start such processes before anything in the test has
    waited on the virtual clock."""
    return {key: value for key, value in env.items() if key != CLOCK_ENV}


def sandbox_clock(clock: SharedClock | None):
    """The clock for a Sandbox: on the test's virtual clock, or the wall clock."""
    return SandboxClock(clock) if clock is not None else None


@pytest.fixture
def sandbox(virtual_clock):
    with Sandbox(config=fast_config(), clock=sandbox_clock(virtual_clock)) as sb:
        yield sb


@pytest.fixture
def sandbox_env(sandbox, monkeypatch):
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    return sandbox


def profile_for(sandbox: Sandbox, **overrides) -> Profile:
    env = sandbox.env()
    values = dict(
        name="test",
        client_id=env["YCE_CLIENT_ID"],
        client_secret=env["YCE_CLIENT_SECRET"],
        api_key=env["YCE_API_KEY"],
        api_base=env["YCE_API_BASE"],
        api_base_v2=env["YCE_API_BASE_V2"],
    )
    values.update(overrides)
    return Profile(**values)


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def run_cli(
    *args: str, input: str | None = None, env: dict | None = None, timeout: float = 60
) -> CliResult:
    """Run `python -m ycecli ARGS` in a subprocess, as a user or script would."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "ycecli", *args],
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def make_image(path: Path, size=(64, 48), fmt: str = "JPEG") -> Path:
    from PIL import Image

    Image.new("RGB", size, (120, 30, 200)).save(path, format=fmt)
    return path


@pytest.fixture
def proxy(sandbox):
    """A hostile loopback server in front of the sandbox (tests/hostile.py): it
    forwards, or misbehaves on cue."""
    from tests.hostile import Hostile

    with Hostile(sandbox.url) as hostile:
        yield hostile
