"""What the layers of a run hand each other: events, results, inputs, jobs, options.

Plain data, importable from anywhere (hooks, the scheduler, the CLI) without pulling
in the transport."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ycecli.errors import InvalidInput, InvalidTaskId, TaskFailed, TaskTimeout, YceError


class _Text(str, Enum):
    """An enum whose members are their strings: equal to them, printed and put in
    JSON as them."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Status(_Text):
    """Where one input stands (the `status` of docs/json.md)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    SKIPPED = "skipped"  # done earlier: its results reported, nothing spent
    NOT_RUN = "not_run"  # left out: --max-tasks, --fail-fast
    ERROR = "error"
    DROPPED = "dropped"  # the API dropped its task (it may have been charged)
    TIMEOUT = "timeout"  # still running when yce stopped waiting: resumable


# A failure may still overwrite these; the final statuses keep what they say.
UNSETTLED = (Status.PENDING, Status.RUNNING, Status.SUCCESS)


class EventKind(_Text):
    UPLOAD = "upload"
    SUBMITTED = "submitted"
    STATUS = "status"
    DOWNLOAD = "download"
    WAIT = "wait"
    DONE = "done"
    INFO = "info"


@dataclass
class Event:
    """One thing worth telling the user about."""

    kind: str  # an EventKind
    label: str = ""
    done: int | None = None
    total: int | None = None
    status: str | None = None
    task_id: str | None = None
    elapsed: float | None = None
    message: str | None = None
    expected: float | None = None  # "status": seconds the task is expected to take
    seconds: float | None = None  # "wait": how long


EventCallback = Callable[[Event], None]


@dataclass
class TaskResult:
    """What one task produced; `to_dict` is the object `--json` prints."""

    feature: str
    input: str
    task_id: str | None = None
    status: str = Status.PENDING
    request_id: int | None = None
    files: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    dst_ids: list[str] = field(default_factory=list)
    data: list[dict] = field(default_factory=list)
    # What a feature's "after" hook adds: scores, attributes, extracted files...
    extra: dict = field(default_factory=dict)
    error: str | None = None
    error_message: str | None = None
    exit_status: int = 0
    # This run started (or finished) a task that was, or may have been, charged: a
    # success, or a task the API dropped or that was still running when yce gave up.
    charged: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The `task` object of docs/json.md. `extra` leaves out what is said
        elsewhere: the display table (rows of the other fields) and any value the
        API's own `data` already holds (face-analyze's analysis)."""
        fields_ = asdict(self)
        fields_["status"] = str(self.status)
        in_data = [v for item in self.data if isinstance(item, dict) for v in item.values()]
        fields_["extra"] = {
            k: v for k, v in self.extra.items() if k != "table" and v not in in_data
        }
        return {"kind": "task", **fields_}

    def record_error(self, exc: YceError) -> None:
        """The one way a failure is written into a result."""
        if self.status in UNSETTLED:
            # "success" too: a finishing step (unpacking a ZIP) can still fail.
            if isinstance(exc, InvalidTaskId):
                self.status = Status.DROPPED
            elif isinstance(exc, TaskTimeout):
                self.status = Status.TIMEOUT
            else:
                self.status = Status.ERROR
        if isinstance(exc, (InvalidTaskId, TaskTimeout)):
            # 003:354: a dropped task may have been charged; one still running when
            # yce stopped waiting may yet finish, and be charged, unpolled.
            self.charged = True
        if isinstance(exc, TaskFailed):
            self.error = self.error or exc.error
            self.error_message = self.error_message or exc.error_message
        self.error = self.error or type(exc).__name__
        self.error_message = self.error_message or exc.message
        self.exit_status = int(exc.exit_status)


@dataclass(frozen=True)
class InputRef:
    """A user's input: a local file, an http(s) URL, or an existing file id."""

    text: str
    path: Path | None = None
    url: str | None = None
    file_id: str | None = None
    info: Any = None  # validate.MediaInfo once a local file was checked

    @classmethod
    def parse(cls, text: str) -> InputRef:
        if text.startswith("id:"):
            file_id = text[3:]
            if not file_id:
                raise InvalidInput("id: needs a file id after it, e.g. id:<dst_id>")
            return cls(text, file_id=file_id)
        if text.startswith(("http://", "https://")):
            return cls(text, url=text)
        return cls(text, path=Path(text).expanduser())

    @property
    def stem(self) -> str:
        if self.path is not None:
            return self.path.stem
        if self.url is not None:
            name = Path(unquote(urlsplit(self.url).path)).stem
            return safe_name(name) or "download"
        digest = hashlib.sha256((self.file_id or "").encode()).hexdigest()[:10]
        return f"id-{digest}"

    @property
    def suffix(self) -> str:
        source = self.path.name if self.path else urlsplit(self.url or "").path
        suffix = Path(source).suffix.lower()
        return suffix if suffix in (".jpg", ".jpeg", ".png", ".mp4", ".mov") else ""


def safe_name(name: str) -> str:
    """A name from the outside (a URL's, a task id) made safe for a file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:80]


@dataclass
class Job:
    """One task to run: its inputs resolved and checked, its output planned."""

    label: str
    refs: dict[str, list[InputRef]]
    target: Path | None  # the first result's path; later ones get _2, _3 ...
    target_given: bool  # the user named this exact file with -o
    params: dict = field(default_factory=dict)  # this task's parameters, hooks applied
    fingerprint: str | None = None  # feature + input content + parameters
    prior: Any = None  # the journal's record of the same work, if any
    skip: str | None = None  # why this input is not run ("done", "--max-tasks"...)
    dropped: bool = False  # its earlier task was dropped by the API: not run again
    record_id: int | None = None  # this process's claim in the journal: run it
    busy: Any = None  # the record of another live process running the same work


@dataclass
class Submission:
    """What a run request needs once the inputs are uploaded and hooks have run."""

    file_ids: dict[str, list[str]]
    urls: dict[str, list[str]]
    params: dict


@dataclass
class RunOptions:
    """How one call runs its inputs (the command line's run options)."""

    output: str | Path | None = None
    overwrite: bool = False
    timeout: float | None = None  # None: the profile's task_timeout
    on_event: EventCallback | None = None
    on_result: Callable[[TaskResult], None] | None = None
    raise_errors: bool = True
    layout: Mapping[str, Path] | None = None
    force: bool = False
    max_tasks: int | None = None
    fail_fast: bool = False
    retry_dropped: bool = False


class SkipTask(Exception):
    """Raised by a before_submit hook when its job is complete without a task of its
    own (face swap --detect-only): `extra` goes into the job's TaskResult, `files`
    (paths the hook wrote) into its files."""

    def __init__(self, extra: dict | None = None, files: list[str] | None = None) -> None:
        super().__init__("task skipped")
        self.extra = extra or {}
        self.files = files or []
