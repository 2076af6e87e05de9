"""Profiles, the config file and the environment overrides."""

import stat

import pytest

from tests.conftest import run_cli
from ycecli.config import ConfigFile, Paths, load_profile
from ycecli.errors import ConfigError


def write_config(paths: Paths, text: str, mode: int = 0o600):
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(text)
    paths.config_file.chmod(mode)


def test_environment_alone_is_enough(paths):
    env = {
        "YCE_CLIENT_ID": "cid",
        "YCE_CLIENT_SECRET": "sec",
        "YCE_API_BASE": "http://127.0.0.1:9/",
    }
    profile = load_profile(paths=paths, env=env)
    assert (profile.client_id, profile.client_secret) == ("cid", "sec")
    assert profile.api_base == "http://127.0.0.1:9"
    assert not paths.config_file.exists()


def test_profile_selection_and_env_overrides(paths):
    write_config(
        paths,
        "default_profile: a\nprofiles:\n  a: {client_id: A, client_secret: s}\n"
        "  b: {api_key: kb, polling_window: 8}\n",
    )
    assert load_profile(paths=paths, env={}).client_id == "A"
    assert load_profile(paths=paths, env={"YCE_PROFILE": "b"}).polling_window == 8.0
    # A profile named by --profile wins over the variables, which fill only its gaps;
    # without the flag, the variables win over the file.
    named = load_profile("b", paths=paths, env={"YCE_API_KEY": "env", "YCE_CLIENT_ID": "E"})
    assert (named.api_key, named.client_id) == ("kb", "E")
    assert load_profile(paths=paths, env={"YCE_PROFILE": "b", "YCE_API_KEY": "env"}).api_key == (
        "env"
    )


def test_an_explicit_profile_that_does_not_exist_is_an_error_even_with_variables(paths):
    write_config(paths, "profiles:\n  a: {api_key: k}\n")
    env = {"YCE_CLIENT_ID": "cid", "YCE_CLIENT_SECRET": "sec"}
    with pytest.raises(ConfigError, match="no profile named 'nosuch'"):
        load_profile("nosuch", paths=paths, env=env)


def test_malformed_yaml_names_the_file_and_line(paths):
    write_config(paths, "profiles:\n  a:\n    client_id: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_profile(paths=paths, env={})
    assert str(paths.config_file) in info.value.message
    assert "line 4" in info.value.message or "line 3" in info.value.message


def test_unknown_field_and_bad_value_are_named(paths):
    write_config(paths, "profiles:\n  a: {client_idd: x}\n")
    with pytest.raises(ConfigError, match="client_idd"):
        load_profile(paths=paths, env={})
    write_config(paths, "profiles:\n  a: {polling_window: soon}\n")
    with pytest.raises(ConfigError, match="polling_window"):
        load_profile(paths=paths, env={})


def test_missing_profile_says_how_to_create_it(paths):
    write_config(paths, "profiles:\n  a: {api_key: k}\n")
    with pytest.raises(ConfigError) as info:
        load_profile("nope", paths=paths, env={})
    assert "yce profile add nope" in info.value.hint


def test_profile_add_reads_secrets_from_stdin_and_writes_private_files(sandbox):
    result = run_cli(
        "profile",
        "add",
        "work",
        "--client-id",
        sandbox.client_id,
        "--client-secret-stdin",
        "--api-key-stdin",
        input=f"{sandbox.client_secret}\nsk-test-123456789\n",
    )
    assert result.code == 0, result.stderr
    paths = Paths.from_env()
    assert stat.S_IMODE(paths.config_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.config_file.parent.stat().st_mode) == 0o700
    cfg = ConfigFile.load(paths.config_file)
    assert cfg.default_profile == "work"
    assert cfg.profiles["work"]["api_key"] == "sk-test-123456789"

    shown = run_cli("profile", "show", "work")
    assert shown.code == 0
    assert sandbox.client_secret not in shown.stdout
    assert "sk-test-123456789" not in shown.stdout
    assert "****6789" in shown.stdout

    listed = run_cli("--json", "profile", "list")
    assert listed.json_lines() == [
        {"kind": "profile", "name": "work", "default": True, "apis": ["v1", "v2"]}
    ]


def test_profile_add_refuses_a_malformed_secret(sandbox):
    result = run_cli(
        "profile",
        "add",
        "x",
        "--client-id",
        "c",
        "--client-secret-stdin",
        input="definitely not base64 der\n",
    )
    assert result.code == 3
    assert "X.509" in result.stderr


def test_profile_use_and_remove(sandbox):
    for name in ("a", "b"):
        run_cli("profile", "add", name, "--api-key-stdin", input="key-123456789\n")
    assert run_cli("profile", "use", "b").code == 0
    assert ConfigFile.load(Paths.from_env().config_file).default_profile == "b"
    assert run_cli("profile", "remove", "b").code == 0
    cfg = ConfigFile.load(Paths.from_env().config_file)
    assert list(cfg.profiles) == ["a"] and cfg.default_profile == "a"
    missing = run_cli("profile", "use", "zzz")
    assert missing.code == 3 and "zzz" in missing.stderr


def test_a_secret_in_a_config_file_others_can_read_is_refused_with_the_fix(paths):
    write_config(paths, "profiles:\n  a: {client_id: A, client_secret: s}\n", mode=0o644)
    result = run_cli("--profile", "a", "profile", "show")
    assert result.code == 3, result.stderr
    assert str(paths.config_file) in result.stderr and "0644" in result.stderr
    assert f"chmod 600 {paths.config_file}" in result.stderr
    assert "s\n" not in result.stdout
    paths.config_file.chmod(0o600)
    assert run_cli("--profile", "a", "profile", "show").code == 0


def test_a_config_file_without_secrets_may_be_shared(paths):
    write_config(paths, "profiles:\n  a: {client_id: A, api_base: http://127.0.0.1:9}\n", 0o644)
    assert load_profile("a", paths=paths, env={}).client_id == "A"


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_nan_and_infinity_are_not_numbers_a_profile_accepts(paths, value):
    write_config(paths, f"profiles:\n  a: {{task_timeout: {value}}}\n")
    with pytest.raises(ConfigError, match="task_timeout"):
        load_profile(paths=paths, env={})


def test_a_config_file_that_is_not_text_is_a_config_error(paths):
    write_config(paths, "")
    paths.config_file.write_bytes(b"profiles:\n  a: {client_id: \xff\xfe}\n")
    result = run_cli("profile", "list")
    assert result.code == 3 and "UTF-8" in result.stderr and "Traceback" not in result.stderr
