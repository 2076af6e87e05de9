"""The live progress display shown when stderr is a terminal (Rich, imported only then).

Each input gets one row that says what is happening to it now, in the unit that
phase has: bytes while a file moves, the task's state and its elapsed time (and the
time the scheduler expects it to take) while the API works, "queued" while it waits
its turn. Several inputs get a header that counts files, failures and the requests
left. A rate-limit wait shows with the seconds left, counting down. Rows are redrawn
from this model four times a second, so elapsed times move between polls.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ycecli.cli.output import human_bytes, terminal_safe

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.live import Live

    from ycecli.api import Event

BAR_WIDTH = 24
# Rows above and below the inputs: header, wait line, "... more" line, a spare.
CHROME_LINES = 4
_WAITING_PREFIX = re.compile(r"^waiting \d+(\.\d+)? s ?")


@dataclass
class _Row:
    phase: str  # starting, queued, upload, task, download, done
    since: float
    done: int = 0
    total: int | None = None
    status: str = ""
    elapsed: float = 0.0
    elapsed_at: float = 0.0
    expected: float | None = None


@dataclass
class _Batch:
    total: int
    budget: Callable[[], Any] | None
    started: float
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    not_run: int = 0

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed + self.skipped + self.not_run


@dataclass
class _Wait:
    message: str
    until: float


# What is drawn first when there are more rows than lines: the inputs whose bytes or
# task are moving, then those waiting.
_ORDER = {
    "download": 0,
    "done": 0,
    "task": 1,
    "upload": 2,
    "uploaded": 2,
    "starting": 3,
    "queued": 3,
}


@dataclass
class LiveView:
    console: Console
    clock: Callable[[], float] = time.monotonic
    rows: dict[str, _Row] = field(default_factory=dict)
    inputs: set[str] = field(default_factory=set)
    batch: _Batch | None = None
    wait: _Wait | None = None

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._live: Live | None = None

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        from rich.live import Live

        if self._live is None:
            # Nothing redirected: results must reach stdout even when it is a file
            # and only stderr is the terminal.
            self._live = Live(
                self,
                console=self.console,
                refresh_per_second=4,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    @property
    def active(self) -> bool:
        return self._live is not None

    def print(self, text: str) -> None:
        """A line above the display (Rich keeps the display below it)."""
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    # -- the model ----------------------------------------------------------------

    def expect(self, labels: list[str], budget: Callable[[], Any] | None = None) -> None:
        """The inputs of this run: each shows as queued until something happens to it;
        several get the batch header."""
        with self._lock:
            now = self.clock()
            self.inputs.update(labels)
            # One input is checked and sent at once; only a batch's inputs wait a turn.
            first = "queued" if len(labels) > 1 else "starting"
            for label in labels:
                self.rows.setdefault(label, _Row(first, now))
            if len(labels) > 1:
                self.batch = _Batch(total=len(labels), budget=budget, started=now)

    def event(self, event: Event) -> None:
        with self._lock:
            now = self.clock()
            label = event.label
            row = self.rows.get(label)
            kind = event.kind
            if kind == "wait":
                if event.seconds:
                    self.wait = _Wait(event.message or "waiting", now + event.seconds)
                return
            if kind == "upload":
                if row is None or row.phase != "upload":
                    row = self.rows[label] = _Row("upload", now)
                row.done, row.total = event.done or 0, event.total
                if row.total is not None and row.done >= row.total and row.done > 0:
                    if label in self.inputs:
                        # Uploaded; the task starts when the budget lets it.
                        self.rows[label] = _Row("queued" if self.batch else "uploaded", now)
                    else:
                        # A reference or mask file of some input: nothing more to show.
                        del self.rows[label]
            elif kind in ("submitted", "status"):
                if row is None or row.phase != "task":
                    row = self.rows[label] = _Row("task", now, elapsed_at=now)
                row.status = event.status or "submitted"
                if event.elapsed is not None:
                    row.elapsed, row.elapsed_at = event.elapsed, now
                if event.expected is not None:
                    row.expected = event.expected
            elif kind == "download":
                if row is None or row.phase != "download" or event.done == 0:
                    row = self.rows[label] = _Row("download", now)
                row.done, row.total = event.done or 0, event.total
            elif kind == "done" and row is not None:
                row.phase = "done"

    def finished(self, label: str, status: str) -> None:
        with self._lock:
            self.rows.pop(label, None)
            if self.batch is not None:
                if status == "success":
                    self.batch.succeeded += 1
                elif status == "skipped":
                    self.batch.skipped += 1
                elif status == "not_run":
                    self.batch.not_run += 1
                else:
                    self.batch.failed += 1

    # -- drawing ------------------------------------------------------------------

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.table import Table
        from rich.text import Text

        with self._lock:
            now = self.clock()
            if self.batch is not None:
                header = Table.grid(padding=(0, 1))
                header.add_column(no_wrap=True)
                header.add_column(no_wrap=True)
                header.add_column(no_wrap=True, overflow="ellipsis")
                header.add_row(*self._header(now))
                yield header
            if self.wait is not None:
                left = self.wait.until - now
                if left <= 0:
                    self.wait = None
                else:
                    rest = _WAITING_PREFIX.sub("", self.wait.message)
                    line = terminal_safe(f"waiting {left:.0f} s {rest}".rstrip())
                    yield Text(line, no_wrap=True, overflow="ellipsis")
            rows = sorted(self.rows.items(), key=lambda item: _ORDER.get(item[1].phase, 9))
            room = max(1, (options.height or console.height) - CHROME_LINES)
            shown, hidden = rows[:room], rows[room:]
            if shown:
                grid = Table.grid(padding=(0, 1))
                label_width = max(12, options.max_width // 3)
                grid.add_column(no_wrap=True, overflow="ellipsis", max_width=label_width)
                grid.add_column(no_wrap=True)
                grid.add_column(no_wrap=True, overflow="ellipsis")
                for label, row in shown:
                    grid.add_row(terminal_safe(label), *self._cells(row, now))
                yield grid
            if hidden:
                queued = sum(1 for _, row in hidden if row.phase == "queued")
                busy = len(hidden) - queued
                kinds = [
                    f"{n} {what}" for n, what in ((busy, "in progress"), (queued, "queued")) if n
                ]
                more = f"… {len(hidden)} more: " + ", ".join(kinds)
                yield Text(more, no_wrap=True)

    def _header(self, now: float) -> tuple:
        from rich.progress_bar import ProgressBar

        batch = self.batch
        assert batch is not None  # drawn only for a batch
        parts = [f"{batch.finished}/{batch.total} files"]
        if batch.failed:
            parts.append(f"{batch.failed} failed")
        if batch.skipped:
            parts.append(f"{batch.skipped} skipped")
        running = sum(1 for row in self.rows.values() if row.phase != "queued")
        queued = sum(1 for row in self.rows.values() if row.phase == "queued")
        if running:
            parts.append(f"{running} in progress")
        if queued:
            parts.append(f"{queued} queued")
        if batch.budget is not None:
            # The budget is a nicety; never let it break a run.
            with contextlib.suppress(Exception):
                parts.append(f"{batch.budget()} requests left")
        parts.append(_clock(now - batch.started))
        bar = ProgressBar(total=batch.total, completed=batch.finished, width=BAR_WIDTH)
        return "batch", bar, ", ".join(parts)

    def _cells(self, row: _Row, now: float) -> tuple:
        from rich.progress_bar import ProgressBar
        from rich.text import Text

        if row.phase in ("queued", "starting", "uploaded"):
            return Text(""), row.phase
        if row.phase in ("upload", "download"):
            bar = ProgressBar(total=row.total, completed=row.done, width=BAR_WIDTH)
            moved = human_bytes(row.done)
            amount = f"{moved} of {human_bytes(row.total)}" if row.total else moved
            spent = now - row.since
            speed = f", {human_bytes(int(row.done / spent))}/s" if spent > 0.5 and row.done else ""
            return bar, f"{row.phase} {amount}{speed}"
        if row.phase == "done":
            return Text(""), "finishing"
        elapsed = row.elapsed + (now - row.elapsed_at)
        text = f"{terminal_safe(row.status)} {elapsed:.0f} s"
        if row.expected:
            text += f", expected ~{row.expected:.0f} s"
        return Text(""), text


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"
