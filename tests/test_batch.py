"""Batch runs: many inputs, stable shards, plans, resuming without paying twice."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import make_image, on_the_wall_clock, profile_for, run_cli
from ycecli.api import Yce
from ycecli.batch import BatchInput, expand_inputs, in_shard, parse_shard
from ycecli.errors import InvalidInput
from ycecli.features import IMAGE_CONTENT_TYPES
from ycecli.sandbox.server import Fault

IMAGES = IMAGE_CONTENT_TYPES


@pytest.fixture
def tree(tmp_path):
    """photos/a.jpg, photos/b.png, photos/sub/a.jpg, other/a.jpg, photos/notes.txt"""
    (tmp_path / "photos" / "sub").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    make_image(tmp_path / "photos" / "a.jpg")
    make_image(tmp_path / "photos" / "b.png", fmt="PNG")
    make_image(tmp_path / "photos" / "sub" / "a.jpg", size=(30, 20))
    make_image(tmp_path / "other" / "a.jpg", size=(20, 30))
    (tmp_path / "photos" / "notes.txt").write_text("not an image")
    return tmp_path


def names(items):
    return [(Path(i.text).as_posix(), i.folder.as_posix()) for i in items]


def test_directories_globs_and_lists_expand_without_collisions(tree, monkeypatch):
    monkeypatch.chdir(tree)
    flat = expand_inputs(["photos"], content_types=IMAGES)
    assert names(flat) == [("photos/a.jpg", "."), ("photos/b.png", ".")]
    deep = expand_inputs(["photos"], content_types=IMAGES, recursive=True)
    assert names(deep) == [
        ("photos/a.jpg", "."),
        ("photos/b.png", "."),
        ("photos/sub/a.jpg", "sub"),
    ]
    mixed = expand_inputs(["photos/*.jpg", "other/a.jpg", "id:XYZ"], content_types=IMAGES)
    assert names(mixed[:2]) == [("photos/a.jpg", "photos"), ("other/a.jpg", "other")]
    assert mixed[2] == BatchInput("id:XYZ", Path())
    (tree / "list.txt").write_text("# a comment\nphotos/a.jpg\n\nphotos/a.jpg\nother/a.jpg\n")
    listed = expand_inputs([], content_types=IMAGES, from_file="list.txt")
    assert [i.text for i in listed] == ["photos/a.jpg", "other/a.jpg"]  # duplicates dropped
    with pytest.raises(InvalidInput, match="no file matches"):
        expand_inputs(["nothing/*.jpg"], content_types=IMAGES)


def test_shards_split_the_inputs_without_overlap():
    items = [BatchInput(f"img{i}.jpg", Path()) for i in range(40)]
    shards = [[i for i in items if in_shard(i, (k, 4))] for k in range(1, 5)]
    assert sorted(sum(shards, []), key=lambda i: i.text) == sorted(items, key=lambda i: i.text)
    assert all(shards)  # 40 inputs over 4 shards: none is empty
    for bad in ("0/4", "5/4", "x"):
        with pytest.raises(InvalidInput):
            parse_shard(bad)


def test_a_batch_writes_mirrored_folders_and_one_json_line_per_input(sandbox_env, tree):
    result = run_cli(
        "--json", "enhance", "photos", "other/a.jpg", "--recursive", "-o", "out/", "--scale", "1"
    )
    assert result.code == 0, result.stderr
    lines = result.json_lines()
    assert len(lines) == 4
    written = sorted(Path(p).relative_to("out").as_posix() for line in lines for p in line["files"])
    assert written == [
        "other/a_enhance_scale-1.jpg",
        "photos/a_enhance_scale-1.jpg",
        "photos/b_enhance_scale-1.png",
        "photos/sub/a_enhance_scale-1.jpg",
    ]
    assert "summary: 4 done, 0 failed, 0 skipped" in result.stderr


def test_dry_run_checks_inputs_and_sends_nothing(sandbox_env, tree):
    result = run_cli("enhance", "photos", "--dry-run", "-o", "out/")
    assert result.code == 0, result.stderr
    assert "photos/a.jpg -> " in result.stdout and "nothing was sent" in result.stderr
    assert sandbox_env.requests == []
    bad = run_cli("enhance", "photos/notes.txt", "--dry-run")
    assert bad.code == 4


def test_max_tasks_caps_the_run_and_a_rerun_continues(sandbox_env, tree):
    first = run_cli("--json", "enhance", "photos", "--max-tasks", "1", "-o", "out/")
    assert first.code == 0, first.stderr
    # Lines come as each input's outcome is known: an input left out, at once.
    first_lines = {line["input"]: line["status"] for line in first.json_lines()}
    assert sorted(first_lines.values()) == ["not_run", "success"]
    second = run_cli("--json", "enhance", "photos", "-o", "out/")
    second_lines = {line["input"]: line["status"] for line in second.json_lines()}
    assert second_lines == {
        name: "skipped" if status == "success" else "success"
        for name, status in first_lines.items()
    }
    assert len(sandbox_env.charges()) == 2  # each input paid once over both runs


def test_one_failure_does_not_stop_the_others_and_exits_10(sandbox_env, tree):
    sandbox_env.fail_next_task("error_no_face", "No face detected")
    result = run_cli("--json", "enhance", "photos", "-o", "out/")
    assert result.code == 10, result.stderr
    assert sorted(line["status"] for line in result.json_lines()) == ["error", "success"]
    assert "failed: " in result.stderr and "error_no_face" in result.stderr
    # --fail-fast: once an input fails, no new task starts (tasks already running, paid
    # for, still finish). Here the first run request is refused, before any other starts.
    sandbox_env.inject(Fault("status", method="POST", path="/s2s/v1.0/task/enhance", status=400))
    stopped = run_cli(
        "--json", "enhance", "other/a.jpg", "photos/b.png", "--fail-fast", "--force", "-o", "out2/"
    )
    assert stopped.code == 5, stopped.stderr
    lines = {line["input"]: line for line in stopped.json_lines()}
    assert lines["other/a.jpg"]["status"] == "error"
    assert lines["photos/b.png"]["status"] == "not_run"
    assert "--fail-fast" in lines["photos/b.png"]["error_message"]


def test_killed_mid_batch_and_rerun_pays_nothing_twice(sandbox, tree, monkeypatch):
    sandbox.config.task_seconds = 1.5
    # Caught mid-task: this run is on the wall clock; the rerun skips its waits.
    env = on_the_wall_clock({**os.environ, **sandbox.env()})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ycecli",
            "--json",
            "enhance",
            "photos",
            "--recursive",
            "-o",
            "out/",
        ],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not sandbox.tasks and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the first task is submitted and being polled
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 1 <= len(sandbox.tasks) <= 3 and not sandbox.charges()  # killed mid-task
    monkeypatch.chdir(tree)
    result = run_cli("--json", "enhance", "photos", "--recursive", "-o", "out/", env=sandbox.env())
    assert result.code == 0, result.stderr
    assert sorted(line["status"] for line in result.json_lines()) == ["success"] * 3
    assert len(sandbox.tasks) == 3  # the killed tasks were resumed, not started again
    assert len(sandbox.charges()) == 3
    assert not [p for p in (tree / "out").rglob("*") if p.name.endswith(".part")]


def test_library_force_runs_again(sandbox, paths, tree):
    with Yce(profile_for(sandbox), paths=paths) as yce:
        yce.run("enhance", str(tree / "photos" / "a.jpg"), {"scale": 1}, output=tree / "x.jpg")
        [again] = yce.run(
            "enhance",
            str(tree / "photos" / "a.jpg"),
            {"scale": 1},
            output=tree / "x.jpg",
            overwrite=True,
            force=True,
        )
    assert again.status == "success" and len(sandbox.charges()) == 2


def test_two_processes_share_the_rate_limits(sandbox, tree):
    """Each process alone would stay inside the limit; together they would not, unless
    they count against one budget."""
    # The per-IP limit: one budget for every process on this machine.
    sandbox.config.rate_limit_ip = 4
    sandbox.config.rate_limit_ip_window = 1.0
    config = tree / "config.yaml"
    config.write_text(
        "profiles:\n  shared:\n"
        f"    client_id: {sandbox.client_id}\n    client_secret: {sandbox.client_secret}\n"
        f"    api_base: {sandbox.url}\n    rate_limit_ip: 4\n    rate_limit_ip_window: 1\n"
    )
    config.chmod(0o600)
    # Two at once: each waits in real time (tests/conftest.py, on_the_wall_clock).
    env = on_the_wall_clock({**os.environ, "YCE_CONFIG": str(config), "YCE_PROFILE": "shared"})
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ycecli",
                "-q",
                "enhance",
                f"{folder}",
                "--recursive",
                "-o",
                f"out-{folder}/",
                "--scale",
                "1",
            ],
            cwd=tree,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for folder in ("photos", "other")
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    assert sandbox.rate_limited == 0
    assert len(sandbox.charges()) == 4


def test_task_resume_finishes_what_a_killed_run_left(sandbox, tree):
    sandbox.config.task_seconds = 1.5
    # Caught mid-task: this run is on the wall clock; the rerun skips its waits.
    env = on_the_wall_clock({**os.environ, **sandbox.env()})
    proc = subprocess.Popen(
        [sys.executable, "-m", "ycecli", "enhance", "photos/a.jpg", "-o", "out.jpg"],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not sandbox.tasks and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # submitted and journaled; its first poll is still to come
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tree / "out.jpg").exists()
    result = run_cli("--json", "task", "resume", env=sandbox.env())
    assert result.code == 0, result.stderr
    [line] = result.json_lines()
    assert line["status"] == "success" and Path(line["files"][0]) == tree / "out.jpg"
    assert (tree / "out.jpg").exists()
    assert len(sandbox.tasks) == 1 and len(sandbox.charges()) == 1
    again = run_cli("task", "resume", env=sandbox.env())
    assert again.code == 0 and "nothing to resume" in again.stderr
