"""The sandbox's data types: its clock and settings, injected faults, the records of
stored files and tasks, the two kinds of refusal, and the engine's contract.

- SandboxError: the API (or storage) refuses a request with an HTTP status.
- EngineError: a task ends with status "error" and an engine code.
- A producer (ycecli.sandbox.engines) takes {input name: [(bytes, content_type), ...]}
  and the task's params (by API name), and returns a list of results, each an Output
  or a (bytes, content_type) pair, or raises EngineError. A check takes (feature, run
  body) and raises SandboxError. An input rule takes (feature, run body root) and
  returns {input name: MediaRules} for the inputs whose limits depend on the body.

This module imports nothing else of the sandbox: every other part imports it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ycecli.features import Feature, MediaRules

Producer = Callable[[Mapping[str, list[tuple[bytes, str]]], Mapping[str, Any]], list[Any]]
Check = Callable[[Feature, dict], None]
Rules = Callable[[Feature, Mapping[str, Any]], dict[str, MediaRules]]


class Clock:
    """Wall time plus an offset that tests can advance."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.offset += seconds


@dataclass
class SandboxConfig:
    task_seconds: float = 1.0  # how long the engine "works" on a task
    polling_interval_ms: int = 1000  # what status replies tell the client
    polling_window: float = 10.0  # an unpolled task is dropped after this (003: 10 s)
    # 003 disagrees with itself on whether a dropped task costs units (CATALOG 1.5).
    # By default the sandbox charges a dropped task that had finished (the quick
    # start's reading, the worst case for the user), so clients are tested against it.
    charge_dropped: bool = True
    # 003:1631: "Requests with the same request_id will be ignored", with only a
    # same-file_id example. "account": any earlier task of the account with that
    # request_id is answered instead (the widest reading, the default: the one a
    # client can least afford to get wrong); "file": only one from the same first
    # input file.
    request_id_scope: str = "account"
    token_ttl: float = 7200.0
    timestamp_skew: float = 300.0  # how far an id_token's timestamp may be from now
    upload_url_ttl: float = 7200.0
    download_url_ttl: float = 7200.0
    rate_limit_ip: int = 100
    rate_limit_ip_window: float = 300.0
    rate_limit_token: int = 100
    rate_limit_token_window: float = 60.0
    send_retry_after: bool = False  # the seeds document no Retry-After
    initial_units: int = 1000
    # Units per successful task by feature command, where a test wants a price other
    # than the feature's `sandbox_units` (the seeds give no prices: 003:343).
    unit_prices: dict[str, int] = field(default_factory=dict)
    # v2 try-on: 000/001 call the poll reply's field `task_status`, 002 calls it
    # `status`; the sandbox can answer with either or both.
    v2_status_field: str = "task_status"  # "task_status" | "status" | "both"
    ring_task_path: str = "/s2s/v2.0/task/2d-vto/ring"  # 001; 002 shows /s2s/v2.0/task/ring

    def scaled(self, factor: float) -> SandboxConfig:
        """The same service with every duration multiplied by `factor` (e.g. 0.05: a
        5-minute rate window lasts 15 s), so tests run the real limits in seconds."""
        return replace(
            self,
            task_seconds=self.task_seconds * factor,
            polling_interval_ms=max(1, int(self.polling_interval_ms * factor)),
            polling_window=self.polling_window * factor,
            rate_limit_ip_window=self.rate_limit_ip_window * factor,
            rate_limit_token_window=self.rate_limit_token_window * factor,
        )


@dataclass
class Fault:
    """One injected misbehaviour. `kind`:
    - "status": answer `status` with an error body instead of handling the request
    - "drop": close the connection without handling the request
    - "drop_response": handle the request, then close without answering
    - "truncate": (downloads) send the headers and half the body, then close
    - "delay": sleep `delay` seconds, then handle the request normally
    """

    kind: str
    method: str | None = None  # None matches any method
    path: str = ""  # prefix of the URL path
    count: int = 1  # how many requests it applies to
    status: int = 500
    delay: float = 0.0
    retry_after: float | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path)


@dataclass
class StoredFile:
    file_id: str
    content_type: str
    declared_size: int
    path: Path | None = None  # None until its bytes arrive
    owner: str = ""


@dataclass
class Task:
    task_id: str
    feature: Feature
    client_id: str
    request_id: int
    created: float
    ready_at: float
    last_poll: float
    body: dict
    state: str = "running"  # running | success | error | dropped
    charged: bool = False
    delivered: bool = False  # the client has seen the final status
    results: list[dict] = field(default_factory=list)
    error: str | None = None
    error_message: str | None = None
    forced_error: tuple[str, str] | None = None
    fetched: dict[str, list[str]] = field(default_factory=dict)  # URL inputs, as file ids


class SandboxError(Exception):
    def __init__(self, status: int, error: str, error_code: str, headers: dict | None = None):
        super().__init__(error)
        self.status = status
        self.error = error
        self.error_code = error_code
        self.headers = headers or {}


class EngineError(Exception):
    """The task ends with status "error" and this engine code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Output:
    """One entry of a task's `results[].data[]`."""

    data: bytes | None = None  # a file to store and link with a signed `url`
    content_type: str = "application/octet-stream"
    fields: dict = field(default_factory=dict)  # extra fields: faces, analysis_result...
    dst_id: bool = True  # whether the entry carries the file's id (skin ZIPs do not)


def as_output(item: Any) -> Output:
    if isinstance(item, Output):
        return item
    data, content_type = item
    return Output(data, content_type)
