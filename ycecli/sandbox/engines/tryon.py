"""The sandbox's engine for the try-on features (ycecli.features.tryon): the product
pasted onto the photo. See ycecli.sandbox.model for the Producer contract."""

from __future__ import annotations

from ycecli.sandbox.imaging import encode, open_image, open_rgb
from ycecli.sandbox.model import Check, EngineError, Producer, Rules


def compose(inputs, params) -> list[tuple[bytes, str]]:
    """Try-on: the product pasted onto the photo, a third of its width, at the given
    location (earring) or the middle (ring). Transparent PNG products keep their
    transparency; a product mask, when given, is used as the paste mask."""
    from PIL import Image

    photo = open_rgb(inputs["source"][0][0])
    product_data = inputs.get("product") or []
    if not product_data:
        raise EngineError("INPUT_MAIN_IMAGE_EMPTY", "no product image")
    product = open_image(product_data[0][0]).convert("RGBA")
    width = max(1, photo.width // 3)
    height = max(1, product.height * width // max(1, product.width))
    product = product.resize((width, height), Image.Resampling.LANCZOS)
    mask = product
    if inputs.get("product_mask"):
        mask = open_image(inputs["product_mask"][0][0]).convert("L").resize((width, height))
    location = params.get("earring_wearing_location")
    if location:
        x, y = location[0] - width // 2, location[1] - height // 2
    else:
        x, y = (photo.width - width) // 2, (photo.height - height) // 2
    photo.paste(product, (x, y), mask if mask.mode in ("L", "RGBA") else None)
    return [encode(photo, "image/jpeg")]


PRODUCERS: dict[str, Producer] = {"compose": compose}
CHECKS: dict[str, Check] = {}
RULES: dict[str, Rules] = {}
