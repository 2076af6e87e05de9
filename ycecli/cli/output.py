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
from typing import Any

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


def _human_bytes(n: int | None) -> str:
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
        self, *, json_mode: bool = False, quiet: bool = False, progress: bool | None = None
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        if progress is None:
            progress = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
        self.fancy = progress and not quiet
        self._progress = None
        self._rows: dict[str, Any] = {}
        self._phase: dict[str, str] = {}

    # -- plain lines --------------------------------------------------------------

    def note(self, message: str) -> None:
        if self.quiet:
            return
        message = terminal_safe(message)
        if self._progress is not None:
            self._progress.console.print(message, markup=False, highlight=False)
        else:
            print(message, file=sys.stderr, flush=True)

    def error(self, message: str, hint: str | None = None) -> None:
        self.stop()
        print(f"error: {terminal_safe(message)}", file=sys.stderr, flush=True)
        if hint:
            print(f"hint: {terminal_safe(hint)}", file=sys.stderr, flush=True)

    def data(self, obj: Any) -> None:
        """One machine-readable object on stdout."""
        sys.stdout.write(json.dumps(obj, default=str) + "\n")
        sys.stdout.flush()

    def out(self, text: str) -> None:
        sys.stdout.write(terminal_safe(text) + "\n")
        sys.stdout.flush()

    # -- task progress ----------------------------------------------------------

    def on_event(self, event) -> None:
        if self.quiet:
            return
        if self.fancy:
            self._fancy(event)
        else:
            self._plain(event)

    def _plain(self, event) -> None:
        label = event.label
        kind = event.kind
        key = f"{label}:{kind}:{event.message or ''}"
        if kind == "upload" and event.done == 0:
            self.note(f"{label}: uploading {_human_bytes(event.total)}")
        elif kind == "submitted":
            self.note(f"{label}: task {event.task_id} submitted")
        elif kind == "status":
            if self._phase.get(label) != event.status:
                self._phase[label] = event.status
                if event.status == "running":
                    self.note(f"{label}: running")
                else:
                    self.note(f"{label}: {event.status} after {event.elapsed:.1f} s")
        elif kind == "download" and event.done == 0 and key not in self._phase:
            self._phase[key] = "started"
            self.note(f"{label}: downloading to {event.message}")
        elif kind == "wait":
            self.note(f"{label}: {event.message}")

    def _ensure_progress(self):
        if self._progress is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(
                # File names are not Rich markup: "[/x]" in one must not raise.
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeElapsedColumn(),
                transient=False,
                # Rich's default console is stdout, which holds only results.
                console=Console(stderr=True),
            )
            self._progress.start()
        return self._progress

    def _fancy(self, event) -> None:
        """One line per input; each phase (upload, task, download) gets a fresh row so
        its bar and byte counts describe that phase only."""
        progress = self._ensure_progress()
        label = event.label
        shown = terminal_safe(label)
        phase = {"submitted": "task", "status": "task", "done": "download"}.get(
            event.kind, event.kind
        )
        current = self._rows.get(label)
        if event.kind == "wait":
            progress.console.print(
                terminal_safe(f"{label}: {event.message}"), markup=False, highlight=False
            )
            return
        if current is None or current[0] != phase:
            if current is not None:
                progress.remove_task(current[1])
            total = event.total if phase != "task" else None
            row = progress.add_task(f"{shown}: {phase}", total=total)
            self._rows[label] = (phase, row)
        row = self._rows[label][1]
        if event.kind in ("upload", "download"):
            progress.update(row, completed=event.done or 0, total=event.total)
        elif event.kind == "submitted":
            progress.update(row, description=f"{shown}: submitted")
        elif event.kind == "status":
            status = terminal_safe(event.status)
            progress.update(row, description=f"{shown}: {status} {event.elapsed:.0f}s")
        elif event.kind == "done":
            progress.update(row, description=f"{shown}: done")

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    # -- results -------------------------------------------------------------------

    def start_batch(self, total: int, budget=None) -> None:
        """Several inputs: an overall row (done of total, failures, requests left in
        the current rate windows) above the per-input rows."""
        self._batch = {"total": total, "done": 0, "failed": 0, "budget": budget}
        if self.fancy:
            progress = self._ensure_progress()
            self._batch["row"] = progress.add_task("batch", total=total)
            self._refresh_batch()

    def _refresh_batch(self) -> None:
        batch = getattr(self, "_batch", None)
        if not batch or "row" not in batch or self._progress is None:
            return
        left = ""
        if batch["budget"] is not None:
            try:
                left = f", {batch['budget']()} requests left in the window"
            except Exception:  # the budget is a nicety; never let it break a run
                left = ""
        description = f"batch: {batch['done']}/{batch['total']} done"
        if batch["failed"]:
            description += f", {batch['failed']} failed"
        self._progress.update(
            batch["row"], completed=batch["done"] + batch["failed"], description=description + left
        )

    def task_result(self, result) -> None:
        """Called once per finished (or failed) task."""
        batch = getattr(self, "_batch", None)
        if batch is not None:
            failed = result.status in ("error", "dropped", "timeout")
            batch["failed" if failed else "done"] += 1
            self._refresh_batch()
            row = self._rows.pop(result.input, None)
            if row is not None and self._progress is not None:
                self._progress.remove_task(row[1])
        if result.status == "skipped":
            # Done earlier: the paths go to stdout as for a fresh result, so a rerun of
            # a script's loop reads the same thing.
            where = ", ".join(result.files) or ", ".join(result.dst_ids) or "no files"
            self.note(f"{result.input}: skipped (done earlier): {where}")
        elif result.status == "not_run":
            self.note(f"{result.input}: {result.error_message}")
        elif result.status != "success" and batch is not None:
            # A failure in a batch shows once, when it happens; the summary counts it.
            detail = " ".join(p for p in (result.error, result.error_message) if p)
            self.note(f"{result.input}: failed: {detail}")
        if self.json_mode:
            self.data(result.to_dict())
            return
        if result.status == "skipped":
            for path in result.files:
                self.out(path)
        if result.status == "success":
            rows = result.extra.get("table") or []
            if rows:
                width = max(len(str(k)) for k, _ in rows)
                for key, value in rows:
                    self.out(f"{str(key).ljust(width)}  {value}")
            if result.files:
                for path in result.files:
                    self.out(path)
                self.note(f"{result.input}: wrote {', '.join(result.files)}")
            elif result.dst_ids:
                self.note(f"{result.input}: done; dst_id {', '.join(result.dst_ids)}")
