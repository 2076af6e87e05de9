"""`yce styles`: the predefined styles of the style-based features (003:1.14.5).

Style ids are integers above 2**53; they are printed and parsed as exact integers,
never through floats, so what `yce styles list` prints works as `--style`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ycecli.cli.guard import guarded
from ycecli.cli.helptext import examples
from ycecli.errors import InvalidInput
from ycecli.files import refuse_existing
from ycecli.jsonlines import shaped
from ycecli.shell import shell_command

if TYPE_CHECKING:
    from ycecli.cli.state import State
    from ycecli.client import Client
    from ycecli.features import Feature
    from ycecli.styles import Token

app = typer.Typer(help="List the styles a feature offers (for --style).", no_args_is_help=True)

FeatureArg = Annotated[str, typer.Argument(help="Feature command name, e.g. hair-style.")]
PageSizeOpt = Annotated[int, typer.Option("--page-size", min=1, max=20, help="Items per page.")]
TokenOpt = Annotated[
    str | None,
    typer.Option("--starting-token", help="next_token from a previous page.", show_default=False),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Follow next_token to the end.")]
SheetOpt = Annotated[
    Path | None,
    typer.Option(
        "--sheet",
        help="Write a contact sheet of the styles (.jpg or .png): each thumbnail with "
        "its id and name. Thumbnails are cached; the sheet's path is printed.",
        show_default=False,
    ),
]
OverwriteOpt = Annotated[
    bool, typer.Option("--overwrite", help="Replace the picture if it exists.")
]


def _styled_feature(name: str) -> Feature:
    from ycecli.features import FEATURES, get_feature

    feature = get_feature(name)
    if not feature.styles:
        with_styles = ", ".join(f.command for f in FEATURES if f.styles and not f.hidden)
        raise InvalidInput(
            f"{feature.command} has no style lists", hint=f"Features with styles: {with_styles}."
        )
    return feature


def _pages(
    state: State,
    fetch: Callable[[Token | None], dict[str, Any]],
    key: str,
    starting_token: Token | None,
    all_pages: bool,
) -> list:
    token = starting_token
    items: list = []
    seen: set[str] = set()
    while True:
        page = fetch(token)
        items.extend(page[key])
        token = page.get("next_token")
        if not all_pages or token in (None, "") or str(token) in seen:
            break
        seen.add(str(token))
    if token not in (None, "") and not all_pages:
        if state.json:
            state.reporter.data(shaped("next_page", {"next_token": token}))
        else:
            state.reporter.note(f"more: {shell_command('--starting-token', token)} (or --all)")
    return items


@app.command(
    "groups",
    epilog=examples(
        "yce styles groups hair-style",
        "yce styles groups headshot --all",
        "yce --json styles groups generate",
    ),
)
@guarded
def groups(
    ctx: typer.Context,
    feature: FeatureArg,
    page_size: PageSizeOpt = 20,
    starting_token: TokenOpt = None,
    all_pages: AllOpt = False,
) -> None:
    """List a feature's style groups."""
    from ycecli.styles import list_groups

    state: State = ctx.obj
    spec = _styled_feature(feature)
    client = state.yce().client
    items = _pages(
        state,
        lambda t: list_groups(client, spec.slug, page_size=page_size, starting_token=t),
        "groups",
        starting_token,
        all_pages,
    )
    for group in items:
        if state.json:
            state.reporter.data(shaped("style_group", group))
        else:
            state.reporter.out(f"{group['id']}  {(group.get('info') or {}).get('title', '')}")


@app.command(
    "list",
    epilog=examples(
        "yce styles list hair-style",
        "yce styles list hair-style --group GROUP_ID --all",
        "yce --json styles list clothes --category CATEGORY_ID",
    ),
)
@guarded
def list_styles_cmd(
    ctx: typer.Context,
    feature: FeatureArg,
    group: Annotated[
        int | None, typer.Option("--group", help="Style group id (from `yce styles groups`).")
    ] = None,
    category: Annotated[
        list[int] | None,
        typer.Option(
            "--category",
            help="Category id (v1.1 lists; up to 5). Without --group "
            "or --category: the top-level categories.",
        ),
    ] = None,
    page_size: PageSizeOpt = 20,
    starting_token: TokenOpt = None,
    all_pages: AllOpt = False,
    sheet: SheetOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """List styles: of one group (paged), or by category."""
    from ycecli.styles import list_by_category, list_styles

    state: State = ctx.obj
    spec = _styled_feature(feature)
    if group is not None and category:
        raise InvalidInput("give --group or --category, not both")
    _check_sheet_path(sheet, overwrite)
    client = state.yce().client
    if sheet is not None:
        if group is not None:
            items = _pages(
                state,
                lambda t: list_styles(
                    client, spec.slug, group, page_size=page_size, starting_token=t
                ),
                "styles",
                starting_token,
                all_pages,
            )
            where = f"group {group}"
        elif category:
            items = _category_styles(list_by_category(client, spec.slug, category))
            where = f"category {', '.join(map(str, category))}"
        else:
            items = _every_style(client, spec.slug)
            where = "every group"
        _write_sheet(state, spec, items, sheet, f"{spec.command} styles, {where}")
        return
    if group is not None:
        items = _pages(
            state,
            lambda t: list_styles(client, spec.slug, group, page_size=page_size, starting_token=t),
            "styles",
            starting_token,
            all_pages,
        )
        for style in items:
            if state.json:
                state.reporter.data(shaped("style", {**style, "style_group_id": group}))
            else:
                info = style.get("info") or {}
                state.reporter.out(
                    f"{style['id']}  {info.get('title', '')}  {info.get('thumb', '')}"
                )
        return
    for cat in list_by_category(client, spec.slug, category or ()):
        if state.json:
            state.reporter.data(shaped("style_category", cat))
            continue
        state.reporter.out(f"# {cat.get('name')} (category {cat.get('id')})")
        for style in cat.get("styles") or []:
            title = (style.get("info") or {}).get("title", "")
            state.reporter.out(f"{style['style_id']}  {title}  (group {style['style_group_id']})")
        for sub in cat.get("sub_categories") or []:
            state.reporter.out(
                f"  sub-category {sub['id']}: {sub.get('name')} "
                f"({shell_command('yce', 'styles', 'list', spec.command, '--category', sub['id'])})"
            )


def _every_style(client: Client, slug: str) -> list:
    """Every style of every group (free list calls, all pages)."""
    from ycecli.styles import iter_pages, list_groups, list_styles

    styles: list = []
    for group in iter_pages(lambda t: list_groups(client, slug, starting_token=t), "groups"):
        gid = int(group["id"])
        styles.extend(
            iter_pages(
                # The default binds this group's id; mypy cannot infer a lambda that has one.
                lambda t, g=gid: list_styles(client, slug, g, starting_token=t),  # type: ignore[misc]
                "styles",
            )
        )
    return styles


def _category_styles(categories: list) -> list:
    """Every style of the categories listed, sub-categories' included when the reply
    carries them."""
    styles: list = []
    pending = list(categories)
    while pending:
        cat = pending.pop(0)
        styles.extend(cat.get("styles") or [])
        pending.extend(sub for sub in cat.get("sub_categories") or [] if isinstance(sub, dict))
    return styles


def _check_sheet_path(sheet: Path | None, overwrite: bool) -> None:
    if sheet is None:
        return
    if sheet.suffix.lower() not in (".jpg", ".jpeg", ".png"):
        raise InvalidInput(
            f"{sheet}: a sheet is written as .jpg or .png",
            hint="Name the file with one of those suffixes, e.g. --sheet styles.jpg.",
        )
    if sheet.is_dir():
        raise InvalidInput(f"{sheet} is a directory", hint="Give a file name, e.g. styles.jpg.")
    refuse_existing(sheet, overwrite=overwrite, hint="Pass --overwrite to replace it.")


def _write_sheet(state: State, spec: Feature, items: list, dest: Path, title: str) -> None:
    from ycecli import pictures, stylesheet
    from ycecli.hooks import HookContext
    from ycecli.hooks.styles import names_path

    entries = stylesheet.entries_from(items)
    if not entries:
        raise InvalidInput(
            f"{title}: no style to draw",
            hint=f"List the groups with `yce styles groups {spec.command}`, then --group ID.",
        )
    yce = state.yce()
    state.reporter.note(f"fetching {len(entries)} thumbnail(s) (cached after the first time)")
    thumbs = stylesheet.fetch_all(yce.client.session, entries, yce.paths.cache_dir)
    missing = sum(1 for found in thumbs.values() if not isinstance(found, Path))
    if missing:
        state.reporter.note(f"{missing} thumbnail(s) unavailable: placeholder tiles drawn")
    pictures.save_atomic(stylesheet.draw_sheet(entries, thumbs, title), dest)
    stylesheet.remember_names(names_path(HookContext(yce, spec)), entries)
    if state.json:
        state.reporter.data({"sheet": str(dest), "styles": [e.id for e in entries]})
    else:
        state.reporter.out(str(dest))


@app.command(
    "show",
    epilog=examples(
        "yce styles show hair-style STYLE_ID", "yce styles show headshot STYLE_ID -o look.jpg"
    ),
)
@guarded
def show(
    ctx: typer.Context,
    feature: FeatureArg,
    style_id: Annotated[str, typer.Argument(help="Style id (from `yce styles list`).")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Where to write the style's picture (default FEATURE_STYLEID.jpg).",
            show_default=False,
        ),
    ] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Show one style: its name and group, and its thumbnail written as a picture."""
    from ycecli.hooks import HookContext
    from ycecli.hooks.styles import load_style_groups
    from ycecli.styles import exact_id, iter_pages, list_styles

    state: State = ctx.obj
    spec = _styled_feature(feature)
    wanted = exact_id(style_id, "style id")
    dest = output or Path(f"{spec.command}_{wanted}.jpg")
    _check_sheet_path(dest, overwrite)
    yce = state.yce()
    group = load_style_groups(HookContext(yce, spec, state.reporter.on_event)).get(wanted)
    if group is None:
        raise InvalidInput(
            f"{spec.command}: style {wanted} is not in the style lists",
            hint=f"See `yce styles list {spec.command}` for the style ids.",
        )
    pages = iter_pages(
        lambda t: list_styles(yce.client, spec.slug, group, starting_token=t), "styles"
    )
    found = next((item for item in pages if int(item.get("id", -1)) == wanted), None)
    if found is None:
        raise InvalidInput(f"{spec.command}: style {wanted} is no longer in group {group}")
    title = (found.get("info") or {}).get("title", "")
    _write_sheet(state, spec, [found], dest, f"{spec.command} style, group {group}")
    if not state.json:
        state.reporter.out(f"{wanted}  {title}  (group {group})")
