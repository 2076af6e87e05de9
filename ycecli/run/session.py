"""One account's working set: its profile and paths, the HTTP client and the journal
(both opened on first use, so planning and `--dry-run` open neither)."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ycecli import journal as jr
from ycecli.client import Client
from ycecli.config import Paths, Profile, load_profile

if TYPE_CHECKING:
    from ycecli.features import Feature


_S = TypeVar("_S", bound="Session")


class Session:
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

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.profile, self.paths)
        return self._client

    @property
    def requests_sent(self) -> int:
        """HTTP requests this session sent (none if it never opened its client)."""
        return self._client.requests_sent if self._client is not None else 0

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

    def api_base(self, feature: Feature) -> str:
        return self.profile.api_base_v2 if feature.generation == "v2" else self.profile.api_base

    def tmpdir(self) -> Path:
        """A private folder for this session's scratch files (URL inputs), removed
        on close."""
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="yce-"))
        return self._tmp

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._journal is not None:
            self._journal.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
