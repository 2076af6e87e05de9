"""python -m ycecli.cli.docs --write | --check: the generated files of the repository.

The one place that imports the app to hand it to the generators."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ycecli.cli.app import app
from ycecli.cli.docs import generated_files
from ycecli.files import write_atomic


def _repo_root() -> Path:
    here = Path(__file__).resolve().parents[3]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ycecli.cli.docs",
        description="Generate the completion scripts (completions/) and man pages (man/).",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write the files")
    mode.add_argument("--check", action="store_true", help="exit 1 if any file is stale")
    parser.add_argument("--root", type=Path, default=None, help="repository root")
    args = parser.parse_args(argv)
    root = args.root or _repo_root()
    files = generated_files(app)
    stale = []
    for rel, text in files.items():
        path = root / rel
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            stale.append(rel)
            if args.write:
                write_atomic(path, text)
    for directory, pattern in (("completions", "*"), ("man", "*.1")):
        for path in sorted((root / directory).glob(pattern)):
            rel = f"{directory}/{path.name}"
            if path.is_file() and rel not in files:
                stale.append(rel)
                if args.write:
                    path.unlink()
    verb = "updated" if args.write else "stale"
    for rel in stale:
        print(f"{verb}: {rel}", file=sys.stderr)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
