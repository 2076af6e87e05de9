"""The sandbox is as strict as the API: these are the mistakes it must catch."""

import http.client
import json
import re
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import SAMPLE, profile_for
from ycecli.api import Yce
from ycecli.auth import build_id_token


def api(sandbox, method, path, token=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, sandbox.url + path, headers=headers, timeout=10, **kwargs)


def login(sandbox):
    body = {
        "client_id": sandbox.client_id,
        "id_token": build_id_token(sandbox.client_id, sandbox.client_secret),
    }
    return api(sandbox, "POST", "/s2s/v1.0/client/auth", json=body).json()["result"]["access_token"]


def slot(sandbox, token, size=100, ctype="image/jpeg"):
    body = {"files": [{"content_type": ctype, "file_name": "a.jpg", "file_size": size}]}
    reply = api(sandbox, "POST", "/s2s/v1.1/file/enhance", token, json=body).json()
    return reply["result"]["files"][0]


def test_auth_refuses_a_stale_timestamp_and_a_foreign_client(sandbox):
    stale = build_id_token(sandbox.client_id, sandbox.client_secret, timestamp_ms=1_000_000_000_000)
    reply = api(
        sandbox,
        "POST",
        "/s2s/v1.0/client/auth",
        json={"client_id": sandbox.client_id, "id_token": stale},
    )
    assert reply.status_code == 401
    reply = api(
        sandbox,
        "POST",
        "/s2s/v1.0/client/auth",
        json={"client_id": "someone-else", "id_token": "x"},
    )
    assert reply.status_code == 401


def test_ids_carry_plus_slash_and_equals(sandbox):
    token = login(sandbox)
    file_id = slot(sandbox, token)["file_id"]
    assert {"+", "/", "="} <= set(file_id)
    assert {"+", "/", "="} <= set(token)


def put(url, body: bytes, headers: dict):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.putrequest("PUT", parts.path + "?" + parts.query)
    for key, value in headers.items():
        conn.putheader(key, value)
    conn.endheaders()
    if headers.get("Transfer-Encoding") == "chunked":
        conn.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    else:
        conn.send(body)
    resp = conn.getresponse()
    return resp.status, resp.read().decode()


@pytest.mark.parametrize(
    "headers, status, code",
    [
        ({"Content-Type": "image/jpeg", "Transfer-Encoding": "chunked"}, 501, "NotImplemented"),
        ({"Content-Type": "image/jpeg", "Content-Length": "99"}, 403, "SignatureDoesNotMatch"),
        ({"Content-Type": "image/png", "Content-Length": "100"}, 403, "SignatureDoesNotMatch"),
        (
            {"Content-Type": "image/jpeg", "Content-Length": "100", "Authorization": "Bearer x"},
            400,
            "InvalidArgument",
        ),
    ],
)
def test_upload_urls_refuse_what_s3_refuses(sandbox, headers, status, code):
    entry = slot(sandbox, login(sandbox))
    body = b"x" * int(headers.get("Content-Length", 100))
    got_status, text = put(entry["requests"][0]["url"], body, headers)
    assert (got_status, code in text) == (status, True)


def test_upload_urls_expire(sandbox):
    entry = slot(sandbox, login(sandbox))
    sandbox.clock.advance(sandbox.config.upload_url_ttl + 1)
    status, text = put(
        entry["requests"][0]["url"],
        b"x" * 100,
        {"Content-Type": "image/jpeg", "Content-Length": "100"},
    )
    assert status == 403 and "expired" in text


def test_run_bodies_are_checked_against_the_registry(sandbox):
    token = login(sandbox)
    file_id = slot(sandbox, token)["file_id"]
    good = {
        "request_id": 0,
        "payload": {
            "file_sets": {"src_ids": [file_id]},
            "actions": [{"id": 0, "params": {"scale": 2}}],
        },
    }
    bad_cases = [
        ({**good, "extra": 1}, "unknown field"),
        ({"payload": good["payload"]}, "missing required field"),
        (
            {
                **good,
                "payload": {**good["payload"], "actions": [{"id": 0, "params": {"scale": 3}}]},
            },
            "scale",
        ),
        ({**good, "payload": {**good["payload"], "actions": [{"id": 0, "params": {}}]}}, "scale"),
        (
            {**good, "payload": {**good["payload"], "file_sets": {"src_ids": ["nope"]}}},
            "Unknown file id",
        ),
    ]
    for body, fragment in bad_cases:
        reply = api(sandbox, "POST", "/s2s/v1.0/task/enhance", token, json=body)
        assert reply.status_code == 400, body
        data = reply.json()
        assert data["error_code"] == "InvalidParameters" and data["status"] == 400
        assert fragment in data["error"]
    assert api(sandbox, "POST", "/s2s/v1.0/task/enhance", token, json=good).status_code == 200


def test_same_request_id_is_ignored_and_returns_the_same_task(sandbox):
    token = login(sandbox)
    file_id = slot(sandbox, token)["file_id"]
    body = {
        "request_id": 7,
        "payload": {
            "file_sets": {"src_ids": [file_id]},
            "actions": [{"id": 0, "params": {"scale": 1}}],
        },
    }
    first = api(sandbox, "POST", "/s2s/v1.0/task/enhance", token, json=body).json()
    second = api(sandbox, "POST", "/s2s/v1.0/task/enhance", token, json=body).json()
    assert first["result"]["task_id"] == second["result"]["task_id"]
    assert len(sandbox.tasks) == 1


def test_both_rate_limits_answer_429(sandbox):
    sandbox.config.rate_limit_token = 3
    token = login(sandbox)
    codes = [api(sandbox, "GET", "/s2s/v1.0/client/credit", token).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    sandbox.clock.advance(61)
    assert api(sandbox, "GET", "/s2s/v1.0/client/credit", token).status_code == 200
    sandbox.config.rate_limit_ip = 1
    sandbox.clock.advance(301)
    codes = [api(sandbox, "GET", "/s2s/v1.0/client/credit", token).status_code for _ in range(2)]
    assert codes == [200, 429]
    assert sandbox.rate_limited == 2


def test_downloads_honour_range(sandbox, paths, tmp_path):
    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run("enhance", str(SAMPLE), {"scale": 1}, output=tmp_path / "o.jpg")
    whole = (tmp_path / "o.jpg").read_bytes()
    reply = requests.get(result.urls[0], headers={"Range": "bytes=10-19"}, timeout=10)
    assert reply.status_code == 206
    assert reply.content == whole[10:20]
    assert re.fullmatch(rf"bytes 10-19/{len(whole)}", reply.headers["Content-Range"])


def test_enhance_really_scales_and_charges_only_on_success(sandbox, paths, tmp_path):
    from PIL import Image

    with Yce(profile_for(sandbox), paths=paths) as yce:
        [result] = yce.run("enhance", str(SAMPLE), {"scale": 4}, output=tmp_path / "o.jpg")
        balance = yce.units()
        history = yce.units_history(page_size=5)
    assert Image.open(result.files[0]).size == (1280, 960)
    assert balance["total"] == sandbox.config.initial_units - 1
    assert history["history"][0]["target_id"] == result.task_id


def test_state_endpoint_reports_the_ledger(sandbox):
    state = json.loads(requests.get(sandbox.url + "/_sandbox/state", timeout=10).text)
    assert state["units"] == sandbox.config.initial_units and state["charges"] == 0
