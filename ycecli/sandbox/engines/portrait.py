"""The sandbox's engine for the portrait features (ycecli.features.portrait): producers
of (clearly not AI) results and cross-field checks of run bodies. See
ycecli.sandbox.model for the Producer and Check contracts.

The sandbox's "faces" are a pure function of the image's size, so tests can choose
them: one face in the middle, or two side by side when the image is more than twice
as wide as it is high. Detection and swap agree on them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ycecli.sandbox.imaging import encode, open_image, open_rgb
from ycecli.sandbox.model import Check, EngineError, Output, Producer, Rules, SandboxError


def face_boxes(width: int, height: int) -> list[list[int]]:
    """[x, y, w, h] of each sandbox face, left to right."""
    count = 2 if width > 2 * height else 1
    strip = width // count
    side = max(1, min(strip, height) // 2)
    return [
        [i * strip + (strip - side) // 2, (height - side) // 2, side, side] for i in range(count)
    ]


def face_detect(inputs, params) -> list:
    """face-swap/pre-process: the target in grey with its faces framed, and the faces
    as 003's sample gives them: {"bbox": [[x, y, w, h]]}."""
    from PIL import ImageDraw, ImageOps

    img = open_image(inputs["source"][0][0])
    boxes = face_boxes(*img.size)
    marked = ImageOps.grayscale(img).convert("RGB")
    draw = ImageDraw.Draw(marked)
    for x, y, w, h in boxes:
        draw.rectangle((x, y, x + w - 1, y + h - 1), outline=(255, 0, 0))
    data, content_type = encode(marked, "image/jpeg")
    return [Output(data, content_type, fields={"faces": [{"bbox": [box]} for box in boxes]})]


def face_swap(inputs, params) -> list:
    """Each mapped reference, resized to its face's box, pasted onto the target."""
    from PIL import Image

    target = open_rgb(inputs["source"][0][0])
    refs = [open_rgb(data) for data, _ in inputs.get("ref") or []]
    boxes = face_boxes(*target.size)
    for entry in params.get("face_mapping") or []:
        index, position = entry["index"], entry["position"]
        if position >= len(boxes):
            raise EngineError(
                "invalid_parameter",
                f"face_mapping position {position}: the target has {len(boxes)} face(s)",
            )
        x, y, w, h = boxes[position]
        face = refs[index].resize((w, h), Image.Resampling.LANCZOS)
        target.paste(face, (x, y))
    return [encode(target, "image/jpeg")]


def makeup(inputs, params) -> list:
    """The face photo with the reference image laid over it at 35 %."""
    from PIL import Image

    source = open_rgb(inputs["source"][0][0])
    look = open_rgb(inputs["ref"][0][0]).resize(source.size)
    return [encode(Image.blend(source, look, 0.35), "image/jpeg")]


def _tint(style_id: int) -> tuple[int, int, int]:
    digest = hashlib.sha256(str(style_id).encode()).digest()
    return (128 + digest[0] // 2, 128 + digest[1] // 2, 128 + digest[2] // 2)


def _style_images(max_width: int, max_height: int) -> Callable[..., list]:
    """`output_count` images: the photo in grey, tinted by its style (the styles in
    turn), each a little darker than the last, fitted into the output limit."""

    def produce(inputs, params) -> list:
        from PIL import ImageOps

        img = open_rgb(inputs["source"][0][0])
        img.thumbnail((max_width, max_height))
        grey = ImageOps.grayscale(img)
        styles = params.get("style_ids") or [0]
        results = []
        for n in range(int(params.get("output_count") or 1)):
            shade = (n * 5) % 100
            tinted = ImageOps.colorize(
                grey, black=(shade, shade, shade), white=_tint(styles[n % len(styles)])
            )
            results.append(encode(tinted, "image/jpeg"))
        return results

    return produce


def check_face_swap(feature, body) -> None:
    """ref_ids is required (003:13863) and face_mapping names real references,
    each face at most once."""
    payload = body["payload"]
    refs = payload["file_sets"].get("ref_ids") or []
    if not refs:
        raise SandboxError(
            400, "payload.file_sets: missing required field(s) ref_ids", "InvalidParameters"
        )
    mapping = payload["actions"][0]["params"]["face_mapping"]
    if not mapping:
        raise SandboxError(400, "face_mapping must not be empty", "InvalidParameters")
    positions = []
    for entry in mapping:
        if not isinstance(entry, dict) or set(entry) != {"index", "position"}:
            raise SandboxError(
                400,
                "face_mapping items must be objects with index and position",
                "InvalidParameters",
            )
        index, position = entry["index"], entry["position"]
        for name, value in (("index", index), ("position", position)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SandboxError(
                    400, f"face_mapping {name} must be a non-negative integer", "InvalidParameters"
                )
        if index >= len(refs):
            raise SandboxError(
                400, f"face_mapping index {index}: only {len(refs)} ref_ids", "InvalidParameters"
            )
        positions.append(position)
    if len(set(positions)) != len(positions):
        raise SandboxError(400, "face_mapping repeats a position", "InvalidParameters")


def check_style_count(feature, body) -> None:
    """ "The number of styles must be less than or equal to the output_count" (003:14625)."""
    payload = body["payload"]
    styles = payload["actions"][0]["params"]["style_ids"]
    count = payload["custom"]["output_count"]
    if len(styles) > count:
        raise SandboxError(
            400,
            f"style_ids has {len(styles)} items, more than custom.output_count {count}",
            "InvalidParameters",
        )


PRODUCERS: dict[str, Producer] = {
    "portrait_makeup": makeup,
    "portrait_face_detect": face_detect,
    "portrait_face_swap": face_swap,
    # 003:394 and 003:14113: output long side <= 1024; 003:15619: at most 960x1280 (WxH).
    "portrait_headshot": _style_images(1024, 1024),
    "portrait_avatar": _style_images(1024, 1024),
    "portrait_studio": _style_images(960, 1280),
}
CHECKS: dict[str, Check] = {
    "portrait_face_swap": check_face_swap,
    "portrait_style_count": check_style_count,
}
RULES: dict[str, Rules] = {}
