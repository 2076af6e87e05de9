"""When to poll a task: near the moment it is expected to be done, never later than its
polling window allows.

Every poll spends the same budget as new work (003:238), and a task polled before it
is done buys nothing. So yce learns, per feature and input size, how long tasks take
(kept in the journal, shared by every process), and places the first poll just past
that; a task shorter than the window usually costs its run request and one poll.

Polls only ever see "still running" or "done", so what is learned is a bracket. The
estimate keeps two numbers:

- `seconds`: by when tasks of this kind have been done. A task done at its first poll
  says only that it was done by then, so the estimate creeps down (15% a task) to find
  out whether they are quicker than that; a task seen running and then done took
  between the two polls, and the estimate goes to the middle;
- `floor`: a recent task was still running this long after its run request. It rises
  at once to every "still running" and fades slowly (0.5% a task), so the creeping
  estimate stops just above what tasks really take, and tries lower only now and then.

The first poll goes at max(seconds, floor + a step) plus a little for latency.

The constants are set for the documented 10 s polling window and scale with it
(`unit` = window / 10 s), so a sandbox run with every duration scaled down for a fast
test paces its polls as the real service would be paced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PRIOR_SECONDS = 3.0  # before anything is known of a kind of task
LEAD = 0.3  # a poll goes this much after the expected completion (latency, jitter)
FLOOR_STEP = 0.25  # how far past a seen "still running" the next first poll goes
CREEP = 0.85  # the estimate after a task done at its first poll
FADE = 0.995  # the floor after each task
# A first poll that would land this little past the longest gap is pulled back to it:
# one poll that is sometimes early beats two that are always spent.
STRETCH = 0.2


@dataclass(frozen=True)
class Estimate:
    seconds: float
    floor: float = 0.0
    samples: int = 0

    def target(self, unit: float = 1.0) -> float:
        """Seconds after the run request at which the task is expected to be done."""
        return max(self.seconds, self.floor + FLOOR_STEP * unit) + LEAD * unit


def prior(unit: float = 1.0) -> Estimate:
    """What is assumed of a kind of task never seen before."""
    return Estimate(PRIOR_SECONDS * unit)


def poll_offsets(estimate: Estimate, longest_gap: float, unit: float = 1.0) -> list[float]:
    """Seconds after the run request at which to poll, the last aimed at the expected
    completion and no gap longer than `longest_gap` (the window less a margin)."""
    target = estimate.target(unit)
    polls = max(1, math.ceil(target / longest_gap - STRETCH))
    step = min(longest_gap, target / polls)
    return [round(step * k, 3) for k in range(1, polls + 1)]


def overrun_gap(
    elapsed: float,
    longest_gap: float,
    server_interval: float | None,
    known: bool = True,
    unit: float = 1.0,
) -> float:
    """The gap to the next poll of a task still running after its planned polls: short
    at first (it is probably nearly done), longer the longer it runs, never shorter
    than the server asks nor longer than the window allows. For a kind of task never
    seen before the gaps grow faster (half the time elapsed): it may take a minute."""
    wanted = max(0.5 * unit, (0.1 if known else 0.5) * elapsed, server_interval or 0.0)
    return min(longest_gap, wanted)


def learn(
    current: Estimate | None,
    running_after: float | None,
    done_after: float,
    unit: float = 1.0,
) -> Estimate:
    """The estimate after one more task, which was still running `running_after`
    seconds after its run request (None: never seen running) and seen done at
    `done_after`."""
    current = current or prior(unit)
    floor = current.floor * FADE
    if running_after is not None:
        # Seen running, then done: the task took between the two; aim at the middle
        # (the floor keeps the next first poll past `running_after`).
        floor = max(floor, running_after)
        seconds = (running_after + done_after) / 2
    else:
        seconds = min(current.seconds, done_after) * CREEP
    return Estimate(max(seconds, 0.01 * unit), floor, current.samples + 1)


def size_class(total_bytes: int | None) -> str:
    """Input sizes that plausibly take different times: under 1 MB, under 8 MB, more."""
    if total_bytes is None:
        return "unknown"
    if total_bytes < 1_000_000:
        return "small"
    if total_bytes < 8_000_000:
        return "medium"
    return "large"
