"""Every exit code is documented in README.md, and every error class maps to one."""

import re
from pathlib import Path

from ycecli import errors
from ycecli.errors import ExitStatus, YceError

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_exit_status_is_documented_in_the_readme():
    table = dict(re.findall(r"^\|\s*(\d+)\s*\|\s*`?(\w+)`?\s*\|", README.read_text(), re.M))
    assert {int(code): name for code, name in table.items()} == {int(s): s.name for s in ExitStatus}


def test_every_error_class_has_its_own_meaningful_exit_status():
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, YceError)]
    for cls in classes:
        assert isinstance(cls.exit_status, ExitStatus)
    assert len({c.exit_status for c in classes}) >= 8
    assert set(errors.EXIT_STATUS_MEANING) == set(ExitStatus)
