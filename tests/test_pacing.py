"""Where polls go: near the expected completion, never past the polling window."""

import pytest

from ycecli import pacing
from ycecli.pacing import Estimate, learn, overrun_gap, poll_offsets

GAP = 8.0  # the documented 10 s window less the 2 s margin


def requests_per_task(task_seconds: float, tasks: int = 80) -> float:
    """Run request + polls per task once the estimate has settled, for tasks that
    all take `task_seconds` (the sandbox's tasks do)."""
    estimate, spent = None, []
    for _ in range(tasks):
        planned = poll_offsets(estimate or pacing.prior(), GAP)
        running_after, done_after, polls = None, None, 0
        for offset in planned:
            polls += 1
            if offset >= task_seconds:
                done_after = offset
                break
            running_after = offset
        while done_after is None:
            offset = running_after + overrun_gap(
                running_after, GAP, 1.0, known=estimate is not None
            )
            polls += 1
            if offset >= task_seconds:
                done_after = offset
            else:
                running_after = offset
        spent.append(1 + polls)
        estimate = learn(estimate, running_after, done_after)
    settled = spent[10:]
    return sum(settled) / len(settled)


@pytest.mark.parametrize(("task_seconds", "most"), [(1, 2.1), (4, 2.1), (8, 2.2), (20, 4.4)])
def test_a_settled_estimate_costs_little_more_than_the_polls_a_task_must_have(task_seconds, most):
    # A task shorter than the window: its run request and one poll, a second poll now
    # and then while the estimate checks whether tasks got quicker. A 20 s task needs
    # three polls whatever the estimate (one every 8 s at most).
    assert requests_per_task(task_seconds) <= most


def test_no_gap_between_polls_is_longer_than_the_window_allows():
    for seconds in (0.5, 3.0, 7.9, 8.2, 9.5, 13.0, 20.0, 95.0):
        offsets = poll_offsets(Estimate(seconds), GAP)
        gaps = [b - a for a, b in zip([0.0, *offsets], offsets, strict=False)]
        assert max(gaps) <= GAP + 1e-9
        # The last poll aims just past the expected end, or at the window's limit.
        assert offsets[-1] == pytest.approx(min(Estimate(seconds).target(), len(offsets) * GAP))


def test_a_task_seen_running_then_done_moves_the_estimate_into_the_bracket():
    estimate = learn(Estimate(3.0), running_after=7.6, done_after=9.0)
    assert estimate.seconds == pytest.approx(8.3)
    assert estimate.floor == pytest.approx(7.6)
    # The next first poll goes past what was seen running.
    assert poll_offsets(estimate, GAP)[0] > 7.6


def test_a_task_done_at_its_first_poll_lets_the_estimate_creep_down_but_not_below_the_floor():
    estimate = Estimate(6.0, floor=5.0, samples=3)
    after = learn(estimate, running_after=None, done_after=6.3)
    assert after.seconds < estimate.seconds
    assert poll_offsets(after, GAP)[0] > 5.0


def test_everything_scales_with_the_polling_window():
    # A sandbox scaled to a 0.5 s window paces as the real 10 s one does.
    unit = 0.05
    real = poll_offsets(pacing.prior(), GAP)
    scaled = poll_offsets(pacing.prior(unit), GAP * unit, unit)
    assert scaled == pytest.approx([o * unit for o in real])
