"""Unix streams for feature commands: `-` as the input reads stdin, `-o -` writes the
one result to stdout, so yce sits in a pipe like convert or curl:

    curl -s URL | yce bg-remove - -o - | convert - out.webp

Messages keep going to stderr; stdout carries the result's bytes and nothing else.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from ycecli.errors import InvalidInput, UsageError
from ycecli.files import write_atomic
from ycecli.validate import sniff_content_type

STDIN = "-"
STDIN_STEM = "stdin"
_SUFFIX = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
}


def takes_stdin(texts: list[str], from_file: str | None) -> bool:
    """Whether the input is stdin; `-` must then be the only input."""
    if STDIN not in texts:
        return False
    if len(texts) > 1:
        raise UsageError(
            "`-` (stdin) must be the only input",
            hint="Pipe one file in, or pass the files as arguments (several inputs).",
        )
    if from_file == STDIN:
        raise UsageError(
            "`-` (stdin) as the input and --from-file - cannot both read stdin",
            hint="Use --from-file - for a list of paths, or `-` for one file's bytes.",
        )
    return True


def read_stdin(folder: Path) -> Path:
    """Save stdin to `folder/stdin.<ext>`, the extension sniffed from its content, so
    the default output is named `stdin_<command>...` in the current directory."""
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError(
            "`-` reads the input from stdin, but stdin is a terminal",
            hint="Pipe a file in: cat photo.jpg | yce enhance - ...",
        )
    data = sys.stdin.buffer.read()
    if not data:
        raise InvalidInput("stdin (`-`): the input is empty", hint="Pipe a file's bytes in.")
    content_type = sniff_content_type(data[:32])
    path = folder / f"{STDIN_STEM}{_SUFFIX.get(content_type or '', '.bin')}"
    return write_atomic(path, data, private=True)


def check_stdout_sink(*, inputs: int, json_mode: bool) -> None:
    """`-o -` writes one result's bytes to stdout: refuse what would mix or garble it."""
    if json_mode:
        raise UsageError(
            "-o - writes the result's bytes to stdout, where --json writes its objects",
            hint="Drop --json, or write the result to a file with -o PATH.",
        )
    if inputs != 1:
        raise UsageError(
            f"-o - writes one result to stdout, but {inputs} inputs were given",
            hint="Give one input, or write the results into a folder: -o out/",
        )
    if sys.stdout.isatty():
        raise UsageError(
            "-o - would write the result's bytes to the terminal",
            hint="Pipe or redirect stdout (-o - | convert - out.webp), or use -o PATH.",
        )


def write_to_stdout(files: list[str], command: str) -> None:
    if len(files) != 1:
        raise InvalidInput(
            f"{command} gave {len(files)} result files; -o - writes exactly one",
            hint="Write them into a folder instead: -o out/",
        )
    with open(files[0], "rb") as fh:
        shutil.copyfileobj(fh, sys.stdout.buffer, 1 << 20)
    sys.stdout.buffer.flush()
