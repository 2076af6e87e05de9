"""Style selection shared by every style-based feature (003:1.14.5).

Run bodies need both `style_group_id` and `style_ids`; users know a style id (from
`yce styles list`). When the group is not given, it is looked up in the free style
lists and remembered in the cache dir, so the next run with that style costs no
request at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from ycecli.config import write_private_file
from ycecli.errors import InvalidInput
from ycecli.styles import iter_pages, list_groups, list_styles


def _cache_path(ctx):
    profile = ctx.session.profile
    account = hashlib.sha256(f"{profile.api_base}\0{profile.client_id}".encode()).hexdigest()[:16]
    slug = ctx.feature.slug.replace("/", "_")
    return ctx.session.paths.cache_dir / "styles" / f"{account}-{slug}.json"


def names_path(ctx):
    """Style id -> name, written by style sheets, read by completions."""
    return _cache_path(ctx).with_suffix(".names.json")


def load_style_groups(ctx) -> dict[int, int]:
    """style id -> style group id, from the cache or, failing that, the API lists."""
    path = _cache_path(ctx)
    try:
        return {int(k): int(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        pass

    client, slug = ctx.session.client, ctx.feature.slug
    ctx.note("looking up style groups (free list calls; cached afterwards)")
    mapping: dict[int, int] = {}

    def groups_page(token: Any) -> Any:
        return list_groups(client, slug, starting_token=token)

    for group in iter_pages(groups_page, "groups"):
        gid = int(group["id"])

        def styles_page(token: Any, gid: int = gid) -> Any:
            return list_styles(client, slug, gid, starting_token=token)

        for style in iter_pages(styles_page, "styles"):
            mapping[int(style["id"])] = gid
    write_private_file(path, json.dumps({str(k): v for k, v in mapping.items()}).encode())
    return mapping


def resolve_style_group(ctx, params: dict) -> dict:
    """Fill style_group_id from the style ids when the user gave only the latter."""
    ids = params.get("style_ids") or []
    if not ids or params.get("style_group_id") is not None:
        return params
    groups = load_style_groups(ctx)
    found = {groups.get(int(i)) for i in ids}
    if None in found:
        missing = [str(i) for i in ids if int(i) not in groups]
        # The cache may predate a new style: read the lists once more before failing.
        _cache_path(ctx).unlink(missing_ok=True)
        groups = load_style_groups(ctx)
        found = {groups.get(int(i)) for i in ids}
        if None in found:
            raise InvalidInput(
                f"{ctx.feature.command}: style {', '.join(missing)} is not in the style lists",
                hint=f"See `yce styles list {ctx.feature.command}` for the style ids.",
            )
    if len(found) > 1:
        raise InvalidInput(
            f"{ctx.feature.command}: the styles belong to different style groups",
            hint="Choose styles of one group, or give --style-group.",
        )
    return {**params, "style_group_id": found.pop()}


def style_required(ctx, params: dict) -> dict:
    """A style feature needs a style; say where to find one."""
    if not params.get("style_ids"):
        command = ctx.feature.command
        raise InvalidInput(
            f"{command}: --style is required",
            hint=f"List the style ids with `yce styles list {command}`.",
        )
    return params


HOOKS: dict[str, Callable[..., Any]] = {
    "resolve_style_group": resolve_style_group,
    "style_required": style_required,
}
