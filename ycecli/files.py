"""Every file yce writes goes through here: written beside its name, then moved into
place, so a reader never sees half a file, and never over an existing one unless the
user asked.

- `refuse_existing` is the one place that decides "already exists";
- `atomic_file` / `write_atomic` / `copy_atomic` write whole files (results, pictures,
  reports, profiles and tokens with `private=True`);
- `PartFile` is the locked part file a download streams into, and
  `remove_stale_parts` clears the ones a killed run left behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ycecli.errors import OutputExists

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted there anyway
    fcntl = None  # type: ignore[assignment]

PART_SUFFIX = ".part"
OVERWRITE_HINT = "Pass --overwrite to replace it, or choose another -o."


def exists_error(path: Path | str, detail: str = "", hint: str = OVERWRITE_HINT) -> OutputExists:
    """The error every "already exists" refusal raises, worded one way."""
    return OutputExists(f"{path} already exists{detail}", hint=hint)


def refuse_existing(
    path: Path | str, *, overwrite: bool, detail: str = "", hint: str = OVERWRITE_HINT
) -> None:
    """An existing file is replaced only when the user asked: raise before anything
    is spent on work that would write it."""
    if not overwrite and Path(path).exists():
        raise exists_error(path, detail, hint)


def umask() -> int:
    """The process umask, read once: reading it means setting it, which is not safe
    while worker threads create files."""
    global _umask_value
    with _umask_lock:
        if _umask_value is None:
            _umask_value = os.umask(0o022)
            os.umask(_umask_value)
        return _umask_value


_umask_value: int | None = None
_umask_lock = threading.Lock()


class PartFile:
    """A hidden temporary file beside the target, locked while this process writes
    it: the cleanup of a later run (remove_stale_parts) skips a part whose writer
    still holds it, and removes one whose writer was killed."""

    def __init__(self, target: Path, *, private: bool = False) -> None:
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        while True:
            path = target.parent / f".{target.name}.{secrets.token_hex(4)}{PART_SUFFIX}"
            try:
                self.fd: int | None = os.open(path, flags, 0o600)
                break
            except FileExistsError:
                continue
        self.path = path
        self.private = private
        if fcntl is not None:
            fcntl.flock(self.fd, fcntl.LOCK_EX)

    def publish(self, target: Path, *, overwrite: bool) -> None:
        if not self.private:
            os.chmod(self.path, 0o666 & ~umask())
        if fcntl is None and self.fd is not None:
            os.close(self.fd)  # Windows cannot rename a file that is open
            self.fd = None
        place_file(self.path, target, overwrite=overwrite)

    def discard(self) -> None:
        """Remove what is left (nothing, once published); unlink before closing, so
        the lock is held until the name is gone."""
        with contextlib.suppress(OSError):
            self.path.unlink()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def place_file(tmp: Path, target: Path, *, overwrite: bool) -> None:
    """Move a finished file into place; without `overwrite`, never replace one that
    appeared meanwhile (a hard link fails atomically if the name is taken)."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise exists_error(target) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK):
            raise
        # No hard links here (some network and FAT file systems): best effort.
        if target.exists():
            raise exists_error(target) from None
        os.replace(tmp, target)
        return
    tmp.unlink()


@contextlib.contextmanager
def atomic_file(
    dest: Path | str, *, overwrite: bool = True, private: bool = False, durable: bool = True
) -> Iterator[BinaryIO]:
    """Yield a binary file to write; on a clean exit it becomes `dest` whole.

    `private`: mode 0600 from the first byte (secrets). `durable`: fsync before the
    rename, so the file survives a power cut once its name is there."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = PartFile(dest, private=private)
    try:
        assert part.fd is not None
        with os.fdopen(os.dup(part.fd), "wb") as out:
            yield out
            out.flush()
            if durable:
                os.fsync(out.fileno())
        part.publish(dest, overwrite=overwrite)
    finally:
        part.discard()


def write_atomic(
    dest: Path | str, data: bytes | str, *, overwrite: bool = True, private: bool = False
) -> Path:
    with atomic_file(dest, overwrite=overwrite, private=private) as out:
        out.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(dest)


def copy_atomic(source: Path | str, dest: Path | str, *, overwrite: bool) -> Path:
    with atomic_file(dest, overwrite=overwrite) as out, open(source, "rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
    return Path(dest)


def remove_stale_parts(target: Path) -> list[Path]:
    """Remove the part files of `target` that a killed run left behind; returns them."""
    prefix = f".{target.name}."
    removed = []
    with contextlib.suppress(OSError), os.scandir(target.parent) as entries:
        for entry in entries:
            name = entry.name
            if not (name.startswith(prefix) and name.endswith(PART_SUFFIX)):
                continue
            # The random middle of our part names (and of tempfile's): nothing else.
            if not re.fullmatch(r"[a-z0-9_]{8}", name[len(prefix) : -len(PART_SUFFIX)]):
                continue
            path = Path(entry.path)
            if _remove_if_abandoned(path):
                removed.append(path)
    return removed


def _remove_if_abandoned(path: Path) -> bool:
    if fcntl is None:
        try:
            path.unlink()  # refused while another process has it open
            return True
        except OSError:
            return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False  # its writer is alive
    try:
        path.unlink()
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
