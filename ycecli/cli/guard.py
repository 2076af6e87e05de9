"""Turns every failure inside a command into a message and its documented exit
code, never a traceback."""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from ycecli.errors import ExitStatus, YceError, local_error

if TYPE_CHECKING:
    from ycecli.cli.state import State


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so every interrupt path (journal kept,
    partial files removed, progress stopped) runs for a cancelled CI job too."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def handle_sigterm() -> None:
    """Make SIGTERM interrupt the main thread like Ctrl-C (Python's default is to die
    on the spot, leaving partial files and no message)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)


def _state(args: tuple, kwargs: dict) -> State | None:
    from ycecli.cli.state import State

    for value in (*args, *kwargs.values()):
        # Typer may hand over its Click context rather than a typer.Context.
        if hasattr(value, "find_object"):
            obj = value.find_object(State)
            if obj is not None:
                return obj
    return None


def report_error(exc: YceError, state: State | None) -> int:
    from ycecli.cli.output import Reporter

    reporter = state.reporter if state is not None else Reporter()
    reporter.error(exc.message, exc.hint)
    if state is not None and state.json:
        result = getattr(exc, "result", None)
        reporter.data(result.to_dict() if result is not None else exc.to_dict())
    return int(exc.exit_status)


def _journal_path(state: State | None) -> str:
    journal = getattr(getattr(state, "_yce", None), "_journal", None)
    if journal is not None:
        return str(journal.path)
    if state is not None:
        return str(state.paths().state_dir / "journal.sqlite3")
    return "the task journal"


def _as_local_error(exc: BaseException, state: State | None) -> YceError | None:
    """A local file-system failure (disk full, name too long...) or a journal write
    that SQLite refused, as a LocalError; None for anything else."""
    translated = local_error(exc)
    if isinstance(translated, YceError):
        return translated
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):
        from ycecli.journal import journal_error

        return journal_error(exc, _journal_path(state))
    return None


def _report_interrupt(exc: KeyboardInterrupt, state: State | None) -> int:
    if state is not None:
        state.reporter.stop()
    what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    print(
        f"\n{what}; started tasks are kept in the journal: `yce task resume` finishes "
        "them (within their polling window), `yce task list --open` lists them",
        file=sys.stderr,
    )
    return int(ExitStatus.TERMINATED if isinstance(exc, Terminated) else ExitStatus.INTERRUPTED)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = _state(args, kwargs)
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except YceError as exc:
            raise typer.Exit(report_error(exc, state)) from None
        except KeyboardInterrupt as exc:
            raise typer.Exit(_report_interrupt(exc, state)) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None  # `yce ... | head`: the reader left
        except Exception as exc:
            local = _as_local_error(exc, state)
            if local is not None:
                raise typer.Exit(report_error(local, state)) from None
            # A bug: say so plainly, with the details under --debug.
            from ycecli.cli.output import terminal_safe

            if state is not None:
                state.reporter.stop()
            if state is not None and state.debug:
                import traceback

                traceback.print_exc()
            print(
                terminal_safe(f"error: unexpected {type(exc).__name__}: {exc}")
                + "\nhint: this is a bug in yce; rerun with --debug and report the output.",
                file=sys.stderr,
            )
            raise typer.Exit(int(ExitStatus.ERROR)) from None

    return wrapper
