"""Help text shared by the commands."""

from __future__ import annotations


def examples(*commands: str) -> str:
    """An epilog listing one example a line.

    Click rewraps every paragraph of an epilog unless it starts with "\\b"; joined on
    one line, the examples would read as a shell pipeline.
    """
    return "\b\nExamples:\n" + "\n".join(f"  {command}" for command in commands)
