"""Turns every failure inside a command into a message and its documented exit
code, never a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer

from ycecli.errors import ExitStatus, YceError


def _state(args: tuple, kwargs: dict):
    from ycecli.cli.state import State

    for value in (*args, *kwargs.values()):
        # Typer may hand over its Click context rather than a typer.Context.
        if hasattr(value, "find_object"):
            obj = value.find_object(State)
            if obj is not None:
                return obj
    return None


def report_error(exc: YceError, state) -> int:
    from ycecli.cli.output import Reporter

    reporter = state.reporter if state is not None else Reporter()
    reporter.error(exc.message, exc.hint)
    if state is not None and state.json:
        result = getattr(exc, "result", None)
        reporter.data(result.to_dict() if result is not None else exc.to_dict())
    return int(exc.exit_status)


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
        except KeyboardInterrupt:
            if state is not None:
                state.reporter.stop()
            print(
                "\ninterrupted; a running task can be picked up with `yce task list` and "
                "`yce task wait FEATURE TASK_ID` (within its polling window)",
                file=sys.stderr,
            )
            raise typer.Exit(int(ExitStatus.INTERRUPTED)) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None  # `yce ... | head`: the reader left
        except Exception as exc:  # a bug: say so plainly, with the details under --debug
            if state is not None:
                state.reporter.stop()
            if state is not None and state.debug:
                import traceback

                traceback.print_exc()
            print(
                f"error: unexpected {type(exc).__name__}: {exc}\n"
                "hint: this is a bug in yce; rerun with --debug and report the output.",
                file=sys.stderr,
            )
            raise typer.Exit(int(ExitStatus.ERROR)) from None

    return wrapper
