"""yce in pipelines: global options anywhere, stdin and stdout as input and output."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from PIL import Image

from tests.conftest import SAMPLE, make_image, run_cli


def run_bytes(*args: str, stdin: bytes = b"", env: dict | None = None, timeout: float = 60):
    """Run yce with binary stdin and stdout, as in `curl ... | yce ... | convert ...`."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ycecli", *args],
        input=stdin,
        capture_output=True,
        env=full_env,
        timeout=timeout,
    )


def write_profile(home, text: str) -> None:
    config = home / ".config" / "yce" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text)
    config.chmod(0o600)


# -- 1. global options before or after the command ------------------------------------


def test_global_options_work_after_the_command(sandbox_env, tmp_path):
    photo = make_image(tmp_path / "photo.jpg")
    result = run_cli("enhance", str(photo), "--scale", "2", "--json", "--quiet")
    assert result.code == 0, result.stderr
    [line] = result.json_lines()
    assert line["status"] == "success" and line["files"] == [str(tmp_path / "photo_enhance.jpg")]
    assert result.stderr == ""  # --quiet after the command silences progress too


def test_debug_and_profile_after_a_subcommand_of_a_group(sandbox_env):
    result = run_cli("units", "--debug", "--json")
    assert result.code == 0, result.stderr
    assert "debug:" in result.stderr
    assert "total" in result.json_lines()[0]


def test_a_value_that_looks_like_a_global_option_stays_the_value(sandbox_env):
    # --prompt takes a value: the --json after it is the prompt, not the global flag.
    result = run_cli("generate", "--prompt", "--json", "--dry-run")
    assert result.code == 0, result.stderr
    assert "--json" in result.stderr and not result.stdout.startswith("{")


def test_an_explicit_profile_that_does_not_exist_is_an_error_despite_variables(sandbox_env):
    result = run_cli("enhance", str(SAMPLE), "--profile", "nosuch")
    assert result.code == 3
    assert "no profile named 'nosuch'" in result.stderr


def test_an_explicit_profile_wins_over_the_credential_variables(sandbox_env, isolated_env):
    env = sandbox_env.env()
    write_profile(
        isolated_env,
        "profiles:\n  work:\n"
        f"    client_id: {env['YCE_CLIENT_ID']}\n"
        f"    client_secret: {env['YCE_CLIENT_SECRET']}\n"
        f"    api_base: {env['YCE_API_BASE']}\n",
    )
    wrong = {"YCE_CLIENT_ID": "someone-else", "YCE_CLIENT_SECRET": "not-a-key"}
    assert run_cli("units", env=wrong).code == 3  # the variables alone are refused
    result = run_cli("units", "--profile", "work", env=wrong)
    assert result.code == 0, result.stderr


def test_a_profile_flag_without_its_value_is_a_usage_error(sandbox_env):
    result = run_cli("units", "--profile")
    assert result.code == 2
    assert "'--profile' requires an argument" in result.stderr


# -- 2. `-` reads stdin, `-o -` writes stdout ----------------------------------------


def test_stdin_in_and_stdout_out_make_a_pipe(sandbox_env, tmp_path):
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(png, format="PNG")
    proc = run_bytes("bg-remove", "-", "-o", "-", stdin=png.getvalue())
    assert proc.returncode == 0, proc.stderr
    assert Image.open(io.BytesIO(proc.stdout)).format == "PNG"
    assert b"-: success" in proc.stderr  # messages stay on stderr, the input shown as `-`
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]  # no file left behind


def test_stdin_input_gets_a_default_name_in_the_current_directory(sandbox_env, tmp_path):
    proc = run_bytes("enhance", "-", "--scale", "4", stdin=SAMPLE.read_bytes())
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "stdin_enhance_scale-4.jpg"
    assert proc.stdout.decode().strip() == str(written)
    assert Image.open(written).width > Image.open(SAMPLE).width


def test_stdout_output_is_refused_with_json_or_several_inputs(sandbox_env, tmp_path):
    photo = make_image(tmp_path / "a.jpg")
    with_json = run_bytes("--json", "enhance", str(photo), "-o", "-")
    assert with_json.returncode == 2 and b"--json" in with_json.stderr
    two = run_bytes("enhance", str(photo), str(SAMPLE), "-o", "-")
    assert two.returncode == 2 and b"-o out/" in two.stderr


def test_stdout_output_is_refused_when_stdout_is_a_terminal(sandbox_env, tmp_path):
    import pty

    photo = make_image(tmp_path / "a.jpg")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ycecli", "enhance", str(photo), "-o", "-"],
            stdout=follower,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 2
    assert b"terminal" in proc.stderr


def test_stdin_must_be_the_only_input(sandbox_env):
    proc = run_bytes("enhance", "-", str(SAMPLE), stdin=SAMPLE.read_bytes())
    assert proc.returncode == 2
    assert b"must be the only input" in proc.stderr


# -- 3. output names -----------------------------------------------------------------


def test_other_parameters_get_another_default_name_and_a_rerun_finds_its_own(sandbox_env, tmp_path):
    selfie = make_image(tmp_path / "selfie.jpg", size=(320, 240))
    honey = run_cli("--json", "hair-color", str(selfie), "--preset", "Honey Blonde")
    assert honey.code == 0, honey.stderr
    ombre = run_cli(
        "--json", "hair-color", str(selfie), "--pattern", "ombre", "--color", "3b2314",
        "--color", "e8c07a", "--blend-strength", "60", "--line-offset", "0.2",
    )  # fmt: skip
    assert ombre.code == 0, ombre.stderr
    first, second = honey.json_lines()[0]["files"], ombre.json_lines()[0]["files"]
    assert first == [str(tmp_path / "selfie_hair-color_preset-honey-blonde.jpg")]
    assert second == [
        str(
            tmp_path / "selfie_hair-color_color-3b2314-e8c07a_pattern-ombre"
            "_blend-strength-60_line-offset-0.2.jpg"
        )
    ]
    tasks = len(sandbox_env.tasks)
    again = run_cli("--json", "hair-color", str(selfie), "--preset", "Honey Blonde")
    assert again.code == 0, again.stderr
    [line] = again.json_lines()
    assert line["status"] == "skipped" and line["files"] == first
    assert len(sandbox_env.tasks) == tasks  # nothing paid twice


def test_defaults_given_explicitly_keep_the_plain_name(sandbox_env, tmp_path):
    photo = make_image(tmp_path / "photo.jpg")
    result = run_cli("enhance", str(photo), "--scale", "2")  # 2 is the default
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "photo_enhance.jpg")


def test_an_output_name_gets_the_format_its_extension_names(sandbox_env, tmp_path):
    photo = make_image(tmp_path / "photo.jpg")
    as_png = run_cli("enhance", str(photo), "-o", "big.png")
    assert as_png.code == 0, as_png.stderr
    assert Image.open(tmp_path / "big.png").format == "PNG"
    cutout = run_cli("bg-remove", str(photo), "-o", "cut.jpg")  # a PNG result, as a JPEG
    assert cutout.code == 0, cutout.stderr
    assert Image.open(tmp_path / "cut.jpg").format == "JPEG"
    assert not any(p.name.endswith(".fetched") for p in tmp_path.iterdir())


def test_an_extension_the_result_cannot_take_is_refused_before_upload(sandbox_env, tmp_path):
    photo = make_image(tmp_path / "photo.jpg")
    result = run_cli("enhance", str(photo), "-o", "big.gif")
    assert result.code == 2
    assert "cannot write as .gif" in result.stderr and ".png" in result.stderr
    assert sandbox_env.upload_log == []


def test_several_inputs_with_a_file_name_as_output_is_a_usage_error(sandbox_env, tmp_path):
    a, b = make_image(tmp_path / "a.jpg"), make_image(tmp_path / "b.jpg")
    result = run_cli("enhance", str(a), str(b), "-o", "single.jpg")
    assert result.code == 2
    assert "-o single/" in result.stderr
    assert not (tmp_path / "single.jpg").exists() and sandbox_env.upload_log == []
