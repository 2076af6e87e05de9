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

_PY_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "point": str}

_KW = inspect.Parameter.KEYWORD_ONLY


def _choice_enum(param: Param) -> type[Enum]:
    """Choices as an Enum so Typer lists them, refuses others as a usage error, and
    completes them; words (`ring`) and numbers (`3`) are both accepted."""
    values = [*param.aliases, *(str(c) for c in param.choices)]
    return Enum(f"{param.name}_choices", {f"c{i}": v for i, v in enumerate(values)})


def _param_option(feature: Feature, param: Param) -> tuple[str, Any, Any]:
    """(python name, annotation, default) for one parameter's option."""
    help_text = param.help
    rng = param.describe_range()
    if rng and not param.choices:
        help_text += f" Range: {rng}."
    if param.required and param.default is None and not feature._filled_later(param):
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
        state = ctx.obj
        inputs = kwargs.pop("inputs", None) or []
        output = kwargs.pop("output")
        overwrite = kwargs.pop("overwrite")
        timeout = kwargs.pop("timeout")
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
            raise_errors=len(inputs) <= 1,
        )
        state.reporter.stop()
        failed = [r for r in results if r.status != "success"]
        if failed:
            for r in failed:
                state.reporter.error(f"{r.input}: {r.error_message}")
            raise typer.Exit(failed[0].exit_status or int(ExitStatus.ERROR))

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
            params.append(inspect.Parameter("inputs", _KW, annotation=Annotated[list[str], info]))
    for spec in feature.inputs:
        if not spec.argument and spec is not primary:
            params.append(_input_param(spec))
    for param in feature.params:
        if not param.cli:
            continue
        name, annotation, default = _param_option(feature, param)
        params.append(inspect.Parameter(name, _KW, annotation=annotation, default=default))
    for name, annotation, default in (
        ("output", OutputOpt, None),
        ("overwrite", OverwriteOpt, False),
        ("timeout", TimeoutOpt, None),
    ):
        params.append(inspect.Parameter(name, _KW, annotation=annotation, default=default))
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__ = feature.command.replace("-", "_")
    command.__doc__ = feature.summary
    return guarded(command)


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
    if feature.examples:
        lines.append("Examples: " + " | ".join(feature.examples))
    return "  ".join(lines)


def register(app: typer.Typer) -> None:
    for feature in FEATURES:
        if feature.hidden:
            continue
        app.command(
            feature.command,
            help=f"{feature.summary}\n\n{feature.title}.",
            epilog=epilog(feature),
            no_args_is_help=bool(feature.inputs),
            rich_help_panel=feature.group,
        )(make_command(feature))
