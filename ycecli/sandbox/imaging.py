"""Picture helpers the sandbox's engines share: decode an input (a broken one is the
engine's "error_decode_image"), encode a result, and derive a colour from a style id.

Pillow is imported where it is used, as everywhere in yce.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from ycecli.sandbox.model import EngineError, Output


def open_image(data: bytes):
    """The decoded picture, fully loaded; EngineError when it does not decode."""
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        img.load()
        return img
    except (UnidentifiedImageError, OSError) as exc:
        raise EngineError("error_decode_image", f"cannot decode source image: {exc}") from None


def open_rgb(data: bytes):
    """The decoded picture in RGB."""
    return open_image(data).convert("RGB")


def encode(img, content_type: str) -> tuple[bytes, str]:
    """A PNG when the input was one, a JPEG (quality 90) otherwise."""
    out = io.BytesIO()
    if content_type == "image/png":
        img.save(out, format="PNG")
    else:
        img.convert("RGB").save(out, format="JPEG", quality=90)
        content_type = "image/jpeg"
    return out.getvalue(), content_type


def png_bytes(img) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def png(img) -> Output:
    """The picture as a PNG result (keeps an alpha channel or a greyscale mask)."""
    return Output(png_bytes(img), "image/png")


def style_color(key: Any) -> tuple[int, int, int]:
    """A saturated colour that depends only on `key` (a style id)."""
    digest = hashlib.sha256(str(key).encode()).digest()
    channels = [64 + digest[i] % 192 for i in range(3)]
    channels[digest[3] % 3] = 255  # always vivid: clearly painted, not photographed
    return channels[0], channels[1], channels[2]
