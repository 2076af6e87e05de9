"""Running a batch at the pace the API's limits allow, without losing a task.

Requests are the scarce resource (003:238: 100 per 5 minutes per IP, 100 per minute
per token), and a task not polled within its window is lost and may still be
charged. So:

- every input file is uploaded first, with one file-creation request per group of
  files (the endpoint takes a `files` list) and the bytes sent in parallel (storage
  requests do not count against the limits);
- one loop then owns every API request: polls of running tasks always go first, a new
  task starts only while the budget keeps a poll in reserve for every task in flight,
  so concurrency follows the budget instead of a fixed number;
- polls follow the server's `polling_interval` while the budget is comfortable and
  stretch toward the polling window (minus a margin) when it is tight;
- results are downloaded by worker threads, never holding up a poll.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ycecli.errors import TaskFailed, TaskTimeout, YceError

UPLOAD_GROUP = 100  # files per file-creation request; the seeds give no maximum
MAX_IN_FLIGHT = 64
TRANSFER_WORKERS = 4


@dataclass
class _Flight:
    index: int
    job: Any
    result: Any
    record: int
    task_id: str
    started: float
    next_poll: float
    sent: float = 0.0
    answered: float = 0.0  # when the server last saw a poll (or the run request)


@dataclass
class Scheduler:
    yce: Any
    feature: Any
    ctx: Any
    overwrite: bool = False
    timeout: float | None = None
    on_event: Any = None
    on_result: Any = None
    fail_fast: bool = False
    clock: Any = time.monotonic
    sleep: Any = time.sleep
    requests_at_start: int = 0
    stats: dict = field(default_factory=dict)

    def run(self, jobs: list) -> list:
        from ycecli.api import TaskResult

        results = [TaskResult(feature=self.feature.command, input=job.label) for job in jobs]
        self.requests_at_start = self.yce.client.requests_sent
        with ThreadPoolExecutor(TRANSFER_WORKERS, thread_name_prefix="yce-transfer") as pool:
            file_ids = self._upload_all(jobs, results, pool)
            self._loop(jobs, results, file_ids, pool)
        self.stats["api_requests"] = self.yce.client.requests_sent - self.requests_at_start
        return results

    # -- uploads --------------------------------------------------------------------------

    def _upload_all(self, jobs, results, pool) -> dict[int, dict[str, list[str]]]:
        """Upload every local input once (inputs shared by all jobs, like a hand photo
        for many rings, only once), a group of files per file-creation request."""
        from ycecli.transfer import create_upload_slots, put_file
        from ycecli.validate import sniff_content_type

        specs = {spec.name: spec for spec in self.feature.inputs}
        wanted: dict[tuple[str, str], list[tuple[int, str, Any]]] = {}  # (path, upload) -> uses
        for index, job in enumerate(jobs):
            for name, refs in job.refs.items():
                spec = specs[name]
                for ref in refs:
                    if ref.path is None or (ref.url is not None and spec.url_field):
                        continue
                    upload_path = spec.upload_path or self.feature.upload_url_path
                    wanted.setdefault((str(ref.path), upload_path), []).append((index, name, ref))
        ids: dict[tuple[str, str], str] = {}
        failed: dict[int, YceError] = {}
        by_endpoint: dict[str, list[tuple[str, str]]] = {}
        for key in wanted:
            by_endpoint.setdefault(key[1], []).append(key)
        futures: list[tuple[tuple[str, str], Future]] = []
        for upload_path, keys in by_endpoint.items():
            for start in range(0, len(keys), UPLOAD_GROUP):
                group = keys[start : start + UPLOAD_GROUP]
                files = []
                for path, _ in group:
                    with open(path, "rb") as fh:
                        ctype = sniff_content_type(fh.read(32)) or "application/octet-stream"
                    ref = wanted[(path, upload_path)][0][2]
                    name = ref.path.name
                    files.append((name, ctype, ref.path.stat().st_size))
                try:
                    slots = create_upload_slots(
                        self.yce.client, upload_path, files, generation=self.feature.generation
                    )
                except YceError as exc:
                    for key in group:
                        for index, _, _ in wanted[key]:
                            failed[index] = exc
                    continue
                for key, slot in zip(group, slots, strict=True):
                    ids[key] = slot.file_id
                    label = jobs[wanted[key][0][0]].label
                    futures.append((key, pool.submit(self._put, put_file, slot, key[0], label)))
        for key, future in futures:
            try:
                future.result()
            except YceError as exc:
                ids.pop(key, None)
                for index, _, _ in wanted[key]:
                    failed[index] = exc
        file_ids: dict[int, dict[str, list[str]]] = {}
        for index, job in enumerate(jobs):
            if index in failed:
                self._fail(results[index], failed[index])
                continue
            per_job: dict[str, list[str]] = {}
            for name, refs in job.refs.items():
                spec = specs[name]
                for ref in refs:
                    if ref.file_id is not None:
                        per_job.setdefault(name, []).append(ref.file_id)
                    elif ref.path is not None and not (ref.url is not None and spec.url_field):
                        upload_path = spec.upload_path or self.feature.upload_url_path
                        per_job.setdefault(name, []).append(ids[(str(ref.path), upload_path)])
            file_ids[index] = per_job
        return file_ids

    def _put(self, put_file, slot, path, label) -> None:
        from pathlib import Path

        from ycecli.api import Event

        size = Path(path).stat().st_size
        self.yce._emit(self.on_event, Event("upload", label=label, done=0, total=size))
        put_file(
            self.yce.client,
            slot,
            Path(path),
            lambda done, total: self.yce._emit(
                self.on_event, Event("upload", label=label, done=done, total=total)
            ),
        )

    # -- the request loop ----------------------------------------------------------------

    def _sustained_rate(self) -> float:
        """Requests a second that no sliding window can ever refuse. A burst now is
        paid for by silence later, and silence while tasks wait to be polled loses
        them; so the batch spends at the steady rate of the tightest limit, a little
        under it."""
        profile = self.yce.profile
        return 0.95 * min(
            profile.rate_limit_ip / profile.rate_limit_ip_window,
            profile.rate_limit_token / profile.rate_limit_token_window,
        )

    def _max_in_flight(self) -> int:
        """How many tasks the sustained rate can keep polled: each needs a poll every
        (window - margin) seconds at worst; 80% of the rate, so new tasks fit too."""
        from ycecli.tasks import next_gap

        window = self.yce.profile.polling_window
        stretched = next_gap(window, window)
        return max(1, min(MAX_IN_FLIGHT, int(0.8 * self.rate * stretched)))

    def _gap(self, interval: float | None, in_flight: int) -> float:
        """The server's polling_interval while the rate allows polling every task that
        often; longer when it does not; never past the window (next_gap caps it)."""
        from ycecli.tasks import DEFAULT_INTERVAL, next_gap

        wanted = interval if interval is not None else DEFAULT_INTERVAL
        if self.burst:
            return next_gap(wanted, self.yce.profile.polling_window)
        affordable = in_flight / (0.8 * self.rate)
        return next_gap(max(wanted, affordable), self.yce.profile.polling_window)

    def _may_start(self, in_flight: int) -> bool:
        # Never more tasks than the sustained rate can poll, and a request in reserve
        # for every task in flight (other yce processes may share the budget).
        cap = MAX_IN_FLIGHT if self.burst else self.max_in_flight
        return in_flight < cap and self.yce.client.limiter.remaining() > in_flight + 1

    def _pace(self) -> float:
        """Seconds until the next API request may go (0: now)."""
        if self.burst:
            return 0.0
        return max(0.0, self.next_request - self.clock())

    def _check_burst(self, in_flight: int) -> None:
        """A small batch may spend the windows' free requests at once; once they run
        low, the batch goes over to the sustained rate for good."""
        if self.burst and self.yce.client.limiter.remaining() < 2 * in_flight + 10:
            self.burst = False
            self.next_request = self.clock()

    def _spent(self) -> None:
        now = self.clock()
        # A small burst allowance, and no saving up: idle time is not credit.
        self.next_request = max(self.next_request, now - 2.0 / self.rate) + 1.0 / self.rate

    def _loop(self, jobs, results, file_ids, pool) -> None:
        from ycecli.tasks import check_status, task_path

        self.rate = self._sustained_rate()
        self.next_request = self.clock()
        self.max_in_flight = self._max_in_flight()
        # Each task costs a run request and a few polls; if the whole batch fits in
        # half of what the windows have left, there is no need to pace it.
        self.burst = 6 * len(file_ids) <= self.yce.client.limiter.remaining() // 2
        self.stats["burst"] = self.burst
        self.stats["max_in_flight"] = self.max_in_flight
        timeout = self.timeout if self.timeout is not None else self.yce.profile.task_timeout
        path = task_path(self.feature, self.yce.profile)
        pending = deque(i for i in range(len(jobs)) if i in file_ids)
        flights: dict[str, _Flight] = {}
        downloads: list[Future] = []
        stop = False
        while pending or flights:
            self._check_burst(len(flights))
            now = self.clock()
            due = sorted(
                (f for f in flights.values() if f.next_poll <= now), key=lambda f: f.next_poll
            )
            ready = self._pace() <= 0
            if due and ready:
                flight = due[0]
                flight.sent = self.clock()
                self._spent()
                try:
                    status = check_status(
                        self.yce.client,
                        self.feature,
                        flight.task_id,
                        path,
                        deadline=flight.answered + 0.9 * self.yce.profile.polling_window,
                    )
                    flight.answered = self.clock()
                except YceError as exc:
                    del flights[flight.task_id]
                    self._poll_failed(flight, exc)
                    stop = stop or self.fail_fast
                    continue
                elapsed = self.clock() - flight.started
                self.yce._emit(self.on_event, _status_event(flight, status.status, elapsed))
                if status.status == "success":
                    del flights[flight.task_id]
                    downloads.append(pool.submit(self._complete, flight, status))
                elif status.status == "error":
                    del flights[flight.task_id]
                    self._poll_failed(flight, _engine_error(self.feature, flight, status))
                    stop = stop or self.fail_fast
                elif elapsed > timeout:
                    del flights[flight.task_id]
                    self._poll_failed(
                        flight,
                        TaskTimeout(
                            f"{self.feature.command}: task {flight.task_id} still running after "
                            f"{timeout:.0f} s",
                            task_id=flight.task_id,
                            feature=self.feature.command,
                            hint="Resume it with `yce task resume`.",
                        ),
                    )
                else:
                    gap = self._gap(status.polling_interval, len(flights))
                    flight.next_poll = flight.sent + gap
                continue
            if not due and ready and pending and not stop and self._may_start(len(flights)):
                self._spent()
                index = pending.popleft()
                self._start(index, jobs[index], results[index], file_ids[index], flights)
                stop = stop or (self.fail_fast and results[index].status == "error")
                continue
            if stop:
                for index in pending:
                    results[index].status = "skipped"
                    results[index].error_message = "not run: --fail-fast after a failure"
                pending.clear()
                if not flights:
                    break
            wake = min((f.next_poll for f in flights.values()), default=now + 0.2)
            if due or pending:
                wake = max(wake, self.next_request)
            self.sleep(max(0.002, min(0.2, wake - self.clock())))
        for future in downloads:
            future.result()

    def _start(self, index, job, result, file_ids, flights) -> None:
        try:
            task_id, record = self.yce._start_job(
                self.feature, job, self.ctx, result, self.on_event, file_ids=file_ids
            )
        except YceError as exc:
            self._fail(result, exc)
            return
        if task_id is None:  # a hook finished this job without a task
            self._report(result)
            return
        now = self.clock()
        flights[task_id] = _Flight(
            index, job, result, record, task_id, now, now + 0.2, answered=now
        )

    def _complete(self, flight: _Flight, status) -> None:
        job, result = flight.job, flight.result
        try:
            self.yce._on_success(
                self.feature,
                flight.task_id,
                flight.record,
                status,
                job.target,
                job.target_given,
                result,
                self.overwrite,
                self.on_event,
                label=job.label,
            )
            self.yce._after(self.feature, self.ctx, job, result)
        except YceError as exc:
            self._fail(result, exc)
            return
        self._report(result)

    def _poll_failed(self, flight: _Flight, exc: YceError) -> None:
        self.yce._record_failure(flight.record, flight.result, exc)
        self._fail(flight.result, exc)

    def _fail(self, result, exc: YceError) -> None:
        if result.status in ("pending", "running", "success"):
            result.status = "error"
        code = exc.error if isinstance(exc, TaskFailed) else None
        result.error = result.error or code or type(exc).__name__
        result.error_message = result.error_message or exc.message
        result.exit_status = int(exc.exit_status)
        self._report(result)

    def _report(self, result) -> None:
        if self.on_result:
            self.on_result(result)


def _status_event(flight: _Flight, status: str, elapsed: float):
    from ycecli.api import Event

    return Event(
        "status", label=flight.job.label, status=status, task_id=flight.task_id, elapsed=elapsed
    )


def _engine_error(feature, flight: _Flight, status) -> TaskFailed:
    from ycecli.tasks import ENGINE_HINTS

    return TaskFailed(
        f"{feature.command}: the task failed: {status.error or 'error'}"
        + (f" ({status.error_message})" if status.error_message else ""),
        task_id=flight.task_id,
        error=status.error,
        error_message=status.error_message,
        hint=feature.error_hints.get(status.error or "")
        or ENGINE_HINTS.get(status.error or "", "No units are charged for a failed task."),
    )
