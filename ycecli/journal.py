"""The local task journal: SQLite under the state dir.

Every task is written here before its run request is sent (with the request_id it
will use) and again, with its task_id, before its first poll. A run interrupted at
any point can therefore be picked up again: re-sent with the same request_id (the
server ignores duplicates, so nothing is charged twice) or re-polled by task id.

The journal is also where yce processes of one user agree on who runs what: an input
is claimed (`claim`) before anything is spent on it, so two processes given the same
input and parameters start one task. And it remembers how long each kind of task
takes (`durations`), so polls can be placed where the task is expected to be done.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
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
    fingerprint TEXT,
    owner TEXT,
    submitted_at REAL,
    size_class TEXT,
    running_after REAL,
    done_after REAL,
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS tasks_task_id ON tasks (feature, task_id);
CREATE TABLE IF NOT EXISTS request_ids (
    account TEXT PRIMARY KEY,
    next_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS durations (
    key TEXT PRIMARY KEY,
    seconds REAL NOT NULL,
    floor REAL NOT NULL,
    samples INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
"""

# Columns added after the first release (SCHEMA has them too), with their
# declarations: older journals get them on open.
_ADDED_COLUMNS = {
    "fingerprint": "TEXT",
    "owner": "TEXT",  # host:pid:start of the process that claimed the task
    "submitted_at": "REAL",  # wall time of the run request's reply
    "size_class": "TEXT",
    "running_after": "REAL",  # a poll this many seconds after submission saw it running
    "done_after": "REAL",  # the poll that saw it finished, seconds after submission
    "extra": "TEXT NOT NULL DEFAULT '{}'",  # what the feature's finishing step reported
}

# 003:1631: request_id is an integer, "incremental ... starting from 0", and a repeated
# one "will be ignored" - for the same file id at least, perhaps account-wide. Two
# machines (or containers, or CI jobs) on one account that both counted from 0 would
# hand each other's tasks back. So each journal starts its counter at a random point
# of the range JSON integers keep exactly (below 2**53), far from 0 and from any other
# journal's: with 2**52 possible starts, two journals running a million tasks each
# overlap with a probability near 4e-10. Counters below REQUEST_ID_FLOOR were written
# by journals that still counted from 0; they jump to a random start too.
REQUEST_ID_FLOOR = 2**32
REQUEST_ID_SPAN = 2**52


class TaskState(str, Enum):
    """States a task moves through. "planned" is a claim: nothing spent yet, no
    request_id. "submitting" has a request_id but maybe no task_id yet. Members are
    their strings (stored as such in SQLite, equal to them in comparisons)."""

    PLANNED = "planned"
    SUBMITTING = "submitting"
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # the engine finished; results not all on disk yet
    DONE = "done"
    FAILED = "error"
    TIMED_OUT = "timeout"
    DROPPED = "dropped"
    ABANDONED = "abandoned"  # a claim whose process ended before it spent anything

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


PLANNED, SUBMITTING, RUNNING, SUCCEEDED, DONE = (
    TaskState.PLANNED,
    TaskState.SUBMITTING,
    TaskState.RUNNING,
    TaskState.SUCCEEDED,
    TaskState.DONE,
)
FAILED, TIMED_OUT, DROPPED, ABANDONED = (
    TaskState.FAILED,
    TaskState.TIMED_OUT,
    TaskState.DROPPED,
    TaskState.ABANDONED,
)
_STATE_VALUES = frozenset(state.value for state in TaskState)
OPEN_STATES = (SUBMITTING, RUNNING, SUCCEEDED, TIMED_OUT)
# States in which the claiming process is (or was) working on the task.
_CLAIMED_STATES = (PLANNED, SUBMITTING, RUNNING, SUCCEEDED)

_JSON_COLUMNS = ("inputs", "file_ids", "params", "outputs", "results", "extra")

# A claim by a process on another host cannot be checked for life; it is trusted
# while its record keeps changing, and no longer than this after its last change.
FOREIGN_CLAIM_TTL = 900.0


def _process_start(pid: int) -> str:
    """When the process started (Linux: clock ticks since boot), so a recycled pid is
    not taken for the process that made a claim; empty where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_token() -> str:
    """Who this process is, for claims: host, pid and start time."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_process_start(pid)}"


def owner_alive(token: str | None, updated_at: float, now: float | None = None) -> bool:
    if not token:
        return False  # records from before claims existed: nobody is on them
    host, _, rest = token.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname():
        return (now or time.time()) - updated_at < FOREIGN_CLAIM_TTL
    try:
        pid = int(pid_text)
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        pass  # alive, another user's
    return not started or _process_start(pid) == started


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
    state: str  # a TaskState
    inputs: list
    file_ids: dict
    params: dict
    outputs: list
    results: list
    error: str | None
    error_message: str | None
    fingerprint: str | None = None
    owner: str | None = None
    submitted_at: float | None = None
    size_class: str | None = None
    running_after: float | None = None
    done_after: float | None = None
    extra: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Claim:
    """What the journal says about an input before anything is spent on it.

    verdict: "new" (this process now owns `record_id`, state planned), "done" (finished
    earlier, outputs on disk), "busy" (another live process is on it), "resume" (an
    earlier run left it unfinished; this process now owns it), "dropped" (the API
    dropped its earlier task, which may have been charged).
    """

    verdict: str
    record: TaskRecord | None = None
    record_id: int | None = None


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
        with _setup_lock(path):
            self._set_up()

    def _set_up(self) -> None:
        """Journal mode, schema and migrations, one process at a time: SQLite answers
        "database is locked" at once, without waiting, to a second process switching
        a new database to WAL."""
        self.db.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL: a commit survives the process being killed at any point
        # (what resuming relies on) without an fsync per write, which would hold up
        # the polls of a batch by milliseconds each; only a power cut may lose the
        # last writes.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        columns = {row["name"] for row in self.db.execute("PRAGMA table_info(tasks)")}
        for name, declaration in _ADDED_COLUMNS.items():
            if name not in columns:
                try:
                    self.db.execute(f"ALTER TABLE tasks ADD COLUMN {name} {declaration}")
                except sqlite3.OperationalError as exc:
                    if "duplicate column" not in str(exc):
                        raise  # another process added it a moment ago: fine; else not
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
        """A request_id never used before by this account from this journal, and
        (with near certainty) from any other: see REQUEST_ID_SPAN.

        003 says requests repeating a request_id "will be ignored", without saying
        whether that is per token, per file or per feature. A counter per account,
        from a random start, satisfies every reading: a new task can never be
        mistaken for an old one, of this machine or another, and skipped.
        """
        with self._write() as db:
            row = db.execute(
                "SELECT next_id FROM request_ids WHERE account = ?", (account,)
            ).fetchone()
            value = row["next_id"] if row else 0
            if value < REQUEST_ID_FLOOR:
                value = REQUEST_ID_FLOOR + secrets.randbelow(REQUEST_ID_SPAN)
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
        owner: str | None = None,
    ) -> int:
        with self._write() as db:
            return self._insert(
                db,
                account=account,
                api_base=api_base,
                feature=feature,
                request_id=request_id,
                inputs=inputs,
                file_ids=file_ids,
                params=params,
                outputs=outputs,
                state=state,
                task_id=task_id,
                fingerprint=fingerprint,
                owner=owner,
            )

    @staticmethod
    def _insert(
        db: sqlite3.Connection,
        *,
        account: str,
        api_base: str,
        feature: str,
        request_id: int | None,
        inputs: list,
        file_ids: dict,
        params: dict,
        outputs: list,
        state: str,
        task_id: str | None,
        fingerprint: str | None,
        owner: str | None,
    ) -> int:
        now = time.time()
        cur = db.execute(
            "INSERT INTO tasks (created_at, updated_at, account, api_base, feature, "
            "request_id, task_id, state, inputs, file_ids, params, outputs, fingerprint, "
            "owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                owner,
            ),
        )
        # Always set after an INSERT; typed Optional for other statements.
        assert cur.lastrowid is not None
        return cur.lastrowid

    def claim(
        self,
        *,
        account: str,
        api_base: str,
        feature: str,
        fingerprint: str,
        inputs: list,
        outputs: list,
        owner: str,
        force: bool = False,
        retry_dropped: bool = False,
    ) -> Claim:
        """Decide, atomically across processes, what to do about one input: see Claim.
        `force`: a new task whatever the journal says; `retry_dropped`: a new task
        for an input whose earlier one the API dropped.

        A claim is taken before anything is spent; it is what makes two processes
        given the same input and parameters start one task between them.
        """
        with self._write() as db:
            rows = db.execute(
                "SELECT * FROM tasks WHERE account = ? AND fingerprint = ? "
                "ORDER BY id DESC LIMIT 1",
                (account, fingerprint),
            ).fetchall()
            prior = _record(rows[0]) if rows else None
            if prior is not None and not force:
                if prior.state == DONE and prior.outputs and _all_exist(prior.outputs):
                    return Claim("done", prior)
                if prior.state == DONE and not prior.outputs and not outputs:
                    return Claim("done", prior)  # a JSON-only result: nothing to check
                if (
                    prior.state in _CLAIMED_STATES
                    and prior.owner != owner
                    and owner_alive(prior.owner, prior.updated_at)
                ):
                    return Claim("busy", prior)
                if prior.state == DROPPED and not retry_dropped:
                    return Claim("dropped", prior)
                if prior.state in OPEN_STATES and (
                    prior.task_id is not None or prior.request_id is not None
                ):
                    db.execute(
                        "UPDATE tasks SET owner = ?, updated_at = ? WHERE id = ?",
                        (owner, time.time(), prior.id),
                    )
                    return Claim("resume", prior, prior.id)
                if prior.state == PLANNED:
                    db.execute(
                        "UPDATE tasks SET state = ?, updated_at = ? WHERE id = ?",
                        (ABANDONED, time.time(), prior.id),
                    )
            record_id = self._insert(
                db,
                account=account,
                api_base=api_base,
                feature=feature,
                request_id=None,
                inputs=inputs,
                file_ids={},
                params={},
                outputs=outputs,
                state=PLANNED,
                task_id=None,
                fingerprint=fingerprint,
                owner=owner,
            )
            return Claim("new", prior, record_id)

    def release_claims(self, owner: str) -> None:
        """This process is leaving: claims on which it spent nothing are abandoned."""
        with self._write() as db:
            db.execute(
                "UPDATE tasks SET state = ?, updated_at = ? WHERE owner = ? AND state = ?",
                (ABANDONED, time.time(), owner, PLANNED),
            )

    # -- how long tasks take ------------------------------------------------------

    def duration(self, key: str) -> tuple[float, float, int] | None:
        """(seconds, floor, samples) learned for a kind of task, or None."""
        rows = self._read("SELECT seconds, floor, samples FROM durations WHERE key = ?", (key,))
        if not rows:
            return None
        return rows[0]["seconds"], rows[0]["floor"], rows[0]["samples"]

    def durations_like(self, prefix: str) -> list[tuple[str, float, float, int]]:
        rows = self._read(
            "SELECT key, seconds, floor, samples FROM durations WHERE key LIKE ? "
            "ORDER BY samples DESC",
            (prefix.replace("%", "") + "%",),
        )
        return [(r["key"], r["seconds"], r["floor"], r["samples"]) for r in rows]

    def learn_duration(
        self,
        key: str,
        update: Callable[[tuple[float, float, int] | None], tuple[float, float, int]],
    ) -> None:
        """Read-modify-write one duration estimate: `update(current or None)` returns
        (seconds, floor, samples)."""
        with self._write() as db:
            row = db.execute(
                "SELECT seconds, floor, samples FROM durations WHERE key = ?", (key,)
            ).fetchone()
            current = (row["seconds"], row["floor"], row["samples"]) if row else None
            seconds, floor, samples = update(current)
            db.execute(
                "INSERT INTO durations (key, seconds, floor, samples, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "seconds = excluded.seconds, floor = excluded.floor, "
                "samples = excluded.samples, updated_at = excluded.updated_at",
                (key, seconds, floor, samples, time.time()),
            )

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

    def list(
        self,
        *,
        limit: int | None = 50,
        open_only: bool = False,
        since: float | None = None,
        owner: str | None = None,
    ) -> list[TaskRecord]:
        """Newest first; `since` (seconds since the epoch) and `owner` narrow it to the
        tasks created from then on, or claimed by one process (one run)."""
        conditions: list[str] = []
        args: list[Any] = []
        if open_only:
            conditions.append(f"state IN ({', '.join('?' * len(OPEN_STATES))})")
            args.extend(OPEN_STATES)
        if since is not None:
            conditions.append("created_at >= ?")
            args.append(since)
        if owner is not None:
            conditions.append("owner = ?")
            args.append(owner)
        query = "SELECT * FROM tasks"
        if conditions:
            query += " WHERE " + " AND ".join(conditions)
        query += " ORDER BY id DESC LIMIT ?"
        args.append(-1 if limit is None else limit)
        return [_record(r) for r in self._read(query, args)]

    def close(self) -> None:
        self.db.close()


@contextmanager
def _setup_lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # no file locks: set up without one
        yield
        return
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _all_exist(paths: list) -> bool:
    return all(os.path.exists(p) for p in paths)


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
        empty: Any = {} if key in ("file_ids", "extra") else []
        data[key] = json.loads(data[key]) if data[key] else empty
    # A state this version does not know (a newer yce wrote it) is kept as written.
    known = data["state"] in _STATE_VALUES
    data["state"] = TaskState(data["state"]) if known else data["state"]
    return TaskRecord(**data)
