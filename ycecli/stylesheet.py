"""Style sheets: a feature's styles as one picture, each style's thumbnail with its id
and name under it, so a style is picked by looking rather than guessed from an id.

Thumbnails are public storage URLs (003:3201's `thumb`): fetched without the API's
credentials, a few at a time, each with its own timeout, and kept in the cache dir
keyed by URL, so the next sheet of the same styles costs no download. A thumbnail
that cannot be had becomes a grey tile that says why; the sheet is still written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ycecli.files import write_atomic

if TYPE_CHECKING:
    import requests
    from PIL.Image import Image

THUMB_WORKERS = 4  # polite to the storage host, and enough to hide latency
THUMB_TIMEOUT = 10.0  # seconds per thumbnail, connect and read
MAX_THUMB_BYTES = 5_000_000  # a thumbnail; anything larger is not one
SHEET_TILE = 200


@dataclass(frozen=True)
class StyleEntry:
    id: int
    title: str
    thumb: str | None


def entries_from(items: Iterable[dict]) -> list[StyleEntry]:
    """Styles as the v1.0 (`id`) and v1.1 (`style_id`) lists give them, each once."""
    seen: set[int] = set()
    entries = []
    for item in items:
        style_id = item.get("id", item.get("style_id"))
        if style_id is None or int(style_id) in seen:
            continue
        seen.add(int(style_id))
        info = item.get("info") or {}
        entries.append(StyleEntry(int(style_id), str(info.get("title") or ""), info.get("thumb")))
    return entries


def cache_path(cache_dir: Path, url: str) -> Path:
    """Where a thumbnail is kept: keyed by its URL without the query, which for a
    presigned URL is a signature that changes on every listing."""
    parts = urlsplit(url)
    key = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return Path(cache_dir) / "thumbs" / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".img")


class ThumbnailUnavailable(Exception):
    """Why a thumbnail could not be had, in words fit for its placeholder tile."""


def fetch_thumbnail(
    session: requests.Session, url: str, cache_dir: Path, timeout: float = THUMB_TIMEOUT
) -> Path:
    """The thumbnail at `url`, from the cache or downloaded into it."""
    import requests
    from PIL import Image, UnidentifiedImageError

    path = cache_path(cache_dir, url)
    if path.is_file():
        return path
    if urlsplit(url).scheme not in ("http", "https"):
        raise ThumbnailUnavailable(f"not a web address: {url[:60]}")
    try:
        # A plain GET: storage URLs take no Authorization header (S3 refuses one).
        with session.get(url, timeout=(timeout, timeout), stream=True) as resp:
            if resp.status_code != 200:
                raise ThumbnailUnavailable(f"HTTP {resp.status_code} from the storage host")
            data = resp.raw.read(MAX_THUMB_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        reason = "timed out" if isinstance(exc, requests.Timeout) else "network error"
        raise ThumbnailUnavailable(reason) from None
    if len(data) > MAX_THUMB_BYTES:
        raise ThumbnailUnavailable("larger than a thumbnail can be")
    try:
        import io

        with Image.open(io.BytesIO(data)) as img:
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ThumbnailUnavailable("not a picture") from None
    return write_atomic(path, data)


def fetch_all(
    session: requests.Session,
    entries: list[StyleEntry],
    cache_dir: Path,
    *,
    workers: int = THUMB_WORKERS,
    timeout: float = THUMB_TIMEOUT,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[int, Path | str]:
    """style id -> the cached thumbnail, or the reason it is missing."""
    results: dict[int, Path | str] = {}

    def one(entry: StyleEntry) -> tuple[int, Path | str]:
        if not entry.thumb:
            return entry.id, "no thumbnail in the style list"
        try:
            return entry.id, fetch_thumbnail(session, entry.thumb, cache_dir, timeout)
        except ThumbnailUnavailable as exc:
            return entry.id, str(exc)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for style_id, outcome in pool.map(one, entries):
            results[style_id] = outcome
            if on_progress:
                on_progress(len(results), len(entries))
    return results


def draw_sheet(entries: list[StyleEntry], thumbs: dict[int, Path | str], title: str) -> Image:
    """The contact sheet: each style's thumbnail with its id and name under it."""
    from PIL import Image

    from ycecli import pictures

    tiles = []
    for entry in entries:
        found = thumbs.get(entry.id, "not fetched")
        lines = [str(entry.id), entry.title or "(no name)"]
        if isinstance(found, Path):
            try:
                with Image.open(found) as img:
                    tiles.append(pictures.Tile(img.convert("RGB"), lines))
                continue
            except OSError:
                found = "the cached picture is damaged"
        tiles.append(pictures.Tile(None, lines, missing=f"no thumbnail: {found}"))
    columns = min(len(tiles), 6) or 1
    return pictures.contact_sheet(tiles, side=SHEET_TILE, columns=columns, title=title)


def remember_names(path: Path, entries: list[StyleEntry]) -> None:
    """Style id -> name beside the style-group cache, for completions to offer."""
    from ycecli.config import write_private_file

    try:
        names = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(names, dict):
            names = {}
    except (OSError, ValueError):
        names = {}
    names.update({str(entry.id): entry.title for entry in entries if entry.title})
    write_private_file(path, json.dumps(names, ensure_ascii=False).encode())
