"""Hooks of the hair features (see ycecli.hooks for the stages)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HOOKS: dict[str, Callable[..., Any]] = {}
