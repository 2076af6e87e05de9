"""The sandbox's engine for the hair features (ycecli.features.hair): producers of
(clearly not AI) results and cross-field checks of run bodies. See
ycecli.sandbox.model for the Producer and Check contracts.

Results: hair colour tints the top half of the photo with the palette colour (a
vertical gradient for an ombre); the hair generators paint a band in a colour derived
from the style id.
"""

from __future__ import annotations

import re

from ycecli.sandbox.imaging import encode, open_rgb, style_color
from ycecli.sandbox.model import Check, Producer, Rules, SandboxError

# Rough colours of the hair-colour preset names (003:2510), so a preset result is
# visibly the named colour. A two-colour preset is "top/bottom".
_NAMED_COLORS = {
    "Jet Black": (20, 20, 22),
    "Chocolate Brown": (92, 51, 23),
    "Honey Blonde": (214, 170, 90),
    "Platinum Blonde": (229, 228, 226),
    "Ash Gray": (178, 190, 181),
    "Rose Gold": (183, 110, 121),
    "Burgundy": (128, 0, 32),
    "Copper Red": (184, 80, 50),
    "Lavender": (181, 126, 220),
    "Teal Blue": (54, 117, 136),
    "Dark Brown": (60, 40, 30),
    "Caramel Blonde": (196, 142, 72),
    "Silver Gray": (192, 192, 192),
    "Ash Brown": (110, 90, 75),
    "Peach Blonde": (240, 190, 150),
    "Magenta Pink": (220, 60, 150),
    "Deep Blue": (20, 40, 120),
    "Teal Green": (0, 128, 110),
    "Plum Purple": (110, 40, 100),
    "Pastel Lilac": (210, 180, 230),
    "Golden Blonde": (220, 180, 90),
    "Dark Gray": (70, 70, 70),
    "Ice Blonde": (235, 235, 225),
    "Midnight Blue": (25, 25, 112),
    "Denim Blue": (21, 96, 189),
}
_HEX = re.compile(r"#([A-Fa-f0-9]{6})")  # 003:2523: ^#([A-Fa-f0-9]{6})$


def _rgb(text: str) -> tuple[int, int, int]:
    value = text.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _named(name: str) -> tuple[int, int, int]:
    return _NAMED_COLORS.get(name) or style_color(name)


# -- hair colour ----------------------------------------------------------------------


def hair_tint(inputs, params) -> list:
    """The top half of the photo (where hair usually is) blended with the colour, or
    with a top-to-bottom gradient between the two colours of an ombre. The preset wins
    over pattern + palettes when both are given (003:2339)."""
    from PIL import Image

    data, content_type = inputs["source"][0]
    img = open_rgb(data)
    width, height = img.size
    preset = params.get("preset")
    pattern = params.get("pattern") or {}
    if preset:
        colors = [_named(part) for part in preset.split("/")]
        intensity, blend, offset = 60, 50, 0.0
    else:
        palettes = params.get("palettes") or []
        colors = [_rgb(p["color"]) for p in palettes]
        intensity = palettes[0].get("color_intensity", 60) if palettes else 60
        blend = pattern.get("blend_strength", 50)
        offset = pattern.get("line_offset", 0.0)
    region = max(1, height // 2)
    column = []
    for y in range(region):
        if len(colors) == 1:
            column.append(colors[0])
            continue
        # line_offset moves where the colours meet (0.99: the top colour reaches far
        # down); blend_strength widens the transition.
        t = y / max(1, region - 1)
        meet = 0.5 + 0.5 * float(offset)
        span = max(0.02, int(blend) / 100)
        mix = min(1.0, max(0.0, (t - (meet - span / 2)) / span))
        top, bottom = colors[0], colors[1]
        column.append(tuple(round(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True)))
    strip = Image.new("RGB", (1, region))
    strip.putdata(column)
    overlay = strip.resize((width, region))
    top_half = img.crop((0, 0, width, region))
    alpha = 0.25 + 0.6 * max(0, min(100, int(intensity))) / 100
    img.paste(Image.blend(top_half, overlay, alpha), (0, 0))
    return [encode(img, content_type)]


def check_hair_color(feature, body) -> None:
    """003:2510-2525: a preset, or pattern + palettes; a full pattern has one palette,
    an ombre two and its three fields; colours are #RRGGBB. Both at once is allowed:
    the preset wins (003:2339)."""

    def fail(message: str):
        return SandboxError(400, message, "InvalidParameters")

    params = body["payload"]["actions"][0].get("params") or {}
    preset, pattern, palettes = (params.get(k) for k in ("preset", "pattern", "palettes"))
    if preset is None and (pattern is None or palettes is None):
        raise fail("params: preset, or pattern and palettes, are required")
    if pattern is not None:
        unknown = sorted(
            set(pattern) - {"name", "blend_strength", "line_offset", "coloring_section"}
        )
        if unknown:
            raise fail(f"params.pattern: unknown field(s) {', '.join(unknown)}")
        name = pattern.get("name")
        if name not in ("ombre", "full"):
            raise fail("params.pattern.name must be one of ombre, full")
        if name == "ombre":
            for key in ("blend_strength", "line_offset", "coloring_section"):
                if key not in pattern:
                    raise fail(f"params.pattern.{key} is required for ombre")
        _check_range(fail, "pattern.blend_strength", pattern.get("blend_strength"), 0, 100, True)
        _check_range(fail, "pattern.line_offset", pattern.get("line_offset"), -0.99, 0.99, False)
        if "coloring_section" in pattern and pattern["coloring_section"] != "top":
            raise fail("params.pattern.coloring_section must be top")
        if palettes is not None and len(palettes) != (1 if name == "full" else 2):
            raise fail(f"params.palettes: {name} mode takes {1 if name == 'full' else 2} item(s)")
    if palettes is not None:
        if not 1 <= len(palettes) <= 2:
            raise fail("params.palettes must hold 1 to 2 items")
        for index, palette in enumerate(palettes):
            where = f"params.palettes[{index}]"
            if not isinstance(palette, dict):
                raise fail(f"{where} must be an object")
            unknown = sorted(set(palette) - {"color", "color_intensity", "shine_intensity"})
            if unknown:
                raise fail(f"{where}: unknown field(s) {', '.join(unknown)}")
            color = palette.get("color")
            if not isinstance(color, str) or not _HEX.fullmatch(color):
                raise fail(f"{where}.color must match ^#([A-Fa-f0-9]{{6}})$")
            for key in ("color_intensity", "shine_intensity"):
                _check_range(fail, f"palettes[{index}].{key}", palette.get(key), 0, 100, True)


def _check_range(fail, where, value, low, high, integer) -> None:
    if value is None:
        return
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise fail(f"params.{where} must be {'an integer' if integer else 'a number'}")
    if not low <= value <= high:
        raise fail(f"params.{where} must be in [{low} .. {high}]")


# -- hair generators ----------------------------------------------------------------------


def hair_band(inputs, params) -> list:
    """A band across the upper part of the photo, in the style's own colour."""
    from PIL import ImageDraw

    data, content_type = inputs["source"][0]
    img = open_rgb(data)
    width, height = img.size
    style = (params.get("style_ids") or [0])[0]
    band = max(1, height // 8)
    ImageDraw.Draw(img).rectangle((0, band, width, 2 * band), fill=style_color(style))
    return [encode(img, content_type)]


PRODUCERS: dict[str, Producer] = {
    "hair_tint": hair_tint,
    "hair_band": hair_band,
}
CHECKS: dict[str, Check] = {"hair_color": check_hair_color}
RULES: dict[str, Rules] = {}
