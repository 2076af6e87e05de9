"""Pictures made for people to look at: contact sheets of captioned tiles, photos with
numbered boxes. Pillow only; text uses Pillow's own scalable font, so nothing is
downloaded and the text is sized to the picture it goes on."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image
    from PIL.ImageDraw import ImageDraw
    from PIL.ImageFont import FreeTypeFont, ImageFont

from ycecli.files import atomic_file

INK = (20, 20, 20)
PAPER = (255, 255, 255)
MUTED = (110, 110, 110)
PLACEHOLDER = (225, 225, 225)
# Colours a box and its number can be told apart by, on skin, hair and backgrounds.
MARKERS = (
    (230, 25, 75),
    (60, 180, 75),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
)


def font(size: float) -> FreeTypeFont | ImageFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=max(8, int(size)))


def text_size(text: str, face: FreeTypeFont | ImageFont) -> tuple[int, int]:
    from PIL import Image, ImageDraw

    left, top, right, bottom = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox(
        (0, 0), text, font=face
    )
    # Whole pixels for Pillow's fonts, though typed as float.
    return int(right - left), int(bottom - top)


def fit_text(text: str, face: FreeTypeFont | ImageFont, width: int) -> str:
    """`text`, cut with an ellipsis so it fits `width` pixels."""
    if text_size(text, face)[0] <= width:
        return text
    while text and text_size(text + "…", face)[0] > width:
        text = text[:-1]
    return text + "…"


def save_atomic(img: Image, dest: Path, fmt: str | None = None) -> Path:
    """Write beside the target and rename, so a reader never sees half a picture."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fmt = fmt or {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(dest.suffix.lower(), "PNG")
    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    with atomic_file(dest) as out:
        img.save(out, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return dest


@dataclass
class Tile:
    """One cell of a contact sheet: a picture (or None, with `missing` saying why)
    and its caption lines, the first in bold ink."""

    image: Image | None
    lines: Sequence[str]
    missing: str = ""


def contact_sheet(
    tiles: Sequence[Tile],
    *,
    side: int = 240,
    columns: int | None = None,
    title: str = "",
    legend: Sequence[tuple[tuple[int, int, int], str]] = (),
) -> Image:
    """A grid of captioned tiles. The font is sized to the tile (readable when the
    sheet is viewed whole); a title and a legend of coloured swatches go on top."""
    from PIL import Image, ImageDraw

    columns = columns or min(len(tiles), max(1, round(math.sqrt(len(tiles) * 1.5)))) or 1
    pad = max(6, side // 20)
    caption_font = font(side / 11)
    line_h = text_size("Agj", caption_font)[1] + pad // 2
    lines = max((len(tile.lines) for tile in tiles), default=0)
    cell_w, cell_h = side + 2 * pad, side + 2 * pad + lines * line_h
    width = columns * cell_w
    title_font = font(side / 7)
    top = 0
    if title:
        top += text_size(title, title_font)[1] + 2 * pad
    legend_font = caption_font
    legend_rows = _legend_rows(legend, legend_font, width - 2 * pad, pad)
    top += len(legend_rows) * line_h + (pad if legend_rows else 0)
    rows = math.ceil(len(tiles) / columns) if tiles else 0
    sheet = Image.new("RGB", (width, top + rows * cell_h + pad), PAPER)
    draw = ImageDraw.Draw(sheet)
    y = pad
    if title:
        draw.text((pad, y), fit_text(title, title_font, width - 2 * pad), fill=INK, font=title_font)
        y += text_size(title, title_font)[1] + pad
    swatch = line_h - pad // 2
    for row in legend_rows:
        x = pad
        for colour, text in row:
            draw.rectangle((x, y, x + swatch, y + swatch), fill=colour)
            draw.text((x + swatch + pad // 2, y), text, fill=INK, font=legend_font)
            x += swatch + pad // 2 + text_size(text, legend_font)[0] + 2 * pad
        y += line_h
    for index, tile in enumerate(tiles):
        x0 = (index % columns) * cell_w + pad
        y0 = top + (index // columns) * cell_h + pad
        if tile.image is None:
            draw.rectangle((x0, y0, x0 + side - 1, y0 + side - 1), fill=PLACEHOLDER)
            _wrap_into(draw, tile.missing or "no picture", (x0, y0, side), caption_font, pad)
        else:
            thumb = tile.image.convert("RGB")
            thumb.thumbnail((side, side))
            sheet.paste(thumb, (x0 + (side - thumb.width) // 2, y0 + (side - thumb.height) // 2))
        for number, line in enumerate(tile.lines):
            colour = INK if number == 0 else MUTED
            text = fit_text(str(line), caption_font, side)
            draw.text(
                (x0, y0 + side + pad // 2 + number * line_h), text, fill=colour, font=caption_font
            )
    return sheet


def _legend_rows(
    legend: Sequence[tuple[tuple[int, int, int], str]],
    face: FreeTypeFont | ImageFont,
    width: int,
    pad: int,
) -> list[list[tuple[tuple[int, int, int], str]]]:
    rows: list[list[tuple[tuple[int, int, int], str]]] = []
    used = width + 1
    for colour, text in legend:
        need = text_size(text, face)[1] + text_size(text, face)[0] + 3 * pad
        if used + need > width:
            rows.append([])
            used = 0
        rows[-1].append((colour, text))
        used += need
    return rows


def _wrap_into(
    draw: ImageDraw,
    text: str,
    box: tuple[int, int, int],
    face: FreeTypeFont | ImageFont,
    pad: int,
) -> None:
    """Words of `text` wrapped inside a square tile, from its top-left corner."""
    x0, y0, side = box
    line_h = text_size("Agj", face)[1] + pad // 2
    words, line, y = text.split(), "", y0 + pad
    for word in words:
        candidate = f"{line} {word}".strip()
        if text_size(candidate, face)[0] > side - 2 * pad and line:
            draw.text((x0 + pad, y), line, fill=INK, font=face)
            y += line_h
            line = word
        else:
            line = candidate
        if y > y0 + side - line_h:
            return
    if line:
        draw.text((x0 + pad, y), fit_text(line, face, side - 2 * pad), fill=INK, font=face)


def numbered_boxes(
    photo: Image, boxes: Sequence[Sequence[float]], *, long_side: int = 1200
) -> Image:
    """The photo, scaled so its longer side is about `long_side`, with each box
    [x, y, w, h] framed in its own colour and its index written in a filled tag."""
    from PIL import ImageDraw

    img = photo.convert("RGB")
    scale = long_side / max(img.size)
    if abs(scale - 1) > 0.05:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    else:
        scale = 1.0
    draw = ImageDraw.Draw(img)
    stroke = max(2, round(max(img.size) / 250))
    tag_font = font(max(img.size) / 22)
    for index, box in enumerate(boxes):
        x, y, w, h = (float(v) * scale for v in box[:4])
        colour = MARKERS[index % len(MARKERS)]
        draw.rectangle((x, y, x + w, y + h), outline=colour, width=stroke)
        label = str(index)
        tw, th = text_size(label, tag_font)
        pad = max(3, th // 4)
        tag_x = min(max(0, x), img.width - tw - 2 * pad)
        tag_y = y - th - 2 * pad if y - th - 2 * pad >= 0 else y
        draw.rectangle((tag_x, tag_y, tag_x + tw + 2 * pad, tag_y + th + 2 * pad), fill=colour)
        draw.text((tag_x + pad, tag_y + pad), label, fill=PAPER, font=tag_font, anchor="lt")
    return img
