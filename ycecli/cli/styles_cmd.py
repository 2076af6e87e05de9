"""`yce styles`: the predefined styles of the style-based features (003:1.14.5).

Style ids are integers above 2**53; they are printed and parsed as exact integers,
never through floats, so what `yce styles list` prints works as `--style`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ycecli.cli.guard import guarded
from ycecli.errors import InvalidInput
from ycecli.jsonlines import shaped
from ycecli.shell import shell_command

app = typer.Typer(help="List the styles a feature offers (for --style).", no_args_is_help=True)

FeatureArg = Annotated[str, typer.Argument(help="Feature command name, e.g. hair-style.")]
PageSizeOpt = Annotated[int, typer.Option("--page-size", min=1, max=20, help="Items per page.")]
TokenOpt = Annotated[
    str | None,
    typer.Option("--starting-token", help="next_token from a previous page.", show_default=False),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Follow next_token to the end.")]


def _styled_feature(name: str):
    from ycecli.features import FEATURES, get_feature

    feature = get_feature(name)
    if not feature.styles:
        with_styles = ", ".join(f.command for f in FEATURES if f.styles and not f.hidden)
        raise InvalidInput(
            f"{feature.command} has no style lists", hint=f"Features with styles: {with_styles}."
        )
    return feature


def _pages(state, fetch, key: str, starting_token, all_pages: bool) -> list:
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
    epilog=(
        "Examples: yce styles groups hair-style | "
        "yce styles groups headshot --all | "
        "yce --json styles groups generate"
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

    state = ctx.obj
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
    epilog=(
        "Examples: yce styles list hair-style | "
        "yce styles list hair-style --group GROUP_ID --all | "
        "yce --json styles list clothes --category CATEGORY_ID"
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
) -> None:
    """List styles: of one group (paged), or by category."""
    from ycecli.styles import list_by_category, list_styles

    state = ctx.obj
    spec = _styled_feature(feature)
    client = state.yce().client
    if group is not None and category:
        raise InvalidInput("give --group or --category, not both")
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
