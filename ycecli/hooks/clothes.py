"""Hooks of the clothes features (see ycecli.hooks for the stages).

- clothes_mode (check_job): AI Clothes takes a predefined style or a garment image,
  never both, never neither (003:6920-6933), each image at least 512x384 in custom
  mode (003:6438).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ycecli.errors import InvalidInput
from ycecli.features.clothes import GARMENT_MIN_LONG_SIDE, GARMENT_MIN_SHORT_SIDE


def _given(params: dict, key: str) -> bool:
    return params.get(key) not in (None, [])


def clothes_mode(ctx, job, params: dict) -> None:
    """Predefined style (style_group_id + style_ids) or custom garment (ref_ids +
    garment_category), 003:6920-6933. The seed's request sample sends both (003:6980)
    but never says which wins, so a mix is refused rather than guessed."""
    command = ctx.feature.command
    garment = job.refs.get("garment") or []
    style = _given(params, "style_ids") or _given(params, "style_group_id")
    if garment and style:
        raise InvalidInput(
            f"{command}: --garment and --style are two different modes",
            hint="Dress the person in a predefined outfit (--style) or in your garment "
            "image (--garment with --garment-category), not both.",
        )
    if not garment:
        if not _given(params, "style_ids"):
            raise InvalidInput(
                f"{command}: give --style (a predefined outfit) or --garment FILE",
                hint=f"List the outfits with `yce styles list {command}`; for your own "
                "garment image add --garment-category.",
            )
        if _given(params, "garment_category"):
            raise InvalidInput(
                f"{command}: --garment-category applies to --garment only",
                hint="Leave it out with --style, or give the garment image with --garment.",
            )
        return
    if not _given(params, "garment_category"):
        raise InvalidInput(
            f"{command}: --garment needs --garment-category",
            hint="upper_body (a top), lower_body (trousers, a skirt) or full_body (a dress, "
            "a whole outfit) (003:6933).",
        )
    # 003:6438: both images at least 512x384 in custom mode (long x short side).
    for name, refs in (("source", job.refs.get("source", [])), ("garment", garment)):
        for ref in refs:
            info = ref.info
            if info is None or info.width is None:
                continue
            long_side, short_side = max(info.width, info.height), min(info.width, info.height)
            if long_side < GARMENT_MIN_LONG_SIDE or short_side < GARMENT_MIN_SHORT_SIDE:
                raise InvalidInput(
                    f"{name} {ref.text}: {info.width}x{info.height} is under the minimum "
                    f"{GARMENT_MIN_LONG_SIDE}x{GARMENT_MIN_SHORT_SIDE}",
                    hint="Both images of a garment try-on must be at least 512x384 "
                    "(1024x768 recommended, 003:6438).",
                )


HOOKS: dict[str, Callable[..., Any]] = {"clothes_mode": clothes_mode}
