"""Commands yce prints for the user to paste into a shell.

Task ids, file names, profile names and tokens come from the user or the server, and
may hold quotes, `$(...)`, spaces or newlines; pasted unquoted, they would run.
"""

from __future__ import annotations

import shlex


def shell_command(*args: object) -> str:
    """`args` as one line a POSIX shell reads back as exactly these words."""
    return " ".join(shlex.quote(str(arg)) for arg in args)
