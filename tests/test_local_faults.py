"""Local faults (a cancelled CI job, a full disk, a file-size limit, a name too long,
a broken journal) end in their documented exit code with a message naming the path,
and leave no partial file behind."""

import errno
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from PIL import Image

from tests.conftest import SAMPLE, on_the_wall_clock, run_cli
from ycecli.cli.guard import guarded
from ycecli.config import Paths
from ycecli.errors import ExitStatus
from ycecli.sandbox.server import Fault


def start_cli(*args: str, cwd: Path, wall_clock: bool = False) -> subprocess.Popen:
    """A yce run to be interrupted mid-way; on the wall clock where it must still be
    waiting for its task when the signal comes (tests/conftest.py)."""
    return subprocess.Popen(
        [sys.executable, "-m", "ycecli", *args],
        cwd=cwd,
        env=on_the_wall_clock(dict(os.environ)) if wall_clock else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def partial_files(folder: Path) -> list[Path]:
    return list(folder.rglob("*.part"))


@pytest.mark.parametrize("phase", ["task", "download"])
def test_sigterm_keeps_the_journal_leaves_no_partial_file_and_exits_143(
    sandbox_env, tmp_path, phase
):
    sandbox = sandbox_env
    if phase == "task":
        sandbox.config.task_seconds = 5.0
    else:
        # The download stalls, so the signal arrives while its .part file exists.
        sandbox.inject(Fault("delay", method="GET", path="/storage/files/", delay=5.0))
    proc = start_cli("enhance", str(SAMPLE), cwd=tmp_path, wall_clock=phase == "task")
    try:
        if phase == "task":
            wait_for(lambda: any(t.state == "running" for t in sandbox.tasks.values()), "a task")
            time.sleep(0.3)  # past the journal write that follows the run request
        else:
            # The result's own part file: yce writes others too (its token, whole, via
            # a part file of its own), which may come first.
            wait_for(
                lambda: list(tmp_path.glob(".sample_enhance.jpg.*.part")),
                "the download's .part file",
            )
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == ExitStatus.TERMINATED == 143, stderr
    assert "terminated" in stderr and "yce task resume" in stderr
    assert "Traceback" not in stderr
    assert partial_files(tmp_path) == []
    assert not (tmp_path / "sample_enhance.jpg").exists()

    listed = run_cli("--json", "task", "list", "--open")
    [record] = listed.json_lines()
    assert record["task_id"] in sandbox.tasks and record["feature"] == "enhance"

    resumed = run_cli("task", "resume")
    assert resumed.code == 0, resumed.stderr
    assert (tmp_path / "sample_enhance.jpg").exists()
    assert len(sandbox.charges()) == 1  # finished, not paid for twice


def limit_file_size(max_bytes: int):
    """For preexec_fn: files may grow to `max_bytes`; a write past it fails with EFBIG
    (SIGXFSZ, which would kill the process instead, is ignored, as shells do)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return apply


def test_a_file_size_limit_is_exit_11_naming_the_result_and_resume_finishes_it(
    sandbox_env, tmp_path
):
    photo = tmp_path / "noise.jpg"
    Image.effect_noise((1200, 900), 80).convert("RGB").save(photo, quality=95)
    proc = subprocess.run(
        [sys.executable, "-m", "ycecli", "enhance", str(photo), "--scale", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit_file_size(256_000),
    )
    target = tmp_path / "noise_enhance_scale-1.jpg"
    assert proc.returncode == ExitStatus.LOCAL == 11, proc.stderr
    assert f"{target}: the file is larger than" in proc.stderr and "ulimit -f" in proc.stderr
    assert "Traceback" not in proc.stderr and "bug" not in proc.stderr
    assert partial_files(tmp_path) == [] and not target.exists()

    resumed = run_cli("task", "resume")
    assert resumed.code == 0, resumed.stderr
    assert target.stat().st_size > 256_000
    assert len(sandbox_env.charges()) == 1


@pytest.mark.parametrize(
    "code, fragment",
    [
        (errno.ENOSPC, "no space left on the device"),
        (errno.EDQUOT, "the disk quota is used up"),
        (errno.EFBIG, "the file is larger than"),
    ],
)
def test_a_full_disk_is_exit_11_naming_the_file_never_a_bug(capsys, code, fragment):
    @guarded
    def write_result() -> None:
        raise OSError(code, "from the kernel", "/data/out/photo_enhance.jpg")

    with pytest.raises(typer.Exit) as info:
        write_result()
    assert info.value.exit_code == ExitStatus.LOCAL
    err = capsys.readouterr().err
    assert f"error: /data/out/photo_enhance.jpg: {fragment}" in err
    assert "hint: " in err and "bug" not in err


@pytest.mark.parametrize("length", [300, 250])
def test_an_output_name_too_long_is_refused_before_anything_is_sent(sandbox_env, tmp_path, length):
    name = "n" * (length - 4) + ".jpg"
    result = run_cli("enhance", str(SAMPLE), "-o", name)
    assert result.code == ExitStatus.LOCAL, result.stderr
    assert f"{name}: the file name" in result.stderr and "too long" in result.stderr
    assert "-o" in result.stderr and "Traceback" not in result.stderr
    assert sandbox_env.requests == []
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]


def journal_path() -> Path:
    return Paths.from_env().state_dir / "journal.sqlite3"


def test_a_journal_full_of_garbage_is_exit_11_with_what_to_do(sandbox_env):
    journal = journal_path()
    journal.parent.mkdir(parents=True)
    journal.write_bytes(b"this is not a database\n" * 100)
    for args in (["task", "list"], ["enhance", str(SAMPLE)]):
        result = run_cli(*args)
        assert result.code == ExitStatus.LOCAL, result.stderr
        assert f"the task journal {journal} is corrupt" in result.stderr
        assert f"mv {journal} {journal}.broken" in result.stderr
    assert sandbox_env.requests == []


def test_a_journal_damaged_inside_is_exit_11_with_what_to_do(sandbox_env):
    assert run_cli("enhance", str(SAMPLE)).code == 0
    journal = journal_path()
    run_cli("task", "list")  # a clean close folds the write-ahead log into the file
    data = bytearray(journal.read_bytes())
    data[100:] = b"\xa5" * (len(data) - 100)  # the header survives, the pages do not
    journal.write_bytes(bytes(data))
    for name in ("journal.sqlite3-wal", "journal.sqlite3-shm"):
        (journal.parent / name).unlink(missing_ok=True)
    result = run_cli("task", "list")
    assert result.code == ExitStatus.LOCAL, result.stderr
    assert str(journal) in result.stderr and "Traceback" not in result.stderr


def test_an_unreadable_journal_is_exit_11_naming_it(sandbox_env):
    # Tests run as root, who reads any file: a folder in the journal's place is what
    # "cannot be read" looks like here.
    journal = journal_path()
    journal.mkdir(parents=True)
    result = run_cli("task", "list")
    assert result.code == ExitStatus.LOCAL, result.stderr
    assert f"the task journal {journal} is a folder" in result.stderr
