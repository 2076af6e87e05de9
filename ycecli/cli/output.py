"""Everything the CLI shows: results on stdout, messages and progress on stderr.

- `--json`: one JSON object per task (or per answer) on stdout, nothing else there.
- A terminal on stderr: a Rich progress display (imported only then).
- Anything else (a pipe, a CI log): plain one-line messages, no animation.
- `--quiet`: errors only. NO_COLOR is honoured by Rich and by the plain messages.

Text shown to a person passes through `terminal_safe`: error messages, task ids, file
names and style names come from the server or from URLs, and an escape sequence in
them must show as text, not clear the screen or rewrite what was printed before.
`--json` is exact: JSON escapes control characters itself.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from ycecli.api import Event, TaskResult
    from ycecli.cli.progress import LiveView

# C0 and C1 controls (ESC starts a sequence, CR and BS rewrite a line, 0x9b is a
# one-byte CSI) and the bidirectional overrides that make text read differently
# from what it is. Tab is harmless and lines up tables.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_safe(text: object) -> str:
    """`text` with every control character written out (`\\x1b[2J`, `\\n`), so it
    prints as one inert line."""
    return _UNSAFE.sub(_escape, str(text))


def human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


class Reporter:
    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        progress: bool | None = None,
        console: Console | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        if progress is None:
            progress = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
        self.fancy = progress and not quiet
        self._console = console  # tests pass a recording one; else stderr's
        self._view: LiveView | None = None
        self._phase: dict[str, str | None] = {}
        self._batch_size = 0
        # Set by a feature run: a task's units at the learned price (0 when not
        # charged, None when the price is unknown), the `units` of its `--json` line.
        self.task_units = None

    # -- plain lines --------------------------------------------------------------

    def note(self, message: str) -> None:
        if self.quiet:
            return
        message = terminal_safe(message)
        if self._view is not None and self._view.active:
            self._view.print(message)
        else:
            print(message, file=sys.stderr, flush=True)

    def error(self, message: str, hint: str | None = None) -> None:
        self.stop()
        print(f"error: {terminal_safe(message)}", file=sys.stderr, flush=True)
        if hint:
            print(f"hint: {terminal_safe(hint)}", file=sys.stderr, flush=True)

    def data(self, obj: Any) -> None:
        """One machine-readable object on stdout."""
        self._stdout(json.dumps(obj, default=str))

    def out(self, text: str) -> None:
        self._stdout(terminal_safe(text))

    def _stdout(self, line: str) -> None:
        if self._view is not None and self._view.active and sys.stdout.isatty():
            # The same terminal as the display: printed above it, not through it.
            self._view.print(line)
            return
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    # -- task progress ----------------------------------------------------------

    def on_event(self, event: Event) -> None:
        if self.quiet:
            return
        if self.fancy:
            self._fancy(event)
        else:
            self._plain(event)

    def on_wait(self, why: str, seconds: float) -> None:
        """The client or the shared budget holds every request for `seconds`."""
        from ycecli.api import Event

        self.on_event(Event("wait", label="yce", message=why, seconds=seconds))

    def _plain(self, event: Event) -> None:
        label = event.label
        kind = event.kind
        key = f"{label}:{kind}:{event.message or ''}"
        if kind == "upload" and event.done == 0:
            self.note(f"{label}: uploading {human_bytes(event.total)}")
        elif kind == "submitted":
            self.note(f"{label}: task {event.task_id} submitted")
        elif kind == "status":
            if self._phase.get(label) != event.status:
                self._phase[label] = event.status
                if event.status == "running":
                    expected = f" (expected ~{event.expected:.0f} s)" if event.expected else ""
                    self.note(f"{label}: running{expected}")
                else:
                    self.note(f"{label}: {event.status} after {event.elapsed:.1f} s")
        elif kind == "download" and event.done == 0 and key not in self._phase:
            self._phase[key] = "started"
            self.note(f"{label}: downloading to {event.message}")
        elif kind == "wait":
            self.note(f"{label}: {event.message}")

    def _live(self) -> LiveView:
        if self._view is None:
            from ycecli.cli.progress import LiveView

            if self._console is None:
                from rich.console import Console

                # Rich's default console is stdout, which holds only results.
                self._console = Console(stderr=True)
            self._view = LiveView(self._console)
        if not self._view.active:
            self._view.start()
        return self._view

    def _fancy(self, event: Event) -> None:
        view = self._live()
        if event.kind == "wait" and not event.seconds:
            # Waits with no known end (another process, a resumed task) are news
            # worth a line of their own.
            view.print(terminal_safe(f"{event.label}: {event.message}"))
            return
        view.event(event)

    def expect(self, labels: list[str], budget: Callable[[], Any] | None = None) -> None:
        """The inputs about to run. Several get a header counting files, failures and
        the requests left in the current rate windows; each shows as queued until its
        turn."""
        self._batch_size = len(labels)
        if self.fancy:
            self._live().expect(labels, budget)

    def stop(self) -> None:
        if self._view is not None:
            self._view.stop()

    # -- results -------------------------------------------------------------------

    def task_result(self, result: TaskResult) -> None:
        """Called once per finished (or failed) task."""
        batch = self._batch_size > 1
        if self._view is not None:
            self._view.finished(result.input, result.status)
        if result.status == "skipped":
            # Done earlier: the paths go to stdout as for a fresh result, so a rerun of
            # a script's loop reads the same thing.
            where = ", ".join(result.files) or ", ".join(result.dst_ids) or "no files"
            self.note(f"{result.input}: skipped (done earlier): {where}")
        elif result.status == "not_run":
            self.note(f"{result.input}: {result.error_message}")
        elif result.status != "success" and batch:
            # A failure in a batch shows once, when it happens; the summary counts it.
            detail = " ".join(p for p in (result.error, result.error_message) if p)
            self.note(f"{result.input}: failed: {detail}")
        if self.json_mode:
            line = result.to_dict()
            if self.task_units is not None:
                line["units"] = self.task_units(result)
            self.data(line)
            return
        if result.status == "skipped":
            for path in result.files:
                self.out(path)
        if result.status == "success":
            # Paths first, each on its own line: a picture to open (faces, a contact
            # sheet) is the first line, not the last of a long table.
            for path in result.files:
                self.out(path)
            rows = result.extra.get("table") or []
            if rows:
                width = max(len(str(k)) for k, _ in rows)
                for key, value in rows:
                    self.out(f"{str(key).ljust(width)}  {value}")
            if result.files:
                if not (self.fancy and sys.stdout.isatty()):
                    # Said for whoever reads stderr apart from stdout; on one terminal
                    # the paths just printed say it already.
                    self.note(f"{result.input}: wrote {', '.join(result.files)}")
            elif result.dst_ids:
                self.note(f"{result.input}: done; dst_id {', '.join(result.dst_ids)}")
