"""`yce auth`: prove the credentials work; forget cached tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from ycecli.cli.guard import guarded
from ycecli.cli.helptext import examples
from ycecli.jsonlines import shaped

if TYPE_CHECKING:
    from ycecli.cli.state import State

app = typer.Typer(help="Check credentials and manage cached access tokens.", no_args_is_help=True)


@app.command(
    "check",
    epilog=examples("yce auth check", "yce --profile shop auth check", "yce --json auth check"),
)
@guarded
def check(ctx: typer.Context) -> None:
    """Get a fresh v1 access token and show the unit balance (v2 keys: presence only)."""
    state: State = ctx.obj
    info = state.yce().auth_check()
    if state.json:
        state.reporter.data(shaped("auth", info))
        return
    if "token" in info:
        state.reporter.out(
            f"ok: profile {info['profile']} at {info['api_base']}, {info['units']} units"
        )
    if "api_key" in info:
        state.reporter.out(f"v2 API key: {info['api_key']}")


@app.command(
    "logout",
    epilog=examples("yce auth logout", "yce --json auth logout"),
)
@guarded
def logout(ctx: typer.Context) -> None:
    """Delete every cached access token (credentials in profiles are kept)."""
    from ycecli.auth import TokenStore

    state: State = ctx.obj
    removed = TokenStore(state.paths()).drop_all()
    if state.json:
        state.reporter.data(shaped("logout", {"tokens_removed": removed}))
    else:
        state.reporter.note(f"removed {removed} cached token(s)")
