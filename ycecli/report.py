"""A batch report: one self-contained HTML page of a run's tasks, before and after
side by side, for a person to look over (and to keep beside a CI job's results).

Everything the page shows is inside the file: thumbnails are small JPEG data URIs,
the style is inline, and a Content-Security-Policy forbids every network load, so the
page opens the same offline, from an archive, or from a CI artifact. The failure
filter is a CSS checkbox: no script runs at all."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ycecli.api import TaskResult
    from ycecli.journal import TaskRecord

THUMB_SIDE = 240
THUMB_QUALITY = 80
# A picture bigger than this is not decoded for a thumbnail: the page would stall on
# it, and a report is no place to meet a decompression bomb.
MAX_THUMB_SOURCE_PIXELS = 80_000_000

FAILED = ("error", "dropped", "timeout")

# Journal states as the statuses a feature command reports, so both kinds of report
# read alike; states with no such status (a task still running) are shown as is.
_JOURNAL_STATUS = {
    "done": "success",
    "succeeded": "succeeded, not downloaded",
    "planned": "not_run",
    "abandoned": "not_run",
}


@dataclass
class ReportRow:
    """One task as the report shows it."""

    feature: str
    input: str
    status: str
    params: dict = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    task_id: str | None = None
    request_id: int | None = None
    error: str | None = None
    error_message: str | None = None
    # "yes", "maybe" (a dropped task, or one yce stopped waiting for: 003:354) or "no".
    charged: str = "no"
    when: float | None = None
    seconds: float | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED


def rows_from_results(results: Iterable[TaskResult], params: dict | None = None) -> list[ReportRow]:
    """Rows from a feature command's `TaskResult`s and the parameters it sent."""
    rows = []
    for result in results:
        if result.status == "success":
            charged = "yes"
        elif result.charged:
            charged = "maybe"
        else:
            charged = "no"
        rows.append(
            ReportRow(
                feature=result.feature,
                input=result.input,
                status=result.status,
                params=dict(params or {}),
                files=list(result.files),
                task_id=result.task_id,
                request_id=result.request_id,
                error=result.error,
                error_message=result.error_message,
                charged=charged,
            )
        )
    return rows


def rows_from_records(records: Iterable[TaskRecord]) -> list[ReportRow]:
    """Rows from journal records (`TaskRecord`), oldest first."""
    rows = []
    for record in sorted(records, key=lambda r: (r.created_at, r.id)):
        if record.state in ("done", "succeeded"):
            charged = "yes"
        elif record.state in ("dropped", "timeout", "running", "submitting"):
            charged = "maybe"
        else:
            charged = "no"
        rows.append(
            ReportRow(
                feature=record.feature,
                input=", ".join(str(i) for i in record.inputs) or "-",
                status=_JOURNAL_STATUS.get(record.state, record.state),
                params=dict(record.params or {}),
                files=list(record.outputs or []),
                task_id=record.task_id,
                request_id=record.request_id,
                error=record.error,
                error_message=record.error_message,
                charged=charged,
                when=record.created_at,
                seconds=record.done_after,
            )
        )
    return rows


def select_records(
    task_list: Callable[..., list[TaskRecord]],
    *,
    last: int | None = None,
    since: float | None = None,
) -> list[TaskRecord]:
    """The journaled tasks a report covers, from `Yce.task_list`: the `last` newest,
    those created at or after `since` (seconds since the epoch), or else the latest
    run: every task held by the process that claimed the newest one."""
    if last is not None or since is not None:
        return task_list(limit=last, since=since)
    newest = task_list(limit=1)
    if not newest or not newest[0].owner:
        return newest
    return task_list(limit=None, owner=newest[0].owner)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float | None = None) -> float:
    """`30m`, `2h`, `1d` (that long ago) or an ISO 8601 date or time (local time
    unless it names its zone) as seconds since the epoch."""
    from datetime import datetime

    from ycecli.errors import InvalidInput

    text = text.strip()
    now = time.time() if now is None else now
    amount, unit = text[:-1], text[-1:].lower()
    if unit in _UNITS and amount.replace(".", "", 1).isdigit():
        return now - float(amount) * _UNITS[unit]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"--since {text}: not a time",
            hint="Give a span ago (30m, 2h, 1d) or a date and time (2026-01-31T12:00).",
        ) from None
    return moment.timestamp()


def write_report(rows: Sequence[ReportRow], dest: Path, *, title: str) -> Path:
    """Write the page to `dest`, replacing it whole (a reader never sees half)."""
    from ycecli.files import write_atomic

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(dest, render(rows, title=title, base=dest.parent))


def thumbnail(path: str | Path) -> tuple[str | None, str]:
    """(data URI, "") for a picture, or (None, why there is none)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        return None, "no file"
    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_THUMB_SOURCE_PIXELS:
                return None, f"too large to preview ({img.width}×{img.height})"
            img.draft("RGB", (THUMB_SIDE, THUMB_SIDE))
            picture = ImageOps.exif_transpose(img)
            picture.thumbnail((THUMB_SIDE, THUMB_SIDE))
            if picture.mode in ("RGBA", "LA", "P"):
                # Cut-outs (background removal) keep their shape on a light grey.
                picture = picture.convert("RGBA")
                backdrop = Image.new("RGB", picture.size, (238, 238, 238))
                backdrop.paste(picture, mask=picture.getchannel("A"))
                picture = backdrop
            picture = picture.convert("RGB")
            buffer = io.BytesIO()
            picture.save(buffer, format="JPEG", quality=THUMB_QUALITY)
    except UnidentifiedImageError:
        return None, f"not a picture ({path.suffix.lstrip('.') or 'file'})"
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return None, f"unreadable: {exc}"
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/jpeg;base64,{encoded}", ""


_STYLE = """
:root { font: 14px/1.4 system-ui, sans-serif; color: #1a1a1a; background: #f6f6f6; }
body { margin: 0 auto; max-width: 1280px; padding: 16px 24px 48px; }
h1 { font-size: 20px; margin: 0 0 4px; }
.meta { color: #555; margin: 0 0 12px; }
.counts span { display: inline-block; margin-right: 14px; }
.filter { display: inline-block; margin: 8px 0 16px; padding: 6px 10px; background: #fff;
  border: 1px solid #ccc; border-radius: 6px; cursor: pointer; user-select: none; }
#failures-only { position: absolute; opacity: 0; }
#failures-only:focus-visible + .filter { outline: 2px solid #2060c0; }
#failures-only:checked + .filter { background: #fde8e8; border-color: #c33; }
#failures-only:checked ~ main .task:not(.failed) { display: none; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 14px; }
.task { background: #fff; border: 1px solid #ddd; border-left: 6px solid #3a9d4a;
  border-radius: 6px; padding: 10px 12px; }
.task.failed { border-left-color: #c33; }
.task.other { border-left-color: #999; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
figure { margin: 0; }
figcaption { color: #666; font-size: 12px; }
.frame { height: 240px; display: flex; align-items: center; justify-content: center;
  background: #eee; border-radius: 4px; overflow: hidden; }
.frame img { max-width: 100%; max-height: 100%; }
.missing { color: #777; font-size: 13px; padding: 8px; text-align: center; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 8px 0 0; }
dt { color: #666; }
dd { margin: 0; overflow-wrap: anywhere; }
code { font-size: 12px; }
.status { font-weight: 600; }
.failed .status, .error { color: #b01c1c; }
.empty { color: #666; }
"""


def _csp() -> str:
    """No network, no script, no plugin; only this style and data-URI pictures."""
    digest = base64.b64encode(hashlib.sha256(_STYLE.encode("utf-8")).digest()).decode()
    return (
        "default-src 'none'; img-src data:; "
        f"style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _figure(caption: str, path: str | None, why_missing: str) -> str:
    if path is not None:
        uri, why = thumbnail(path)
        if uri:
            name = Path(path).name
            return (
                f'<figure><div class="frame"><img src="{uri}" alt="{_esc(caption)}: '
                f'{_esc(name)}"></div><figcaption>{_esc(caption)}: {_esc(name)}'
                "</figcaption></figure>"
            )
        why_missing = f"{Path(path).name}: {why}"
    return (
        f'<figure><div class="frame"><div class="missing">{_esc(why_missing)}</div></div>'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def _before(row: ReportRow) -> str:
    first = row.input.split(", ")[0]
    if first.startswith(("http://", "https://", "id:")):
        return _figure("before", None, f"not a local file: {first}")
    return _figure("before", first, "no input file")


def _after(row: ReportRow) -> str:
    if not row.files:
        why = "no result" + (f" ({row.status})" if row.status != "success" else "")
        return _figure("after", None, why)
    return _figure("after", row.files[0], "")


def _show_path(path: str, base: Path) -> str:
    """A result path as seen from the report's folder, when it is under it."""
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except (ValueError, OSError):
        return path


def _task(row: ReportRow, base: Path) -> str:
    css = "failed" if row.failed else ("other" if row.status != "success" else "ok")
    details = [
        ("status", f'<span class="status">{_esc(row.status)}</span>'),
        ("input", _esc(row.input)),
        ("result", "<br>".join(_esc(_show_path(f, base)) for f in row.files) or "-"),
        ("task id", f"<code>{_esc(row.task_id or '-')}</code>"),
        ("request id", _esc(row.request_id if row.request_id is not None else "-")),
        (
            "parameters",
            f"<code>{_esc(json.dumps(row.params, sort_keys=True))}</code>" if row.params else "-",
        ),
        ("units", f"charged: {_esc(row.charged)}; amount: unknown"),
    ]
    if row.when is not None:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row.when))
        details.append(("started", _esc(started)))
    if row.seconds is not None:
        details.append(("took", f"{row.seconds:.1f} s"))
    if row.error or row.error_message:
        text = ": ".join(str(t) for t in (row.error, row.error_message) if t)
        details.append(("error", f'<span class="error">{_esc(text)}</span>'))
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in details)
    return (
        f'<section class="task {css}"><div class="pair">{_before(row)}{_after(row)}'
        f"</div><dl>{rows}</dl></section>"
    )


def render(rows: Sequence[ReportRow], *, title: str, base: Path) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    failed = sum(1 for row in rows if row.failed)
    charged = sum(1 for row in rows if row.charged == "yes")
    maybe = sum(1 for row in rows if row.charged == "maybe")
    summary = "".join(
        f"<span>{_esc(status)}: <b>{count}</b></span>" for status, count in sorted(counts.items())
    )
    generated = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    tasks = "".join(_task(row, base) for row in rows) or '<p class="empty">No tasks.</p>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_esc(_csp())}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_esc(title)}</h1>"
        f'<p class="meta">{len(rows)} task(s); made by yce at {_esc(generated)}. Units: '
        f"{charged} task(s) charged, {maybe} maybe (dropped or not waited for); the "
        "amount per task is unknown (the API does not report it per task; see "
        "<code>yce units history</code>).</p>"
        f'<p class="counts">{summary}</p>'
        '<input type="checkbox" id="failures-only">'
        f'<label class="filter" for="failures-only">Show failures only ({failed})</label>'
        f"<main>{tasks}</main></body></html>\n"
    )
