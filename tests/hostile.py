"""A hostile HTTP server on 127.0.0.1 for tests: it answers whatever bytes, status
and headers a test asks for, trickles them, drops the connection, redirects...

By default it forwards every request to an upstream (the sandbox) and replaces the
upstream's own URL in its replies with its own, so that storage traffic (presigned
upload and result URLs) flows through it too. A test then scripts the requests it
wants to go wrong with `on(method, path, reply)`, where `reply` is a Reply or a
function of the Request (which may call `forward` and edit what the sandbox said).

Real sockets, no mocks: yce's HTTP stack meets exactly these bytes.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.conftest import SAMPLE, run_cli
from ycecli.client import Client
from ycecli.config import Paths, Profile

# Every trickle and stream stops after this long, whatever the test asked for.
MAX_SECONDS = 120.0

# Paths of the feature most tests run (enhance) and of the endpoints they disturb.
STATUS = RUN = "/s2s/v1.0/task/enhance"
UPLOAD = "/s2s/v1.1/file/enhance"
FILES = "/storage/files/"
CREDIT = "/s2s/v1.0/client/credit"


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Content-Length to declare: None for the body's real length (bytes bodies
    # only), an int to lie, or -1 for none at all (the body ends when we close).
    length: int | None = None
    trickle: float = 0.0  # seconds between body bytes
    header_trickle: float = 0.0  # seconds between bytes of the status line and headers
    drop_after: int | None = None  # close the connection after this many body bytes


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


Responder = Reply | Callable[[Request], Reply]


@dataclass
class _Rule:
    method: str | None
    path: str
    respond: Responder
    times: int | None  # None: every matching request


class Hostile:
    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream.rstrip("/") if upstream else None
        self.requests: list[Request] = []
        self.bytes_sent = 0
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- lifecycle -------------------------------------------------------------

    def __enter__(self) -> Hostile:
        # shutdown() waits for the loop to look up: every 50 ms, not the default 0.5 s.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    # -- scripting -------------------------------------------------------------

    def on(
        self, method: str | None, path: str, respond: Responder, *, times: int | None = None
    ) -> None:
        """Answer requests whose path starts with `path` with `respond`, `times`
        times (or always); the first matching rule wins."""
        with self._lock:
            self._rules.append(_Rule(method, path, respond, times))

    def seen(self, path: str, method: str | None = None) -> list[Request]:
        return [
            r
            for r in self.requests
            if r.path.startswith(path) and (method is None or r.method == method)
        ]

    def forward(self, request: Request) -> Reply:
        """What the upstream answers, with its URL replaced by ours."""
        assert self.upstream, "no upstream to forward to"
        parts = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        skip = {"host", "connection", "accept-encoding", "content-length"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
        try:
            conn.request(request.method, request.path, body=request.body or None, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            drop = {"content-length", "transfer-encoding", "connection", "date", "server"}
            out = {k: v for k, v in resp.getheaders() if k.lower() not in drop}
            status = resp.status
        finally:
            conn.close()
        if "json" in (out.get("Content-Type") or ""):
            body = body.replace(self.upstream.encode(), self.url.encode())
        return Reply(status, body, out)

    def forward_json(self, request: Request, edit: Callable[[Any], Any]) -> Reply:
        """The upstream's JSON reply, passed through `edit` (which may change it in
        place and return None, or return something else entirely)."""
        reply = self.forward(request)
        data = json.loads(reply.body)
        edited = edit(data)
        reply.body = json.dumps(data if edited is None else edited).encode()
        return reply

    # -- serving -----------------------------------------------------------------

    def _respond(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            rule = next(
                (
                    r
                    for r in self._rules
                    if (r.method is None or r.method == request.method)
                    and request.path.startswith(r.path)
                    and (r.times is None or r.times > 0)
                ),
                None,
            )
            if rule is not None and rule.times is not None:
                rule.times -= 1
        if rule is None:
            if self.upstream is None:
                return Reply(404, b"not scripted")
            return self.forward(request)
        return rule.respond(request) if callable(rule.respond) else rule.respond


def _handler(hostile: Hostile):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:
            self._handle()

        do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(self.command, self.path, dict(self.headers.items()), body)
            try:
                self._send(hostile._respond(request))
            except (ConnectionError, TimeoutError):
                self.close_connection = True  # the client left: fine

        def _send(self, reply: Reply) -> None:
            deadline = time.monotonic() + MAX_SECONDS
            body = reply.body
            length = reply.length
            if length is None:
                assert isinstance(body, bytes), "a streamed body needs an explicit length"
                length = len(body)
            reason = http.client.responses.get(reply.status, "Whatever")
            head = f"HTTP/1.1 {reply.status} {reason}\r\n"
            for key, value in reply.headers.items():
                head += f"{key}: {value}\r\n"
            if length >= 0:
                head += f"Content-Length: {length}\r\n"
            else:
                head += "Connection: close\r\n"
                self.close_connection = True
            head += "\r\n"
            self._write(head.encode(), reply.header_trickle, deadline)
            chunks = [body] if isinstance(body, bytes) else body
            sent = 0
            for chunk in chunks:
                if reply.drop_after is not None and sent + len(chunk) >= reply.drop_after:
                    self._write(chunk[: reply.drop_after - sent], reply.trickle, deadline)
                    self._drop()
                    return
                if not self._write(chunk, reply.trickle, deadline):
                    return
                sent += len(chunk)
            if length < 0 or reply.drop_after is not None:
                self._drop()

        def _write(self, data: bytes, trickle: float, deadline: float) -> bool:
            if not trickle:
                self.wfile.write(data)
                self.wfile.flush()
                with hostile._lock:
                    hostile.bytes_sent += len(data)
                return True
            for i in range(len(data)):
                if hostile._stopping.is_set() or time.monotonic() > deadline:
                    self._drop()
                    return False
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                with hostile._lock:
                    hostile.bytes_sent += 1
                hostile._stopping.wait(trickle)
            return True

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


# -- helpers for the tests that put a Hostile between yce and the sandbox -------------


def proxied_env(sandbox, hostile) -> dict[str, str]:
    env = sandbox.env()
    env.update(YCE_API_BASE=hostile.url, YCE_API_BASE_V2=hostile.url)
    return env


def yce_cli(sandbox, hostile, *args, timeout=60):
    """The result, and how long the run took on the sandbox's clock (the tests'
    virtual clock: yce's skipped waits count, tests/conftest.py)."""
    started = sandbox.clock.now()
    result = run_cli(*args, env=proxied_env(sandbox, hostile), timeout=timeout)
    return result, sandbox.clock.now() - started


def enhance(sandbox, hostile, out: Path, *extra: str, timeout=60):
    return yce_cli(
        sandbox,
        hostile,
        "enhance",
        str(SAMPLE),
        "--scale",
        "2",
        "-o",
        str(out),
        *extra,
        timeout=timeout,
    )


def task_id_in(text: str) -> str:
    return re.search(r"task (\S+) submitted", text)[1]


def parts_in(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def status_edit(hostile, edit, *, times=None, path=STATUS):
    """The first `times` (or every) successful status replies passed through `edit`."""
    left = [times]

    def respond(request):
        reply = hostile.forward(request)
        data = json.loads(reply.body)
        if data.get("result", {}).get("status") == "success" and left[0] != 0:
            left[0] = None if left[0] is None else left[0] - 1
            edited = edit(data)
            reply.body = json.dumps(data if edited is None else edited).encode()
        return reply

    hostile.on("GET", path + "?", respond)


def jpeg_bytes(size=(400, 300)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise(size, 64).convert("RGB").save(out, format="JPEG", quality=95)
    return out.getvalue()


def loopback_client(tmp_path, api_base: str, **profile) -> Client:
    paths = Paths(tmp_path / "cfg.yaml", tmp_path / "cache", tmp_path / "state")
    client = Client(Profile(api_base=api_base, api_base_v2=api_base, **profile), paths)
    client.sleep = lambda seconds: None
    return client
