"""Style sheets: every style's thumbnail with its id and name, fetched politely and
cached, so a style is chosen by looking at it."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from PIL import Image

from tests.conftest import run_cli
from ycecli.pictures import PLACEHOLDER
from ycecli.sandbox.server import Fault
from ycecli.sandbox.styles import CATALOG
from ycecli.stylesheet import SHEET_TILE, StyleEntry, fetch_all

HAIR = CATALOG.feature("hair-style")
EVERY_HAIR_STYLE = [style for group in HAIR.groups for style in group.styles]


def tile_centres(sheet: Image.Image, count: int, columns: int = 6):
    """Centre pixel of each tile's picture, counted from the bottom of the sheet (the
    title above the grid is the sheet's only other content)."""
    pad = max(6, SHEET_TILE // 20)
    cell_w = SHEET_TILE + 2 * pad
    rows = -(-count // columns)
    cell_h = (sheet.height - pad - _top(sheet, rows, pad)) // rows
    top = sheet.height - pad - rows * cell_h
    return [
        sheet.getpixel(
            (
                (i % columns) * cell_w + pad + SHEET_TILE // 2,
                top + (i // columns) * cell_h + pad + SHEET_TILE // 2,
            )
        )
        for i in range(count)
    ]


def _top(sheet, rows, pad):
    # The grid fills the sheet below the title; each cell is the tile, its padding
    # and two caption lines.
    from ycecli.pictures import font, text_size

    line_h = text_size("Agj", font(SHEET_TILE / 11))[1] + pad // 2
    return sheet.height - pad - rows * (SHEET_TILE + 2 * pad + 2 * line_h)


def is_white(pixel) -> bool:
    return min(pixel) > 245


def test_sheet_of_every_style_with_thumbnails_cached_for_the_next_run(sandbox_env, tmp_path):
    sheet_path = tmp_path / "styles.png"
    result = run_cli("styles", "list", "hair-style", "--sheet", str(sheet_path))
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [str(sheet_path)]
    count = len(EVERY_HAIR_STYLE)
    with Image.open(sheet_path) as sheet:
        sheet = sheet.convert("RGB")
        pad = max(6, SHEET_TILE // 20)
        assert sheet.width == 6 * (SHEET_TILE + 2 * pad)  # six styles to a row
        centres = tile_centres(sheet, count)
    # Every tile holds its thumbnail (the sandbox draws a skin-coloured head).
    assert all(not is_white(p) and p != PLACEHOLDER for p in centres), centres
    cached = list((Path.home() / ".cache" / "yce" / "thumbs").iterdir())
    assert len(cached) == count
    # Names kept beside the style cache, for completions.
    [names_file] = (Path.home() / ".cache" / "yce" / "styles").glob("*-hair-style.names.json")
    names = json.loads(names_file.read_text())
    assert names[str(EVERY_HAIR_STYLE[0].id)] == EVERY_HAIR_STYLE[0].title
    # zsh offers each id with its name beside it.
    offered = run_cli("completion", "words", "style-names", "hair-style").stdout.splitlines()
    assert f"{EVERY_HAIR_STYLE[0].id}:{EVERY_HAIR_STYLE[0].title}" in offered
    assert len(offered) == count

    # The next sheet needs no thumbnail from the network: storage is failing, and the
    # sheet comes out the same.
    sandbox_env.inject(Fault("status", path="/storage/thumbs", status=503, count=1000))
    again = tmp_path / "again.png"
    result = run_cli("styles", "list", "hair-style", "--sheet", str(again))
    assert result.code == 0, result.stderr
    assert "unavailable" not in result.stderr
    with Image.open(again) as img, Image.open(sheet_path) as first:
        assert img.convert("RGB").tobytes() == first.convert("RGB").tobytes()


def test_a_thumbnail_that_fails_becomes_a_tile_that_says_so(sandbox_env, tmp_path):
    sandbox_env.inject(Fault("status", path="/storage/thumbs", status=503, count=1000))
    sheet_path = tmp_path / "styles.jpg"
    group = HAIR.groups[1]
    result = run_cli(
        "styles", "list", "hair-style", "--group", str(group.id), "--sheet", str(sheet_path)
    )
    assert result.code == 0, result.stderr
    assert f"{len(group.styles)} thumbnail(s) unavailable" in result.stderr
    with Image.open(sheet_path) as sheet:
        assert sheet.format == "JPEG"
        centres = tile_centres(sheet.convert("RGB"), len(group.styles))
    # Grey placeholders with the reason written on them, not white holes.
    assert all(abs(p[0] - PLACEHOLDER[0]) < 12 for p in centres), centres


def test_show_writes_one_style_and_names_it(sandbox_env, tmp_path):
    style = HAIR.groups[0].styles[2]
    result = run_cli("styles", "show", "hair-style", str(style.id))
    assert result.code == 0, result.stderr
    picture = Path(f"hair-style_{style.id}.jpg")
    assert result.stdout.splitlines() == [
        str(picture),
        f"{style.id}  {style.title}  (group {HAIR.groups[0].id})",
    ]
    with Image.open(picture) as img:
        assert SHEET_TILE <= img.width < 2 * SHEET_TILE
    # yce never replaces a file unasked.
    again = run_cli("styles", "show", "hair-style", str(style.id))
    assert again.code == 4 and "already exists" in again.stderr


def test_bad_sheet_names_and_unknown_styles_are_refused_before_any_request(sandbox_env):
    result = run_cli("styles", "list", "hair-style", "--sheet", "styles.gif")
    assert result.code == 4 and ".jpg or .png" in result.stderr
    assert not Path("styles.gif").exists()
    result = run_cli("styles", "show", "hair-style", "12345")
    assert result.code == 4 and "not in the style lists" in result.stderr


class SlowSession:
    """Answers every GET after a pause, counting how many are in flight at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = self.most = 0
        self.timeouts: list = []

    def get(self, url, timeout=None, stream=False):
        import io

        from PIL import Image as PILImage

        self.timeouts.append(timeout)
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        time.sleep(0.05)
        with self.lock:
            self.active -= 1
        data = io.BytesIO()
        PILImage.new("RGB", (8, 8), (1, 2, 3)).save(data, format="PNG")
        return _Reply(data.getvalue())


class _Reply:
    status_code = 200

    def __init__(self, data: bytes) -> None:
        import io

        self.raw = _Raw(io.BytesIO(data))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Raw:
    def __init__(self, stream) -> None:
        self.stream = stream

    def read(self, n, decode_content=True):
        return self.stream.read(n)


def test_thumbnails_are_fetched_a_few_at_a_time_each_with_a_timeout(tmp_path):
    session = SlowSession()
    entries = [StyleEntry(i, f"s{i}", f"https://cdn.example/{i}.jpg?sig={i}") for i in range(12)]
    found = fetch_all(session, entries, tmp_path, workers=3, timeout=7.0)
    assert all(isinstance(found[e.id], Path) for e in entries)
    assert session.most <= 3 and len(session.timeouts) == 12
    assert all(t == (7.0, 7.0) for t in session.timeouts)
    # The signature in the query does not defeat the cache.
    resigned = [StyleEntry(e.id, e.title, e.thumb.replace("sig=", "sig=x")) for e in entries]
    fetch_all(session, resigned, tmp_path)
    assert len(session.timeouts) == 12
