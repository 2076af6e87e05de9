#!/usr/bin/env python3
"""A batch at the documented rate limits, against the sandbox.

    python benchmarks/batch.py [--inputs 200] [--scale 0.05] [--task-seconds 8]
    python benchmarks/batch.py --real-time [--inputs 24] [--task-seconds 4 8 20]

Time-scaled (the default) every duration is multiplied by --scale, so 200 inputs run
in a minute; --real-time runs the real limits in real time, with the 5-minute window
already full as after a long run (the steady state, where the limit binds), so a
run of minutes measures what hours would.

Reports, per task length T: API requests per task (the run request, polls, file
creation and auth, all counted by the API), throughput as a ratio to the ceiling the
per-IP limit (100 requests per 5 minutes) allows at that cost, the tasks dropped for
want of a poll and the 429s earned (both must be 0), and how many tasks needed more
than one poll.
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
from pathlib import Path

from PIL import Image

from ycecli.api import Yce
from ycecli.client import make_budget
from ycecli.config import Paths, Profile
from ycecli.sandbox.server import Sandbox, SandboxConfig

IP_LIMIT, IP_WINDOW = 100, 300.0  # 003:238


def run_once(inputs: int, task_seconds: float, scale: float, steady: bool) -> dict:
    config = SandboxConfig(task_seconds=task_seconds)
    if scale != 1.0:
        config = config.scaled(scale)
    with tempfile.TemporaryDirectory() as tmp, Sandbox(config=config) as sandbox:
        folder = Path(tmp)
        paths_in = []
        for i in range(inputs):
            path = folder / f"in{i:04d}.jpg"
            Image.new("RGB", (16, 12), (i % 256, 80, 160)).save(path)
            paths_in.append(str(path))
        env = sandbox.env()
        profile = Profile(
            client_id=env["YCE_CLIENT_ID"],
            client_secret=env["YCE_CLIENT_SECRET"],
            api_base=env["YCE_API_BASE"],
            rate_limit_ip_window=config.rate_limit_ip_window,
            rate_limit_token_window=config.rate_limit_token_window,
            polling_window=config.polling_window,
        )
        paths = Paths(folder / "config.yaml", folder / "cache", folder / "state")
        if steady:
            # The window as a long run leaves it: 100 requests spread over the last
            # 5 minutes, one leaving every 3 s. Both sides count them.
            now, server_now = time.time(), sandbox.clock.now()
            ages = [config.rate_limit_ip_window * (1 - (k + 1) / IP_LIMIT) for k in range(IP_LIMIT)]
            make_budget(profile, paths, time.sleep).preload([now - age for age in ages])
            hits = sandbox.ip_hits.setdefault("127.0.0.1", collections.deque())
            hits.extend(sorted(server_now - age for age in ages))
        with Yce(profile, paths=paths) as yce:
            started = time.monotonic()
            results = yce.run(
                "enhance", paths_in, {"scale": 1}, output=folder / "out", raise_errors=False
            )
            elapsed = time.monotonic() - started
        polls = collections.Counter(task_id for task_id, _ in sandbox.polls)
        return {
            "done": sum(r.status == "success" for r in results),
            "requests": len(sandbox.requests),
            "dropped": sum(t.state == "dropped" for t in sandbox.tasks.values()),
            "rate_limited": sandbox.rate_limited,
            "charges": len(sandbox.charges()),
            "more_than_one_poll": sum(1 for n in polls.values() if n > 1),
            "elapsed": elapsed / scale,  # in the API's time
        }


def report(inputs: int, task_seconds: float, figures: dict, steady: bool) -> None:
    per_task = figures["requests"] / inputs
    tasks_per_minute = figures["done"] / (figures["elapsed"] / 60)
    ceiling = IP_LIMIT / (IP_WINDOW / 60) / per_task  # tasks a minute at that cost
    print(
        f"T = {task_seconds:g} s, {inputs} inputs"
        + (" (window full from the start)" if steady else "")
        + f": done {figures['done']}/{inputs}, dropped {figures['dropped']}, "
        f"429s {figures['rate_limited']}, charges {figures['charges']}"
    )
    print(
        f"  API requests per task {per_task:.2f}; tasks polled more than once "
        f"{figures['more_than_one_poll']}/{inputs}"
    )
    print(
        f"  throughput {tasks_per_minute:.2f} tasks/min vs {ceiling:.2f} the per-IP limit "
        f"allows at that cost: {tasks_per_minute / ceiling:.0%}; "
        f"elapsed {figures['elapsed']:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real-time", action="store_true", help="no time scaling")
    parser.add_argument("--inputs", type=int, default=None)
    parser.add_argument("--scale", type=float, default=0.05, help="time-scaled runs only")
    parser.add_argument("--task-seconds", type=float, nargs="+", default=None)
    args = parser.parse_args()
    if args.real_time:
        inputs = args.inputs or 24
        lengths = args.task_seconds or [4.0, 8.0, 20.0]
        scale, steady = 1.0, True
        print("real time, 003's limits: 100 requests per 5 min per IP, 100 per min per token")
    else:
        inputs = args.inputs or 200
        lengths = args.task_seconds or [8.0]
        scale, steady = args.scale, False
        print(f"time-scaled by {scale}, 003's limits; figures in the API's time")
    for task_seconds in lengths:
        report(inputs, task_seconds, run_once(inputs, task_seconds, scale, steady), steady)


if __name__ == "__main__":
    main()
