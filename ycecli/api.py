"""The Python facade: what a script author imports.

    from ycecli.api import Yce

    with Yce() as yce:                      # the default profile, or YCE_* variables
        result = yce.run("enhance", "photo.jpg", {"scale": 2}, output="out.jpg")
        print(result.files, result.dst_ids)

Progress is reported through `on_event(Event)`; nothing here prints.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ycecli import journal as jr
from ycecli.config import Paths, Profile, load_profile
from ycecli.errors import (
    ConfigError,
    ExitStatus,
    InvalidInput,
    OutOfUnits,
    OutputExists,
    TaskFailed,
    TaskTimeout,
    YceError,
)
from ycecli.features import Feature, InputSpec, get_feature
from ycecli.naming import check_output_name, convert_image, name_tail
from ycecli.scheduler import Scheduler
from ycecli.validate import check_output_path


@dataclass
class Event:
    """One thing worth telling the user about. `kind` is one of: "upload", "submitted",
    "status", "download", "wait", "done", "info"."""

    kind: str
    label: str = ""
    done: int | None = None
    total: int | None = None
    status: str | None = None
    task_id: str | None = None
    elapsed: float | None = None
    message: str | None = None
    expected: float | None = None  # "status": seconds the task is expected to take
    seconds: float | None = None  # "wait": how long


EventCallback = Callable[[Event], None]


@dataclass
class TaskResult:
    """What one task produced; `to_dict` is the object `--json` prints."""

    feature: str
    input: str
    task_id: str | None = None
    status: str = "pending"
    request_id: int | None = None
    files: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    dst_ids: list[str] = field(default_factory=list)
    data: list[dict] = field(default_factory=list)
    # What a feature's "after" hook adds: scores, attributes, extracted files...
    extra: dict = field(default_factory=dict)
    error: str | None = None
    error_message: str | None = None
    exit_status: int = 0
    # This run started (or finished) a task that was, or may have been, charged: a
    # success, or a task the API dropped or that was still running when yce gave up.
    charged: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The `task` object of docs/json.md. `extra` leaves out what is said
        elsewhere: the display table (rows of the other fields) and any value the
        API's own `data` already holds (face-analyze's analysis)."""
        fields_ = asdict(self)
        in_data = [v for item in self.data if isinstance(item, dict) for v in item.values()]
        fields_["extra"] = {
            k: v for k, v in self.extra.items() if k != "table" and v not in in_data
        }
        return {"kind": "task", **fields_}

    def record_error(self, exc: YceError) -> None:
        """The one way a failure is written into a result."""
        from ycecli.errors import InvalidTaskId

        if self.status in ("pending", "running", "success"):
            # "success" too: a finishing step (unpacking a ZIP) can still fail.
            self.status = "dropped" if isinstance(exc, InvalidTaskId) else "error"
        code = exc.error if isinstance(exc, TaskFailed) else None
        self.error = self.error or code or type(exc).__name__
        self.error_message = self.error_message or exc.message
        self.exit_status = int(exc.exit_status)


@dataclass(frozen=True)
class InputRef:
    """A user's input: a local file, an http(s) URL, or an existing file id."""

    text: str
    path: Path | None = None
    url: str | None = None
    file_id: str | None = None
    info: Any = None  # validate.MediaInfo once a local file was checked

    @classmethod
    def parse(cls, text: str) -> InputRef:
        if text.startswith("id:"):
            file_id = text[3:]
            if not file_id:
                raise InvalidInput("id: needs a file id after it, e.g. id:<dst_id>")
            return cls(text, file_id=file_id)
        if text.startswith(("http://", "https://")):
            return cls(text, url=text)
        return cls(text, path=Path(text).expanduser())

    @property
    def stem(self) -> str:
        if self.path is not None:
            return self.path.stem
        if self.url is not None:
            name = Path(unquote(urlsplit(self.url).path)).stem
            return _safe_name(name) or "download"
        digest = hashlib.sha256((self.file_id or "").encode()).hexdigest()[:10]
        return f"id-{digest}"

    @property
    def suffix(self) -> str:
        source = self.path.name if self.path else urlsplit(self.url or "").path
        suffix = Path(source).suffix.lower()
        return suffix if suffix in (".jpg", ".jpeg", ".png", ".mp4", ".mov") else ""


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:80]


RESULT_SUFFIX = {"zip": ".zip", "json": ".json", "video": ".mp4", "image": ".jpg"}
CONTENT_SUFFIX = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "video/mp4": ".mp4",
    "application/zip": ".zip",
}


@dataclass
class Job:
    """One task to run: its inputs resolved and checked, its output planned."""

    label: str
    refs: dict[str, list[InputRef]]
    target: Path | None  # the first result's path; later ones get _2, _3 ...
    target_given: bool  # the user named this exact file with -o
    params: dict = field(default_factory=dict)  # this task's parameters, hooks applied
    fingerprint: str | None = None  # feature + input content + parameters
    prior: Any = None  # the journal's record of the same work, if any
    skip: str | None = None  # why this input is not run ("done", "--max-tasks"...)
    dropped: bool = False  # its earlier task was dropped by the API: not run again
    record_id: int | None = None  # this process's claim in the journal: run it
    busy: Any = None  # the record of another live process running the same work


@dataclass
class Submission:
    """What a run request needs once the inputs are uploaded and hooks have run."""

    file_ids: dict[str, list[str]]
    urls: dict[str, list[str]]
    params: dict


DONE_EARLIER = "done earlier (same input and parameters)"
# Names an image result may take besides its input's suffix (a PNG cut-out of a JPEG).
IMAGE_RESULT_SUFFIXES = (".jpg", ".png", ".webp")
OWNER_POLL_SECONDS = 0.5  # how often a process waiting for another checks the journal


class _Run:
    """One call of Yce.run: reports each input's result as soon as it is known."""

    def __init__(self, yce, feature, ctx, overwrite, timeout, on_event, on_result) -> None:
        self.yce, self.feature, self.ctx = yce, feature, ctx
        self.overwrite, self.timeout = overwrite, timeout
        self.on_event, self.on_result = on_event, on_result
        self.stats: dict[str, Any] = {}

    def settle(self, jobs, outcome: dict, errors: dict) -> None:
        """Inputs that need no new task: done earlier, dropped earlier, left out, or
        unfinished earlier (resumed here, without paying again)."""
        for job in jobs:
            if id(job) in outcome or job.record_id or job.busy is not None:
                continue
            if job.skip or job.dropped:
                result = self.yce._skipped_result(self.feature, job, self.overwrite)
            elif job.prior is not None:
                result = TaskResult(feature=self.feature.command, input=job.label)
                try:
                    self.yce._resume_job(
                        self.feature,
                        job,
                        self.ctx,
                        result,
                        self.overwrite,
                        self.timeout,
                        self.on_event,
                    )
                except YceError as exc:
                    if isinstance(exc, (ConfigError, OutOfUnits)):
                        raise  # every other input would fail the same way: stop the run
                    result.record_error(exc)
                    errors[id(job)] = exc
            else:
                continue
            outcome[id(job)] = result
            if self.on_result:
                self.on_result(result)

    def schedule(self, fresh, outcome: dict, errors: dict, fail_fast: bool) -> None:
        scheduler = Scheduler(
            self.yce,
            self.feature,
            self.ctx,
            overwrite=self.overwrite,
            timeout=self.timeout,
            on_event=self.on_event,
            on_result=self.on_result,
            fail_fast=fail_fast,
        )
        for index, result in enumerate(scheduler.run(fresh)):
            outcome[id(fresh[index])] = result
            if index in scheduler.errors:
                errors[id(fresh[index])] = scheduler.errors[index]
        self.stats = scheduler.stats


class Yce:
    """A session with one account. Use as a context manager, or call close()."""

    def __init__(
        self,
        profile: Profile | str | None = None,
        *,
        paths: Paths | None = None,
        client: Any = None,
    ) -> None:
        self.paths = paths or Paths.from_env()
        if isinstance(profile, Profile):
            self.profile = profile
        else:
            self.profile = load_profile(profile, paths=self.paths)
        self._client = client
        self._journal: jr.Journal | None = None
        self._tmp: Path | None = None

    # -- plumbing --------------------------------------------------------------

    @property
    def client(self):
        if self._client is None:
            from ycecli.client import Client

            self._client = Client(self.profile, self.paths)
        return self._client

    @property
    def journal(self) -> jr.Journal:
        if self._journal is None:
            self._journal = jr.Journal.in_state_dir(self.paths.state_dir)
        return self._journal

    def account(self, feature: Feature | str) -> str:
        """Who the API counts this work against: a feature's, or a generation's
        ("v1"/"v2"), account. Keys the request_id counter and the journal."""
        generation = feature if isinstance(feature, str) else feature.generation
        if generation == "v2":
            digest = hashlib.sha256((self.profile.api_key or "").encode()).hexdigest()[:16]
            return f"v2:{digest}@{self.profile.api_base_v2}"
        return f"v1:{self.profile.client_id}@{self.profile.api_base}"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._journal is not None:
            self._journal.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Yce:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tmpdir(self) -> Path:
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="yce-"))
        return self._tmp

    # -- planning: everything that can fail before a unit is spent -------------

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
        """Resolve and check every input and output; raise before anything is spent.

        `rules` overrides a input's MediaRules by input name (limits that depend on
        parameters); `layout` gives each input's result folder below the output
        directory (see ycecli.batch); with `existing_ok`, an existing output is left for
        the caller to judge (it may be this very input's earlier result). `params`, the
        parameters as the user gave them, name the default outputs (ycecli.naming)."""
        feature = get_feature(feature) if isinstance(feature, str) else feature
        rules = rules or {}
        primary = feature.primary_input
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        if primary is None:
            # No input file at all (text-to-image): one task, named after the command.
            texts = [time.strftime(f"{feature.command}-%Y%m%d-%H%M%S")]
        elif not texts:
            raise InvalidInput(f"{feature.command}: no input given")
        shared: dict[str, list[InputRef]] = {}
        for spec in feature.inputs:
            if spec is primary:
                continue
            given = (extra_inputs or {}).get(spec.name)
            values = [given] if isinstance(given, str) else list(given or [])
            if not values and spec.required:
                raise InvalidInput(f"{feature.command}: {spec.flag} is required")
            shared[spec.name] = [
                self._resolve(spec, InputRef.parse(v), rules.get(spec.name)) for v in values
            ]

        out_path = Path(output).expanduser() if output is not None else None
        as_dir = out_path is not None and (
            len(texts) > 1 or out_path.is_dir() or str(output).endswith(("/", "\\"))
        )
        if out_path is not None:
            check_output_name(feature, output, len(texts), as_dir)
        # A command with no input file is named by the time it ran: it never collides.
        tail = name_tail(feature, params or {}, extra_inputs or {}) if primary else ""
        jobs: list[Job] = []
        seen: set[Path] = set()
        for text in texts:
            if primary is None:
                ref = InputRef(text, path=Path(text))
            else:
                ref = self._resolve(primary, InputRef.parse(text), rules.get(primary.name))
            target: Path | None = None
            given = False
            if feature.result != "json" or out_path is not None:
                if out_path is not None and not as_dir:
                    target, given = out_path, True
                else:
                    base = out_path if as_dir else Path.cwd()
                    base = base / (layout or {}).get(text, Path())
                    suffix = ref.suffix if feature.result == "image" and primary else ""
                    suffix = suffix or RESULT_SUFFIX[feature.result]
                    target = base / f"{ref.stem}_{feature.command}{tail}{suffix}"
                if target in seen:
                    raise InvalidInput(
                        f"{feature.command}: two inputs would both write {target}",
                        hint="Give the inputs distinct names, or run them separately.",
                    )
                seen.add(target)
                check_output_path(target)
                if target.exists() and not overwrite and not existing_ok:
                    raise OutputExists(
                        f"{target} already exists",
                        hint="Pass --overwrite to replace it, or choose another -o.",
                    )
            refs = {primary.name: [ref], **shared} if primary is not None else dict(shared)
            jobs.append(Job(label=text, refs=refs, target=target, target_given=given))
        return jobs

    def _resolve(self, spec: InputSpec, ref: InputRef, rules: Any = None) -> InputRef:
        """Fetch URL inputs to a temporary file, and check local files."""
        from ycecli.validate import check_media

        rules = rules or spec.rules
        if ref.file_id is not None:
            return ref  # an id was checked when it was first uploaded or produced
        if ref.url is not None and spec.url_field:
            return ref  # the API fetches public URLs itself (v2 try-on); nothing to upload
        if ref.url is not None:
            local = self._fetch_url(ref.url)
            info = check_media(local, rules, label=f"{spec.name} {ref.url} (downloaded)")
            return InputRef(ref.text, path=local, url=ref.url, info=info)
        info = check_media(ref.path, rules, label=spec.name)
        return InputRef(ref.text, path=ref.path, info=info)

    def _fetch_url(self, url: str) -> Path:
        from ycecli.transfer import download

        name = _safe_name(Path(unquote(urlsplit(url).path)).name) or "download"
        target = self._tmpdir() / f"{len(list(self._tmpdir().iterdir()))}-{name}"
        try:
            return download(self.client, url, target)
        except YceError as exc:
            raise InvalidInput(
                f"input {url} could not be downloaded: {exc.message}",
                hint="Check the URL, or download it yourself and pass the file.",
            ) from None

    # -- running -----------------------------------------------------------------

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
        from ycecli import hooks

        feature = get_feature(feature) if isinstance(feature, str) else feature
        ctx = hooks.HookContext(
            self, feature, on_event, overwrite=overwrite, output=output, timeout=timeout
        )
        resolved = feature.resolve_params(dict(params or {}))
        if feature.styles:
            resolved = hooks.HOOKS["resolve_style_group"](ctx, resolved)
        resolved = hooks.run(feature, "prepare", ctx, resolved)
        rules = hooks.run(feature, "input_rules", ctx, resolved, {})
        jobs = self.plan(
            feature,
            inputs,
            extra_inputs=extra_inputs,
            output=output,
            overwrite=overwrite,
            rules=rules,
            layout=layout,
            existing_ok=True,
            params=params,
        )
        self._find_done(feature, jobs, resolved, force=force, retry_dropped=retry_dropped)
        # Every per-input check and parameter first: nothing is uploaded unless all pass.
        for job in jobs:
            if job.skip or job.dropped:
                continue
            hooks.run(feature, "check_job", ctx, job, resolved)
            job.params = hooks.run(feature, "job_params", ctx, job, dict(resolved))
            feature.check_required(job.params)
        if max_tasks is not None:
            runnable = [job for job in jobs if not job.skip and not job.dropped]
            for job in runnable[max_tasks:]:
                job.skip = f"not run: --max-tasks {max_tasks} reached"
        outcome: dict[int, TaskResult] = {}
        errors: dict[int, YceError] = {}
        owner = jr.owner_token()
        if raise_errors and on_result is not None:
            # A failure is raised, with its result, rather than reported: once is enough.
            report = on_result

            def on_result(result: TaskResult) -> None:
                if result.status in ("success", "skipped"):
                    report(result)

        runner = _Run(self, feature, ctx, overwrite, timeout, on_event, on_result)
        runner.settle([job for job in jobs if job.skip or job.dropped], outcome, errors)
        try:
            undecided = [job for job in jobs if id(job) not in outcome]
            while undecided:
                self._claim(feature, undecided, owner, force=force, retry_dropped=retry_dropped)
                self._check_targets(feature, [j for j in undecided if j.record_id], overwrite)
                force = False  # an input that had to wait is decided again as it stands now
                runner.settle(undecided, outcome, errors)
                fresh = [j for j in undecided if j.record_id and id(j) not in outcome]
                if fresh:
                    runner.schedule(fresh, outcome, errors, fail_fast or raise_errors)
                undecided = [j for j in undecided if id(j) not in outcome]
                for job in undecided:
                    # Another yce process is running this very input: wait for it,
                    # then decide again (its result is usually ours to reuse).
                    self._wait_for_owner(job, on_event)
        finally:
            self.journal.release_claims(owner)
        self.last_batch_stats = runner.stats
        if raise_errors:
            for job in jobs:
                exc = errors.get(id(job))
                if exc is not None:
                    exc.result = outcome[id(job)]  # type: ignore[attr-defined]
                    raise exc
        return [outcome[id(job)] for job in jobs]

    def _find_done(self, feature, jobs, params, *, force: bool, retry_dropped: bool) -> None:
        """Fingerprint every input and read the journal: inputs done earlier (their
        results still on disk) are skipped, inputs whose earlier task the API dropped
        are left out. Nothing is claimed yet."""
        from ycecli.batch import fingerprint

        account = self.account(feature)
        for job in jobs:
            job.fingerprint = fingerprint(feature.command, job.refs, params)
            if force:
                continue
            prior = self.journal.find_fingerprint(account, job.fingerprint)
            if prior is None:
                continue
            if prior.state == jr.DONE and (
                all(Path(p).exists() for p in prior.outputs)
                and (prior.outputs or job.target is None)
            ):
                job.prior, job.skip = prior, DONE_EARLIER
            elif prior.state == jr.DROPPED and not retry_dropped:
                job.prior, job.dropped = prior, True

    def _claim(self, feature, jobs, owner: str, *, force: bool, retry_dropped: bool) -> None:
        """Take each input for this process, atomically across processes: see
        Journal.claim. Sets job.record_id (a new task to run), job.prior (resume it),
        job.busy (another process is on it), job.skip or job.dropped."""
        account = self.account(feature)
        api_base = self.client_base(feature)
        for job in jobs:
            job.record_id = job.busy = None
            claim = self.journal.claim(
                account=account,
                api_base=api_base,
                feature=feature.command,
                fingerprint=job.fingerprint,
                inputs=[job.label],
                outputs=[str(job.target.absolute())] if job.target else [],
                owner=owner,
                force=force,
                retry_dropped=retry_dropped,
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

    def client_base(self, feature: Feature) -> str:
        base = self.profile.api_base_v2 if feature.generation == "v2" else self.profile.api_base
        return base

    def _check_targets(self, feature, jobs, overwrite: bool) -> None:
        """An output that exists is never replaced without `overwrite`: refuse before
        anything is spent. A result's format may differ from its input's (a JPEG in, a
        PNG cut-out back), so every name the result could take is checked."""
        if overwrite:
            return
        for job in jobs:
            if job.target is None:
                continue
            candidates = [job.target]
            if not job.target_given and feature.result == "image":
                candidates += [job.target.with_suffix(s) for s in IMAGE_RESULT_SUFFIXES]
            for path in candidates:
                if path.exists():
                    raise OutputExists(
                        f"{path} already exists",
                        hint="Pass --overwrite to replace it, or choose another -o.",
                    )

    def _wait_for_owner(self, job, on_event) -> None:
        busy = job.busy
        pid = (busy.owner or "").split(":")[1] if busy and busy.owner else "?"
        self._emit(
            on_event,
            Event(
                "wait",
                label=job.label,
                message=f"another yce process (pid {pid}) is running this input with "
                "the same parameters; waiting for its result",
            ),
        )
        while True:
            record = self.journal.get(busy.id)
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

    def _skipped_result(self, feature, job, overwrite: bool) -> TaskResult:
        """What an input not run now reports: the earlier task's results when it was
        done earlier, the reason otherwise."""
        result = TaskResult(feature=feature.command, input=job.label, status="skipped")
        prior = job.prior
        if job.dropped and prior is not None:
            result.status = "dropped"
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
            result.status = "not_run"  # left out: --max-tasks
        else:
            result.task_id, result.request_id = prior.task_id, prior.request_id
            result.data = list(prior.results or [])
            result.dst_ids = [
                d["dst_id"] for d in result.data if isinstance(d, dict) and d.get("dst_id")
            ]
            result.extra = dict(prior.extra or {})
            try:
                result.files = self._reuse_outputs(job, overwrite)
            except YceError as exc:
                result.status = "error"
                result.record_error(exc)
        return result

    def after(self, feature, ctx, job, result) -> None:
        """The feature's finishing step; only then is the task done in the journal."""
        from ycecli import hooks

        hooks.run(feature, "after", ctx, job, result)
        record = self.journal.find_task(feature.command, result.task_id) if result.task_id else None
        if record is not None:
            outputs = [str(Path(f).absolute()) for f in result.files]
            extra = json.loads(json.dumps(result.extra, default=str))
            self.journal.update(record.id, state=jr.DONE, outputs=outputs, extra=extra)

    def _reuse_outputs(self, job, overwrite: bool) -> list[str]:
        """An input done earlier costs nothing now: its result files are reported, and
        copied to where this run would have written them when that is elsewhere."""
        from ycecli.files import place_file

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
            if target.exists() and not overwrite:
                raise OutputExists(
                    f"{target} already exists (the result, done earlier, is {source})",
                    hint="Pass --overwrite to replace it, or choose another -o.",
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            os.close(fd)
            try:
                shutil.copyfile(source, tmp)
                place_file(Path(tmp), target, overwrite=overwrite)
            finally:
                Path(tmp).unlink(missing_ok=True)
            written.append(str(target))
        return written

    def _resume_job(self, feature, job, ctx, result, overwrite, timeout, on_event) -> None:
        """Finish an earlier run of the same work instead of paying for a new one."""
        from ycecli.tasks import submit, task_path

        prior = job.prior
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
            task_id = submit(self.client, feature, body, task_path(feature, self.profile))
            self.journal.update(prior.id, task_id=task_id, state=jr.RUNNING)
        self._emit(on_event, Event("wait", label=job.label, message=f"resuming task {task_id}"))
        result.task_id = task_id
        result.status = "running"
        self._finish(
            feature,
            task_id,
            prior.id,
            job.target,
            job.target_given,
            result,
            overwrite,
            timeout,
            on_event,
            label=job.label,
        )
        result.charged = True
        self.after(feature, ctx, job, result)

    def _emit(self, on_event: EventCallback | None, event: Event) -> None:
        if on_event:
            on_event(event)

    def upload(
        self,
        feature: Feature | str,
        spec: InputSpec | None,
        ref: InputRef,
        on_event: EventCallback | None = None,
    ) -> str:
        """Upload one local input and return its file id (an id: input is returned as is)."""
        from ycecli.transfer import create_upload_slots, put_file
        from ycecli.validate import sniff_content_type

        feature = get_feature(feature) if isinstance(feature, str) else feature
        if ref.file_id is not None:
            return ref.file_id
        path = ref.path
        size = path.stat().st_size
        with open(path, "rb") as fh:
            content_type = sniff_content_type(fh.read(32)) or "application/octet-stream"
        name = Path(urlsplit(ref.url).path).name if ref.url else path.name
        upload_path = (spec.upload_path if spec is not None else None) or feature.upload_url_path
        slot = create_upload_slots(
            self.client,
            upload_path,
            [(name or path.name, content_type, size)],
            generation=feature.generation,
        )[0]
        self._emit(on_event, Event("upload", label=ref.text, done=0, total=size))
        put_file(
            self.client,
            slot,
            path,
            lambda done, total: self._emit(
                on_event, Event("upload", label=ref.text, done=done, total=total)
            ),
        )
        return slot.file_id

    def run_job(self, feature, job, ctx, result, on_event=None, timeout=None) -> None:
        """Run one planned job (a hook's own task, like face swap's detection) through
        the same pipeline as every task; raise its error."""
        scheduler = Scheduler(self, feature, ctx, timeout=timeout, on_event=on_event)
        [done] = scheduler.run([job])
        for key, value in done.__dict__.items():
            setattr(result, key, value)
        if scheduler.errors:
            raise scheduler.errors[0]

    def prepare_submit(self, feature, job, ctx, result, file_ids, on_event):
        """Run the steps that need the uploaded files (hooks' before_submit). Returns
        what the run request needs, or None when a hook finished the job itself."""
        from ycecli import hooks

        specs = {spec.name: spec for spec in feature.inputs}
        urls: dict[str, list[str]] = {}
        for name, refs in job.refs.items():
            for ref in refs:
                if ref.url is not None and ref.path is None and specs[name].url_field:
                    urls.setdefault(name, []).append(ref.url)
        file_ids = dict(file_ids or {})
        try:
            params = hooks.run(feature, "before_submit", ctx, job, file_ids, job.params)
        except hooks.SkipTask as skip:
            result.status = "success"
            result.extra.update(skip.extra)
            result.files.extend(skip.files)
            if job.record_id:
                self.journal.update(job.record_id, state=jr.ABANDONED)
            self._emit(on_event, Event("done", label=job.label, status="success"))
            return None
        return Submission(file_ids=file_ids, urls=urls, params=params)

    def submit(
        self,
        feature,
        job,
        submission: Submission,
        result: TaskResult,
        on_event,
        *,
        hold: str | None = None,
        size_class: str | None = None,
    ) -> tuple[str, int]:
        """Journal, then send, one run request; returns (task_id, journal record id).
        The journal has the request_id before the request goes, and the task_id
        before the first poll, so an interrupted run is resumed, never paid twice."""
        from ycecli.client import MalformedReply
        from ycecli.errors import ApiError
        from ycecli.tasks import submit, task_path

        account = self.account(feature)
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
                api_base=self.client_base(feature),
                feature=feature.command,
                request_id=request_id,
                inputs=[job.label],
                file_ids=submission.file_ids,
                params=dict(submission.params),
                outputs=outputs,
                fingerprint=job.fingerprint,
            )
        try:
            task_id = submit(
                self.client, feature, body, task_path(feature, self.profile), hold=hold
            )
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
        result.status = "running"
        # Recorded before the first poll: an interrupted run can be resumed by id.
        self.journal.update(record, task_id=task_id, state=jr.RUNNING, submitted_at=time.time())
        self._emit(on_event, Event("submitted", label=job.label, task_id=task_id))
        return task_id, record

    def _finish(
        self,
        feature,
        task_id,
        record,
        target,
        target_given,
        result,
        overwrite,
        timeout,
        on_event,
        *,
        label,
    ) -> None:
        """Poll a submitted task to the end and fetch its results."""
        from ycecli.errors import InvalidTaskId
        from ycecli.tasks import poll, task_path

        try:
            status = poll(
                self.client,
                feature,
                task_id,
                path=task_path(feature, self.profile),
                window=self.profile.polling_window,
                timeout=timeout if timeout is not None else self.profile.task_timeout,
                on_status=lambda s, t: self._emit(
                    on_event, Event("status", label=label, status=s, task_id=task_id, elapsed=t)
                ),
            )
        except (TaskFailed, TaskTimeout, InvalidTaskId) as exc:
            self.record_failure(record, result, exc)
            raise
        self._on_success(
            feature,
            task_id,
            record,
            status,
            target,
            target_given,
            result,
            overwrite,
            on_event,
            label=label,
        )

    def record_failure(self, record, result, exc) -> None:
        """What the journal and the result say when polling ended badly."""
        from ycecli.errors import InvalidTaskId

        if isinstance(exc, TaskFailed):
            result.status = "error"
            result.error, result.error_message = exc.error, exc.error_message
            if record:
                self.journal.update(
                    record, state=jr.FAILED, error=exc.error, error_message=exc.error_message
                )
        elif isinstance(exc, TaskTimeout):
            result.status = "timeout"
            result.charged = True  # it may still finish, and be charged, unpolled
            if record:
                self.journal.update(record, state=jr.TIMED_OUT)
        elif isinstance(exc, InvalidTaskId):
            result.status = "dropped"
            result.charged = True  # 003:354: a dropped task may have been charged
            if record:
                self.journal.update(
                    record, state=jr.DROPPED, error=exc.error_code, error_message=exc.message
                )

    def _on_success(
        self,
        feature,
        task_id,
        record,
        status,
        target,
        target_given,
        result,
        overwrite,
        on_event,
        *,
        label,
    ) -> None:
        """The engine finished: journal it, then fetch the results."""
        from ycecli.errors import ApiError, NetworkError

        result.status = "success"
        result.urls = [f.url for f in status.results if f.url]
        result.dst_ids = [f.dst_id for f in status.results if f.dst_id]
        result.data = [f.data for f in status.results]
        if record:
            self.journal.update(record, state=jr.SUCCEEDED, results=result.data)
        if target is not None:
            try:
                result.files = self._download_results(
                    feature, status.results, target, target_given, overwrite, on_event, label
                )
            except (ApiError, NetworkError) as exc:
                # The task is paid for and its result still on the server: say how to
                # fetch it again, rather than leave the user with a bare error.
                exc.message = f"{exc.message} (task {task_id})"
                exc.args = (exc.message,)
                exc.hint = (
                    f"Fetch the result again with `yce task wait {feature.command} '{task_id}'` "
                    "(add --overwrite if some of its files were written)."
                )
                raise
        if record:
            # Done only once the feature's finishing step also succeeded (below).
            self.journal.update(record, outputs=[str(Path(f).absolute()) for f in result.files])
        self._emit(on_event, Event("done", label=label, task_id=task_id, status="success"))

    def _download_results(
        self, feature, files, target, target_given, overwrite, on_event, label
    ) -> list[str]:
        from ycecli.transfer import download

        written: list[str] = []
        with_url = [f for f in files if f.url]
        for index, item in enumerate(with_url):
            path = target
            if not target_given:
                suffix = _suffix_from_url(item.url) or target.suffix
                path = target.with_suffix(suffix)
            if index:
                path = path.with_name(f"{path.stem}_{index + 1}{path.suffix}")
            self._emit(
                on_event, Event("download", label=label, done=0, total=None, message=str(path))
            )
            convertible = target_given and feature.result == "image"
            # A result in another format than the -o name asks for (a PNG cut-out into
            # big.jpg) is fetched beside it, converted, then put in place.
            fetched = path.with_name(f".{path.name}.fetched") if convertible else path
            download(
                self.client,
                item.url,
                fetched,
                overwrite=overwrite or convertible,
                kind=feature.result,
                from_reply=True,
                on_progress=lambda done, total, p=path: self._emit(
                    on_event, Event("download", label=label, done=done, total=total, message=str(p))
                ),
            )
            if convertible:
                from ycecli.files import place_file, remove_stale_parts

                remove_stale_parts(path)  # what a killed run left beside the -o name

                try:
                    convert_image(fetched, path)
                    place_file(fetched, path, overwrite=overwrite)
                finally:
                    fetched.unlink(missing_ok=True)
            written.append(str(path))
        return written

    # -- tasks by id --------------------------------------------------------------

    def task_status(self, feature: Feature | str, task_id: str):
        from ycecli.tasks import check_status, task_path

        feature = get_feature(feature) if isinstance(feature, str) else feature
        return check_status(self.client, feature, task_id, task_path(feature, self.profile))

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
        feature = get_feature(feature) if isinstance(feature, str) else feature
        record = self.journal.find_task(feature.command, task_id)
        result = TaskResult(
            feature=feature.command,
            input=(record.inputs[0] if record and record.inputs else f"task:{task_id}"),
            task_id=task_id,
            status="running",
            request_id=record.request_id if record else None,
        )
        target: Path | None = None
        given = False
        if output is not None:
            target, given = Path(output).expanduser(), True
            if target.is_dir() or str(output).endswith(("/", "\\")):
                target, given = target / f"{feature.command}_{_safe_name(task_id)[:16]}", False
        elif record and record.outputs:
            target = Path(record.outputs[0])
        elif feature.result != "json":
            digest = hashlib.sha256(task_id.encode()).hexdigest()[:10]
            target = Path.cwd() / f"task-{digest}_{feature.command}{RESULT_SUFFIX[feature.result]}"
        if target is not None and not target.suffix and feature.result != "json":
            target = target.with_suffix(RESULT_SUFFIX[feature.result])
        if target is not None and target.exists() and not overwrite:
            raise OutputExists(
                f"{target} already exists",
                hint="Pass --overwrite to replace it, or choose another -o.",
            )
        try:
            self._finish(
                feature,
                task_id,
                record.id if record else None,
                target,
                given,
                result,
                overwrite,
                timeout,
                on_event,
                label=result.input,
            )
            # The feature's own finishing step (unpack a ZIP, tabulate an analysis)
            # runs for a resumed task too, with what the journal remembers of it.
            from ycecli import hooks

            primary = feature.primary_input
            refs = {}
            if primary is not None and record and record.inputs:
                refs = {primary.name: [InputRef.parse(record.inputs[0])]}
            job = Job(
                label=result.input,
                refs=refs,
                target=target,
                target_given=given,
                params=dict(record.params) if record else {},
            )
            ctx = hooks.HookContext(self, feature, on_event, overwrite=overwrite, output=output)
            self.after(feature, ctx, job, result)
        except YceError as exc:
            exc.result = result  # type: ignore[attr-defined]
            raise
        return result

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
        from ycecli import hooks

        accounts = {self.account("v1"), self.account("v2")}
        results = []
        for record in reversed(self.journal.list(limit=10_000, open_only=True)):
            if record.account not in accounts:
                continue
            try:
                feature = get_feature(record.feature)
            except InvalidInput:
                continue
            label = record.inputs[0] if record.inputs else f"task:{record.task_id}"
            target = Path(record.outputs[0]) if record.outputs else None
            job = Job(
                label=label,
                refs={},
                target=target,
                target_given=False,
                params=dict(record.params),
                prior=record,
            )
            primary = feature.primary_input
            if primary is not None and record.inputs:
                job.refs = {primary.name: [InputRef.parse(record.inputs[0])]}
            ctx = hooks.HookContext(self, feature, on_event, overwrite=overwrite, timeout=timeout)
            result = TaskResult(feature=feature.command, input=label, task_id=record.task_id)
            try:
                self._resume_job(feature, job, ctx, result, overwrite, timeout, on_event)
            except YceError as exc:
                result.record_error(exc)
            if on_result:
                on_result(result)
            results.append(result)
        return results

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


def _same_file(a: Path, b: Path) -> bool:
    """Two paths holding the same bytes (a result copied there by an earlier rerun)."""
    import filecmp

    try:
        return b.exists() and filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def _suffix_from_url(url: str) -> str:
    suffix = Path(unquote(urlsplit(url).path)).suffix.lower()
    return (
        {".jpeg": ".jpg"}.get(suffix, suffix)
        if suffix in (".jpg", ".jpeg", ".png", ".mp4", ".zip", ".json", ".webp")
        else ""
    )
