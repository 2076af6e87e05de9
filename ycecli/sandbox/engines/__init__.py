"""Per-group sandbox engines, collected into one table of producers and one of
body checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ycecli.sandbox.engines import analysis, hair, image, portrait, video

PRODUCERS: dict[str, Callable[..., Any]] = {}
CHECKS: dict[str, Callable[..., Any]] = {}
for _module in (image, hair, portrait, analysis, video):
    PRODUCERS.update(_module.PRODUCERS)
    CHECKS.update(_module.CHECKS)
