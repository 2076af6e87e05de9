"""`yce profile`: named sets of credentials and settings in the config file.

Secrets never come from argv (where `ps` and shell history would see them): they are
read from a no-echo prompt, or from stdin with --client-secret-stdin/--api-key-stdin.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ycecli.cli.guard import guarded
from ycecli.cli.helptext import examples
from ycecli.errors import ConfigError, ExitStatus, InvalidInput
from ycecli.jsonlines import shaped

app = typer.Typer(help="Add, list, show, select and remove profiles.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="Profile name.")]


def _config(ctx: typer.Context):
    from ycecli.config import ConfigFile

    return ConfigFile.load(ctx.obj.paths().config_file)


def _read_stdin_line(what: str) -> str:
    line = sys.stdin.readline()
    value = line.strip()
    if not value:
        raise InvalidInput(
            f"expected the {what} on stdin, got nothing",
            hint="Pipe it in: printf '%s\\n' \"$SECRET\" | yce profile add ...",
        )
    return value


@app.command(
    "add",
    epilog=examples(
        "yce profile add work --client-id YOUR_API_KEY --client-secret-stdin < secret.txt",
        "yce profile add shop --api-key-stdin < v2-key.txt",
        "yce profile add work  # prompts in a terminal",
    ),
)
@guarded
def add(
    ctx: typer.Context,
    name: NameArg,
    client_id: Annotated[
        str | None,
        typer.Option(
            "--client-id",
            help="v1 client_id (the 'API Key' shown in the API key dialog).",
            show_default=False,
        ),
    ] = None,
    client_secret_stdin: Annotated[
        bool,
        typer.Option(
            "--client-secret-stdin",
            help="Read the v1 client_secret (the 'Secret key') from the first line of stdin.",
        ),
    ] = False,
    api_key_stdin: Annotated[
        bool,
        typer.Option(
            "--api-key-stdin",
            help="Read the v2 API key from stdin (after the client secret, if both are piped).",
        ),
    ] = False,
    api_base: Annotated[
        str | None, typer.Option("--api-base", help="v1 server root.", show_default=False)
    ] = None,
    api_base_v2: Annotated[
        str | None, typer.Option("--api-base-v2", help="v2 server root.", show_default=False)
    ] = None,
    make_default: Annotated[
        bool, typer.Option("--default", help="Make it the default profile.")
    ] = False,
) -> None:
    """Create or update a profile. In a terminal, prompts for what is missing, checks
    each answer as it is given, and proves v1 credentials before saving."""
    from ycecli.auth import load_public_key
    from ycecli.config import normalise_base
    from ycecli.credentials import client_id_problem

    state = ctx.obj
    cfg = _config(ctx)
    values = dict(cfg.profiles.get(name, {}))
    interactive = sys.stdin.isatty() and not (client_secret_stdin or api_key_stdin)
    # Everything given on the command line is checked before the first prompt.
    if api_base:
        values["api_base"] = normalise_base(api_base, "--api-base")
    if api_base_v2:
        values["api_base_v2"] = normalise_base(api_base_v2, "--api-base-v2")
    if client_id:
        problem = client_id_problem(client_id)
        if problem:
            raise ConfigError(f"--client-id: {problem}")
        values["client_id"] = client_id.strip()
    if client_secret_stdin:
        values["client_secret"] = _read_stdin_line("client secret")
    if api_key_stdin:
        values["api_key"] = _read_stdin_line("API key")
    asked = False
    if interactive:
        try:
            asked = _prompt_for_missing(state, values)
        except _Cancelled:
            _cancel()
    values = {k: v for k, v in values.items() if v}
    if bool(values.get("client_id")) != bool(values.get("client_secret")):
        raise ConfigError(
            f"profile {name!r}: v1 needs both client_id and client_secret",
            hint="Pass --client-id and pipe the secret with --client-secret-stdin.",
        )
    if values.get("client_secret"):
        load_public_key(values["client_secret"], where="client_secret")
    if not (values.get("client_id") or values.get("api_key")):
        raise ConfigError(
            f"profile {name!r} would hold no credentials",
            hint="Give --client-id with --client-secret-stdin (v1), or --api-key-stdin (v2).",
        )
    if asked:
        try:
            _prove(state, name, values)
        except _Cancelled:
            _cancel()
    cfg.profiles[name] = values
    if make_default or not cfg.default_profile:
        cfg.default_profile = name
    cfg.save()
    state.reporter.note(
        f"saved profile {name!r} in {cfg.path}"
        + (" (default)" if cfg.default_profile == name else "")
    )


class _Cancelled(Exception):
    """Ctrl-C or end of input at a prompt."""


def _cancel() -> None:
    print("\ncancelled: nothing was saved", file=sys.stderr, flush=True)
    raise typer.Exit(int(ExitStatus.INTERRUPTED))


def _ask(question: str, problem, *, hide: bool = False, optional: bool = False) -> str | None:
    """Ask until the answer passes `problem` (which returns a reason, or None); a
    blank answer to an `optional` question is None. Prompts go to stderr, like every
    message: stdout holds results only."""
    while True:
        try:
            answer = typer.prompt(
                question,
                default="" if optional else None,
                show_default=False,
                hide_input=hide,
                err=True,
            )
        except typer.Abort:
            raise _Cancelled() from None
        answer = answer.strip()
        if not answer and optional:
            return None
        reason = problem(answer)
        if reason is None:
            return answer
        print(f"  {reason}; try again (Ctrl-C to stop)", file=sys.stderr, flush=True)


def _prompt_for_missing(state, values: dict) -> bool:
    """Ask for the credentials `values` lacks, checking each answer as it comes, so
    none is lost to a later one's mistake. True if anything was asked."""
    from ycecli.credentials import api_key_problem, client_id_problem, client_secret_problem

    secret_question = "v1 client_secret (the 'Secret key', input hidden)"
    if values.get("client_id") or values.get("api_key"):
        if values.get("client_id") and not values.get("client_secret"):
            values["client_secret"] = _ask(secret_question, client_secret_problem, hide=True)
            return True
        return False
    while True:
        values["client_id"] = _ask(
            "v1 client_id (the 'API Key'; blank to skip)", client_id_problem, optional=True
        )
        if values["client_id"]:
            values["client_secret"] = _ask(secret_question, client_secret_problem, hide=True)
        values["api_key"] = _ask(
            "v2 API key for ring/earring try-on (input hidden; blank to skip)",
            api_key_problem,
            hide=True,
            optional=True,
        )
        if values["client_id"] or values["api_key"]:
            return True
        print(
            "  a profile needs v1 credentials (client_id and client_secret), a v2 API "
            "key, or both; Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )


def _prove(state, name: str, values: dict) -> None:
    """Ask the server whether the new credentials work, before they are saved: v1
    gets an access token (and reads the balance, which is free). On refusal, the
    user chooses whether to save them anyway.

    The v2 documents (000-002) give no call that proves an API key without starting a
    task: their file endpoint's request and replies are not documented, and a task
    may be charged. So a v2 key is saved unchecked, and yce says so."""
    import os

    from ycecli.api import Yce
    from ycecli.config import DEFAULT_API_BASE, Profile, normalise_base
    from ycecli.errors import YceError

    if values.get("api_key"):
        state.reporter.note(
            "v2 API key not checked: the v2 API has no documented call that proves a key "
            "without starting a task (it is checked by the first try-on)"
        )
    if not values.get("client_id"):
        return
    base = values.get("api_base") or os.environ.get("YCE_API_BASE") or DEFAULT_API_BASE
    profile = Profile(
        name=name,
        client_id=values["client_id"],
        client_secret=values["client_secret"],
        api_base=normalise_base(base, "api_base"),
        max_retries=1,  # a person is waiting: one retry, not the batch's five
    )
    state.reporter.note(f"checking the v1 credentials with {profile.api_base} ...")
    try:
        with Yce(profile, paths=state.paths()) as yce:
            info = yce.auth_check()
    except YceError as exc:
        state.reporter.error(f"the credentials were not proven: {exc.message}", exc.hint)
        try:
            keep = typer.confirm("Save the profile anyway?", default=False, err=True)
        except typer.Abort:
            raise _Cancelled() from None
        if not keep:
            print("not saved", file=sys.stderr, flush=True)
            raise typer.Exit(int(exc.exit_status)) from None
        state.reporter.note("saving it unproven")
        return
    state.reporter.note(
        f"v1 credentials work: the server gave an access token; balance {info['units']} units"
    )


@app.command(
    "list",
    epilog=examples("yce profile list", "yce --json profile list"),
)
@guarded
def list_profiles(ctx: typer.Context) -> None:
    """List profiles; the default is marked with *."""
    state = ctx.obj
    cfg = _config(ctx)
    rows = []
    for name, values in cfg.profiles.items():
        kinds = [
            k
            for k, ok in (
                ("v1", values.get("client_id") and values.get("client_secret")),
                ("v2", values.get("api_key")),
            )
            if ok
        ]
        rows.append({"name": name, "default": name == cfg.default_profile, "apis": kinds})
    if state.json:
        for row in rows:
            state.reporter.data(shaped("profile", row))
        return
    if not rows:
        state.reporter.note(f"no profiles in {cfg.path}; add one with `yce profile add NAME`")
    for row in rows:
        mark = "*" if row["default"] else " "
        state.reporter.out(f"{mark} {row['name']}  ({', '.join(row['apis']) or 'no credentials'})")


@app.command(
    "show",
    epilog=examples(
        "yce profile show",
        "yce profile show work",
        "YCE_API_BASE=http://127.0.0.1:8080 yce profile show",
    ),
)
@guarded
def show(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Profile name (default: the active one).")
    ] = None,
) -> None:
    """Show a profile as yce resolves it (file + environment), secrets redacted."""
    from ycecli.config import load_profile

    state = ctx.obj
    profile = load_profile(name or state.profile, paths=state.paths())
    data = profile.redacted()
    data["sources"] = profile.sources
    if state.json:
        state.reporter.data(shaped("profile_detail", data))
        return
    for key, value in data.items():
        if key == "sources":
            continue
        origin = profile.sources.get(key)
        suffix = f"   ({origin})" if origin else ""
        state.reporter.out(f"{key}: {value if value is not None else '-'}{suffix}")


@app.command(
    "use",
    epilog=examples("yce profile use work", "yce profile use shop"),
)
@guarded
def use(ctx: typer.Context, name: NameArg) -> None:
    """Make a profile the default."""
    cfg = _config(ctx)
    if name not in cfg.profiles:
        raise ConfigError(
            f"no profile named {name!r} in {cfg.path}", hint="See `yce profile list`."
        )
    cfg.default_profile = name
    cfg.save()
    ctx.obj.reporter.note(f"default profile is now {name!r}")


@app.command(
    "remove",
    epilog=examples("yce profile remove old", "yce profile remove work"),
)
@guarded
def remove(ctx: typer.Context, name: NameArg) -> None:
    """Delete a profile (and its cached token)."""
    from ycecli.auth import TokenStore
    from ycecli.config import DEFAULT_API_BASE

    cfg = _config(ctx)
    values = cfg.profiles.pop(name, None)
    if values is None:
        raise ConfigError(
            f"no profile named {name!r} in {cfg.path}", hint="See `yce profile list`."
        )
    if cfg.default_profile == name:
        cfg.default_profile = next(iter(cfg.profiles), None)
    cfg.save()
    if values.get("client_id"):
        TokenStore(ctx.obj.paths()).drop(
            values.get("api_base", DEFAULT_API_BASE), values["client_id"]
        )
    ctx.obj.reporter.note(f"removed profile {name!r}")
