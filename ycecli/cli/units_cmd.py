"""`yce units`: the balance and its history (003 Unit system)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

import typer

from ycecli.cli.guard import guarded
from ycecli.cli.helptext import examples
from ycecli.jsonlines import iso_time_ms, shaped
from ycecli.shell import shell_command

app = typer.Typer(
    help="Show the unit balance; `yce units history` lists what was charged.",
    epilog=examples("yce units", "yce --json units", "yce units history --all"),
    invoke_without_command=True,
    no_args_is_help=False,
)


def _when(ms) -> str:
    try:
        return datetime.fromtimestamp(int(ms) / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError, OverflowError):
        return str(ms)


@app.callback()
@guarded
def balance(ctx: typer.Context) -> None:
    """Show the unit balance (the sum of every unit lot)."""
    if ctx.invoked_subcommand is not None:
        return
    state = ctx.obj
    units = state.yce().units()
    if state.json:
        lots = [{**lot, "expiry": iso_time_ms(lot.get("expiry"))} for lot in units["lots"]]
        state.reporter.data(shaped("units", {"total": units["total"], "lots": lots}))
        return
    state.reporter.out(str(units["total"]))
    for lot in units["lots"]:
        state.reporter.note(
            f"  {lot.get('amount')} {lot.get('type')} units, expiring {_when(lot.get('expiry'))}"
        )


@app.command(
    "history",
    epilog=examples(
        "yce units history", "yce units history --all", "yce --json units history --page-size 30"
    ),
)
@guarded
def history(
    ctx: typer.Context,
    page_size: Annotated[
        int, typer.Option("--page-size", min=1, max=30, help="Entries per page (1-30).")
    ] = 20,
    starting_token: Annotated[
        str | None,
        typer.Option(
            "--starting-token", help="next_token from a previous page.", show_default=False
        ),
    ] = None,
    all_pages: Annotated[bool, typer.Option("--all", help="Follow next_token to the end.")] = False,
) -> None:
    """List unit charges and top-ups, newest first; each feature's latest charge is
    kept as its price for --dry-run and run summaries."""
    state = ctx.obj
    yce = state.yce()
    token = starting_token
    rows: list[dict] = []
    while True:
        page = yce.units_history(page_size=page_size, starting_token=token)
        rows.extend(page["history"])
        if state.json:
            for item in page["history"]:
                when = iso_time_ms(item.get("timestamp"))
                state.reporter.data(shaped("unit_history", {**item, "timestamp": when}))
        token = page["next_token"]
        if not all_pages or token in (None, ""):
            break
    _learn_prices(state, yce, rows)
    if state.json:
        if not all_pages and token not in (None, ""):
            state.reporter.data(shaped("next_page", {"next_token": token}))
        return
    for item in rows:
        amount = sum(int(c.get("amount") or 0) for c in (item.get("info") or {}).get("credits", []))
        state.reporter.out(
            f"{_when(item.get('timestamp'))}  {amount:+d}  {item.get('action')}  "
            f"{item.get('target_id')}"
        )
    if not rows:
        state.reporter.note("no unit history")
    if token not in (None, "") and not all_pages:
        more = shell_command("yce", "units", "history", "--starting-token", token)
        state.reporter.note(f"more: {more}")


def _learn_prices(state, yce, rows: list[dict]) -> None:
    """The charges just fetched set the prices `--dry-run` and run summaries show
    (ycecli/prices.py); this sends nothing more."""
    from ycecli import prices

    learned = prices.learn_from_history(yce, rows)
    if learned:
        listed = ", ".join(f"{name} {units}" for name, units in sorted(learned.items()))
        state.reporter.note(f"units per task, learned from these charges: {listed}")
