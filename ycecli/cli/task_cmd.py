"""`yce task`: the local journal, and picking up tasks by id."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from ycecli.cli.guard import guarded
from ycecli.cli.helptext import examples
from ycecli.cli.options import OutputOpt, OverwriteOpt, TimeoutOpt
from ycecli.jsonlines import iso_time, shaped

if TYPE_CHECKING:
    from ycecli.cli.state import State

app = typer.Typer(help="List journaled tasks; check or resume one by id.", no_args_is_help=True)

FeatureArg = Annotated[str, typer.Argument(help="Feature command name, e.g. enhance.")]
TaskIdArg = Annotated[str, typer.Argument(help="The task id yce printed (quote it).")]


@app.command(
    "list",
    epilog=examples("yce task list", "yce task list --open", "yce --json task list -n 100"),
)
@guarded
def list_tasks(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="How many, newest first.")
    ] = 20,
    open_only: Annotated[bool, typer.Option("--open", help="Only tasks not finished.")] = False,
) -> None:
    """Show the task journal, newest first."""
    state: State = ctx.obj
    records = state.yce().task_list(limit=limit, open_only=open_only)
    if state.json:
        for record in records:
            row = record.to_dict()
            row.update(
                created_at=iso_time(row.get("created_at")),
                updated_at=iso_time(row.get("updated_at")),
            )
            state.reporter.data(shaped("journal_task", row))
        return
    if not records:
        state.reporter.note("no tasks in the journal")
    for r in records:
        when = datetime.fromtimestamp(r.created_at).strftime("%Y-%m-%d %H:%M:%S")
        outputs = ", ".join(r.outputs) if r.outputs else "-"
        state.reporter.out(
            f"{when}  {r.feature:<12} {r.state:<10} {r.task_id or '-'}  "
            f"{', '.join(r.inputs)} -> {outputs}"
        )


@app.command(
    "report",
    epilog=examples(
        "yce task report -o report.html",
        "yce task report --last 10 -o last.html",
        "yce task report --since 2h -o today.html",
        "yce --json task report",
    ),
)
@guarded
def report(
    ctx: typer.Context,
    output: Annotated[
        str, typer.Option("--output", "-o", help="The HTML file to write (replaced).")
    ] = "report.html",
    last: Annotated[
        int | None,
        typer.Option("--last", "-n", min=1, help="The N newest tasks.", show_default=False),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Tasks started since WHEN: a span ago (30m, 2h, 1d) or a date and time "
            "(2026-01-31T12:00, local unless it ends in Z).",
            metavar="WHEN",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the HTML batch report of an earlier run from the journal: by default the
    latest run (every task of the command that started the newest one)."""
    from pathlib import Path

    from ycecli import report as pages

    state: State = ctx.obj
    cutoff = pages.parse_since(since) if since is not None else None
    records = pages.select_records(state.yce().task_list, last=last, since=cutoff)
    rows = pages.rows_from_records(records)
    features = sorted({row.feature for row in rows})
    title = f"yce {', '.join(features) or 'tasks'}: {len(rows)} task(s) from the journal"
    path = pages.write_report(rows, Path(output), title=title)
    failed = sum(1 for row in rows if row.failed)
    if state.json:
        state.reporter.data(
            shaped("report", {"path": str(path), "tasks": len(rows), "failed": failed})
        )
        return
    if not rows:
        state.reporter.note("no tasks in the journal; the report is empty")
    state.reporter.out(str(path))
    state.reporter.note(f"{len(rows)} task(s), {failed} failed")


@app.command(
    "status",
    epilog=examples("yce task status enhance TASK_ID", "yce --json task status ring-vto TASK_ID"),
)
@guarded
def status(ctx: typer.Context, feature: FeatureArg, task_id: TaskIdArg) -> None:
    """Ask the API for a task's status once (this counts as a poll)."""
    state: State = ctx.obj
    result = state.yce().task_status(feature, task_id)
    if state.json:
        state.reporter.data(
            shaped("task_status", {"feature": feature, "task_id": task_id, **result.raw})
        )
        return
    line = f"{result.status}"
    if result.error:
        line += f": {result.error} {result.error_message or ''}".rstrip()
    state.reporter.out(line)
    for item in result.results:
        if item.dst_id:
            state.reporter.note(f"dst_id: {item.dst_id}")
        if item.url:
            state.reporter.note(f"url: {item.url}")


@app.command(
    "wait",
    epilog=examples(
        "yce task wait enhance TASK_ID",
        "yce task wait enhance TASK_ID -o out/",
        "yce --json task wait skin-analysis TASK_ID",
    ),
)
@guarded
def wait(
    ctx: typer.Context,
    feature: FeatureArg,
    task_id: TaskIdArg,
    output: OutputOpt = None,
    overwrite: OverwriteOpt = False,
    timeout: TimeoutOpt = None,
) -> None:
    """Resume polling a task until it ends, then download its results."""
    state: State = ctx.obj
    result = state.yce().task_wait(
        feature,
        task_id,
        output=output,
        overwrite=overwrite,
        timeout=timeout,
        on_event=state.reporter.on_event,
    )
    state.reporter.stop()
    state.reporter.task_result(result)


@app.command(
    "resume",
    epilog=examples("yce task resume", "yce --json task resume", "yce task resume --overwrite"),
)
@guarded
def resume(
    ctx: typer.Context,
    overwrite: OverwriteOpt = False,
    timeout: TimeoutOpt = None,
) -> None:
    """Finish every unfinished task in the journal (after a crash or Ctrl-C) without
    paying for it again."""
    from ycecli.errors import ExitStatus

    state: State = ctx.obj
    results = state.yce().resume(
        overwrite=overwrite,
        timeout=timeout,
        on_event=state.reporter.on_event,
        on_result=state.reporter.task_result,
    )
    state.reporter.stop()
    if not results:
        state.reporter.note("nothing to resume: every journaled task is finished")
        return
    failed = [r for r in results if r.status != "success"]
    for r in failed:
        state.reporter.error(f"{r.input}: {r.error_message}")
    if failed:
        code = ExitStatus.PARTIAL if len(failed) < len(results) else failed[0].exit_status
        raise typer.Exit(int(code))
