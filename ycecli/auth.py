"""Credentials for both API generations.

v1 (003:257, 003:514): encrypt `client_id=<id>&timestamp=<ms>` with the client
secret (a Base64 X.509 RSA public key) using PKCS#1 v1.5, Base64 the ciphertext as
`id_token`, and trade it for a 2-hour access token at POST /s2s/v1.0/client/auth.
The token is cached per account under the cache dir (0600) and refreshed ahead of
expiry and once on a 401.

v2 (000/001): the API key itself is the Bearer token.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ycecli.config import Paths, Profile, refuse_if_shared, write_private_file
from ycecli.errors import AuthError
from ycecli.shell import shell_command

if TYPE_CHECKING:
    from Crypto.PublicKey.RSA import RsaKey

AUTH_PATH = "/s2s/v1.0/client/auth"
TOKEN_LIFETIME = 2 * 3600.0  # "The access token valid for 2 hours" (003:541)
# Refresh this long before the documented expiry, so a token never expires between
# the check and a long upload or poll loop.
REFRESH_MARGIN = 600.0


def load_public_key(client_secret: str, *, where: str = "client_secret") -> RsaKey:
    """Parse the Base64 X.509 key (PEM armour tolerated) into a pycryptodome key."""
    from Crypto.PublicKey import RSA

    text = client_secret.strip()
    if "BEGIN" in text:
        text = "".join(line for line in text.splitlines() if "-----" not in line)
    text = "".join(text.split())
    try:
        der = base64.b64decode(text, validate=True)
        key = RSA.import_key(der)
    except (binascii.Error, ValueError, IndexError, TypeError):
        raise AuthError(
            f"{where} is not a Base64 X.509 RSA public key",
            hint="Copy the Secret key exactly as the API key dialog shows it "
            "(it is shown only once; create a new API key if it is lost).",
        ) from None
    if key.has_private():
        key = key.public_key()
    return key


def build_id_token(client_id: str, client_secret: str, timestamp_ms: int | None = None) -> str:
    from Crypto.Cipher import PKCS1_v1_5

    key = load_public_key(client_secret)
    if timestamp_ms is None:
        timestamp_ms = int(time.time() * 1000)
    plaintext = f"client_id={client_id}&timestamp={timestamp_ms}".encode()
    ciphertext = PKCS1_v1_5.new(key).encrypt(plaintext)
    return base64.b64encode(ciphertext).decode("ascii")


@dataclass
class CachedToken:
    access_token: str
    obtained_at: float

    @property
    def expires_at(self) -> float:
        return self.obtained_at + TOKEN_LIFETIME

    def fresh(self, now: float) -> bool:
        return now < self.expires_at - REFRESH_MARGIN


class TokenStore:
    """One small JSON file per (server, client_id), mode 0600."""

    def __init__(self, paths: Paths) -> None:
        self.dir = paths.cache_dir / "tokens"

    def _path(self, api_base: str, client_id: str) -> Path:
        digest = hashlib.sha256(f"{api_base}\0{client_id}".encode()).hexdigest()[:24]
        return self.dir / f"{digest}.json"

    def get(self, api_base: str, client_id: str) -> CachedToken | None:
        path = self._path(api_base, client_id)
        try:
            with open(path, "rb") as fh:
                mode = os.fstat(fh.fileno()).st_mode
                data = json.loads(fh.read())
        except (OSError, ValueError):
            return None
        refuse_if_shared(path, mode, AuthError, "cached access token")
        try:
            return CachedToken(str(data["access_token"]), float(data["obtained_at"]))
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, api_base: str, client_id: str, token: CachedToken) -> None:
        data = {"access_token": token.access_token, "obtained_at": token.obtained_at}
        write_private_file(self._path(api_base, client_id), json.dumps(data).encode())

    def drop(self, api_base: str, client_id: str) -> bool:
        try:
            self._path(api_base, client_id).unlink()
            return True
        except FileNotFoundError:
            return False

    def drop_all(self) -> int:
        count = 0
        if self.dir.is_dir():
            for path in self.dir.glob("*.json"):
                with contextlib.suppress(OSError):
                    path.unlink()
                    count += 1
        return count


def missing_credential_error(profile: Profile, generation: str) -> AuthError:
    if generation == "v2":
        return AuthError(
            f"profile {profile.name!r} has no API key, which ring and earring try-on (v2) need",
            hint="Add one with "
            f"`{shell_command('yce', 'profile', 'add', profile.name, '--api-key-stdin')}`, "
            "or set YCE_API_KEY.",
        )
    missing = [n for n in ("client_id", "client_secret") if not getattr(profile, n)]
    return AuthError(
        f"profile {profile.name!r} has no {' or '.join(missing)}, which v1 features need",
        hint=f"Add them with `{shell_command('yce', 'profile', 'add', profile.name)}`, "
        "or set YCE_CLIENT_ID and YCE_CLIENT_SECRET.",
    )


class V1Auth:
    """Hands out a valid access token, fetching and caching it as needed.

    `post` sends the auth request and returns the decoded JSON reply; it is the
    HTTP client's job (retries, errors), so this class stays free of requests.
    """

    def __init__(
        self,
        profile: Profile,
        store: TokenStore,
        post: Callable[[str, dict], dict],
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not profile.client_id or not profile.client_secret:  # not profile.has_v1
            raise missing_credential_error(profile, "v1")
        self.profile = profile
        # Both set, as checked above (the profile is frozen).
        self.client_id: str = profile.client_id
        self.client_secret: str = profile.client_secret
        self.store = store
        self.post = post
        self.clock = clock
        self._token: CachedToken | None = None

    def token(self) -> str:
        now = self.clock()
        if self._token is None or not self._token.fresh(now):
            cached = self.store.get(self.profile.api_base, self.client_id)
            if cached is not None and cached.fresh(now):
                self._token = cached
            else:
                self._token = self._fetch()
        return self._token.access_token

    def invalidate(self) -> None:
        self._token = None
        self.store.drop(self.profile.api_base, self.client_id)

    def _fetch(self) -> CachedToken:
        id_token = build_id_token(self.client_id, self.client_secret)
        obtained_at = self.clock()
        reply = self.post(AUTH_PATH, {"client_id": self.client_id, "id_token": id_token})
        try:
            access_token = reply["result"]["access_token"]
        except (KeyError, TypeError):
            raise AuthError(
                "the auth endpoint answered without an access token",
                hint="Check YCE_API_BASE / api_base points at the YouCam API server.",
            ) from None
        token = CachedToken(str(access_token), obtained_at)
        self.store.put(self.profile.api_base, self.client_id, token)
        return token
