"""One `yce <command>` per registry entry, generated from its declaration."""

from __future__ import annotations

import inspect
from enum import Enum
from typing import Annotated, Any

import typer

from ycecli.cli.guard import guarded
from ycecli.cli.options import OutputOpt, OverwriteOpt, TimeoutOpt
from ycecli.errors import ExitStatus
from ycecli.features import FEATURES, Feature, InputSpec, Param

_PY_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


def _param_option(param: Param) -> tuple[str, Any, Any]:
    """(python name, annotation, default) for one parameter's option."""
    help_text = param.help
    rng = param.describe_range()
    if rng and not param.choices:
        help_text += f" Range: {rng}."
    if param.required and param.default is None:
        help_text += " Required."
    kwargs: dict[str, Any] = {"help": help_text}
    if param.choices:
        # Choices are matched as text and converted by the registry, so `--scale 2`
        # and a bad `--scale 3` both get clear answers (the latter a usage error).
        annotation_type: Any = Enum(
            f"{param.name}_choices", {f"c{i}": str(c) for i, c in enumerate(param.choices)}
        )
    else:
        annotation_type = _PY_TYPES[param.kind]
    default = param.default
    if param.choices and default is not None:
        default = annotation_type(str(default))
    if param.kind == "bool":
        flag = param.flag
        decl = f"{flag}/--no-{flag[2:]}"
        option = typer.Option(decl, **kwargs)
        return param.name, Annotated[bool | None, option], default
    option = typer.Option(param.flag, **kwargs, show_default=default is not None)
    return param.name, Annotated[annotation_type | None, option], default


def _input_option(spec: InputSpec) -> tuple[str, Any, Any]:
    option = typer.Option(
        f"--{spec.name.replace('_', '-')}",
        help=f"{spec.help} ({spec.rules.describe()})",
        show_default=False,
    )
    return spec.name, Annotated[str | None, option], None


def make_command(feature: Feature):
    primary = feature.primary_input

    def command(ctx: typer.Context, **kwargs: Any) -> None:
        state = ctx.obj
        inputs = kwargs.pop("inputs")
        output = kwargs.pop("output")
        overwrite = kwargs.pop("overwrite")
        timeout = kwargs.pop("timeout")
        extra = {
            spec.name: kwargs.pop(spec.name)
            for spec in feature.inputs
            if spec is not primary and kwargs.get(spec.name) is not None
        }
        for spec in feature.inputs:
            kwargs.pop(spec.name, None)
        params = {
            name: value.value if isinstance(value, Enum) else value
            for name, value in kwargs.items()
            if value is not None
        }
        yce = state.yce()
        results = yce.run(
            feature,
            inputs,
            params,
            extra_inputs=extra,
            output=output,
            overwrite=overwrite,
            timeout=timeout,
            on_event=state.reporter.on_event,
            on_result=state.reporter.task_result,
            raise_errors=len(inputs) == 1,
        )
        state.reporter.stop()
        failed = [r for r in results if r.status != "success"]
        if failed:
            for r in failed:
                state.reporter.error(f"{r.input}: {r.error_message}")
            raise typer.Exit(failed[0].exit_status or int(ExitStatus.ERROR))

    params = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        inspect.Parameter(
            "inputs",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                list[str],
                typer.Argument(
                    help=f"{primary.help} ({primary.rules.describe()}). Several may be given.",
                    metavar="INPUT...",
                    show_default=False,
                ),
            ],
        ),
    ]
    for spec in feature.inputs:
        if spec is not primary:
            name, annotation, default = _input_option(spec)
            params.append(
                inspect.Parameter(
                    name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
                )
            )
    for param in feature.params:
        name, annotation, default = _param_option(param)
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
            )
        )
    for name, annotation, default in (
        ("output", OutputOpt, None),
        ("overwrite", OverwriteOpt, False),
        ("timeout", TimeoutOpt, None),
    ):
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
            )
        )
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__ = feature.command.replace("-", "_")
    command.__doc__ = feature.summary
    return guarded(command)


def epilog(feature: Feature) -> str:
    lines = [
        f"{feature.title} ({feature.generation} API, /{feature.slug}). Result: {feature.result}."
    ]
    for spec in feature.inputs:
        lines.append(f"Input {spec.name}: {spec.rules.describe()}.")
    if feature.examples:
        lines.append("Examples: " + " | ".join(feature.examples))
    return "  ".join(lines)


def register(app: typer.Typer) -> None:
    for feature in FEATURES:
        app.command(
            feature.command,
            help=f"{feature.summary}\n\n{feature.title}.",
            epilog=epilog(feature),
            no_args_is_help=True,
        )(make_command(feature))
