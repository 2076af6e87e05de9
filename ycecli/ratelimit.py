"""Client-side sliding-window limits, so yce does not earn 429s it could foresee.

003:238 documents two limits that must both hold: 100 requests per 5 minutes per IP
and 100 per minute per access token. This limiter keeps both for one process.

A request is stamped when it is sent and stamped again when its reply arrives: the
server counted it at some moment in between, so counting it from the later stamp
keeps our window behind the server's whatever the network latency.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path


class Stamp:
    __slots__ = ("at", "id")

    def __init__(self, at: float) -> None:
        self.at = at
        self.id: str | None = None


class SlidingWindow:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.stamps: list[Stamp] = []

    def _live(self, now: float) -> list[float]:
        self.stamps = [s for s in self.stamps if s.at > now - self.window]
        return sorted(s.at for s in self.stamps)

    def wait_time(self, now: float) -> float:
        live = self._live(now)
        excess = len(live) - self.limit
        if excess < 0:
            return 0.0
        return live[excess] + self.window - now

    def remaining(self, now: float) -> int:
        return self.limit - len(self._live(now))


class RateLimiter:
    """Blocks until every window has room, then records the request in all of them."""

    def __init__(
        self,
        windows: list[SlidingWindow],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.windows = windows
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self.waited = 0.0
        self.hold_until = 0.0

    def acquire(self) -> Stamp:
        """Take one request slot (sleeping until there is one); pass the returned
        stamp to `done` when the reply has arrived."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                delay = max(self.hold_until - now, *(w.wait_time(now) for w in self.windows))
                if delay <= 0:
                    stamp = Stamp(now)
                    for w in self.windows:
                        w.stamps.append(stamp)
                    self.waited += waited
                    return stamp
            self.sleep(delay)
            waited += delay

    def done(self, stamp: Stamp) -> None:
        with self._lock:
            stamp.at = max(stamp.at, self.clock())

    def remaining(self) -> int:
        with self._lock:
            now = self.clock()
            return min(w.remaining(now) for w in self.windows)

    def penalize(self, seconds: float) -> None:
        """After a 429: hold every later request back for `seconds`."""
        with self._lock:
            self.hold_until = max(self.hold_until, self.clock() + seconds)


class SharedRateLimiter:
    """The same two windows, kept in small files under the state dir and guarded by
    file locks, so every yce process of this user on this host counts against one
    budget: `xargs -P 8 yce ...` stays inside the API's limits too.

    Each window file holds the recent requests as [id, time] pairs (wall-clock time,
    shared by all processes) and a cooldown set after a 429, which pauses everyone.
    """

    def __init__(
        self,
        windows: list[tuple[Path, int, float]],  # (file, limit, window seconds)
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.windows = sorted(windows)  # a fixed lock order: no deadlock between processes
        self.clock = clock
        self.sleep = sleep
        self.waited = 0.0
        for path, _, _ in self.windows:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _locked(self):
        import contextlib
        import fcntl

        stack = contextlib.ExitStack()
        states = []
        for path, limit, window in self.windows:
            fh = stack.enter_context(open(path, "a+"))  # noqa: SIM115 (the stack closes it)
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            fh.seek(0)
            try:
                data = json.loads(fh.read() or "{}")
            except ValueError:
                data = {}  # a torn file from a killed process: start the window afresh
            states.append((fh, limit, window, data))
        return stack, states

    @staticmethod
    def _save(fh, data) -> None:
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(data))
        fh.flush()

    def acquire(self) -> Stamp:
        waited = 0.0
        while True:
            now = self.clock()
            stack, states = self._locked()
            with stack:
                delay = 0.0
                for _, limit, window, data in states:
                    live = sorted(t for _, t in data.get("stamps", []) if t > now - window)
                    data["stamps"] = [s for s in data.get("stamps", []) if s[1] > now - window]
                    if len(live) >= limit:
                        delay = max(delay, live[len(live) - limit] + window - now)
                    delay = max(delay, data.get("until", 0) - now)
                if delay <= 0:
                    stamp = Stamp(now)
                    stamp.id = secrets.token_hex(6)
                    for fh, _, _, data in states:
                        data["stamps"].append([stamp.id, now])
                        self._save(fh, data)
                    self.waited += waited
                    return stamp
            self.sleep(min(delay, 5.0))
            waited += min(delay, 5.0)

    def done(self, stamp: Stamp) -> None:
        now = self.clock()
        stack, states = self._locked()
        with stack:
            for fh, _, _, data in states:
                for entry in data.get("stamps", []):
                    if entry[0] == stamp.id:
                        entry[1] = max(entry[1], now)
                self._save(fh, data)
        stamp.at = max(stamp.at, now)

    def penalize(self, seconds: float) -> None:
        """After a 429: every process holds back for `seconds`."""
        until = self.clock() + seconds
        stack, states = self._locked()
        with stack:
            for fh, _, _, data in states:
                data["until"] = max(data.get("until", 0), until)
                self._save(fh, data)

    def remaining(self) -> int:
        now = self.clock()
        stack, states = self._locked()
        with stack:
            return min(
                limit - sum(1 for _, t in data.get("stamps", []) if t > now - window)
                for _, limit, window, data in states
            )
