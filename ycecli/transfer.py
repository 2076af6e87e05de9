"""Streaming uploads and atomic downloads, reporting progress through callbacks.

Uploads: ask the feature's file endpoint for a slot (v1.1 with `file_size`), then send
the bytes with exactly the returned method, URL and headers, with a known
Content-Length and never chunked (S3 presigned PUTs refuse chunked bodies), in 1 MiB
blocks straight from disk.

Downloads: stream in 1 MiB blocks into a hidden temporary file beside the target,
resume with Range after a dropped connection (checking that the server sent the
range asked for), follow a few redirects without any credential, check that the
first bytes are what the task promised (an error page is not an image) and the
size, then move it into place. No partial file survives any failure, a part file
left by a killed run is removed by the next run on the same output, and an existing
file is replaced only when the caller asks.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urljoin, urlsplit

from ycecli.client import (
    BLOCK_SIZE,
    ERROR_REPLY_CAP,
    Client,
    Exchange,
    MalformedReply,
    UnsafeUrl,
    network_errors,
    redact_url,
)
from ycecli.errors import ApiError, NetworkError, local_error
from ycecli.files import PartFile, refuse_existing, remove_stale_parts

if TYPE_CHECKING:
    import requests

Progress = Callable[[int, int | None], None]  # (bytes done, bytes total or None)

# S3 and CDNs redirect once, maybe twice; more is a loop or a server lost.
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
# Progress callbacks redraw a terminal: ten times a second is smooth enough, and a
# call per block would cost more than the copy on a fast link.
PROGRESS_INTERVAL = 0.1

# What each result kind of the registry must start with (003 results: JPEG or PNG
# images, WebP from some engines, MP4 videos, the skin-analysis ZIP).
KIND_NAMES = {
    "image": "a JPEG, PNG or WebP image",
    "video": "an MP4 video",
    "zip": "a ZIP archive",
    "json": "JSON",
}
HEAD_BYTES = 12  # enough for every signature below
# How much a download writes before its part is flushed to disk in the background.
EARLY_FLUSH_BYTES = 16 << 20


def result_matches(kind: str, head: bytes) -> bool:
    """Whether a file starting with `head` can be a result of `kind`."""
    if kind == "image":
        return head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (
            head[:4] == b"RIFF" and head[8:12] == b"WEBP"
        )
    if kind == "video":
        return head[4:8] == b"ftyp"
    if kind == "zip":
        return head.startswith(b"PK\x03\x04")
    if kind == "json":
        return head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] in (b"{", b"[")
    return True


def _describe_head(head: bytes) -> str:
    start = head.lstrip()[:1]
    if start == b"<":
        return "an HTML or XML page"
    if start in (b"{", b"["):
        return "JSON"
    return "the bytes " + head[:8].hex(" ")


@dataclass(frozen=True)
class UploadSlot:
    file_id: str
    url: str
    method: str
    headers: dict[str, str]


class FileBody:
    """A file as a request body: has a length (so requests sets Content-Length and
    never falls back to chunked encoding) and reports each block it hands out."""

    def __init__(
        self,
        fh: BinaryIO,
        size: int,
        on_progress: Progress | None,
        on_sent: Callable[[int], None] | None = None,
    ) -> None:
        self._fh = fh
        self._size = size
        self._done = 0
        self._on_progress = on_progress
        self._on_sent = on_sent

    def __len__(self) -> int:
        return self._size

    def read(self, n: int = -1) -> bytes:
        chunk = self._fh.read(n if n and n > 0 else BLOCK_SIZE)
        if chunk:
            self._done += len(chunk)
            if self._on_sent:
                self._on_sent(self._done)
            if self._on_progress:
                self._on_progress(self._done, self._size)
        return chunk


def create_upload_slots(
    client: Client,
    upload_path: str,
    files: list[tuple[str, str, int]],
    *,
    generation: str = "v1",
    hold: str | None = None,
) -> list[UploadSlot]:
    """Ask for one upload slot per (file_name, content_type, size). `hold`: the moment
    the shared budget reserved for this request."""
    body = {
        "files": [
            {"content_type": ctype, "file_name": name, "file_size": size}
            for name, ctype, size in files
        ]
    }
    reply = client.call("POST", upload_path, generation=generation, json_body=body, hold=hold)
    # v1 answers {status, result: {files}}; the v2 file API is undocumented and may
    # answer {data: {files}} (000/001).
    where = "result" if isinstance(reply.get("result"), dict) else "data"
    container = reply.get(where)
    if not isinstance(container, dict):
        raise MalformedReply(
            f"POST {upload_path}: the reply has neither a `result` nor a `data` object"
        )

    def bad(field: str, value: Any, wanted: str) -> MalformedReply:
        return MalformedReply.field(f"POST {upload_path}", field, value, wanted)

    entries = container.get("files")
    if not isinstance(entries, list):
        raise bad(f"{where}.files", entries, "an array")
    if len(entries) != len(files):
        raise MalformedReply(
            f"POST {upload_path}: the reply's `{where}.files` has {len(entries)} upload "
            f"slots for {len(files)} files"
        )
    slots = []
    for i, entry in enumerate(entries):
        at = f"{where}.files[{i}]"
        if not isinstance(entry, dict):
            raise bad(at, entry, "an object")
        file_id = entry.get("file_id")
        if not isinstance(file_id, str) or not file_id:
            raise bad(f"{at}.file_id", file_id or None, "a string")
        requests = entry.get("requests")
        if not isinstance(requests, list) or not requests:
            raise bad(f"{at}.requests", requests or None, "a non-empty array")
        request = requests[0]
        if not isinstance(request, dict):
            raise bad(f"{at}.requests[0]", request, "an object")
        url = request.get("url")
        if not isinstance(url, str) or not url:
            raise bad(f"{at}.requests[0].url", url or None, "a string")
        method = request.get("method") or "PUT"
        if not isinstance(method, str) or method.upper() not in ("PUT", "POST"):
            raise bad(f"{at}.requests[0].method", method, "PUT or POST")
        headers = request.get("headers") or {}
        if not isinstance(headers, dict):
            raise bad(f"{at}.requests[0].headers", headers, "an object")
        for key, value in headers.items():
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise bad(f"{at}.requests[0].headers.{key}", value, "a string")
            if key.lower() == "content-length" and not str(value).strip().isdigit():
                raise bad(f"{at}.requests[0].headers.{key}", value, "a byte count")
        slots.append(
            UploadSlot(
                file_id=file_id,
                url=url,
                method=method.upper(),
                headers={str(k): str(v) for k, v in headers.items()},
            )
        )
    return slots


def put_file(client: Client, slot: UploadSlot, path: Path, on_progress: Progress | None) -> None:
    """Send the bytes to a slot, retrying transient failures from the first byte."""
    size = os.stat(path).st_size
    declared = next((v for k, v in slot.headers.items() if k.lower() == "content-length"), None)
    if declared is not None and int(declared) != size:
        raise ApiError(
            f"upload of {path}: the server expects {declared} bytes but the file has {size}",
            hint="The file changed while yce was running; run the command again.",
        )
    attempt = 0
    while True:
        with open(path, "rb") as fh, client.exchange(transfer=True) as exchange:
            body = FileBody(fh, size, on_progress, exchange.moved)
            try:
                resp = client.storage(
                    slot.method,
                    slot.url,
                    exchange=exchange,
                    headers=slot.headers,
                    data=body,
                    from_reply=True,
                )
                with contextlib.closing(resp):
                    text, _ = client.read_capped(resp, exchange, ERROR_REPLY_CAP)
            except NetworkError as exc:
                if attempt + 1 >= client.retry.attempts:
                    raise NetworkError(f"upload of {path}: {exc.message}") from None
                why = f"upload failed ({exc.message}), retrying"
                client.wait(why, client.retry.backoff(attempt))
                attempt += 1
                continue
        if resp.status_code < 300:
            return
        if resp.status_code >= 500 and attempt + 1 < client.retry.attempts:
            client.wait(
                f"storage answered HTTP {resp.status_code}, retrying the upload",
                client.retry.backoff(attempt),
            )
            attempt += 1
            continue
        raise ApiError(
            f"upload of {path}: storage answered HTTP {resp.status_code}: "
            f"{text[:300].decode('utf-8', 'replace').strip()}",
            http_status=resp.status_code,
            hint="The upload URL may have expired; run the command again.",
        )


def download(
    client: Client,
    url: str,
    target: Path,
    *,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    kind: str | None = None,
    from_reply: bool = False,
) -> Path:
    """Fetch `url` into `target` atomically; returns the path written.

    `kind` ("image", "video", "zip", "json"): what the file must be; a body that
    does not start like one is refused before anything is kept. `from_reply`: the
    URL came from an API reply, so it, and every redirect, must point where the API
    itself may (Client.check_storage_url)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    refuse_existing(target, overwrite=overwrite)
    remove_stale_parts(target)
    part = PartFile(target)
    try:
        fd = part.fd
        assert fd is not None  # open from creation until published or discarded
        with _EarlyFlush(fd) as flush:
            _fetch_into(client, url, fd, on_progress, kind, from_reply, flush)
        os.fsync(fd)
        part.publish(target, overwrite=overwrite)
    except OSError as exc:
        # A full disk, a file-size limit, a quota: the documented local-fault error
        # naming the result's path, not a traceback.
        raise local_error(exc, target) from None
    finally:
        part.discard()
    return target


class _EarlyFlush:
    """Writes a download to disk while it is still arriving, so the fsync before
    the rename (a result must survive a power cut) only has the last blocks left:
    on loopback that fsync was a third of the download's time."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._asked = 0  # bytes written when a flush was last asked for
        self._wake = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name="yce-flush", daemon=True)
        self._thread.start()

    def wrote(self, done: int) -> None:
        if done < self._asked:  # the download started over
            self._asked = done
        elif done - self._asked >= EARLY_FLUSH_BYTES:
            self._asked = done
            self._wake.set()

    def _run(self) -> None:
        sync = getattr(os, "fdatasync", os.fsync)
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._done:
                return
            # An error here shows again in the final fsync, which reports it.
            with contextlib.suppress(OSError):
                sync(self._fd)

    def __enter__(self) -> _EarlyFlush:
        return self

    def __exit__(self, *exc: object) -> None:
        self._done = True
        self._wake.set()
        self._thread.join()


class _Throttled:
    def __init__(self, callback: Progress | None) -> None:
        self.callback = callback
        self.last = 0.0

    def __call__(self, done: int, total: int | None, *, final: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if final or now - self.last >= PROGRESS_INTERVAL:
            self.last = now
            self.callback(done, total)


def _content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """(first, last, size or None) of a `Content-Range: bytes first-last/size`."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", value or "")
    if not match:
        return None
    first, last = int(match[1]), int(match[2])
    size = None if match[3] == "*" else int(match[3])
    if last < first or (size is not None and last >= size):
        return None
    return first, last, size


def _restart(fd: int) -> int:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    return 0


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    if written < len(data):
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view) :]


def _fetch_into(
    client: Client,
    url: str,
    fd: int,
    on_progress: Progress | None,
    kind: str | None,
    from_reply: bool,
    flush: _EarlyFlush,
) -> None:
    progress = _Throttled(on_progress)
    done = 0  # bytes of the file on disk
    total: int | None = None
    head = b""  # the file's first HEAD_BYTES, for the kind check
    attempt = 0
    while True:
        headers = {"Accept-Encoding": "identity"}  # the bytes as stored, resumable
        if done:
            headers["Range"] = f"bytes={done}-"
        try:
            resp, exchange = _open(client, url, headers, from_reply)
        except NetworkError as exc:
            attempt = _next_attempt(client, attempt, f"download: {exc.message}")
            continue
        with exchange, contextlib.closing(resp):
            status = resp.status_code
            if status >= 500:
                attempt = _next_attempt(client, attempt, f"download: HTTP {status}")
                continue
            if status == 416 and done:
                # What we have no longer fits what the server has: start over.
                done, head = _restart(fd), b""
                attempt = _next_attempt(client, attempt, "download: the server refused to resume")
                continue
            if status >= 400 or status not in (200, 206):
                raise ApiError(
                    f"download failed: storage answered HTTP {status}",
                    http_status=status,
                    hint="Result URLs expire about 2 hours after the task finished (003:368); "
                    "use the result's dst_id (id:<dst_id>) as input to another task instead.",
                )
            if status == 206:
                span = _content_range(resp.headers.get("Content-Range"))
                if span is None or span[0] != done:
                    # Not the range asked for: appending it would corrupt the file.
                    done, head = _restart(fd), b""
                    if span is None or span[0] != 0:
                        attempt = _next_attempt(
                            client, attempt, "download: the server sent a range not asked for"
                        )
                        continue
                first, last, total = span
                expected: int | None = last - first + 1
            else:
                if done:  # the server ignored Range and sends the whole file again
                    done, head = _restart(fd), b""
                length = (resp.headers.get("Content-Length") or "").strip()
                expected = total = int(length) if length.isdigit() else None
            encoding = (resp.headers.get("Content-Encoding") or "identity").strip().lower()
            decode = encoding not in ("", "identity")
            if decode:
                # Sent encoded although we asked for identity: lengths and ranges
                # count encoded bytes, so neither checks nor resumes what we write.
                expected = total = None
            received = 0
            read = resp.raw.read
            try:
                while chunk := read(BLOCK_SIZE, decode_content=decode):
                    if done < HEAD_BYTES:
                        head += chunk[: HEAD_BYTES - done]
                        if kind and len(head) >= HEAD_BYTES:
                            _check_kind(kind, head, url, resp)
                    _write_all(fd, chunk)
                    done += len(chunk)
                    received += len(chunk)
                    exchange.moved(received)
                    flush.wrote(done)
                    progress(done, total)
            except network_errors() as exc:
                # Only network errors are retried; a local write error (disk full)
                # propagates, since retrying cannot help.
                if decode:
                    done, head = _restart(fd), b""
                why = client.network_error(exc, exchange).message
                attempt = _next_attempt(client, attempt, f"download: {why}")
                continue
        if (expected is not None and received != expected) or (total is not None and done != total):
            attempt = _next_attempt(client, attempt, f"download: got {done} of {total} bytes")
            continue
        break
    if done == 0:
        raise ApiError(f"the result at {redact_url(url)} is empty")
    if kind and len(head) < HEAD_BYTES:
        _check_kind(kind, head, url, resp)
    progress(done, total, final=True)


def _check_kind(kind: str, head: bytes, url: str, resp: requests.Response) -> None:
    if result_matches(kind, head):
        return
    ctype = resp.headers.get("Content-Type")
    raise ApiError(
        f"the result at {redact_url(url)} is not {KIND_NAMES.get(kind, kind)}: it starts "
        f"with {_describe_head(head)}" + (f" (Content-Type: {ctype})" if ctype else "")
    )


def _open(
    client: Client, url: str, headers: dict[str, str], from_reply: bool
) -> tuple[requests.Response, Exchange]:
    """GET `url`, following redirects (each hop checked like the first, with no
    credential); returns the response that is not a redirect and its exchange."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        exchange = client.exchange(transfer=True)
        try:
            resp = client.storage(
                "GET", current, exchange=exchange, headers=headers, from_reply=from_reply
            )
        except BaseException:
            exchange.finish()
            raise
        if resp.status_code not in REDIRECTS:
            return resp, exchange
        location = resp.headers.get("Location")
        resp.close()
        exchange.finish()
        if not location:
            raise ApiError(
                f"download of {redact_url(url)}: storage answered HTTP {resp.status_code}, "
                "a redirect, without saying where to"
            )
        following = urljoin(current, location)
        if urlsplit(current).scheme == "https" and urlsplit(following).scheme != "https":
            raise UnsafeUrl(
                f"download of {redact_url(url)}: refusing the redirect from https to "
                f"{redact_url(following)}"
            )
        current = following
    raise ApiError(
        f"download of {redact_url(url)}: more than {MAX_REDIRECTS} redirects "
        f"(the last to {redact_url(current)})"
    )


def _next_attempt(client: Client, attempt: int, why: str) -> int:
    if attempt + 1 >= client.retry.attempts:
        raise NetworkError(f"{why} (gave up after {attempt + 1} tries)")
    client.wait(f"{why}, retrying", client.retry.backoff(attempt))
    return attempt + 1
