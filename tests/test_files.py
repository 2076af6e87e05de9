"""Every file yce writes: whole or not at all, never over an existing one unless asked."""

import os
import stat

import pytest

from ycecli.errors import ExitStatus, OutputExists
from ycecli.files import (
    PartFile,
    atomic_file,
    copy_atomic,
    refuse_existing,
    remove_stale_parts,
    write_atomic,
)


def test_a_write_that_fails_halfway_leaves_neither_file_nor_part(tmp_path):
    tmp_path = tmp_path / "out"
    dest = tmp_path / "out.jpg"
    with pytest.raises(RuntimeError), atomic_file(dest) as out:
        out.write(b"half a picture")
        raise RuntimeError("disk gone")
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_kept_unless_overwrite_is_asked(tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    dest = tmp_path / "out.jpg"
    dest.write_bytes(b"earlier result")
    with pytest.raises(OutputExists) as caught:
        write_atomic(dest, b"new", overwrite=False)
    assert caught.value.exit_status == ExitStatus.INVALID_INPUT  # 4: nothing was spent
    assert "--overwrite" in (caught.value.hint or "")
    assert dest.read_bytes() == b"earlier result"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jpg"]
    write_atomic(dest, b"new", overwrite=True)
    assert dest.read_bytes() == b"new"


def test_refuse_existing_names_the_path_and_the_fix(tmp_path):
    taken = tmp_path / "photo_enhance.jpg"
    refuse_existing(taken, overwrite=False)  # free: nothing to say
    taken.write_bytes(b"x")
    refuse_existing(taken, overwrite=True)
    with pytest.raises(OutputExists, match="photo_enhance.jpg already exists"):
        refuse_existing(taken, overwrite=False)


def test_private_files_are_0600_and_others_follow_the_umask(tmp_path):
    secret = write_atomic(tmp_path / "token.json", "{}", private=True)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    old = os.umask(0o022)
    try:
        public = write_atomic(tmp_path / "report.html", "<p>")
    finally:
        os.umask(old)
    assert stat.S_IMODE(public.stat().st_mode) == 0o644


def test_copy_is_whole_and_respects_an_existing_target(tmp_path):
    source = tmp_path / "a.jpg"
    source.write_bytes(b"\xff\xd8" + os.urandom(3 << 20))
    copy_atomic(source, tmp_path / "b.jpg", overwrite=False)
    assert (tmp_path / "b.jpg").read_bytes() == source.read_bytes()
    with pytest.raises(OutputExists):
        copy_atomic(source, tmp_path / "b.jpg", overwrite=False)


def test_stale_parts_of_a_killed_run_go_and_a_live_writers_stay(tmp_path):
    target = tmp_path / "out.mp4"
    killed = tmp_path / ".out.mp4.0a1b2c3d.part"
    killed.write_bytes(b"left by a killed run")
    live = PartFile(target)  # held (locked) by this process, as a running download
    try:
        removed = remove_stale_parts(target)
        assert removed == [killed]
        assert live.path.exists()
    finally:
        live.discard()
    assert not live.path.exists()
