"""One HTTP client for the API and for storage: timeouts, retries, limits, typed errors.

requests is imported here and only here (and only when a Client is built), so the
CLI's help and argument parsing never pay for it.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
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

log = logging.getLogger("ycecli.http")

# DESIGN.md: requests' default 16 KiB send block reaches ~0.65x curl on loopback,
# 1 MiB reaches ~1.1x; the same holds for download chunks.
BLOCK_SIZE = 1 << 20

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
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
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


def _make_session():
    from requests.adapters import HTTPAdapter

    from ycecli.proxies import direct_loopback_session

    class BigBlockAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["blocksize"] = BLOCK_SIZE
            super().init_poolmanager(*args, **kwargs)

    session = direct_loopback_session()
    adapter = BigBlockAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = f"yce/{__version__}"
    # The proxy variables are honoured (loopback excepted, see ycecli.proxies). The
    # same switch would make requests apply ~/.netrc, whose entry for a host replaces
    # yce's Bearer header (and adds one to presigned storage URLs, which storage
    # refuses): a session-wide auth that changes nothing keeps netrc out.
    session.trust_env = True
    session.auth = _keep_headers
    return session


def _keep_headers(request):
    return request


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
        self.on_wait = on_wait
        self.session = _make_session()
        self.timeout = (profile.connect_timeout, profile.read_timeout)
        self.budget = make_budget(profile, paths, sleep)
        self.budget.on_wait = on_wait
        self._v1_auth: V1Auth | None = None
        self.requests_sent = 0

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
        hold: str | None = None,
        urgent: bool = False,
    ) -> dict:
        """Send one API request, retrying what is safe to retry, and return its JSON.

        Almost every API request yce makes is safe to repeat: file-slot creation and
        auth have no side effect worth fearing, status and lists are reads, and a v1
        run-task body carries its `request_id`, which the server de-duplicates
        (003:1.6), so resending the identical body cannot charge twice.

        `deadline` (time.monotonic) bounds every backoff: a poll must be retried before
        its task's polling window closes, whatever the backoff or Retry-After says.

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
            stamp = self.budget.acquire(
                hold=hold if attempt == 0 and not refreshed else None,
                urgent=urgent or attempt > 0 or refreshed,
                deadline=_budget_deadline(self.budget, deadline),
            )
            try:
                resp = self._send(method, url, headers=headers, params=params, json_body=json_body)
            except NetworkError as exc:
                self.budget.done(stamp)
                if not idempotent and exc.maybe_sent:
                    raise NetworkError(
                        f"{method} {path}: {exc.message}; the request may have reached the "
                        "server, so it is not repeated (that could start and charge a second "
                        "task)",
                        hint="Check `yce task list` and your unit history before rerunning.",
                    ) from None
                delay = _bounded(self.retry.backoff(attempt), deadline)
                if attempt + 1 >= self.retry.attempts or spent + delay > self.retry.budget:
                    raise NetworkError(
                        f"{method} {path}: {exc.message} (gave up after {attempt + 1} tries)",
                        hint="Check your connection and the API base "
                        f"({self.base_url(generation)}); rerun to retry.",
                    ) from None
                self._wait(f"network error, retrying {method} {path}", delay)
                spent += delay
                attempt += 1
                continue

            self.budget.done(stamp)
            status = resp.status_code
            if status == 401 and authenticate and generation == "v1" and not refreshed:
                # 003 FAQ: refresh the token on 401 InvalidAccessToken, once.
                self.v1_auth.invalidate()
                refreshed = True
                continue
            if status == 429 or (status >= 500 and idempotent):
                delay = _retry_after(resp.headers.get("Retry-After"), self.retry.retry_after_cap)
                if delay is None:
                    delay = self.retry.backoff(attempt)
                delay = _bounded(delay, deadline)
                if status == 429:
                    # The server's count differs from ours (another machine, another
                    # tool): every request of every yce process holds back, not just this.
                    self.budget.penalize(delay)
                if attempt + 1 < self.retry.attempts and spent + delay <= self.retry.budget:
                    self._wait(f"HTTP {status}, retrying {method} {path}", delay)
                    spent += delay
                    attempt += 1
                    continue
            if status >= 400:
                raise self._error(resp, method, path)
            try:
                return json.loads(resp.content)
            except ValueError:
                raise ApiError(
                    f"{method} {path}: the server's reply is not JSON (HTTP {status})",
                    http_status=status,
                    request_id=_server_request_id(resp.headers),
                    hint="Check that the API base points at the YouCam API server.",
                ) from None

    def _wait(self, why: str, delay: float) -> None:
        log.debug("%s in %.2fs", why, delay)
        if self.on_wait:
            self.on_wait(why, delay)
        self.sleep(delay)

    def _send(self, method, url, *, headers, params=None, json_body=None, data=None, stream=False):
        import requests

        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers = {**headers, "Content-Type": "application/json"}
        started = time.monotonic()
        try:
            resp = self.session.request(
                method,
                url,
                headers=headers,
                params=params,
                data=body if body is not None else data,
                timeout=self.timeout,
                stream=stream,
                allow_redirects=False,
            )
        except requests.exceptions.RequestException as exc:
            log.debug("%s %s failed: %s", method, redact_url(url), type(exc).__name__)
            error = NetworkError(_describe_network_error(exc))
            error.maybe_sent = _maybe_sent(exc)
            raise error from None
        finally:
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
                "< %s in %.0f ms headers=%s body=%s",
                resp.status_code,
                (time.monotonic() - started) * 1000,
                dict(resp.headers),
                "<stream>" if stream else _body_for_log(resp.content),
            )
        return resp

    def _error(self, resp, method: str, path: str) -> Exception:
        status = resp.status_code
        try:
            body = json.loads(resp.content)
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        inner = body.get("data") if isinstance(body.get("data"), dict) else body
        error_code = inner.get("error_code") or inner.get("code")
        error = inner.get("error") or inner.get("message") or inner.get("error_message")
        if isinstance(error, dict):  # some v2 gateways nest {"error": {"code", "message"}}
            error_code = error_code or error.get("code")
            error = error.get("message")
        text = f"{method} {path}: HTTP {status}"
        if error_code:
            text += f" {error_code}"
        if error:
            text += f": {error}"
        kwargs = dict(
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
        headers: dict[str, str] | None = None,
        data: Any = None,
        stream: bool = False,
    ):
        """One request to a presigned storage URL; the caller handles retries."""
        return self._send(method, url, headers=dict(headers or {}), data=data, stream=stream)

    def close(self) -> None:
        self.session.close()


def _budget_deadline(budget: Budget, deadline: float | None) -> float | None:
    """`deadline` (time.monotonic) on the budget's clock."""
    if deadline is None:
        return None
    return budget.clock() + (deadline - time.monotonic())


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


__all__ = ["AUTH_PATH", "Client", "RetryPolicy", "redact_url", "redact_json", "redact_headers"]
