"""Shared fixtures: every test gets its own config, cache and state dirs, and tests
that need the API get a real sandbox on a loopback port (no mocks of requests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ycecli.config import Paths, Profile
from ycecli.sandbox.server import Sandbox, SandboxConfig

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "examples" / "sample.jpg"


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


@pytest.fixture
def sandbox():
    with Sandbox(config=fast_config()) as sb:
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
