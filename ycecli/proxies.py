"""Which requests go through a proxy.

requests honours HTTP_PROXY, HTTPS_PROXY and ALL_PROXY for every host not listed in
NO_PROXY, loopback included. A proxy set for the real API (a corporate proxy, a CI
runner's) would then carry the sandbox's 127.0.0.1 traffic to a machine where
nothing listens on that port. Loopback is reached directly, as Go's net/http does;
every other host still goes through the proxies the environment names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import requests


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


def direct_loopback_session() -> requests.Session:
    """A requests.Session that uses the environment's proxies for every host except
    this machine's own."""
    import requests

    class Session(requests.Session):
        def merge_environment_settings(
            self,
            url: str | bytes | None,
            proxies: MutableMapping[str, str] | None,
            stream: bool | None,
            verify: bool | str | None,
            cert: str | tuple[str, str] | None,
        ) -> Any:  # requests' stubs return a TypedDict they keep private
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            # requests passes the prepared URL, a str; the stubs also allow bytes and None.
            if is_loopback(cast(str, url)):
                settings["proxies"] = {}
            return settings

    return Session()
