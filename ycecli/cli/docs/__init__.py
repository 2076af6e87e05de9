"""Shell completion scripts and man pages, generated from the command tree.

    python -m ycecli.cli.docs --write    # regenerate completions/ and man/
    python -m ycecli.cli.docs --check    # exit 1 if the committed files are stale

One module per output: tree (the command tree as a neutral model: commands, options,
choices, help and examples, from the Click commands Typer builds and the registry),
bash, zsh, fish and man. The generators are given the app; nothing here imports
ycecli.cli.app (which imports `yce completion`, which uses this package), only
__main__ does. The output depends on nothing but the code (no clock, no
environment), so the committed files can be compared with it (tests/test_completion.py,
tests/test_man.py).

Completion design: the scripts are static. Commands, options, choices (finger
names, occlusion, scales, skin concerns, ...) and which options take a value are
written into the script itself, so most TABs run no Python at all: instant, even on a
slow machine, and the script can be read and reviewed. Only values that live in the
user's files are asked for at TAB time, through the hidden, offline
`yce completion words profiles|styles FEATURE` (profile names from the config file,
style ids from the style cache that `--style` lookups fill); it never touches the
network and prints nothing on error. The alternative, Click's `_YCE_COMPLETE`
callback, would start Python and build the whole command tree on every TAB (over
100 ms on a busy machine) and could not be committed to completions/ as files to
review and package.

This package is imported only by `yce completion show|install` and by this
generator, never for `yce --help`.
"""

from __future__ import annotations

import typer
from typer import _click as click

from ycecli.cli.docs import bash, fish, man, zsh
from ycecli.cli.docs.tree import MARKER, Command, command_tree

__all__ = [
    "COMPLETION_FILES",
    "MARKER",
    "SHELLS",
    "command_tree",
    "completion_script",
    "generated_files",
    "man_pages",
]

SHELLS = ("bash", "zsh", "fish")
COMPLETION_FILES = {"bash": "yce.bash", "zsh": "_yce", "fish": "yce.fish"}
_SCRIPTS = {"bash": bash.script, "zsh": zsh.script, "fish": fish.script}

App = typer.Typer | click.Command | Command


def _tree(app: App) -> Command:
    return app if isinstance(app, Command) else command_tree(app)


def completion_script(shell: str, app: App) -> str:
    """The completion script for bash, zsh or fish (the text of completions/), for the
    app, its root Click command or its command_tree()."""
    if shell not in _SCRIPTS:
        raise ValueError(f"unknown shell {shell!r}: one of {', '.join(SHELLS)}")
    return _SCRIPTS[shell](_tree(app))


def man_pages(app: App) -> dict[str, str]:
    """{file name: roff text}: yce.1, one page per feature command and per tool group."""
    return man.pages(_tree(app))


def generated_files(app: App) -> dict[str, str]:
    """{path relative to the repository: text} for completions/ and man/."""
    root = _tree(app)
    files = {f"completions/{COMPLETION_FILES[s]}": completion_script(s, root) for s in SHELLS}
    files.update({f"man/{name}": text for name, text in man_pages(root).items()})
    return files
