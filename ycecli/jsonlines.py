"""The one shape of `--json` output (docs/json.md): one JSON object per line, each
with a `kind` naming its schema, times as ISO 8601 UTC strings, nothing said twice."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def iso_time(seconds: float | int | None) -> str | None:
    """Seconds since the epoch as `2026-01-31T12:00:00Z` (None stays None)."""
    if seconds is None:
        return None
    try:
        moment = datetime.fromtimestamp(float(seconds), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_time_ms(milliseconds: Any) -> str | None:
    """The API's millisecond timestamps (003: unit expiry and history) as ISO 8601."""
    try:
        return iso_time(int(milliseconds) / 1000)
    except (TypeError, ValueError):
        return None


def shaped(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, **{k: v for k, v in obj.items() if k != "kind"}}
