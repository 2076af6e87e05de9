"""A faithful local emulator of the YouCam API on 127.0.0.1: the public entry.

It checks requests as strictly as the documents allow, so that passing against it
means working against the real service: real RSA on v1 auth, token expiry, presigned
storage URLs that refuse chunked bodies, a wrong Content-Length or Content-Type, a
second auth mechanism and expired signatures, `request_id` de-duplication, every
feature's documented input limits (the engine's errors), the polling window, both
rate limits, and a unit ledger that charges only for successful tasks. Its clock and
task duration are injectable and faults can be switched on per test.

The parts, each importing only those listed before it:
- ycecli.sandbox.model: data types (clock, config, faults, file and task records,
  SandboxError, EngineError, the engine's Output);
- ycecli.sandbox.imaging: picture helpers the engines share;
- ycecli.sandbox.skinzip, ycecli.sandbox.styles: the skin result ZIP, the style catalog;
- ycecli.sandbox.engines: one module per registry area, and the one table of
  producers, body checks and input rules;
- ycecli.sandbox.inputs: the engine's look at a task's input files;
- ycecli.sandbox.checks: request checks (headers, bodies against the registry);
- ycecli.sandbox.state: accounts, ledger, storage, tasks, rate limits, and what each
  endpoint does to them;
- ycecli.sandbox.handler: routing and the HTTP request handler;
- this module: Sandbox, which serves its state over HTTP (start/stop, a context
  manager in tests), plus the names callers import from here.

Everything feature-specific comes from the registry (ycecli.features); the sandbox
never imports the client.
"""

from __future__ import annotations

import threading

from ycecli.sandbox.checks import check_run_body, check_vto_body
from ycecli.sandbox.handler import Router, Server, make_handler
from ycecli.sandbox.model import Clock, Fault, SandboxConfig, SandboxError
from ycecli.sandbox.state import SandboxState

__all__ = [
    "Clock",
    "Fault",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "check_run_body",
    "check_vto_body",
]


class Sandbox(SandboxState):
    """The emulator: its state served over HTTP. Use as a context manager in tests."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        config: SandboxConfig | None = None,
        clock: Clock | None = None,
        client_id: str = "sandbox-client",
        api_key: str | None = None,
    ) -> None:
        super().__init__(
            host=host, port=port, config=config, clock=clock, client_id=client_id, api_key=api_key
        )
        self.router = Router(self)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Sandbox:
        self._server = Server((self.host, self.port), make_handler(self, self.router))
        self.port = self._server.server_address[1]
        # stop() waits for the serving loop to notice; its default half-second poll
        # would add that much to every test that starts a sandbox.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="yce-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.discard_storage()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The environment a script needs to use this sandbox."""
        return {
            "YCE_API_BASE": self.url,
            "YCE_API_BASE_V2": self.url,
            "YCE_CLIENT_ID": self.client_id,
            "YCE_CLIENT_SECRET": self.client_secret,
            "YCE_API_KEY": self.api_key,
        }
