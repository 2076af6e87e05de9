"""Many inputs on one command: expansion, stable sharding, output layout, fingerprints.

Shell scripts and CI jobs hand yce globs, directories and lists of files. This module
turns them into an ordered, duplicate-free list of inputs, each with the relative
folder its result should land in, so two `a.jpg` from different folders never
overwrite each other's result.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ycecli.errors import InvalidInput

EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "video/mp4": (".mp4",),
}


@dataclass(frozen=True)
class BatchInput:
    text: str  # what the core receives: a path, a URL or id:<file_id>
    folder: Path  # where its result goes, relative to the output directory


def _is_remote(text: str) -> bool:
    return text.startswith(("id:", "http://", "https://"))


def read_list(source: str) -> list[str]:
    """One input per line; blank lines and lines starting with # are ignored."""
    if source == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            lines = Path(source).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InvalidInput(f"--from-file {source}: cannot be read ({exc.strerror})") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def expand_inputs(
    texts: Iterable[str],
    *,
    content_types: Iterable[str],
    recursive: bool = False,
    from_file: str | None = None,
) -> list[BatchInput]:
    """Expand globs and directories; keep URLs and ids as they are."""
    suffixes = tuple(s for t in content_types for s in EXTENSIONS.get(t, ()))
    raw = list(texts) + (read_list(from_file) if from_file else [])
    found: list[tuple[str, Path | None]] = []  # (text, the directory it was found in)
    for text in raw:
        if _is_remote(text):
            found.append((text, None))
            continue
        path = Path(text).expanduser()
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            files = sorted(
                p for p in path.glob(pattern) if p.is_file() and p.suffix.lower() in suffixes
            )
            if not files:
                raise InvalidInput(
                    f"directory {text} has no {'/'.join(suffixes)} files"
                    + ("" if recursive else " at its top level"),
                    hint=None if recursive else "Add --recursive to include its subfolders.",
                )
            found.extend((str(p), path) for p in files)
        elif not path.exists() and any(c in text for c in "*?["):
            matches = sorted(glob.glob(os.path.expanduser(text), recursive=recursive))
            matches = [m for m in matches if Path(m).is_file()]
            if not matches:
                raise InvalidInput(f"no file matches {text}", hint="Check the pattern's quoting.")
            found.extend((m, None) for m in matches)
        else:
            found.append((text, None))
    # One directory alone: its contents mirror into the output directory. Anything
    # else: paths below the inputs' common folder, so names cannot collide.
    single_root = len(raw) == 1 and bool(found) and found[0][1] is not None
    return _with_folders(_unique(found), use_roots=single_root)


def _unique(found: list[tuple[str, Path | None]]) -> list[tuple[str, Path | None]]:
    seen: set[str] = set()
    out = []
    for text, root in found:
        key = text if _is_remote(text) else str(Path(text).expanduser().resolve())
        if key not in seen:
            seen.add(key)
            out.append((text, root))
    return out


def _with_folders(found: list[tuple[str, Path | None]], use_roots: bool) -> list[BatchInput]:
    """Where each result goes below the output directory.

    One directory given alone mirrors its subfolders. Otherwise results sit side by
    side, unless two inputs share a name: then every result keeps its path below the
    inputs' common folder, so none can overwrite another.
    """
    local = [(t, root) for t, root in found if not _is_remote(t)]
    if not local:
        return [BatchInput(t, Path()) for t, _ in found]
    paths = {t: Path(t).expanduser().resolve() for t, _ in local}
    if use_roots:
        root = local[0][1]
        assert root is not None  # use_roots: the one input was a directory
        root = root.expanduser().resolve()
        return [
            BatchInput(t, paths[t].parent.relative_to(root) if t in paths else Path())
            for t, _ in found
        ]
    stems = [paths[t].stem for t, _ in local]
    if len(set(stems)) == len(stems):
        return [BatchInput(t, Path()) for t, _ in found]
    common = Path(os.path.commonpath([p.parent for p in paths.values()]))
    return [
        BatchInput(t, paths[t].parent.relative_to(common) if t in paths else Path())
        for t, _ in found
    ]


def parse_shard(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        k, n = (int(part) for part in value.split("/"))
    except ValueError:
        raise InvalidInput(f"--shard {value!r} must look like K/N, e.g. 1/4") from None
    if not (n >= 1 and 1 <= k <= n):
        raise InvalidInput(f"--shard {value}: K must be between 1 and N")
    return k, n


def shard_key(item: BatchInput) -> str:
    """The same on every machine of a CI matrix: a path relative to the inputs'
    common folder, never an absolute path."""
    if _is_remote(item.text):
        return item.text
    return (item.folder / Path(item.text).name).as_posix()


def in_shard(item: BatchInput, shard: tuple[int, int] | None) -> bool:
    if shard is None:
        return True
    k, n = shard
    digest = hashlib.sha256(shard_key(item).encode()).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            sha.update(block)
    return sha.hexdigest()


def fingerprint(feature: str, inputs: Mapping[str, list[Any]], params: Mapping[str, Any]) -> str:
    """What makes two tasks the same: the feature, the inputs' content (not their
    names) and the parameters. Used to skip inputs already done."""
    parts: dict[str, Any] = {"feature": feature, "params": params, "inputs": {}}
    for name, refs in sorted(inputs.items()):
        values = []
        for ref in refs:
            if ref.path is not None:
                values.append("sha256:" + file_digest(ref.path))
            else:
                values.append(ref.text)
        parts["inputs"][name] = values
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
