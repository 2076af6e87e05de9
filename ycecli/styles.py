"""Style lists: the groups, styles and categories a style-based feature runs with.

Style, group, category ids and page tokens are integers above 2**53 (003's samples:
18213963761051864). A float cannot hold them, so they stay Python ints (or the exact
string the server sent) from the reply to the next request; nothing here does arithmetic
on them or lets them pass through float.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ycecli.errors import InvalidInput

if TYPE_CHECKING:
    from ycecli.client import Client

log = logging.getLogger("ycecli.styles")

MAX_PAGE_SIZE = 20  # 003 1.14.5: "Valid value should be between 1 and 20"
MAX_CATEGORY_IDS = 5  # 003 1.14.5(c): "up to a maximum of 5"

# Slugs are registry values such as "hair-style" or "sod/change-background"; this only
# keeps a mistyped one from smuggling a query string or a "../" into the request path.
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")

Token = str | int


def _check_slug(slug: str) -> str:
    if not isinstance(slug, str) or not _SLUG.fullmatch(slug) or ".." in slug:
        raise InvalidInput(f"{slug!r} is not a feature slug")
    return slug


def _check_page_size(page_size: int) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise InvalidInput(f"page size {page_size!r} is not an integer")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(
            f"page size {page_size} is out of range",
            hint=f"It must be 1..{MAX_PAGE_SIZE} (003 1.14.5).",
        )
    return page_size


def exact_id(value: Any, what: str) -> int:
    """An id as an exact int. Digit strings are accepted because the command line and
    some JSON layers hand ids over as text; floats are refused because by the time an
    id is a float above 2**53 it may already be a different id."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} {value!r} is not an integer id")
    if isinstance(value, int):
        if value < 0:
            raise InvalidInput(f"{what} {value} is negative")
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float):
        raise InvalidInput(
            f"{what} {value!r} is a float, which cannot hold a style id exactly",
            hint="Pass the id as an integer or as the digits the API returned.",
        )
    raise InvalidInput(f"{what} {value!r} is not an integer id")


def _token_param(token: Token) -> str:
    # The token goes back exactly as the server sent it: digits from a JSON number
    # via str(int), which is exact at any size, or the server's own string untouched.
    if isinstance(token, bool) or not isinstance(token, (int, str)):
        raise InvalidInput(
            f"starting token {token!r} must be the next_token the API returned",
            hint="Tokens are big integers; a float would change them.",
        )
    return str(token)


def list_groups(
    client: Client, slug: str, *, page_size: int = 20, starting_token: Token | None = None
) -> dict[str, Any]:
    """One page of a feature's style groups: {"groups": [...], "next_token": ...}."""
    query: dict[str, str] = {"page_size": str(_check_page_size(page_size))}
    # 003 says to "start with null"; leaving the parameter out is the unambiguous way.
    if starting_token is not None:
        query["starting_token"] = _token_param(starting_token)
    reply = client.call("GET", f"/s2s/v1.0/task/style-group/{_check_slug(slug)}", params=query)
    result = reply.get("result") or {}
    return {"groups": result.get("groups") or [], "next_token": result.get("next_token")}


def list_styles(
    client: Client,
    slug: str,
    group_id: int | str,
    *,
    page_size: int = 20,
    starting_token: Token | None = None,
) -> dict[str, Any]:
    """One page of the styles in one group: {"styles": [...], "next_token": ...}."""
    query: dict[str, str] = {
        "style_group_id": str(exact_id(group_id, "style group id")),
        "page_size": str(_check_page_size(page_size)),
    }
    if starting_token is not None:
        query["starting_token"] = _token_param(starting_token)
    reply = client.call("GET", f"/s2s/v1.0/task/style/{_check_slug(slug)}", params=query)
    result = reply.get("result") or {}
    return {"styles": result.get("styles") or [], "next_token": result.get("next_token")}


def list_by_category(
    client: Client, slug: str, category_ids: Iterable[int | str] = ()
) -> list[dict[str, Any]]:
    """Categories with their styles or sub-categories (v1.1). With no ids, the top
    level; pass a sub-category's id to open it."""
    ids = [exact_id(value, "category id") for value in category_ids]
    if len(ids) > MAX_CATEGORY_IDS:
        raise InvalidInput(
            f"{len(ids)} category ids given",
            hint=f"The API takes at most {MAX_CATEGORY_IDS} per call (003 1.14.5).",
        )
    # AMBIGUOUS (003 1.14.5(c)): the doc says category_id "accepts multiple values" but
    # its only sample is `category_id=SOME_ARRAY_VALUE`. Repeated keys
    # (category_id=1&category_id=2) are how most servers read a query array, so that is
    # what we send; a list of pairs keeps requests from reordering or merging them.
    query = [("category_id", str(value)) for value in ids]
    reply = client.call("GET", f"/s2s/v1.1/task/style/{_check_slug(slug)}", params=query or None)
    # Unlike the v1.0 lists, this reply is a top-level `results`, not `result`.
    return reply.get("results") or []


def iter_pages(fetch: Callable[[Token | None], dict], key: str) -> Iterator[Any]:
    """Yield every item of a paged list, following next_token to the end.

    `fetch(token)` returns one page, e.g.
    `lambda token: list_styles(client, slug, group, starting_token=token)`.
    A token already used ends the walk: a server that hands back the same token
    forever would otherwise keep yce fetching (and spending rate limit) forever.
    """
    seen: set[str] = set()
    token: Token | None = None
    while True:
        page = fetch(token)
        yield from page.get(key) or []
        token = page.get("next_token")
        if token is None or token == "":
            return
        # str() so that 123 and "123" count as the same token.
        if str(token) in seen:
            log.warning("the server repeated page token %s; stopping the listing there", token)
            return
        seen.add(str(token))


__all__ = [
    "MAX_CATEGORY_IDS",
    "MAX_PAGE_SIZE",
    "iter_pages",
    "list_by_category",
    "list_groups",
    "list_styles",
]
