"""Help text shared by the commands."""

from __future__ import annotations

HEADING = "Examples:"

# The heading `yce --help` lists the account and tool commands under, after the
# registry's groups of feature commands (ycecli.features.GROUPS).
TOOLS_PANEL = "Account and tools"


def examples(*commands: str) -> str:
    """An epilog listing one example a line.

    Click rewraps every paragraph of an epilog unless it starts with "\\b"; joined on
    one line, the examples would read as a shell pipeline.
    """
    return f"\b\n{HEADING}\n" + "\n".join(f"  {command}" for command in commands)


def parse_examples(epilog: str | None) -> tuple[str, ...]:
    """The examples an epilog written with examples() lists, in order; () if none.

    The man pages take a command's examples from here, so they are written once."""
    for paragraph in (epilog or "").split("\n\n"):
        lines = paragraph.split("\n")
        if lines[:2] == ["\b", HEADING]:
            return tuple(line.removeprefix("  ") for line in lines[2:] if line.strip())
    return ()
