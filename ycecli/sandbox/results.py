"""How the sandbox's engine turns inputs into results: real files derived from the
inputs, clearly not AI. Each feature's declaration names its producer here."""

from __future__ import annotations

import io

from ycecli.sandbox.model import EngineError, Output, Producer, as_output

__all__ = ["EngineError", "Output", "PRODUCERS", "Producer", "as_output"]


def _open_image(data: bytes):
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        img.load()
        return img
    except (UnidentifiedImageError, OSError) as exc:
        raise EngineError("error_decode_image", f"cannot decode source image: {exc}") from None


def _encode(img, content_type: str) -> tuple[bytes, str]:
    out = io.BytesIO()
    if content_type == "image/png":
        img.save(out, format="PNG")
    else:
        img.convert("RGB").save(out, format="JPEG", quality=90)
        content_type = "image/jpeg"
    return out.getvalue(), content_type


def scale(inputs, params) -> list[tuple[bytes, str]]:
    """Enhance: the source resized by `scale` (output long side capped at 4096, 003:380)."""
    data, content_type = inputs["source"][0]
    img = _open_image(data)
    factor = int(params.get("scale", 1))
    width, height = img.size
    new_size = (width * factor, height * factor)
    if max(new_size) > 4096:
        ratio = 4096 / max(new_size)
        new_size = (max(1, int(new_size[0] * ratio)), max(1, int(new_size[1] * ratio)))
    if new_size != img.size:
        from PIL import Image

        img = img.resize(new_size, Image.Resampling.LANCZOS)
    return [_encode(img, content_type)]


def copy(inputs, params) -> list[tuple[bytes, str]]:
    """The source, unchanged."""
    return [inputs["source"][0]]


def compose(inputs, params) -> list[tuple[bytes, str]]:
    """Try-on: the product pasted onto the photo, a third of its width, at the given
    location (earring) or the middle (ring). Transparent PNG products keep their
    transparency; a product mask, when given, is used as the paste mask."""
    from PIL import Image

    photo = _open_image(inputs["source"][0][0]).convert("RGB")
    product_data = inputs.get("product") or []
    if not product_data:
        raise EngineError("INPUT_MAIN_IMAGE_EMPTY", "no product image")
    product = _open_image(product_data[0][0]).convert("RGBA")
    width = max(1, photo.width // 3)
    height = max(1, product.height * width // max(1, product.width))
    product = product.resize((width, height), Image.Resampling.LANCZOS)
    mask = product
    if inputs.get("product_mask"):
        mask = _open_image(inputs["product_mask"][0][0]).convert("L").resize((width, height))
    location = params.get("earring_wearing_location")
    if location:
        x, y = location[0] - width // 2, location[1] - height // 2
    else:
        x, y = (photo.width - width) // 2, (photo.height - height) // 2
    photo.paste(product, (x, y), mask if mask.mode in ("L", "RGBA") else None)
    return [_encode(photo, "image/jpeg")]


PRODUCERS: dict[str, Producer] = {"scale": scale, "copy": copy, "compose": compose}


def _merge_engines() -> None:
    """Producers of the feature groups live beside their checks in
    ycecli.sandbox.engines; one table serves them all."""
    from ycecli.sandbox.engines import PRODUCERS as GROUP_PRODUCERS

    PRODUCERS.update(GROUP_PRODUCERS)


_merge_engines()
