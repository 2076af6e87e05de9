"""The shared budget: spent requests, reserved moments, and who goes first."""

import pytest

from ycecli.ratelimit import Budget, Infeasible, Limit


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def budget(tmp_path, limits, time: FakeTime) -> Budget:
    files = [tmp_path / f"limit{i}.json" for i in range(len(limits))]
    return Budget(limits, files, clock=time.clock, sleep=time.sleep)


def spend(b: Budget, count: int, **kwargs) -> None:
    for _ in range(count):
        b.done(b.acquire(**kwargs))


def test_a_task_is_booked_only_where_its_run_and_polls_all_fit(tmp_path):
    time = FakeTime()
    b = budget(tmp_path, [Limit(10, 60.0, "per IP")], time)
    spend(b, 8)
    # Run, polls at +8 and +16, a spare at +24: four requests with two places left in
    # the window of the eight, so the start moves until two of them fall past it.
    booking = b.book([0.0, 8.0, 16.0, 24.0], spares=1)
    assert booking.start > 1000.0
    assert booking.times[2] > 1000.0 + 60.0  # the third request leaves the eight behind
    b.release(booking.ids)
    assert booking.binding == Limit(10, 60.0, "per IP")
    # Two requests fit now.
    small = b.book([0.0, 8.0])
    assert small.start == 1000.0


def test_polls_of_running_tasks_go_before_new_work_in_every_process(tmp_path, monkeypatch):
    # The polls here are never sent: keep them from going stale while time jumps.
    monkeypatch.setattr("ycecli.ratelimit.STALE_HOLD", 1e6)
    time = FakeTime()
    limits = [Limit(4, 60.0, "per IP")]
    first = budget(tmp_path, limits, time)
    second = budget(tmp_path, limits, time)  # another process: the same files
    booking = first.book([0.0, 8.0, 16.0])
    first.done(first.acquire(hold=booking.ids[0]))
    first.commit(booking, booking.ids[1:], booking.times[1:])
    # The other process sees three of four places taken (one spent, two polls
    # reserved): a two-request task must wait until the spent one leaves the window.
    later = second.book([0.0, 8.0])
    assert later.times[1] > 1000.0 + 60.0
    second.release(later.ids)
    # A plain request (a style list) waits too, leaving the polls their places...
    second.done(second.acquire())
    assert time.now == 1000.0  # one place was free
    before = time.now
    second.done(second.acquire())
    assert time.now >= before + 60  # the next one waited for the window


def test_an_extra_poll_may_use_the_headroom_new_work_may_not(tmp_path):
    time = FakeTime()
    b = budget(tmp_path, [Limit(4, 60.0, "per IP")], time)
    booking = b.book([0.0, 8.0, 16.0], spares=1)  # run, poll, spare
    b.done(b.acquire(hold=booking.ids[0]))
    b.commit(booking, booking.ids[1:], booking.times[1:])
    # New work sees run + poll + spare: one place left.
    assert b.book([0.0, 5.0]).start > time.now
    # The running task, still running at its poll, books one more poll at once.
    hold_id, moment = b.book_poll(time.now + 9.0, deadline=time.now + 10.0)
    assert moment == pytest.approx(time.now + 9.0)
    assert hold_id


def test_an_extra_poll_never_goes_later_than_its_window(tmp_path):
    time = FakeTime()
    b = budget(tmp_path, [Limit(3, 60.0, "per IP")], time)
    spend(b, 3)  # the window is full for a minute
    _, moment = b.book_poll(time.now + 1.0, deadline=time.now + 8.0)
    assert moment == time.now + 8.0  # lost for sure later; a request over the count may pass


def test_a_hold_of_a_dead_process_stops_counting(tmp_path):
    time = FakeTime()
    b = budget(tmp_path, [Limit(2, 60.0, "per IP")], time)
    b.book([0.0, 5.0])
    # Rewrite the owner as a process that is gone (pid 2**22 + 1 is above Linux's
    # default pid_max and cannot exist).
    import json

    path = tmp_path / "limit0.json"
    state = json.loads(path.read_text())
    for hold in state["holds"]:
        hold[3] = hold[3].rsplit(":", 1)[0] + ":4194305"
    path.write_text(json.dumps(state))
    assert b.book([0.0, 5.0]).start == time.now


def test_released_moments_are_free_at_once(tmp_path):
    time = FakeTime()
    b = budget(tmp_path, [Limit(3, 60.0, "per IP")], time)
    booking = b.book([0.0, 8.0, 16.0])
    assert b.book([0.0]).start > time.now
    b.release(booking.ids)
    assert b.book([0.0]).start == time.now


def test_limits_that_cannot_keep_a_task_alive_are_refused(tmp_path):
    time = FakeTime()
    b = budget(tmp_path, [Limit(1, 60.0, "per IP")], time)
    with pytest.raises(Infeasible) as info:
        b.book([0.0, 8.0])
    assert "1 requests per min per IP" in str(info.value)


def test_a_429_holds_every_process_back(tmp_path):
    time = FakeTime()
    limits = [Limit(100, 300.0, "per IP")]
    first, second = budget(tmp_path, limits, time), budget(tmp_path, limits, time)
    first.penalize(7.0)
    second.done(second.acquire())
    assert time.now == pytest.approx(1007.0)


def test_limit_describes_itself_as_the_documents_do():
    assert Limit(100, 300.0, "per IP").describe() == "100 requests per 5 min per IP"
    assert Limit(100, 60.0, "per token").describe() == "100 requests per min per token"
    assert Limit(4, 1.0, "per IP").describe() == "4 requests per 1 s per IP"
