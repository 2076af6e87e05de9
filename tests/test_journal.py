"""The journal: request ids no other machine uses, and claims that make two processes
start one task between them."""

import os
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import on_the_wall_clock
from ycecli import journal as jr


@pytest.fixture
def journal(tmp_path):
    j = jr.Journal(tmp_path / "state" / "journal.sqlite3")
    yield j
    j.close()


def test_request_ids_start_at_a_random_point_below_2_53_and_count_up(tmp_path, journal):
    first = journal.next_request_id("v1:acct")
    assert jr.REQUEST_ID_FLOOR <= first < 2**53
    assert journal.next_request_id("v1:acct") == first + 1
    # Another machine (another journal) on the same account starts elsewhere.
    other = jr.Journal(tmp_path / "other" / "journal.sqlite3")
    try:
        assert abs(other.next_request_id("v1:acct") - first) > 1_000_000
    finally:
        other.close()


def test_a_journal_that_counted_from_zero_jumps_to_a_random_start(tmp_path):
    path = tmp_path / "journal.sqlite3"
    old = jr.Journal(path)
    old.db.execute("INSERT INTO request_ids (account, next_id) VALUES ('v1:acct', 7)")
    old.close()
    again = jr.Journal(path)
    try:
        assert again.next_request_id("v1:acct") >= jr.REQUEST_ID_FLOOR
    finally:
        again.close()


def claim(journal, owner, outputs=()):
    return journal.claim(
        account="v1:acct",
        api_base="http://api",
        feature="enhance",
        fingerprint="f1",
        inputs=["a.jpg"],
        outputs=list(outputs),
        owner=owner,
    )


@pytest.fixture
def other_process():
    """A live process that is not this one, and its claim token."""
    # Alive for real: on the wall clock, not the tests' virtual one (tests/conftest.py).
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env=on_the_wall_clock(dict(os.environ)),
    )
    token = f"{os.uname().nodename}:{proc.pid}:{jr._process_start(proc.pid)}"
    yield token
    proc.kill()
    proc.wait()


def test_an_input_claimed_by_a_live_process_is_busy(journal, other_process):
    first = claim(journal, other_process)
    assert first.verdict == "new"
    mine = claim(journal, jr.owner_token())
    assert mine.verdict == "busy" and mine.record.id == first.record_id


def test_a_claim_whose_process_died_before_spending_is_abandoned(journal, other_process):
    first = claim(journal, "somehost-gone:1:1")  # a host that is not this one...
    journal.db.execute("UPDATE tasks SET updated_at = 0 WHERE id = ?", (first.record_id,))
    second = claim(journal, jr.owner_token())  # ...silent for long: taken over
    assert second.verdict == "new"
    assert journal.get(first.record_id).state == jr.ABANDONED


def test_an_unfinished_task_of_a_dead_process_is_resumed(journal):
    first = claim(journal, f"{os.uname().nodename}:4194305:1")  # no such pid
    journal.update(first.record_id, request_id=5, task_id="T", state=jr.RUNNING)
    again = claim(journal, jr.owner_token())
    assert again.verdict == "resume" and again.record.task_id == "T"


def test_done_needs_the_outputs_on_disk_and_dropped_is_reported(journal, tmp_path):
    out = tmp_path / "a_enhance.jpg"
    out.write_bytes(b"x")
    first = claim(journal, jr.owner_token(), [str(out)])
    journal.update(first.record_id, state=jr.DONE, outputs=[str(out)])
    assert claim(journal, jr.owner_token(), [str(out)]).verdict == "done"
    out.unlink()
    rerun = claim(journal, jr.owner_token(), [str(out)])
    assert rerun.verdict == "new"  # the result is gone: run it again
    journal.update(rerun.record_id, state=jr.DROPPED, task_id="T2")
    assert claim(journal, jr.owner_token(), [str(out)]).verdict == "dropped"


def test_claims_from_two_processes_at_once_make_one_owner(tmp_path):
    path = tmp_path / "journal.sqlite3"
    jr.Journal(path).close()
    script = (
        "import sys; from pathlib import Path; from ycecli import journal as jr\n"
        "j = jr.Journal(Path(sys.argv[1]))\n"
        "c = j.claim(account='a', api_base='b', feature='enhance', fingerprint='f', "
        "inputs=['x'], outputs=[], owner=jr.owner_token())\n"
        "print(c.verdict, flush=True); import time; time.sleep(2)\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            env=on_the_wall_clock(dict(os.environ)),  # each holds its claim for real
        )
        for _ in range(4)
    ]
    verdicts = sorted(p.communicate(timeout=30)[0].strip() for p in procs)
    assert verdicts == ["busy", "busy", "busy", "new"]
    rows = sqlite3.connect(path).execute("SELECT count(*) FROM tasks").fetchone()
    assert rows == (1,)
