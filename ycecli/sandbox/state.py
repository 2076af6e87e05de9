"""The sandbox's state and what each API call does to it: the account (client id,
RSA key, access tokens, API key), the unit ledger and its history, storage (upload
slots, stored files, signed URLs), tasks (run, de-duplicated by request_id, finished
by the clock, dropped when nobody polls in time, charged once), both rate limits,
injected faults and what tests read back (requests, polls, storage headers).

Each endpoint method (`h_*`) takes the parsed request and returns (status, JSON-able
reply) or raises SandboxError; ycecli.sandbox.handler routes requests to them. The
request checks they run are ycecli.sandbox.checks; a task's results come from
ycecli.sandbox.engines, after ycecli.sandbox.inputs has looked at its input files.
One re-entrant lock guards everything here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

from ycecli.features import HUNDRED_MB, Feature
from ycecli.sandbox.checks import (
    bearer_token,
    check_file_entry,
    check_files_body,
    check_run_body,
    check_upload_headers,
    check_vto_body,
    one_auth_mechanism,
    query_int,
    require_keys,
)
from ycecli.sandbox.engines import PRODUCERS
from ycecli.sandbox.inputs import check_task_inputs
from ycecli.sandbox.model import (
    Clock,
    EngineError,
    Fault,
    SandboxConfig,
    SandboxError,
    StoredFile,
    Task,
    as_output,
)
from ycecli.sandbox.styles import CATALOG, THUMB_BASE, StyleQueryError, thumbnail_jpeg

# The sandbox's own answer for an empty balance; the seeds document none.
OUT_OF_UNITS_CODE = "InsufficientCredit"
# A charge's `action` in the unit history, by slug, where 003's enum (003:665) names
# the feature; the others are "api_" and the slug.
ACTIONS = {
    "enhance": "api_photo_enhance",
    "sod": "api_background_removal",
    "obj-removal": "api_object_removal",
    "sod/blur-background": "blur_background",
    "sod/change-background": "change_background",
}
THUMB_PATH = "/storage/thumbs"  # where style thumbnails are served (no signature: public)


def _b64id(nbytes: int = 36) -> str:
    """Ids shaped like the API's: standard Base64, so they carry "+", "/" and "=".
    Every id gets at least one of each, so clients that fail to encode them fail
    in tests rather than in production."""
    raw = base64.b64encode(secrets.token_bytes(nbytes)).decode()
    return "+/" + raw[2:].rstrip("=") + "="


class SandboxState:
    """Everything the emulated service knows, and the API's operations on it."""

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
        self.host = host
        self.port = port
        self.config = config or SandboxConfig()
        self.clock = clock or Clock()
        self.client_id = client_id
        self.api_key = api_key or "sk-sandbox-" + secrets.token_urlsafe(18)
        self._private_key = _sandbox_key()
        self.client_secret = base64.b64encode(
            self._private_key.public_key().export_key(format="DER")
        ).decode()
        self._signing_key = secrets.token_bytes(32)
        self.lock = threading.RLock()
        self.storage_dir = Path(tempfile.mkdtemp(prefix="yce-sandbox-"))
        self.tokens: dict[str, tuple[str, float]] = {}
        self.files: dict[str, StoredFile] = {}
        self.slots: dict[str, tuple[str, float]] = {}  # key -> (file_id, expires)
        self.downloads: dict[str, str] = {}  # key -> file_id
        self.tasks: dict[str, Task] = {}
        self.dedup: dict[tuple, str] = {}
        self.units = self.config.initial_units
        self.history: list[dict] = []
        self.faults: list[Fault] = []
        self.ip_hits: dict[str, deque] = {}
        self.token_hits: dict[str, deque] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API request
        self.rate_limited = 0  # 429s answered for exceeding a limit
        self.engine_errors: deque[tuple[str, str]] = deque()
        self.upload_log: list[dict] = []  # headers of every storage PUT, for tests
        self.download_log: list[dict] = []  # headers of every storage GET, for tests
        self.polls: list[tuple[str, float]] = []  # (task_id, sandbox time) of every poll

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def discard_storage(self) -> None:
        """Delete every stored file (the sandbox is stopping)."""
        shutil.rmtree(self.storage_dir, ignore_errors=True)

    # -- test controls -----------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def fail_next_task(
        self, code: str = "error_no_face", message: str = "No face detected"
    ) -> None:
        self.engine_errors.append((code, message))

    def charges(self) -> list[dict]:
        """Every charge so far, newest last (history entries with a negative amount)."""
        with self.lock:
            self.sweep()
            return [h for h in self.history if h["info"]["credits"][0]["amount"] < 0]

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.count > 0 and fault.matches(method, path):
                    fault.count -= 1
                    return fault
        return None

    def snapshot(self) -> dict:
        """The numbers `GET /_sandbox/state` reports."""
        with self.lock:
            self.sweep()
            return {
                "units": self.units,
                "charges": len(self.charges()),
                "rate_limited": self.rate_limited,
                "tasks": {t.task_id: t.state for t in self.tasks.values()},
            }

    # -- signing -------------------------------------------------------------------

    def _sign(self, kind: str, key: str, expires: float) -> str:
        msg = f"{kind}\0{key}\0{int(expires)}".encode()
        return hmac.new(self._signing_key, msg, hashlib.sha256).hexdigest()

    def _signed_url(self, kind: str, key: str, ttl: float) -> str:
        expires = int(self.clock.now() + ttl)
        sig = self._sign(kind, key, expires)
        return (
            f"{self.url}/storage/{kind}/{key}?X-Amz-Expires={int(ttl)}"
            f"&X-Amz-Date={expires}&X-Amz-Signature={sig}"
        )

    def _check_signature(self, kind: str, key: str, query: dict) -> None:
        try:
            expires = int(query["X-Amz-Date"][0])
            sig = query["X-Amz-Signature"][0]
        except (KeyError, ValueError, IndexError):
            raise SandboxError(
                403, "Query-string authentication requires a signature", "AccessDenied"
            ) from None
        if not hmac.compare_digest(sig, self._sign(kind, key, expires)):
            raise SandboxError(403, "The request signature does not match", "SignatureDoesNotMatch")
        if self.clock.now() > expires:
            raise SandboxError(403, "Request has expired", "AccessDenied")

    # -- every API request -------------------------------------------------------------

    def authenticate(self, headers, generation: str = "v1") -> str:
        """The request's valid token: an access token (v1) or the API key (v2)."""
        token = bearer_token(headers)
        if generation == "v2":
            # v2 takes the API key itself as the Bearer token (000:182, 001:169).
            if not hmac.compare_digest(token, self.api_key):
                raise SandboxError(401, "Invalid API key", "InvalidApiKey")
            return token
        with self.lock:
            entry = self.tokens.get(token)
        if entry is None or self.clock.now() >= entry[1]:
            raise SandboxError(401, "Invalid access token", "InvalidAccessToken")
        return token

    def rate_limit(self, ip: str, token: str | None) -> None:
        """Count the request against the per-IP and per-token windows, or refuse it."""
        now = self.clock.now()
        cfg = self.config
        with self.lock:
            windows = [
                (self.ip_hits.setdefault(ip, deque()), cfg.rate_limit_ip, cfg.rate_limit_ip_window)
            ]
            if token:
                windows.append(
                    (
                        self.token_hits.setdefault(token, deque()),
                        cfg.rate_limit_token,
                        cfg.rate_limit_token_window,
                    )
                )
            waits = []
            for hits, limit, window in windows:
                while hits and hits[0] <= now - window:
                    hits.popleft()
                if len(hits) >= limit:
                    waits.append(hits[0] + window - now)
            if waits:
                self.rate_limited += 1
                headers = {}
                if cfg.send_retry_after:
                    headers["Retry-After"] = str(max(1, int(max(waits) + 0.999)))
                raise SandboxError(429, "Too many requests", "TooManyRequests", headers)
            for hits, _, _ in windows:
                hits.append(now)

    def record_request(self, method: str, path: str) -> None:
        with self.lock:
            self.requests.append((method, path))

    # -- styles -----------------------------------------------------------------------

    def h_styles(self, what: tuple[str, str], *, query, **_):
        slug, listing = what
        try:
            reply = getattr(CATALOG, listing)(slug, query)
        except StyleQueryError as exc:
            raise SandboxError(400, exc.message, "InvalidParameters") from None
        # Thumbnails are served by this sandbox's storage, so style sheets work offline.
        return 200, json.loads(json.dumps(reply).replace(THUMB_BASE, f"{self.url}{THUMB_PATH}"))

    def thumbnail(self, path: str, headers) -> bytes:
        one_auth_mechanism(headers)
        data = thumbnail_jpeg(THUMB_BASE + path[len(THUMB_PATH) :])
        if data is None:
            raise SandboxError(404, "The specified key does not exist.", "NoSuchKey")
        return data

    # -- auth and units ------------------------------------------------------------------

    def h_auth(self, *, body, **_):
        require_keys(body, required={"client_id", "id_token"}, allowed={"client_id", "id_token"})
        from Crypto.Cipher import PKCS1_v1_5

        client_id = body["client_id"]
        if client_id != self.client_id:
            raise SandboxError(401, "Authentication failed: unknown client_id", "InvalidClient")
        try:
            ciphertext = base64.b64decode(body["id_token"], validate=True)
            plaintext = PKCS1_v1_5.new(self._private_key).decrypt(ciphertext, None)
        except (ValueError, TypeError):
            plaintext = None
        if not plaintext:
            raise SandboxError(
                401, "Authentication failed: id_token does not decrypt", "InvalidIdToken"
            )
        match = re.fullmatch(rb"client_id=(.+)&timestamp=(\d{13})", plaintext)
        if not match or match.group(1).decode(errors="replace") != client_id:
            raise SandboxError(
                401, "Authentication failed: id_token plaintext is malformed", "InvalidIdToken"
            )
        stamp = int(match.group(2)) / 1000.0
        if abs(stamp - self.clock.now()) > self.config.timestamp_skew:
            raise SandboxError(
                401, "Authentication failed: id_token timestamp is stale", "InvalidIdToken"
            )
        token = base64.b64encode(secrets.token_bytes(30)).decode() + "." + _b64id(18)
        with self.lock:
            self.tokens[token] = (client_id, self.clock.now() + self.config.token_ttl)
        return 200, {"status": 200, "result": {"access_token": token}}

    def h_credit(self, **_):
        with self.lock:
            self.sweep()
            amount = self.units
        expiry = int((self.clock.now() + 365 * 86400) * 1000)
        lots = [{"id": 13105541279084536, "type": "PaygToken", "amount": amount, "expiry": expiry}]
        return 200, {"status": 200, "results": lots}

    def h_credit_history(self, *, query, **_):
        page_size = query_int(query, "page_size", default=20, low=1, high=30)
        start = (query.get("starting_token") or [None])[0]
        with self.lock:
            self.sweep()
            items = list(reversed(self.history))  # newest first
        index = 0
        if start not in (None, "", "null"):
            ids = [str(h["id"]) for h in items]
            if start not in ids:
                raise SandboxError(400, f"Invalid starting_token {start}", "InvalidParameters")
            index = ids.index(start)
        page = items[index : index + page_size]
        more = items[index + page_size : index + page_size + 1]
        # 003's sample gives next_token as a JSON number although the schema says string.
        next_token = more[0]["id"] if more else None
        return 200, {"status": 200, "result": {"next_token": next_token, "history": page}}

    def price(self, feature: Feature) -> int:
        return self.config.unit_prices.get(feature.command, feature.sandbox_units)

    def _charge(self, task: Task) -> None:
        """Call with the lock held."""
        if task.charged:
            return
        cost = self.price(task.feature)
        task.charged = True
        self.units -= cost
        action = ACTIONS.get(
            task.feature.slug, "api_" + task.feature.slug.replace("-", "_").replace("/", "_")
        )
        info: dict[str, Any] = {"credits": [{"id": 13105541279084536, "amount": -cost}]}
        actions = (task.body.get("payload") or {}).get("actions") or [{}]
        if task.feature.slug == "skin-analysis" and actions[0].get("dst_actions"):
            info["dst_actions"] = list(actions[0]["dst_actions"])  # 003:665
        self.history.append(
            {
                "id": 38173479337460984 + len(self.history) * 7919,
                "timestamp": int(self.clock.now() * 1000),
                "action": action,
                "target_id": task.task_id,
                "info": info,
            }
        )

    # -- files --------------------------------------------------------------------------

    def h_file_create(self, feature: Feature, *, body, token, **_):
        out = []
        for entry in check_files_body(body):
            ctype, name, size = check_file_entry(feature, entry)
            file_id = _b64id()
            key = secrets.token_hex(16)
            with self.lock:
                self.files[file_id] = StoredFile(file_id, ctype, size, owner=token)
                self.slots[key] = (file_id, self.clock.now() + self.config.upload_url_ttl)
            out.append(
                {
                    "content_type": ctype,
                    "file_name": name,
                    "file_id": file_id,
                    "requests": [
                        {
                            "headers": {"Content-Type": ctype, "Content-Length": size},
                            "url": self._signed_url("upload", key, self.config.upload_url_ttl),
                            "method": "PUT",
                        }
                    ],
                }
            )
        if feature.generation == "v2":
            # The v2 file API is undocumented (CATALOG 3.4); replies are {data: ...}.
            return 200, {"status": 200, "data": {"files": out}}
        return 200, {"status": 200, "result": {"files": out}}

    def store_upload(self, key: str, query: dict, headers, rfile) -> None:
        """A presigned PUT, as strict as S3 is about it."""
        with self.lock:
            self.upload_log.append(dict(headers.items()))
        one_auth_mechanism(headers)
        self._check_signature("upload", key, query)
        with self.lock:
            slot = self.slots.get(key)
        if slot is None:
            raise SandboxError(404, "The specified upload does not exist", "NoSuchUpload")
        file_id, _ = slot
        stored = self.files[file_id]
        check_upload_headers(headers, stored)
        path = self.storage_dir / f"up-{key}"
        remaining = stored.declared_size
        with open(path, "wb") as out:
            while remaining:
                chunk = rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    raise ConnectionError("client closed the connection mid-upload")
                out.write(chunk)
                remaining -= len(chunk)
        with self.lock:
            stored.path = path

    def download_target(self, key: str, query: dict, headers) -> tuple[Path, str]:
        """A presigned GET: the URL's signature is its only credential."""
        with self.lock:
            self.download_log.append(dict(headers.items()))
        one_auth_mechanism(headers)
        self._check_signature("files", key, query)
        with self.lock:
            file_id = self.downloads.get(key)
            stored = self.files.get(file_id) if file_id else None
        if stored is None or stored.path is None:
            raise SandboxError(404, "The specified key does not exist.", "NoSuchKey")
        return stored.path, stored.content_type

    # -- benchmark helpers: storage URLs of any size, outside the API's limits ----

    def bench_slot(self, size: int) -> dict:
        """A presigned upload slot for `size` bytes of application/octet-stream."""
        file_id, key = _b64id(), secrets.token_hex(16)
        with self.lock:
            self.files[file_id] = StoredFile(file_id, "application/octet-stream", size)
            self.slots[key] = (file_id, self.clock.now() + self.config.upload_url_ttl)
        return {
            "file_id": file_id,
            "url": self._signed_url("upload", key, self.config.upload_url_ttl),
            "headers": {"Content-Type": "application/octet-stream", "Content-Length": size},
        }

    def bench_blob(self, size: int) -> dict:
        """A stored file of `size` random bytes and its presigned download URL."""
        file_id, key = _b64id(), secrets.token_hex(16)
        path = self.storage_dir / f"blob-{key}"
        with open(path, "wb") as out:
            remaining = size
            while remaining:
                chunk = os.urandom(min(remaining, 1 << 20))
                out.write(chunk)
                remaining -= len(chunk)
        with self.lock:
            self.files[file_id] = StoredFile(file_id, "application/octet-stream", size, path=path)
            self.downloads[key] = file_id
        return {"file_id": file_id, "url": self._signed_url("files", key, 7200)}

    # -- tasks ------------------------------------------------------------------------

    def h_task_run(self, feature: Feature, *, body, token, **_):
        client_id = self.tokens[token][0]
        check_run_body(feature, body, known_file=lambda fid: fid in self.files)
        request_id = body["request_id"]
        key: tuple = (client_id, request_id)
        if self.config.request_id_scope == "file":
            file_sets = body["payload"].get("file_sets") or {}
            first = next((ids[0] for ids in file_sets.values() if ids), None)
            key = (client_id, request_id, first)
        with self.lock:
            self.sweep()
            existing = self.dedup.get(key)
            if existing is not None:
                # "Requests with the same request_id will be ignored" (003:1.6): no new
                # task and no new charge; the caller learns the task it already has.
                return 200, {"status": 200, "result": {"task_id": existing}}
            if self.units < self.price(feature):
                raise SandboxError(400, "Insufficient units for this task", OUT_OF_UNITS_CODE)
            now = self.clock.now()
            task = Task(
                task_id=_b64id(),
                feature=feature,
                client_id=client_id,
                request_id=request_id,
                created=now,
                ready_at=now + self.config.task_seconds,
                last_poll=now,
                body=body,
            )
            if self.engine_errors:
                task.forced_error = self.engine_errors.popleft()
            self.tasks[task.task_id] = task
            self.dedup[key] = task.task_id
        return 200, {"status": 200, "result": {"task_id": task.task_id}}

    def sweep(self) -> None:
        """Bring every task up to the clock. Call with the lock held."""
        now = self.clock.now()
        for task in self.tasks.values():
            self._advance(task, now)

    def _advance(self, task: Task, now: float) -> None:
        """Finish a task whose time has come, and drop one nobody polled in time."""
        if task.delivered or task.state in ("error", "dropped"):
            return
        deadline = task.last_poll + self.config.polling_window
        if task.state == "running" and task.ready_at <= min(now, deadline):
            self._complete(task)
        if now > deadline and not task.delivered:
            task.state = "dropped"

    def _complete(self, task: Task) -> None:
        """The engine finishes: produce results or an engine error. Lock held."""
        if task.forced_error:
            task.state = "error"
            task.error, task.error_message = task.forced_error
            return
        root = task.body if task.feature.body_style == "vto" else task.body["payload"]
        try:
            inputs = self._task_inputs(task)
            check_task_inputs(task.feature, root, inputs)
        except EngineError as exc:
            task.state = "error"
            task.error, task.error_message = exc.code, exc.message
            return
        params = dict(_collect_params(task.feature, root))
        try:
            produced = PRODUCERS[task.feature.sandbox_result](inputs, params)
            produced = [as_output(item) for item in produced]
        except EngineError as exc:
            task.state = "error"
            task.error, task.error_message = exc.code, exc.message
            return
        data = []
        for out in produced:
            entry: dict[str, Any] = {}
            if out.data is not None:
                file_id = _b64id()
                key = secrets.token_hex(16)
                suffix = {
                    "image/png": ".png",
                    "image/jpeg": ".jpg",
                    "video/mp4": ".mp4",
                    "application/zip": ".zip",
                }.get(out.content_type, "")
                path = self.storage_dir / f"res-{key}{suffix}"
                path.write_bytes(out.data)
                self.files[file_id] = StoredFile(
                    file_id, out.content_type, len(out.data), path=path
                )
                name = f"{key}{suffix}"
                self.downloads[name] = file_id
                if out.dst_id:
                    entry["dst_id"] = file_id
                entry["url"] = self._signed_url("files", name, self.config.download_url_ttl)
            entry.update(out.fields)
            data.append(entry)
        if task.feature.generation == "v2":
            task.results = data  # the v2 poll reply is undocumented; a flat list here
        else:
            task.results = [{"id": task.body["payload"]["actions"][0]["id"], "data": data}]
        task.state = "success"
        if self.config.charge_dropped:
            # The engine finished: under the quick start's reading (003:354) the units
            # are gone now, whether or not the client ever polls again.
            self._charge(task)

    def _task_inputs(self, task: Task) -> dict[str, list[tuple[bytes, str]]]:
        """The bytes of every input file of a task, by input name. Lock held."""
        inputs: dict[str, list[tuple[bytes, str]]] = {}
        for spec in task.feature.inputs:
            if task.feature.body_style == "vto":
                value = task.body.get(spec.field)
                ids = [value] if isinstance(value, str) else list(value or [])
                ids += task.fetched.get(spec.name, [])
            else:
                ids = task.body["payload"].get("file_sets", {}).get(spec.field) or []
            blobs = []
            for fid in ids:
                stored = self.files.get(fid)
                if stored is None or stored.path is None:
                    raise EngineError(spec.rules.codes.download, f"file {fid} was never uploaded")
                blobs.append((stored.path.read_bytes(), stored.content_type))
            inputs[spec.name] = blobs
        return inputs

    # -- v2 try-on ----------------------------------------------------------------------

    def v2_task_path(self, feature: Feature) -> str:
        """Where a v2 feature's tasks are run (the ring's path is configurable)."""
        if feature.task_path_setting == "ring_task_path":
            return self.config.ring_task_path
        return feature.task_url_path

    def h_vto_run(self, feature: Feature, *, body, token, **_):
        check_vto_body(feature, body, known_file=lambda fid: fid in self.files)
        # The engine fetches URL inputs itself; done here, outside the lock, because a
        # URL may point back at this very server.
        fetched: dict[str, list[str]] = {}
        fetch_error = None
        for spec in feature.inputs:
            value = body.get(spec.url_field) if spec.url_field else None
            for url in [value] if isinstance(value, str) else list(value or []):
                try:
                    fetched.setdefault(spec.name, []).append(self._fetch_url(url))
                except (OSError, ValueError) as exc:
                    fetch_error = ("INPUT_ERROR", f"cannot download {url}: {exc}")
        with self.lock:
            self.sweep()
            if self.units < self.price(feature):
                raise SandboxError(400, "Insufficient units for this task", OUT_OF_UNITS_CODE)
            now = self.clock.now()
            task = Task(
                task_id=_b64id(),
                feature=feature,
                client_id=token,
                request_id=-1,
                created=now,
                ready_at=now + self.config.task_seconds,
                last_poll=now,
                body=body,
                fetched=fetched,
            )
            if self.engine_errors:
                task.forced_error = self.engine_errors.popleft()
            elif fetch_error:
                task.forced_error = fetch_error
            self.tasks[task.task_id] = task
        # 002's documented reply: {"data": {"task_id", "status", "results"}}.
        reply = {"task_id": task.task_id, "status": "running", "results": []}
        return 200, {"data": reply}

    def _fetch_url(self, url: str) -> str:
        """Download a public URL input into storage; returns its new file id."""
        if not url.startswith(("http://", "https://")):
            raise ValueError("not an http(s) URL")
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (sandbox only)
            data = resp.read(HUNDRED_MB + 1)
        if len(data) > HUNDRED_MB:
            raise ValueError("too large")
        ctype = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        file_id = _b64id()
        path = self.storage_dir / f"url-{secrets.token_hex(8)}"
        path.write_bytes(data)
        with self.lock:
            self.files[file_id] = StoredFile(file_id, ctype, len(data), path=path)
        return file_id

    def h_vto_status(self, feature: Feature, *, query, **_):
        status, reply = self.h_task_status(feature, query=query)
        result = reply["result"]
        data = {
            "task_id": query["task_id"][0],
            "results": result["results"],
            "error": result["error"],
            "error_message": result["error_message"],
            "polling_interval": result["polling_interval"],
        }
        status_field = self.config.v2_status_field
        if status_field in ("task_status", "both"):
            data["task_status"] = result["status"]
        if status_field in ("status", "both"):
            data["status"] = result["status"]
        return status, {"data": data}

    def h_task_status(self, feature: Feature, *, query, **_):
        task_ids = query.get("task_id") or []
        if len(task_ids) != 1 or not task_ids[0]:
            raise SandboxError(400, "task_id is required", "InvalidParameters")
        task_id = task_ids[0]
        now = self.clock.now()
        with self.lock:
            self.polls.append((task_id, now))
            task = self.tasks.get(task_id)
            if task is None or task.feature is not feature:
                raise SandboxError(400, "Invalid task id", "InvalidTaskId")
            self._advance(task, now)
            if task.state == "dropped":
                raise SandboxError(400, "Invalid task id", "InvalidTaskId")
            task.last_poll = now
            if task.state in ("success", "error"):
                task.delivered = True
                if task.state == "success":
                    self._charge(task)
            result = {
                "polling_interval": self.config.polling_interval_ms,
                "status": task.state,
                "error": task.error,
                "error_message": task.error_message or "",
                "results": task.results if task.state == "success" else [],
            }
        return 200, {"status": 200, "result": result}


def _collect_params(feature: Feature, payload: dict):
    for p in feature.params:
        node: Any = payload
        try:
            for step in (*p.path, p.name):
                node = node[step]
        except (KeyError, IndexError, TypeError):
            continue
        yield p.name, node


_KEY_CACHE: list = []
_KEY_LOCK = threading.Lock()


def _sandbox_key():
    """One RSA key per process: generating it takes a fraction of a second."""
    with _KEY_LOCK:
        if not _KEY_CACHE:
            from Crypto.PublicKey import RSA

            _KEY_CACHE.append(RSA.generate(2048))
        return _KEY_CACHE[0]
