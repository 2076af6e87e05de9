"""Running and polling tasks.

003 (1.5): after a run request, the task must be polled at its `polling_interval`;
"the task will lose if no polling in 10 seconds", and a lost task answers
InvalidTaskId and may still be charged. So yce polls at the server's interval and
never lets a gap grow past the polling window minus a safety margin, whatever the
server says.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ycecli.client import Client, MalformedReply, json_kind
from ycecli.errors import NetworkError, TaskFailed, TaskTimeout
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


# 003 documents the status as "running", "success" or "error"; v2's poll reply is
# undocumented. These spellings mean "not finished yet", so polling on is right:
# queues commonly report one of them before the work starts. Any other status is
# final: polling a state yce cannot interpret would only run the clock to --timeout
# and then call a finished task "still running".
RUNNING_STATES = frozenset(
    {"running", "pending", "queued", "queuing", "waiting", "processing", "in_progress", "started"}
)
SUCCESS_STATES = frozenset({"success", "succeeded", "completed"})
ERROR_STATES = frozenset({"error"})
# Result kinds that exist only as a file: a success must give a URL to fetch it.
FILE_RESULTS = ("image", "video", "zip")
REPLY = "the status reply"


def parse_status(reply: dict) -> TaskStatus:
    """Read a status reply of either generation, checking its shape: a field of the
    wrong type is a MalformedReply naming it, never an AttributeError later.

    v1: {status, result: {status, polling_interval, error, error_message, results}}.
    v2's poll reply is undocumented: 000/001 name the field `task_status`, 002 uses
    `status` and wraps replies in `data`; every variant is accepted.

    `TaskStatus.status` is always "running", "success" or "error": an unknown final
    status, and a success that lists no result, become "error" with an error code
    ("unknown_status", "no_results"), so every caller stops polling at once.
    """
    if not isinstance(reply, dict):
        raise MalformedReply(f"{REPLY} is a JSON {json_kind(reply)}, not an object")
    if isinstance(reply.get("result"), dict):
        where, result = "result", reply["result"]
    elif isinstance(reply.get("data"), dict):
        where, result = "data", reply["data"]
    else:
        raise MalformedReply(f"{REPLY} has neither a `result` nor a `data` object")
    field_name = "task_status" if result.get("task_status") else "status"
    state = result.get(field_name)
    if not isinstance(state, str) or not state.strip():
        raise MalformedReply.field(REPLY, f"{where}.{field_name}", state or None, "a string")
    interval = result.get("polling_interval")
    if interval is not None and not _is_number(interval):
        raise MalformedReply.field(REPLY, f"{where}.polling_interval", interval, "a number")
    files = _result_files(result.get("results"), f"{where}.results")
    error = _optional_text(result, ("error", "error_code"), where)
    message = _optional_text(result, ("error_message", "message"), where)
    normal = state.strip().lower()
    if normal in RUNNING_STATES:
        normal = "running"
    elif normal in SUCCESS_STATES:
        normal = "success"
        if not files:
            normal, error = "error", "no_results"
            message = "the API reported success but listed no results"
    elif normal not in ERROR_STATES:
        normal = "error"
        error = "unknown_status"
        message = f"the API reported the status {state!r}, which yce does not know" + (
            f": {message}" if message else ""
        )
    return TaskStatus(
        status=normal,
        polling_interval=(
            interval / 1000.0 if interval is not None and math.isfinite(interval) else None
        ),
        error=error,
        error_message=message,
        results=files,
        raw=result,
    )


def _result_files(entries: Any, where: str) -> list[ResultFile]:
    """results[] (v1: entries with a data[] list; v2: a flat list, or one object)."""
    if entries is None:
        return []
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        raise MalformedReply.field(REPLY, where, entries, "an array")
    files: list[ResultFile] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise MalformedReply.field(REPLY, f"{where}[{i}]", entry, "an object")
        action_id = entry.get("id")
        if action_id is not None and (
            isinstance(action_id, bool) or not isinstance(action_id, int)
        ):
            raise MalformedReply.field(REPLY, f"{where}[{i}].id", action_id, "an integer")
        if "data" in entry:
            items, item_where = entry["data"], f"{where}[{i}].data"
            if items is None:
                items = []
            if not isinstance(items, list):
                raise MalformedReply.field(REPLY, item_where, items, "an array")
        else:
            items, item_where = [entry], f"{where}[{i}]"
        for j, data in enumerate(items):
            here = f"{item_where}[{j}]" if item_where.endswith("data") else item_where
            if not isinstance(data, dict):
                raise MalformedReply.field(REPLY, here, data, "an object")
            url = _optional_text(data, ("url", "download_url", "result_url"), here, number=False)
            dst_id = _optional_text(data, ("dst_id", "file_id"), here, number=False)
            files.append(ResultFile(url=url, dst_id=dst_id, action_id=action_id, data=data))
    return files


def _optional_text(
    obj: dict, names: tuple[str, ...], where: str, *, number: bool = True
) -> str | None:
    """The first non-empty of `names`, which must be a string; with `number`, a
    number is taken as its text (an error code sent as 500 is still an error code)."""
    for name in names:
        value = obj.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            return value
        if number and _is_number(value):
            return str(value)
        raise MalformedReply.field(REPLY, f"{where}.{name}", value, "a string")
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
    where = "result" if isinstance(reply.get("result"), dict) else "data"
    container = reply.get(where)
    if not isinstance(container, dict):
        raise MalformedReply(f"POST {path}: the reply has neither a `result` nor a `data` object")
    task_id = container.get("task_id")
    if not isinstance(task_id, str) or not task_id.strip():
        raise MalformedReply.field(
            f"POST {path}",
            f"{where}.task_id",
            task_id or None,
            "a string",
            hint="No task id, so nothing to poll; if the task did start, the server drops it "
            "unpolled. Check `yce units history` before rerunning.",
        )
    return task_id


def check_status(
    client: Client,
    feature: Feature,
    task_id: str,
    path: str | None = None,
    deadline: float | None = None,
    give_up_at: float | None = None,
    *,
    hold: str | None = None,
) -> TaskStatus:
    """One poll. `deadline` (time.monotonic) is when the task's polling window closes:
    retries of this poll never wait past it. `give_up_at` ends the poll, in flight or
    not (the caller's --timeout). A poll is always urgent for the shared budget (the
    task is running and may be charged); `hold` is its reserved moment.

    A reply of the wrong shape names the task, which may well have been charged: it
    can be fetched again by id once the server answers properly."""
    path = path or feature.task_url_path
    try:
        if feature.generation == "v2":
            # v2 puts the id in the path (000:72, 001:69): encode "/", "+" and "=" too.
            reply = client.call(
                "GET",
                f"{path}/{quote(task_id, safe='')}",
                generation="v2",
                deadline=deadline,
                give_up_at=give_up_at,
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
                give_up_at=give_up_at,
                hold=hold,
                urgent=True,
            )
        status = parse_status(reply)
    except MalformedReply as exc:
        exc.message = f"{feature.command}: task {task_id}: {exc.message}"
        exc.args = (exc.message,)
        command = shell_command("yce", "task", "wait", feature.command, task_id)
        exc.hint = f"Fetch it again later with `{command}`."
        raise
    if (
        status.status == "success"
        and feature.result in FILE_RESULTS
        and not any(f.url for f in status.results)
    ):
        status.status, status.error = "error", "no_results"
        status.error_message = "the API reported success but gave no result URL"
    return status


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
    """Poll until success or error; raise TaskFailed, or TaskTimeout after `timeout`,
    which also cuts short a poll whose reply is still trickling in."""
    started = clock()
    answered = time.monotonic()  # the window runs from the last poll the server saw
    give_up_at = answered + timeout
    while True:
        sent = clock()
        try:
            status = check_status(
                client,
                feature,
                task_id,
                path,
                deadline=answered + 0.9 * window,
                give_up_at=give_up_at,
            )
        except NetworkError as exc:
            if time.monotonic() < give_up_at:
                raise
            raise TaskTimeout(
                f"{feature.command}: task {task_id}: no answer within {timeout:.0f} s "
                f"({exc.message})",
                task_id=task_id,
                feature=feature.command,
                hint=f"Pick it up within its polling window with "
                f"`yce task wait {feature.command} '{task_id}'`.",
            ) from None
        answered = time.monotonic()
        elapsed = clock() - started
        if on_status:
            on_status(status.status, elapsed)
        if status.status == "success":
            return status
        if status.status == "error":
            raise engine_error(feature, task_id, status)
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
    "no_results": "The API gave no result for a task it calls a success, and may have "
    "charged it: fetch it again later with `yce task wait FEATURE TASK_ID`, or check "
    "`yce units history`.",
    "unknown_status": "The API ended the task with a status yce does not know; check "
    "`yce task status FEATURE TASK_ID` and `yce units history`.",
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


def engine_error(feature: Feature, task_id: str, status: TaskStatus) -> TaskFailed:
    """The error of a task the engine ended with status "error", with the feature's
    own hint for its code where it has one."""
    code = status.error or ""
    return TaskFailed(
        f"{feature.command}: task {task_id} failed: {status.error or 'error'}"
        + (f" ({status.error_message})" if status.error_message else ""),
        task_id=task_id,
        error=status.error,
        error_message=status.error_message,
        hint=feature.error_hints.get(code)
        or ENGINE_HINTS.get(code, "No units are charged for a failed task."),
    )
