"""A clock that skips waits, shared by the test process and every yce process it starts.

yce paces itself on the wall clock: the first poll of a kind of task it has never
seen goes 3.3 s after the run request, the first run request a second after its file
is registered, and a full rate limit is waited out. Against a sandbox whose tasks
take a blink, those seconds are only waited on. Here they are skipped instead:

- the clock's time is the wall clock plus an offset kept in a small shared file;
- a sleep does not sleep: it moves the offset on by the time asked for (to the
  moment the sleeper asked to wake at, so two sleepers asking for the same moment
  move it once);
- the sandbox reads the same offset (SandboxClock), so a task "takes" its seconds on
  the clock yce sees, and a task yce leaves unpolled past its window is still dropped.

Everything that is not a wait (start-up, requests, uploads, the engines' work) takes
its real time on this clock too, so the order of events and the time between them
are what they would be in real time; only idle time is gone. The timeouts of single
exchanges are kept on time.monotonic, which is never faked.

In every Python process a test starts (yce, and anything else), with the tests'
environment, tests/clockhook/sitecustomize.py installs it as time.time and time.sleep
before anything is imported: PYTHONPATH leads to it, YCETEST_VIRTUAL_CLOCK names the
file (tests/conftest.py sets both).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
import time

ENV = "YCETEST_VIRTUAL_CLOCK"
_real_time = time.time
_real_sleep = time.sleep
_FORMAT = "d"


class SharedClock:
    def __init__(self, path: str | os.PathLike, *, create: bool = False) -> None:
        self.path = os.fspath(path)
        if create:
            with open(self.path, "wb") as fh:
                fh.write(struct.pack(_FORMAT, 0.0))
        fd = os.open(self.path, os.O_RDWR)
        try:
            # The mapping outlives the descriptor: a request still being answered
            # after its test ended reads the clock safely.
            self._map = mmap.mmap(fd, struct.calcsize(_FORMAT))
        finally:
            os.close(fd)
        self._lock = threading.Lock()

    def offset(self) -> float:
        return struct.unpack_from(_FORMAT, self._map)[0]

    def now(self) -> float:
        return _real_time() + self.offset()

    def sleep(self, seconds: float) -> None:
        """Return at once, the clock moved on to when the sleep would have ended."""
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        wake = self.now() + seconds
        with self._lock, open(self.path, "rb") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the other processes' sleeps
            offset = max(self.offset(), wake - _real_time())
            struct.pack_into(_FORMAT, self._map, 0, offset)
        _real_sleep(0)  # let other threads run, as a real sleep would


class SandboxClock:
    """The sandbox's clock (the interface of ycecli.sandbox.server.Clock) on a
    SharedClock. `advance` moves only the sandbox's view, as it always has: a test
    that ages a token or an upload URL does not age the client with it."""

    def __init__(self, shared: SharedClock) -> None:
        self.shared = shared
        self.offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return self.shared.now() + self.offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.offset += seconds
