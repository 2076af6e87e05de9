"""Retries, rate limits, typed errors and redaction of the HTTP client."""

import pytest

from tests.conftest import fast_config, profile_for, sandbox_clock
from ycecli.api import Yce
from ycecli.client import redact_headers, redact_json, redact_url
from ycecli.errors import ApiError, RateLimited
from ycecli.ratelimit import Budget, Limit
from ycecli.sandbox.server import Fault, Sandbox


def test_5xx_and_429_are_retried_and_retry_after_is_honoured(sandbox, paths):
    sandbox.inject(Fault("status", path="/s2s/v1.0/client/credit", status=503))
    sandbox.inject(Fault("status", path="/s2s/v1.0/client/credit", status=429, retry_after=1))
    waits = []
    with Yce(profile_for(sandbox), paths=paths) as yce:
        yce.client.sleep = waits.append
        assert yce.units()["total"] == sandbox.units
    assert len(waits) == 2
    assert waits[1] == 1.0  # the Retry-After value, not a random backoff


def test_429_after_the_budget_is_a_rate_limited_error(sandbox, paths):
    sandbox.inject(Fault("status", path="/s2s/v1.0/client/credit", status=429, count=50))
    with Yce(profile_for(sandbox, max_retries=2), paths=paths) as yce:
        yce.client.sleep = lambda s: None
        with pytest.raises(RateLimited) as info:
            yce.units()
    assert info.value.http_status == 429
    assert info.value.exit_status == 5


def test_api_errors_carry_status_code_and_message(sandbox, paths):
    with Yce(profile_for(sandbox), paths=paths) as yce, pytest.raises(ApiError) as info:
        yce.client.call("POST", "/s2s/v1.0/task/enhance", json_body={"request_id": 0})
    err = info.value
    assert (err.http_status, err.error_code) == (400, "InvalidParameters")
    assert "payload" in err.error


def test_client_side_limiter_keeps_both_windows():
    now = [0.0]
    limiter = Budget(
        [Limit(3, 60.0, "per token"), Limit(5, 300.0, "per IP")],
        clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
    )
    sent = []
    for _ in range(6):
        limiter.done(limiter.acquire())
        sent.append(now[0])
    assert sent[:3] == [0, 0, 0]
    assert 60.0 <= sent[3] <= 62.0  # the per-token window was full
    assert sent[5] >= 300.0  # the sixth waited for the 5-per-5-minutes window


def test_client_never_earns_a_429_the_limits_foresee(paths, virtual_clock):
    config = fast_config(rate_limit_token=4, rate_limit_token_window=1.0)
    with Sandbox(config=config, clock=sandbox_clock(virtual_clock)) as sandbox:
        profile = profile_for(sandbox, rate_limit_token=4, rate_limit_token_window=1.0)
        with Yce(profile, paths=paths) as yce:
            for _ in range(6):
                yce.units()
        assert sandbox.rate_limited == 0


def test_redaction_hides_tokens_keys_and_signatures():
    assert redact_headers({"Authorization": "Bearer abc.def"}) == {"Authorization": "Bearer ***"}
    body = redact_json(
        {
            "client_id": "cid",
            "id_token": "secret",
            "result": {
                "access_token": "tok",
                "url": "https://s3/x?X-Amz-Signature=abc&X-Amz-Expires=7200",
            },
        }
    )
    assert body["client_id"] == "cid"
    assert body["id_token"] == "***" and body["result"]["access_token"] == "***"
    assert "abc" not in body["result"]["url"] and "X-Amz-Expires=7200" in body["result"]["url"]
    assert "sig" not in redact_url("http://h/p?sig=1234").split("=", 1)[1].replace("***", "")
