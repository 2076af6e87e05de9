"""Shell completion: the committed scripts complete in real shells, stay fresh, and
`yce completion show|install` hand them out."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from ycecli.cli.app import app
from ycecli.cli.docs import COMPLETION_FILES, SHELLS, completion_script

BASH_SCRIPT = REPO / "completions" / "yce.bash"


@pytest.fixture
def yce_on_path(tmp_path, monkeypatch):
    """`yce` resolves to `python -m ycecli` of this interpreter, as the scripts call it
    for profile names and style ids."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "yce"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m ycecli "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return wrapper


def bash_complete(*words: str) -> list[str]:
    """COMPREPLY after TAB with the cursor at the end of the last word."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    script = (
        f"source {shlex.quote(str(BASH_SCRIPT))}\n"
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "COMPREPLY=()\n"
        "_yce\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


def write_config(home: Path) -> None:
    config = home / ".config" / "yce" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "default_profile: work\nprofiles:\n  work:\n    api_key: k1\n  shop:\n    api_key: k2\n"
    )
    config.chmod(0o600)


def write_style_cache(home: Path) -> None:
    styles = home / ".cache" / "yce" / "styles"
    styles.mkdir(parents=True)
    # as ycecli.hooks.styles writes it: <16 hex digits of the account>-<slug>.json
    (styles / "0123456789abcdef-hair-style.json").write_text(
        json.dumps({"123456789012345678": 7, "42": 7})
    )
    (styles / "0123456789abcdef-hair-ext.json").write_text(json.dumps({"99": 1}))


def test_bash_completes_commands_options_and_choices():
    assert bash_complete("yce", "enh") == ["enhance"]
    assert bash_complete("yce", "enhance", "--sc") == ["--scale"]
    assert bash_complete("yce", "enhance", "photo.jpg", "--scale", "") == ["1", "2", "4"]
    # bash splits `--scale=` at the =, as COMP_WORDBREAKS says
    assert bash_complete("yce", "enhance", "--scale", "=", "") == ["1", "2", "4"]
    assert bash_complete("yce", "--json", "-p", "work", "enh") == ["enhance"]
    assert bash_complete("yce", "ring-vto", "hand.jpg", "--finger", "r") == ["ring"]
    assert bash_complete("yce", "earring-vto", "s.jpg", "e.png", "--occlusion", "o") == ["occluded"]
    assert bash_complete("yce", "hair-color", "x.jpg", "--preset", "Ho") == ["Honey\\ Blonde"]
    assert bash_complete("yce", "skin-analysis", "x.jpg", "--concern", "wrinkle,po") == [
        "wrinkle,pore"
    ]
    assert "hd_redness" in bash_complete("yce", "skin-analysis", "--concern", "hd_")
    assert bash_complete("yce", "styles", "") == ["groups", "list", "show"]
    assert "hair-color" not in bash_complete("yce", "styles", "list", "h")
    assert "hair-style" in bash_complete("yce", "styles", "list", "h")
    assert bash_complete("yce", "completion", "install", "") == ["bash", "zsh", "fish"]


def test_bash_completes_files_for_inputs(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"")
    assert bash_complete("yce", "enhance", "pho") == ["photo.jpg"]
    assert bash_complete("yce", "replace", "photo.jpg", "--mask", "pho") == ["photo.jpg"]
    assert bash_complete("yce", "generate", "--prompt", "pho") == []  # free text


def test_bash_completes_profile_names_from_the_config(isolated_env, yce_on_path):
    write_config(isolated_env)
    assert bash_complete("yce", "--profile", "") == ["work", "shop"]
    assert bash_complete("yce", "-p", "s") == ["shop"]
    assert bash_complete("yce", "profile", "use", "") == ["work", "shop"]
    assert bash_complete("yce", "profile", "add", "") == []  # a new name


def test_bash_completes_cached_style_ids_offline(isolated_env, yce_on_path):
    write_style_cache(isolated_env)
    ids = bash_complete("yce", "hair-style", "me.jpg", "--style", "")
    assert ids == ["42", "123456789012345678"]
    assert bash_complete("yce", "hair-ext", "me.jpg", "--style", "") == ["99"]
    assert bash_complete("yce", "headshot", "me.jpg", "--style", "") == []  # nothing cached


def test_completion_words_never_fails(isolated_env):
    config = isolated_env / ".config" / "yce" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("profiles: [not, a, mapping\n")
    result = run_cli("completion", "words", "profiles")
    assert result.code == 0 and result.stdout == "" and result.stderr == ""
    assert run_cli("completion", "words", "styles", "no-such-feature").stdout == ""


@pytest.mark.parametrize("shell", SHELLS)
def test_committed_scripts_are_fresh(shell):
    committed = (REPO / "completions" / COMPLETION_FILES[shell]).read_text()
    assert committed == completion_script(shell, app), (
        f"completions/{COMPLETION_FILES[shell]} is stale: run python -m ycecli.cli.docs --write"
    )


def test_completion_show_prints_the_script():
    result = run_cli("completion", "show", "bash")
    assert result.code == 0, result.stderr
    assert result.stdout == BASH_SCRIPT.read_text()
    assert run_cli("completion", "show", "tcsh").code == 2


def test_install_writes_where_each_shell_looks(isolated_env, monkeypatch):
    home = isolated_env
    result = run_cli("completion", "install", "bash")
    assert result.code == 0, result.stderr
    bash_path = home / ".local" / "share" / "bash-completion" / "completions" / "yce"
    assert result.stdout.strip() == str(bash_path)
    assert bash_path.read_text() == BASH_SCRIPT.read_text()

    result = run_cli("completion", "install", "zsh")
    assert result.code == 0 and "fpath" in result.stderr
    assert (home / ".zfunc" / "_yce").read_text() == completion_script("zsh", app)

    result = run_cli("completion", "install", "fish")
    fish_path = home / ".config" / "fish" / "completions" / "yce.fish"
    assert result.code == 0 and result.stdout.strip() == str(fish_path)

    data_home = home / "data"
    result = run_cli("completion", "install", "bash", env={"XDG_DATA_HOME": str(data_home)})
    assert result.code == 0
    assert (data_home / "bash-completion" / "completions" / "yce").exists()

    # ours is replaced freely; someone else's only with --force
    assert run_cli("completion", "install", "bash").code == 0
    bash_path.write_text("# my own yce completion\n")
    refused = run_cli("completion", "install", "bash")
    assert refused.code == 4 and "--force" in refused.stderr
    assert bash_path.read_text() == "# my own yce completion\n"
    assert run_cli("completion", "install", "bash", "--force").code == 0
    assert bash_path.read_text() == BASH_SCRIPT.read_text()


def test_zsh_and_fish_scripts_parse():
    checked = 0
    for shell in ("zsh", "fish"):
        if shutil.which(shell) is None:
            continue
        path = REPO / "completions" / COMPLETION_FILES[shell]
        proc = subprocess.run([shell, "-n", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0 and not proc.stderr, (shell, proc.stderr)
        checked += 1
    if not checked:
        pytest.skip("neither zsh nor fish is installed")


def test_fish_completes_like_bash(isolated_env, yce_on_path):
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    write_config(isolated_env)
    script = REPO / "completions" / "yce.fish"

    def complete(line: str) -> list[str]:
        proc = subprocess.run(
            ["fish", "--no-config", "-c", f"source {script}; complete -C {shlex.quote(line)}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert not proc.stderr, proc.stderr
        return [row.split("\t")[0] for row in proc.stdout.splitlines()]

    assert complete("yce enh") == ["enhance"]
    assert complete("yce enhance --sc") == ["--scale"]
    assert complete("yce ring-vto h.jpg --finger r") == ["ring"]
    assert sorted(complete("yce --profile ")) == ["shop", "work"]
    assert complete("yce hair-color x --preset Ho") == ["Honey Blonde"]


def test_completion_help_imports_nothing_heavy():
    probe = (
        "import sys\n"
        "from ycecli.cli.app import main\n"
        "sys.argv = ['yce', 'completion', 'install', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('requests', 'Crypto', 'yaml', 'PIL', 'sqlite3',"
        " 'ycecli.cli.docs') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "HEAVY []" in proc.stderr, proc.stderr


def test_the_generator_is_handed_the_app_and_imports_no_command():
    """ycecli.cli.app imports `yce completion`, which uses the generator: the generator
    takes the app as an argument, and imports no command module (no import cycle)."""
    probe = (
        "import sys\n"
        "import ycecli.cli.docs\n"
        "print(sorted(m for m in sys.modules if m.startswith('ycecli.cli.')"
        " and not m.startswith('ycecli.cli.docs')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['ycecli.cli.helptext']"
