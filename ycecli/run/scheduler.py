"""Running tasks at the pace the API's limits allow, without losing one.

Requests are the scarce resource (003:238) and a task not polled within its window is
lost, perhaps after being charged (003:354). One loop per process owns every API
request of its jobs, one input or a thousand:

- before anything is spent on an input, its run request and the polls it is expected
  to need are booked in the budget that every yce process of the user shares
  (ycecli.ratelimit). While they do not fit, the loop waits, and says so, before
  creating, uploading or submitting anything;
- input files are registered several per request (the endpoint takes a `files` list)
  and their bytes sent in parallel (storage requests do not count against the limits);
- polls go at the moments booked for them, the first near the task's expected
  completion (ycecli.pacing); a task still running after them is polled again well
  inside its window, before any new work of any process;
- results are downloaded by worker threads, never holding up a poll. Ctrl-C stops the
  workers within a second or two; submitted tasks stay in the journal, resumable.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

from ycecli import pacing
from ycecli.errors import ConfigError, NetworkError, OutOfUnits, YceError
from ycecli.ratelimit import Booking, Infeasible
from ycecli.run.pipeline import Cancelled, TaskPipeline
from ycecli.run.types import Event, EventKind, Job, Status, TaskResult
from ycecli.tasks import TaskStatus, next_gap

UPLOAD_GROUP = 100  # files per file-creation request; the seeds give no maximum
MAX_IN_FLIGHT = 64
TRANSFER_WORKERS = 4
# When the first task is booked before its upload, its run request is placed this
# long after the file-creation request: a second, plus the bytes at a modest 5 MB/s.
UPLOAD_SECONDS_BASE = 1.0
UPLOAD_BYTES_PER_SECOND = 5e6
ANNOUNCE_AFTER = 2.0  # waits longer than this are announced
INTERRUPT_GRACE = 1.0  # seconds the workers get to clean up after Ctrl-C


class _Workers:
    """Daemon threads for uploads and downloads: an interrupted run does not wait for
    a transfer to end (ThreadPoolExecutor's threads are joined at exit)."""

    def __init__(self, count: int, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.jobs: queue.Queue = queue.Queue()
        self.threads = [
            threading.Thread(target=self._work, name=f"yce-transfer-{i}", daemon=True)
            for i in range(count)
        ]
        for thread in self.threads:
            thread.start()
        self.pending: list[Future] = []

    def _work(self) -> None:
        while True:
            item = self.jobs.get()
            if item is None:
                return
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        self.pending.append(future)
        self.jobs.put((future, fn, args))
        return future

    def close(self) -> None:
        for _ in self.threads:
            self.jobs.put(None)

    def abandon(self) -> None:
        """Interrupted: cancel what has not started, give running transfers a moment
        to notice `cancel` and remove their partial files, then leave them."""
        self.cancel.set()
        for future in self.pending:
            future.cancel()
        self.close()
        deadline = time.monotonic() + INTERRUPT_GRACE
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))


@dataclass
class _Flight:
    index: int
    task_id: str
    record: int | None
    submitted: float  # budget clock: when the run request's reply came
    next_poll: float
    answered: float  # time.monotonic() when the server last heard from us
    holds: deque = field(default_factory=deque)  # (hold id, moment) of booked polls left
    spare: list[str] = field(default_factory=list)
    running_after: float | None = None
    duration_key: str = ""


@dataclass
class _Pending:
    index: int
    booking: Booking | None = None
    announced: bool = False


class Scheduler:
    """Runs a pipeline's jobs, one or a thousand, inside the API's limits."""

    def __init__(
        self,
        pipeline: TaskPipeline,
        *,
        on_result: Callable[[TaskResult], None] | None = None,
        fail_fast: bool = False,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.feature = pipeline.feature
        self.timeout = pipeline.timeout
        self.on_event = pipeline.on_event
        self.on_result = on_result
        self.fail_fast = fail_fast
        self.budget = pipeline.client.budget
        self.clock = clock or self.budget.clock
        self.sleep = sleep or self.budget.sleep
        self.window = pipeline.profile.polling_window
        self.longest_gap = next_gap(self.window, self.window)
        self.unit = self.window / 10.0  # pacing's constants are set for a 10 s window
        # A hook that runs a task of its own before submitting (face swap's detection)
        # would hold up this loop, and with it the polls of other tasks: such features
        # run one task at a time.
        self.max_in_flight = 1 if "before_submit" in self.feature.hooks else MAX_IN_FLIGHT
        self.cancel = threading.Event()
        self.errors: dict[int, YceError] = {}
        self.stats: dict[str, Any] = {}
        self._estimates: dict[str, pacing.Estimate] = {}
        self._downloading: set[int] = set()
        self._stop_reason = "not run: --fail-fast after a failure"

    # -- public -------------------------------------------------------------------

    def run(self, jobs: list[Job]) -> list[TaskResult]:
        self.jobs = jobs
        self.results = [TaskResult(feature=self.feature.command, input=job.label) for job in jobs]
        client = self.pipeline.client
        requests_at_start = client.requests_sent
        workers = _Workers(TRANSFER_WORKERS, self.cancel)
        try:
            first = self._book_first()
            file_ids = self._upload_all(workers, first)
            self._loop(file_ids, workers, first)
            for future in list(workers.pending):
                future.result()
            workers.close()
        except BaseException:
            workers.abandon()
            self._remove_partial_downloads()
            raise
        finally:
            self.stats["api_requests"] = client.requests_sent - requests_at_start
        return self.results

    # -- booking ------------------------------------------------------------------

    def _size_class(self, index: int) -> str:
        total = 0
        known = False
        for refs in self.jobs[index].refs.values():
            for ref in refs:
                if ref.path is not None:
                    try:
                        total += Path(ref.path).stat().st_size
                        known = True
                    except OSError:
                        pass
        return pacing.size_class(total if known else None)

    def _duration_key(self, index: int) -> str:
        base = self.pipeline.client.base_url(self.feature.generation)
        return f"{base}|{self.feature.command}|{self._size_class(index)}"

    def _estimate(self, key: str) -> pacing.Estimate:
        """What the journal knows of this kind of task (any size, failing that)."""
        if key in self._estimates:
            return self._estimates[key]
        journal = self.pipeline.journal
        found = journal.duration(key)
        if found is None:
            similar = journal.durations_like(key.rsplit("|", 1)[0] + "|")
            found = similar[0][1:] if similar else None
        estimate = pacing.Estimate(*found) if found else pacing.prior(self.unit)
        self._estimates[key] = estimate
        return estimate

    def _task_offsets(self, index: int) -> list[float]:
        """The run request, the polls, and a spare poll kept in reserve in case the
        task runs longer than expected."""
        estimate = self._estimate(self._duration_key(index))
        polls = pacing.poll_offsets(estimate, self.longest_gap, self.unit)
        return [0.0, *polls, polls[-1] + self.longest_gap]

    def _book(self, offsets: list[float], previous: Booking | None = None) -> Booking:
        """Book a task's run request and polls; its last offset is its spare."""
        try:
            return self.budget.book(offsets, spares=1, replacing=previous)
        except Infeasible as exc:
            raise ConfigError(
                f"{self.feature.command}: {exc}",
                hint="Set rate_limit_ip/rate_limit_token and their windows in the profile "
                "to the documented limits (003: 100 per 5 min per IP, 100 per min per "
                "token), or a longer polling_window if your account has one.",
            ) from None

    def _announce(self, index: int, booking: Booking) -> None:
        wait = booking.start - self.clock()
        if wait > ANNOUNCE_AFTER:
            why = booking.binding.describe() if booking.binding else "the API's limits"
            self._emit(
                EventKind.WAIT,
                index,
                message=f"waiting {wait:.0f} s for the rate limit: {why}",
                seconds=wait,
            )

    def _sleep_until(self, moment: float) -> None:
        while not self.cancel.is_set():
            left = moment - self.clock()
            if left <= 0:
                return
            self.sleep(min(left, 0.5))

    def _needs_upload(self, index: int) -> bool:
        specs = {spec.name: spec for spec in self.feature.inputs}
        return any(
            self.pipeline.needs_upload(specs[name], ref)
            for name, refs in self.jobs[index].refs.items()
            for ref in refs
        )

    def _book_first(self) -> tuple[_Pending, str | None] | None:
        """Book the first task before anything is spent, its file creation included,
        and wait for its moment: a command that cannot keep its task alive yet waits
        here, with nothing created, uploaded or submitted."""
        if not self.jobs:
            return None
        index = 0
        offsets = self._task_offsets(index)
        create_hold = None
        if self._needs_upload(index):
            size = sum(
                Path(ref.path).stat().st_size
                for refs in self.jobs[index].refs.values()
                for ref in refs
                if ref.path is not None
            )
            lead = UPLOAD_SECONDS_BASE + size / UPLOAD_BYTES_PER_SECOND
            booking = self._book([0.0, *(lead + o for o in offsets)])
            create_hold = booking.ids[0]
            booking = Booking(booking.ids[1:], booking.times[1:], booking.binding)
            self._announce(index, Booking([create_hold], [booking.start - lead], booking.binding))
            self._sleep_until(booking.start - lead)
        else:
            booking = self._book(offsets)
            self._announce(index, booking)
        return _Pending(index, booking, announced=True), create_hold

    # -- uploads --------------------------------------------------------------------

    def _upload_all(self, workers: _Workers, first) -> dict[int, dict[str, list[str]]]:
        """Upload every local input once, a group of files per file-creation request
        (the first at its booked moment), the bytes sent by the transfer workers."""
        file_ids, failed = self.pipeline.upload_many(
            self.jobs,
            run_in=workers.submit,
            hold=first[1] if first else None,
            group=UPLOAD_GROUP,
            cancelled=self.cancel.is_set,
        )
        for index in sorted(failed):
            self._fail(index, failed[index])
        return file_ids

    # -- the request loop -------------------------------------------------------------

    def _loop(self, file_ids, workers: _Workers, first) -> None:
        pending = deque(i for i in range(len(self.jobs)) if i in file_ids)
        flights: dict[str, _Flight] = {}
        nxt: _Pending | None = first[0] if first else None
        if nxt is not None and nxt.index not in file_ids:
            self.budget.release(nxt.booking.ids if nxt.booking else [])
            nxt = None
        stop = False
        self.stats["max_in_flight"] = 0
        while (pending or flights) and not self.cancel.is_set():
            now = self.clock()
            late = [f for f in flights.values() if now - f.submitted >= self.timeout]
            if late:
                stop = self._give_up(late[0], flights) or stop
                continue
            due = [f for f in flights.values() if f.next_poll <= now]
            if due:
                flight = min(due, key=lambda f: f.next_poll)
                stop = self._poll(flight, flights, workers) or stop
                continue
            if stop and pending:
                self._skip_rest(pending, nxt)
                nxt = None
            if pending and len(flights) < self._room(pending[0]):
                if nxt is None or nxt.index != pending[0]:
                    nxt = _Pending(pending[0])
                if nxt.booking is None:
                    nxt.booking = self._book(self._task_offsets(nxt.index))
                if not nxt.announced:
                    self._announce(nxt.index, nxt.booking)
                    nxt.announced = True
                if nxt.booking.start <= self.clock():
                    if not self.budget.still_fits(nxt.booking):
                        # A poll of another process took one of its moments: book again.
                        nxt.booking = self._book(
                            self._task_offsets(nxt.index), previous=nxt.booking
                        )
                        nxt.announced = False
                        continue
                    pending.popleft()
                    stop = self._submit(nxt, file_ids[nxt.index], flights) or stop
                    nxt = None
                    self.stats["max_in_flight"] = max(self.stats["max_in_flight"], len(flights))
                    continue
            wake = min(
                (min(f.next_poll, f.submitted + self.timeout) for f in flights.values()),
                default=now + 0.5,
            )
            if nxt is not None and nxt.booking is not None and pending:
                wake = min(wake, nxt.booking.start)
            self.sleep(max(0.002, min(0.5, wake - self.clock())))
        if nxt is not None and nxt.booking is not None:
            self.budget.release(nxt.booking.ids)

    def _room(self, index: int) -> int:
        """How many tasks may run at once. A kind of task never seen finishing runs
        one at a time until one has: its polls are booked from a guess, and a wave of
        tasks all outrunning the guess would need polls nobody reserved."""
        if self._estimate(self._duration_key(index)).samples == 0:
            return 1
        return self.max_in_flight

    def _skip_rest(self, pending: deque, nxt: _Pending | None) -> None:
        if nxt is not None and nxt.booking is not None:
            self.budget.release(nxt.booking.ids)
        for index in pending:
            result = self.results[index]
            result.status = Status.NOT_RUN
            result.error_message = self._stop_reason
            self._report(index)
        pending.clear()

    def _submit(self, nxt: _Pending, file_ids: dict, flights: dict[str, _Flight]) -> bool:
        """Start one task in its booked moment; True when the run must stop."""
        index, booking = nxt.index, nxt.booking
        assert booking is not None
        job, result = self.jobs[index], self.results[index]
        try:
            submission = self.pipeline.prepare(job, result, file_ids)
            if submission is None:  # a hook finished this job without a task
                self.budget.release(booking.ids)
                self._report(index)
                return False
            task_id, record = self.pipeline.start(
                job,
                submission,
                result,
                hold=booking.ids[0],
                size_class=self._size_class(index),
            )
        except YceError as exc:
            self.budget.release(booking.ids)
            return self._fail(index, exc)
        anchor = self.clock()
        offsets = [t - booking.start for t in booking.times]
        moments = [anchor + o for o in offsets[1:]]
        self.budget.commit(booking, booking.ids[1:], moments)
        holds = deque(zip(booking.ids[1:-1], moments[:-1], strict=True))
        flights[task_id] = _Flight(
            index=index,
            task_id=task_id,
            record=record,
            submitted=anchor,
            next_poll=holds[0][1],
            answered=time.monotonic(),
            holds=holds,
            spare=[booking.ids[-1]],
            duration_key=self._duration_key(index),
        )
        return False

    def _poll(self, flight: _Flight, flights: dict[str, _Flight], workers: _Workers) -> bool:
        """One poll of a running task; True when the run must stop."""
        hold = flight.holds.popleft()[0] if flight.holds else None
        sent = self.clock()
        try:
            status = self.pipeline.poll(
                flight.task_id,
                deadline=flight.answered + 0.9 * self.window,
                # --timeout holds even against a reply that trickles in.
                give_up_at=time.monotonic() + (flight.submitted + self.timeout - self.clock()),
                hold=hold,
            )
        except YceError as exc:
            if isinstance(exc, NetworkError) and self.clock() - flight.submitted >= self.timeout:
                # --timeout ran out while a reply trickled in: a timeout, resumable.
                return self._give_up(flight, flights)
            del flights[flight.task_id]
            self._finished(flight)
            self.pipeline.record_failure(flight.record, self.results[flight.index], exc)
            return self._fail(flight.index, exc)
        flight.answered = time.monotonic()
        elapsed = self.clock() - flight.submitted
        self._emit(
            EventKind.STATUS,
            flight.index,
            status=status.status,
            task_id=flight.task_id,
            elapsed=elapsed,
            expected=self._estimate(flight.duration_key).target(self.unit),
        )
        if status.status == "success":
            del flights[flight.task_id]
            self._finished(flight)
            self._learn(flight, sent - flight.submitted)
            workers.submit(self._complete, flight, status)
            return False
        if status.status == "error":
            del flights[flight.task_id]
            self._finished(flight)
            failure = self.pipeline.engine_error(flight.task_id, status)
            self.pipeline.record_failure(flight.record, self.results[flight.index], failure)
            return self._fail(flight.index, failure)
        flight.running_after = sent - flight.submitted
        if not flight.holds:
            # Running longer than booked: book the next poll now, before any new work,
            # where the budget has room (the task's spare keeps some), and never past
            # the window.
            gap = pacing.overrun_gap(
                flight.running_after,
                self.longest_gap,
                status.polling_interval,
                known=self._estimate(flight.duration_key).samples > 0,
                unit=self.unit,
            )
            deadline = self.clock() + (flight.answered + self.longest_gap - time.monotonic())
            flight.holds.append(self.budget.book_poll(sent + gap, deadline))
        flight.next_poll = flight.holds[0][1]
        return False

    def _give_up(self, flight: _Flight, flights: dict[str, _Flight]) -> bool:
        """--timeout ran out while the task was running: stop waiting, and say how to
        pick it up (it stays alive for one polling window)."""
        del flights[flight.task_id]
        self._finished(flight)
        exc = self.pipeline.timeout_error(flight.task_id)
        self.pipeline.record_failure(flight.record, self.results[flight.index], exc)
        return self._fail(flight.index, exc)

    def _finished(self, flight: _Flight) -> None:
        """The task needs no more polls: its unused moments go back to everyone."""
        self.budget.release([h[0] for h in flight.holds] + flight.spare)
        flight.holds.clear()
        flight.spare = []

    def _learn(self, flight: _Flight, done_after: float) -> None:
        key = flight.duration_key

        def update(current):
            known = pacing.Estimate(*current) if current else None
            estimate = pacing.learn(known, flight.running_after, done_after, self.unit)
            return estimate.seconds, estimate.floor, estimate.samples

        self.pipeline.journal.learn_duration(key, update)
        found = self.pipeline.journal.duration(key)
        if found:
            self._estimates[key] = pacing.Estimate(*found)
        if flight.record is not None:
            self.pipeline.journal.update(
                flight.record, running_after=flight.running_after, done_after=done_after
            )

    def _remove_partial_downloads(self) -> None:
        """Interrupted: a download still blocked in a worker cannot clean up after
        itself, so its temporary file (`.<name>.<random>.part` beside the target) is
        removed here. The task stays in the journal; `yce task resume` fetches it."""
        for index in list(self._downloading):
            target = self.jobs[index].target
            if target is None:
                continue
            for part in target.parent.glob(f".{glob_escape(target.stem)}*.part"):
                part.unlink(missing_ok=True)

    def _complete(self, flight: _Flight, status: TaskStatus) -> None:
        self._downloading.add(flight.index)
        try:
            self._fetch_results(flight, status)
        finally:
            self._downloading.discard(flight.index)

    def _fetch_results(self, flight: _Flight, status: TaskStatus) -> None:
        job, result = self.jobs[flight.index], self.results[flight.index]

        def progress_guard(event) -> None:
            if self.cancel.is_set() and event.kind in ("download", "upload"):
                raise Cancelled
            if self.on_event:
                self.on_event(event)

        try:
            self.pipeline.finish(
                job, result, flight.task_id, flight.record, status, on_event=progress_guard
            )
        except YceError as exc:
            self._fail(flight.index, exc)
            return
        self._report(flight.index)

    # -- results ----------------------------------------------------------------------

    def _fail(self, index: int, exc: YceError) -> bool:
        """Record a failed input; True when the run must stop (--fail-fast, or an
        error every other input would meet too)."""
        self.results[index].record_error(exc)
        self.errors.setdefault(index, exc)
        self._report(index)
        if isinstance(exc, (ConfigError, OutOfUnits)):
            self._stop_reason = f"not run: {exc.message}"
            return True
        return self.fail_fast

    def _report(self, index: int) -> None:
        if self.on_result:
            self.on_result(self.results[index])

    def _event(self, event) -> None:
        if self.on_event:
            self.on_event(event)

    def _emit(self, kind: str, index: int, **fields: Any) -> None:
        self._event(Event(kind, label=self.jobs[index].label, **fields))
