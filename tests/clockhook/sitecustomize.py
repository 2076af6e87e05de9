"""Imported by every Python process the tests start with this folder on PYTHONPATH:
with YCETEST_VIRTUAL_CLOCK set, time.time and time.sleep become the shared virtual
clock (virtual_clock.py) before anything else is imported."""

import os

if os.environ.get("YCETEST_VIRTUAL_CLOCK"):
    import time

    from virtual_clock import SharedClock

    _clock = SharedClock(os.environ["YCETEST_VIRTUAL_CLOCK"])
    time.time = _clock.now
    time.sleep = _clock.sleep
