"""The `yce` command: global options, the command groups, and error handling.

This module is imported for every invocation, `yce --help` included, so it imports
only Typer and our own light modules; requests, Rich's progress machinery,
pycryptodome and PyYAML are imported by the code that uses them.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ycecli import __version__
from ycecli.cli.output import Reporter
from ycecli.cli.state import State
from ycecli.errors import EXIT_STATUS_MEANING

app = typer.Typer(
    name="yce",
    help="yce: the YouCam Online Editor AI APIs from the command line.\n\n"
    "Try it with no account: yce --sandbox enhance photo.jpg --scale 2",
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: "
    + "; ".join(f"{int(code)} {text}" for code, text in EXIT_STATUS_MEANING.items()),
)


def _version(value: bool) -> None:
    if value:
        print(f"yce {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            help="Profile to use (default: $YCE_PROFILE, then the config file's default).",
            envvar=None,
        ),
    ] = None,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox", help="Run against a local emulator of the API: no account, no units spent."
        ),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Machine-readable JSON on stdout, one object per task.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Log every HTTP request and reply (secrets redacted).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    state = State(
        profile=profile,
        sandbox=sandbox,
        json=json_output,
        quiet=quiet,
        debug=debug,
        reporter=Reporter(json_mode=json_output, quiet=quiet),
    )
    state.setup_logging()
    ctx.obj = state
    ctx.call_on_close(state.close)


def _register() -> None:
    from ycecli.cli import (
        auth_cmd,
        features_cmd,
        profile_cmd,
        sandbox_cmd,
        styles_cmd,
        task_cmd,
        units_cmd,
    )

    features_cmd.register(app)
    app.add_typer(styles_cmd.app, name="styles")
    app.add_typer(units_cmd.app, name="units")
    app.add_typer(task_cmd.app, name="task")
    app.add_typer(profile_cmd.app, name="profile")
    app.add_typer(auth_cmd.app, name="auth")
    app.add_typer(sandbox_cmd.app, name="sandbox")


_register()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="yce")
