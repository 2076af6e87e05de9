"""One task's way through the API, step by public step.

    upload / upload_many -> prepare -> start -> poll (or wait) -> finish
                                           \\-> record_failure

Single runs, the scheduler, hooks' own tasks, `task wait` and `task resume` all go
through these steps, so every task is journalled the same way: its request_id before
the run request goes, its task_id before the first poll, its results before it is
called done. An interrupted run is resumed from the journal, never paid twice.
"""

from __future__ import annotations

import filecmp
import json
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ycecli import hooks
from ycecli import journal as jr
from ycecli.client import MalformedReply
from ycecli.errors import (
    ApiError,
    ExitStatus,
    InvalidInput,
    InvalidTaskId,
    NetworkError,
    TaskFailed,
    TaskTimeout,
    YceError,
)
from ycecli.files import copy_atomic, exists_error, place_file, remove_stale_parts
from ycecli.run.naming import convert_image
from ycecli.run.plan import result_path
from ycecli.run.types import (
    Event,
    EventCallback,
    EventKind,
    InputRef,
    Job,
    SkipTask,
    Status,
    Submission,
    TaskResult,
)
from ycecli.shell import shell_command
from ycecli.tasks import TaskStatus, check_status, engine_error, poll, submit, task_path
from ycecli.transfer import create_upload_slots, download, put_file
from ycecli.validate import sniff_content_type

if TYPE_CHECKING:
    from ycecli.features import Feature, InputSpec
    from ycecli.run.session import Session

# Runs `fn(*args)` somewhere (a worker thread) and hands back its future.
Executor = Callable[..., Future]


class Cancelled(Exception):
    """Raised inside a transfer's progress callback when the run is interrupted."""


def _inline(fn: Callable[..., Any], *args: Any) -> Future:
    future: Future = Future()
    try:
        future.set_result(fn(*args))
    except BaseException as exc:
        future.set_exception(exc)
    return future


class TaskPipeline:
    """The steps of one feature's tasks for one session."""

    def __init__(
        self,
        session: Session,
        feature: Feature,
        ctx: hooks.HookContext,
        *,
        overwrite: bool = False,
        timeout: float | None = None,
        on_event: EventCallback | None = None,
    ) -> None:
        self.session = session
        self.feature = feature
        self.ctx = ctx
        self.overwrite = overwrite
        self.timeout = timeout if timeout is not None else session.profile.task_timeout
        self.on_event = on_event

    # Shorthands for what the scheduler needs of the session.
    @property
    def client(self) -> Any:
        return self.session.client

    @property
    def journal(self) -> jr.Journal:
        return self.session.journal

    @property
    def profile(self) -> Any:
        return self.session.profile

    @property
    def endpoint(self) -> str:
        """The run and status path of this feature (a profile may override it)."""
        return task_path(self.feature, self.session.profile)

    def emit(self, event: Event, on_event: EventCallback | None = None) -> None:
        callback = on_event or self.on_event
        if callback is not None:
            callback(event)

    # -- uploads ------------------------------------------------------------------

    def needs_upload(self, spec: InputSpec, ref: InputRef) -> bool:
        """A local file (or a URL yce fetched) that the API has to receive."""
        return ref.path is not None and not (ref.url is not None and spec.url_field)

    def upload_endpoint(self, spec: InputSpec | None) -> str:
        return (spec.upload_path if spec is not None else None) or self.feature.upload_url_path

    def upload(self, spec: InputSpec | None, ref: InputRef) -> str:
        """Upload one local input and return its file id (an id: input is returned
        as is)."""
        if ref.file_id is not None:
            return ref.file_id
        name = spec.name if spec is not None else ""
        file_ids, failed = self.upload_many([Job(ref.text, {name: [ref]}, None, False)], spec)
        if failed:
            raise failed[0]
        return file_ids[0][name][0]

    def upload_many(
        self,
        jobs: list[Job],
        spec: InputSpec | None = None,
        *,
        run_in: Executor = _inline,
        hold: str | None = None,
        group: int = 100,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> tuple[dict[int, dict[str, list[str]]], dict[int, YceError]]:
        """Upload every local input of `jobs` once (an input shared by all of them,
        like a hand photo for many rings, only once), `group` files per
        file-creation request, their bytes sent by `run_in`. Returns each job's
        file ids by input name, and the error of each job whose upload failed.

        `hold`: the budget's moment booked for the first file-creation request.
        `spec` stands for every input when jobs are not the feature's (an upload
        of a single file)."""
        specs = {s.name: s for s in self.feature.inputs}

        def spec_of(name: str) -> InputSpec | None:
            return spec if spec is not None else specs.get(name)

        wanted: dict[tuple[str, str], list[tuple[int, InputRef]]] = {}  # (path, endpoint)
        for index, job in enumerate(jobs):
            for name, refs in job.refs.items():
                for ref in refs:
                    this = spec_of(name)
                    if this is not None and not self.needs_upload(this, ref):
                        continue
                    if ref.path is None:
                        continue
                    key = (str(ref.path), self.upload_endpoint(this))
                    wanted.setdefault(key, []).append((index, ref))
        ids: dict[tuple[str, str], str] = {}
        failed: dict[int, YceError] = {}
        by_endpoint: dict[str, list[tuple[str, str]]] = {}
        for key in wanted:
            by_endpoint.setdefault(key[1], []).append(key)
        puts: list[tuple[tuple[str, str], Future]] = []
        for endpoint, keys in by_endpoint.items():
            for start in range(0, len(keys), group):
                batch = keys[start : start + group]
                files = []
                for path, _ in batch:
                    with open(path, "rb") as fh:
                        ctype = sniff_content_type(fh.read(32)) or "application/octet-stream"
                    ref = wanted[(path, endpoint)][0][1]
                    assert ref.path is not None
                    name = Path(ref.url).name if ref.url else ref.path.name
                    files.append((name or ref.path.name, ctype, Path(path).stat().st_size))
                try:
                    slots = create_upload_slots(
                        self.client,
                        endpoint,
                        files,
                        generation=self.feature.generation,
                        hold=hold,
                    )
                except YceError as exc:
                    for key in batch:
                        for index, _ in wanted[key]:
                            failed[index] = exc
                    continue
                finally:
                    hold = None  # one reserved moment, for the first request
                for key, slot in zip(batch, slots, strict=True):
                    ids[key] = slot.file_id
                    label = jobs[wanted[key][0][0]].label
                    puts.append((key, run_in(self._put, slot, key[0], label, cancelled)))
        for key, future in puts:
            try:
                future.result()
            except YceError as exc:
                ids.pop(key, None)
                for index, _ in wanted[key]:
                    failed[index] = exc
        file_ids: dict[int, dict[str, list[str]]] = {}
        for index, job in enumerate(jobs):
            if index in failed:
                continue
            per_job: dict[str, list[str]] = {}
            for name, refs in job.refs.items():
                this = spec_of(name)
                for ref in refs:
                    if ref.file_id is not None:
                        per_job.setdefault(name, []).append(ref.file_id)
                    elif ref.path is not None and (this is None or self.needs_upload(this, ref)):
                        key = (str(ref.path), self.upload_endpoint(this))
                        per_job.setdefault(name, []).append(ids[key])
            file_ids[index] = per_job
        return file_ids, failed

    def _put(self, slot: Any, path: str, label: str, cancelled: Callable[[], bool]) -> None:
        size = Path(path).stat().st_size
        self.emit(Event(EventKind.UPLOAD, label=label, done=0, total=size))

        def progress(done: int, total: int | None) -> None:
            if cancelled():
                raise Cancelled
            self.emit(Event(EventKind.UPLOAD, label=label, done=done, total=total))

        put_file(self.client, slot, Path(path), progress)

    # -- starting -------------------------------------------------------------------

    def prepare(
        self, job: Job, result: TaskResult, file_ids: dict[str, list[str]] | None
    ) -> Submission | None:
        """Run the steps that need the uploaded files (hooks' before_submit). Returns
        what the run request needs, or None when a hook finished the job itself."""
        specs = {spec.name: spec for spec in self.feature.inputs}
        urls: dict[str, list[str]] = {}
        for name, refs in job.refs.items():
            for ref in refs:
                if ref.url is not None and ref.path is None and specs[name].url_field:
                    urls.setdefault(name, []).append(ref.url)
        file_ids = dict(file_ids or {})
        try:
            params = hooks.run(self.feature, "before_submit", self.ctx, job, file_ids, job.params)
        except SkipTask as skip:
            result.status = Status.SUCCESS
            result.extra.update(skip.extra)
            result.files.extend(skip.files)
            if job.record_id:
                self.journal.update(job.record_id, state=jr.ABANDONED)
            self.emit(Event(EventKind.DONE, label=job.label, status=Status.SUCCESS))
            return None
        return Submission(file_ids=file_ids, urls=urls, params=params)

    def start(
        self,
        job: Job,
        submission: Submission,
        result: TaskResult,
        *,
        hold: str | None = None,
        size_class: str | None = None,
    ) -> tuple[str, int]:
        """Journal, then send, one run request; returns (task_id, journal record id).
        The journal has the request_id before the request goes, and the task_id
        before the first poll, so an interrupted run is resumed, never paid twice."""
        feature = self.feature
        account = self.session.account(feature)
        # v2 documents no request_id (000-002); v1 needs a fresh one per task.
        request_id = self.journal.next_request_id(account) if feature.generation == "v1" else None
        result.request_id = request_id
        body = feature.build_body(
            request_id, submission.file_ids, submission.params, submission.urls
        )
        # Absolute, so the journal can finish the task from any directory later.
        outputs = [str(job.target.absolute())] if job.target else []
        if job.record_id:
            record = job.record_id
            self.journal.update(
                record,
                request_id=request_id,
                file_ids=submission.file_ids,
                params=dict(submission.params),
                outputs=outputs,
                state=jr.SUBMITTING,
                size_class=size_class,
            )
        else:
            record = self.journal.create(
                account=account,
                api_base=self.session.api_base(feature),
                feature=feature.command,
                request_id=request_id,
                inputs=[job.label],
                file_ids=submission.file_ids,
                params=dict(submission.params),
                outputs=outputs,
                fingerprint=job.fingerprint,
            )
        try:
            task_id = submit(self.client, feature, body, self.endpoint, hold=hold)
        except MalformedReply:
            # The request may have started a task whose id the reply garbled: the
            # record keeps its request_id, so a resume re-sends it and the API answers
            # with the task it already has (v1), instead of a second one.
            raise
        except ApiError as exc:
            self.journal.update(
                record, state=jr.FAILED, error=exc.error_code, error_message=exc.message
            )
            raise
        result.task_id = task_id
        result.status = Status.RUNNING
        # Recorded before the first poll: an interrupted run can be resumed by id.
        self.journal.update(record, task_id=task_id, state=jr.RUNNING, submitted_at=time.time())
        self.emit(Event(EventKind.SUBMITTED, label=job.label, task_id=task_id))
        return task_id, record

    # -- polling --------------------------------------------------------------------

    def poll(
        self,
        task_id: str,
        *,
        hold: str | None = None,
        deadline: float | None = None,
        give_up_at: float | None = None,
    ) -> TaskStatus:
        """One status request (the scheduler decides when)."""
        return check_status(
            self.client,
            self.feature,
            task_id,
            self.endpoint,
            deadline=deadline,
            give_up_at=give_up_at,
            hold=hold,
        )

    def wait(
        self, task_id: str, record: int | None, result: TaskResult, *, label: str
    ) -> TaskStatus:
        """Poll one task to its end at the server's pace (a task picked up by id);
        a failure is recorded, then raised."""
        try:
            return poll(
                self.client,
                self.feature,
                task_id,
                path=self.endpoint,
                window=self.profile.polling_window,
                timeout=self.timeout,
                sleep=self.client.sleep,
                on_status=lambda s, t: self.emit(
                    Event(EventKind.STATUS, label=label, status=s, task_id=task_id, elapsed=t)
                ),
            )
        except (TaskFailed, TaskTimeout, InvalidTaskId) as exc:
            self.record_failure(record, result, exc)
            raise

    def engine_error(self, task_id: str, status: TaskStatus) -> TaskFailed:
        """The error of a task the engine ended with status "error"."""
        return engine_error(self.feature, task_id, status)

    def timeout_error(self, task_id: str) -> TaskTimeout:
        """--timeout ran out while the task was running: say how to pick it up."""
        command = shell_command("yce", "task", "wait", self.feature.command, task_id)
        return TaskTimeout(
            f"{self.feature.command}: task {task_id} still running after {self.timeout:.0f} s",
            task_id=task_id,
            feature=self.feature.command,
            hint=f"Pick it up within its polling window with `{command}`, "
            "or later with `yce task resume`.",
        )

    def record_failure(self, record: int | None, result: TaskResult, exc: YceError) -> None:
        """What the result and the journal say when a task ended badly."""
        result.record_error(exc)
        if not record:
            return
        if isinstance(exc, TaskFailed):
            self.journal.update(
                record, state=jr.FAILED, error=exc.error, error_message=exc.error_message
            )
        elif isinstance(exc, TaskTimeout):
            self.journal.update(record, state=jr.TIMED_OUT)
        elif isinstance(exc, InvalidTaskId):
            self.journal.update(
                record, state=jr.DROPPED, error=exc.error_code, error_message=exc.message
            )

    # -- finishing ------------------------------------------------------------------

    def finish(
        self,
        job: Job,
        result: TaskResult,
        task_id: str,
        record: int | None,
        status: TaskStatus,
        on_event: EventCallback | None = None,
    ) -> None:
        """The engine finished: journal it, fetch the results, run the feature's
        finishing step; only then is the task done in the journal."""
        result.status = Status.SUCCESS
        result.charged = True
        result.urls = [f.url for f in status.results if f.url]
        result.dst_ids = [f.dst_id for f in status.results if f.dst_id]
        result.data = [f.data for f in status.results]
        if record:
            self.journal.update(record, state=jr.SUCCEEDED, results=result.data)
        if job.target is not None:
            try:
                result.files = self._download(status, job, on_event)
            except (ApiError, NetworkError) as exc:
                # The task is paid for and its result still on the server: say how to
                # fetch it again, rather than leave the user with a bare error.
                exc.message = f"{exc.message} (task {task_id})"
                exc.args = (exc.message,)
                command = shell_command("yce", "task", "wait", self.feature.command, task_id)
                exc.hint = (
                    f"Fetch the result again with `{command}` "
                    "(add --overwrite if some of its files were written)."
                )
                raise
        if record:
            self.journal.update(record, outputs=[str(Path(f).absolute()) for f in result.files])
        self.emit(
            Event(EventKind.DONE, label=job.label, task_id=task_id, status=Status.SUCCESS),
            on_event,
        )
        self.after(job, result)

    def after(self, job: Job, result: TaskResult) -> None:
        """The feature's finishing step (unpack a ZIP, tabulate an analysis); then
        the task is done in the journal."""
        hooks.run(self.feature, "after", self.ctx, job, result)
        found = (
            self.journal.find_task(self.feature.command, result.task_id) if result.task_id else None
        )
        if found is not None:
            outputs = [str(Path(f).absolute()) for f in result.files]
            extra = json.loads(json.dumps(result.extra, default=str))
            self.journal.update(found.id, state=jr.DONE, outputs=outputs, extra=extra)

    def _download(self, status: TaskStatus, job: Job, on_event: EventCallback | None) -> list[str]:
        assert job.target is not None
        feature, label = self.feature, job.label
        written: list[str] = []
        with_url = [f for f in status.results if f.url]
        for index, item in enumerate(with_url):
            assert item.url is not None
            path = result_path(job.target, job.target_given, item.url, index)
            self.emit(
                Event(EventKind.DOWNLOAD, label=label, done=0, total=None, message=str(path)),
                on_event,
            )
            convertible = job.target_given and feature.result == "image"
            # A result in another format than the -o name asks for (a PNG cut-out into
            # big.jpg) is fetched beside it, converted, then put in place.
            fetched = path.with_name(f".{path.name}.fetched") if convertible else path
            download(
                self.client,
                item.url,
                fetched,
                overwrite=self.overwrite or convertible,
                kind=feature.result,
                from_reply=True,
                on_progress=self._download_progress(label, path, on_event),
            )
            if convertible:
                remove_stale_parts(path)  # what a killed run left beside the -o name
                try:
                    convert_image(fetched, path)
                    place_file(fetched, path, overwrite=self.overwrite)
                finally:
                    fetched.unlink(missing_ok=True)
            written.append(str(path))
        return written

    def _download_progress(
        self, label: str, path: Path, on_event: EventCallback | None
    ) -> Callable[[int, int | None], None]:
        def progress(done: int, total: int | None) -> None:
            where = str(path)
            event = Event(EventKind.DOWNLOAD, label=label, done=done, total=total, message=where)
            self.emit(event, on_event)

        return progress

    # -- work done or started earlier -------------------------------------------------

    def resume(self, job: Job, result: TaskResult) -> None:
        """Finish an earlier run of the same work instead of paying for a new one."""
        prior = job.prior
        feature = self.feature
        result.request_id = prior.request_id
        task_id = prior.task_id
        if task_id is None:
            if feature.generation != "v1":
                raise InvalidInput(
                    f"{job.label}: an earlier v2 run may have started a task yce never "
                    "heard back about",
                    hint="Check `yce task list` and the unit history, then rerun with --force.",
                )
            # The run request may or may not have reached the server: resend the very
            # same body, with its request_id, so the server can only ignore a duplicate.
            body = feature.build_body(prior.request_id, prior.file_ids, prior.params, {})
            task_id = submit(self.client, feature, body, self.endpoint)
            self.journal.update(prior.id, task_id=task_id, state=jr.RUNNING)
        self.emit(Event(EventKind.WAIT, label=job.label, message=f"resuming task {task_id}"))
        result.task_id = task_id
        result.status = Status.RUNNING
        status = self.wait(task_id, prior.id, result, label=job.label)
        self.finish(job, result, task_id, prior.id, status)

    def skipped(self, job: Job) -> TaskResult:
        """What an input not run now reports: the earlier task's results when it was
        done earlier, the reason otherwise."""
        result = TaskResult(feature=self.feature.command, input=job.label, status=Status.SKIPPED)
        prior = job.prior
        if job.dropped and prior is not None:
            result.status = Status.DROPPED
            result.task_id, result.request_id = prior.task_id, prior.request_id
            result.error = prior.error or "InvalidTaskId"
            result.error_message = (
                f"its earlier task {prior.task_id} was dropped by the API and may have "
                "been charged (003:354); not run again (--retry-dropped runs it again)"
            )
            result.exit_status = int(ExitStatus.API_REJECTED)
            return result
        result.error_message = job.skip
        if prior is None:
            result.status = Status.NOT_RUN  # left out: --max-tasks
        else:
            result.task_id, result.request_id = prior.task_id, prior.request_id
            result.data = list(prior.results or [])
            result.dst_ids = [
                d["dst_id"] for d in result.data if isinstance(d, dict) and d.get("dst_id")
            ]
            result.extra = dict(prior.extra or {})
            try:
                result.files = self._reuse_outputs(job)
            except YceError as exc:
                result.record_error(exc)
        return result

    def _reuse_outputs(self, job: Job) -> list[str]:
        """An input done earlier costs nothing now: its result files are reported, and
        copied to where this run would have written them when that is elsewhere."""
        earlier = [Path(p) for p in job.prior.outputs]
        if job.target is None or not earlier:
            return [str(p) for p in earlier]
        written = []
        for index, source in enumerate(earlier):
            target = job.target if job.target_given else job.target.with_suffix(source.suffix)
            if index:
                target = target.with_name(f"{target.stem}_{index + 1}{target.suffix}")
            if target.absolute() == source.absolute() or _same_file(source, target):
                written.append(str(target))
                continue
            if target.exists() and not self.overwrite:
                raise exists_error(target, f" (the result, done earlier, is {source})")
            copy_atomic(source, target, overwrite=self.overwrite)
            written.append(str(target))
        return written


def _same_file(a: Path, b: Path) -> bool:
    """Two paths holding the same bytes (a result copied there by an earlier rerun)."""
    try:
        return b.exists() and filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False
