"""The local task journal: SQLite under the state dir.

Every task is written here before its run request is sent (with the request_id it
will use) and again, with its task_id, before its first poll. A run interrupted at
any point can therefore be picked up again: re-sent with the same request_id (the
server ignores duplicates, so nothing is charged twice) or re-polled by task id.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ycecli.config import ensure_private_dir
from ycecli.errors import LocalError, local_error
from ycecli.shell import shell_command

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    account TEXT NOT NULL,
    api_base TEXT NOT NULL,
    feature TEXT NOT NULL,
    request_id INTEGER,
    task_id TEXT,
    state TEXT NOT NULL,
    inputs TEXT NOT NULL DEFAULT '[]',
    file_ids TEXT NOT NULL DEFAULT '{}',
    params TEXT NOT NULL DEFAULT '{}',
    outputs TEXT NOT NULL DEFAULT '[]',
    results TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    error_message TEXT,
    fingerprint TEXT
);
CREATE INDEX IF NOT EXISTS tasks_task_id ON tasks (feature, task_id);
CREATE TABLE IF NOT EXISTS request_ids (
    account TEXT PRIMARY KEY,
    next_id INTEGER NOT NULL
);
"""

# States a task moves through. "submitting" has a request_id but maybe no task_id yet.
SUBMITTING, RUNNING, SUCCEEDED, DONE, FAILED, TIMED_OUT, DROPPED = (
    "submitting",
    "running",
    "succeeded",  # the engine finished; results not all on disk yet
    "done",
    "error",
    "timeout",
    "dropped",
)
OPEN_STATES = (SUBMITTING, RUNNING, SUCCEEDED, TIMED_OUT)

_JSON_COLUMNS = ("inputs", "file_ids", "params", "outputs", "results")


@dataclass
class TaskRecord:
    id: int
    created_at: float
    updated_at: float
    account: str
    api_base: str
    feature: str
    request_id: int | None
    task_id: str | None
    state: str
    inputs: list
    file_ids: dict
    params: dict
    outputs: list
    results: list
    error: str | None
    error_message: str | None
    fingerprint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        refuse_unusable(path)
        ensure_private_dir(path.parent)
        new = not path.exists()
        # Batch runs download results on worker threads, which journal them too.
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        if new:
            path.chmod(0o600)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        columns = {row["name"] for row in self.db.execute("PRAGMA table_info(tasks)")}
        if "fingerprint" not in columns:  # journals written before batch runs existed
            self.db.execute("ALTER TABLE tasks ADD COLUMN fingerprint TEXT")
        self.db.execute(
            "CREATE INDEX IF NOT EXISTS tasks_fingerprint ON tasks (account, fingerprint)"
        )

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> Journal:
        return cls(state_dir / "journal.sqlite3")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front, so concurrent yce processes
        # never hand out the same request_id.
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _read(self, query: str, args: tuple | list = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self.db.execute(query, args).fetchall()

    def next_request_id(self, account: str) -> int:
        """A request_id never used before by this account from this machine.

        003 calls request_id an "incremental request number starting from 0" and
        says requests repeating one "will be ignored", without saying whether that is
        per token, per file or per feature. A counter per account satisfies every
        reading: a new task can never be mistaken for an old one and skipped.
        """
        with self._write() as db:
            row = db.execute(
                "SELECT next_id FROM request_ids WHERE account = ?", (account,)
            ).fetchone()
            value = row["next_id"] if row else 0
            db.execute(
                "INSERT INTO request_ids (account, next_id) VALUES (?, ?) "
                "ON CONFLICT(account) DO UPDATE SET next_id = excluded.next_id",
                (account, value + 1),
            )
        return value

    def create(
        self,
        *,
        account: str,
        api_base: str,
        feature: str,
        request_id: int | None,
        inputs: list,
        file_ids: dict,
        params: dict,
        outputs: list,
        state: str = SUBMITTING,
        task_id: str | None = None,
        fingerprint: str | None = None,
    ) -> int:
        now = time.time()
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO tasks (created_at, updated_at, account, api_base, feature, "
                "request_id, task_id, state, inputs, file_ids, params, outputs, fingerprint) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now,
                    now,
                    account,
                    api_base,
                    feature,
                    request_id,
                    task_id,
                    state,
                    json.dumps(inputs),
                    json.dumps(file_ids),
                    json.dumps(params),
                    json.dumps(outputs),
                    fingerprint,
                ),
            )
            return int(cur.lastrowid)

    def update(self, record_id: int, **fields: Any) -> None:
        if not fields:
            return
        sets, values = [], []
        for key, value in fields.items():
            sets.append(f"{key} = ?")
            values.append(json.dumps(value) if key in _JSON_COLUMNS else value)
        sets.append("updated_at = ?")
        values.append(time.time())
        with self._write() as db:
            db.execute(f"UPDATE tasks SET {', '.join(sets)} WHERE id = ?", (*values, record_id))

    def get(self, record_id: int) -> TaskRecord | None:
        rows = self._read("SELECT * FROM tasks WHERE id = ?", (record_id,))
        return _record(rows[0]) if rows else None

    def find_task(self, feature: str, task_id: str) -> TaskRecord | None:
        rows = self._read(
            "SELECT * FROM tasks WHERE feature = ? AND task_id = ? ORDER BY id DESC LIMIT 1",
            (feature, task_id),
        )
        return _record(rows[0]) if rows else None

    def find_fingerprint(self, account: str, fingerprint: str) -> TaskRecord | None:
        """The latest task for the same feature, input content and parameters."""
        rows = self._read(
            "SELECT * FROM tasks WHERE account = ? AND fingerprint = ? ORDER BY id DESC LIMIT 1",
            (account, fingerprint),
        )
        return _record(rows[0]) if rows else None

    def list(self, *, limit: int = 50, open_only: bool = False) -> list[TaskRecord]:
        query = "SELECT * FROM tasks"
        args: list[Any] = []
        if open_only:
            query += f" WHERE state IN ({', '.join('?' * len(OPEN_STATES))})"
            args.extend(OPEN_STATES)
        query += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [_record(r) for r in self._read(query, args)]

    def close(self) -> None:
        self.db.close()


SQLITE_HEADER = b"SQLite format 3\x00"


def refuse_unusable(path: Path) -> None:
    """Refuse, with what to do, a journal that cannot be a database: a folder in its
    place, a file that cannot be read, or one that is not SQLite at all. (SQLite would
    say only "file is not a database", later and without the path.)"""
    if path.parent.exists() and not path.parent.is_dir():
        raise LocalError(
            f"the state folder {path.parent} is a file, so the task journal cannot be kept",
            path=str(path.parent),
            hint="Move that file away, or point XDG_STATE_HOME at another folder.",
        )
    if path.is_dir():
        raise journal_error(IsADirectoryError(f"{path} is a folder"), path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise journal_error(exc, path) from None
    if head and head != SQLITE_HEADER[: len(head)]:
        raise journal_error(sqlite3.DatabaseError("file is not a database"), path)


def journal_error(exc: BaseException, path: Path | str) -> LocalError:
    """What a failure to read or write the journal at `path` means, and what to do."""
    set_aside = (
        f"Move it aside (`{shell_command('mv', str(path), f'{path}.broken')}`) and rerun: yce "
        "starts a new journal. Tasks only the old one knows can still be fetched by id "
        "with `yce task wait FEATURE TASK_ID` within their polling window."
    )
    if isinstance(exc, OSError):
        if isinstance(exc, IsADirectoryError):
            return LocalError(
                f"the task journal {path} is a folder, not a file", path=str(path), hint=set_aside
            )
        translated = local_error(exc, path)
        if isinstance(translated, LocalError):
            return translated
        return LocalError(f"the task journal {path} cannot be read: {exc}", path=str(path))
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or text in (
        "file is not a database",
        "database disk image is malformed",
    ):
        return LocalError(
            f"the task journal {path} is corrupt ({text})", path=str(path), hint=set_aside
        )
    if name.startswith("SQLITE_FULL") or "is full" in text:
        return LocalError(
            f"no space left to write the task journal {path}",
            path=str(path),
            hint="Free some space there and rerun: tasks already started are picked up "
            "from the journal, not paid for again.",
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return LocalError(
            f"the task journal {path} is locked by another process",
            path=str(path),
            hint="Wait for the other yce to finish, then rerun.",
        )
    return LocalError(
        f"the task journal {path} cannot be opened or written ({text})",
        path=str(path),
        hint="Check that it is a file you can read and write in a folder you can write; "
        + set_aside,
    )


def _record(row: sqlite3.Row) -> TaskRecord:
    data = dict(row)
    for key in _JSON_COLUMNS:
        data[key] = json.loads(data[key]) if data[key] else ([] if key != "file_ids" else {})
    return TaskRecord(**data)
