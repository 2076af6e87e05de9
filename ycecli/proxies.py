"""Which requests go through a proxy.

requests honours HTTP_PROXY, HTTPS_PROXY and ALL_PROXY for every host not listed in
NO_PROXY, loopback included. A proxy set for the real API (a corporate proxy, a CI
runner's) would then carry the sandbox's 127.0.0.1 traffic to a machine where
nothing listens on that port. Loopback is reached directly, as Go's net/http does;
every other host still goes through the proxies the environment names.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def direct_loopback_session():
    """A requests.Session that uses the environment's proxies for every host except
    this machine's own."""
    import requests

    class Session(requests.Session):
        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if is_loopback(url):
                settings["proxies"] = {}
            return settings

    return Session()
