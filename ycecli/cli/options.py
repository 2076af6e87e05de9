"""Options shared by several commands, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

OutputOpt = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="Where to write: a file (one input) or a directory (ends with / or exists). "
        "Default: <input>_<command>.<ext> in the current directory.",
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
        min=1,
        help="Give up waiting after this many seconds (default: the profile's task_timeout, "
        "900); the task id is printed so `yce task wait` can pick it up.",
        show_default=False,
    ),
]
