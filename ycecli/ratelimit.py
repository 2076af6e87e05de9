"""Client-side sliding-window limits, so yce does not earn 429s it could foresee.

003:238 documents two limits that must both hold: 100 requests per 5 minutes per IP
and 100 per minute per access token. This limiter keeps both for one process.

A request is stamped when it is sent and stamped again when its reply arrives: the
server counted it at some moment in between, so counting it from the later stamp
keeps our window behind the server's whatever the network latency.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Stamp:
    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at


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

    def acquire(self) -> Stamp:
        """Take one request slot (sleeping until there is one); pass the returned
        stamp to `done` when the reply has arrived."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                delay = max(w.wait_time(now) for w in self.windows)
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
