"""The sandbox over HTTP: which endpoint answers which request (Router, built from
the registry), and the request handler that reads requests off the socket and writes
replies: injected faults, presigned storage uploads and downloads (with Range and a
truncating fault), style thumbnails, the benchmark helpers under /_sandbox/, and the
API's JSON endpoints, whose work is done by ycecli.sandbox.state. A SandboxError
becomes the API's JSON error body, or S3's XML one on storage paths.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ycecli.features import FEATURES, Feature
from ycecli.sandbox.checks import json_body
from ycecli.sandbox.model import SandboxError
from ycecli.sandbox.state import THUMB_PATH, SandboxState


def bind(endpoint: Callable, arg: Any) -> Callable:
    """`endpoint` with its first argument (a feature, or a style listing) given."""

    def bound(**kwargs):
        return endpoint(arg, **kwargs)

    return bound


class Router:
    """The API's endpoints by (method, path): the account's, and each feature's upload,
    run, status and style-list endpoints as the registry declares them. Tests may add
    a route to `routes`."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.routes: dict[tuple[str, str], Callable] = {
            ("POST", "/s2s/v1.0/client/auth"): state.h_auth,
            ("GET", "/s2s/v1.0/client/credit"): state.h_credit,
            ("GET", "/s2s/v1.0/client/credit/history"): state.h_credit_history,
        }
        self.status_prefixes: list[tuple[str, Feature]] = []
        for feature in FEATURES:
            if feature.inputs:  # text-to-image has no upload endpoint (003:9620)
                self.routes[("POST", feature.upload_url_path)] = bind(state.h_file_create, feature)
            if feature.generation == "v1":
                self.routes[("POST", feature.task_url_path)] = bind(state.h_task_run, feature)
                self.routes[("GET", feature.task_url_path)] = bind(state.h_task_status, feature)
            else:
                path = state.v2_task_path(feature)
                self.routes[("POST", path)] = bind(state.h_vto_run, feature)
                self.status_prefixes.append((path + "/", feature))
            if feature.styles:
                for path, listing in (
                    (f"/s2s/v1.0/task/style-group/{feature.slug}", "groups"),
                    (f"/s2s/v1.0/task/style/{feature.slug}", "styles"),
                    (f"/s2s/v1.1/task/style/{feature.slug}", "by_category"),
                ):
                    self.routes[("GET", path)] = bind(state.h_styles, (feature.slug, listing))

    def find(self, method: str, path: str):
        """The endpoint for a request, and the task id segment of a v2 status path."""
        route = self.routes.get((method, path))
        if route is not None:
            return route, None
        if method == "GET":
            for prefix, feature in self.status_prefixes:
                if path.startswith(prefix):
                    return bind(self.state.h_vto_status, feature), path[len(prefix) :]
        return None, None

    def handle_api(self, method: str, path: str, query: dict, headers, body: bytes, ip: str):
        """Authenticate, rate-limit and parse one API request, then answer it: returns
        (status, JSON-able reply)."""
        route, task_segment = self.find(method, path)
        if route is None:
            known_path = any(p == path for _, p in self.routes)
            if known_path:
                raise SandboxError(405, f"{method} is not allowed on {path}", "MethodNotAllowed")
            raise SandboxError(404, f"No such endpoint: {path}", "NotFound")
        token = None
        if path != "/s2s/v1.0/client/auth":
            generation = "v2" if path.startswith("/s2s/v2.0/") else "v1"
            token = self.state.authenticate(headers, generation)
        self.state.rate_limit(ip, token)
        self.state.record_request(method, path)
        parsed = json_body(headers, body) if method == "POST" else None
        if task_segment is not None:
            query = {**query, "task_id": [unquote(task_segment)]} if "/" not in task_segment else {}
        return route(query=query, body=parsed, token=token)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def make_handler(state: SandboxState, router: Router) -> type[BaseHTTPRequestHandler]:
    """The request handler class serving `state` through `router`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "yce-sandbox"
        # Headers and body go out in separate writes; with Nagle's algorithm the body
        # waits for the client's delayed ACK, 40 ms a reply on loopback.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            if os.environ.get("YCE_SANDBOX_LOG"):
                super().log_message(format, *args)

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            query = parse_qs(parts.query, keep_blank_values=True)
            fault = state.take_fault(method, path)
            self._consumed = False  # has this request's body been read?
            try:
                if fault is not None and fault.kind == "drop":
                    self._drop()
                    return
                if fault is not None and fault.kind == "delay":
                    time.sleep(fault.delay)
                if fault is not None and fault.kind == "status":
                    extra = {}
                    if fault.retry_after is not None:
                        extra["Retry-After"] = str(int(fault.retry_after))
                    raise SandboxError(fault.status, "Injected fault", "InjectedFault", extra)
                if path.startswith("/storage/upload/"):
                    state.store_upload(path.rsplit("/", 1)[1], query, self.headers, self.rfile)
                    self._consumed = True
                    if fault is not None and fault.kind == "drop_response":
                        self._drop()
                        return
                    self._send(200, b"", "application/xml", {"ETag": '"sandbox"'})
                    return
                if path.startswith(THUMB_PATH) and method == "GET":
                    self._send(200, state.thumbnail(path, self.headers), "image/jpeg")
                    return
                if path.startswith("/storage/files/"):
                    target, ctype = state.download_target(
                        path.rsplit("/", 1)[1], query, self.headers
                    )
                    self._send_file(
                        target, ctype, truncate=fault is not None and fault.kind == "truncate"
                    )
                    return
                if path == "/_sandbox/state" and method == "GET":
                    self._send_json(200, state.snapshot())
                    return
                if path in ("/_sandbox/slot", "/_sandbox/blob") and method == "POST":
                    size = int(json.loads(self._read_body() or b"{}").get("size", 0))
                    make = state.bench_slot if path.endswith("slot") else state.bench_blob
                    self._send_json(200, make(size))
                    return
                body = self._read_body()
                status, reply = router.handle_api(
                    method, path, query, self.headers, body, self.client_address[0]
                )
                if fault is not None and fault.kind == "drop_response":
                    self._drop()
                    return
                self._send_json(status, reply)
            except SandboxError as exc:
                self._discard_body()
                if path.startswith("/storage/"):
                    self._send_s3_error(exc)
                else:
                    self._send_json(
                        exc.status,
                        {"status": exc.status, "error": exc.error, "error_code": exc.error_code},
                        exc.headers,
                    )
            except (TimeoutError, ConnectionError):
                self.close_connection = True

        def _read_body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                raise SandboxError(
                    400, "Chunked request bodies are not supported", "InvalidParameters"
                )
            length = int(self.headers.get("Content-Length") or 0)
            self._consumed = True
            return self.rfile.read(length) if length else b""

        def _discard_body(self) -> None:
            if self._consumed:
                return
            self._consumed = True
            length = self.headers.get("Content-Length")
            if length and length.isdigit():
                remaining = int(length)
                while remaining:
                    chunk = self.rfile.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    remaining -= len(chunk)
            elif self.headers.get("Transfer-Encoding"):
                # A chunked body we will not parse: the connection cannot be reused.
                self.close_connection = True

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _send(self, status: int, data: bytes, ctype: str, headers: dict | None = None):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _send_json(self, status: int, obj: Any, headers: dict | None = None) -> None:
            self._send(status, json.dumps(obj).encode(), "application/json", headers)

        def _send_s3_error(self, exc: SandboxError) -> None:
            xml = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{exc.error_code}</Code>'
                f"<Message>{exc.error}</Message></Error>"
            ).encode()
            self._send(exc.status, xml, "application/xml")

        def _send_file(self, path: Path, ctype: str, *, truncate: bool) -> None:
            size = path.stat().st_size
            start, end = 0, size - 1
            status = 200
            rng = self.headers.get("Range")
            if rng:
                match = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
                if not match or int(match.group(1)) >= size:
                    self._send(416, b"", "application/xml", {"Content-Range": f"bytes */{size}"})
                    return
                start = int(match.group(1))
                end = min(size - 1, int(match.group(2))) if match.group(2) else size - 1
                status = 206
            count = end - start + 1
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(count))
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            self.wfile.flush()
            with open(path, "rb") as fh:
                if truncate:
                    fh.seek(start)
                    self.wfile.write(fh.read(count // 2))
                    self.wfile.flush()
                    self._drop()
                    return
                self.connection.sendfile(fh, offset=start, count=count)

    return Handler
