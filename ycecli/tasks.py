"""Running and polling tasks.

003 (1.5): after a run request, the task must be polled at its `polling_interval`;
"the task will lose if no polling in 10 seconds", and a lost task answers
InvalidTaskId and may still be charged. So yce polls at the server's interval and
never lets a gap grow past the polling window minus a safety margin, whatever the
server says.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ycecli.client import Client
from ycecli.errors import ApiError, TaskFailed, TaskTimeout
from ycecli.features import Feature
from ycecli.shell import shell_command

# Poll at least this long before the window closes (latency, a slow response, a
# busy machine). With the documented 10 s window that means a gap of at most 8 s.
WINDOW_MARGIN = 2.0
MIN_GAP = 0.2  # never hammer the API, whatever polling_interval says
DEFAULT_INTERVAL = 1.0  # 003's sample polling_interval is 1000 ms

StatusCallback = Callable[[str, float], None]  # (status, seconds since start)


@dataclass
class ResultFile:
    url: str | None
    dst_id: str | None
    action_id: int | None = None
    data: dict = field(default_factory=dict)  # the whole data[] entry (analysis JSON etc.)


@dataclass
class TaskStatus:
    status: str  # "running" | "success" | "error"
    polling_interval: float | None  # seconds
    error: str | None
    error_message: str | None
    results: list[ResultFile]
    raw: dict


def task_path(feature: Feature, profile: Any = None) -> str:
    """The run/status path: the declared one, unless a profile setting overrides it."""
    if feature.task_path_setting and profile is not None:
        configured = getattr(profile, feature.task_path_setting, None)
        if configured:
            return configured
    return feature.task_url_path


def parse_status(reply: dict) -> TaskStatus:
    """Read a status reply of either generation.

    v1: {status, result: {status, polling_interval, error, error_message, results}}.
    v2's poll reply is undocumented: 000/001 name the field `task_status`, 002 uses
    `status` and wraps replies in `data`; every variant is accepted.
    """
    result = reply.get("result") if isinstance(reply.get("result"), dict) else reply.get("data")
    if not isinstance(result, dict):
        raise ApiError("the status reply has neither a `result` nor a `data` object")
    interval = result.get("polling_interval")
    state = result.get("task_status") or result.get("status") or "running"
    files: list[ResultFile] = []
    entries = result.get("results") or []
    if isinstance(entries, dict):
        entries = [entries]
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        items = entry.get("data") if isinstance(entry.get("data"), list) else [entry]
        for data in items:
            url = data.get("url") or data.get("download_url") or data.get("result_url")
            files.append(
                ResultFile(
                    url=url,
                    dst_id=data.get("dst_id") or data.get("file_id"),
                    action_id=entry.get("id"),
                    data=data,
                )
            )
    return TaskStatus(
        status=str(state).lower(),
        polling_interval=(interval / 1000.0) if isinstance(interval, (int, float)) else None,
        error=result.get("error") or result.get("error_code"),
        error_message=result.get("error_message") or result.get("message"),
        results=files,
        raw=result,
    )


def submit(
    client: Client,
    feature: Feature,
    body: dict,
    path: str | None = None,
    *,
    hold: str | None = None,
) -> str:
    """POST the run request. v1 retries inside `client.call` resend the same body, and
    with it the same request_id; v2 has no request_id, so a v2 run is never resent
    once it may have reached the server."""
    path = path or feature.task_url_path
    reply = client.call(
        "POST",
        path,
        generation=feature.generation,
        json_body=body,
        idempotent=feature.generation == "v1",
        hold=hold,
    )
    container = reply.get("result") if isinstance(reply.get("result"), dict) else reply.get("data")
    try:
        return str(container["task_id"])
    except (KeyError, TypeError):
        raise ApiError(f"POST {path}: the reply has no task_id") from None


def check_status(
    client: Client,
    feature: Feature,
    task_id: str,
    path: str | None = None,
    deadline: float | None = None,
    *,
    hold: str | None = None,
) -> TaskStatus:
    """One poll. `deadline` (time.monotonic) is when the task's polling window closes:
    retries of this poll never wait past it. A poll is always urgent for the shared
    budget (the task is running and may be charged); `hold` is its reserved moment."""
    path = path or feature.task_url_path
    if feature.generation == "v2":
        # v2 puts the id in the path (000:72, 001:69): encode "/", "+" and "=" too.
        reply = client.call(
            "GET",
            f"{path}/{quote(task_id, safe='')}",
            generation="v2",
            deadline=deadline,
            hold=hold,
            urgent=True,
        )
    else:
        # requests percent-encodes query values: ids carry "+", "/" and "=" (003:1.4).
        reply = client.call(
            "GET",
            path,
            params={"task_id": task_id},
            deadline=deadline,
            hold=hold,
            urgent=True,
        )
    return parse_status(reply)


def next_gap(interval: float | None, window: float) -> float:
    """Seconds until the next poll: the server's interval, never past the window."""
    wanted = interval if interval is not None else DEFAULT_INTERVAL
    # 2 s before a 10 s window closes; proportionally less for the short windows of
    # a time-scaled sandbox, but never under a quarter second: a busy machine's delays
    # do not scale down with the test.
    ceiling = max(MIN_GAP, window - min(WINDOW_MARGIN, max(0.2 * window, 0.25)))
    return max(MIN_GAP, min(wanted, ceiling))


def poll(
    client: Client,
    feature: Feature,
    task_id: str,
    *,
    path: str | None = None,
    window: float,
    timeout: float,
    on_status: StatusCallback | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> TaskStatus:
    """Poll until success or error; raise TaskFailed, or TaskTimeout after `timeout`."""
    started = clock()
    answered = time.monotonic()  # the window runs from the last poll the server saw
    while True:
        sent = clock()
        status = check_status(client, feature, task_id, path, deadline=answered + 0.9 * window)
        answered = time.monotonic()
        elapsed = clock() - started
        if on_status:
            on_status(status.status, elapsed)
        if status.status == "success":
            return status
        if status.status == "error":
            raise TaskFailed(
                f"{feature.command}: the task failed: {status.error or 'error'}"
                + (f" ({status.error_message})" if status.error_message else ""),
                task_id=task_id,
                error=status.error,
                error_message=status.error_message,
                hint=feature.error_hints.get(status.error or "")
                or ENGINE_HINTS.get(status.error or "", "No units are charged for a failed task."),
            )
        gap = next_gap(status.polling_interval, window)
        # Count the gap from when this poll was sent, so a slow reply does not
        # stretch the gap past the window.
        delay = max(0.0, sent + gap - clock())
        if clock() + delay - started > timeout:
            raise TaskTimeout(
                f"{feature.command}: task {task_id} still running after {timeout:.0f} s",
                task_id=task_id,
                feature=feature.command,
                hint=f"Pick it up within its polling window with "
                f"`{shell_command('yce', 'task', 'wait', feature.command, task_id)}`.",
            )
        sleep(delay)


ENGINE_HINTS = {
    "exceed_max_filesize": "The input is larger than the feature accepts.",
    "invalid_parameter": "A parameter value was refused; check `yce <feature> --help`.",
    "error_download_image": "The engine could not fetch the input; try again.",
    "error_decode_image": "The engine could not decode the image; re-export it as JPEG or PNG.",
    "error_nsfw_content_detected": "The engine refused the content.",
    "error_no_face": "No face was found: use a photo with one clear, front-facing face.",
    "error_face_parsing": "The face could not be segmented; try a clearer, front-facing photo.",
    "error_inference": "The engine failed; try again later.",
    "error_upload": "The engine could not store the result; try again.",
    "error_multiple_people": "More than one person is in the photo; crop to one.",
    "error_no_shoulder": "The shoulders must be visible.",
    "error_large_face_angle": "The face is turned too far; use a front-facing photo.",
    "error_unsupport_ratio": "The aspect ratio is not supported; crop the image.",
    "unknown_internal_error": "The engine failed; try again later.",
}
