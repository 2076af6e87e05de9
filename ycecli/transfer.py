"""Streaming uploads and atomic downloads, reporting progress through callbacks.

Uploads: ask the feature's file endpoint for a slot (v1.1 with `file_size`), then send
the bytes with exactly the returned method, URL and headers, with a known
Content-Length and never chunked (S3 presigned PUTs refuse chunked bodies), in 1 MiB
blocks straight from disk.

Downloads: stream in 1 MiB chunks into a hidden temporary file beside the target,
resume with Range after a dropped connection, check the size, then move it into
place. No partial file survives any failure, and an existing file is replaced only
when the caller asks.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ycecli.client import BLOCK_SIZE, Client
from ycecli.errors import ApiError, NetworkError, OutputExists, local_error

Progress = Callable[[int, int | None], None]  # (bytes done, bytes total or None)


@dataclass(frozen=True)
class UploadSlot:
    file_id: str
    url: str
    method: str
    headers: dict[str, str]


class FileBody:
    """A file as a request body: has a length (so requests sets Content-Length and
    never falls back to chunked encoding) and reports each block it hands out."""

    def __init__(self, fh: BinaryIO, size: int, on_progress: Progress | None) -> None:
        self._fh = fh
        self._size = size
        self._done = 0
        self._on_progress = on_progress

    def __len__(self) -> int:
        return self._size

    def read(self, n: int = -1) -> bytes:
        chunk = self._fh.read(n if n and n > 0 else BLOCK_SIZE)
        if chunk:
            self._done += len(chunk)
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
    container = reply.get("result") or reply.get("data") or {}
    entries = container.get("files") if isinstance(container, dict) else None
    if not isinstance(entries, list) or len(entries) != len(files):
        raise ApiError(f"POST {upload_path}: the reply has no upload slot for each file")
    slots = []
    for entry in entries:
        try:
            request = entry["requests"][0]
            slots.append(
                UploadSlot(
                    file_id=str(entry["file_id"]),
                    url=str(request["url"]),
                    method=str(request.get("method") or "PUT").upper(),
                    headers={str(k): str(v) for k, v in (request.get("headers") or {}).items()},
                )
            )
        except (KeyError, IndexError, TypeError):
            raise ApiError(
                f"POST {upload_path}: an upload slot is missing its url or file_id"
            ) from None
    return slots


def put_file(client: Client, slot: UploadSlot, path: Path, on_progress: Progress | None) -> None:
    """Send the bytes to a slot, retrying transient failures from the first byte."""
    size = os.stat(path).st_size
    declared = slot.headers.get("Content-Length") or slot.headers.get("content-length")
    if declared is not None and int(declared) != size:
        raise ApiError(
            f"upload of {path}: the server expects {declared} bytes but the file has {size}",
            hint="The file changed while yce was running; run the command again.",
        )
    attempt = 0
    while True:
        with open(path, "rb") as fh:
            body = FileBody(fh, size, on_progress)
            try:
                resp = client.storage(slot.method, slot.url, headers=slot.headers, data=body)
            except NetworkError as exc:
                if attempt + 1 >= client.retry.attempts:
                    raise NetworkError(f"upload of {path}: {exc.message}") from None
                client.sleep(client.retry.backoff(attempt))
                attempt += 1
                continue
        if resp.status_code < 300:
            return
        if resp.status_code >= 500 and attempt + 1 < client.retry.attempts:
            client.sleep(client.retry.backoff(attempt))
            attempt += 1
            continue
        raise ApiError(
            f"upload of {path}: storage answered HTTP {resp.status_code}: "
            f"{resp.text[:300].strip()}",
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
) -> Path:
    """Fetch `url` into `target` atomically; returns the path written."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not overwrite:
        raise OutputExists(
            f"{target} already exists", hint="Pass --overwrite to replace it, or choose -o."
        )
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _fetch_into(client, url, out, on_progress)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        place_file(tmp, target, overwrite=overwrite)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise local_error(exc, target) from None
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fetch_into(client: Client, url: str, out: BinaryIO, on_progress: Progress | None) -> None:
    import requests
    import urllib3

    done = 0
    total: int | None = None
    attempt = 0
    while True:
        headers = {"Range": f"bytes={done}-"} if done else {}
        try:
            resp = client.storage("GET", url, headers=headers, stream=True)
        except NetworkError as exc:
            attempt = _next_attempt(client, attempt, f"download: {exc.message}")
            continue
        with contextlib.closing(resp):
            if resp.status_code >= 500:
                attempt = _next_attempt(client, attempt, f"download: HTTP {resp.status_code}")
                continue
            if resp.status_code >= 400:
                raise ApiError(
                    f"download failed: storage answered HTTP {resp.status_code}",
                    http_status=resp.status_code,
                    hint="Result URLs expire about 2 hours after the task finished (003:368); "
                    "use the result's dst_id (id:<dst_id>) as input to another task instead.",
                )
            if done and resp.status_code != 206:
                # The server ignored Range: start over rather than append a second copy.
                out.seek(0)
                out.truncate()
                done = 0
            length = resp.headers.get("Content-Length")
            if length is not None and length.isdigit():
                total = done + int(length)
            try:
                # Reading the raw stream in large blocks runs at ~2x iter_content's
                # speed on loopback (iter_content adds a generator layer per chunk).
                while chunk := resp.raw.read(BLOCK_SIZE, decode_content=True):
                    out.write(chunk)
                    done += len(chunk)
                    if on_progress:
                        on_progress(done, total)
            except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError):
                # Only network errors are retried; a local write error (disk full)
                # propagates, since retrying cannot help.
                attempt = _next_attempt(client, attempt, "download: connection dropped")
                continue
        if total is not None and done != total:
            attempt = _next_attempt(client, attempt, f"download: got {done} of {total} bytes")
            continue
        return


def _next_attempt(client: Client, attempt: int, why: str) -> int:
    if attempt + 1 >= client.retry.attempts:
        raise NetworkError(f"{why} (gave up after {attempt + 1} tries)")
    client.sleep(client.retry.backoff(attempt))
    return attempt + 1


def place_file(tmp: Path, target: Path, *, overwrite: bool) -> None:
    """Move a finished file into place; without `overwrite`, never replace one that
    appeared meanwhile (a hard link fails atomically if the name is taken)."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise OutputExists(
            f"{target} already exists", hint="Pass --overwrite to replace it, or choose -o."
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK):
            raise
        # No hard links here (some network and FAT file systems): best effort.
        if target.exists():
            raise OutputExists(f"{target} already exists") from None
        os.replace(tmp, target)
        return
    tmp.unlink()
