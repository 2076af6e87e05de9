"""One `yce <command>` per registry entry, generated from its declaration."""

from __future__ import annotations

import functools
import inspect
import time
from enum import Enum
from typing import Annotated, Any, cast

import typer

from ycecli.cli.guard import guarded
from ycecli.cli.options import (
    DryRunOpt,
    FailFastOpt,
    ForceOpt,
    FromFileOpt,
    MaxTasksOpt,
    OutputOpt,
    OverwriteOpt,
    RecursiveOpt,
    ReportOpt,
    RetryDroppedOpt,
    ShardOpt,
    TimeoutOpt,
)
from ycecli.errors import ExitStatus, InvalidInput
from ycecli.features import Feature, InputSpec, Param
from ycecli.jsonlines import shaped

_PY_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "point": str}

_KW = inspect.Parameter.KEYWORD_ONLY


def _choice_enum(param: Param) -> type[Enum]:
    """Choices as an Enum so Typer lists them, refuses others as a usage error, and
    completes them; words (`ring`) and numbers (`3`) are both accepted."""
    values = [*param.aliases, *(str(c) for c in param.choices)]
    # mypy reads the functional API's result as a member, not a class.
    return cast(
        "type[Enum]", Enum(f"{param.name}_choices", {f"c{i}": v for i, v in enumerate(values)})
    )


def _param_option(feature: Feature, param: Param) -> tuple[str, Any, Any]:
    """(python name, annotation, default) for one parameter's option."""
    help_text = param.help
    rng = param.describe_range()
    if rng and not param.choices:
        help_text += f" Range: {rng}."
    if param.required and param.default is None and not feature.filled_later(param):
        help_text += " Required."
    kwargs: dict[str, Any] = {"help": help_text}
    if param.metavar:
        kwargs["metavar"] = param.metavar
    default = param.default
    if param.kind == "bool":
        decl = (
            param.option
            if param.option and "/" in param.option
            else (f"{param.flag}/--no-{param.flag[2:]}")
        )
        return param.id, Annotated[bool | None, typer.Option(decl, **kwargs)], default
    if param.kind in ("points", "str_list", "int_list"):
        if param.kind != "points":
            help_text = param.help + " Repeat the option or separate values with commas."
            if param.choices:
                help_text += " Values: " + ", ".join(map(str, param.choices)) + "."
            kwargs["help"] = help_text
        option = typer.Option(param.flag, **kwargs, show_default=False)
        return param.id, Annotated[list[str] | None, option], None
    annotation_type: Any = _PY_TYPES[param.kind]
    if param.choices:
        annotation_type = _choice_enum(param)
        if default is not None:
            words = {v: w for w, v in param.aliases.items()}
            default = annotation_type(words.get(default, str(default)))
    option = typer.Option(param.flag, **kwargs, show_default=default is not None)
    return param.id, Annotated[annotation_type | None, option], default


def _input_param(spec: InputSpec) -> inspect.Parameter:
    help_text = f"{spec.help} ({spec.rules.describe()})"
    if spec.argument:
        info = typer.Argument(
            help=help_text, metavar=spec.metavar or spec.name.upper(), show_default=False
        )
        return inspect.Parameter(spec.name, _KW, annotation=Annotated[str, info])
    option = typer.Option(spec.flag, help=help_text, show_default=False)
    if spec.multiple:
        help_text += " May be given several times."
        option = typer.Option(spec.flag, help=help_text, show_default=False)
        return inspect.Parameter(
            spec.name, _KW, annotation=Annotated[list[str] | None, option], default=None
        )
    return inspect.Parameter(spec.name, _KW, annotation=Annotated[str | None, option], default=None)


def make_command(feature: Feature):
    primary = feature.primary_input

    def command(ctx: typer.Context, **kwargs: Any) -> None:
        import shutil
        import tempfile
        from pathlib import Path

        from ycecli.cli import streams

        state = ctx.obj
        texts = kwargs.get("inputs") or []
        to_stdout = kwargs.get("output") == streams.STDIN
        from_stdin = primary is not None and streams.takes_stdin(texts, kwargs.get("from_file"))
        if to_stdout:
            streams.check_stdout_sink(
                inputs=1 if primary is None else len(texts) + bool(kwargs.get("from_file")),
                json_mode=state.json,
            )
        if not (from_stdin or to_stdout):
            _run_feature(feature, state, kwargs)
            return
        folder = Path(tempfile.mkdtemp(prefix="yce-stream-"))
        try:
            if from_stdin:
                kwargs["inputs"] = [str(streams.read_stdin(folder))]
            if to_stdout:
                (folder / "out").mkdir()
                kwargs["output"] = str(folder / "out") + "/"
            results = _run_feature(
                feature,
                state,
                kwargs,
                shown_as={kwargs["inputs"][0]: "-"} if from_stdin else {},
                quiet_paths=to_stdout,
            )
            if to_stdout and results:
                streams.write_to_stdout(results[0].files, feature.command)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    params = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    ]
    # Positional arguments in declaration order (a shared HAND before the RINGS...).
    for spec in feature.inputs:
        if spec.argument:
            params.append(_input_param(spec))
        elif spec is primary:
            info = typer.Argument(
                help=f"{primary.help} ({primary.rules.describe()}). Several may be given.",
                metavar=primary.metavar or "INPUT...",
                show_default=False,
            )
            # Optional on the command line: --from-file may supply the inputs instead.
            params.append(
                inspect.Parameter(
                    "inputs", _KW, annotation=Annotated[list[str] | None, info], default=None
                )
            )
    for spec in feature.inputs:
        if not spec.argument and spec is not primary:
            params.append(_input_param(spec))
    for param in feature.params:
        if not param.cli:
            continue
        name, annotation, default = _param_option(feature, param)
        params.append(inspect.Parameter(name, _KW, annotation=annotation, default=default))
    shared_options = [
        ("output", OutputOpt, None),
        ("overwrite", OverwriteOpt, False),
        ("timeout", TimeoutOpt, None),
        ("dry_run", DryRunOpt, False),
        ("report", ReportOpt, None),
    ]
    if primary is not None:
        shared_options += [
            ("recursive", RecursiveOpt, False),
            ("from_file", FromFileOpt, None),
            ("shard", ShardOpt, None),
            ("max_tasks", MaxTasksOpt, None),
            ("fail_fast", FailFastOpt, False),
            ("force", ForceOpt, False),
            ("retry_dropped", RetryDroppedOpt, False),
        ]
    for name, annotation, default in shared_options:
        params.append(inspect.Parameter(name, _KW, annotation=annotation, default=default))
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__ = feature.command.replace("-", "_")
    command.__doc__ = feature.summary
    return guarded(command)


def _run_feature(feature: Feature, state, kwargs: dict, *, shown_as=None, quiet_paths=False):
    """Run one feature command's inputs; return their results (None for a dry run).

    `shown_as` renames inputs in what is reported (stdin's temporary file as `-`);
    `quiet_paths` keeps result paths off stdout (it carries the result's bytes)."""
    from ycecli import batch

    primary = feature.primary_input
    texts = kwargs.pop("inputs", None) or []
    output = kwargs.pop("output")
    overwrite = kwargs.pop("overwrite")
    timeout = kwargs.pop("timeout")
    report = kwargs.pop("report", None)
    if report is not None:
        _check_report_path(report)
    batch_options = {name: kwargs.pop(name, None) for name in BATCH_OPTIONS}
    extra = {}
    for spec in feature.inputs:
        value = kwargs.pop(spec.name, None)
        if spec is not primary and value is not None:
            extra[spec.name] = value
    params = {
        name: value.value if isinstance(value, Enum) else value
        for name, value in kwargs.items()
        if value is not None
    }
    layout = None
    if primary is not None:
        shard = batch.parse_shard(batch_options["shard"])
        items = batch.expand_inputs(
            texts,
            content_types=primary.rules.content_types,
            recursive=batch_options["recursive"],
            from_file=batch_options["from_file"],
        )
        if not items:
            raise InvalidInput(f"{feature.command}: no input given")
        items = [item for item in items if batch.in_shard(item, shard)]
        texts = [item.text for item in items]
        layout = {item.text: item.folder for item in items}
        if not texts:
            state.reporter.note(f"shard {batch_options['shard']} holds no input; nothing to do")
            return []
    if batch_options["dry_run"]:
        _print_plan(state, feature, texts, params, extra, output, overwrite, layout)
        if report is not None:
            state.reporter.note(f"dry run: nothing ran, so no report was written to {report}")
        return None
    started = time.monotonic()
    yce = state.yce()
    from ycecli import prices

    # Each --json line carries its task's units at the price known now (the cache).
    state.reporter.task_units = prices.estimate(feature, yce.profile, yce.paths).units_of
    state.reporter.expect(texts, budget=yce.client.budget.remaining)
    # Waits outside the scheduler's own (a 429's back-off, a budget spent by other
    # processes) would otherwise pass in silence.
    yce.client.on_wait = state.reporter.on_wait
    on_result = state.reporter.task_result
    on_event = state.reporter.on_event
    if shown_as:

        def on_event(event) -> None:
            event.label = shown_as.get(event.label, event.label)
            state.reporter.on_event(event)

    if shown_as or quiet_paths:

        def on_result(result) -> None:
            result.input = (shown_as or {}).get(result.input, result.input)
            if quiet_paths and result.status in ("success", "skipped"):
                state.reporter.note(f"{result.input}: {result.status}; result written to stdout")
                return
            state.reporter.task_result(result)

    run = functools.partial(
        yce.run,
        feature,
        texts,
        params,
        extra_inputs=extra,
        output=output,
        overwrite=overwrite,
        timeout=timeout,
        on_event=on_event,
        on_result=on_result,
        raise_errors=len(texts) <= 1 and primary is not None,
        layout=layout,
        force=batch_options["force"],
        retry_dropped=batch_options["retry_dropped"],
        max_tasks=batch_options["max_tasks"],
        fail_fast=batch_options["fail_fast"],
    )
    if report is None:
        results = run()
    else:
        results = _run_and_report(state, feature, run, texts, params, report)
    state.reporter.stop()
    failed = [r for r in results if r.status in FAILED_STATUSES]
    if len(texts) > 1:
        _summary(state, feature, results, len(texts), yce, time.monotonic() - started)
    if failed:
        if len(texts) <= 1:
            for r in failed:
                state.reporter.error(f"{r.input}: {r.error_message}")
        if any(r.status in ("success", "skipped") for r in results):
            raise typer.Exit(int(ExitStatus.PARTIAL))
        raise typer.Exit(failed[0].exit_status or int(ExitStatus.ERROR))
    return results


def _check_report_path(report: str) -> None:
    """Refuse a report path that cannot be written before anything is spent."""
    from pathlib import Path

    if report == "-" or report.endswith(("/", "\\")) or Path(report).is_dir():
        raise InvalidInput(
            f"--report {report}: give a file name", hint="For example: --report report.html"
        )


def _run_and_report(state, feature: Feature, run, texts, params, report: str):
    """Run, then write the report whatever happened, a failure included: a failed
    run is what a report is most often read for."""
    from pathlib import Path

    from ycecli.api import TaskResult
    from ycecli.errors import YceError
    from ycecli.report import rows_from_results, write_report

    sent = feature.resolve_params(params)
    try:
        results = run()
    except YceError as exc:
        if len(texts) != 1:
            # Several inputs fail this way only before any task starts (a missing file).
            state.reporter.note(f"nothing ran, so no report was written to {report}")
            raise
        # One input raises instead of returning its result; report it all the same.
        failed = TaskResult(feature=feature.command, input=texts[0])
        failed.record_error(exc)
        # An engine failure says what the engine said, not yce's sentence around it.
        failed.task_id = getattr(exc, "task_id", None)
        failed.error_message = getattr(exc, "error_message", None) or failed.error_message
        title = f"yce {feature.command}: 1 task"
        write_report(rows_from_results([failed], sent), Path(report), title=title)
        state.reporter.note(f"report: {report}")
        raise
    title = f"yce {feature.command}: {len(results)} task(s)"
    write_report(rows_from_results(results, sent), Path(report), title=title)
    state.reporter.note(f"report: {report}")
    return results


BATCH_OPTIONS = (
    "recursive",
    "from_file",
    "shard",
    "dry_run",
    "max_tasks",
    "fail_fast",
    "force",
    "retry_dropped",
)


def _print_plan(state, feature, texts, params, extra, output, overwrite, layout) -> None:
    """What a run would do, checked as far as possible without the network."""
    from ycecli.api import Yce
    from ycecli.config import Profile

    planner = Yce(Profile(name="dry-run"), paths=state.paths())
    given = params
    params = feature.resolve_params(params)
    local = [t for t in texts if not t.startswith(("http://", "https://", "id:"))]
    checked = (
        planner.plan(
            feature,
            local,
            extra_inputs=extra,
            output=output,
            overwrite=overwrite,
            layout=layout,
            params=given,
        )
        if local
        else []
    )
    targets = {job.label: job.target for job in checked}
    uploads = sum(1 for spec in feature.inputs if extra.get(spec.name) or spec.positional)
    plan = {
        "feature": feature.command,
        "inputs": len(texts),
        "params": params,
        "tasks": len(texts),
        # One combined upload-slot request per input file, one run request, then
        # about one poll per 8 s of task time (the seeds give no task durations).
        "estimated_requests": len(texts) * (uploads + 2),
    }
    # Units at the price learned from the account's unit history (ycecli/prices.py),
    # read from the cache: a dry run sends nothing, so it works offline.
    estimate = _plan_estimate(state, feature)
    plan.update(
        units=estimate.total(len(texts)),
        units_per_task=estimate.per_task,
        units_source=estimate.why,
    )
    if state.json:
        for text in texts:
            target = targets.get(text)
            state.reporter.data(
                shaped(
                    "plan_input",
                    {"input": text, "output": str(target) if target else None, "params": params},
                )
            )
        state.reporter.data(shaped("plan", plan))
        return
    for text in texts:
        target = targets.get(text)
        state.reporter.out(f"{text} -> {target if target else '(checked at run time)'}")
    state.reporter.note(
        f"dry run: {plan['tasks']} task(s) of {feature.command} with {params or 'defaults'}; "
        f"at least {plan['estimated_requests']} API requests plus polls; nothing was sent"
    )
    state.reporter.note(f"dry run: {estimate.describe(len(texts))}")


def _plan_estimate(state, feature):
    """The price for a dry run: the profile's cached one, never a request."""
    from ycecli import prices
    from ycecli.config import load_profile
    from ycecli.errors import YceError

    if state.sandbox:
        why = "--sandbox runs on a throwaway account with no history"
        return prices.estimate(feature, None, state.paths(), why_none=why)
    try:
        profile = load_profile(state.profile, paths=state.paths())
    except YceError:
        profile = None  # a dry run needs no profile; the price is then unknown
    return prices.estimate(feature, profile, state.paths())


# A result's status: "success", "skipped" (done earlier: its results are reported),
# "not_run" (left out: --max-tasks, --fail-fast), or one of these failures.
FAILED_STATUSES = ("error", "dropped", "timeout")


def _summary(state, feature, results, total: int, yce, elapsed: float) -> None:
    from ycecli import prices

    done = sum(1 for r in results if r.status == "success")
    skipped = sum(1 for r in results if r.status == "skipped")
    not_run = sum(1 for r in results if r.status == "not_run") + total - len(results)
    failed = [r for r in results if r.status in FAILED_STATUSES]
    # Tasks this run started or finished that were, or may have been, charged (a task
    # the API dropped, or still running when yce gave up, may be: 003:354).
    charged = sum(1 for r in results if r.charged)
    # At most one history request, at most once a day, to learn the price (prices.py).
    prices.refresh_after_run(yce, feature, charged)
    cost = prices.estimate(feature, yce.profile, yce.paths).cost(charged)
    requests = yce.requests_sent
    line = (
        f"summary: {done} done, {len(failed)} failed, {skipped} skipped (done earlier)"
        + (f", {not_run} not run" if not_run else "")
        + f"; {charged} task(s) charged at most, {cost}; {requests} HTTP requests; "
        f"{elapsed:.1f} s"
    )
    state.reporter.note(line)


def epilog(feature: Feature) -> str:
    lines = [
        f"{feature.title} ({feature.generation} API, /{feature.slug}); result: {feature.result}."
    ]
    rules = {spec.rules.describe() for spec in feature.inputs}
    if len(rules) == 1:
        lines.append(f"Inputs: {rules.pop()}.")
    else:
        for spec in feature.inputs:
            name = spec.metavar or (spec.flag if not spec.positional else "INPUT")
            lines.append(f"{name}: {spec.rules.describe()}.")
    text = "  ".join(lines)
    if feature.examples:
        from ycecli.cli.helptext import examples

        text += "\n\n" + examples(*feature.examples)
    return text


def build_command(feature: Feature):
    """The Click command of one feature, built when it is first needed."""
    sub = typer.Typer(
        rich_markup_mode=None,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    sub.command(
        feature.command,
        help=f"{feature.summary}\n\n{feature.title}.",
        epilog=epilog(feature),
        no_args_is_help=bool(feature.inputs),
        rich_help_panel=feature.group,
    )(make_command(feature))
    return typer.main.get_command(sub)
