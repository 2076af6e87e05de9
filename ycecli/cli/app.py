"""The `yce` command: global options, the command groups, and error handling.

This module is imported for every invocation, `yce --help` included, so it imports
only Typer and our own light modules; requests, Rich's progress machinery,
pycryptodome and PyYAML are imported by the code that uses them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

from ycecli import __version__
from ycecli.cli.helptext import TOOLS_PANEL, examples
from ycecli.cli.output import Reporter
from ycecli.cli.state import State
from ycecli.errors import EXIT_STATUS_MEANING

if TYPE_CHECKING:
    # Typer 0.28 vendors Click here (pyproject pins typer below 0.29).
    from typer._click import Command, Context, HelpFormatter


class GroupedHelp(TyperGroup):
    """The root command group.

    - Feature commands are built only when used: building all of them (and their
      typed options) costs more than everything else `yce --help` does, and a run of
      one feature needs only its own.
    - Help lists commands under the areas they belong to (the registry's groups, then
      account and tools), which Typer only does in its slower Rich help.
    """

    def list_commands(self, ctx: Context) -> list[str]:
        from ycecli.features import FEATURES

        lazy = [f.command for f in FEATURES if not f.hidden and f.command not in self.commands]
        return lazy + super().list_commands(ctx)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            from ycecli.features import FEATURES

            feature = next((f for f in FEATURES if f.command == cmd_name and not f.hidden), None)
            if feature is not None:
                from ycecli.cli.features_cmd import build_command

                command = build_command(feature)
                self.add_command(command, cmd_name)
        return command

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(self, ctx, list(args)))

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        # Typer suggests close names only among commands already built; the lazy
        # feature commands count too.
        if args and not args[0].startswith("-") and args[0] not in self.list_commands(ctx):
            from difflib import get_close_matches

            close = get_close_matches(args[0], self.list_commands(ctx))
            if close:
                names = ", ".join(repr(c) for c in close)
                ctx.fail(f"No such command {args[0]!r}. Did you mean {names}?")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        from ycecli.features import FEATURES, GROUPS

        summaries = {f.command: (f.group, f.summary) for f in FEATURES if not f.hidden}
        sections: dict[str, list[tuple[str, str]]] = {}
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        for name in names:
            if name in summaries and name not in self.commands:
                panel, summary = summaries[name]
                sections.setdefault(panel, []).append((name, _shorten(summary, limit)))
                continue
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            panel = getattr(cmd, "rich_help_panel", None) or TOOLS_PANEL
            sections.setdefault(panel, []).append((name, cmd.get_short_help_str(limit)))
        for panel in (*GROUPS, TOOLS_PANEL):
            if sections.get(panel):
                with formatter.section(panel):
                    formatter.write_dl(sections[panel])


# The root's options that may also follow the command (`yce enhance x.jpg --json`), as
# aws and httpie allow: flags, and the options that take a value.
GLOBAL_FLAGS = ("--json", "--quiet", "-q", "--debug", "--sandbox")
GLOBAL_VALUED = ("--profile", "-p")


def _valued_options(command: Command) -> set[str]:
    """The option names of a command that take a value: the token after them is that
    value, never a global option."""
    names: set[str] = set()
    for param in getattr(command, "params", []):
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            continue
        if param.param_type_name == "option":
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


def _own_options(command: Command) -> set[str]:
    names: set[str] = set()
    for param in getattr(command, "params", []):
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


def hoist_global_options(group: Command, ctx: Context, args: list[str]) -> list[str]:
    """Move the global options found after the command to before it, so Click parses
    them as the root's. Values of the command's own options are left alone, as is
    everything after `--`, and an option the command declares itself stays its own."""
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "--":
        token = args[index]
        index += 2 if token in GLOBAL_VALUED else 1
    if index >= len(args) or args[index] == "--":
        return args
    head, rest = args[:index], args[index:]
    command = group
    valued: set[str] = set()
    own: set[str] = set()
    hoisted: list[str] = []
    kept: list[str] = []
    i = 0
    expect_name = True
    while i < len(rest):
        token = rest[i]
        if token == "--":
            kept.extend(rest[i:])
            break
        if expect_name and not token.startswith("-") and hasattr(command, "get_command"):
            sub = command.get_command(ctx, token)
            if sub is not None:
                command = sub
                valued, own = _valued_options(sub), _own_options(sub)
                expect_name = hasattr(sub, "get_command")
                kept.append(token)
                i += 1
                continue
            expect_name = False
        name = token.split("=", 1)[0]
        if name not in own and (token in GLOBAL_FLAGS or name in GLOBAL_VALUED):
            if token in GLOBAL_FLAGS or "=" in token:
                hoisted.append(token)
                i += 1
            elif i + 1 == len(rest):
                ctx.fail(f"Option {token!r} requires an argument.")
            else:
                hoisted.extend(rest[i : i + 2])
                i += 2
            continue
        step = 2 if token in valued else 1
        kept.extend(rest[i : i + step])
        i += step
    return head + hoisted + kept if hoisted else args


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 3)].rstrip() + "..."


app = typer.Typer(
    name="yce",
    cls=GroupedHelp,
    help="yce: the YouCam Online Editor AI APIs from the command line.\n\n"
    "Try it with no account: yce --sandbox enhance photo.jpg --scale 2",
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: "
    + "; ".join(f"{int(code)} {text}" for code, text in EXIT_STATUS_MEANING.items())
    + "\n\n"
    + examples(
        "yce --sandbox enhance photo.jpg --scale 2     # try it with no account",
        "yce profile add work --client-id YOUR_API_KEY --client-secret-stdin < secret.txt",
        "yce enhance a.jpg b.png --scale 4 -o out/",
        "id=$(yce --json bg-remove product.jpg | jq -r '.dst_ids[0]')",
        'yce enhance "id:$id" --scale 2                # chain without re-uploading',
    ),
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
        completion_cmd,
        profile_cmd,
        sandbox_cmd,
        styles_cmd,
        task_cmd,
        units_cmd,
    )

    # Feature commands are added on first use by GroupedHelp.get_command.
    app.add_typer(styles_cmd.app, name="styles", rich_help_panel=TOOLS_PANEL)
    app.add_typer(units_cmd.app, name="units", rich_help_panel=TOOLS_PANEL)
    app.add_typer(task_cmd.app, name="task", rich_help_panel=TOOLS_PANEL)
    app.add_typer(profile_cmd.app, name="profile", rich_help_panel=TOOLS_PANEL)
    app.add_typer(auth_cmd.app, name="auth", rich_help_panel=TOOLS_PANEL)
    app.add_typer(sandbox_cmd.app, name="sandbox", rich_help_panel=TOOLS_PANEL)
    app.add_typer(completion_cmd.app, name="completion", rich_help_panel=TOOLS_PANEL)


_register()


def main() -> None:
    """Console-script entry point."""
    from ycecli.cli.guard import handle_sigterm

    handle_sigterm()
    app(prog_name="yce")
