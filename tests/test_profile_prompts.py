"""`yce profile add` in a terminal: each answer is checked as it is given, v1
credentials are proven against the server before saving, and Ctrl-C or end of input
leaves nothing behind. Driven through a real pseudo-terminal (the command prompts
only when stdin is one), against the sandbox."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import stat
import subprocess
import sys
import termios
import time

import pytest

from tests.conftest import run_cli
from ycecli.config import ConfigFile, Paths


class Terminal:
    """`python -m ycecli ARGS` with a pseudo-terminal as its controlling terminal,
    stdin, stdout and stderr: what a person at a terminal would see and type."""

    def __init__(self, *args: str) -> None:
        master, slave = pty.openpty()

        def take_terminal() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # so getpass and Ctrl-C use it

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ycecli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            preexec_fn=take_terminal,
            env=dict(os.environ, TERM="dumb"),
        )
        os.close(slave)
        self.fd = master
        self.seen = ""
        self._mark = 0

    def expect(self, text: str, timeout: float = 30) -> str:
        """Read until `text` appears after what the previous expect matched."""
        deadline = time.monotonic() + timeout
        while text not in self.seen[self._mark :]:
            if time.monotonic() > deadline or not self._read(deadline - time.monotonic()):
                raise AssertionError(f"{text!r} never came; the terminal shows:\n{self.seen}")
        self._mark = self.seen.index(text, self._mark) + len(text)
        return self.seen

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, min(timeout, 0.2)))
        if not ready:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # the other side closed
            return False
        self.seen += data.decode(errors="replace").replace("\r\n", "\n")
        return bool(data)

    def send(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def send_hidden(self, line: str, timeout: float = 30) -> None:
        """Type at a no-echo prompt, once echo is really off: a person types after the
        prompt shows, and text typed before getpass turns echo off is echoed, then
        flushed."""
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self.fd)[3] & termios.ECHO:
            if time.monotonic() > deadline:
                raise AssertionError(f"echo never went off; the terminal shows:\n{self.seen}")
            self._read(0.02)
        self.send(line)

    def press(self, key: bytes) -> None:
        os.write(self.fd, key)

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        code = self.proc.wait(timeout=1)
        while self._read(0.05):
            pass
        os.close(self.fd)
        return code


def other_key() -> str:
    """A well-formed Secret key that is not the sandbox's."""
    import base64

    from Crypto.PublicKey import RSA

    return base64.b64encode(RSA.generate(2048).public_key().export_key(format="DER")).decode()


def saved() -> ConfigFile:
    return ConfigFile.load(Paths.from_env().config_file)


@pytest.fixture
def config_file(isolated_env):
    return Paths.from_env().config_file


def test_each_answer_is_checked_as_given_and_the_credentials_proven(sandbox, config_file):
    term = Terminal("profile", "add", "work", "--api-base", sandbox.url)
    term.expect("v1 client_id")
    term.send("two words")
    term.expect("a client_id is one word")
    term.expect("v1 client_id")
    term.send(other_key())
    term.expect("that is the Secret key (client_secret)")
    term.send(sandbox.client_id)
    term.expect("v1 client_secret")
    term.send_hidden("-----BEGIN PUBLIC KEY-----")
    term.expect("the first line of a PEM block")
    term.send_hidden(sandbox.client_id)
    term.expect("too short for a Secret key")
    term.send_hidden("%" * 300)
    term.expect("not Base64")
    term.send_hidden("QUJD" * 100)
    term.expect("Base64 but not an RSA public key")
    term.send_hidden(sandbox.client_secret)
    term.expect("v2 API key")
    term.send_hidden("")
    term.expect("v1 credentials work: the server gave an access token; balance 1000 units")
    assert term.wait() == 0, term.seen
    assert "saved profile 'work'" in term.seen
    assert sandbox.client_secret not in term.seen.replace("\n", "")  # never echoed
    profile = saved().profiles["work"]
    assert profile == {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "api_base": sandbox.url,
    }
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert [p.name for p in config_file.parent.iterdir()] == ["config.yaml"]  # no temp left


def test_refused_credentials_are_saved_only_if_asked(sandbox, config_file):
    term = Terminal("profile", "add", "work", "--api-base", sandbox.url)
    term.expect("v1 client_id")
    term.send("someone-else")
    term.expect("v1 client_secret")
    term.send_hidden(sandbox.client_secret)
    term.expect("v2 API key")
    term.send_hidden("")
    term.expect("the credentials were not proven: ")
    term.expect("unknown client_id")  # the server's reason
    term.expect("Save the profile anyway? [y/N]")
    term.send("")
    assert term.wait() == 3, term.seen
    assert "not saved" in term.seen and not config_file.exists()

    again = Terminal("profile", "add", "work", "--api-base", sandbox.url)
    again.expect("v1 client_id")
    again.send("someone-else")
    again.expect("v1 client_secret")
    again.send_hidden(sandbox.client_secret)
    again.expect("v2 API key")
    again.send_hidden("")
    again.expect("Save the profile anyway? [y/N]")
    again.send("y")
    assert again.wait() == 0, again.seen
    assert saved().profiles["work"]["client_id"] == "someone-else"


def test_a_v2_key_alone_is_checked_for_form_and_saved_unproven(sandbox, config_file):
    term = Terminal("profile", "add", "shop")
    term.expect("v1 client_id")
    term.send("")
    term.expect("v2 API key")
    term.send_hidden("")
    term.expect("a profile needs v1 credentials (client_id and client_secret), a v2 API key")
    term.expect("v1 client_id")
    term.send("")
    term.expect("v2 API key")
    term.send_hidden("sk two")
    term.expect("an API key is one word")
    term.send_hidden(sandbox.api_key)
    term.expect("v2 API key not checked: the v2 API has no documented call")
    assert term.wait() == 0, term.seen
    assert saved().profiles["shop"] == {"api_key": sandbox.api_key}
    assert sandbox.requests == []  # nothing was sent for it


@pytest.mark.parametrize(
    ("key", "answers"),
    [(b"\x03", ["client_id"]), (b"\x04", []), (b"\x03", ["client_id", "secret"])],
    ids=["ctrl-c at the secret", "end of input at the first prompt", "ctrl-c at the v2 key"],
)
def test_ctrl_c_or_end_of_input_cancels_and_writes_nothing(sandbox, config_file, key, answers):
    term = Terminal("profile", "add", "work", "--api-base", sandbox.url)
    term.expect("v1 client_id")
    if "client_id" in answers:
        term.send(sandbox.client_id)
        term.expect("v1 client_secret")
    if "secret" in answers:
        term.send_hidden(sandbox.client_secret)
        term.expect("v2 API key")
    term.press(key)
    assert term.wait() == 130, term.seen
    assert "cancelled: nothing was saved" in term.seen
    assert "Traceback" not in term.seen and "bug" not in term.seen
    assert not config_file.exists()
    assert sandbox.requests == []


def test_a_client_id_flag_is_checked_first_then_only_the_secret_is_asked(sandbox, monkeypatch):
    term = Terminal("profile", "add", "work", "--client-id", "two words")
    assert term.wait() == 3  # a command-line value is checked before any prompt
    assert "--client-id: a client_id is one word" in term.seen
    # Without --api-base the proof goes where the profile will: YCE_API_BASE here.
    monkeypatch.setenv("YCE_API_BASE", sandbox.url)
    term = Terminal("profile", "add", "work", "--client-id", sandbox.client_id)
    term.expect("v1 client_secret")
    term.send_hidden("short")
    term.expect("too short for a Secret key")
    term.send_hidden(sandbox.client_secret)
    term.expect(f"checking the v1 credentials with {sandbox.url}")
    term.expect("v1 credentials work")
    assert term.wait() == 0, term.seen
    assert "v2 API key" not in term.seen
    assert saved().profiles["work"]["client_secret"] == sandbox.client_secret


def test_flags_without_a_terminal_work_as_before(sandbox):
    result = run_cli(
        "profile",
        "add",
        "ci",
        "--client-id",
        sandbox.client_id,
        "--client-secret-stdin",
        input=sandbox.client_secret + "\n",
    )
    assert result.code == 0, result.stderr
    assert "checking" not in result.stderr and sandbox.requests == []
    assert saved().profiles["ci"]["client_id"] == sandbox.client_id
