"""Options shared by several commands, declared once."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer._click.types import FloatRange

if TYPE_CHECKING:
    from typer._click import Context, Parameter


class FiniteFloat(FloatRange):
    """A float option that refuses NaN and infinity as it refuses a value out of
    range (a usage error): NaN passes every range check, so `--timeout nan` would mean
    no timeout at all, and JSON has neither."""

    def convert(self, value: Any, param: Parameter | None, ctx: Context | None) -> float:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(
                f"{value} is not a finite number in the range {self._describe_range()}.",
                param,
                ctx,
            )
        return number


OutputOpt = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="Where to write: a file (one input; its extension picks the format), a "
        "directory (ends with / or exists), or - for stdout. Default: "
        "<input>_<command>[_<option>-<value>...].<ext> in the current directory, naming "
        "every option set to other than its default.",
        show_default=False,
    ),
]
OverwriteOpt = Annotated[
    bool, typer.Option("--overwrite", help="Replace output files that already exist.")
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        click_type=FiniteFloat(min=1),
        help="Give up waiting after this many seconds (default: the profile's task_timeout, "
        "900); the task id is printed so `yce task wait` can pick it up.",
        show_default=False,
    ),
]

ReportOpt = Annotated[
    str | None,
    typer.Option(
        "--report",
        help="Also write FILE.html: one self-contained page with each input's before and "
        "after thumbnails, status, parameters, task id, units and errors, and a filter "
        "for failures (replaces FILE).",
        metavar="FILE",
        show_default=False,
    ),
]

# Many inputs on one command (batch runs)
RecursiveOpt = Annotated[
    bool, typer.Option("--recursive", "-r", help="Include files in subfolders of directories.")
]
FromFileOpt = Annotated[
    str | None,
    typer.Option(
        "--from-file",
        help="Read inputs from FILE, one per line (- for stdin); # starts a comment.",
        show_default=False,
    ),
]
ShardOpt = Annotated[
    str | None,
    typer.Option(
        "--shard",
        help="K/N: process only a stable 1/N of the inputs (CI matrices: 1/4 ... 4/4).",
        show_default=False,
    ),
]
DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Check inputs and print the plan; spend nothing (units are priced from what "
        "`yce units history` learned, else unknown).",
    ),
]
MaxTasksOpt = Annotated[
    int | None,
    typer.Option(
        "--max-tasks", min=0, help="Start at most N tasks in this run.", show_default=False
    ),
]
FailFastOpt = Annotated[bool, typer.Option("--fail-fast", help="Stop at the first failed input.")]
RetryDroppedOpt = Annotated[
    bool,
    typer.Option(
        "--retry-dropped",
        help="Run again the inputs whose earlier task the API dropped (it may have been "
        "charged already; without this they are reported and left out).",
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Run inputs again even if the journal shows them done or possibly charged.",
    ),
]
