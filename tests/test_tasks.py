"""Running and polling tasks against the sandbox."""

import pytest

from tests.conftest import SAMPLE, fast_config, profile_for, sandbox_clock
from ycecli.api import Yce
from ycecli.errors import InvalidTaskId, OutOfUnits, TaskFailed, TaskTimeout
from ycecli.sandbox.server import Fault, Sandbox
from ycecli.tasks import next_gap


def test_gap_follows_polling_interval_but_never_exceeds_the_window():
    assert next_gap(1.0, 10.0) == 1.0
    assert next_gap(60.0, 10.0) == 8.0
    assert next_gap(None, 10.0) == 1.0
    assert next_gap(0.0, 10.0) == 0.2


def test_polls_stay_inside_the_window_even_when_the_server_asks_for_less(
    paths, tmp_path, virtual_clock
):
    config = fast_config(task_seconds=3.0, polling_interval_ms=60_000, polling_window=3.0)
    with Sandbox(config=config, clock=sandbox_clock(virtual_clock)) as sandbox:
        profile = profile_for(sandbox, polling_window=3.0)
        with Yce(profile, paths=paths) as yce:
            [result] = yce.run("enhance", str(SAMPLE), {"scale": 1}, output=tmp_path / "o.jpg")
        assert result.status == "success"
        [task] = sandbox.tasks.values()
        times = [task.created] + [t for _, t in sandbox.polls]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert len(times) >= 3  # the task outlasted one gap, so it was polled twice
        assert max(gaps) < 3.0


def test_dropped_run_response_is_retried_with_the_same_request_id_and_charged_once(
    sandbox, paths, tmp_path
):
    sandbox.inject(Fault("drop_response", method="POST", path="/s2s/v1.0/task/enhance"))
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run("enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "o.jpg")
    runs = [p for m, p in sandbox.requests if m == "POST" and p == "/s2s/v1.0/task/enhance"]
    assert len(runs) == 2  # the first reply was lost, the retry got the same task
    assert len(sandbox.tasks) == 1
    assert [t.request_id for t in sandbox.tasks.values()] == [result.request_id]
    assert len(sandbox.charges()) == 1
    assert sandbox.units == sandbox.config.initial_units - 1


def test_every_task_is_journaled_before_its_first_poll(sandbox, paths, tmp_path):
    seen = []
    with Yce(profile_for(sandbox), paths=paths) as yce:

        def on_event(event):
            if event.kind == "status" and not seen:
                seen.append([(r.task_id, r.state) for r in yce.task_list()])

        [result] = yce.run(
            "enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "o.jpg", on_event=on_event
        )
        assert seen[0] == [(result.task_id, "running")]
        [record] = yce.task_list()
        assert record.state == "done" and record.outputs == [str(tmp_path / "o.jpg")]


def test_request_ids_increase_and_never_repeat(sandbox, paths, tmp_path):
    with Yce(profile_for(sandbox), paths=paths) as yce:
        results = yce.run("enhance", [str(SAMPLE)], {"scale": 1}, output=tmp_path / "a.jpg")
        results += yce.run(
            "enhance", [str(SAMPLE)], {"scale": 1}, output=tmp_path / "b.jpg", force=True
        )
    first, second = (r.request_id for r in results)
    # A random start far from 0 (another machine on the account has its own), then +1.
    assert 2**32 <= first < 2**53 and second == first + 1


def test_an_input_done_before_is_not_paid_again(sandbox, paths, tmp_path):
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [first] = yce.run("enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "a.jpg")
        [again] = yce.run("enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "a.jpg")
        [copy] = yce.run("enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "b.jpg")
        [other] = yce.run("enhance", str(SAMPLE), {"scale": 4}, output=tmp_path / "c.jpg")
    assert (again.status, copy.status, other.status) == ("skipped", "skipped", "success")
    assert (tmp_path / "b.jpg").read_bytes() == (tmp_path / "a.jpg").read_bytes()
    assert len(sandbox.charges()) == 2  # the first run and the one with other parameters


def test_engine_error_is_task_failed_and_not_charged(sandbox, paths, tmp_path):
    sandbox.fail_next_task("error_no_face", "No face detected")
    with Yce(profile_for(sandbox), paths=paths) as yce, pytest.raises(TaskFailed) as info:
        yce.run("enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "o.jpg")
    assert info.value.error == "error_no_face"
    assert "face" in info.value.hint
    assert sandbox.charges() == []
    assert not (tmp_path / "o.jpg").exists()


def test_timeout_then_wait_picks_the_task_up(paths, tmp_path, virtual_clock):
    config = fast_config(task_seconds=2.0)
    with Sandbox(config=config, clock=sandbox_clock(virtual_clock)) as sandbox:
        with Yce(profile_for(sandbox), paths=paths) as yce:
            with pytest.raises(TaskTimeout) as info:
                yce.run(
                    "enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "o.jpg", timeout=0.5
                )
            task_id = info.value.task_id
            assert [r.state for r in yce.task_list()] == ["timeout"]
            result = yce.task_wait("enhance", task_id)
        assert result.files == [str(tmp_path / "o.jpg")]
        assert len(sandbox.charges()) == 1


def test_unpolled_task_is_dropped_and_reported_as_invalid_task_id(paths, tmp_path, virtual_clock):
    config = fast_config(task_seconds=30.0)
    with Sandbox(config=config, clock=sandbox_clock(virtual_clock)) as sandbox:
        with Yce(profile_for(sandbox), paths=paths) as yce:
            with pytest.raises(TaskTimeout) as info:
                yce.run(
                    "enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "o.jpg", timeout=0.3
                )
            sandbox.clock.advance(sandbox.config.polling_window + 1)
            with pytest.raises(InvalidTaskId):
                yce.task_wait("enhance", info.value.task_id)
            assert [r.state for r in yce.task_list()] == ["dropped"]
        assert sandbox.charges() == []  # it never finished, so nothing was consumed


def test_out_of_units_is_its_own_error(paths, tmp_path, virtual_clock):
    with (
        Sandbox(config=fast_config(initial_units=0), clock=sandbox_clock(virtual_clock)) as sandbox,
        Yce(profile_for(sandbox), paths=paths) as yce,
        pytest.raises(OutOfUnits),
    ):
        yce.run("enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "o.jpg")


def test_results_chain_by_dst_id_without_reuploading(sandbox, paths, tmp_path):
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [first] = yce.run("enhance", str(SAMPLE), {"scale": 2}, output=tmp_path / "a.jpg")
        [second] = yce.run(
            "enhance", f"id:{first.dst_ids[0]}", {"scale": 2}, output=tmp_path / "b.jpg"
        )
    from PIL import Image

    assert Image.open(second.files[0]).size == (1280, 960)
    assert len(sandbox.upload_log) == 1


def test_url_inputs_are_downloaded_checked_and_uploaded(sandbox, paths, tmp_path):
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [first] = yce.run("enhance", str(SAMPLE), {"scale": 1}, output=tmp_path / "a.jpg")
        [second] = yce.run("enhance", first.urls[0], {"scale": 2}, output=tmp_path / "b.jpg")
    assert second.status == "success"
    assert len(sandbox.upload_log) == 2
