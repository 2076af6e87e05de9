"""What the global options decide, shared by every command through ctx.obj."""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ycecli.cli.output import Reporter

if TYPE_CHECKING:
    from ycecli.api import Yce
    from ycecli.client import Client
    from ycecli.config import Paths
    from ycecli.sandbox.server import Sandbox

LONG_WAIT = 5.0  # seconds; shorter retries pass unannounced


@dataclass
class State:
    profile: str | None = None
    sandbox: bool = False
    json: bool = False
    quiet: bool = False
    debug: bool = False
    reporter: Reporter = field(default_factory=Reporter)
    _yce: Yce | None = None
    _sandbox: Sandbox | None = None
    _tmp: Path | None = None

    def setup_logging(self) -> None:
        if self.debug:
            logging.basicConfig(
                stream=sys.stderr, level=logging.DEBUG, format="debug: %(name)s: %(message)s"
            )
            # urllib3's own lines would repeat URLs unredacted.
            logging.getLogger("urllib3").setLevel(logging.WARNING)

    def paths(self) -> Paths:
        from ycecli.config import Paths

        if self.sandbox:
            return self._sandbox_paths()
        return Paths.from_env()

    def _sandbox_paths(self) -> Paths:
        from ycecli.config import Paths

        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="yce-sandbox-run-"))
        return Paths(
            config_file=self._tmp / "config.yaml",
            cache_dir=self._tmp / "cache",
            state_dir=self._tmp / "state",
        )

    def yce(self) -> Yce:
        """The API session, built on first use (commands that never call the API,
        like --help, never import requests)."""
        if self._yce is None:
            Yce = _announcing_yce(self.announce_wait)

            if self.sandbox:
                from ycecli.config import Profile
                from ycecli.sandbox.server import Sandbox

                self._sandbox = Sandbox().start()
                env = self._sandbox.env()
                profile = Profile(
                    name="sandbox",
                    client_id=env["YCE_CLIENT_ID"],
                    client_secret=env["YCE_CLIENT_SECRET"],
                    api_key=env["YCE_API_KEY"],
                    api_base=env["YCE_API_BASE"],
                    api_base_v2=env["YCE_API_BASE_V2"],
                )
                self.reporter.note(
                    f"sandbox: local emulator at {self._sandbox.url} (no units spent)"
                )
                self._yce = Yce(profile, paths=self._sandbox_paths())
            else:
                self._yce = Yce(self.profile, paths=self.paths())
        return self._yce

    def announce_wait(self, why: str, seconds: float) -> None:
        """A long silent pause looks like a hang: say what yce waits for."""
        if seconds > LONG_WAIT:
            self.reporter.note(f"waiting {seconds:.0f} s: {why}")

    def close(self) -> None:
        self.reporter.stop()
        if self._yce is not None:
            self._yce.close()
        if self._sandbox is not None:
            self._sandbox.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


def _announcing_yce(on_wait: Callable[[str, float], None]) -> type[Yce]:
    """Yce whose HTTP client reports its waits to `on_wait`. The hook goes on when
    the client is first used, so commands that never call the API (task list) never
    import requests."""
    from ycecli.api import Yce

    class AnnouncingYce(Yce):
        @property
        def client(self) -> Client:
            client = super().client
            client.on_wait = on_wait
            return client

    return AnnouncingYce
