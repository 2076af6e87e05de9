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
    INTERRUPTED = 130  # Ctrl-C / SIGINT


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
    ExitStatus.INTERRUPTED: "interrupted",
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
            "error": type(self).__name__,
            "error_message": self.message,
            "hint": self.hint,
            "exit_status": int(self.exit_status),
        }


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
