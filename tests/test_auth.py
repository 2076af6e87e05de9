import base64
import re
import stat
import time

from Crypto.Cipher import PKCS1_v1_5
from Crypto.PublicKey import RSA

from tests.conftest import profile_for
from ycecli.api import Yce
from ycecli.auth import build_id_token, load_public_key
from ycecli.errors import AuthError


def test_id_token_decrypts_to_the_documented_plaintext_with_a_fresh_timestamp():
    key = RSA.generate(2048)
    secret = base64.b64encode(key.public_key().export_key(format="DER")).decode()
    before = int(time.time() * 1000)
    token = build_id_token("my-client", secret)
    after = int(time.time() * 1000)
    plaintext = PKCS1_v1_5.new(key).decrypt(base64.b64decode(token), None).decode()
    match = re.fullmatch(r"client_id=my-client&timestamp=(\d{13})", plaintext)
    assert match, plaintext
    assert before <= int(match.group(1)) <= after


def test_a_pem_armoured_secret_is_accepted_and_garbage_is_refused_clearly():
    key = RSA.generate(1024)
    pem = key.public_key().export_key().decode()
    assert load_public_key(pem).n == key.n
    try:
        load_public_key("not-a-key")
    except AuthError as exc:
        assert "Base64 X.509" in exc.message
    else:
        raise AssertionError("garbage accepted")


def auth_calls(sandbox):
    return sum(1 for _, path in sandbox.requests if path == "/s2s/v1.0/client/auth")


def test_token_is_cached_on_disk_private_and_reused_across_sessions(sandbox, paths):
    with Yce(profile_for(sandbox), paths=paths) as yce:
        yce.units()
        yce.units()
    with Yce(profile_for(sandbox), paths=paths) as yce:
        yce.units()
    assert auth_calls(sandbox) == 1
    token_files = list((paths.cache_dir / "tokens").glob("*.json"))
    assert len(token_files) == 1
    assert stat.S_IMODE(token_files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(token_files[0].parent.stat().st_mode) == 0o700


def test_token_is_refreshed_once_on_401(sandbox, paths):
    with Yce(profile_for(sandbox), paths=paths) as yce:
        yce.units()
        sandbox.tokens.clear()  # the server forgets every token, as after expiry
        assert yce.units()["total"] == sandbox.units
    assert auth_calls(sandbox) == 2


def test_expired_token_is_refreshed(sandbox, paths):
    sandbox.config.token_ttl = 60
    with Yce(profile_for(sandbox), paths=paths) as yce:
        yce.units()
        sandbox.clock.advance(61)
        yce.units()
    assert auth_calls(sandbox) == 2


def test_wrong_secret_is_an_auth_error(sandbox, paths):
    other = base64.b64encode(RSA.generate(1024).public_key().export_key(format="DER")).decode()
    with Yce(profile_for(sandbox, client_secret=other), paths=paths) as yce:
        try:
            yce.units()
        except AuthError as exc:
            assert "401" in exc.message
        else:
            raise AssertionError("a wrong secret was accepted")


def test_a_cached_token_others_can_read_is_refused_with_the_fix(sandbox_env, paths):
    from tests.conftest import run_cli

    assert run_cli("auth", "check").code == 0
    [token_file] = (paths.cache_dir / "tokens").glob("*.json")
    token_file.chmod(0o644)
    result = run_cli("units")
    assert result.code == 3, result.stderr
    assert str(token_file) in result.stderr and f"chmod 600 {token_file}" in result.stderr
    token_file.chmod(0o600)
    assert run_cli("units").code == 0
    assert auth_calls(sandbox_env) == 1  # the token was never replaced behind the user's back
