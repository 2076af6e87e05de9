"""What a task costs in units, learned from the account's own unit history.

No seed states a price: 003 says units are consumed when a task succeeds and sends
the reader to a web page for "the price of each task" (003:343, 003:441; CATALOG
1.7), and the v2 documents (000-002) say nothing of prices at all. What 003 does
document is the unit history (GET /s2s/v1.0/client/credit/history, 003:665): each
entry has a `timestamp` (ms), an `action`, a `target_id` (for a task, its
`task_id`) and `info.credits[]`, the amount taken from each unit lot. So yce learns
a price per feature from the charges it sees there, keeps it per account under the
cache dir with the time it was learned, and says "unknown" where it has none.

Which charge sets the price: the most recent one seen for the feature, not the mode.
Prices change (the price list, a new plan), and the latest charge is the best guess
at what the next task costs; a mode over the few pages yce reads would keep an old
price until the new one outnumbered it. A feature whose price depends on its options
(a video's length, the concerns a skin analysis asks for) shows the latest charge
for it, whatever options that task had: an estimate, and said to be one.

Which feature an entry charged: the journal first (the entry's `target_id` is a
task yce ran, whose feature it recorded), then the entry's `action`, mapped by the
enum 003 documents; an action outside it that names a feature's API slug
(`api_hair_color` for `hair-color`) is taken as that feature (003's enum is open:
CATALOG 1.7). Entries that are not charges (top-ups, gifts, expiry) teach nothing.

Requests: reading prices never sends one. `yce units history` learns from the pages
it fetched anyway; a batch run refreshes them with at most one history request, at
most once a day, and only when the rate budget has room to spare (see
`refresh_after_run`). `--dry-run` reads the cache only, so it works offline.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ycecli.config import Paths, Profile, write_private_file
from ycecli.features import FEATURES, Feature

HISTORY_PATH = "/s2s/v1.0/client/credit/history"  # 003:665
HISTORY_PAGE = 30  # the most one page may hold (003:665)
REFRESH_AFTER = 24 * 3600.0  # a run refreshes the prices at most once a day
# A run's refresh is left out unless this many requests are free in the tightest rate
# window: learning a price is never worth a wait, nor a poll's place.
REFRESH_RESERVE = 20
REFRESH_SECONDS = 10.0  # and it gives up after this long, retries included

# 003's `action` enum (003:665), for entries whose task the journal does not know.
# Both the plain and the `api_` names are listed there; "wig" is left out (003 does
# not say which feature it is), as are the top-ups, gifts, renewals and expiry.
ACTIONS = {
    "photo_enhance": "enhance",
    "api_photo_enhance": "enhance",
    "object_removal": "obj-remove",
    "api_object_removal": "obj-remove",
    "background_removal": "bg-remove",
    "api_background_removal": "bg-remove",
    "colorize": "colorize",
    "api_colorize": "colorize",
    "text_to_image": "generate",
    "api_text_to_image": "generate",
    "hair_style": "hair-style",
    "api_hair_style": "hair-style",
    "blur_background": "bg-blur",
    "change_background": "bg-change",
}

# Only v1 features: the unit history is a v1 endpoint, and the v2 try-on (000-002,
# another server and an API key) documents no history and no prices.
_V1 = tuple(f for f in FEATURES if f.generation == "v1")


def _slug_word(text: str) -> str:
    return text.replace("-", "_").replace("/", "_")


_BY_SLUG_WORD = {_slug_word(f.slug): f.command for f in _V1}


@dataclass
class Price:
    units: int
    charged_at: float  # when the charge was made (seconds since the epoch)
    task_id: str | None = None


@dataclass
class PriceBook:
    """One account's learned prices, by feature command."""

    api_base: str
    fetched_at: float | None = None  # when the history was last read
    prices: dict[str, Price] = field(default_factory=dict)

    def fresh(self, now: float) -> bool:
        return self.fetched_at is not None and now - self.fetched_at < REFRESH_AFTER

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "api_base": self.api_base,
            "fetched_at": self.fetched_at,
            "prices": {
                name: {"units": p.units, "charged_at": p.charged_at, "task_id": p.task_id}
                for name, p in sorted(self.prices.items())
            },
        }


def account_key(profile: Profile | None) -> str | None:
    """The v1 account a profile spends, as the journal names it; None without one."""
    if profile is None or not profile.has_v1:
        return None
    return f"v1:{profile.client_id}@{profile.api_base}"


class PriceStore:
    """One small JSON file per account under the cache dir, mode 0600 (the file name
    is a digest, so the cache does not list client ids)."""

    def __init__(self, paths: Paths) -> None:
        self.dir = paths.cache_dir / "prices"

    def path(self, profile: Profile) -> Any:
        key = account_key(profile) or ""
        return self.dir / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"

    def load(self, profile: Profile) -> PriceBook:
        book = PriceBook(api_base=profile.api_base)
        try:
            data = json.loads(self.path(profile).read_bytes())
            book.fetched_at = _number(data.get("fetched_at"))
            for name, entry in (data.get("prices") or {}).items():
                units, at = entry.get("units"), _number(entry.get("charged_at"))
                if isinstance(units, int) and not isinstance(units, bool) and at is not None:
                    book.prices[str(name)] = Price(units, at, entry.get("task_id"))
        except (OSError, ValueError, AttributeError, TypeError):
            pass  # no cache yet, or one yce cannot read: prices are unknown, not an error
        return book

    def save(self, profile: Profile, book: PriceBook) -> None:
        write_private_file(self.path(profile), json.dumps(book.to_json(), indent=1).encode())


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def charge_of(entry: dict) -> int | None:
    """Units an entry took (a positive number), or None when it took none."""
    info = entry.get("info") if isinstance(entry, dict) else None
    credits = info.get("credits") if isinstance(info, dict) else None
    if not isinstance(credits, list):
        return None
    total = 0
    for credit in credits:
        amount = credit.get("amount") if isinstance(credit, dict) else None
        if isinstance(amount, bool) or not isinstance(amount, int):
            continue
        total += amount  # one charge may take from several lots (003's sample: -2 and 0)
    return -total if total < 0 else None


def feature_of(entry: dict, journal: Any = None) -> str | None:
    """The v1 feature command an entry charged, or None if yce cannot tell."""
    task_id = entry.get("target_id")
    action = str(entry.get("action") or "")
    guess = ACTIONS.get(action) or _BY_SLUG_WORD.get(action.removeprefix("api_"))
    if journal is not None and isinstance(task_id, str) and task_id:
        candidates = [guess] if guess else []
        candidates += [f.command for f in _V1 if f.command != guess]
        for command in candidates:
            if journal.find_task(command, task_id) is not None:
                return command
    return guess


def learn(book: PriceBook, entries: list[dict], journal: Any = None, now: float | None = None):
    """Take the most recent charge per feature from `entries` into `book` (an entry
    older than what the book holds changes nothing). Returns {feature: units} of what
    the entries taught, whether or not it changed the book."""
    newest: dict[str, Price] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        units = charge_of(entry)
        stamp = _number(entry.get("timestamp"))
        if units is None or stamp is None:
            continue
        command = feature_of(entry, journal)
        if command is None:
            continue
        task_id = entry.get("target_id")
        price = Price(units, stamp / 1000.0, task_id if isinstance(task_id, str) else None)
        if command not in newest or price.charged_at > newest[command].charged_at:
            newest[command] = price
    for command, price in newest.items():
        current = book.prices.get(command)
        if current is None or price.charged_at >= current.charged_at:
            book.prices[command] = price
    book.fetched_at = time.time() if now is None else now
    return {command: price.units for command, price in newest.items()}


def learn_from_history(yce, entries: list[dict]) -> dict[str, int]:
    """What `yce units history` calls with the entries it fetched: learn, and keep."""
    if account_key(yce.profile) is None:
        return {}
    store = PriceStore(yce.paths)
    book = store.load(yce.profile)
    seen = learn(book, entries, _journal(yce))
    store.save(yce.profile, book)
    return seen


def _journal(yce) -> Any:
    """The journal to match task ids against, or None if it cannot be opened (learning
    a price is never worth failing a command for)."""
    import sqlite3

    from ycecli.errors import YceError

    try:
        return yce.journal
    except (YceError, OSError, sqlite3.Error):
        return None


# -- what a run costs ------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """One feature's price as yce knows it: `per_task` units, or None with `why`."""

    feature: str
    per_task: int | None
    why: str  # where the price comes from, or why there is none
    charged_at: float | None = None

    def total(self, tasks: int) -> int | None:
        return None if self.per_task is None else self.per_task * tasks

    def describe(self, tasks: int) -> str:
        """For the dry run's line: `2 units per task, 6 in all (...)` or `units unknown (...)`."""
        if self.per_task is None:
            return f"units unknown ({self.why})"
        return f"{_units(self.per_task)} per task, {self.total(tasks)} in all ({self.why})"

    def cost(self, charged: int) -> str:
        """For a run's summary: what `charged` tasks cost at this price."""
        if charged == 0:
            return "costing 0 units"
        if self.per_task is None:
            return f"units unknown ({self.why})"
        return f"costing {_units(self.total(charged) or 0)} ({self.per_task} each)"

    def units_of(self, result) -> int | None:
        """A task's units at this price: 0 unless charged, None when unknown."""
        return self.per_task if result.charged else 0


def _units(n: int) -> str:
    return f"{n} unit" if n == 1 else f"{n} units"


def _day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def estimate(feature: Feature, profile: Profile | None, paths: Paths, *, why_none=None) -> Estimate:
    """The price of one `feature` task for `profile`'s account, from the cache only."""
    name = feature.command
    if feature.generation != "v1":
        return Estimate(name, None, "the v2 API documents no unit history to learn it from")
    if profile is None or account_key(profile) is None:
        return Estimate(name, None, why_none or "no v1 account to look up")
    price = PriceStore(paths).load(profile).prices.get(name)
    if price is None:
        return Estimate(name, None, f"no {name} charge seen yet: `yce units history` learns it")
    source = f"the latest {name} charge in the unit history, {_day(price.charged_at)}"
    return Estimate(name, price.units, source, price.charged_at)


def refresh_after_run(yce, feature: Feature, charged: int, *, now: float | None = None) -> bool:
    """After a run that charged (or may have charged) tasks: read one page of the unit
    history to learn prices, if the account's were read more than a day ago (or never).

    One request at most, made only when the rate windows have REFRESH_RESERVE requests
    to spare, bounded to REFRESH_SECONDS, and any failure is silent (the price stays
    what it was, or unknown). It goes through the client directly, rather than
    `Yce.units_history`, for that time bound. True if the history was read."""
    from ycecli.errors import YceError

    if charged <= 0 or feature.generation != "v1" or account_key(yce.profile) is None:
        return False
    now = time.time() if now is None else now
    store = PriceStore(yce.paths)
    book = store.load(yce.profile)
    if book.fresh(now):
        return False
    try:
        client = yce.client
        if client.budget.remaining() < REFRESH_RESERVE:
            return False
        reply = client.call(
            "GET",
            HISTORY_PATH,
            params={"page_size": HISTORY_PAGE},
            give_up_at=time.monotonic() + REFRESH_SECONDS,
        )
    except YceError:
        return False
    result = reply.get("result") if isinstance(reply, dict) else None
    entries = result.get("history") if isinstance(result, dict) else None
    if not isinstance(entries, list):
        return False
    learn(book, entries, _journal(yce), now)
    store.save(yce.profile, book)
    return True
