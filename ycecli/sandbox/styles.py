"""The sandbox's style lists: a fixed catalog per feature and the three list endpoints.

Every id (group, style, category, page token) is odd and above 2**54. No float64 can
hold such a number, so a client that lets an id pass through a float sends back a
different id, and the sandbox refuses it as unknown instead of letting the bug hide.
The catalog is derived from hashes of the names, so it is the same in every run and
in every process.

This module knows nothing of HTTP or of the rest of the sandbox: each query comes in
parsed the way `urllib.parse.parse_qs` parses it (name -> list of strings), each reply
goes out as the JSON-able body, and each refusal is a StyleQueryError for the style
endpoints (ycecli.sandbox.state) to turn into a 400. The request checks
(ycecli.sandbox.checks) ask it whether a run body's style ids exist.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

MAX_PAGE_SIZE = 20  # 003 1.14.5: "Valid value should be between 1 and 20. Default 20."
MAX_CATEGORY_IDS = 5  # 003 1.14.5(c): "up to a maximum of 5"
THUMB_BASE = "https://example.com/yce-sandbox/styles"


class StyleQueryError(Exception):
    """A style-list request the API would refuse with 400 "Invalid request parameters"."""

    status = 400
    error_code = "InvalidParameters"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Group titles and style titles per feature. The first group of each feature holds more
# than MAX_PAGE_SIZE styles, so that even the default page size needs a second page.
# fmt: off
_SOURCE: dict[str, dict[str, list[str]]] = {
    # Part 1 (003 1.14.5): the hair, clothes and fabric features.
    "hair-style": {
        "Female": [
            "Long Wave", "Bob", "Pixie Cut", "Layered Shag", "French Bob", "Beach Waves",
            "Sleek Straight", "High Ponytail", "Messy Bun", "Braided Crown", "Wolf Cut",
            "Butterfly Cut", "Blunt Lob", "Curly Afro", "Curtain Bangs Lob", "Side Swept",
            "Half Up Half Down", "Hollywood Waves", "Shoulder Length Layers", "Box Braids",
            "Space Buns",
        ],
        "Male": [
            "Buzz Cut", "Crew Cut", "Undercut", "Pompadour", "Quiff", "Side Part",
            "Slick Back",
        ],
    },
    "hair-ext": {
        "Straight": [
            "Waist Length Straight", "Mid Back Straight", "Shoulder Straight", "Sleek Long",
            "Straight With Face Frame", "Straight Center Part", "Straight Side Part",
            "Glass Hair", "Long Layers", "Feathered Ends", "Blunt Long", "V Cut",
            "U Cut", "Straight Fringe", "Soft Layers", "Long Curtain", "Tapered Ends",
            "Straight Mermaid", "Silky Long", "Extra Long Straight", "Chest Length",
        ],
        "Wavy": ["Loose Wave Long", "Boho Waves", "S Wave", "Body Wave"],
        "Curly": ["Spiral Curls", "Ringlets", "Deep Curl"],
    },
    "hair-bang": {
        "Straight Bangs": [
            "Blunt Bangs", "Wispy Bangs", "Baby Bangs", "Choppy Bangs", "Micro Fringe",
            "Thick Fringe", "Arched Bangs", "Eyebrow Bangs", "Long Blunt Bangs",
            "Feathered Bangs", "Soft Fringe", "Textured Fringe", "Heavy Fringe",
            "Short Straight Bangs", "Brow Skimming Bangs", "Full Fringe", "Rounded Bangs",
            "Airy Bangs", "Piecey Bangs", "Bardot Bangs", "Sleek Fringe",
        ],
        "Curtain Bangs": ["Classic Curtain", "Long Curtain Bangs", "Bottleneck Bangs"],
        "Side Swept": ["Side Swept Bangs", "Asymmetric Bangs", "Long Side Fringe"],
    },
    "hair-vol": {
        "Root Lift": [
            "Light Lift", "Medium Lift", "Full Lift", "Crown Volume", "Top Volume",
            "Blowout Volume", "Bouncy Roots", "Lifted Part", "Airy Roots", "Teased Crown",
            "Soft Lift", "Volume Boost", "Lifted Fringe", "Round Brush Volume",
            "Salon Blowout", "Natural Lift", "High Crown", "Voluminous Layers",
            "Fluffy Top", "Big Hair", "Supermodel Volume",
        ],
        "Full Body": ["Thick Lengths", "Dense Ends", "Full Body Waves", "Plump Layers"],
    },
    "hair-curl": {
        "Loose Waves": [
            "Soft Waves", "Beach Waves", "Mermaid Waves", "Vintage Waves", "Brushed Out Curls",
            "Flat Iron Waves", "Loose Barrel Curls", "Glam Waves", "Boho Waves",
            "Undone Waves", "Bend Waves", "Ribbon Waves", "Romantic Waves",
            "Retro Finger Waves", "S Waves", "Tousled Waves", "Ends Only Waves",
            "Big Bouncy Waves", "Cascading Waves", "Effortless Waves", "Hollywood Glam",
        ],
        "Tight Curls": ["Corkscrew Curls", "Spiral Curls", "Coily", "Ringlet Curls"],
    },
    "cloth": {
        "Casual": [
            "Denim Jacket", "White T-Shirt", "Hoodie", "Striped Sweater", "Flannel Shirt",
            "Cardigan", "Polo Shirt", "Graphic Tee", "Bomber Jacket", "Crop Top",
            "Oversized Sweater", "Henley", "Tank Top", "Windbreaker", "Sweatshirt",
            "Overalls", "Linen Shirt", "Knit Vest", "Rugby Shirt", "Fleece Jacket",
            "Track Jacket",
        ],
        "Formal": ["Navy Suit", "Little Black Dress", "Tuxedo", "Blazer", "Evening Gown"],
        "Traditional": ["Kimono", "Hanbok", "Sari", "Qipao"],
    },
    "fabric": {
        "Natural Fibers": [
            "Cotton", "Linen", "Silk", "Wool", "Cashmere", "Hemp", "Bamboo", "Jute",
            "Mohair", "Alpaca", "Angora", "Merino", "Raw Silk", "Organic Cotton",
            "Seersucker", "Muslin", "Chambray", "Poplin", "Oxford Cloth", "Tweed",
            "Corduroy",
        ],
        "Patterns": ["Houndstooth", "Plaid", "Polka Dot", "Paisley", "Floral Print"],
    },
    # Part 2 (003 1.6): the generators and the video style transfer.
    "text-to-image": {
        "Cartoon": [
            "1980s", "Comic Book", "Pixar Style", "Anime", "Chibi", "Claymation",
            "Manga", "Pop Art", "Sticker", "Pixel Art", "Vector Flat", "Storybook",
            "Cel Shaded", "Toon Shader", "Watercolor Cartoon", "Doodle", "Kawaii",
            "Retro Cartoon", "Western Comic", "Noir Comic", "Saturday Morning",
        ],
        "Painting": ["Oil Painting", "Watercolor", "Impressionism", "Ukiyo-e"],
        "Photo": ["Cinematic", "Portrait Photo", "Film Grain"],
    },
    "headshot": {
        "Female": [
            "Grey Backdrop", "Office Window", "City Skyline", "Bookshelf", "White Studio",
            "Navy Blazer", "Black Turtleneck", "Outdoor Park", "Soft Daylight",
            "Corporate Classic", "Creative Studio", "Warm Cafe", "Glass Office",
            "Minimal Beige", "Conference Room", "Brick Wall", "Executive Portrait",
            "Smart Casual", "Startup Loft", "Natural Light", "LinkedIn Classic",
        ],
        "Male": ["Grey Suit", "Open Collar", "Dark Studio", "Outdoor Business"],
    },
    "ai-avatar": {
        "Fantasy": [
            "Elf Ranger", "Dark Knight", "Sorceress", "Dragon Rider", "Forest Druid",
            "Paladin", "Ice Queen", "Fire Mage", "Pirate Captain", "Samurai",
            "Viking", "Steampunk Inventor", "Mermaid", "Fairy", "Vampire",
            "Space Explorer", "Cyberpunk", "Wizard", "Valkyrie", "Desert Nomad",
            "Celestial",
        ],
        "Anime": ["Shonen Hero", "Magical Girl", "Mecha Pilot"],
        "Retro": ["1920s Glam", "80s Synthwave", "Renaissance Portrait"],
    },
    "ai-studio": {
        "Studio Portrait": [
            "Rembrandt Light", "Butterfly Light", "Split Light", "Low Key", "High Key",
            "Color Gel", "Beauty Dish", "Soft Box", "Rim Light", "Clamshell",
            "Black Backdrop", "White Backdrop", "Pastel Backdrop", "Textured Canvas",
            "Fashion Editorial", "Magazine Cover", "Film Noir", "Golden Hour Studio",
            "Neon Studio", "Fine Art", "Monochrome",
        ],
        "Outdoor": ["Garden", "Seaside", "Urban Street", "Mountain"],
    },
    "image-to-video": {
        "Motion": [
            "Gentle Smile", "Head Turn", "Wave Hello", "Wind In Hair", "Blink",
            "Slow Zoom", "Dolly In", "Orbit", "Pan Left", "Pan Right", "Tilt Up",
            "Nod", "Laugh", "Look Around", "Hair Flip", "Walk Forward", "Dance",
            "Blow A Kiss", "Thumbs Up", "Clap", "Shrug",
        ],
        "Effects": ["Snowfall", "Petals Falling", "Sparkles", "Fireworks"],
    },
    "video-trans": {
        "Anime": [
            "Anime", "Ghibli Style", "Shonen", "Shojo", "Chibi", "Mecha", "Cyber Anime",
            "Retro Anime", "Pastel Anime", "Dark Anime", "Webtoon", "Manga Ink",
            "Sketch Anime", "Cel Anime", "Neon Anime", "Watercolor Anime",
            "Fantasy Anime", "Sports Anime", "Idol Anime", "Slice Of Life",
            "Mobile Game",
        ],
        "Painting": ["Oil Painting", "Van Gogh", "Ink Wash"],
        "3D": ["Clay", "Toy Figure", "Low Poly"],
    },
}
# fmt: on

STYLE_SLUGS: tuple[str, ...] = tuple(_SOURCE)

_ID_FLOOR = 2**54
_ID_SPAN = 2**56 - 2**54


def _big_id(*parts: object) -> int:
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return (_ID_FLOOR + int.from_bytes(digest[:8], "big") % _ID_SPAN) | 1


def _path_part(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


@dataclass(frozen=True)
class Style:
    id: int
    group_id: int
    title: str
    thumb: str


@dataclass(frozen=True)
class Group:
    id: int
    title: str
    styles: tuple[Style, ...]


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    styles: tuple[Style, ...] = ()
    sub_categories: tuple[Category, ...] = ()


@dataclass(frozen=True)
class FeatureStyles:
    slug: str
    groups: tuple[Group, ...]
    # The v1.1 top level: one single-layer category (styles only) and one multi-layer
    # category whose sub-categories hold the styles.
    categories: tuple[Category, ...]

    def all_categories(self) -> dict[int, Category]:
        found: dict[int, Category] = {}
        pending = list(self.categories)
        while pending:
            category = pending.pop()
            found[category.id] = category
            pending.extend(category.sub_categories)
        return found


def _build_feature(slug: str, source: dict[str, list[str]]) -> FeatureStyles:
    groups = []
    for group_title, style_titles in source.items():
        group_id = _big_id(slug, "group", group_title)
        styles = tuple(
            Style(
                id=_big_id(slug, "style", group_title, title),
                group_id=group_id,
                title=title,
                thumb=f"{THUMB_BASE}/{slug}/{_path_part(group_title)}/{_path_part(title)}.jpg",
            )
            for title in style_titles
        )
        groups.append(Group(group_id, group_title, styles))
    # A few styles from every group, so one category mixes style_group_ids as the
    # v1.1 reply allows.
    trending = tuple(style for group in groups for style in group.styles[:3])
    by_group = tuple(
        Category(_big_id(slug, "category", "by-group", group.title), group.title, group.styles)
        for group in groups
    )
    categories = (
        Category(_big_id(slug, "category", "Trending"), "Trending", styles=trending),
        Category(_big_id(slug, "category", "All Styles"), "All Styles", sub_categories=by_group),
    )
    return FeatureStyles(slug, tuple(groups), categories)


def _only_value(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name) or []
    if len(values) > 1:
        raise StyleQueryError(f"{name} is given {len(values)} times")
    return values[0] if values else None


def _parse_int(text: str, name: str) -> int:
    # Only plain digits: "1.8e16" or "18213963761051864.0" are how a float-mangled id
    # looks on the wire, and the API takes integers.
    if not re.fullmatch(r"[0-9]+", text):
        raise StyleQueryError(f"{name} must be an integer, got {text!r}")
    return int(text)


def _page_size(query: dict[str, list[str]]) -> int:
    text = _only_value(query, "page_size")
    if text is None:
        return MAX_PAGE_SIZE
    value = _parse_int(text, "page_size")
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise StyleQueryError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {value}")
    return value


def _reject_unknown(query: dict[str, list[str]], allowed: set[str]) -> None:
    # A misspelt parameter would otherwise be ignored silently, and the client would
    # never learn that its page_size or group id was not applied.
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise StyleQueryError(f"unknown parameter(s): {', '.join(unknown)}")


class StyleCatalog:
    """Serves the style lists of every feature in STYLE_SLUGS."""

    def __init__(self, source: dict[str, dict[str, list[str]]] | None = None) -> None:
        self.features = {
            slug: _build_feature(slug, groups) for slug, groups in (source or _SOURCE).items()
        }
        self._styles: dict[str, dict[int, Style]] = {
            slug: {style.id: style for group in feature.groups for style in group.styles}
            for slug, feature in self.features.items()
        }
        self._check_ids_are_distinct()

    def _check_ids_are_distinct(self) -> None:
        ids: list[int] = []
        for feature in self.features.values():
            ids += [group.id for group in feature.groups]
            ids += [style.id for group in feature.groups for style in group.styles]
            ids += list(feature.all_categories())
        if len(ids) != len(set(ids)):
            raise RuntimeError("two sandbox style ids collide; change a title")

    def feature(self, slug: str) -> FeatureStyles:
        try:
            return self.features[slug]
        except KeyError:
            raise StyleQueryError(f"{slug} has no style lists") from None

    # -- v1.0: groups, then the styles of one group ------------------------------------

    def _page(self, slug: str, listing: str, items: list, query: dict) -> tuple[list, int | None]:
        """One page of `items` and the token of the next; `listing` names the list
        so a token from one list is refused by another."""
        page_size = _page_size(query)
        start = 0
        token_text = _only_value(query, "starting_token")
        # 003: "Start with `null` for the first page"; whether that means the word or
        # no parameter is not said, so both mean the first page.
        if token_text not in (None, "", "null"):
            token = _parse_int(token_text, "starting_token")
            offsets = {_big_id(slug, "token", listing, n): n for n in range(1, len(items))}
            if token not in offsets:
                raise StyleQueryError(f"invalid starting_token {token_text}")
            start = offsets[token]
        end = start + page_size
        next_token = _big_id(slug, "token", listing, end) if end < len(items) else None
        return items[start:end], next_token

    def groups(self, slug: str, query: dict[str, list[str]]) -> dict:
        feature = self.feature(slug)
        _reject_unknown(query, {"page_size", "starting_token"})
        page, next_token = self._page(slug, "groups", list(feature.groups), query)
        return {
            "status": 200,
            "result": {
                "next_token": next_token,
                "groups": [{"id": group.id, "info": {"title": group.title}} for group in page],
            },
        }

    def styles(self, slug: str, query: dict[str, list[str]]) -> dict:
        feature = self.feature(slug)
        _reject_unknown(query, {"page_size", "starting_token", "style_group_id"})
        group_text = _only_value(query, "style_group_id")
        if group_text in (None, ""):
            raise StyleQueryError("style_group_id is required")
        group_id = _parse_int(group_text, "style_group_id")
        group = next((g for g in feature.groups if g.id == group_id), None)
        if group is None:
            raise StyleQueryError(f"unknown style_group_id {group_id} for {slug}")
        page, next_token = self._page(slug, f"styles/{group.id}", list(group.styles), query)
        return {
            "status": 200,
            "result": {
                "next_token": next_token,
                "styles": [
                    {"id": style.id, "info": {"title": style.title, "thumb": style.thumb}}
                    for style in page
                ],
            },
        }

    # -- v1.1: by category -------------------------------------------------------------

    def by_category(self, slug: str, query: dict[str, list[str]]) -> dict:
        feature = self.feature(slug)
        _reject_unknown(query, {"category_id"})
        texts = query.get("category_id") or []
        if len(texts) > MAX_CATEGORY_IDS:
            raise StyleQueryError(
                f"category_id takes at most {MAX_CATEGORY_IDS} values, got {len(texts)}"
            )
        if not texts:
            chosen = list(feature.categories)
        else:
            known = feature.all_categories()
            chosen = []
            for text in texts:
                # The client sends repeated keys (its comment says why); a comma list
                # fails here as "not an integer", which tells a client author at once.
                category_id = _parse_int(text, "category_id")
                if category_id not in known:
                    raise StyleQueryError(f"unknown category_id {category_id} for {slug}")
                if all(category_id != category.id for category in chosen):
                    chosen.append(known[category_id])
        return {"status": 200, "results": [_category_body(category) for category in chosen]}

    # -- checks for run-task bodies ----------------------------------------------------

    def known_style(self, slug: str, style_id: object) -> bool:
        return self.style_group_of(slug, style_id) is not None

    def style_group_of(self, slug: str, style_id: object) -> int | None:
        # A float never matches: it is what a big id becomes after a lossy JSON layer.
        if isinstance(style_id, bool) or not isinstance(style_id, int):
            return None
        style = self._styles.get(slug, {}).get(style_id)
        return style.group_id if style else None

    def group_ids(self, slug: str) -> list[int]:
        return [group.id for group in self.feature(slug).groups]


def _category_body(category: Category) -> dict:
    return {
        "id": category.id,
        "name": category.name,
        "styles": [
            {
                "style_group_id": style.group_id,
                "style_id": style.id,
                "info": {"title": style.title, "thumb": style.thumb},
            }
            for style in category.styles
        ],
        "sub_categories": [{"id": sub.id, "name": sub.name} for sub in category.sub_categories],
    }


CATALOG = StyleCatalog()

THUMB_SIZE = (160, 200)


def thumbnail_jpeg(thumb_url: str) -> bytes | None:
    """The picture behind a style's `thumb` URL: a card in a colour of its own with
    the style's title written on it (clearly not a photo), or None for an unknown URL."""
    from PIL import Image, ImageDraw, ImageFont

    found = next(
        (
            style
            for feature in CATALOG.features.values()
            for group in feature.groups
            for style in group.styles
            if style.thumb == thumb_url
        ),
        None,
    )
    if found is None:
        return None
    digest = hashlib.sha256(found.thumb.encode()).digest()
    colour = (64 + digest[0] % 160, 64 + digest[1] % 160, 64 + digest[2] % 160)
    img = Image.new("RGB", THUMB_SIZE, colour)
    draw = ImageDraw.Draw(img)
    width, height = THUMB_SIZE
    # A head and shoulders, so the card reads as a portrait thumbnail at a glance.
    draw.ellipse((width * 0.3, height * 0.18, width * 0.7, height * 0.58), fill=(235, 205, 180))
    draw.ellipse((width * 0.12, height * 0.62, width * 0.88, height * 1.2), fill=(235, 205, 180))
    font = ImageFont.load_default(size=14)
    words, lines = found.title.split(), [""]
    for word in words:
        if draw.textlength(f"{lines[-1]} {word}".strip(), font=font) > width - 12:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    for number, line in enumerate(lines[:3]):
        draw.text((6, 6 + number * 17), line, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()


def known_style(slug: str, style_id: object) -> bool:
    """Whether `style_id` is one of `slug`'s styles in the sandbox catalog."""
    return CATALOG.known_style(slug, style_id)


def style_group_of(slug: str, style_id: object) -> int | None:
    """The group a sandbox style belongs to, for checking a run body's style_group_id."""
    return CATALOG.style_group_of(slug, style_id)


__all__ = [
    "CATALOG",
    "MAX_CATEGORY_IDS",
    "MAX_PAGE_SIZE",
    "STYLE_SLUGS",
    "StyleCatalog",
    "StyleQueryError",
    "known_style",
    "style_group_of",
    "thumbnail_jpeg",
]
