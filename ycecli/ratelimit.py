"""Client-side sliding-window limits, so yce does not earn 429s it could foresee.

003:238 documents two limits that must both hold: 100 requests per 5 minutes per IP
and 100 per minute per access token. This limiter keeps both for one process.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.stamps: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self.stamps and self.stamps[0] <= now - self.window:
            self.stamps.popleft()

    def wait_time(self, now: float) -> float:
        self._trim(now)
        if len(self.stamps) < self.limit:
            return 0.0
        return self.stamps[0] + self.window - now

    def remaining(self, now: float) -> int:
        self._trim(now)
        return self.limit - len(self.stamps)


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

    def acquire(self) -> float:
        """Take one request slot; returns how long it had to wait."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                delay = max(w.wait_time(now) for w in self.windows)
                if delay <= 0:
                    for w in self.windows:
                        w.stamps.append(now)
                    self.waited += waited
                    return waited
            self.sleep(delay)
            waited += delay

    def remaining(self) -> int:
        with self._lock:
            now = self.clock()
            return min(w.remaining(now) for w in self.windows)
