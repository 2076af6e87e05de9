"""Every command yce prints for the user to paste is shell-quoted: a task id, file name
or profile name holding quotes or `$(...)` pastes as itself and runs nothing."""

import re
import subprocess

import pytest

from ycecli.auth import missing_credential_error
from ycecli.config import Profile, load_profile
from ycecli.errors import ConfigError, TaskTimeout
from ycecli.features import get_feature
from ycecli.shell import shell_command
from ycecli.tasks import poll

NASTY = [
    "ab'$(touch x)'cd",
    "$(touch x)",
    "`touch x`",
    "a; touch x",
    "a && touch x #",
    "two words",
    "line\nbreak; touch x",
    "'",
    '"$HOME"',
    "*",
    "\\",
    "-",
    "+/AbC=",
    "",
]


def pasted_words(command: str, cwd) -> list[str]:
    """What a shell hands to `yce` when the user pastes `command`: run with yce
    replaced by printf, in an empty folder where any injected `touch x` would show."""
    assert command.startswith("yce "), command
    script = "printf '%s\\0' " + command.removeprefix("yce ")
    proc = subprocess.run(["sh", "-c", script], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert not (cwd / "x").exists(), f"pasting {command!r} ran a command"
    return proc.stdout.split("\0")[:-1]


def backticked(text: str) -> str:
    return re.search(r"`(yce [^`]*)`", text).group(1)


@pytest.mark.parametrize("word", NASTY)
def test_shell_command_round_trips_every_word_and_runs_nothing(word, tmp_path):
    command = shell_command("yce", "task", "wait", "enhance", word)
    assert pasted_words(command, tmp_path) == ["task", "wait", "enhance", word]


class RunningForever:
    """A client whose every status poll says the task is still running."""

    def call(self, method, path, **kwargs):
        return {"status": 200, "result": {"status": "running", "polling_interval": 100}}


@pytest.mark.parametrize("task_id", ["ab'$(touch x)'cd", "+/x= $(touch x)", "a\nb"])
def test_the_timeout_hint_pastes_as_the_same_task_id(task_id, tmp_path):
    feature = get_feature("enhance")
    with pytest.raises(TaskTimeout) as info:
        poll(RunningForever(), feature, task_id, window=10, timeout=0, sleep=lambda s: None)
    command = backticked(info.value.hint)
    assert pasted_words(command, tmp_path) == ["task", "wait", "enhance", task_id]


def test_profile_hints_quote_the_profile_name(paths, tmp_path):
    name = "w'$(touch x)'k"
    hint = missing_credential_error(Profile(name=name), "v1").hint
    assert pasted_words(backticked(hint), tmp_path) == ["profile", "add", name]
    hint = missing_credential_error(Profile(name=name), "v2").hint
    assert pasted_words(backticked(hint), tmp_path) == ["profile", "add", name, "--api-key-stdin"]
    with pytest.raises(ConfigError) as info:
        load_profile(name, paths=paths, env={})
    assert pasted_words(backticked(info.value.hint), tmp_path) == ["profile", "add", name]
