"""The vendor's documents (the seeds) as the tests read them: from extracts kept here.

The seeds live beside the repo (../shared/seeds/), and a clone has none of them. So
each seed a test reads has a file of the same name here holding the sections of it
the tests read, verbatim, each headed `@@ FIRST-LAST TESTS` (where the lines are in
the seed, and the test files that read them). tests/test_seeds.py checks them against
the seeds wherever those are present: beside the repo, or in $YCETEST_SEEDS.

A test reads lines by their number in the seed; a line no extract holds is an error
that says which, so a new test adds its lines here (and the check tells if they are
not the seed's own).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

EXTRACTS = Path(__file__).resolve().parent
REPO = EXTRACTS.parents[1]
SEEDS = Path(os.environ.get("YCETEST_SEEDS") or REPO.parent / "shared" / "seeds")
_HEADER = re.compile(r"@@ (\d+)-(\d+) (\S.*)")


@dataclass(frozen=True)
class Section:
    first: int  # line numbers in the seed, 1-based, both included
    last: int
    readers: tuple[str, ...]  # the test files that read it
    lines: tuple[str, ...]


class Extract:
    def __init__(self, name: str) -> None:
        self.name = name
        self.path = EXTRACTS / name
        self.sections: list[Section] = []
        rows = self.path.read_text(encoding="utf-8").split("\n")
        index = 0
        while index < len(rows) and rows[index].startswith("#"):
            index += 1  # the file's own comment, before the first section
        while index < len(rows) and rows[index]:
            match = _HEADER.fullmatch(rows[index])
            if match is None:
                raise ValueError(f"{self.path}:{index + 1}: not a section header: {rows[index]!r}")
            first, last = int(match[1]), int(match[2])
            lines = rows[index + 1 : index + 2 + last - first]
            self.sections.append(Section(first, last, tuple(match[3].split()), tuple(lines)))
            index += 2 + last - first
        self._lines = {s.first + i: text for s in self.sections for i, text in enumerate(s.lines)}

    def _section(self, number: int) -> Section:
        for section in self.sections:
            if section.first <= number <= section.last:
                return section
        raise LookupError(
            f"line {number} of the seed {self.name} is in no section of {self.path}: "
            "add the lines the test reads there"
        )

    def line(self, number: int) -> str:
        """Line `number` (1-based) of the seed."""
        self._section(number)
        return self._lines[number]

    def lines_from(self, number: int) -> list[str]:
        """The seed's lines from `number` to the end of the section holding it."""
        section = self._section(number)
        return list(section.lines[number - section.first :])

    @property
    def text(self) -> str:
        """Every section's lines, the sections a blank line apart."""
        return "\n\n".join("\n".join(s.lines) for s in self.sections)


@functools.cache
def seed(name: str) -> Extract:
    return Extract(name)
