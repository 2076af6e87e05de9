"""Every command's --json output follows the one schema of docs/json.md."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import jsonschema
import pytest

from tests.conftest import REPO, make_image, run_cli


def contract() -> dict:
    text = (REPO / "docs" / "json.md").read_text()
    [block] = re.findall(r"```json\n(.*?)\n```", text, flags=re.S)
    return json.loads(block)


@pytest.fixture(scope="module")
def validator():
    schema = contract()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=None)


def check_lines(validator, result, *, expect_kinds: set[str]) -> list[dict]:
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert lines, f"no JSON on stdout: {result.stderr}"
    for line in lines:
        errors = sorted(validator.iter_errors(line), key=str)
        assert not errors, f"{line.get('kind')}: {errors[0].message}"
    assert {line["kind"] for line in lines} >= expect_kinds
    return lines


def test_every_command_writes_objects_of_the_documented_kinds(
    sandbox_env, validator, tmp_path, isolated_env
):
    photo = make_image(tmp_path / "photo.jpg", size=(320, 240))
    runs = {}

    def run(*args: str, expect: set[str], code: int = 0):
        result = run_cli("--json", *args)
        assert result.code == code, (args, result.stderr)
        runs[args] = check_lines(validator, result, expect_kinds=expect)
        return runs[args]

    [task] = run("enhance", str(photo), "--scale", "4", expect={"task"})
    run("enhance", str(photo), "--scale", "4", expect={"task"})  # skipped: same shape
    [face] = run("face-analyze", str(photo), expect={"task"})
    assert "analysis" not in face["extra"]
    run("enhance", str(photo), "--dry-run", expect={"plan_input", "plan"})
    run("enhance", "missing.jpg", expect={"error"}, code=4)
    run("styles", "groups", "hair-style", expect={"style_group"})
    [category, *_] = run("styles", "list", "hair-style", expect={"style_category"})
    group = category["styles"][0]["style_group_id"]
    run("styles", "list", "hair-style", "--group", str(group), expect={"style"})
    run("styles", "groups", "hair-style", "--page-size", "1", expect={"next_page"})
    run("units", expect={"units"})
    history = run("units", "history", expect={"unit_history"})
    assert all(line["timestamp"].endswith("Z") for line in history)
    journal = run("task", "list", expect={"journal_task"})
    assert all(line["created_at"].endswith("Z") for line in journal)
    run("task", "status", "enhance", task["task_id"], expect={"task_status"})
    [report] = run("task", "report", "-o", "report.html", expect={"report"})
    assert report["tasks"] >= 1
    run("auth", "check", expect={"auth"})
    run("auth", "logout", expect={"logout"})
    run("profile", "show", expect={"profile_detail"})
    config = isolated_env / ".config" / "yce" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("default_profile: a\nprofiles:\n  a: {api_key: k}\n")
    config.chmod(0o600)
    run("profile", "list", expect={"profile"})
    run("completion", "install", "bash", expect={"completion"})


def test_the_sandbox_announces_itself_in_the_same_shape(validator):
    proc = subprocess.Popen(
        [sys.executable, "-m", "ycecli", "--json", "sandbox", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = json.loads(proc.stdout.readline())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert not list(validator.iter_errors(line)) and line["kind"] == "sandbox"
