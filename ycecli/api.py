"""The Python facade: what a script author imports.

    from ycecli.api import Yce

    with Yce() as yce:                      # the default profile, or YCE_* variables
        result = yce.run("enhance", "photo.jpg", {"scale": 2}, output="out.jpg")
        print(result.files, result.dst_ids)

Progress is reported through `on_event(Event)`; nothing here prints. The work is
done by ycecli.run (plan, pipeline, scheduler, runner); this module only gives it
one place to be called from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ycecli import journal as jr
from ycecli.errors import InvalidInput
from ycecli.features import Feature, InputSpec, get_feature
from ycecli.run.plan import plan_jobs
from ycecli.run.runner import Runner, pipeline_for, resume_all, wait_task
from ycecli.run.session import Session
from ycecli.run.types import (
    Event,
    EventCallback,
    EventKind,
    InputRef,
    Job,
    RunOptions,
    Status,
    Submission,
    TaskResult,
)

__all__ = [
    "Event",
    "EventCallback",
    "EventKind",
    "InputRef",
    "Job",
    "RunOptions",
    "Status",
    "Submission",
    "TaskResult",
    "Yce",
]


def _feature(feature: Feature | str) -> Feature:
    return get_feature(feature) if isinstance(feature, str) else feature


class Yce(Session):
    """A session with one account. Use as a context manager, or call close()."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What the last run's scheduler counted (requests, tasks in flight at most).
        self.last_batch_stats: dict[str, Any] = {}

    def plan(
        self,
        feature: Feature | str,
        inputs: Iterable[str] | str,
        *,
        extra_inputs: Mapping[str, Iterable[str] | str] | None = None,
        output: str | Path | None = None,
        overwrite: bool = False,
        rules: Mapping[str, Any] | None = None,
        layout: Mapping[str, Path] | None = None,
        existing_ok: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> list[Job]:
        """Resolve and check every input and output; raise before anything is spent
        (see ycecli.run.plan.plan_jobs)."""
        return plan_jobs(
            self,
            _feature(feature),
            inputs,
            extra_inputs=extra_inputs,
            output=output,
            overwrite=overwrite,
            rules=rules,
            layout=layout,
            existing_ok=existing_ok,
            params=params,
        )

    def run(
        self,
        feature: Feature | str,
        inputs: Iterable[str] | str,
        params: Mapping[str, Any] | None = None,
        *,
        extra_inputs: Mapping[str, Iterable[str] | str] | None = None,
        output: str | Path | None = None,
        overwrite: bool = False,
        timeout: float | None = None,
        on_event: EventCallback | None = None,
        on_result: Callable[[TaskResult], None] | None = None,
        raise_errors: bool = True,
        layout: Mapping[str, Path] | None = None,
        force: bool = False,
        max_tasks: int | None = None,
        fail_fast: bool = False,
        retry_dropped: bool = False,
    ) -> list[TaskResult]:
        """Run `feature` once per input. Every input and parameter is checked before
        the first upload. With `raise_errors` (the default) the first failure stops
        the run and is raised, its TaskResult as `exc.result`; without it, a failed
        input is reported in its TaskResult and the others still run (unless
        `fail_fast`).

        Inputs already done with the same content and parameters are skipped (their
        earlier results reported), unfinished earlier runs of them are resumed rather
        than paid for again, and an input another yce process is running is waited
        for and its result reused, unless `force`. An input whose earlier task the API
        dropped (it may have been charged) is reported and left out unless
        `retry_dropped`. `max_tasks` caps how many tasks this call starts."""
        options = RunOptions(
            output=output,
            overwrite=overwrite,
            timeout=timeout,
            on_event=on_event,
            on_result=on_result,
            raise_errors=raise_errors,
            layout=layout,
            force=force,
            max_tasks=max_tasks,
            fail_fast=fail_fast,
            retry_dropped=retry_dropped,
        )
        runner = Runner(self, _feature(feature), options)
        jobs = runner.prepare(inputs, params, extra_inputs)
        try:
            return runner.run(jobs)
        finally:
            self.last_batch_stats = runner.stats

    def upload(
        self,
        feature: Feature | str,
        spec: InputSpec | None,
        ref: InputRef,
        on_event: EventCallback | None = None,
    ) -> str:
        """Upload one local input and return its file id (an id: input is returned as is)."""
        return pipeline_for(self, _feature(feature), on_event=on_event).upload(spec, ref)

    # -- tasks by id --------------------------------------------------------------

    def task_status(self, feature: Feature | str, task_id: str) -> Any:
        feature = _feature(feature)
        return pipeline_for(self, feature).poll(task_id)

    def task_wait(
        self,
        feature: Feature | str,
        task_id: str,
        *,
        output: str | Path | None = None,
        overwrite: bool = False,
        timeout: float | None = None,
        on_event: EventCallback | None = None,
    ) -> TaskResult:
        """Resume polling a task by id (within its polling window) and fetch results."""
        return wait_task(
            self,
            _feature(feature),
            task_id,
            output=output,
            overwrite=overwrite,
            timeout=timeout,
            on_event=on_event,
        )

    def resume(
        self,
        *,
        overwrite: bool = False,
        timeout: float | None = None,
        on_event: EventCallback | None = None,
        on_result: Callable[[TaskResult], None] | None = None,
    ) -> list[TaskResult]:
        """Finish every unfinished task of this account in the journal: re-poll those
        still alive, re-send unanswered v1 run requests with their own request_id (the
        server ignores a duplicate), and download results not yet on disk."""
        return resume_all(
            self, overwrite=overwrite, timeout=timeout, on_event=on_event, on_result=on_result
        )

    def task_list(
        self,
        *,
        limit: int | None = 50,
        open_only: bool = False,
        since: float | None = None,
        owner: str | None = None,
    ) -> list[jr.TaskRecord]:
        return self.journal.list(limit=limit, open_only=open_only, since=since, owner=owner)

    # -- units ----------------------------------------------------------------------

    def units(self) -> dict[str, Any]:
        """Balance per unit lot (003:593) and their total."""
        reply = self.client.call("GET", "/s2s/v1.0/client/credit")
        lots = reply.get("results") or []
        return {"total": sum(int(lot.get("amount") or 0) for lot in lots), "lots": lots}

    def units_history(
        self, *, page_size: int = 20, starting_token: str | int | None = None
    ) -> dict[str, Any]:
        """One page of unit history (003:665); pass `next_token` back for the next."""
        if not 1 <= page_size <= 30:
            raise InvalidInput(
                f"--page-size {page_size} is out of range", hint="It must be 1..30 (003:665)."
            )
        query: dict[str, Any] = {"page_size": page_size}
        if starting_token is not None:
            query["starting_token"] = str(starting_token)
        reply = self.client.call("GET", "/s2s/v1.0/client/credit/history", params=query)
        result = reply.get("result") or {}
        return {"history": result.get("history") or [], "next_token": result.get("next_token")}

    def auth_check(self) -> dict[str, Any]:
        """Prove the credentials work: v1 gets a fresh token and reads the balance.

        The v2 documents (000-002) give no call that checks an API key without
        starting a paid task, so a v2 key is reported as present, not as verified.
        """
        from ycecli.auth import missing_credential_error

        if not (self.profile.has_v1 or self.profile.has_v2):
            raise missing_credential_error(self.profile, "v1")
        info: dict[str, Any] = {"profile": self.profile.name}
        if self.profile.has_v1:
            started = time.monotonic()
            self.client.v1_auth.invalidate()
            self.client.v1_auth.token()
            info.update(
                api_base=self.profile.api_base,
                client_id=self.profile.client_id,
                token="ok",
                units=self.units()["total"],
                seconds=round(time.monotonic() - started, 3),
            )
        if self.profile.has_v2:
            info.update(
                api_base_v2=self.profile.api_base_v2,
                api_key="present (the v2 API has no documented way to verify it)",
            )
        return info
