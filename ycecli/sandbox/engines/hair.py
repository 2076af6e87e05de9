"""The sandbox's engine for the hair features: producers of (clearly not AI) results
and cross-field checks of run bodies. See ycecli.sandbox.results for the Producer
contract; a check takes (feature, body) and raises SandboxError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PRODUCERS: dict[str, Callable[..., Any]] = {}
CHECKS: dict[str, Callable[..., Any]] = {}
