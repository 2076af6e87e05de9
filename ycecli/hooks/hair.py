"""Hooks of the hair features (see ycecli.hooks for the stages).

- hair_color (prepare): turns --preset / --color / --pattern ... into the body's
  `preset`, or `pattern` + `palettes` (003:2510-2525), refusing every combination the
  engine would ignore or refuse.
- hair_color_size (check_job): the orientation-specific size limit of hair colour.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ycecli.errors import InvalidInput

# -- hair colour ------------------------------------------------------------------------

# The CLI-only options, as the user typed them, and their flags.
_COLOR_OPTIONS = {
    "color": "--color",
    "pattern_name": "--pattern",
    "blend_strength": "--blend-strength",
    "line_offset": "--line-offset",
    "coloring_section": "--coloring-section",
    "color_intensity": "--color-intensity",
    "shine_intensity": "--shine-intensity",
}
_OMBRE_ONLY = ("blend_strength", "line_offset", "coloring_section")
_HEX = re.compile(r"#[0-9A-Fa-f]{6}")  # 003:2523: ^#([A-Fa-f0-9]{6})$
_PATTERN_FIELDS = {"name", "blend_strength", "line_offset", "coloring_section"}
_PALETTE_FIELDS = {"color", "color_intensity", "shine_intensity"}


def _given(params: dict, key: str) -> bool:
    return params.get(key) not in (None, [])


def _flags(params: dict, keys) -> str:
    return ", ".join(_COLOR_OPTIONS[k] for k in keys if _given(params, k))


def hair_color(ctx, params: dict) -> dict:
    """Build `preset`, or `pattern` + `palettes`, from the options (003:2510-2525)."""
    command = ctx.feature.command
    options = [k for k in _COLOR_OPTIONS if _given(params, k)]
    raw = [k for k in ("pattern", "palettes") if _given(params, k)]
    if params.get("preset") is not None:
        if options or raw:
            # 003:2339: "If both a preset and pattern + palettes are specified, the
            # preset will take priority": the colours would be silently dropped.
            given = _flags(params, options) or " and ".join(raw)
            raise InvalidInput(
                f"{command}: --preset cannot be combined with {given}",
                hint="The API would apply only the preset and drop your colours: give "
                "either --preset or --color (with its pattern options).",
            )
        return params
    if raw:
        # A library caller may pass the API's own `pattern` and `palettes`.
        if options:
            raise InvalidInput(
                f"{command}: give either pattern/palettes or {_flags(params, options)}, not both",
                hint="The options build pattern and palettes themselves.",
            )
        _check_pattern_and_palettes(command, params.get("pattern"), params.get("palettes"))
        return params
    colors = [_hex(c) for c in params.get("color") or []]
    if not colors:
        if options:
            raise InvalidInput(
                f"{command}: {_flags(params, options)} need(s) --color",
                hint="Give one --color '#RRGGBB' (full) or two (ombre), or use --preset.",
            )
        raise InvalidInput(
            f"{command}: choose a colour: --preset NAME or --color '#RRGGBB'",
            hint="See `yce hair-color --help` for the preset names; --color takes a hex "
            "colour, once for one colour, twice for an ombre.",
        )
    mode = params.get("pattern_name") or ("ombre" if len(colors) == 2 else "full")
    pattern: dict[str, Any] = {"name": mode}
    if mode == "full":
        if len(colors) != 1:
            raise InvalidInput(
                f"{command}: --pattern full takes one --color, {len(colors)} given",
                hint="Give one --color, or use --pattern ombre for two colours.",
            )
        ombre_only = _flags(params, _OMBRE_ONLY)
        if ombre_only:
            raise InvalidInput(
                f"{command}: {ombre_only} only apply to an ombre (two colours)",
                hint="Add a second --color for an ombre, or leave these options out.",
            )
    else:
        if len(colors) != 2:
            raise InvalidInput(
                f"{command}: --pattern ombre takes two --color, {len(colors)} given",
                hint="Give the top colour, then the bottom colour: --color X --color Y.",
            )
        missing = [
            _COLOR_OPTIONS[k] for k in ("blend_strength", "line_offset") if not _given(params, k)
        ]
        if missing:
            raise InvalidInput(
                f"{command}: an ombre needs {' and '.join(missing)}",
                hint="--blend-strength 0..100 (how softly the colours blend) and "
                "--line-offset -0.99..0.99 (where they meet); the API has no defaults "
                "(003:2515-2516).",
            )
        # "top" is the one documented value of coloring_section (003:2517), which an
        # ombre requires: filling it in cannot change what the user asked for.
        pattern.update(
            blend_strength=params["blend_strength"],
            line_offset=params["line_offset"],
            coloring_section=params.get("coloring_section") or "top",
        )
    palettes = []
    for color in colors:
        palette: dict[str, Any] = {"color": color}
        for key in ("color_intensity", "shine_intensity"):
            if _given(params, key):
                palette[key] = params[key]
        palettes.append(palette)
    _check_pattern_and_palettes(command, pattern, palettes)
    return {**params, "pattern": pattern, "palettes": palettes}


def _hex(value: str) -> str:
    text = str(value).strip()
    return text if text.startswith("#") else "#" + text


def _check_pattern_and_palettes(command: str, pattern: Any, palettes: Any) -> None:
    """The rules of 003:2510-2525 on the body's own fields."""

    def bad(message: str, hint: str) -> InvalidInput:
        return InvalidInput(f"{command}: {message}", hint=hint)

    if not isinstance(pattern, dict) or not isinstance(palettes, list):
        raise bad(
            "pattern (an object) and palettes (a list) are both required without a preset",
            "pattern = {name, ...}, palettes = [{color, ...}] (003:2510-2525).",
        )
    unknown = sorted(set(pattern) - _PATTERN_FIELDS)
    if unknown:
        raise bad(f"pattern has unknown field(s) {', '.join(unknown)}", "See 003:2514-2517.")
    name = pattern.get("name")
    if name not in ("full", "ombre"):
        raise bad(f"pattern name {name!r} is not full or ombre", "Use full or ombre.")
    expected = 1 if name == "full" else 2
    if len(palettes) != expected:
        raise bad(
            f"a {name} pattern takes {expected} palette(s), {len(palettes)} given",
            "One colour for full, two for ombre (003:2518).",
        )
    if name == "ombre":
        missing = [
            k for k in ("blend_strength", "line_offset", "coloring_section") if k not in pattern
        ]
        if missing:
            raise bad(f"an ombre pattern needs {', '.join(missing)}", "See 003:2515-2517.")
    _check_number(command, "blend_strength", pattern.get("blend_strength"), 0, 100, integer=True)
    _check_number(command, "line_offset", pattern.get("line_offset"), -0.99, 0.99)
    if pattern.get("coloring_section") not in (None, "top"):
        raise bad("coloring_section must be top", "It is the only documented value (003:2517).")
    for palette in palettes:
        if not isinstance(palette, dict):
            raise bad("each palette must be an object", "palettes = [{color, ...}].")
        unknown = sorted(set(palette) - _PALETTE_FIELDS)
        if unknown:
            raise bad(f"a palette has unknown field(s) {', '.join(unknown)}", "See 003:2523-2525.")
        color = palette.get("color")
        if not isinstance(color, str) or not _HEX.fullmatch(color):
            raise bad(f"colour {color!r} is not #RRGGBB", "A hex colour such as #7B3F00.")
        for key in ("color_intensity", "shine_intensity"):
            _check_number(command, key, palette.get(key), 0, 100, integer=True)


def _check_number(command, name, value, low, high, *, integer=False) -> None:
    if value is None:
        return
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        raise InvalidInput(
            f"{command}: {name} {value!r} is out of range",
            hint=f"{name} must be {'an integer ' if integer else ''}in {low}..{high}.",
        )


def hair_color_size(ctx, job, params: dict) -> None:
    """003:2355's error text expects "width < 1920px, height < 1080px": besides the
    long/short side limits of the input rules, a portrait photo must be under 1080 px
    high (the stricter reading; see ycecli.features.hair.HAIR_COLOR_RULES)."""
    for ref in job.refs.get("source", []):
        info = ref.info
        if info is None or info.height is None:
            continue  # an id: input was checked when it was made
        if info.width >= 1920 or info.height >= 1080:
            raise InvalidInput(
                f"source {ref.text}: {info.width}x{info.height} is too large for hair colour",
                hint="The engine takes width < 1920 px and height < 1080 px (003:2355): "
                "resize it, e.g. to fit in 1919x1079.",
            )


HOOKS: dict[str, Callable[..., Any]] = {
    "hair_color": hair_color,
    "hair_color_size": hair_color_size,
}
