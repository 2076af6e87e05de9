"""The named steps of features' special flows.

A feature declares its special flow as data: `hooks={"prepare": "skin_concerns"}`.
The core runs the named functions at fixed stages and knows nothing else about them:

- "prepare"(ctx, params) -> params: cross-field checks and derived parameters, once
  per command, before anything is uploaded (may call free API lists, never a task).
- "input_rules"(ctx, params) -> {input name: MediaRules}: limits that depend on
  parameters (skin analysis: SD or HD).
- "check_job"(ctx, job, params) -> None: checks that need the input files (a mask the
  size of its photo, a video's duration), before anything is uploaded.
- "job_params"(ctx, job, params) -> params: per-input parameters (an extender canvas
  from the photo's size, a video's duration).
- "before_submit"(ctx, job, file_ids, params) -> params: steps that need uploaded
  files (face swap's detection task).
- "after"(ctx, job, result) -> None: what to do with the results (unpack a ZIP,
  tabulate an analysis).

A stage may name one function or a tuple of them; they run in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ycecli.hooks import analysis, clothes, hair, image, portrait, styles, video
from ycecli.run.types import Event, EventKind, Job, SkipTask, TaskResult

__all__ = ["HOOKS", "HookContext", "SkipTask", "names", "run"]

HOOKS: dict[str, Callable[..., Any]] = {}
for _module in (styles, image, hair, clothes, portrait, analysis, video):
    HOOKS.update(_module.HOOKS)


@dataclass
class HookContext:
    """What a hook may use: the session (profile, paths, client), the feature,
    progress, and `run_task` for a task of its own."""

    session: Any  # ycecli.run.session.Session
    feature: Any
    on_event: Callable[[Any], None] | None = None
    state: dict = field(default_factory=dict)  # shared between one command's stages
    overwrite: bool = False  # the user allowed replacing existing outputs
    output: Any = None  # the -o value as given (None: default names)
    timeout: float | None = None  # the user's --timeout, for tasks a hook runs
    # Runs a job through the task pipeline (ycecli.run.runner.run_job), given by
    # whoever runs the hooks: hooks never import the pipeline themselves.
    tasks: Callable[[Any, HookContext, Job, TaskResult], None] | None = None

    def note(self, message: str, label: str = "") -> None:
        if self.on_event:
            self.on_event(
                Event(EventKind.WAIT, label=label or self.feature.command, message=message)
            )

    def run_task(self, feature: Any, job: Job, result: TaskResult) -> None:
        """Run one task of another feature (face swap's detection) the way every
        task runs: request_id, journal, submit, poll, journal. Raises its error."""
        if self.tasks is None:
            raise RuntimeError("this hook context cannot run tasks")
        ctx = HookContext(
            self.session,
            feature,
            self.on_event,
            self.state,
            overwrite=self.overwrite,
            timeout=self.timeout,
            tasks=self.tasks,
        )
        self.tasks(self.session, ctx, job, result)


def names(feature, stage: str) -> tuple[str, ...]:
    value = feature.hooks.get(stage)
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def run(feature, stage: str, ctx: HookContext, *args: Any) -> Any:
    """Run a stage's hooks in order. Stages that return a value thread it through:
    each hook gets the previous one's result as its last argument."""
    result = args[-1] if args else None
    for name in names(feature, stage):
        out = HOOKS[name](ctx, *args[:-1], result) if args else HOOKS[name](ctx)
        if out is not None:
            result = out
    return result
