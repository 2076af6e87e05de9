"""One command's inputs, from parameters to results.

    parameters -> plan (ycecli.run.plan) -> what is done, dropped or busy (journal)
      -> claim -> resume what an earlier run left -> the scheduler runs the rest

Also picking up tasks by id (`task wait`) and finishing every unfinished task of the
journal (`task resume`), through the same pipeline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ycecli import hooks
from ycecli import journal as jr
from ycecli.batch import fingerprint
from ycecli.errors import ConfigError, InvalidInput, OutOfUnits, YceError
from ycecli.features import Feature, get_feature
from ycecli.files import refuse_existing
from ycecli.run.pipeline import TaskPipeline
from ycecli.run.plan import check_targets, plan_jobs, wait_target
from ycecli.run.scheduler import Scheduler
from ycecli.run.types import (
    Event,
    EventCallback,
    EventKind,
    InputRef,
    Job,
    RunOptions,
    Status,
    TaskResult,
)

if TYPE_CHECKING:
    from ycecli.run.session import Session

DONE_EARLIER = "done earlier (same input and parameters)"
OWNER_POLL_SECONDS = 0.5  # how often a process waiting for another checks the journal


def pipeline_for(
    session: Session,
    feature: Feature,
    *,
    overwrite: bool = False,
    timeout: float | None = None,
    on_event: EventCallback | None = None,
    output: Any = None,
    state: dict | None = None,
) -> TaskPipeline:
    """A feature's pipeline with its hooks' context; hooks that run tasks of their
    own (face swap's detection) get `run_job` through that context."""
    ctx = hooks.HookContext(
        session,
        feature,
        on_event,
        state=state if state is not None else {},
        overwrite=overwrite,
        output=output,
        timeout=timeout,
        tasks=run_job,
    )
    return TaskPipeline(
        session, feature, ctx, overwrite=overwrite, timeout=timeout, on_event=on_event
    )


def run_job(session: Session, ctx: hooks.HookContext, job: Job, result: TaskResult) -> None:
    """Run one planned job of `ctx.feature` (a hook's own task) through the scheduler,
    like every task; fill in `result`, raise its error."""
    pipeline = TaskPipeline(
        session,
        ctx.feature,
        ctx,
        overwrite=ctx.overwrite,
        timeout=ctx.timeout,
        on_event=ctx.on_event,
    )
    scheduler = Scheduler(pipeline)
    [done] = scheduler.run([job])
    for key, value in done.__dict__.items():
        setattr(result, key, value)
    if scheduler.errors:
        raise scheduler.errors[0]


class Runner:
    """Runs one feature over many inputs; see Yce.run for the promises."""

    def __init__(self, session: Session, feature: Feature, options: RunOptions) -> None:
        self.session = session
        self.feature = feature
        self.options = options
        self.pipeline = pipeline_for(
            session,
            feature,
            overwrite=options.overwrite,
            timeout=options.timeout,
            on_event=options.on_event,
            output=options.output,
        )
        self.ctx = self.pipeline.ctx
        self.stats: dict[str, Any] = {}
        self.outcome: dict[int, TaskResult] = {}
        self.errors: dict[int, YceError] = {}
        self.on_result = options.on_result
        if options.raise_errors and options.on_result is not None:
            # A failure is raised, with its result, rather than reported: once is enough.
            report = options.on_result

            def on_success(result: TaskResult) -> None:
                if result.status in (Status.SUCCESS, Status.SKIPPED):
                    report(result)

            self.on_result = on_success

    # -- before anything is spent -----------------------------------------------------

    def prepare(
        self,
        inputs: Iterable[str] | str,
        params: Mapping[str, Any] | None,
        extra_inputs: Mapping[str, Iterable[str] | str] | None,
    ) -> list[Job]:
        """Every parameter, input and output checked, every job's parameters made,
        what was done or dropped earlier found; nothing uploaded or claimed yet."""
        feature, ctx, options = self.feature, self.ctx, self.options
        resolved = feature.resolve_params(dict(params or {}))
        if feature.styles:
            resolved = hooks.HOOKS["resolve_style_group"](ctx, resolved)
        resolved = hooks.run(feature, "prepare", ctx, resolved)
        rules = hooks.run(feature, "input_rules", ctx, resolved, {})
        jobs = plan_jobs(
            self.session,
            feature,
            inputs,
            extra_inputs=extra_inputs,
            output=options.output,
            overwrite=options.overwrite,
            rules=rules,
            layout=options.layout,
            existing_ok=True,
            params=params,
        )
        self.find_done(jobs, resolved)
        # Every per-input check and parameter first: nothing is uploaded unless all pass.
        for job in jobs:
            if job.skip or job.dropped:
                continue
            hooks.run(feature, "check_job", ctx, job, resolved)
            job.params = hooks.run(feature, "job_params", ctx, job, dict(resolved))
            feature.check_required(job.params)
        if options.max_tasks is not None:
            runnable = [job for job in jobs if not job.skip and not job.dropped]
            for job in runnable[options.max_tasks :]:
                job.skip = f"not run: --max-tasks {options.max_tasks} reached"
        return jobs

    def find_done(self, jobs: list[Job], params: Mapping[str, Any]) -> None:
        """Fingerprint every input and read the journal: inputs done earlier (their
        results still on disk) are skipped, inputs whose earlier task the API dropped
        are left out. Nothing is claimed yet."""
        account = self.session.account(self.feature)
        journal = self.session.journal
        for job in jobs:
            job.fingerprint = fingerprint(self.feature.command, job.refs, params)
            if self.options.force:
                continue
            prior = journal.find_fingerprint(account, job.fingerprint)
            if prior is None:
                continue
            if prior.state == jr.DONE and (
                all(Path(p).exists() for p in prior.outputs)
                and (prior.outputs or job.target is None)
            ):
                job.prior, job.skip = prior, DONE_EARLIER
            elif prior.state == jr.DROPPED and not self.options.retry_dropped:
                job.prior, job.dropped = prior, True

    # -- running ---------------------------------------------------------------------

    def run(self, jobs: list[Job]) -> list[TaskResult]:
        options = self.options
        force = options.force
        owner = jr.owner_token()
        journal = self.session.journal
        self.settle([job for job in jobs if job.skip or job.dropped])
        try:
            undecided = [job for job in jobs if id(job) not in self.outcome]
            while undecided:
                self.claim(undecided, owner, force=force)
                check_targets(
                    self.feature, [j for j in undecided if j.record_id], options.overwrite
                )
                force = False  # an input that had to wait is decided again as it stands now
                self.settle(undecided)
                fresh = [j for j in undecided if j.record_id and id(j) not in self.outcome]
                if fresh:
                    self.schedule(fresh)
                undecided = [j for j in undecided if id(j) not in self.outcome]
                for job in undecided:
                    # Another yce process is running this very input: wait for it,
                    # then decide again (its result is usually ours to reuse).
                    self.wait_for_owner(job)
        finally:
            journal.release_claims(owner)
        if options.raise_errors:
            for job in jobs:
                exc = self.errors.get(id(job))
                if exc is not None:
                    exc.result = self.outcome[id(job)]  # type: ignore[attr-defined]
                    raise exc
        return [self.outcome[id(job)] for job in jobs]

    def claim(self, jobs: list[Job], owner: str, *, force: bool) -> None:
        """Take each input for this process, atomically across processes: see
        Journal.claim. Sets job.record_id (a new task to run), job.prior (resume it),
        job.busy (another process is on it), job.skip or job.dropped."""
        account = self.session.account(self.feature)
        api_base = self.session.api_base(self.feature)
        for job in jobs:
            assert job.fingerprint is not None  # set by find_done
            job.record_id = job.busy = None
            claim = self.session.journal.claim(
                account=account,
                api_base=api_base,
                feature=self.feature.command,
                fingerprint=job.fingerprint,
                inputs=[job.label],
                outputs=[str(job.target.absolute())] if job.target else [],
                owner=owner,
                force=force,
                retry_dropped=self.options.retry_dropped,
            )
            if claim.verdict == "new":
                job.record_id, job.prior = claim.record_id, None
            elif claim.verdict == "done":
                job.prior, job.skip = claim.record, DONE_EARLIER
            elif claim.verdict == "busy":
                job.busy = claim.record
            elif claim.verdict == "resume":
                job.prior = claim.record
            else:
                job.prior, job.dropped = claim.record, True

    def settle(self, jobs: list[Job]) -> None:
        """Inputs that need no new task: done earlier, dropped earlier, left out, or
        unfinished earlier (resumed here, without paying again)."""
        for job in jobs:
            if id(job) in self.outcome or job.record_id or job.busy is not None:
                continue
            if job.skip or job.dropped:
                result = self.pipeline.skipped(job)
            elif job.prior is not None:
                result = TaskResult(feature=self.feature.command, input=job.label)
                try:
                    self.pipeline.resume(job, result)
                except YceError as exc:
                    if isinstance(exc, (ConfigError, OutOfUnits)):
                        raise  # every other input would fail the same way: stop the run
                    result.record_error(exc)
                    self.errors[id(job)] = exc
            else:
                continue
            self.outcome[id(job)] = result
            if self.on_result:
                self.on_result(result)

    def schedule(self, fresh: list[Job]) -> None:
        scheduler = Scheduler(
            self.pipeline,
            on_result=self.on_result,
            fail_fast=self.options.fail_fast or self.options.raise_errors,
        )
        for index, result in enumerate(scheduler.run(fresh)):
            self.outcome[id(fresh[index])] = result
            if index in scheduler.errors:
                self.errors[id(fresh[index])] = scheduler.errors[index]
        self.stats = scheduler.stats

    def wait_for_owner(self, job: Job) -> None:
        busy = job.busy
        pid = (busy.owner or "").split(":")[1] if busy and busy.owner else "?"
        self.pipeline.emit(
            Event(
                EventKind.WAIT,
                label=job.label,
                message=f"another yce process (pid {pid}) is running this input with "
                "the same parameters; waiting for its result",
            )
        )
        journal = self.session.journal
        while True:
            record = journal.get(busy.id)
            if record is None or record.state not in (
                jr.PLANNED,
                jr.SUBMITTING,
                jr.RUNNING,
                jr.SUCCEEDED,
            ):
                return
            if not jr.owner_alive(record.owner, record.updated_at):
                return
            time.sleep(OWNER_POLL_SECONDS)


def _recorded_job(feature: Feature, record: Any, label: str, target: Path | None) -> Job:
    """A job rebuilt from what the journal remembers of a task."""
    job = Job(
        label=label,
        refs={},
        target=target,
        target_given=False,
        params=dict(record.params) if record else {},
        prior=record,
    )
    primary = feature.primary_input
    if primary is not None and record and record.inputs:
        job.refs = {primary.name: [InputRef.parse(record.inputs[0])]}
    return job


def wait_task(
    session: Session,
    feature: Feature,
    task_id: str,
    *,
    output: str | Path | None = None,
    overwrite: bool = False,
    timeout: float | None = None,
    on_event: EventCallback | None = None,
) -> TaskResult:
    """Resume polling a task by id (within its polling window) and fetch results."""
    record = session.journal.find_task(feature.command, task_id)
    result = TaskResult(
        feature=feature.command,
        input=(record.inputs[0] if record and record.inputs else f"task:{task_id}"),
        task_id=task_id,
        status=Status.RUNNING,
        request_id=record.request_id if record else None,
    )
    target, given = wait_target(feature, task_id, output, record.outputs if record else [])
    if target is not None:
        refuse_existing(target, overwrite=overwrite)
    pipeline = pipeline_for(
        session, feature, overwrite=overwrite, timeout=timeout, on_event=on_event, output=output
    )
    job = _recorded_job(feature, record, result.input, target)
    job.target_given = given
    try:
        status = pipeline.wait(task_id, record.id if record else None, result, label=result.input)
        # The feature's own finishing step (unpack a ZIP, tabulate an analysis) runs
        # for a task picked up by id too, with what the journal remembers of it.
        pipeline.finish(job, result, task_id, record.id if record else None, status)
    except YceError as exc:
        exc.result = result  # type: ignore[attr-defined]
        raise
    return result


def resume_all(
    session: Session,
    *,
    overwrite: bool = False,
    timeout: float | None = None,
    on_event: EventCallback | None = None,
    on_result: Callable[[TaskResult], None] | None = None,
) -> list[TaskResult]:
    """Finish every unfinished task of this account in the journal: re-poll those
    still alive, re-send unanswered v1 run requests with their own request_id (the
    server ignores a duplicate), and download results not yet on disk."""
    accounts = {session.account("v1"), session.account("v2")}
    results = []
    for record in reversed(session.journal.list(limit=10_000, open_only=True)):
        if record.account not in accounts:
            continue
        try:
            feature = get_feature(record.feature)
        except InvalidInput:
            continue
        label = record.inputs[0] if record.inputs else f"task:{record.task_id}"
        target = Path(record.outputs[0]) if record.outputs else None
        job = _recorded_job(feature, record, label, target)
        pipeline = pipeline_for(
            session, feature, overwrite=overwrite, timeout=timeout, on_event=on_event
        )
        result = TaskResult(feature=feature.command, input=label, task_id=record.task_id)
        try:
            pipeline.resume(job, result)
        except YceError as exc:
            result.record_error(exc)
        if on_result:
            on_result(result)
        results.append(result)
    return results
