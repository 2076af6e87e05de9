"""Hooks of the image features (see ycecli.hooks for the stages).

- generate: `--ratio W:H` becomes width_ratio/height_ratio; a blank prompt is refused.
- extend: the ten out-paint integers from the photo's size and `--canvas`/`--ratio`/
  `--position` (or checked as given), within the documented output limits.
- replace, obj-remove: the mask must be the photo's size (and look like a mask).
- bg-change, bg-blur: optional local compositing with the returned foreground mask.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ycecli.errors import ApiError, InvalidInput
from ycecli.features import IMAGE_CONTENT_TYPES, MediaRules
from ycecli.files import atomic_file, refuse_existing
from ycecli.validate import check_media, open_image

# -- shared ------------------------------------------------------------------------------


def _parse_pair(text: str, flag: str, separators: str, example: str) -> tuple[int, int]:
    """'16:9' or '1024x768' -> (16, 9); both numbers positive integers."""
    match = re.fullmatch(rf"\s*(\d+)\s*[{separators}]\s*(\d+)\s*", str(text))
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise InvalidInput(
            f"{flag}: {text!r} has the wrong form",
            hint=f"{flag} takes two positive whole numbers, e.g. {example}.",
        )
    return int(match.group(1)), int(match.group(2))


def _require_prompt(ctx, params: dict, key: str = "prompt") -> dict:
    prompt = params.get(key)
    if prompt is not None and not str(prompt).strip():
        raise InvalidInput(
            f"{ctx.feature.command}: --{key.replace('_', '-')} is empty",
            hint='Describe what to generate, e.g. --prompt "a cute cat".',
        )
    return params


# -- generate (text-to-image) ------------------------------------------------------------


def generate_prepare(ctx, params: dict) -> dict:
    """--ratio W:H -> width_ratio/height_ratio (sent as two integers, 003:10016)."""
    params = _require_prompt(ctx, dict(params))
    if not params.get("style_ids"):
        # Named before --style-group, which the core fills from the style lists.
        raise InvalidInput(
            "generate: --style is required",
            hint="Choose a style id from `yce styles list generate`.",
        )
    ratio = params.pop("ratio", None)
    if ratio is None:
        return params
    given = [k for k in ("width_ratio", "height_ratio") if params.get(k) is not None]
    if given:
        raise InvalidInput(
            f"generate: --ratio and {', '.join(given)} both give the aspect ratio",
            hint="Give one of them.",
        )
    width, height = _parse_pair(ratio, "--ratio", ":", "3:4 or 16:9")
    return {**params, "width_ratio": width, "height_ratio": height}


# -- extend (out-paint) --------------------------------------------------------------------

# 003:384: "Output: short side <= 1024, long side <= 2048".
OUT_LONG_SIDE = 2048
OUT_SHORT_SIDE = 1024
RAW = (
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
FLAGS = {
    "output_width": "--output-width",
    "output_height": "--output-height",
    "input_x": "--input-x",
    "input_y": "--input-y",
    "input_width": "--input-width",
    "input_height": "--input-height",
    "crop_input_x": "--crop-x",
    "crop_input_y": "--crop-y",
    "crop_input_width": "--crop-width",
    "crop_input_height": "--crop-height",
}


def extend_prepare(ctx, params: dict) -> dict:
    """Check the friendly options' form and that no two options give the same thing."""
    canvas, ratio = params.get("canvas"), params.get("ratio")
    outputs = [FLAGS[k] for k in ("output_width", "output_height") if params.get(k) is not None]
    if canvas is not None and ratio is not None:
        raise InvalidInput(
            "extend: --canvas and --ratio both give the output size", hint="Give one of them."
        )
    for flag, value in (("--canvas", canvas), ("--ratio", ratio)):
        if value is not None and outputs:
            raise InvalidInput(
                f"extend: {flag} and {', '.join(outputs)} both give the output size",
                hint="Give one of them.",
            )
    if canvas is not None:
        _parse_pair(canvas, "--canvas", "xX×", "1024x768")
    if ratio is not None:
        _parse_pair(ratio, "--ratio", ":", "16:9 or 1:1")
    placed = [FLAGS[k] for k in ("input_x", "input_y") if params.get(k) is not None]
    if params.get("position") is not None and placed:
        raise InvalidInput(
            f"extend: --position and {', '.join(placed)} both place the photo",
            hint="Give --position, or the raw --input-x and --input-y.",
        )
    if canvas is None and ratio is None and len(outputs) < 2:
        raise InvalidInput(
            "extend: the output size is missing",
            hint="Give --canvas WxH, --ratio W:H, or both --output-width and --output-height.",
        )
    return params


def _ratio_canvas(width: int, height: int, ratio: tuple[int, int]) -> tuple[int, int]:
    """The smallest canvas of aspect `ratio` that holds a width x height photo."""
    a, b = ratio
    if width * b >= height * a:  # the photo is at least as wide as the ratio
        return width, max(height, math.ceil(width * b / a))
    return max(width, math.ceil(height * a / b)), height


def _place(position: str, outer: tuple[int, int], inner: tuple[int, int]) -> tuple[int, int]:
    free_x, free_y = outer[0] - inner[0], outer[1] - inner[1]
    x = 0 if "left" in position else free_x if "right" in position else free_x // 2
    y = 0 if "top" in position else free_y if "bottom" in position else free_y // 2
    return max(0, x), max(0, y)


def extend_params(ctx, job, params: dict) -> dict:
    """The ten out-paint integers for this photo, checked against 003:10413's rules."""
    label = f"extend: {job.label}"
    info = job.refs["source"][0].info
    source = (info.width, info.height) if info is not None and info.width else None
    given: dict[str, Any] = {k: params.get(k) for k in RAW}
    friendly = [f for f in ("canvas", "ratio", "position") if params.get(f) is not None]
    if source is None:
        missing = [FLAGS[k] for k, v in given.items() if v is None]
        if friendly or missing:
            raise InvalidInput(
                f"{label}: the photo's size is not known here (an id: input), so "
                + (f"--{friendly[0]} cannot be worked out" if friendly else "")
                + ("; " if friendly and missing else "")
                + (f"{', '.join(missing)} cannot be filled in" if missing else ""),
                hint="Pass the photo as a local file, or give all ten raw values.",
            )
    width, height = source or (0, 0)  # used only where the size is known
    values: dict[str, Any] = dict(given)
    cx = values["crop_input_x"] = given["crop_input_x"] or 0
    cy = values["crop_input_y"] = given["crop_input_y"] or 0
    if source is not None:
        for key, start, size in (("crop_input_x", cx, width), ("crop_input_y", cy, height)):
            if start >= size:
                raise InvalidInput(
                    f"{label}: {FLAGS[key]} {start} is outside the {width}x{height} photo",
                    hint="The crop must start inside the photo.",
                )
        if values["crop_input_width"] is None:
            values["crop_input_width"] = width - cx
        if values["crop_input_height"] is None:
            values["crop_input_height"] = height - cy
    crop = (values["crop_input_width"], values["crop_input_height"])
    # 003 does not say whether the crop is scaled to input_width x input_height; it says
    # to "scale the input image by yourself first". yce keeps them equal, the only
    # reading under which the result is predictable.
    if values["input_width"] is None:
        values["input_width"] = crop[0]
    if values["input_height"] is None:
        values["input_height"] = crop[1]
    if params.get("canvas") is not None:
        values["output_width"], values["output_height"] = _parse_pair(
            params["canvas"], "--canvas", "xX×", "1024x768"
        )
    elif params.get("ratio") is not None:
        ratio = _parse_pair(params["ratio"], "--ratio", ":", "16:9")
        size = (values["input_width"], values["input_height"])
        values["output_width"], values["output_height"] = _ratio_canvas(*size, ratio)
        if (values["output_width"], values["output_height"]) == size:
            raise InvalidInput(
                f"{label}: the {size[0]}x{size[1]} photo already has the ratio {params['ratio']}",
                hint="Give --canvas WxH to extend it on every side.",
            )
    outer = (values["output_width"], values["output_height"])
    inner = (values["input_width"], values["input_height"])
    if values["input_x"] is None or values["input_y"] is None:
        x, y = _place(params.get("position") or "center", outer, inner)
        values["input_x"] = x if values["input_x"] is None else values["input_x"]
        values["input_y"] = y if values["input_y"] is None else values["input_y"]
    check_out_paint(values, source, label)
    if outer[0] > 2 * inner[0] or outer[1] > 2 * inner[1]:
        # 003:10413: "the recommeded size of output image should be less than two times
        # of the size of input image to ensure better quality".
        ctx.note(
            f"the {outer[0]}x{outer[1]} output is more than twice the photo's "
            f"{inner[0]}x{inner[1]}; 003 recommends less for better quality",
            label=job.label,
        )
    return {**params, **values}


def check_out_paint(values: dict, source: tuple[int, int] | None, label: str) -> None:
    """003:10413-10424 and the limits row 003:384, as InvalidInput naming the rule."""
    ow, oh = values["output_width"], values["output_height"]
    ix, iy = values["input_x"], values["input_y"]
    iw, ih = values["input_width"], values["input_height"]
    cx, cy = values["crop_input_x"], values["crop_input_y"]
    cw, ch = values["crop_input_width"], values["crop_input_height"]
    for key, value in values.items():
        low = 0 if key in ("input_x", "input_y", "crop_input_x", "crop_input_y") else 1
        if not low <= value <= 4096:
            raise InvalidInput(
                f"{label}: {FLAGS[key]} {value} is out of range",
                hint=f"{FLAGS[key]} must be {low}..4096 (003:10413).",
            )
    if max(ow, oh) > OUT_LONG_SIDE or min(ow, oh) > OUT_SHORT_SIDE:
        scale = min(OUT_LONG_SIDE / max(ow, oh), OUT_SHORT_SIDE / min(ow, oh))
        fit = f"{max(1, int(iw * scale))}x{max(1, int(ih * scale))}"
        raise InvalidInput(
            f"{label}: the {ow}x{oh} output is over the API's output limits (long side <= "
            f"{OUT_LONG_SIDE}, short side <= {OUT_SHORT_SIDE}, 003:384)",
            hint=f"Choose a smaller canvas, or resize the photo (or its crop) to at most "
            f"{fit} first and extend that.",
        )
    if ix + iw > ow or iy + ih > oh:
        raise InvalidInput(
            f"{label}: the {iw}x{ih} photo placed at {ix},{iy} does not fit inside the "
            f"{ow}x{oh} output",
            hint="input_x + input_width must be <= output_width and input_y + input_height "
            "<= output_height (003:10413): use a larger canvas or another position.",
        )
    if (ow, oh) == (iw, ih):
        raise InvalidInput(
            f"{label}: the {ow}x{oh} output is not larger than the photo",
            hint="The output must be larger than the input (003:10413).",
        )
    if (iw, ih) != (cw, ch):
        raise InvalidInput(
            f"{label}: the photo's size in the output ({iw}x{ih}) differs from the crop "
            f"({cw}x{ch})",
            hint="003 does not say that the crop is scaled: resize the photo yourself and "
            "keep --input-width/--input-height equal to the crop.",
        )
    if source is not None and (cx + cw > source[0] or cy + ch > source[1]):
        raise InvalidInput(
            f"{label}: the crop {cw}x{ch} at {cx},{cy} reaches outside the "
            f"{source[0]}x{source[1]} photo",
            hint="Keep --crop-x + --crop-width and --crop-y + --crop-height within the photo.",
        )


# -- replace, obj-remove: masks ------------------------------------------------------------


def check_mask(ctx, job, params: dict) -> None:
    """The mask must be exactly the photo's size (003:8047, 003:11808) and look like a
    mask: greyscale, with something marked. Checked before anything is uploaded."""
    source = job.refs["source"][0]
    masks = job.refs.get("mask") or []
    if len(masks) != 1:
        raise InvalidInput(f"{ctx.feature.command}: give exactly one --mask")
    mask = masks[0]
    if source.info is None or mask.info is None:
        which = "photo" if source.info is None else "mask"
        ctx.note(
            f"the {which} is an id: input, so the mask's size cannot be checked here; it "
            "must be exactly the photo's size",
            label=job.label,
        )
    else:
        photo_size = (source.info.width, source.info.height)
        mask_size = (mask.info.width, mask.info.height)
        if photo_size != mask_size:
            raise InvalidInput(
                f"{ctx.feature.command}: the mask {mask.text} is {mask_size[0]}x{mask_size[1]} "
                f"but the photo {job.label} is {photo_size[0]}x{photo_size[1]}",
                hint="The mask must have exactly the photo's width and height "
                "(003:8047): export it at the photo's size.",
            )
    if mask.path is not None and mask.info is not None:
        _check_mask_pixels(ctx, mask)


def _check_mask_pixels(ctx, mask) -> None:
    from PIL import ImageChops

    cache = ctx.state.setdefault("mask_checked", set())
    if mask.path in cache:
        return
    with open_image(mask.path, label="the mask") as img:
        grey = img.convert("L")
        if img.mode not in ("1", "L", "LA", "I", "I;16", "P"):
            # A JPEG of a grey mask has tiny colour noise; a photo has real colour.
            small = img.convert("RGB")
            small.thumbnail((128, 128))
            r, g, b = small.split()
            spread = ImageChops.subtract(
                ImageChops.lighter(ImageChops.lighter(r, g), b),
                ImageChops.darker(ImageChops.darker(r, g), b),
            )
            colourful = sum(spread.histogram()[48:])
            if colourful > small.width * small.height // 100:
                raise InvalidInput(
                    f"{ctx.feature.command}: the mask {mask.text} is a colour image, not a "
                    "greyscale mask",
                    hint="Pass the mask with --mask (white marks the area, black is kept), "
                    "not a photo.",
                )
    if grey.getextrema()[1] == 0:
        raise InvalidInput(
            f"{ctx.feature.command}: the mask {mask.text} is entirely black: it marks nothing",
            hint="Paint the area to change in white.",
        )
    cache.add(mask.path)


def replace_prepare(ctx, params: dict) -> dict:
    return _require_prompt(ctx, params)


# -- bg-change, bg-blur: local compositing with the returned mask ----------------------------
#
# 003:12009 and 003:12468 say both features "extract a foreground mask from a input
# image", so that the caller can change or blur the background with it. yce saves the
# API's result as it comes; --background and --blur make an extra file locally.


def _parse_colour(text: str):
    from PIL import ImageColor

    try:
        return ImageColor.getrgb(text)
    except ValueError:
        return None


def background_prepare(ctx, params: dict) -> dict:
    background = params.get("background")
    if background is None:
        return params
    if _parse_colour(background) is not None:
        return params
    path = Path(background).expanduser()
    if not path.is_file():
        raise InvalidInput(
            f"bg-change: --background {background!r} is neither a colour nor an image file",
            hint="Give a colour (#1e90ff, white, rgb(0,128,0)) or the path of a JPEG/PNG.",
        )

    rules = MediaRules(content_types=IMAGE_CONTENT_TYPES, max_bytes=10**12, max_long_side=None)
    check_media(path, rules, label="--background")
    return params


def _extra_path(job, kind: str) -> Path | None:
    """Where the local composite goes: beside the result, named after it."""
    if job.target is None:
        return None
    source = job.refs["source"][0]
    info = source.info
    suffix = ".png" if info is not None and info.content_type == "image/png" else ".jpg"
    return job.target.with_name(f"{job.target.stem}_{kind}{suffix}")


_EXTRA = {"background": "composite", "blur": "blurred"}


def check_local_composite(ctx, job, params: dict) -> None:
    option = next((k for k in _EXTRA if params.get(k) is not None), None)
    if option is None:
        return
    if job.refs["source"][0].path is None:
        raise InvalidInput(
            f"{ctx.feature.command}: --{option} needs the photo on this computer, and "
            f"{job.label} is an id: input",
            hint=f"Pass the photo as a file or URL, or leave out --{option}.",
        )
    extra = _extra_path(job, _EXTRA[option])
    if extra is not None:
        refuse_existing(extra, overwrite=ctx.overwrite)


def _mask_from_result(path: str, size: tuple[int, int]):
    """The result as an L mask of `size`, or None when it is not a mask at all."""
    from PIL import Image

    # The result comes from the server: a mask declaring 30000x30000 must be refused
    # before it is decoded, not exhaust memory.
    with open_image(path, label="the result", error=ApiError) as img:
        if img.mode in ("RGBA", "LA") or "transparency" in img.info:
            mask = img.convert("RGBA").getchannel("A")
        elif img.mode in ("1", "L", "I", "I;16", "P"):
            mask = img.convert("L")
        else:
            from PIL import ImageChops

            rgb = img.convert("RGB")
            r, g, b = rgb.split()
            extremes: list[Any] = [
                ImageChops.difference(r, g).getextrema(),
                ImageChops.difference(g, b).getextrema(),
            ]
            spread = max(high for _, high in extremes)
            if spread > 24:  # a colour picture, not a grey mask saved as RGB
                return None
            mask = rgb.convert("L")
    if mask.size != size:
        mask = mask.resize(size, Image.Resampling.BILINEAR)
    return mask


def _write_extra(ctx, job, result, kind: str, make) -> None:

    if not result.files:
        return
    source = job.refs["source"][0]
    extra = _extra_path(job, kind)
    if source.path is None or extra is None or not Path(source.path).is_file():
        ctx.note(f"the photo is not on this computer; no {kind} image made", label=job.label)
        return
    if extra.exists() and not ctx.overwrite:
        ctx.note(f"{extra} already exists; not replaced", label=job.label)
        return
    with open_image(source.path, label="the photo") as img:
        photo = img.convert("RGB")
    mask = _mask_from_result(result.files[0], photo.size)
    if mask is None:
        ctx.note(
            f"the result is not a mask, so no {kind} image was made (kept as returned)",
            label=job.label,
        )
        return
    image = make(photo, mask)
    with atomic_file(extra, overwrite=ctx.overwrite) as out:
        if extra.suffix == ".png":
            image.save(out, format="PNG")
        else:
            image.save(out, format="JPEG", quality=92)
    result.files.append(str(extra))
    result.extra[kind] = str(extra)
    result.extra.setdefault("table", []).append((kind, str(extra)))


def composite_background(ctx, job, result) -> None:
    background = job.params.get("background")
    if background is None:
        return

    def make(photo, mask):
        from PIL import Image, ImageOps

        colour = _parse_colour(background)
        if colour is not None:
            backdrop = Image.new("RGB", photo.size, colour[:3])
        else:
            with open_image(Path(background).expanduser(), label="--background") as img:
                backdrop = ImageOps.fit(img.convert("RGB"), photo.size)
        return Image.composite(photo, backdrop, mask)

    _write_extra(ctx, job, result, "composite", make)


def composite_blur(ctx, job, result) -> None:
    radius = job.params.get("blur")
    if radius is None:
        return

    def make(photo, mask):
        from PIL import Image, ImageFilter

        return Image.composite(photo, photo.filter(ImageFilter.GaussianBlur(radius)), mask)

    _write_extra(ctx, job, result, "blurred", make)


HOOKS: dict[str, Callable[..., Any]] = {
    "generate_prepare": generate_prepare,
    "extend_prepare": extend_prepare,
    "extend_params": extend_params,
    "replace_prepare": replace_prepare,
    "check_mask": check_mask,
    "background_prepare": background_prepare,
    "check_local_composite": check_local_composite,
    "composite_background": composite_background,
    "composite_blur": composite_blur,
}
