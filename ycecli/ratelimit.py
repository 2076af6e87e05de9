"""The request budget that every yce process of the user shares, in time.

003:238 documents two limits that must both hold: 100 requests per 5 minutes per IP
and 100 per minute per access token. And a running task must be polled inside its
polling window (10 s) or the API drops it, perhaps after charging it (003:354). Both
rules are about time, so the budget is kept as time:

- a request already sent is a *stamp*: when its reply arrived (the server counted it
  at some moment before that, so counting from the later stamp keeps our window
  behind the server's whatever the latency);
- a request a task will need later is a *hold*: a reserved moment. A task is admitted
  only when its run request and every poll it is expected to need fit in both
  windows beside every stamp and hold of every process; until then it waits, before
  anything is spent on it.

Holds come in three kinds. A "hold" belongs to work not yet submitted, and a poll of
a running task may take its place (its owner books again before submitting). A
"poll" belongs to a submitted task and is never given away. A "spare" is headroom a
running task keeps in case it runs longer than expected: new work cannot use it, the
extra polls of any running task can. Requests that carry no hold (a style list, file
creation in a batch) must fit beside everything; polls beyond what was booked need
only fit beside stamps and polls. So polls of running tasks go before new work in
every process, not only in one.

The state lives in small JSON files under the state dir, one per limit, guarded by
file locks (or in memory where the platform has none).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOLD = "hold"  # reserved for work not yet submitted: may be displaced by a poll
POLL = "poll"  # reserved for a submitted task's poll: never given away
SPARE = "spare"  # headroom of a running task: kept from new work, not from polls
NEW_WORK = (HOLD, POLL, SPARE)  # what a request that starts something must fit beside
URGENT = (POLL,)  # what a poll of a running task must fit beside

# A hold not used this long after its moment belongs to a process that died or fell
# far behind; it stops counting.
STALE_HOLD = 30.0
# A reserved request may go a little later than planned (a busy machine, a slow
# reply before it); planning every window this much wider keeps such a late request
# inside the limits.
PLAN_MARGIN = 1.0
# Sleep in steps no longer than this while waiting, so changes made by other
# processes (a hold released early) are seen soon.
WAIT_STEP = 1.0


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: float
    scope: str  # "per IP", "per token"

    @property
    def span(self) -> float:
        """The window as planned: a little wider than the server's."""
        return self.seconds + min(PLAN_MARGIN, 0.02 * self.seconds)

    def describe(self) -> str:
        if self.seconds % 60 == 0 and self.seconds >= 60:
            minutes = int(self.seconds // 60)
            per = "min" if minutes == 1 else f"{minutes} min"
        else:
            per = f"{self.seconds:g} s"
        return f"{self.count} requests per {per} {self.scope}"


@dataclass
class Stamp:
    at: float
    id: str = field(default_factory=lambda: secrets.token_hex(6))


@dataclass
class Booking:
    """Moments reserved for one task: `times[i]` is held by `ids[i]`; `times[0]` is
    when its first request (the run request) may go."""

    ids: list[str]
    times: list[float]
    binding: Limit | None = None  # the limit that made it wait, if any

    @property
    def start(self) -> float:
        return self.times[0]


class Infeasible(Exception):
    """The limits can never fit the plan (e.g. 1 request per minute cannot keep a task
    polled inside a 10 s window)."""

    def __init__(self, limit: Limit, requests: int, span: float) -> None:
        super().__init__(
            f"the rate limit ({limit.describe()}) cannot fit {requests} requests within "
            f"{span:.0f} s, which one task needs to stay inside its polling window"
        )
        self.limit = limit


class _MemoryStore:
    """One process's state, for platforms without file locks."""

    def __init__(self, count: int) -> None:
        self._states: list[dict[str, Any]] = [{} for _ in range(count)]
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[list[dict[str, Any]]]:
        with self._lock:
            yield self._states


class _FileStore:
    """The state shared by every process of the user: one JSON file per limit, each
    locked for the whole of a transaction, always in the same order (no deadlock)."""

    def __init__(self, files: Sequence[Path]) -> None:
        self.files = list(files)
        self._lock = threading.RLock()  # flock alone does not order this process's threads
        for path in self.files:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[list[dict[str, Any]]]:
        import fcntl

        with self._lock, contextlib.ExitStack() as stack:
            handles, states = [], []
            for path in sorted(self.files):
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                fh = stack.enter_context(os.fdopen(fd, "r+"))
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                fh.seek(0)
                try:
                    data = json.loads(fh.read() or "{}")
                except ValueError:
                    data = {}  # torn by a killed process: the window starts afresh
                handles.append(fh)
                states.append(data if isinstance(data, dict) else {})
            order = sorted(range(len(self.files)), key=lambda i: self.files[i])
            by_limit: list[dict[str, Any]] = [{} for _ in self.files]
            for position, index in enumerate(order):
                by_limit[index] = states[position]
            yield by_limit
            for position, index in enumerate(order):
                fh = handles[position]
                fh.seek(0)
                fh.truncate()
                fh.write(json.dumps(by_limit[index], separators=(",", ":")))
                fh.flush()


def _owner() -> str:
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_gone(owner: str) -> bool:
    import socket

    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return True
    except PermissionError:
        return False
    return False


class Budget:
    """Both limits, shared; see the module's docstring."""

    def __init__(
        self,
        limits: Sequence[Limit],
        files: Sequence[Path] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = list(limits)
        self.store: Any = _FileStore(files) if files is not None else _MemoryStore(len(limits))
        self.clock = clock
        self.sleep = sleep
        self.owner = _owner()
        self.waited = 0.0
        self.on_wait: Callable[[str, float], None] | None = None

    # -- bookkeeping --------------------------------------------------------------

    def _tidy(self, states: list[dict[str, Any]], now: float) -> None:
        gone: dict[str, bool] = {}
        for limit, state in zip(self.limits, states, strict=True):
            state["stamps"] = [s for s in state.get("stamps", []) if s[1] > now - limit.span]
            holds = []
            for hold in state.get("holds", []):
                owner = hold[3]
                if owner not in gone:
                    gone[owner] = owner != self.owner and _owner_gone(owner)
                if hold[1] > now - STALE_HOLD and not gone[owner]:
                    holds.append(hold)
            state["holds"] = holds

    @staticmethod
    def _times(state: dict[str, Any], kinds: tuple[str, ...], skip: set[str]) -> list[float]:
        times = [s[1] for s in state.get("stamps", [])]
        times += [h[1] for h in state.get("holds", []) if h[2] in kinds and h[0] not in skip]
        times.sort()
        return times

    @staticmethod
    def _shortfall(times: list[float], new: Sequence[float], limit: Limit) -> float | None:
        """None when `new` fits beside `times` in every window of `limit`. Otherwise
        how far every point of `new` must move later before it can fit: a window
        already holding the limit's count without `new` must be left behind entirely
        (0.0 when no such bound is known: the caller tries its next candidate)."""
        span = limit.span
        crowded = False
        jump = 0.0
        for q in new:
            anchors = times[bisect_right(times, q - span) : bisect_right(times, q)]
            for start in anchors:
                existing = bisect_left(times, start + span) - bisect_left(times, start)
                planned = sum(1 for p in new if start <= p < start + span)
                if existing + planned > limit.count:
                    crowded = True
                    if existing >= limit.count:
                        jump = max(jump, start + span - q)
            for start in (p for p in new if q - span < p <= q):
                inside = bisect_left(times, start + span) - bisect_left(times, start)
                inside += sum(1 for p in new if start <= p < start + span)
                if inside > limit.count:
                    crowded = True
        return jump if crowded else None

    @classmethod
    def _crowded(cls, times: list[float], new: Sequence[float], limit: Limit) -> bool:
        return cls._shortfall(times, new, limit) is not None

    def _place(
        self,
        states: list[dict[str, Any]],
        offsets: Sequence[float],
        earliest: float,
        kinds: tuple[str, ...],
        skip: set[str],
    ) -> tuple[float, Limit | None]:
        """The earliest start >= `earliest` at which every offset fits every limit.

        Candidates are the moments at which some point of the plan just leaves a
        window behind; a full window met on the way is jumped over at once."""
        for limit in self.limits:
            if self._crowded([], list(offsets), limit):
                raise Infeasible(limit, len(offsets), max(offsets) - min(offsets))
        earliest = max([earliest] + [s.get("until", 0.0) for s in states])
        bases = [self._times(s, kinds, skip) for s in states]
        candidates = sorted(
            {
                t + limit.span - o + 1e-3
                for limit, times in zip(self.limits, bases, strict=True)
                for t in times
                for o in offsets
                if t + limit.span - o + 1e-3 > earliest
            }
        )
        binding: Limit | None = None
        start = earliest
        while True:
            plan = [start + o for o in offsets]
            jump, crowded = 0.0, None
            for limit, times in zip(self.limits, bases, strict=True):
                shortfall = self._shortfall(times, plan, limit)
                if shortfall is not None:
                    crowded = crowded or limit
                    jump = max(jump, shortfall)
            if crowded is None:
                return start, binding
            binding = binding or crowded
            if jump > 0:
                start += jump + 1e-3
                continue
            following = bisect_right(candidates, start)
            if following == len(candidates):
                # Past the last candidate every stamp and hold is out of reach, and
                # the plan alone fits (checked above): this cannot be reached.
                raise Infeasible(crowded, len(offsets), max(offsets) - min(offsets))
            start = candidates[following]

    # -- reserving ----------------------------------------------------------------

    def book(
        self,
        offsets: Sequence[float],
        earliest: float | None = None,
        *,
        spares: int = 0,
        replacing: Booking | None = None,
    ) -> Booking:
        """Reserve one moment per offset (seconds after the start), at the earliest
        start that fits beside everything already spent and reserved; the last
        `spares` moments are headroom (see SPARE). Never waits: the caller waits
        until `booking.start`, its moments already protected. `replacing`: a booking
        given up in the same step (nothing can take its moments in between)."""
        now = self.clock()
        kinds = [HOLD] * (len(offsets) - spares) + [SPARE] * spares
        with self.store.transaction() as states:
            self._tidy(states, now)
            if replacing is not None:
                drop = set(replacing.ids)
                for state in states:
                    state["holds"] = [h for h in state.get("holds", []) if h[0] not in drop]
            start, binding = self._place(
                states, offsets, max(now, earliest or now), NEW_WORK, set()
            )
            booking = Booking(
                ids=[secrets.token_hex(6) for _ in offsets],
                times=[start + o for o in offsets],
                binding=binding,
            )
            for state in states:
                state.setdefault("holds", []).extend(
                    [i, t, kind, self.owner]
                    for i, t, kind in zip(booking.ids, booking.times, kinds, strict=True)
                )
        return booking

    def book_poll(self, desired: float, deadline: float) -> tuple[str, float]:
        """Reserve one more poll for a running task, at the first moment from
        `desired` that fits beside stamps and polls (spares and unsubmitted work give
        way), and no later than `deadline`, where it goes whatever the count: a task
        left unpolled is lost for sure."""
        now = self.clock()
        with self.store.transaction() as states:
            self._tidy(states, now)
            try:
                moment, _ = self._place(states, [0.0], max(now, desired), URGENT, set())
            except Infeasible:
                moment = deadline
            moment = min(moment, max(deadline, desired))
            hold_id = secrets.token_hex(6)
            for state in states:
                state.setdefault("holds", []).append([hold_id, moment, POLL, self.owner])
        return hold_id, moment

    def still_fits(self, booking: Booking) -> bool:
        """Do the booking's moments still fit? A poll may have taken one of them."""
        now = self.clock()
        with self.store.transaction() as states:
            self._tidy(states, now)
            mine = set(booking.ids)
            present = {h[0] for s in states for h in s.get("holds", [])}
            if not mine <= present:
                return False
            for limit, state in zip(self.limits, states, strict=True):
                if self._crowded(self._times(state, NEW_WORK, mine), booking.times, limit):
                    return False
        return True

    def commit(self, booking: Booking, ids: Sequence[str], times: Sequence[float]) -> None:
        """The task was submitted: its remaining moments (`ids`, moved to `times`)
        become polls, which nothing displaces (spares stay spares)."""
        moved = dict(zip(ids, times, strict=True))
        with self.store.transaction() as states:
            for state in states:
                for hold in state.get("holds", []):
                    if hold[0] in moved:
                        hold[1] = moved[hold[0]]
                        if hold[2] == HOLD:
                            hold[2] = POLL

    def release(self, ids: Sequence[str]) -> None:
        """Moments no longer needed (the task finished early, or failed)."""
        if not ids:
            return
        drop = set(ids)
        with self.store.transaction() as states:
            for state in states:
                state["holds"] = [h for h in state.get("holds", []) if h[0] not in drop]

    # -- spending -----------------------------------------------------------------

    def acquire(
        self,
        *,
        hold: str | None = None,
        urgent: bool = False,
        deadline: float | None = None,
    ) -> Stamp:
        """Take one request's place now, sleeping until there is one.

        `hold`: the moment reserved for this request (it becomes the stamp). `urgent`:
        a poll of a running task; it needs to fit only beside stamps and polls, and at
        `deadline` (clock time) it goes whatever the count, since a task left unpolled
        is lost for sure while a request over the count may still be answered.
        """
        waited = 0.0
        while True:
            now = self.clock()
            with self.store.transaction() as states:
                self._tidy(states, now)
                delay, binding = self._delay(states, now, hold, urgent)
                if delay <= 0 or (deadline is not None and now >= deadline):
                    stamp = Stamp(now)
                    for state in states:
                        if hold is not None:
                            state["holds"] = [h for h in state.get("holds", []) if h[0] != hold]
                        state.setdefault("stamps", []).append([stamp.id, now])
                    self.waited += waited
                    return stamp
            if deadline is not None:
                delay = min(delay, max(0.0, deadline - now))
            step = min(delay, WAIT_STEP)
            if waited == 0.0 and delay > 5 and self.on_wait is not None:
                why = f"the rate limit ({binding.describe()})" if binding else "after a 429"
                self.on_wait(why, delay)
            self.sleep(step)
            waited += step

    def _delay(
        self, states: list[dict[str, Any]], now: float, hold: str | None, urgent: bool
    ) -> tuple[float, Limit | None]:
        """Seconds until this request fits, and the limit that holds it back."""
        until = max(s.get("until", 0.0) for s in states) - now
        if until > 0:
            return until, None
        held = hold is not None and any(h[0] == hold for s in states for h in s.get("holds", []))
        if held:
            # The moment was reserved for this very request: only the requests really
            # sent count (a late neighbour may have shifted them).
            kinds: tuple[str, ...] = ()
        else:
            kinds = URGENT if urgent else NEW_WORK
        skip = {hold} if hold else set()
        delay, binding = 0.0, None
        for limit, state in zip(self.limits, states, strict=True):
            times = self._times(state, kinds, skip)
            if self._crowded(times, [now], limit):
                room = self._next_room(times, now, limit)
                if room > delay:
                    delay, binding = room, limit
        return delay, binding

    @staticmethod
    def _next_room(times: list[float], now: float, limit: Limit) -> float:
        """Seconds until one more request fits `limit` beside `times`."""
        candidates = sorted(t + limit.span + 1e-3 for t in times if t + limit.span > now)
        for c in candidates:
            if not Budget._crowded(times, [c], limit):
                return c - now
        return limit.span

    def done(self, stamp: Stamp) -> None:
        """The reply arrived: the request is counted from now (see the docstring)."""
        now = self.clock()
        with self.store.transaction() as states:
            for state in states:
                for entry in state.get("stamps", []):
                    if entry[0] == stamp.id:
                        entry[1] = max(entry[1], now)
        stamp.at = max(stamp.at, now)

    def penalize(self, seconds: float) -> None:
        """After a 429: every process holds back for `seconds`."""
        until = self.clock() + seconds
        with self.store.transaction() as states:
            for state in states:
                state["until"] = max(state.get("until", 0.0), until)

    def remaining(self) -> int:
        """Requests that could go now in the tightest window, reservations counted."""
        now = self.clock()
        with self.store.transaction() as states:
            self._tidy(states, now)
            return min(
                limit.count
                - sum(1 for s in state.get("stamps", []) if s[1] > now - limit.seconds)
                - sum(1 for h in state.get("holds", []) if now <= h[1] < now + limit.seconds)
                for limit, state in zip(self.limits, states, strict=True)
            )

    def preload(self, times: Sequence[float]) -> None:
        """Record requests sent by something else (benchmarks: a window already full)."""
        with self.store.transaction() as states:
            for state in states:
                state.setdefault("stamps", []).extend([secrets.token_hex(6), t] for t in times)
