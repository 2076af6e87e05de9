"""Hair features (003)."""

from __future__ import annotations

from ycecli.features.spec import Feature

FEATURES: tuple[Feature, ...] = ()
