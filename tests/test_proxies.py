"""Proxy variables apply to the real API and its storage, never to loopback: the
sandbox on 127.0.0.1 works in a shell or CI job that sets HTTP_PROXY."""

import pytest

from tests.conftest import SAMPLE, run_cli
from ycecli.client import Client
from ycecli.config import Profile

UNREACHABLE = "http://127.0.0.1:9"  # nothing listens on the discard port
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY")


def test_sandbox_runs_with_proxy_variables_pointing_nowhere(tmp_path):
    env = dict.fromkeys(PROXY_VARIABLES, UNREACHABLE)
    result = run_cli("--sandbox", "enhance", str(SAMPLE), "--scale", "1", env=env)
    assert result.code == 0, result.stderr
    assert (tmp_path / "sample_enhance_scale-1.jpg").exists()


def proxies_for(client: Client, url: str) -> dict:
    """Where requests would send `url`, computed from the session and the environment
    exactly as it is for a real request, without sending one."""
    return client.session.merge_environment_settings(url, {}, False, None, None)["proxies"]


@pytest.fixture
def proxied_client(monkeypatch, paths):
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = Client(Profile(name="real"), paths)
    yield client
    client.close()


@pytest.mark.parametrize(
    "url",
    [
        "https://yce-api-01.perfectcorp.com/s2s/v1.0/client/credit",
        "https://yce-api-01.makeupar.com/s2s/v2.0/task/2d-vto/ring/abc",
        "https://bucket.s3.amazonaws.com/result.jpg?X-Amz-Signature=x",
    ],
)
def test_the_real_api_and_its_storage_still_go_through_the_proxy(proxied_client, url):
    proxies = proxies_for(proxied_client, url)
    assert proxies.get("https") == "http://proxy.example:3128"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/s2s/v1.0/client/credit",
        "http://127.0.0.2:8080/storage/download/x",
        "http://localhost:8080/s2s/v1.0/task/enhance",
        "http://[::1]:8080/s2s/v1.0/task/enhance",
    ],
)
def test_loopback_is_reached_directly(proxied_client, url):
    assert proxies_for(proxied_client, url) == {}
