"""What a person sees while inputs run: rows in the unit of their phase (bytes while a
file moves, state and seconds while the API works), a batch header that counts
files, "queued" for inputs waiting their turn, rate-limit waits counting down, and a
failure shown once, when it happens."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import time

from tests.conftest import SAMPLE
from ycecli.api import Event, TaskResult
from ycecli.cli.output import Reporter

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def screen(view) -> str:
    """The display as text, as a terminal 100 columns by 40 lines would show it."""
    from rich.console import Console

    console = Console(file=io.StringIO(), width=100, height=40, force_terminal=True, record=True)
    console.print(view)
    return console.export_text()


def make_view(labels, clock=None, budget=None):
    from rich.console import Console

    from ycecli.cli.progress import LiveView

    console = Console(file=io.StringIO(), width=100, height=40, force_terminal=True)
    view = LiveView(console, clock=clock or FakeClock())
    view.expect(labels, budget)
    return view


def line_of(text: str, label: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith(label)]
    return line


def test_upload_and_download_rows_count_bytes():
    view = make_view(["a.jpg"])
    view.event(Event("upload", label="a.jpg", done=1_200_000, total=3_400_000))
    assert "upload 1.2 MB of 3.4 MB" in line_of(screen(view), "a.jpg")
    view.event(Event("download", label="a.jpg", done=0, total=None, message="out.jpg"))
    view.event(Event("download", label="a.jpg", done=500, total=None, message="out.jpg"))
    row = line_of(screen(view), "a.jpg")
    # A size the server has not told yet is not shown as "?".
    assert "download 500 B" in row and "?" not in row


def test_task_row_shows_state_and_elapsed_then_expected_time_once_known():
    clock = FakeClock()
    view = make_view(["a.jpg"], clock)
    view.event(Event("submitted", label="a.jpg", task_id="t1"))
    clock.now += 2
    row = line_of(screen(view), "a.jpg")
    assert "submitted 2 s" in row
    assert "bytes" not in row and "?" not in row and "0/" not in row
    view.event(Event("status", label="a.jpg", status="running", elapsed=4.0, expected=30.0))
    clock.now += 3  # the display moves between polls
    assert "running 7 s, expected ~30 s" in line_of(screen(view), "a.jpg")


def test_batch_header_counts_files_and_queued_inputs_say_queued():
    labels = [f"in{i:02d}.jpg" for i in range(20)]
    view = make_view(labels, budget=lambda: 57)
    view.event(Event("upload", label="in00.jpg", done=0, total=4000))
    view.event(Event("upload", label="in00.jpg", done=4000, total=4000))
    view.event(Event("submitted", label="in01.jpg", task_id="t"))
    view.finished("in02.jpg", "success")
    view.finished("in03.jpg", "error")
    text = screen(view)
    header = line_of(text, "batch")
    assert "2/20 files" in header and "1 failed" in header and "57 requests left" in header
    assert "bytes" not in header
    assert "queued" in line_of(text, "in00.jpg")  # uploaded, waiting for its turn
    assert "queued" in line_of(text, "in04.jpg")
    assert "upload" not in line_of(text, "in05.jpg")
    assert "in02.jpg" not in text and "in03.jpg" not in text  # finished rows leave


def test_many_inputs_fit_the_terminal_and_say_how_many_more_wait():
    from rich.console import Console

    from ycecli.cli.progress import LiveView

    view = LiveView(Console(file=io.StringIO(), width=100, height=12), clock=FakeClock())
    view.expect([f"in{i:03d}.jpg" for i in range(200)])
    view.event(Event("submitted", label="in150.jpg", task_id="t"))
    console = Console(file=io.StringIO(), width=100, height=12, record=True)
    console.print(view)
    lines = [line for line in console.export_text().splitlines() if line.strip()]
    assert len(lines) <= 12
    assert lines[1].startswith("in150.jpg")  # what moves is shown first
    assert lines[-1].strip().startswith("… 192 more: 192 queued")


def test_rate_limit_wait_counts_down_and_goes_away():
    clock = FakeClock()
    view = make_view(["a.jpg", "b.jpg"], clock)
    message = "waiting 42 s for the rate limit: 100 requests per 5 min per IP"
    view.event(Event("wait", label="b.jpg", message=message, seconds=42))
    assert message in screen(view)
    clock.now += 10
    assert "waiting 32 s for the rate limit: 100 requests per 5 min per IP" in screen(view)
    clock.now += 40
    assert "waiting" not in screen(view)


def fancy_reporter():
    from rich.console import Console

    console = Console(file=io.StringIO(), width=100, height=40, force_terminal=True)
    return Reporter(progress=True, console=console), console


def test_failure_prints_once_when_it_happens_not_at_the_end(capsys):
    reporter, console = fancy_reporter()
    reporter.expect(["a.jpg", "b.jpg"])
    failed = TaskResult(feature="enhance", input="a.jpg", status="error", error="error_no_face")
    reporter.task_result(failed)
    so_far = ANSI.sub("", console.file.getvalue())
    assert so_far.count("a.jpg: failed: error_no_face") == 1
    reporter.on_event(Event("submitted", label="b.jpg", task_id="t"))
    reporter.task_result(TaskResult(feature="enhance", input="b.jpg", status="success"))
    reporter.stop()
    shown = ANSI.sub("", console.file.getvalue())
    assert shown.count("failed: error_no_face") == 1


def test_waits_outside_the_scheduler_are_shown(capsys):
    reporter = Reporter(progress=False)
    reporter.on_wait("waiting 30 s for the rate limit", 30.0)
    assert "waiting 30 s for the rate limit" in capsys.readouterr().err

    reporter, console = fancy_reporter()
    reporter.expect(["a.jpg"])
    reporter.on_wait("HTTP 429: retrying", 12.0)
    assert "waiting 12 s HTTP 429: retrying" in screen(reporter._view)
    reporter.stop()


def run_under_pty(args, env_extra, timeout=60):
    """Run the CLI with stderr on a pseudo-terminal (as in an interactive shell) and
    stdout on a pipe (as in `yce ... > paths.txt`)."""
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS="100", LINES="30", TERM="xterm-256color", **env_extra)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ycecli", *args],
        stdout=subprocess.PIPE,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    stdout = proc.stdout.read().decode()
    proc.wait(timeout=10)
    os.close(master)
    return proc.returncode, stdout, ANSI.sub("", b"".join(chunks).decode(errors="replace"))


def test_batch_under_a_terminal_shows_files_and_keeps_results_on_stdout(sandbox_env, tmp_path):
    inputs = []
    for i in range(3):
        path = tmp_path / f"in{i}.jpg"
        path.write_bytes(SAMPLE.read_bytes())
        inputs.append(str(path))
    code, stdout, terminal = run_under_pty(
        ["enhance", *inputs, "--scale", "2", "-o", str(tmp_path / "out")], {}
    )
    assert code == 0, terminal
    # Results go to stdout even though only stderr is a terminal.
    assert sorted(stdout.split()) == sorted(
        str(tmp_path / "out" / f"in{i}_enhance.jpg") for i in range(3)
    )
    assert "/3 files" in terminal and "queued" in terminal
    assert "bytes" not in terminal and "0/?" not in terminal
    assert "summary: 3 done, 0 failed" in terminal


def test_plain_lines_when_stderr_is_not_a_terminal(sandbox_env, tmp_path):
    from tests.conftest import run_cli

    result = run_cli("enhance", str(SAMPLE), "--scale", "2", "-o", str(tmp_path / "o.jpg"))
    assert result.code == 0, result.stderr
    assert "\x1b[" not in result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("sample.jpg: uploading") or "uploading" in line for line in lines)
    assert any("submitted" in line for line in lines)
