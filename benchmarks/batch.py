#!/usr/bin/env python3
"""A batch at the documented rate limits, time-scaled, against the sandbox.

    python benchmarks/batch.py [--inputs 200] [--scale 0.05] [--task-seconds 8]

Reports API requests per task against the target 2 + ceil(T / 8 s) + 1/N, and tasks
per minute (in unscaled time) as a ratio to what the limits allow for tasks of that
duration: the tightest limit (003: 100 requests per 5 minutes per IP) divided by the
target's requests per task. Also: lost (dropped) tasks and 429s, which must be zero.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from PIL import Image

from ycecli.api import Yce
from ycecli.config import Paths, Profile
from ycecli.sandbox.server import Sandbox, SandboxConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=200)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--task-seconds", type=float, default=8.0, help="unscaled")
    args = parser.parse_args()
    config = SandboxConfig(task_seconds=args.task_seconds).scaled(args.scale)
    with tempfile.TemporaryDirectory() as tmp, Sandbox(config=config) as sandbox:
        folder = Path(tmp)
        inputs = []
        for i in range(args.inputs):
            path = folder / f"in{i:04d}.jpg"
            Image.new("RGB", (16, 12), (i % 256, 80, 160)).save(path)
            inputs.append(str(path))
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
        with Yce(profile, paths=paths) as yce:
            started = time.monotonic()
            results = yce.run(
                "enhance", inputs, {"scale": 1}, output=folder / "out", raise_errors=False
            )
            elapsed = time.monotonic() - started
            stats = yce.last_batch_stats
        done = sum(r.status == "success" for r in results)
        api_requests = len(sandbox.requests)  # every request the API saw, auth included
        dropped = sum(t.state == "dropped" for t in sandbox.tasks.values())
        n, t = args.inputs, args.task_seconds
        target = 2 + math.ceil(t / 8) + 1 / n
        per_task = api_requests / n
        real_minutes = elapsed / args.scale / 60
        tasks_per_minute = done / real_minutes
        rate = min(100 / 300, 100 / 60) * 60  # requests per minute the limits allow
        allowed = rate / target
        print(
            f"batch of {n} x enhance, task {t:.0f} s, limits 100/5 min per IP and "
            f"100/min per token, time scale {args.scale}"
        )
        print(
            f"  done {done}/{n}, dropped {dropped}, 429s {sandbox.rate_limited}, "
            f"charges {len(sandbox.charges())}, max in flight {stats.get('max_in_flight')}"
        )
        print(f"  API requests per task {per_task:.2f} (target <= {target:.2f})")
        print(
            f"  throughput {tasks_per_minute:.2f} tasks/min vs {allowed:.2f} the limits allow:"
            f" {tasks_per_minute / allowed:.0%} (target >= 90%)"
        )
        print(f"  elapsed {elapsed:.1f} s scaled = {real_minutes:.1f} min unscaled")


if __name__ == "__main__":
    main()
