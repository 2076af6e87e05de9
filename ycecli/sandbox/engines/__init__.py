"""The sandbox's engine, one module per area: the same area names as the registry's
(ycecli.features.<area> declares the features, ycecli.sandbox.engines.<area> makes
their results). Each area module exports three tables, by the names the declarations
use: PRODUCERS (`sandbox_result`), CHECKS (`sandbox_check`: cross-field checks of run
bodies, run by ycecli.sandbox.checks) and RULES (`sandbox_rules`: input limits that
depend on the body, applied by ycecli.sandbox.inputs). This package merges them into
the one table of each kind; a name declared by two areas is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from ycecli.sandbox.engines import analysis, clothes, hair, image, portrait, tryon, video
from ycecli.sandbox.model import Check, Producer, Rules

AREAS = (analysis, clothes, hair, image, portrait, tryon, video)

_T = TypeVar("_T")


def _merge(tables: list[Mapping[str, _T]]) -> dict[str, _T]:
    merged: dict[str, _T] = {}
    for table in tables:
        for name, entry in table.items():
            if name in merged:
                raise ValueError(f"sandbox engine name {name!r} is declared twice")
            merged[name] = entry
    return merged


PRODUCERS: dict[str, Producer] = _merge([area.PRODUCERS for area in AREAS])
CHECKS: dict[str, Check] = _merge([area.CHECKS for area in AREAS])
RULES: dict[str, Rules] = _merge([area.RULES for area in AREAS])
