"""The `yce` command as users and scripts run it: subprocesses, real sockets."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys

from PIL import Image

from tests.conftest import SAMPLE, make_image, run_cli


def test_sandbox_flag_enhances_with_no_account(tmp_path):
    result = run_cli("--sandbox", "enhance", str(SAMPLE), "--scale", "2")
    assert result.code == 0, result.stderr
    out = tmp_path / "sample_enhance.jpg"
    assert result.stdout.strip() == str(out)
    assert Image.open(out).size == (640, 480)
    assert "wrote" in result.stderr  # human messages go to stderr


def test_json_output_is_one_parseable_object_per_task(sandbox_env, tmp_path):
    other = make_image(tmp_path / "other.png", fmt="PNG")
    result = run_cli("--json", "enhance", str(SAMPLE), str(other), "--scale", "1", "-o", "outdir/")
    assert result.code == 0, result.stderr
    objects = result.json_lines()
    assert len(objects) == 2
    for obj in objects:
        for key in (
            "feature",
            "task_id",
            "status",
            "files",
            "urls",
            "dst_ids",
            "error",
            "error_message",
        ):
            assert key in obj
        assert obj["status"] == "success" and obj["feature"] == "enhance"
        assert os.path.exists(obj["files"][0])
    assert objects[1]["files"][0].endswith("outdir/other_enhance_scale-1.png")


def test_plain_progress_when_stderr_is_not_a_terminal(sandbox_env):
    result = run_cli("enhance", str(SAMPLE))
    assert result.code == 0
    lines = result.stderr.splitlines()
    assert any("uploading" in line for line in lines)
    assert not any("\x1b[" in line or "\r" in line for line in lines)  # no animation


def upload_count(sandbox):
    return sum(1 for m, p in sandbox.requests if p.startswith("/s2s/v1.1/file/"))


def test_bad_inputs_exit_4_before_anything_is_uploaded(sandbox_env, tmp_path):
    sandbox = sandbox_env
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    huge = tmp_path / "huge.jpg"
    with open(huge, "wb") as fh:
        fh.write(b"\xff\xd8\xff\xe0")
        fh.truncate(10_000_001)
    wide = make_image(tmp_path / "wide.png", size=(4097, 8), fmt="PNG")
    valid = make_image(tmp_path / "valid.jpg")
    existing = tmp_path / "sample_enhance.jpg"
    existing.write_bytes(b"keep me")
    cases = [
        ((str(text),), "format"),
        ((str(huge),), "too large"),
        ((str(wide),), "long side"),
        ((str(tmp_path / "missing.jpg"),), "no such file"),
        ((str(SAMPLE),), "already exists"),
        ((str(valid), str(text)), "format"),  # one bad input stops all before any upload
    ]
    for args, fragment in cases:
        result = run_cli("enhance", *args)
        assert result.code == 4, (args, result.stderr)
        assert fragment in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert existing.read_bytes() == b"keep me"
    assert upload_count(sandbox) == 0


def test_bad_option_values_are_usage_errors(sandbox_env):
    result = run_cli("enhance", str(SAMPLE), "--scale", "3")
    assert result.code == 2
    assert "--scale" in result.stderr
    assert upload_count(sandbox_env) == 0
    assert run_cli("enhance", str(SAMPLE), "--no-such-option").code == 2
    assert run_cli("no-such-command").code == 2


def test_json_errors_are_reported_on_stdout_too(sandbox_env, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("nope")
    result = run_cli("--json", "enhance", str(bad))
    assert result.code == 4
    [obj] = result.json_lines()
    assert obj["error"] == "InvalidInput" and "format" in obj["error_message"]


def test_engine_failure_exits_6_with_the_reason(sandbox_env):
    sandbox_env.fail_next_task("error_no_face", "No face detected")
    result = run_cli("--json", "enhance", str(SAMPLE))
    assert result.code == 6
    [obj] = result.json_lines()
    assert obj["status"] == "error" and obj["error"] == "error_no_face"
    assert "No face detected" in obj["error_message"]


def test_timeout_exits_7_with_the_task_id_and_task_wait_finishes(sandbox_env, tmp_path):
    sandbox_env.config.task_seconds = 3.0
    result = run_cli("enhance", str(SAMPLE), "--timeout", "1")
    assert result.code == 7, result.stderr
    command = re.search(r"`(yce task wait [^`]+)`", result.stderr).group(1)
    *_, task_id = shlex.split(command)
    waited = run_cli("--json", "task", "wait", "enhance", task_id)
    assert waited.code == 0, waited.stderr
    [obj] = waited.json_lines()
    assert obj["task_id"] == task_id and obj["files"] == [str(tmp_path / "sample_enhance.jpg")]
    listed = run_cli("--json", "task", "list")
    assert [r["state"] for r in listed.json_lines()] == ["done"]


def test_out_of_units_exits_8(sandbox_env):
    sandbox_env.units = 0
    result = run_cli("enhance", str(SAMPLE))
    assert result.code == 8
    assert "yce units" in result.stderr


def test_network_failure_exits_9(paths):
    import base64

    from Crypto.PublicKey import RSA

    secret = base64.b64encode(RSA.generate(1024).public_key().export_key(format="DER")).decode()
    paths.config_file.parent.mkdir(parents=True)
    paths.config_file.write_text(
        "profiles:\n  offline:\n    client_id: c\n"
        f"    client_secret: {secret}\n    api_base: http://127.0.0.1:9\n    max_retries: 1\n"
    )
    paths.config_file.chmod(0o600)
    result = run_cli("--profile", "offline", "units")
    assert result.code == 9, result.stderr
    assert "127.0.0.1:9" in result.stderr and "gave up after 2 tries" in result.stderr


def test_missing_credentials_exit_3_and_say_what_to_set():
    result = run_cli("enhance", str(SAMPLE))
    assert result.code == 3
    assert "YCE_CLIENT_ID" in result.stderr


def test_units_and_history(sandbox_env):
    assert run_cli("enhance", str(SAMPLE)).code == 0
    balance = run_cli("units")
    assert balance.stdout.strip() == str(sandbox_env.config.initial_units - 1)
    history = run_cli("--json", "units", "history", "--all", "--page-size", "1")
    [entry] = history.json_lines()
    assert entry["action"] == "api_photo_enhance"
    assert run_cli("units", "history", "--page-size", "31").code == 2


def test_auth_check_and_logout(sandbox_env):
    result = run_cli("--json", "auth", "check")
    assert result.code == 0, result.stderr
    [info] = result.json_lines()
    assert info["token"] == "ok" and info["units"] == sandbox_env.config.initial_units
    logout = run_cli("auth", "logout")
    assert "removed 1" in logout.stderr


def test_debug_logs_requests_with_secrets_redacted(sandbox_env):
    result = run_cli("--debug", "enhance", str(SAMPLE))
    assert result.code == 0
    log = result.stderr
    assert "POST" in log and "/s2s/v1.0/client/auth" in log
    [token] = list(sandbox_env.tokens)
    for secret in (sandbox_env.client_secret, token, "X-Amz-Signature=" + "a"):
        assert secret not in log
    assert "Bearer ***" in log
    assert "id_token" in log and '"id_token": "***"' in log
    assert not re.search(r"X-Amz-Signature=[0-9a-f]{16}", log)


def test_version_and_module_entry_point():
    result = run_cli("--version")
    assert result.code == 0 and re.fullmatch(r"yce \d+\.\d+\.\d+\n", result.stdout)


def test_help_imports_nothing_heavy():
    probe = (
        "import sys\n"
        "from ycecli.cli.app import main\n"
        "sys.argv = ['yce', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('requests', 'Crypto', 'yaml', 'rich.progress', 'PIL', 'sqlite3')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    for argv in (["--help"], ["enhance", "--help"], ["units", "--help"]):
        code = probe.replace("['yce', '--help']", repr(["yce", *argv]))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert "HEAVY []" in proc.stderr, (argv, proc.stderr)


def test_sandbox_serve_prints_the_environment_a_script_needs(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ycecli",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--task-seconds",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        env = {}
        for _ in range(5):
            line = proc.stdout.readline()
            key, _, value = line.removeprefix("export ").strip().partition("=")
            env[key] = value.strip("'")
        assert set(env) == {
            "YCE_API_BASE",
            "YCE_API_BASE_V2",
            "YCE_CLIENT_ID",
            "YCE_CLIENT_SECRET",
            "YCE_API_KEY",
        }
        result = run_cli("--json", "enhance", str(SAMPLE), env=env)
        assert result.code == 0, result.stderr
        assert json.loads(result.stdout)["status"] == "success"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_help_groups_commands_by_area_and_suggests_close_commands():
    result = run_cli("--help")
    text = result.stdout
    assert text.index("Image editing:") < text.index("Try-on:") < text.index("Account and tools:")
    assert text.index("enhance") < text.index("Try-on:")
    typo = run_cli("enhanse")
    assert typo.code == 2 and "Did you mean 'enhance'" in typo.stderr


def test_every_command_help_has_a_summary_and_examples():
    import typer

    from ycecli.cli.app import app

    root = typer.main.get_command(app)
    ctx = root.make_context("yce", [], resilient_parsing=True)
    missing = []
    seen = []

    def walk(group, parent_ctx, prefix):
        for name in group.list_commands(parent_ctx):
            command = group.get_command(parent_ctx, name)
            if command is None or command.hidden:
                continue
            sub_ctx = command.make_context(name, [], parent=parent_ctx, resilient_parsing=True)
            if hasattr(command, "list_commands"):
                walk(command, sub_ctx, f"{prefix} {name}")
                continue
            text = command.get_help(sub_ctx)
            seen.append(name)
            summary = (command.help or "").strip().splitlines()
            if not summary or "Examples:" not in text:
                missing.append(f"{prefix} {name}")
                continue
            # One example a line: joined with " | " they read as a shell pipeline.
            listed = text.split("Examples:", 1)[1].strip().splitlines()
            assert listed and all(" | " not in line for line in listed), (name, listed)
            starts = ("yce ", "source ", "YCE_")
            assert all(line.strip().startswith(starts) for line in listed), (name, listed)

    walk(root, ctx, "yce")
    assert missing == []
    assert {"enhance", "ring-vto", "skin-analysis", "history", "resume"} <= set(seen)
