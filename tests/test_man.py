"""Man pages: fresh, complete, and clean under groff and man."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import typer.main
from typer import _click as click

from tests.conftest import REPO
from ycecli.cli.app import app
from ycecli.cli.docs import command_tree, man_pages
from ycecli.errors import EXIT_STATUS_MEANING
from ycecli.features import FEATURES

MAN = REPO / "man"


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return man_pages(app)


def plain(roff: str) -> str:
    """Roff source with the escapes this generator uses undone, for searching."""
    text = roff.replace("\\-", "-").replace("\\fB", "").replace("\\fI", "").replace("\\fR", "")
    return text.replace("\\&", "").replace("\\e", "\\")


def test_committed_pages_are_fresh(pages):
    committed = {p.name for p in MAN.glob("*.1")}
    assert committed == set(pages), "run python -m ycecli.cli.docs --write"
    for name, text in pages.items():
        assert (MAN / name).read_text() == text, (
            f"man/{name} is stale: run python -m ycecli.cli.docs --write"
        )


def test_generation_is_deterministic(pages):
    assert man_pages(app) == pages
    for text in pages.values():
        assert not re.search(r"20\d\d-\d\d-\d\d", text)  # no date from the clock


def test_every_command_has_a_page_and_is_in_yce_1(pages):
    root = command_tree(app)
    for feature in FEATURES:
        if not feature.hidden:
            assert f"yce-{feature.command}.1" in pages
    tools = [child.name for child in root.children if child.feature is None]
    assert set(tools) >= {"profile", "task", "units", "auth", "styles", "sandbox", "completion"}
    for tool in tools:
        assert f"yce-{tool}.1" in pages
    main = plain(pages["yce.1"])
    for node in root.walk():
        if node.path:
            assert f"\n{' '.join(node.path)}\n" in main or node.is_group, node.path
        if node.path and node.feature is not None:
            page = plain(pages[f"yce-{node.name}.1"])
            assert node.feature.title in page and node.feature.seed_lines in page
            for opt in node.options:
                for name in opt.names:
                    assert name in page, (node.path, name)
            for example in node.feature.examples:
                assert example in page
    for code in EXIT_STATUS_MEANING:
        assert f"\n{int(code)} ({code.name})\n" in main
    for section in ("SYNOPSIS", "EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"):
        assert f".SH {section}\n" in pages["yce.1"]


def man_examples(roff: str) -> list[str]:
    """The lines of a page's EXAMPLES block."""
    block = roff.split(".SH EXAMPLES\n.RS 4\n.nf\n", 1)[1].split("\n.fi\n", 1)[0]
    return plain(block).splitlines()


def help_examples(command, ctx) -> list[str]:
    """The examples `--help` shows, one a line, as a user sees them."""
    text = command.get_help(ctx)
    if "\n  Examples:\n" not in text:
        return []
    lines = []
    for line in text.split("\n  Examples:\n", 1)[1].splitlines():
        if not line.strip():
            break
        assert line.startswith("    "), line
        lines.append(line[4:])
    return lines


def test_every_page_shows_the_examples_of_its_commands_help(pages):
    """Examples are written once, in each command's help: a page's EXAMPLES are those
    of the commands it describes, in order (a tool group's page: the group's and each
    subcommand's), each once."""
    root = typer.main.get_command(app)
    root_ctx = click.Context(root, info_name="yce", **(root.context_settings or {}))

    def walk(command, ctx):
        yield command, ctx
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))

    assert man_examples(pages["yce.1"]) == help_examples(root, root_ctx) != []
    for name in root.list_commands(root_ctx):
        command = root.get_command(root_ctx, name)
        if command is None or command.hidden:
            continue
        ctx = click.Context(command, info_name=name, parent=root_ctx)
        expected = []
        for sub, sub_ctx in walk(command, ctx):
            listed = help_examples(sub, sub_ctx)
            if not hasattr(sub, "list_commands"):
                assert listed, f"{sub_ctx.command_path} --help has no examples"
            expected += [e for e in listed if e not in expected]
        assert man_examples(pages[f"yce-{name}.1"]) == expected, name


def test_environment_and_files_come_from_the_code(pages):
    from ycecli.config import ENV_OVERRIDES, ENV_PROFILE

    main = plain(pages["yce.1"])
    for var in (*ENV_OVERRIDES, ENV_PROFILE, "YCE_CONFIG", "XDG_CONFIG_HOME"):
        assert var in main
    for path in ("~/.config/yce/config.yaml", "~/.cache/yce/tokens/", "journal.sqlite3"):
        assert path in main


def test_text_lines_are_safe_roff(pages):
    for name, text in pages.items():
        for line in text.splitlines():
            assert line.strip(), f"{name}: empty line"
            if line.startswith("."):
                assert re.match(r"\.(TH|SH|SS|TP|PP|RS|RE|nf|fi|br|nh|ad)\b", line), (name, line)
            assert not line.startswith("'"), (name, line)
            assert line.isascii(), (name, line)
            # option names are written with \- so they are not broken or turned into
            # typographic hyphens
            assert not re.search(r"(?<!\\)--[a-z]", line), (name, line)


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_pages_render_with_groff_without_warnings():
    for path in sorted(MAN.glob("*.1")):
        proc = subprocess.run(
            ["groff", "-ww", "-z", "-man", str(path)], capture_output=True, text=True
        )
        assert proc.returncode == 0 and proc.stderr == "", (path.name, proc.stderr)


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_pages_render_with_man_l():
    env = {**os.environ, "MANWIDTH": "80", "PAGER": "cat"}
    for path in sorted(MAN.glob("*.1")):
        proc = subprocess.run(
            ["man", "--warnings", "-l", str(path)], capture_output=True, text=True, env=env
        )
        assert proc.returncode == 0, (path.name, proc.stderr)
        assert proc.stderr == "", (path.name, proc.stderr)
        text = re.sub(".\b", "", proc.stdout)  # overstrike bold, when not on a terminal
        assert "NAME" in text and "EXIT STATUS" in text
