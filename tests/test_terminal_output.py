"""Control characters from a server, a URL or a file name print as inert text: an
escape sequence shows as `\\x1b[2J`, it does not clear the screen. `--json` is exact."""

import os

from tests.conftest import SAMPLE, run_cli
from ycecli.cli.output import Reporter, terminal_safe


def test_terminal_safe_writes_control_characters_out():
    assert terminal_safe("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert terminal_safe("x\ny\rz\x07\x9b\u202e") == "x\\ny\\rz\\x07\\x9b\\u202e"
    assert terminal_safe("tab\tand ünïcödé 🙂") == "tab\tand ünïcödé 🙂"


HOSTILE_CODE = "error_\x1b[2J"
HOSTILE_MESSAGE = "No face\x1b]0;owned\x07\r\nerror: fake line"


def test_server_error_text_prints_inert_but_json_keeps_it_exact(sandbox_env):
    sandbox_env.fail_next_task(HOSTILE_CODE, HOSTILE_MESSAGE)
    result = run_cli("enhance", str(SAMPLE))
    assert result.code == 6, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "\r" not in result.stderr
    assert "error_\\x1b[2J" in result.stderr and "\\x1b]0;owned\\x07\\r\\n" in result.stderr
    # The server's "\r\n" cannot start a line of its own that looks like yce's.
    assert not any(line.startswith("error: fake") for line in result.stderr.splitlines())

    sandbox_env.fail_next_task(HOSTILE_CODE, HOSTILE_MESSAGE)
    result = run_cli("--json", "enhance", str(SAMPLE))
    [obj] = result.json_lines()
    assert obj["error"] == HOSTILE_CODE and obj["error_message"] == HOSTILE_MESSAGE


def test_progress_rows_and_tables_print_labels_inert(capsys):
    from ycecli.api import Event, TaskResult

    label = "shot\x1b[2J[/bold].jpg"
    for fancy in (False, True):
        reporter = Reporter(progress=fancy)
        reporter.on_event(Event("upload", label=label, done=0, total=10))
        reporter.on_event(Event("submitted", label=label, task_id="t\x1b[31m"))
        reporter.on_event(Event("status", label=label, status="running\x1b[2J", elapsed=1.0))
        reporter.on_event(Event("wait", label=label, message="resuming \x1b[2J"))
        reporter.stop()
        result = TaskResult(feature="skin-analysis", input=label, status="success")
        result.extra["table"] = [("acne\x1b[2J", "80\x1b[0m")]
        reporter.task_result(result)
        out, err = capsys.readouterr()
        assert "\x1b[2J" not in out + err and "\x1b[31m" not in err, fancy
        assert "acne\\x1b[2J" in out
        assert "shot\\x1b[2J[/bold].jpg" in err, (fancy, err)
        # The progress display is for people: results alone go to stdout.
        assert "upload" not in out and "running" not in out


def test_file_names_print_inert_on_stdout_too(sandbox_env, tmp_path):
    target = tmp_path / "out\x1b[2J.jpg"
    result = run_cli("enhance", str(SAMPLE), "-o", str(target))
    assert result.code == 0, result.stderr
    assert os.path.exists(target)
    assert "\x1b" not in result.stdout + result.stderr
    assert result.stdout.strip() == str(tmp_path / "out\\x1b[2J.jpg")
