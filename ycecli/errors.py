"""The error tree and the exit status each error class maps to.

Every failure a user can meet is one of these classes, and each class has its own
documented exit code, so a script can tell "fix your input" from "try again later".
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Process exit codes; README.md documents them and a test walks this enum."""

    OK = 0
    ERROR = 1  # unexpected: a bug in yce or something nobody planned for
    USAGE = 2  # the command line itself is wrong
    CONFIG = 3  # configuration or authentication
    INVALID_INPUT = 4  # an input or parameter is invalid; nothing was uploaded or spent
    API_REJECTED = 5  # the API refused the request
    TASK_FAILED = 6  # the task ran and the engine reported an error
    TIMEOUT = 7  # gave up waiting; the task id is printed and the task can be resumed
    OUT_OF_UNITS = 8  # the account has no units left for this task
    NETWORK = 9  # the network failed after every retry
    PARTIAL = 10  # several inputs: some succeeded, some failed
    LOCAL = 11  # a local file or disk problem: no space, name too long, unreadable journal
    INTERRUPTED = 130  # Ctrl-C / SIGINT
    TERMINATED = 143  # SIGTERM (a cancelled CI job): 128 + 15, as a shell reports it


EXIT_STATUS_MEANING = {
    ExitStatus.OK: "success",
    ExitStatus.ERROR: "unexpected error (please report it)",
    ExitStatus.USAGE: "usage error: unknown command or option, missing argument",
    ExitStatus.CONFIG: "configuration or authentication problem",
    ExitStatus.INVALID_INPUT: "invalid input or parameter; nothing was uploaded or charged",
    ExitStatus.API_REJECTED: "the API rejected the request",
    ExitStatus.TASK_FAILED: "the task failed in the engine (no units are charged for it)",
    ExitStatus.TIMEOUT: "timed out waiting for a task; resume with `yce task wait`",
    ExitStatus.OUT_OF_UNITS: "out of units",
    ExitStatus.NETWORK: "network failure after retries",
    ExitStatus.PARTIAL: "some inputs failed, the others succeeded (see the summary)",
    ExitStatus.LOCAL: "a local file or disk problem (no space, name too long, unreadable journal)",
    ExitStatus.INTERRUPTED: "interrupted (Ctrl-C); finish with `yce task resume`",
    ExitStatus.TERMINATED: "terminated (SIGTERM); finish with `yce task resume`",
}


class YceError(Exception):
    """Base class: a message for the user and, where we know one, what to do about it."""

    exit_status = ExitStatus.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict:
        return {
            "kind": "error",
            "error": type(self).__name__,
            "error_message": self.message,
            "hint": self.hint,
            "exit_status": int(self.exit_status),
        }


class UsageError(YceError):
    """The command line asks for something that cannot work (options that exclude
    each other, a stream that is a terminal); found before anything is read or sent."""

    exit_status = ExitStatus.USAGE


class ConfigError(YceError):
    exit_status = ExitStatus.CONFIG


class AuthError(ConfigError):
    """Credentials are missing, malformed or refused."""


class InvalidInput(YceError):
    exit_status = ExitStatus.INVALID_INPUT


class ApiError(YceError):
    """The API answered with an error status."""

    exit_status = ExitStatus.API_REJECTED

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        error_code: str | None = None,
        error: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.http_status = http_status
        self.error_code = error_code
        self.error = error
        self.request_id = request_id

    def to_dict(self) -> dict:
        data = super().to_dict()
        data.update(
            http_status=self.http_status,
            error_code=self.error_code,
            api_error=self.error,
            server_request_id=self.request_id,
        )
        return data


class RateLimited(ApiError):
    """429 after the retry budget was spent."""


class InvalidTaskId(ApiError):
    """The server no longer knows the task: it was never valid, or it was dropped
    because nobody polled it within the polling window."""


class OutOfUnits(ApiError):
    exit_status = ExitStatus.OUT_OF_UNITS


class TaskFailed(YceError):
    """The engine finished the task with status `error`."""

    exit_status = ExitStatus.TASK_FAILED

    def __init__(
        self,
        message: str,
        *,
        task_id: str,
        error: str | None,
        error_message: str | None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.task_id = task_id
        self.error = error
        self.error_message = error_message

    def to_dict(self) -> dict:
        data = super().to_dict()
        data.update(
            task_id=self.task_id, api_error=self.error, api_error_message=self.error_message
        )
        return data


class TaskTimeout(YceError):
    exit_status = ExitStatus.TIMEOUT

    def __init__(self, message: str, *, task_id: str, feature: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.task_id = task_id
        self.feature = feature

    def to_dict(self) -> dict:
        data = super().to_dict()
        data.update(task_id=self.task_id, feature=self.feature)
        return data


class NetworkError(YceError):
    exit_status = ExitStatus.NETWORK
    maybe_sent = True  # whether the server may have received the request


class OutputExists(InvalidInput):
    """Refusing to overwrite a file the user did not ask us to replace."""


class LocalError(YceError):
    """This computer, not the input or the API: a full disk, a file-size limit, a name
    the file system refuses, a journal that cannot be read."""

    exit_status = ExitStatus.LOCAL

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.path = path

    def to_dict(self) -> dict:
        data = super().to_dict()
        data.update(path=self.path)
        return data


# errno -> (what happened, what to do). Only errors of the local file system: a reset
# connection or a timeout is an OSError too, but a network problem.
_RERUN = "rerun: tasks already started are picked up from the journal, not paid for again."
_LOCAL_ERRNOS = {
    "ENOSPC": ("no space left on the device", "Free some space there and " + _RERUN),
    "EDQUOT": ("the disk quota is used up", "Free some space there and " + _RERUN),
    "EFBIG": (
        "the file is larger than the file system or the file-size limit (ulimit -f) allows",
        "Raise the limit or write somewhere else (-o) and " + _RERUN,
    ),
    "ENAMETOOLONG": (
        "the file name is too long for the file system",
        "Choose a shorter name or folder with -o.",
    ),
    "EACCES": ("permission denied", "Check the permissions, or write somewhere else with -o."),
    "EPERM": ("operation not permitted", "Check the permissions, or write somewhere else."),
    "EROFS": ("the file system is read-only", "Write somewhere else with -o."),
    "EIO": ("an input/output error on the device", "Check the disk."),
    "EMFILE": ("too many open files", "Raise the limit (ulimit -n) or process fewer files."),
    "ENFILE": ("too many open files on the system", "Process fewer files at once."),
    "ENOENT": ("no such file or folder", "Check the path."),
    "ENOTDIR": ("a part of the path is not a folder", "Check the path."),
    "EISDIR": ("the path is a folder, not a file", "Give a file name, or end -o with /."),
    "ELOOP": ("too many symbolic links in the path", "Check the path."),
}


def local_error(exc: BaseException, path: object = None) -> BaseException:
    """The LocalError for a file-system OSError (naming `path`, else the file the error
    names); anything else is returned as it is, for the caller to re-raise."""
    import errno

    if not isinstance(exc, OSError) or exc.errno is None:
        return exc
    name = errno.errorcode.get(exc.errno)
    if name not in _LOCAL_ERRNOS:
        return exc
    what, todo = _LOCAL_ERRNOS[name]
    where = path if path is not None else exc.filename
    message = f"{where}: {what}" if where is not None else f"{what} ({exc.strerror})"
    return LocalError(message, path=str(where) if where is not None else None, hint=todo)
