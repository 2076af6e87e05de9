"""The extracts of the vendor's documents under tests/seeds/ are the documents' own lines.

The tests that compare yce with the seeds read the extracts, so a clone without the
seeds runs them all. Where the seeds are (beside the repo, or $YCETEST_SEEDS), every
extracted line is checked against its seed here.
"""

from __future__ import annotations

import pytest

from tests.seeds import EXTRACTS, REPO, SEEDS, seed

NAMES = sorted(p.name for p in EXTRACTS.glob("*.txt"))


@pytest.mark.parametrize("name", NAMES)
def test_each_extract_is_ordered_sections_read_by_the_tests_it_names(name):
    extract = seed(name)
    assert extract.sections
    previous = 0
    for section in extract.sections:
        assert previous < section.first <= section.last, (name, section.first)
        assert len(section.lines) == section.last - section.first + 1, (name, section.first)
        for reader in section.readers:
            assert name in (REPO / "tests" / reader).read_text(), (reader, name)
        previous = section.last


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the seeds are not at {SEEDS}")
@pytest.mark.parametrize("name", NAMES)
def test_each_extract_holds_its_seeds_own_lines(name):
    lines = (SEEDS / name).read_text(encoding="utf-8").split("\n")
    for section in seed(name).sections:
        expected = tuple(lines[section.first - 1 : section.last])
        assert section.lines == expected, f"{name}:{section.first}-{section.last}"
