"""The man pages (man/): yce.1, one page per feature command and one per tool group.

Every page's EXAMPLES are the examples of its commands' own help (`--help`), so they
are written once, next to the command.
"""

from __future__ import annotations

import re

from ycecli import __version__
from ycecli.cli.docs.tree import Command, Param, clean, dedent, short_help
from ycecli.cli.helptext import TOOLS_PANEL
from ycecli.config import ENV_OVERRIDES, ENV_PROFILE, Paths
from ycecli.errors import EXIT_STATUS_MEANING
from ycecli.features import GROUPS, InputSpec


def roff(text: str, fill: bool = True) -> str:
    """Escape plain text for a roff text line; `code` becomes bold. With fill=False
    (for .nf blocks) spacing is kept and backticks are left alone."""
    if fill:
        text = clean(text)
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)
    if fill:
        text = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)
    return _line_safe(text)


def _line_safe(line: str) -> str:
    # A text line must not start with a control character (. or ').
    return "\\&" + line if line.startswith((".", "'")) else line


def B(text: str) -> str:  # noqa: N802 - roff font names
    return "\\fB" + roff(text) + "\\fR"


def I(text: str) -> str:  # noqa: E743, N802
    return "\\fI" + roff(text) + "\\fR"


def _th(name: str) -> list[str]:
    # no date: the pages must not change unless the code does; no hyphenation or
    # justification: option names and paths must stay whole and copyable
    return [f'.TH {roff(name.upper())} 1 "" "yce {__version__}" "yce manual"', ".nh", ".ad l"]


def _paragraphs(text: str | None) -> list[str]:
    out: list[str] = []
    for para in (text or "").split("\n\n"):
        if para.strip():
            if out:
                out.append(".PP")
            out.append(roff(para))
    return out


def _example_block(examples) -> list[str]:
    lines = [".RS 4", ".nf"]
    lines += [roff(e, fill=False) for e in examples]
    return [*lines, ".fi", ".RE"]


def _metavar(opt: Param) -> str:
    if opt.choices:
        listed = "{" + "|".join(opt.choices) + "}"
        # a long list would not fit on a terminal line: named, and listed in the text
        if len(listed) <= 40 and not any(" " in v for v in opt.choices):
            return listed
        return "NAME"
    if opt.metavar:
        return opt.metavar
    if "--output" in opt.names:
        return "PATH"
    if opt.values == ("files",):
        return "FILE"
    if "Int" in opt.type_name:
        return "INTEGER"
    if "Float" in opt.type_name:
        return "NUMBER"
    return "TEXT"


def _option_help(opt: Param) -> str:
    text = opt.help_text if opt.help_text is not None else clean(opt.help)
    spec = opt.spec
    if isinstance(spec, InputSpec):
        text = f"{spec.help} Limits: {_limits(spec)}."
    aliases = getattr(spec, "aliases", None)
    if aliases:
        text += " Values: " + ", ".join(f"{w} ({v})" for w, v in aliases.items()) + "."
    elif opt.choices and _metavar(opt) == "NAME":
        text += " Values: " + ", ".join(opt.choices) + "."
    if opt.multiple and "several times" not in text and "Repeat" not in text:
        text += " May be given several times."
    return text


def _limits(spec: InputSpec) -> str:
    facts = spec.rules.describe()
    if spec.rules.note:
        facts += f" ({spec.rules.note})"
    return facts


def _option_entry(opt: Param) -> list[str]:
    parts = []
    for names in (opt.names, opt.secondary):
        if names:
            tag = ", ".join(B(n) for n in names)
            if opt.takes_value:
                tag += " " + I(_metavar(opt))
            parts.append(tag)
    return [".TP", " | ".join(parts) if len(parts) > 1 else parts[0], roff(_option_help(opt))]


def _usage(node: Command) -> str:
    words = [B("yce"), "[" + I("GLOBAL OPTIONS") + "]"] if node.path else [B("yce")]
    if node.path:
        words.append(B(" ".join(node.path)))
    if any(opt.name != "help" for opt in node.options):
        words.append("[" + I("OPTIONS") + "]")
    for arg in node.arguments:
        label = arg.metavar or (arg.name or "").upper()
        if arg.variadic and not label.endswith("..."):
            label += "..."
        words.append(I(label) if arg.required else "[" + I(label) + "]")
    return " ".join(words)


def _exit_status() -> list[str]:
    lines = [".SH EXIT STATUS"]
    for code, meaning in EXIT_STATUS_MEANING.items():
        lines += [".TP", f"{B(str(int(code)))} ({roff(code.name)})", roff(meaning)]
    return lines


# What each profile field an environment variable overrides means.
FIELD_MEANING = {
    "api_key": "the v2 API key (ring and earring try-on)",
    "client_id": "the v1 client id (the API Key of the API key dialog)",
    "client_secret": "the v1 client secret (the Secret key of the API key dialog)",
    "api_base": "the v1 server root, e.g. http://127.0.0.1:8080",
    "api_base_v2": "the v2 server root",
}


def _environment() -> list[str]:
    entries = [(ENV_PROFILE, "Profile to use (the `--profile` option wins).")]
    for var, fld in ENV_OVERRIDES.items():
        meaning = FIELD_MEANING.get(fld, f"the profile field {fld}")
        entries.append((var, f"Overrides `{fld}` of the profile: {meaning}."))
    entries += [
        ("YCE_CONFIG", "Path of the config file."),
        (
            "XDG_CONFIG_HOME, XDG_CACHE_HOME, XDG_STATE_HOME",
            "Where the config file, the caches and the task journal live (see FILES).",
        ),
        ("NO_COLOR", "No colour in output."),
    ]
    lines = [
        ".SH ENVIRONMENT",
        roff(
            "Environment variables override the config file; with the credential "
            "variables set no config file is needed at all (CI)."
        ),
    ]
    for var, text in entries:
        lines += [".TP", ", ".join(B(v) for v in var.split(", ")), roff(text)]
    return lines


def _file_entries() -> dict[str, tuple[str, str]]:
    paths = Paths.from_env({"HOME": "~"})
    return {
        "config": (
            str(paths.config_file),
            "The profiles (YAML), mode 0600; `$YCE_CONFIG`, else "
            "`$XDG_CONFIG_HOME/yce/config.yaml`. See yce-profile(1).",
        ),
        "tokens": (
            str(paths.cache_dir / "tokens") + "/",
            "Cached access tokens, one file per server and client id, mode 0600 "
            "(`$XDG_CACHE_HOME/yce/tokens/`). `yce auth logout` deletes them.",
        ),
        "styles": (
            str(paths.cache_dir / "styles") + "/",
            "Style id to style group maps, filled when `--style` is given without "
            "`--style-group` (`$XDG_CACHE_HOME/yce/styles/`); completion offers these ids.",
        ),
        "journal": (
            str(paths.state_dir / "journal.sqlite3"),
            "The task journal (`$XDG_STATE_HOME/yce/journal.sqlite3`): every task is "
            "written here before its first poll. See yce-task(1).",
        ),
    }


def _files(keys=None) -> list[str]:
    lines = [".SH FILES"]
    for key, (path, text) in _file_entries().items():
        if keys is None or key in keys:
            lines += [".TP", I(path), roff(text)]
    return lines


def _see_also(pages: list[str]) -> list[str]:
    return [".SH SEE ALSO", ", ".join(f"{B(p)}(1)" for p in pages)]


# Notes and FILES entries of the tool commands' pages (a feature's page is built from
# the registry). Their EXAMPLES are their commands' help examples, as for features.
TOOL_NOTES = {
    "styles": "Style ids are integers above 2**53; they are printed and parsed as exact "
    "integers, so what `yce styles list` prints works as `--style`. Listing styles "
    "costs no units.",
    "units": "The balance is the sum of every unit lot; a task is charged only when it succeeds.",
    "task": "Every task is written to the journal before its first poll. A task must "
    "be polled within its polling window (10 seconds), so `yce task wait` can resume a "
    "task only shortly after yce stopped polling it (after a timeout, exit status 7).",
    "profile": "Secrets never come from the command line (where ps and shell history "
    "would see them): they are read from a prompt without echo, or from stdin with "
    "`--client-secret-stdin` and `--api-key-stdin`.",
    "auth": "v1 credentials are checked by getting a fresh access token (which is then "
    "cached); a v2 API key can only be checked by using it.",
    "sandbox": "The sandbox is a local emulator of the API: strict authentication, "
    "presigned uploads, request_id de-duplication, the polling window, rate limits and "
    "a unit ledger; its results are derived from your inputs, clearly not AI. "
    "`yce --sandbox COMMAND` runs one in-process for a single command.",
    "completion": "The scripts complete commands, options, choices (scales, finger names, "
    "skin concerns, ...), profile names and cached style ids. Profile names and style "
    "ids are read at TAB time from local files only, through a hidden `yce completion "
    "words` command; nothing goes to the network.",
}
TOOL_FILES = {
    "profile": ("config",),
    "auth": ("tokens",),
    "task": ("journal",),
    "styles": ("styles",),
}


def _feature_page(node: Command) -> str:
    feature = node.feature
    assert feature is not None, "pages() makes a feature page only for a feature's command"
    name = f"yce-{feature.command}"
    lines = [
        *_th(name),
        ".SH NAME",
        f"{roff(name)} \\- {roff(feature.summary.rstrip('.'))}",
        ".SH SYNOPSIS",
        _usage(node),
        ".SH DESCRIPTION",
        roff(feature.summary),
        ".PP",
        roff(
            f"This is the vendor's {feature.title} feature (API slug {feature.slug}), on "
            f"the {feature.generation} API: tasks are run at {feature.task_url_path}"
            + (f" and files uploaded at {feature.upload_url_path}" if feature.inputs else "")
            + f"; the result is {_RESULTS.get(feature.result, feature.result)}."
        ),
    ]
    if feature.styles:
        lines += [
            ".PP",
            roff(
                f"Find style ids with `yce styles list {feature.command}`; the style "
                "group is looked up (and cached) when only `--style` is given."
            ),
        ]
    if feature.seed_lines:
        lines += [".PP", roff(f"Built from the vendor documents: {feature.seed_lines}.")]
    if feature.inputs:
        lines += [
            ".SH INPUTS",
            roff(
                "Every input may be a local path, an http(s):// URL (downloaded and "
                "checked, or passed on as it is where the API takes URLs) or "
                "id:<file_id> (a dst_id of an earlier result). Inputs are checked "
                "before anything is uploaded: real format, size and dimensions."
            ),
        ]
        for spec in feature.inputs:
            if spec.positional or spec.argument:
                tag = I(spec.metavar or "INPUT...")
                lines += [".TP", tag, roff(f"{spec.help} Limits: {_limits(spec)}.")]
    # Options by what they are about: the files, the feature's own parameters, where
    # results go, and how a batch of inputs runs.
    groups: dict[str, list[Param]] = {
        "Input files": [],
        "Parameters": [],
        "Output": [],
        "Running": [],
    }
    for opt in node.options:
        if isinstance(opt.spec, InputSpec):
            groups["Input files"].append(opt)
        elif opt.spec is not None:
            groups["Parameters"].append(opt)
        elif {"--output", "--overwrite"} & set(opt.names):
            groups["Output"].append(opt)
        else:
            groups["Running"].append(opt)
    lines += [
        ".SH OPTIONS",
        roff("Global options (`--profile`, `--sandbox`, `--json`, ...) go before the command."),
    ]
    for title, opts in groups.items():
        if opts:
            lines.append(f".SS {title}")
            for opt in opts:
                lines += _option_entry(opt)
    lines += _examples(node)
    if feature.error_hints:
        lines.append(".SH ENGINE ERRORS")
        for code, hint in feature.error_hints.items():
            lines += [".TP", B(code), roff(hint)]
    lines += _exit_status()
    see = ["yce", "yce-task"] + (["yce-styles"] if feature.styles else [])
    lines += _see_also(see)
    return "\n".join(lines) + "\n"


_RESULTS = {
    "image": "an image file per output",
    "video": "a video file",
    "zip": "a ZIP archive, unpacked",
    "json": "JSON, printed and saved",
}


def _entries(node: Command) -> list[Command]:
    """The commands a tool group's page describes: the group itself if it does
    something alone (`yce units`), then every command under it."""
    return ([node] if node.runs_itself else []) + [
        n for n in node.walk() if n is not node and not n.is_group
    ]


def page_examples(node: Command) -> tuple[str, ...]:
    """The EXAMPLES of a command's page: its own help examples, or for a tool group
    those of the group and of each command under it, in order, each once."""
    if not node.path:
        return node.examples
    return tuple(dict.fromkeys(e for n in node.walk() for e in n.examples))


def _examples(node: Command) -> list[str]:
    examples = page_examples(node)
    return [".SH EXAMPLES", *_example_block(examples)] if examples else []


def _tool_page(node: Command) -> str:
    name = f"yce-{node.name}"
    entries = _entries(node)
    lines = [
        *_th(name),
        ".SH NAME",
        f"{roff(name)} \\- {roff(short_help(node.help, 200).rstrip('.'))}",
        ".SH SYNOPSIS",
    ]
    for i, entry in enumerate(entries):
        if i:
            lines.append(".br")
        lines.append(_usage(entry))
    lines += [".SH DESCRIPTION", *_paragraphs(node.help)]
    if node.name in TOOL_NOTES:
        lines += [".PP", roff(TOOL_NOTES[node.name])]
    lines.append(".SH COMMANDS")
    for entry in entries:
        lines.append(".SS " + roff(" ".join(("yce", *entry.path))))
        # a group's own help was the DESCRIPTION; the callback's docstring is the same
        body = entry.doc if entry is node else entry.help
        lines += _paragraphs(dedent(body))
        for arg in entry.arguments:
            label = arg.metavar or (arg.name or "").upper()
            lines += [".TP", I(label), roff(arg.help_text or "")]
        for opt in entry.options:
            if opt.name != "help":
                lines += _option_entry(opt)
    lines += _examples(node)
    if node.name in TOOL_FILES:
        lines += _files(TOOL_FILES[node.name])
    lines += _exit_status()
    lines += _see_also(["yce"])
    return "\n".join(lines) + "\n"


def _main_page(root: Command) -> str:
    help_text = dedent(root.help)
    summary, _, rest = help_text.partition("\n\n")
    lines = [
        *_th("yce"),
        ".SH NAME",
        "yce \\- " + roff(summary.split(": ", 1)[-1].rstrip(".")),
        ".SH SYNOPSIS",
        f"{B('yce')} [{I('GLOBAL OPTIONS')}] {I('COMMAND')} [{I('OPTIONS')}] [{I('ARGS')}]...",
        ".SH DESCRIPTION",
        roff(summary),
        ".PP",
        roff(
            "yce uploads your files, runs the task, polls it the way the API demands, "
            "and writes the result to disk, atomically, without overwriting anything "
            "you did not ask it to (`--overwrite`), and without paying twice for a task "
            "it had to retry."
        ),
        ".PP",
        roff(
            "Results (the paths written, or JSON with `--json`) go to stdout; messages "
            "and progress go to stderr."
        ),
        *([".PP", roff(rest)] if rest.strip() else []),
        ".SH GLOBAL OPTIONS",
        roff("Global options go before the command."),
    ]
    for opt in root.options:
        lines += _option_entry(opt)
    lines.append(".SH COMMANDS")
    # under the headings `yce --help` lists them under
    sections: dict[str, list[Command]] = {}
    for child in root.children:
        sections.setdefault(child.panel or TOOLS_PANEL, []).append(child)
    for panel in (*GROUPS, TOOLS_PANEL):
        if not sections.get(panel):
            continue
        lines.append(f".SS {roff(panel)}")
        for child in sections[panel]:
            if child.feature is not None:
                lines += [
                    ".TP",
                    B(child.name),
                    roff(f"{short_help(child.help, 200)} See yce-{child.name}(1)."),
                ]
                continue
            for entry in _entries(child):
                doc = child.doc if entry is child else entry.help
                text = clean(dedent(doc).split("\n\n")[0]).rstrip(".") + "."
                lines += [
                    ".TP",
                    B(" ".join(entry.path)),
                    roff(f"{text} See yce-{child.name}(1)."),
                ]
    lines += _examples(root)
    lines += _exit_status()
    lines += _environment()
    lines += _files()
    lines += _see_also([f"yce-{c.name}" for c in root.children])
    return "\n".join(lines) + "\n"


def pages(root: Command) -> dict[str, str]:
    """{file name: roff text}: yce.1, one page per feature command and per tool group."""
    out = {"yce.1": _main_page(root)}
    for child in root.children:
        page = _feature_page(child) if child.feature is not None else _tool_page(child)
        out[f"yce-{child.name}.1"] = page
    return out
