"""`yce sandbox serve`: the local emulator as a standalone server for pipelines."""

from __future__ import annotations

import shlex
import signal
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from ycecli.cli.guard import guarded
from ycecli.cli.helptext import examples
from ycecli.cli.options import FiniteFloat
from ycecli.jsonlines import shaped

if TYPE_CHECKING:
    from ycecli.cli.state import State

app = typer.Typer(help="Run the local API emulator.", no_args_is_help=True)


@app.command(
    "serve",
    epilog=examples(
        "yce sandbox serve --port 8080 --task-seconds 1",
        "yce sandbox serve --port 0 --units 5",
        "yce --json sandbox serve --port 0",
    ),
)
@guarded
def serve(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free one).")
    ] = 8080,
    task_seconds: Annotated[
        float,
        typer.Option(
            "--task-seconds", click_type=FiniteFloat(min=0), help="How long each task takes."
        ),
    ] = 1.0,
    units: Annotated[int, typer.Option("--units", min=0, help="Starting unit balance.")] = 1000,
) -> None:
    """Serve the sandbox on 127.0.0.1 until interrupted, printing the environment a
    script needs: eval "$(yce sandbox serve --port 0 &)" is not enough, so copy the
    lines, or read them from the first lines of output."""
    from ycecli.sandbox.server import Sandbox, SandboxConfig

    state: State = ctx.obj
    config = SandboxConfig(task_seconds=task_seconds, initial_units=units)
    sandbox = Sandbox(port=port, config=config).start()
    env = sandbox.env()
    if state.json:
        state.reporter.data(shaped("sandbox", {"url": sandbox.url, "env": env}))
    else:
        for key, value in env.items():
            state.reporter.out(f"export {key}={shlex.quote(value)}")
        state.reporter.note(f"sandbox listening on {sandbox.url}; Ctrl-C to stop")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
