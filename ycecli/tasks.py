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

from ycecli.client import Client
from ycecli.errors import ApiError, TaskFailed, TaskTimeout
from ycecli.features import Feature

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


def parse_status(reply: dict) -> TaskStatus:
    result = reply.get("result")
    if not isinstance(result, dict):
        raise ApiError("the status reply has no `result` object")
    interval = result.get("polling_interval")
    files: list[ResultFile] = []
    for entry in result.get("results") or []:
        for data in entry.get("data") or []:
            files.append(
                ResultFile(
                    url=data.get("url"),
                    dst_id=data.get("dst_id"),
                    action_id=entry.get("id"),
                    data=data,
                )
            )
    return TaskStatus(
        status=str(result.get("status") or "running"),
        polling_interval=(interval / 1000.0) if isinstance(interval, (int, float)) else None,
        error=result.get("error"),
        error_message=result.get("error_message"),
        results=files,
        raw=result,
    )


def submit(client: Client, feature: Feature, body: dict) -> str:
    """POST the run request; retries inside `client.call` resend the same body, and
    with it the same request_id."""
    reply = client.call(
        "POST", feature.task_url_path, generation=feature.generation, json_body=body
    )
    try:
        return str(reply["result"]["task_id"])
    except (KeyError, TypeError):
        raise ApiError(f"POST {feature.task_url_path}: the reply has no task_id") from None


def check_status(client: Client, feature: Feature, task_id: str) -> TaskStatus:
    # requests percent-encodes the value: task ids carry "+", "/" and "=" (003:1.4).
    reply = client.call(
        "GET", feature.task_url_path, generation=feature.generation, params={"task_id": task_id}
    )
    return parse_status(reply)


def next_gap(interval: float | None, window: float) -> float:
    """Seconds until the next poll: the server's interval, never past the window."""
    wanted = interval if interval is not None else DEFAULT_INTERVAL
    ceiling = max(MIN_GAP, window - WINDOW_MARGIN)
    return max(MIN_GAP, min(wanted, ceiling))


def poll(
    client: Client,
    feature: Feature,
    task_id: str,
    *,
    window: float,
    timeout: float,
    on_status: StatusCallback | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> TaskStatus:
    """Poll until success or error; raise TaskFailed, or TaskTimeout after `timeout`."""
    started = clock()
    while True:
        sent = clock()
        status = check_status(client, feature, task_id)
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
                hint=ENGINE_HINTS.get(
                    status.error or "", "No units are charged for a failed task."
                ),
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
                f"`yce task wait {feature.command} '{task_id}'`.",
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
