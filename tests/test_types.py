"""The package type-checks: mypy, configured in pyproject.toml, finds nothing."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is in the test extras")
def test_mypy_finds_no_error():
    proc = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_module_has_its_errors_ignored():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mypy"]
    ignored = {
        module
        for override in config.get("overrides", [])
        if override.get("ignore_errors")
        for module in (
            [override["module"]] if isinstance(override["module"], str) else override["module"]
        )
    }
    assert not ignored, f"mypy's errors are ignored in {sorted(ignored)}"
    assert not config.get("ignore_errors"), "mypy's errors are ignored everywhere"
