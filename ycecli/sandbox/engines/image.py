"""The sandbox's engine for the image features (ycecli.features.image): producers of
(clearly not AI) results and cross-field checks of run bodies. See
ycecli.sandbox.model for the Producer and Check contracts."""

from __future__ import annotations

import textwrap
from typing import Any

from ycecli.sandbox.imaging import encode, open_image, png
from ycecli.sandbox.model import Check, EngineError, Producer, Rules, SandboxError


def _source(inputs):
    data, content_type = inputs["source"][0]
    return open_image(data), content_type


def _ellipse(size: tuple[int, int]):
    """A centred ellipse over 80% of each side: the sandbox's idea of "the subject"."""
    from PIL import Image, ImageDraw

    mask = Image.new("L", size, 0)
    width, height = size
    box = (width * 0.1, height * 0.1, width * 0.9 - 1, height * 0.9 - 1)
    ImageDraw.Draw(mask).ellipse(box, fill=255)
    return mask


def scale(inputs, params) -> list[tuple[bytes, str]]:
    """Enhance: the source resized by `scale` (output long side capped at 4096, 003:380)."""
    data, content_type = inputs["source"][0]
    img = open_image(data)
    factor = int(params.get("scale", 1))
    width, height = img.size
    new_size = (width * factor, height * factor)
    if max(new_size) > 4096:
        ratio = 4096 / max(new_size)
        new_size = (max(1, int(new_size[0] * ratio)), max(1, int(new_size[1] * ratio)))
    if new_size != img.size:
        from PIL import Image

        img = img.resize(new_size, Image.Resampling.LANCZOS)
    return [encode(img, content_type)]


def copy(inputs, params) -> list[tuple[bytes, str]]:
    """The source, unchanged."""
    return [inputs["source"][0]]


def sod_cutout(inputs, params) -> list[Any]:
    """bg-remove: the photo as a PNG whose alpha is the centre ellipse."""
    img, _ = _source(inputs)
    rgba = img.convert("RGBA")
    rgba.putalpha(_ellipse(img.size))
    return [png(rgba)]


def foreground_mask(inputs, params) -> list[Any]:
    """bg-change and bg-blur. 003:12009 and 003:12468 describe the result as "a
    foreground mask" extracted from the photo (the caller changes or blurs the
    background with it), so the sandbox returns a greyscale PNG mask of the photo's
    size: white foreground (the centre ellipse), black background."""
    img, _ = _source(inputs)
    return [png(_ellipse(img.size))]


# Warm to cool, as 003:9170 and 003:11080 describe the four versions.
_TINTS = ((255, 190, 120), (255, 235, 200), (215, 235, 255), (150, 200, 255))


def colorize_tints(inputs, params) -> list[Any]:
    """colorize: four tinted versions of the greyscale photo, warm to cool."""
    from PIL import ImageOps

    img, content_type = _source(inputs)
    grey = img.convert("L")
    return [encode(ImageOps.colorize(grey, (0, 0, 0), tint), content_type) for tint in _TINTS]


def autocontrast_variants(inputs, params) -> list[Any]:
    """color-correct: four autocontrast versions (growing cutoff), tinted warm to cool."""
    from PIL import Image, ImageOps

    img, content_type = _source(inputs)
    rgb = img.convert("RGB")
    outputs = []
    for cutoff, tint in zip((0, 1, 2, 4), _TINTS, strict=True):
        graded = ImageOps.autocontrast(rgb, cutoff=cutoff)
        tinted = Image.blend(graded, Image.new("RGB", rgb.size, tint), 0.12)
        outputs.append(encode(tinted, content_type))
    return outputs


def brighten(inputs, params) -> list[Any]:
    """lighting: the photo 40% brighter."""
    from PIL import ImageEnhance

    img, content_type = _source(inputs)
    return [encode(ImageEnhance.Brightness(img.convert("RGB")).enhance(1.4), content_type)]


GENERATE_LONG_SIDE = 1024  # 003:387: "Output: long side <= 1024"


def generate_card(inputs, params) -> list[Any]:
    """generate: a diagonal gradient the shape of width_ratio:height_ratio (long side
    1024; square without a ratio) with the prompt written on it."""
    from PIL import Image, ImageChops, ImageDraw, ImageFont

    a, b = params.get("width_ratio") or 1, params.get("height_ratio") or 1
    scale = GENERATE_LONG_SIDE / max(a, b)
    size = (max(1, round(a * scale)), max(1, round(b * scale)))
    seed = (params.get("seed") or [0])[0]
    hue = (seed * 2654435761 + sum(params.get("style_ids") or [])) % 256
    down = Image.linear_gradient("L").resize(size)
    across = Image.linear_gradient("L").rotate(90).resize(size)
    ramp = ImageChops.add(down, across, scale=2)  # top-left dark to bottom-right light
    img = Image.merge("RGB", (ramp, Image.new("L", size, hue), ramp.point(lambda v: 255 - v)))
    draw = ImageDraw.Draw(img)
    text = "SANDBOX\n" + textwrap.fill(str(params.get("prompt", "")), width=30)
    try:
        font = ImageFont.load_default(size=max(10, size[0] // 24))
    except TypeError:  # Pillow < 10.1: one bitmap size
        font = ImageFont.load_default()
    draw.multiline_text((16, 16), text, fill=(255, 255, 255), font=font, spacing=6)
    return [encode(img, "image/jpeg")]


def extend_canvas(inputs, params) -> list[Any]:
    """extend: the crop of the photo pasted at input_x, input_y on an output-sized
    canvas filled with the crop's mean colour."""
    from PIL import Image, ImageStat

    img, content_type = _source(inputs)
    cx, cy = params["crop_input_x"], params["crop_input_y"]
    cw, ch = params["crop_input_width"], params["crop_input_height"]
    if cx + cw > img.width or cy + ch > img.height:
        raise EngineError(
            "invalid_parameter",
            f"crop {cw}x{ch} at {cx},{cy} is outside the {img.width}x{img.height} image",
        )
    crop = img.convert("RGB").crop((cx, cy, cx + cw, cy + ch))
    size = (params["input_width"], params["input_height"])
    if crop.size != size:
        crop = crop.resize(size)
    mean = tuple(int(v) for v in ImageStat.Stat(crop).mean)
    canvas = Image.new("RGB", (params["output_width"], params["output_height"]), mean)
    canvas.paste(crop, (params["input_x"], params["input_y"]))
    return [encode(canvas, content_type)]


# 003:385: AI Replace "Output: short side <= 1024, long side <= 2048".
REPLACE_LIMITS = (2048, 1024)


def fill_mask(inputs, params) -> list[Any]:
    """replace and obj-remove: the white part of the mask painted over with the mean
    colour of the pixels just around it. A mask of another size is an engine error."""
    from PIL import Image, ImageFilter, ImageStat

    img, content_type = _source(inputs)
    if not inputs.get("mask"):
        raise EngineError("error_download_mask", "no mask file")
    mask = open_image(inputs["mask"][0][0]).convert("L")
    if mask.size != img.size:
        raise EngineError(
            "invalid_parameter",
            f"mask is {mask.width}x{mask.height}, image is {img.width}x{img.height}",
        )
    photo = img.convert("RGB")
    binary = mask.point(lambda v: 255 if v >= 128 else 0)
    grown = binary.filter(ImageFilter.MaxFilter(9))
    ring = Image.composite(grown, Image.new("L", grown.size, 0), binary.point(lambda v: 255 - v))
    stat_mask = ring if ring.getbbox() else binary.point(lambda v: 255 - v)
    if not stat_mask.getbbox():
        stat_mask = None
    mean = tuple(int(v) for v in ImageStat.Stat(photo, stat_mask).mean)
    photo.paste(mean, (0, 0, *photo.size), binary)
    if "prompt" in params:  # replace: the output limits of 003:385
        longest, shortest = REPLACE_LIMITS
        factor = min(1.0, longest / max(photo.size), shortest / min(photo.size))
        if factor < 1.0:
            new = (max(1, int(photo.width * factor)), max(1, int(photo.height * factor)))
            photo = photo.resize(new, Image.Resampling.LANCZOS)
    return [encode(photo, content_type)]


PRODUCERS: dict[str, Producer] = {
    "scale": scale,
    "copy": copy,  # the registry's default sandbox_result
    "sod_cutout": sod_cutout,
    "foreground_mask": foreground_mask,
    "colorize_tints": colorize_tints,
    "autocontrast_variants": autocontrast_variants,
    "brighten": brighten,
    "generate_card": generate_card,
    "extend_canvas": extend_canvas,
    "fill_mask": fill_mask,
}


def out_paint(feature, body) -> None:
    """003:10413: the input (placed at input_x, input_y) inside the output, the output
    larger than the input and within 003:384's output limits."""
    params = body["payload"]["actions"][0].get("params") or {}
    names = (
        "output_width",
        "output_height",
        "input_x",
        "input_y",
        "input_width",
        "input_height",
        "crop_input_x",
        "crop_input_y",
        "crop_input_width",
        "crop_input_height",
    )
    missing = [n for n in names if n not in params]
    if missing:
        raise SandboxError(
            400,
            f"payload.actions[0].params: missing required field(s) {', '.join(missing)}",
            "InvalidParameters",
        )
    ow, oh = params["output_width"], params["output_height"]
    iw, ih = params["input_width"], params["input_height"]
    if params["input_x"] + iw > ow or params["input_y"] + ih > oh:
        raise SandboxError(
            400, "input_x + input_width must <= output_width (and so for y)", "InvalidParameters"
        )
    if (ow, oh) == (iw, ih):
        raise SandboxError(400, "the output must be larger than the input", "InvalidParameters")
    if max(ow, oh) > 2048 or min(ow, oh) > 1024:
        raise SandboxError(
            400, "output: short side <= 1024, long side <= 2048", "InvalidParameters"
        )


CHECKS: dict[str, Check] = {"out_paint": out_paint}
RULES: dict[str, Rules] = {}
