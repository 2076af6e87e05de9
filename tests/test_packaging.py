"""The wheel carries what users of pip and pipx expect: the licence, the typing
marker, the man pages and the shell completions."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from tests.conftest import REPO


def test_the_wheel_installs_licence_typing_marker_man_pages_and_completions(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("ycecli-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "ycecli/py.typed" in names
    data = {n.split(".data/data/", 1)[1] for n in names if ".data/data/" in n}
    # pipx links share/man of the app's environment into ~/.local/share/man: `man yce`
    assert "share/man/man1/yce.1" in data and "share/man/man1/yce-enhance.1" in data
    assert {
        "share/bash-completion/completions/yce.bash",
        "share/zsh/site-functions/_yce",
        "share/fish/vendor_completions.d/yce.fish",
    } <= data


def test_pyproject_cites_only_files_that_exist():
    import re

    text = (REPO / "pyproject.toml").read_text()
    for name in re.findall(r"\b([A-Z]+\.md)\b", text):
        assert (REPO / name).exists(), f"pyproject.toml cites {name}, which does not exist"
