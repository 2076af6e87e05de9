"""Per-group sandbox engines, collected into one table of producers, one of body
checks and one of input rules that depend on the body (see ycecli.sandbox.inputs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ycecli.sandbox.engines import analysis, hair, image, portrait, video

PRODUCERS: dict[str, Callable[..., Any]] = {}
CHECKS: dict[str, Callable[..., Any]] = {}
RULES: dict[str, Callable[..., Any]] = {}
for _module in (image, hair, portrait, analysis, video):
    PRODUCERS.update(_module.PRODUCERS)
    CHECKS.update(_module.CHECKS)
    RULES.update(getattr(_module, "RULES", {}))
