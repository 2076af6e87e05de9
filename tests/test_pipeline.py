"""The task pipeline's public steps, called one by one as a hook or a script would:
each step journals what it must before the next can spend anything."""

import time

import pytest

from tests.conftest import SAMPLE, profile_for
from ycecli import journal as jr
from ycecli.errors import TaskFailed
from ycecli.features import get_feature
from ycecli.run.plan import plan_jobs
from ycecli.run.runner import pipeline_for
from ycecli.run.session import Session
from ycecli.run.types import Status, TaskResult


def _poll_to_end(pipeline, task_id, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = pipeline.poll(task_id)
        if status.status != "running":
            return status
        time.sleep(0.1)
    raise AssertionError("the task never ended")


def _started(session, output):
    """One enhance task taken through upload, prepare and start."""
    feature = get_feature("enhance")
    pipeline = pipeline_for(session, feature)
    [job] = plan_jobs(session, feature, [str(SAMPLE)], output=output)
    job.params = feature.resolve_params({"scale": 2})
    result = TaskResult(feature="enhance", input=job.label)
    file_ids, failed = pipeline.upload_many([job])
    assert not failed and file_ids[0]["source"]
    submission = pipeline.prepare(job, result, file_ids[0])
    assert submission is not None
    task_id, record = pipeline.start(job, submission, result)
    return pipeline, job, result, task_id, record


def test_one_task_step_by_step_is_journalled_before_each_spend(sandbox, paths, tmp_path):
    with Session(profile_for(sandbox), paths=paths) as session:
        pipeline, job, result, task_id, record = _started(session, tmp_path / "out.jpg")
        # The journal knew the request_id and the task_id before the first poll.
        stored = session.journal.get(record)
        assert stored.state == jr.RUNNING and stored.task_id == task_id
        assert stored.request_id == result.request_id is not None

        status = _poll_to_end(pipeline, task_id)
        pipeline.finish(job, result, task_id, record, status)
        assert result.status == Status.SUCCESS and result.charged
        assert (tmp_path / "out.jpg").stat().st_size > 0
        assert session.journal.get(record).state == jr.DONE
        assert session.requests_sent > 0


def test_a_failure_is_recorded_the_same_way_in_the_result_and_the_journal(sandbox, paths, tmp_path):
    sandbox.fail_next_task("error_decode_image", "cannot decode")
    with Session(profile_for(sandbox), paths=paths) as session:
        pipeline, _, result, task_id, record = _started(session, tmp_path / "out.jpg")
        status = _poll_to_end(pipeline, task_id)
        assert status.status == "error"
        error = pipeline.engine_error(task_id, status)
        pipeline.record_failure(record, result, error)
        assert isinstance(error, TaskFailed)
        assert result.status == Status.ERROR and result.error == "error_decode_image"
        assert result.exit_status == int(error.exit_status)
        stored = session.journal.get(record)
        assert stored.state == jr.FAILED and stored.error == "error_decode_image"
        assert not (tmp_path / "out.jpg").exists()


@pytest.mark.parametrize("status", list(Status))
def test_statuses_are_their_strings_in_json(status):
    result = TaskResult(feature="enhance", input="a.jpg", status=status)
    assert result.to_dict()["status"] == status.value
    assert f"{status}" == status.value
