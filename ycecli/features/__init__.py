"""The registry: one frozen declaration per API feature, pure data.

Declarations live in one module per command group; this package collects them.
Adding a feature means adding one `Feature(...)` to its group's module (plus its
tests); nothing else should need to know its name. Facts come from the vendor
documents (../shared/seeds, condensed in ../shared/api/CATALOG.md); each declaration
cites the seed lines it was built from.
"""

from __future__ import annotations

from ycecli.errors import InvalidInput
from ycecli.features import analysis, clothes, hair, image, portrait, tryon, video
from ycecli.features.spec import (
    GROUPS,
    HUNDRED_MB,
    IMAGE_4096,
    IMAGE_CONTENT_TYPES,
    TEN_MB,
    VIDEO_CONTENT_TYPES,
    Breach,
    Feature,
    InputSpec,
    MediaRules,
    Param,
    RuleCodes,
    get_path,
)

FEATURES: tuple[Feature, ...] = (
    *image.FEATURES,
    *hair.FEATURES,
    *portrait.FEATURES,
    *clothes.FEATURES,
    *analysis.FEATURES,
    *video.FEATURES,
    *tryon.FEATURES,
)

_BY_COMMAND = {f.command: f for f in FEATURES}
_BY_SLUG = {f.slug: f for f in FEATURES}


def get_feature(name: str) -> Feature:
    """Look a feature up by command name or API slug."""
    feature = _BY_COMMAND.get(name) or _BY_SLUG.get(name)
    if feature is None:
        raise InvalidInput(
            f"unknown feature {name!r}",
            hint="Known features: " + ", ".join(sorted(_BY_COMMAND)) + ".",
        )
    return feature


__all__ = [
    "FEATURES",
    "GROUPS",
    "HUNDRED_MB",
    "IMAGE_4096",
    "IMAGE_CONTENT_TYPES",
    "TEN_MB",
    "VIDEO_CONTENT_TYPES",
    "Breach",
    "Feature",
    "InputSpec",
    "MediaRules",
    "Param",
    "RuleCodes",
    "get_feature",
    "get_path",
]
