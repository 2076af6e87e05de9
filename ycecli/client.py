"""One HTTP client for the API and for storage: timeouts, retries, limits, typed errors.

requests is imported here and only here (and only when a Client is built), so the
CLI's help and argument parsing never pay for it.

A broken or hostile server must never cost a result, a unit or a traceback, so:
- every exchange (connect, send, headers, body) has a wall-clock deadline, kept by a
  watchdog that shuts the socket down when it passes (requests' own read timeout is
  per socket read, so a reply trickling a byte a second would never time out);
- API replies are read with a size cap and must be JSON objects;
- storage URLs handed out by the API may only point where the API itself is: never
  at loopback, link-local or private addresses unless the API base is one, checked
  on every resolved address before connecting and on the connected peer after;
- storage requests carry no credential: no Authorization, no cookies, no .netrc.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import math
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ycecli import __version__
from ycecli.auth import AUTH_PATH, TokenStore, V1Auth, missing_credential_error
from ycecli.config import Paths, Profile
from ycecli.errors import (
    ApiError,
    AuthError,
    InvalidTaskId,
    NetworkError,
    OutOfUnits,
    RateLimited,
)
from ycecli.ratelimit import Budget, Limit

if TYPE_CHECKING:
    import requests
    from urllib3.connection import HTTPConnection as _ConnectionBase
    from urllib3.connectionpool import HTTPConnectionPool as _PoolBase
else:
    # The mixins below are plain classes at run time (urllib3 is imported only when
    # a session is made); to the type checker they extend what they are mixed into.
    _ConnectionBase = _PoolBase = object

log = logging.getLogger("ycecli.http")

# Measured (benchmarks/bench.py): requests' default 16 KiB send block reaches ~0.65x
# curl on loopback, 1 MiB reaches ~1.1x; the same holds for download chunks.
BLOCK_SIZE = 1 << 20

# The largest replies the documents describe (a status with four results and their
# presigned URLs, a page of 30 styles, an analysis_result) are a few kB. 2 MiB leaves
# hundreds of times that, while a broken server's endless reply costs at most ~50 MB
# of parsed objects instead of all the memory there is (a 200 MB reply took 894 MB).
REPLY_CAP = 2 << 20
# An error reply is only read for its message.
ERROR_REPLY_CAP = 64 << 10
# Transfers have no fixed length to time, so their deadline grows with the bytes
# moved: a grace of read_timeout, plus one second per 16 KiB (128 kbit/s, slower than
# any link worth waiting on). A trickling server is cut off; a slow link is not.
MIN_TRANSFER_RATE = 16 << 10

SENSITIVE_KEYS = {"client_secret", "id_token", "access_token", "api_key", "authorization"}
SENSITIVE_QUERY = re.compile(r"(signature|credential|token|sig|key)", re.I)
# The seeds document no error for an exhausted balance; match what any sensible
# server would say, and let the sandbox use one of these.
OUT_OF_UNITS_CODES = {
    "InsufficientCredit",
    "InsufficientUnits",
    "NotEnoughCredit",
    "CreditNotEnough",
}
OUT_OF_UNITS_TEXT = re.compile(r"(insufficient|not enough|no (more )?)\s*(unit|credit)", re.I)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries in all, the first included
    base: float = 0.5  # seconds; full-jitter exponential backoff
    cap: float = 30.0  # longest single backoff
    retry_after_cap: float = 60.0  # longest Retry-After we honour
    budget: float = 180.0  # total seconds of backoff one request may spend

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * (2**attempt)))


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (k, "***" if SENSITIVE_QUERY.search(k) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("***" if k.lower() in SENSITIVE_KEYS and v else redact_json(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return redact_url(value)  # presigned URLs carry their signature in the query
    return value


def redact_headers(headers: Any) -> dict[str, str]:
    out = {}
    for k, v in dict(headers).items():
        if k.lower() == "authorization":
            scheme = str(v).split(" ", 1)[0]
            out[k] = f"{scheme} ***"
        else:
            out[k] = v
    return out


def _body_for_log(content: bytes | None, limit: int = 2000) -> str:
    if not content:
        return ""
    try:
        return json.dumps(redact_json(json.loads(content)))[:limit]
    except (ValueError, UnicodeDecodeError):
        return f"<{len(content)} bytes>"


def _retry_after(value: str | None, cap: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date
    (RFC 9110 10.2.3). Anything else (nan, inf, negative, garbage) is None, which
    means the normal backoff; a value the server got wrong is no reason to wait the
    longest time we allow."""
    value = (value or "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    else:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if not math.isfinite(seconds):
        return None
    return max(0.0, min(cap, seconds))


def _server_request_id(headers: Any) -> str | None:
    for name in ("X-Request-Id", "X-Amzn-RequestId", "X-Amz-Request-Id", "X-Amz-Cf-Id"):
        if headers.get(name):
            return headers[name]
    return None


def make_budget(profile: Profile, paths: Paths, sleep: Callable[[float], None]) -> Budget:
    """Both documented limits (003:238), shared by every yce process of this user
    through files under the state dir where the platform has file locks, else kept
    for this process."""
    limits = [
        Limit(profile.rate_limit_ip, profile.rate_limit_ip_window, "per IP"),
        Limit(profile.rate_limit_token, profile.rate_limit_token_window, "per token"),
    ]
    try:
        import fcntl  # noqa: F401 (POSIX only)
    except ImportError:
        return Budget(limits, sleep=sleep)
    import hashlib
    from urllib.parse import urlsplit

    # The IP limit is per machine and server; the token limit per account.
    host = urlsplit(profile.api_base).netloc
    account = profile.client_id or hashlib.sha256((profile.api_key or "").encode()).hexdigest()
    keys = (f"ip\0{host}", f"token\0{host}\0{account}")
    folder = paths.state_dir / "ratelimit"
    files = [folder / (hashlib.sha256(k.encode()).hexdigest()[:20] + ".json") for k in keys]
    return Budget(limits, files, sleep=sleep)


class MalformedReply(ApiError):
    """A reply whose shape is not the documented one; like any bad reply, exit 5."""

    @classmethod
    def field(cls, reply: str, name: str, value: Any, wanted: str, **kwargs: Any) -> MalformedReply:
        """`reply`'s field `name` holds `value` where the API documents `wanted`."""
        what = "missing" if value is None else f"a JSON {json_kind(value)}, not {wanted}"
        return cls(f"{reply}: `{name}` is {what}", **kwargs)


class UnsafeUrl(ApiError):
    """A URL in a reply that yce refuses to connect to."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def address_kind(ip: str) -> str:
    """ "public", or why not: "loopback", "link-local" or "private" (everything else
    the internet does not route: RFC 1918, CGNAT, ULA, multicast, reserved...).
    IPv6 forms that embed an IPv4 address are judged by that address."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = addr.ipv4_mapped or addr.sixtofour
        if embedded is None and addr in _NAT64:
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None:
            addr = embedded
    if addr.is_loopback or addr.is_unspecified:  # 0.0.0.0 reaches this host too
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_global and not addr.is_multicast:
        return "public"
    return "private"


class _Local(threading.local):
    exchange: Exchange | None = None


# The exchange the current thread is sending, for the connection hooks below, which
# urllib3 calls from deep inside requests with no way to pass it along.
_LOCAL = _Local()


class Exchange:
    """One request and its reply, under a wall-clock deadline.

    A watchdog thread shuts the connection's socket down when the deadline passes,
    which ends a blocked connect, send or read at once (requests' own timeouts are
    per socket operation, so a server trickling a byte a second never trips them).
    The caller then sees a network error, and `expired` says why. A transfer pushes
    the deadline back as it moves bytes (`moved`); nothing brings it forward.
    """

    def __init__(
        self,
        deadline: float,
        *,
        grace: float = 0.0,
        peer_check: Callable[[str, str], None] | None = None,
    ) -> None:
        self.started = time.monotonic()
        self.deadline = deadline
        self.grace = grace
        self.peer_check = peer_check
        self.expired = False
        self._conn: Any = None
        self._done = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        threading.Thread(target=self._watch, name="yce-deadline", daemon=True).start()

    @property
    def seconds(self) -> float:
        return self.deadline - self.started

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def moved(self, nbytes: int) -> None:
        """`nbytes` have moved so far: allow the next block at the floor rate."""
        allowed = self.started + self.grace + (nbytes + BLOCK_SIZE) / MIN_TRANSFER_RATE
        if allowed > self.deadline:
            self.deadline = allowed

    def attach(self, conn: Any) -> None:
        with self._lock:
            self._conn = conn
            conn._yce_exchange = self

    def release(self, conn: Any) -> None:
        """The connection goes back to the pool: from now on it may carry another
        thread's request, so the watchdog must not touch it."""
        with self._lock:
            if self._conn is conn:
                self._conn = None

    def finish(self) -> None:
        with self._lock:
            self._done = True
            self._conn = None
        self._wake.set()

    def __enter__(self) -> Exchange:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def _watch(self) -> None:
        while (remaining := self.deadline - time.monotonic()) > 0:
            if self._wake.wait(remaining):
                return
        with self._lock:
            if self._done:
                return
            self.expired = True
            sock = getattr(self._conn, "sock", None)
            if sock is not None:
                # The plain socket's shutdown, also for TLS: it wakes a read blocked
                # in another thread without touching the TLS object that read uses.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _guarded_pool_classes() -> dict[str, type]:
    """Connection pools whose connections report to the current Exchange: the
    watchdog needs the socket from the first byte (connect and headers included),
    and a peer check refuses a connection before any byte is sent (a second DNS
    answer can differ from the one checked before connecting)."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class PeerChecked(_ConnectionBase):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            exchange = _LOCAL.exchange
            # Through a proxy the peer is the proxy; the target was checked by name.
            if exchange is not None and exchange.peer_check and self.proxy is None:
                try:
                    exchange.peer_check(self.host, sock.getpeername()[0])
                except BaseException:
                    sock.close()
                    raise
            return sock

    class Watched(_PoolBase):
        def _get_conn(self, *args: Any, **kwargs: Any) -> Any:
            conn = super()._get_conn(*args, **kwargs)
            if _LOCAL.exchange is not None:
                _LOCAL.exchange.attach(conn)
            return conn

        def _put_conn(self, conn: Any) -> None:
            exchange = conn.__dict__.pop("_yce_exchange", None) if conn is not None else None
            if exchange is not None:
                exchange.release(conn)
            super()._put_conn(conn)

    class GuardedHTTPConnection(PeerChecked, HTTPConnection):
        pass

    class GuardedHTTPSConnection(PeerChecked, HTTPSConnection):
        pass

    class GuardedHTTPPool(Watched, HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(Watched, HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    return {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Explicit "no auth": keeps requests from adding .netrc credentials, which
    would go to storage hosts and override the API's bearer token."""
    return request


def _make_session() -> requests.Session:
    from http.cookiejar import DefaultCookiePolicy

    from requests.adapters import HTTPAdapter

    from ycecli.proxies import direct_loopback_session

    pool_classes = _guarded_pool_classes()

    class BigBlockAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["blocksize"] = BLOCK_SIZE
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pool_classes

        def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(*args, **kwargs)
            manager.pool_classes_by_scheme = pool_classes
            return manager

    session = direct_loopback_session()
    adapter = BigBlockAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = f"yce/{__version__}"
    # The API authenticates with bearer tokens only. A cookie a server sets would be
    # sent on to every storage URL of the same host name: keep none.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    # Proxy variables are honoured, loopback excepted (ycecli.proxies); .netrc is not:
    # its entry for a host would replace yce's Bearer header, or add one to presigned
    # storage URLs, which storage refuses (_no_auth).
    session.trust_env = True
    session.auth = _no_auth
    return session


@dataclass
class _Reply:
    status_code: int
    headers: Any
    content: bytes
    complete: bool  # False: longer than the cap, and only its start was read


class Client:
    """Talks to one account's API servers (v1 and v2) and to their storage URLs."""

    def __init__(
        self,
        profile: Profile,
        paths: Paths,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[str, float], None] | None = None,
    ) -> None:
        self.profile = profile
        self.paths = paths
        self.retry = retry or RetryPolicy(attempts=profile.max_retries + 1)
        self.sleep = sleep
        self._on_wait = on_wait
        self.session = _make_session()
        self.timeout = (profile.connect_timeout, profile.read_timeout)
        self.budget = make_budget(profile, paths, sleep)
        self.budget.on_wait = on_wait
        self._v1_auth: V1Auth | None = None
        self._api_kinds: set[str] | None = None
        self.requests_sent = 0

    @property
    def on_wait(self) -> Callable[[str, float], None] | None:
        """Told of every wait longer than a moment: retries' backoffs and the shared
        budget's waits for room."""
        return self._on_wait

    @on_wait.setter
    def on_wait(self, callback: Callable[[str, float], None] | None) -> None:
        self._on_wait = callback
        self.budget.on_wait = callback

    # -- auth --------------------------------------------------------------

    @property
    def v1_auth(self) -> V1Auth:
        if self._v1_auth is None:
            self._v1_auth = V1Auth(self.profile, TokenStore(self.paths), self._auth_post)
        return self._v1_auth

    def _auth_post(self, path: str, body: dict) -> dict:
        return self.call("POST", path, json_body=body, authenticate=False)

    def _auth_header(self, generation: str) -> str:
        if generation == "v2":
            if not self.profile.has_v2:
                raise missing_credential_error(self.profile, "v2")
            return f"Bearer {self.profile.api_key}"
        return f"Bearer {self.v1_auth.token()}"

    def base_url(self, generation: str) -> str:
        return self.profile.api_base_v2 if generation == "v2" else self.profile.api_base

    # -- API calls ----------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        generation: str = "v1",
        params: dict | list | None = None,
        json_body: Any = None,
        authenticate: bool = True,
        idempotent: bool = True,
        deadline: float | None = None,
        give_up_at: float | None = None,
        hold: str | None = None,
        urgent: bool = False,
    ) -> dict:
        """Send one API request, retrying what is safe to retry, and return its JSON
        object.

        Almost every API request yce makes is safe to repeat: file-slot creation and
        auth have no side effect worth fearing, status and lists are reads, and a v1
        run-task body carries its `request_id`, which the server de-duplicates
        (003:1.6), so resending the identical body cannot charge twice.

        `deadline` (time.monotonic) bounds every backoff: a poll must be retried before
        its task's polling window closes, whatever the backoff or Retry-After says.

        `give_up_at` (time.monotonic) bounds everything, exchanges included: past it
        the call ends with a NetworkError, whatever is in flight (a caller's --timeout).

        Each exchange is also bounded on its own by the profile's connect_timeout plus
        read_timeout, however slowly the reply trickles in.

        `idempotent=False` is for requests that could start a second paid task (v2
        try-on documents no request_id): those are retried only when the server
        cannot have acted on them (the connection was never made, or a 429).

        `hold` is the moment the shared budget reserved for this request (see
        ycecli.ratelimit); `urgent` marks a poll of a running task, which goes before
        new work. Retries are urgent too: the request they repeat was admitted.
        """
        url = self.base_url(generation) + path
        refreshed = False
        attempt = 0
        spent = 0.0
        while True:
            headers = {"Accept": "application/json"}
            if authenticate:
                headers["Authorization"] = self._auth_header(generation)
            if give_up_at is not None and time.monotonic() >= give_up_at:
                raise NetworkError(f"{method} {path}: no reply before the time limit")
            stamp = self.budget.acquire(
                hold=hold if attempt == 0 and not refreshed else None,
                urgent=urgent or attempt > 0 or refreshed,
                deadline=_budget_deadline(self.budget, deadline),
            )
            try:
                reply = self._fetch(method, url, headers, params, json_body, give_up_at)
            except NetworkError as exc:
                self.budget.done(stamp)
                if give_up_at is not None and time.monotonic() >= give_up_at:
                    raise NetworkError(
                        f"{method} {path}: {exc.message}; gave up at the time limit"
                    ) from None
                if not idempotent and exc.maybe_sent:
                    raise NetworkError(
                        f"{method} {path}: {exc.message}; the request may have reached the "
                        "server, so it is not repeated (that could start and charge a second "
                        "task)",
                        hint="Check `yce task list` and your unit history before rerunning.",
                    ) from None
                delay = _bounded(self.retry.backoff(attempt), deadline)
                if (
                    attempt + 1 >= self.retry.attempts
                    or spent + delay > self.retry.budget
                    or not _fits(delay, give_up_at)
                ):
                    raise NetworkError(
                        f"{method} {path}: {exc.message} (gave up after {attempt + 1} tries)",
                        hint="Check your connection and the API base "
                        f"({self.base_url(generation)}); rerun to retry.",
                    ) from None
                self.wait(f"network error, retrying {method} {path}", delay)
                spent += delay
                attempt += 1
                continue

            self.budget.done(stamp)
            status = reply.status_code
            if status == 401 and authenticate and generation == "v1" and not refreshed:
                # 003 FAQ: refresh the token on 401 InvalidAccessToken, once.
                self.v1_auth.invalidate()
                refreshed = True
                continue
            if status == 429 or (status >= 500 and idempotent):
                after = _retry_after(reply.headers.get("Retry-After"), self.retry.retry_after_cap)
                delay = _bounded(self.retry.backoff(attempt) if after is None else after, deadline)
                if status == 429:
                    # The server's count differs from ours (another machine, another
                    # tool): every request of every yce process holds back, not just this.
                    self.budget.penalize(delay)
                if (
                    attempt + 1 < self.retry.attempts
                    and spent + delay <= self.retry.budget
                    and _fits(delay, give_up_at)
                ):
                    self.wait(f"HTTP {status}, retrying {method} {path}", delay)
                    spent += delay
                    attempt += 1
                    continue
            if status >= 400:
                raise self._error(reply, method, path)
            return self._decode(reply, method, path)

    def _fetch(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        params: dict | list | None,
        json_body: Any,
        give_up_at: float | None,
    ) -> _Reply:
        """One exchange with its reply read in full, up to the size cap."""
        with self.exchange(give_up_at=give_up_at) as exchange:
            resp = self._send(
                method, url, headers=headers, params=params, json_body=json_body, exchange=exchange
            )
            with contextlib.closing(resp):
                cap = REPLY_CAP if resp.status_code < 400 else ERROR_REPLY_CAP
                content, complete = self.read_capped(resp, exchange, cap)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("< body=%s", _body_for_log(content))
        return _Reply(resp.status_code, resp.headers, content, complete)

    def _decode(self, reply: _Reply, method: str, path: str) -> dict:
        status = reply.status_code
        request_id = _server_request_id(reply.headers)
        if not reply.complete:
            raise MalformedReply(
                f"{method} {path}: the reply is larger than {REPLY_CAP >> 20} MiB, far beyond "
                "any documented reply; yce stopped reading it",
                http_status=status,
                request_id=request_id,
                hint="Check that the API base points at the YouCam API server.",
            )
        try:
            data = json.loads(reply.content)
        except (ValueError, RecursionError):
            raise MalformedReply(
                f"{method} {path}: the server's reply is not JSON (HTTP {status})",
                http_status=status,
                request_id=request_id,
                hint="Check that the API base points at the YouCam API server.",
            ) from None
        if not isinstance(data, dict):
            raise MalformedReply(
                f"{method} {path}: the reply is a JSON {json_kind(data)} where the API "
                "documents an object",
                http_status=status,
                request_id=request_id,
            )
        return data

    def read_capped(
        self, resp: requests.Response, exchange: Exchange, cap: int
    ) -> tuple[bytes, bool]:
        """A streamed reply's body, at most `cap` bytes of it: (bytes, complete).
        Past the cap nothing more is read; the caller closes the connection."""
        declared = (resp.headers.get("Content-Length") or "").strip()
        if declared.isdigit() and int(declared) > cap:
            return b"", False
        chunks: list[bytes] = []
        size = 0
        try:
            while size <= cap:
                chunk = resp.raw.read(min(64 << 10, cap + 1 - size), decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except network_errors() as exc:
            raise self.network_error(exc, exchange) from None
        data = b"".join(chunks)
        return (data[:cap], False) if size > cap else (data, True)

    def network_error(self, exc: Exception, exchange: Exchange) -> NetworkError:
        """What a failed exchange says: that its deadline passed, or what the network
        did. `exc` is one of NETWORK_ERRORS."""
        import requests

        if exchange.expired:
            error = NetworkError(f"no complete reply within {exchange.seconds:.0f} s")
        elif isinstance(exc, requests.exceptions.RequestException):
            error = NetworkError(_describe_network_error(exc))
            error.maybe_sent = _maybe_sent(exc)
            return error
        else:
            error = NetworkError("connection failed or was dropped")
        error.maybe_sent = True
        return error

    def wait(self, why: str, delay: float) -> None:
        """Sleep before a retry, telling `on_wait` first (the CLI announces long ones)."""
        log.debug("%s in %.2fs", why, delay)
        if self.on_wait:
            self.on_wait(why, delay)
        self.sleep(delay)

    def exchange(self, *, give_up_at: float | None = None, transfer: bool = False) -> Exchange:
        """A deadline for one exchange: connect_timeout + read_timeout for the reply
        (headers and body), or for a transfer that much plus time per byte moved."""
        connect, read = self.timeout
        deadline = time.monotonic() + connect + read
        if give_up_at is not None:
            deadline = min(deadline, give_up_at)
        return Exchange(deadline, grace=connect + read if transfer else 0.0)

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        exchange: Exchange,
        params: dict | list | None = None,
        json_body: Any = None,
        data: Any = None,
    ) -> requests.Response:
        """Send one request and return its streamed response, headers read."""
        import requests

        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers = {**headers, "Content-Type": "application/json"}
        connect, read = self.timeout
        left = max(0.01, exchange.remaining())
        started = time.monotonic()
        _LOCAL.exchange = exchange
        try:
            resp = self.session.request(
                method,
                url,
                headers=headers,
                params=params,
                data=body if body is not None else data,
                timeout=(min(connect, left), min(read, left)),
                stream=True,
                allow_redirects=False,
                auth=_no_auth,
            )
        except requests.exceptions.RequestException as exc:
            log.debug("%s %s failed: %s", method, redact_url(url), type(exc).__name__)
            raise self.network_error(exc, exchange) from None
        finally:
            _LOCAL.exchange = None
            self.requests_sent += 1
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "> %s %s headers=%s body=%s",
                method,
                redact_url(resp.request.url or url),
                redact_headers(resp.request.headers),
                _body_for_log(body) if body is not None else ("<stream>" if data else ""),
            )
            log.debug(
                "< %s in %.0f ms headers=%s",
                resp.status_code,
                (time.monotonic() - started) * 1000,
                dict(resp.headers),
            )
        return resp

    def _error(self, resp: _Reply, method: str, path: str) -> Exception:
        status = resp.status_code
        try:
            body = json.loads(resp.content)
        except (ValueError, RecursionError):
            body = {}
        if not isinstance(body, dict):
            body = {}
        data = body.get("data")
        inner: dict[str, Any] = data if isinstance(data, dict) else body
        error_code = inner.get("error_code") or inner.get("code")
        error = inner.get("error") or inner.get("message") or inner.get("error_message")
        if isinstance(error, dict):  # some v2 gateways nest {"error": {"code", "message"}}
            error_code = error_code or error.get("code")
            error = error.get("message")
        # Only text is matched against known codes and shown; a list or an object
        # here would otherwise end in a TypeError.
        error_code, error = _as_text(error_code), _as_text(error)
        text = f"{method} {path}: HTTP {status}"
        if error_code:
            text += f" {error_code}"
        if error:
            text += f": {error}"
        kwargs: dict[str, Any] = dict(
            http_status=status,
            error_code=error_code,
            error=error,
            request_id=_server_request_id(resp.headers),
        )
        if status == 401 or error_code == "InvalidAccessToken":
            return AuthError(
                text,
                hint="The API refused the credentials. Check them with `yce auth check`; "
                "v1 needs the client_id and client_secret of the same API key.",
            )
        if status == 429:
            return RateLimited(
                text,
                hint="Too many requests (003: 100 per 5 minutes per IP, 100 per minute per "
                "token). Wait a few minutes and rerun.",
                **kwargs,
            )
        if error_code == "InvalidTaskId" or (status == 400 and "task id" in str(error).lower()):
            return InvalidTaskId(
                text,
                hint="The task is unknown or was dropped because it was not polled within "
                "its polling window; its result cannot be fetched. Run it again.",
                **kwargs,
            )
        if (
            status == 402
            or error_code in OUT_OF_UNITS_CODES
            or OUT_OF_UNITS_TEXT.search(str(error or ""))
        ):
            return OutOfUnits(
                text, hint="Check the balance with `yce units`, then top up.", **kwargs
            )
        return ApiError(text, **kwargs)

    # -- storage (presigned URLs: never send our Authorization there) --------

    def storage(
        self,
        method: str,
        url: str,
        *,
        exchange: Exchange,
        headers: dict[str, str] | None = None,
        data: Any = None,
        from_reply: bool = False,
    ) -> requests.Response:
        """One request to a storage URL, with no credential of ours (no Authorization,
        no cookies), returning the streamed response; the caller reads it within
        `exchange` and handles retries and redirects.

        `from_reply`: the URL came from an API reply, so it must pass
        check_storage_url, and the connected peer is checked again."""
        if not url.lower().startswith(("http://", "https://")):
            raise UnsafeUrl(f"{redact_url(url)!r} is not an http(s) URL")
        if from_reply:
            self.check_storage_url(url)
            exchange.peer_check = lambda host, ip: self._check_address(url, host, ip)
        return self._send(method, url, headers=dict(headers or {}), data=data, exchange=exchange)

    def check_storage_url(self, url: str) -> None:
        """Refuse a URL from a reply unless it is http(s) and every address its host
        resolves to is public, or of a kind the API base itself has (the sandbox is on
        127.0.0.1, so loopback is fine for it and for nobody else). A reply must not
        make yce fetch from the cloud metadata service or the user's own network."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise UnsafeUrl(f"{redact_url(url)!r} is not an http(s) URL")
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        except ValueError:
            raise UnsafeUrl(f"{redact_url(url)!r} has an invalid port") from None
        try:
            infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            if self._proxied(url):
                return  # only the proxy can resolve it; it is checked by name there
            raise NetworkError(f"cannot resolve {parts.hostname} ({exc})") from None
        for info in infos:
            self._check_address(url, parts.hostname, str(info[4][0]))

    def _check_address(self, url: str, host: str, ip: str) -> None:
        kind = address_kind(ip)
        if kind == "public" or kind in self._api_address_kinds():
            return
        raise UnsafeUrl(
            f"refusing to connect to {redact_url(url)}: {host} is {ip}, a {kind} address",
            hint="The API's reply points at an address yce only uses when the API base "
            "is there too; check the API base, or report the reply with --debug.",
        )

    def _api_address_kinds(self) -> set[str]:
        if self._api_kinds is None:
            kinds: set[str] = set()
            for base in {self.profile.api_base, self.profile.api_base_v2}:
                host = urlsplit(base or "").hostname
                if not host:
                    continue
                with contextlib.suppress(OSError, UnicodeError):
                    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
                    kinds.update(address_kind(str(info[4][0])) for info in infos)
            self._api_kinds = kinds
        return self._api_kinds

    def _proxied(self, url: str) -> bool:
        import requests

        return self.session.trust_env and bool(requests.utils.get_environ_proxies(url))

    def close(self) -> None:
        self.session.close()


def _budget_deadline(budget: Budget, deadline: float | None) -> float | None:
    """`deadline` (time.monotonic) on the budget's clock."""
    if deadline is None:
        return None
    return budget.clock() + (deadline - time.monotonic())


def network_errors() -> tuple[type[Exception], ...]:
    """What reading a streamed body raises when the network fails (or the
    watchdog shut the socket down), as opposed to a bug or a full disk."""
    import http.client

    import requests
    import urllib3

    # ValueError: http.client's answer to a garbled chunk size.
    return (
        requests.exceptions.RequestException,
        urllib3.exceptions.HTTPError,
        http.client.HTTPException,
        ConnectionError,
        TimeoutError,
        ValueError,
    )


def _as_text(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, str):
        return value or None
    return json.dumps(value)[:300]


def _fits(delay: float, give_up_at: float | None) -> bool:
    return give_up_at is None or time.monotonic() + delay < give_up_at


def json_kind(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages about a reply's shape."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), "null")


def _bounded(delay: float, deadline: float | None) -> float:
    if deadline is None:
        return delay
    return max(0.0, min(delay, deadline - time.monotonic()))


def _maybe_sent(exc: Exception) -> bool:
    """False only when the request certainly never reached the server."""
    import requests

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc)
        return not any(
            marker in text
            for marker in ("NewConnectionError", "Connection refused", "Name or service")
        )
    return True


def _describe_network_error(exc: Exception) -> str:
    import requests

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "timed out connecting"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "timed out waiting for the reply"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection failed or was dropped"
    # Messages may quote the URL; its query string can hold a signature.
    return f"{type(exc).__name__}: " + re.sub(r"\?\S*", "?…", str(exc))[:300]


__all__ = [
    "AUTH_PATH",
    "Client",
    "Exchange",
    "MalformedReply",
    "RetryPolicy",
    "UnsafeUrl",
    "address_kind",
    "json_kind",
    "network_errors",
    "redact_headers",
    "redact_json",
    "redact_url",
]
