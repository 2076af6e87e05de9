"""Is this answer plausibly the credential it is meant to be? Checked as each one is
given (`yce profile add` in a terminal), before anything is sent or saved.

Each check returns None for a plausible value, else the reason in a phrase a person
can act on. Plausible is all they can say: only the server can tell whether a key
works (`profile add` asks it, at the end, for v1).

- client_id (003's "API Key"): one token, no spaces; 003's sample is 32 letters and
  digits, but the seeds give no format, so only the length is bounded.
- client_secret (003's "Secret key"): a Base64 X.509 SubjectPublicKeyInfo holding an
  RSA public key (003:257, 003:514); yce encrypts the id_token with it.
- api_key (v2, 000/001): a Bearer token; the seeds give no format, so: one token.
"""

from __future__ import annotations

import base64
import binascii
import re

from ycecli.errors import AuthError

_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
MAX_ID_CHARS = 256
# A 2048-bit RSA key as Base64 SubjectPublicKeyInfo is 392 characters; 1024-bit, 216.
MIN_SECRET_CHARS = 200


def _is_rsa_key(text: str) -> bool:
    from ycecli.auth import load_public_key

    try:
        load_public_key(text)
    except AuthError:
        return False
    return True


def client_id_problem(value: str) -> str | None:
    value = value.strip()
    if not value:
        return "the client_id is empty"
    if _SPACE_OR_CONTROL.search(value):
        return "a client_id is one word, with no spaces or control characters"
    if len(value) > MAX_ID_CHARS and _is_rsa_key(value):
        return (
            "that is the Secret key (client_secret); the client_id is the shorter "
            "'API Key' shown above it"
        )
    if len(value) > MAX_ID_CHARS:
        return f"that is too long for a client_id ({len(value)} characters)"
    return None


def client_secret_problem(value: str) -> str | None:
    text = value.strip()
    if not text:
        return "the client_secret is empty"
    if text.startswith("-----BEGIN") and "-----END" not in text:
        return (
            "that is the first line of a PEM block; paste only the Base64 text between "
            "the BEGIN and END lines, as one line"
        )
    if _is_rsa_key(text):
        return None
    compact = "".join(line for line in text.splitlines() if "-----" not in line)
    compact = "".join(compact.split())
    if len(compact) < MIN_SECRET_CHARS:
        return (
            f"that is too short for a Secret key ({len(compact)} characters; a 2048-bit "
            "key is 392): it may be the API Key (client_id)"
        )
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return "that is not Base64 (the Secret key is letters, digits, '+', '/' and '=')"
    return "that is Base64 but not an RSA public key (X.509 SubjectPublicKeyInfo)"


def api_key_problem(value: str) -> str | None:
    value = value.strip()
    if not value:
        return "the API key is empty"
    if _SPACE_OR_CONTROL.search(value):
        return "an API key is one word, with no spaces or control characters"
    if len(value) > MAX_ID_CHARS and _is_rsa_key(value):
        return "that is a v1 Secret key (client_secret), not a v2 API key"
    return None
