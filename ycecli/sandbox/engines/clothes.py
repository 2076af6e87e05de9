"""The sandbox's engine for the clothes features (ycecli.features.clothes): producers
of (clearly not AI) results, the cross-field check of run bodies and the garment-mode
input rules. See ycecli.sandbox.model for the Producer, Check and Rules contracts.

Results: clothes paste the garment image on the lower half (or paint a band for a
predefined style); fabric lays a striped texture over the lower half.
"""

from __future__ import annotations

from ycecli.features.clothes import GARMENT_MODE_RULES
from ycecli.sandbox.imaging import encode, open_rgb, style_color
from ycecli.sandbox.model import Check, Producer, Rules, SandboxError


def clothes_paste(inputs, params) -> list:
    """Garment mode: the garment image fitted into the lower half of the photo.
    Style mode: a band across the lower half, in the style's colour."""
    from PIL import Image, ImageDraw

    data, content_type = inputs["source"][0]
    img = open_rgb(data)
    width, height = img.size
    top = height // 2
    garments = inputs.get("garment") or []
    if garments:
        garment = open_rgb(garments[0][0])
        garment.thumbnail((width, height - top), Image.Resampling.LANCZOS)
        img.paste(garment, ((width - garment.width) // 2, top))
    else:
        style = (params.get("style_ids") or [0])[0]
        ImageDraw.Draw(img).rectangle(
            (0, top, width, top + max(1, height // 6)), fill=style_color(style)
        )
    return [encode(img, content_type)]


def check_cloth(feature, body) -> None:
    """003:6920-6933: ref_ids needs garment_category; without ref_ids, style_group_id
    and style_ids are required. Both modes at once (as the seed's sample, 003:6980)
    has no documented outcome, so the sandbox refuses it: yce must never rely on it."""
    payload = body["payload"]
    params = payload["actions"][0].get("params") or {}
    has_ref = bool(payload.get("file_sets", {}).get("ref_ids"))
    has_style = "style_ids" in params or "style_group_id" in params
    if has_ref and has_style:
        raise SandboxError(
            400,
            "params: a style and ref_ids together have no documented meaning",
            "InvalidParameters",
        )
    if has_ref and "garment_category" not in params:
        raise SandboxError(
            400, "params.garment_category is required with ref_ids", "InvalidParameters"
        )
    if not has_ref:
        for key in ("style_group_id", "style_ids"):
            if key not in params:
                raise SandboxError(
                    400, f"params.{key} is required without ref_ids", "InvalidParameters"
                )


def cloth_mode(feature, payload) -> dict:
    """With a garment (ref_ids), the person's photo too must be at least 512x384
    (003:6438); the garment's own rules always say so."""
    if payload.get("file_sets", {}).get("ref_ids"):
        return {"source": GARMENT_MODE_RULES}
    return {}


def fabric_texture(inputs, params) -> list:
    """Diagonal stripes in the style's colour, half blended over the lower half."""
    from PIL import Image, ImageDraw

    data, content_type = inputs["source"][0]
    img = open_rgb(data)
    width, height = img.size
    top = height // 2
    style = (params.get("style_ids") or [0])[0]
    texture = Image.new("RGB", (width, height - top), (255, 255, 255))
    draw = ImageDraw.Draw(texture)
    step = max(4, width // 16)
    for x in range(-texture.height, width, step):
        draw.line(
            (x, 0, x + texture.height, texture.height), fill=style_color(style), width=step // 2
        )
    lower = img.crop((0, top, width, height))
    img.paste(Image.blend(lower, texture, 0.5), (0, top))
    return [encode(img, content_type)]


PRODUCERS: dict[str, Producer] = {
    "clothes_paste": clothes_paste,
    "fabric_texture": fabric_texture,
}
CHECKS: dict[str, Check] = {"cloth": check_cloth}
RULES: dict[str, Rules] = {"cloth_mode": cloth_mode}
