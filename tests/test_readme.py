"""Every shell example of README.md runs, as written, against a sandbox.

Each command line of each ```sh block (continuation lines joined) runs with bash in a
folder holding the files the examples name, with `yce` on PATH and the sandbox's
credentials in the environment. What is changed before running is listed in
SUBSTITUTIONS; what cannot run here is listed in SKIPPED with its reason and reported
as a skipped test, never dropped. Every other line must exit 0.

Each example is its own test, in its own copy of the folder and of a home that has
seen one run (a result to chain, a journal to report on), so the examples run in any
order, on any xdist worker. The sandbox is one per worker, on a virtual clock that
skips yce's waits (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.clockhook.virtual_clock import ENV as CLOCK_ENV
from tests.clockhook.virtual_clock import SandboxClock, SharedClock
from tests.conftest import fast_config, virtual_clock_env
from ycecli.features import get_feature
from ycecli.sandbox.engines.video import still_mp4
from ycecli.sandbox.server import Sandbox
from ycecli.sandbox.styles import CATALOG

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
BIN = Path(sys.executable).parent

# (pattern searched in the command line, why it cannot run here)
SKIPPED = [
    (r"\bpipx install\b", "installs from the network (the package install is tested in CI)"),
    (r"\bpip install\b", "installs from the network (the package install is tested in CI)"),
    (r"YOUR_API_KEY", "sets up a real account's profile; profile add is tested in test_config"),
    (r"\bcurl\b.*https://", "downloads from the internet"),
    *([(r"^man\b", "man is not installed")] if shutil.which("man") is None else []),
    (
        r"https://example\.com/",
        "hands the API a URL on the internet, which the sandbox can't fetch",
    ),
]


@dataclass(frozen=True)
class Example:
    line: int  # in README.md
    script: str  # what bash runs

    @property
    def skip_reason(self) -> str | None:
        for pattern, reason in SKIPPED:
            if re.search(pattern, self.script, re.MULTILINE):
                return reason
        return None


def _blocks() -> list[tuple[int, list[tuple[int, str]]]]:
    blocks, current, start = [], None, 0
    for number, raw in enumerate(README.read_text().splitlines(), 1):
        text = raw.strip()
        if current is None:
            if text == "```sh":
                current, start = [], number
        elif text == "```":
            blocks.append((start, current))
            current = None
        else:
            current.append((number, text))
    return blocks


def _commands(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, text in lines:
        if pending is not None:
            number, text = pending[0], pending[1] + " " + text
            pending = None
        if text.endswith("\\"):
            pending = (number, text[:-1].rstrip())
            continue
        if text and not text.startswith("#"):
            joined.append((number, text))
    return joined


def examples() -> list[Example]:
    found = []
    for _, lines in _blocks():
        commands = _commands(lines)
        if any(re.search(r"&\s*(#.*)?$", text) for _, text in commands):
            # A block that starts a server in the background runs as one script.
            found.append(Example(commands[0][0], "\n".join(text for _, text in commands)))
            continue
        # A variable set by one line is used by the next lines of its block.
        assignments: list[str] = []
        for number, text in commands:
            found.append(Example(number, "\n".join([*assignments, text])))
            if re.match(r"^\w+=\$\(", text):
                assignments.append(text)
    return found


EXAMPLES = examples()


# -- the folder the examples run in ----------------------------------------------------


def _picture(path: Path, size=(512, 512), fmt=None) -> None:
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    ImageDraw.Draw(img).ellipse((size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt or ("PNG" if path.suffix == ".png" else "JPEG"))


def _mask(path: Path, size=(512, 512)) -> None:
    img = Image.new("L", size, 0)
    ImageDraw.Draw(img).rectangle((100, 100, 300, 300), fill=255)
    img.save(path, format="PNG")


def _clip(path: Path, seconds: float = 3) -> None:
    frame = io.BytesIO()
    Image.new("L", (64, 48), 90).save(frame, format="JPEG")
    path.write_bytes(still_mp4(frame.getvalue(), 640, 480, seconds, codec=b"avc1"))


PICTURES = [
    "photo.jpg",
    "a.jpg",
    "product.jpg",
    "grandma.jpg",
    "dull.jpg",
    "backlit.jpg",
    "room.jpg",
    "portrait.jpg",
    "beach.jpg",
    "selfie.jpg",
    "me.jpg",
    "look.jpg",
    "group.jpg",
    "alice.jpg",
    "bob.jpg",
    "shirt.jpg",
    "face.jpg",
    "hand.jpg",
    "seed.jpg",
    "photos/one.jpg",
    "photos/trip/two.jpg",
    "catalogue/a.jpg",
    "b.png",
    "ring.png",
    "earring.png",
    "catalogue/ring1.png",
    "catalogue/ring2.png",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _style_id(command: str) -> str:
    slug = get_feature(command).slug
    return str(CATALOG.feature(slug).groups[0].styles[0].id)


def _with_home(env: dict[str, str], home: Path) -> dict[str, str]:
    """`env` with a new, empty home: its own journal, request ids and caches, as a
    machine of its own (two homes cloned from one would hand out the same request
    ids, which the sandbox takes for one task)."""
    home.mkdir()
    # yce paces itself to the documented 100 requests per 5 minutes per IP, and one
    # sandbox serves every example of an xdist worker. A profile that only sets the
    # limits lets the credential variables fill the rest, as a user's would.
    config = home / ".yce-config.yaml"
    config.write_text(
        "default_profile: default\nprofiles:\n  default:\n"
        "    rate_limit_ip: 100000\n    rate_limit_token: 100000\n"
    )
    config.chmod(0o600)
    return {
        **env,
        "YCE_CONFIG": str(config),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
    }


def _first_run(folder: Path, env: dict[str, str]) -> str:
    """One run in `env`'s home (its result kept there, not among the examples' files);
    the result's id."""
    seed = subprocess.run(
        ["yce", "--json", "enhance", "seed.jpg", "-o", f"{env['HOME']}/seed_enhance.jpg"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seed.returncode == 0, seed.stderr
    return json.loads(seed.stdout.splitlines()[0])["dst_ids"][0]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The files the examples name, the environment (yce on PATH, the sandbox's
    credentials, its virtual clock) and the id of a result on the sandbox; each
    example works on a copy of the files with a home of its own (`workspace`)."""
    folder = tmp_path_factory.mktemp("readme")
    for name in PICTURES:
        _picture(folder / name)
    # The sandbox finds two faces side by side in an image over twice as wide as high
    # (its engines/portrait.py); skin analysis wants a short side of 1080 or more.
    _picture(folder / "group.jpg", size=(1100, 500))
    _picture(folder / "face.jpg", size=(1080, 1080))
    _mask(folder / "sofa-mask.png")
    _mask(folder / "people-mask.png")
    _clip(folder / "clip.mp4")
    shutil.copytree(REPO / "examples", folder / "examples")
    shutil.copytree(REPO / "man", folder / "man")
    # The documented rate limits are tested in tests/test_ratelimit.py, and would
    # only make this test wait.
    config = fast_config(rate_limit_ip=100_000, rate_limit_token=100_000, initial_units=1_000_000)
    clock = SharedClock(tmp_path_factory.mktemp("clock") / "offset", create=True)
    with Sandbox(config=config, clock=SandboxClock(clock)) as sandbox:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("YCE_")
            and key not in ("NO_COLOR", "XDG_CONFIG_HOME", CLOCK_ENV, "PYTHONPATH")
        }
        env.update(sandbox.env())
        env.update(virtual_clock_env(clock, {}))
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        dst_id = _first_run(folder, _with_home(env, tmp_path_factory.mktemp("home") / "h"))
        yield folder, env, dst_id


@pytest.fixture
def workspace(template, tmp_path):
    """A copy of the template's files and a new home, for one example."""
    source, env, dst_id = template
    folder = tmp_path / "readme"
    shutil.copytree(source, folder)
    return folder, _with_home(env, folder / ".home"), dst_id


# An example that reads the journal runs in a home that has seen a run, as the README
# text around it assumes.
READS_THE_JOURNAL = re.compile(r"\byce task (?:report|list)\b")


# What is changed before a line runs, and why: placeholders the README writes in
# capitals stand for ids only a real run gives.
def _substitute(script: str, dst_id: str) -> str:
    def style(match: re.Match) -> str:
        return match.group(0).replace("STYLE_ID", _style_id(match.group(1)))

    script = re.sub(r"yce (?:--\S+ )*(?:styles \w+ )?([\w-]+) [^\n]*STYLE_ID", style, script)
    script = script.replace("DST_ID", dst_id).replace("FILE_ID", dst_id)
    # The standalone sandbox's documented port may be taken on a shared machine.
    return script.replace("--port 8080", f"--port {_free_port()}")


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"README.md:{e.line}" for e in EXAMPLES])
def test_readme_example_runs(workspace, example):
    reason = example.skip_reason
    if reason:
        pytest.skip(f"{example.script!r}: {reason}")
    folder, env, dst_id = workspace
    script = _substitute(example.script, dst_id)
    if READS_THE_JOURNAL.search(script):
        _first_run(folder, env)
    proc = subprocess.Popen(
        [
            "bash",
            "-c",
            "set -o pipefail\n" + script + "\nstatus=$?; kill $(jobs -p) 2>/dev/null; exit $status",
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    assert proc.returncode == 0, f"README.md:{example.line}: {script}\n{stderr}\n{stdout}"


def test_every_example_is_run_or_skipped_with_a_reason():
    commands = [c for _, lines in _blocks() for c in _commands(lines)]
    assert len(commands) >= 50
    covered = {line for e in EXAMPLES for line in range(e.line, e.line + e.script.count("\n") + 1)}
    assert {number for number, _ in commands} <= covered | {e.line for e in EXAMPLES}


def test_the_chaining_recipe_gives_a_real_id_on_a_rerun(workspace):
    folder, env, _ = workspace
    recipe = next(e for e in EXAMPLES if "id:$id" in e.script).script
    for attempt in ("first run", "rerun"):
        proc = subprocess.run(
            ["bash", "-c", recipe + '\necho "chained=$id"'],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, (attempt, proc.stderr)
        chained = proc.stdout.strip().splitlines()[-1].removeprefix("chained=")
        assert chained and chained != "null", (attempt, proc.stdout)
