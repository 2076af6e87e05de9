"""Shell completion scripts and man pages, generated from the command tree.

    python -m ycecli.cli.docs --write    # regenerate completions/ and man/
    python -m ycecli.cli.docs --check    # exit 1 if the committed files are stale

Everything comes from the Click command tree Typer builds (`typer.main.get_command`)
plus the registry (ycecli.features) for what the tree does not know: vendor names,
input limits, seed references, which options take files, profile names or style
ids. The output depends on nothing but the code (no clock, no environment), so the
committed files can be compared with it (tests/test_completion.py, tests/test_man.py).

Completion design: the scripts are static. Commands, options, choices (finger
names, occlusion, scales, skin concerns, ...) and which options take a value are
written into the script itself, so most TABs run no Python at all: instant, even on a
slow machine, and the script can be read and reviewed. Only values that live in the
user's files are asked for at TAB time, through the hidden, offline
`yce completion words profiles|styles FEATURE` (profile names from the config file,
style ids from the style cache that `--style` lookups fill); it never touches the
network and prints nothing on error. The alternative, Click's `_YCE_COMPLETE`
callback, would start Python and build the whole command tree on every TAB (over
100 ms on a busy machine) and could not be committed to completions/ as files to
review and package.

This module is imported only by `yce completion` and by this generator, never for
`yce --help`.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import typer.main
from typer import _click as click

from ycecli import __version__
from ycecli.cli.completion_cmd import MARKER

SHELLS = ("bash", "zsh", "fish")
COMPLETION_FILES = {"bash": "yce.bash", "zsh": "_yce", "fish": "yce.fish"}
GENERATOR = "python -m ycecli.cli.docs --write"
# `yce completion install` replaces only files that carry MARKER.
HEADER = f"{MARKER} {__version__} ({GENERATOR}); do not edit"


# --------------------------------------------------------------------------------------
# The command tree


@dataclass
class Node:
    """One command (or group) of the tree, with what completion and man pages need."""

    path: tuple[str, ...]
    cmd: click.Command
    ctx: click.Context
    children: list[Node] = field(default_factory=list)

    @property
    def key(self) -> str:
        return " ".join(self.path)

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else "yce"

    @property
    def options(self) -> list[click.Parameter]:
        return [
            p
            for p in self.cmd.get_params(self.ctx)
            if p.param_type_name == "option" and not getattr(p, "hidden", False)
        ]

    @property
    def arguments(self) -> list[click.Parameter]:
        return [p for p in self.cmd.get_params(self.ctx) if p.param_type_name == "argument"]

    @property
    def is_group(self) -> bool:
        return bool(self.children)

    @property
    def feature(self):
        from ycecli.features import FEATURES

        if len(self.path) != 1:
            return None
        return next((f for f in FEATURES if f.command == self.path[0] and not f.hidden), None)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def command_tree() -> Node:
    """The whole `yce` command tree, hidden commands left out."""
    from ycecli.cli.app import app

    root_cmd = typer.main.get_command(app)
    root_ctx = click.Context(root_cmd, info_name="yce", **(root_cmd.context_settings or {}))
    return _node(root_cmd, root_ctx, ())


def _node(cmd: click.Command, ctx: click.Context, path: tuple[str, ...]) -> Node:
    node = Node(path, cmd, ctx)
    if hasattr(cmd, "list_commands"):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            sub_ctx = click.Context(sub, info_name=name, parent=ctx)
            node.children.append(_node(sub, sub_ctx, (*path, name)))
    return node


def takes_value(opt: click.Parameter) -> bool:
    return not (opt.is_flag or opt.count)


def opts(opt: click.Parameter) -> list[str]:
    """An option's names in a stable order. Click builds the help option's names from
    a set, so their order changes with the hash seed: short before long, for it."""
    return sorted(opt.opts, key=len) if opt.name == "help" else list(opt.opts)


def option_names(opt: click.Parameter) -> list[str]:
    return [*opts(opt), *opt.secondary_opts]


def _param_for(node: Node, param: click.Parameter):
    """The registry InputSpec or Param behind a feature command's argument or option."""
    feature = node.feature
    if feature is None:
        return None
    if param.param_type_name == "argument":
        if param.name == "inputs":
            return feature.primary_input
        return next((s for s in feature.inputs if s.argument and s.name == param.name), None)
    for spec in feature.inputs:
        if not (spec.positional or spec.argument) and spec.flag in param.opts:
            return spec
    return next((p for p in feature.params if p.cli and p.flag in param.opts), None)


def _feature_commands(styled: bool = False) -> tuple[str, ...]:
    from ycecli.features import FEATURES

    return tuple(f.command for f in FEATURES if not f.hidden and (f.styles or not styled))


def _tool_argument_values(key: str, arg: str):
    if arg == "name" and key in ("profile show", "profile use", "profile remove"):
        return ("profiles",)
    if arg == "feature" and key in ("styles groups", "styles list"):
        return ("words", _feature_commands(styled=True))
    if arg == "feature" and key in ("task status", "task wait"):
        return ("words", _feature_commands())
    return None


def value_completion(node: Node, param: click.Parameter):
    """What the value of an option or argument completes to: ("words", values),
    ("list", values) for comma-separated lists, ("files",), ("profiles",),
    ("styles", feature command), or None for free text."""
    from ycecli.features import InputSpec

    if param.param_type_name == "option" and not takes_value(param):
        return None
    names = getattr(param, "opts", [])
    if not node.path and "--profile" in names:
        return ("profiles",)
    if (
        "--output" in names
        or any(n.endswith("-file") for n in names)
        or param.metavar in ("FILE", "PATH", "DIR")
        or type(param.type).__name__ == "Path"
    ):
        return ("files",)
    spec = _param_for(node, param)
    if isinstance(spec, InputSpec):
        return ("files",)
    choices = getattr(param.type, "choices", None)
    if choices:
        return ("words", tuple(str(getattr(c, "value", c)) for c in choices))
    if spec is not None:
        if spec.name == "style_ids":
            return ("styles", node.feature.command)
        if spec.kind in ("str_list", "int_list"):
            if spec.choices:
                return ("list", tuple(str(c) for c in spec.choices))
            if node.feature.hooks.get("prepare") == "skin_concerns" and spec.id == "concern":
                from ycecli.features.analysis import HD_CONCERNS, SD_CONCERNS

                return ("list", SD_CONCERNS + HD_CONCERNS)
        if spec.metavar and "IMAGE" in spec.metavar:  # e.g. bg-change --background COLOR|IMAGE
            return ("files",)
        return None
    if param.param_type_name == "argument":
        return _tool_argument_values(node.key, param.name)
    return None


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def short_help(cmd: click.Command, limit: int = 80) -> str:
    """The first paragraph of a command's help, or its first sentence if that is long."""
    first = _clean((cmd.help or "").split("\n\n")[0])
    if len(first) > limit:
        sentence = re.split(r"(?<=[.;:])\s", first)[0].rstrip(".;:")
        first = sentence if len(sentence) <= limit else sentence[: limit - 3].rstrip() + "..."
    return first


def _first_sentence(text: str | None, limit: int = 70) -> str:
    text = _clean(text)
    text = re.split(r"(?<=[.;])\s|\s\(|:\s", text)[0].rstrip(".;")
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


# --------------------------------------------------------------------------------------
# bash


def _sh(text: str) -> str:
    """Single-quote for POSIX shells."""
    return "'" + text.replace("'", "'\\''") + "'"


def _bash_action(spec) -> str:
    kind = spec[0]
    if kind == "words":
        return "_yce_words " + " ".join(_sh(w) for w in spec[1])
    if kind == "list":
        return "_yce_list " + " ".join(_sh(w) for w in spec[1])
    if kind == "files":
        return "_yce_files"
    if kind == "profiles":
        return "_yce_dynamic words profiles"
    if kind == "styles":
        return f"_yce_dynamic list styles {_sh(spec[1])}"
    raise ValueError(spec)


def _arg_keys(node: Node) -> list[tuple[str, click.Parameter]]:
    """Case patterns for the positional arguments: #1, #2, ... and #* for the variadic."""
    keys = []
    for index, arg in enumerate(node.arguments, start=1):
        keys.append(("*" if arg.nargs == -1 else str(index), arg))
    return keys


def bash_script(root: Node) -> str:
    nodes = list(root.walk())
    out = [
        f"# bash completion for yce, {HEADER}.",
        "# Install: yce completion install bash; or add to ~/.bashrc:",
        "#   source /path/to/completions/yce.bash",
        "# Commands, options and choices are listed here; profile names and cached style",
        "# ids come from `yce completion words`, which reads local files only.",
        "",
        "_yce_commands() {  # the subcommands of command path $1, in REPLY",
        "    case $1 in",
    ]
    for node in nodes:
        if node.is_group:
            names = " ".join(c.name for c in node.children)
            out.append(f"        {_sh(node.key)}) REPLY={_sh(names)} ;;")
    out += ["        *) REPLY='' ;;", "    esac", "}", ""]

    out += ["_yce_options() {  # the options of command path $1, in REPLY", "    case $1 in"]
    for node in nodes:
        names = " ".join(n for opt in node.options for n in option_names(opt))
        out.append(f"        {_sh(node.key)}) REPLY={_sh(names)} ;;")
    out += ["        *) REPLY='' ;;", "    esac", "}", ""]

    out += [
        "_yce_takes_value() {  # whether option $2 of command path $1 takes a value",
        '    case "$1:$2" in',
    ]
    for node in nodes:
        pats = [
            _sh(f"{node.key}:{n}") for opt in node.options if takes_value(opt) for n in opts(opt)
        ]
        if pats:
            out.append(f"        {'|'.join(pats)}) return 0 ;;")
    out += ["    esac", "    return 1", "}", ""]

    out += [
        "_yce_values() {  # complete the value of option $2 (or argument #N) of path $1",
        '    case "$1:$2" in',
    ]
    for node in nodes:
        arms: dict[str, list[str]] = {}
        for opt in node.options:
            spec = value_completion(node, opt)
            if spec:
                for name in opts(opt):
                    arms.setdefault(_bash_action(spec), []).append(_sh(f"{node.key}:{name}"))
        for key, arg in _arg_keys(node):
            spec = value_completion(node, arg)
            if spec:
                pat = _sh(f"{node.key}:#") + "*" if key == "*" else _sh(f"{node.key}:#{key}")
                arms.setdefault(_bash_action(spec), []).append(pat)
        for action, pats in arms.items():
            # variadic (#*) patterns last within a path: case takes the first match
            pats.sort(key=lambda p: p.endswith("*"))
            out.append(f"        {'|'.join(pats)}) {action} ;;")
    out += ["    esac", "}", ""]

    out += [
        r"""_yce_words() {  # offer the arguments that start with the current word
    local word quoted=${cur:0:1} prefix=${cur//\\/}
    [[ $quoted == [\"\'] ]] && prefix=${prefix:1} || quoted=''
    for word in "$@"; do
        if [[ $word == "$prefix"* ]]; then
            [[ -z $quoted ]] && printf -v word '%q' "$word"
            COMPREPLY+=("$word")
        fi
    done
}

_yce_list() {  # like _yce_words, for comma-separated lists: a,b,<TAB>
    local head='' word
    if [[ $cur == *,* ]]; then
        head=${cur%,*},
        cur=${cur##*,}
    fi
    for word in "$@"; do
        [[ $word == "$cur"* ]] && COMPREPLY+=("$head$word")
    done
}

_yce_files() {
    local line
    compopt -o filenames 2>/dev/null
    while IFS= read -r line; do
        COMPREPLY+=("$line")
    done < <(compgen -f -- "$cur")
}

_yce_dynamic() {  # _yce_dynamic words|list KIND [FEATURE]: values from local files
    local mode=$1 line
    local -a found=()
    shift
    while IFS= read -r line; do
        found+=("$line")
    done < <(command yce completion words "$@" 2>/dev/null)
    "_yce_$mode" "${found[@]}"
}

_yce() {
    local cur=${COMP_WORDS[COMP_CWORD]} path='' expect='' word REPLY
    local -i i nargs=0
    COMPREPLY=()
    for (( i = 1; i < COMP_CWORD; i++ )); do
        word=${COMP_WORDS[i]}
        if [[ -n $expect ]]; then
            # `--opt=value` arrives as three words: --opt = value
            [[ $word == = ]] || expect=''
            continue
        fi
        case $word in
            -*) _yce_takes_value "$path" "$word" && expect=$word; continue ;;
        esac
        if (( nargs == 0 )); then
            _yce_commands "$path"
            if [[ " $REPLY " == *" $word "* ]]; then
                path=${path:+$path }$word
                continue
            fi
        fi
        nargs+=1
    done
    [[ $cur == = ]] && cur=''
    if [[ -n $expect ]]; then
        _yce_values "$path" "$expect"
    elif [[ $cur == -* ]]; then
        _yce_options "$path"
        _yce_words $REPLY
    else
        _yce_commands "$path"
        if (( nargs == 0 )) && [[ -n $REPLY ]]; then
            _yce_words $REPLY
        else
            _yce_values "$path" "#$(( nargs + 1 ))"
        fi
    fi
    return 0
}

complete -F _yce yce""",
    ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------
# zsh


def _zfunc(node: Node) -> str:
    return "_yce" + "".join("__" + p.replace("-", "_") for p in node.path)


def _zdesc(text: str) -> str:
    """Text for inside an _arguments [description]."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _zword(text: str) -> str:
    """One word of an _arguments (a b c) action or _values item."""
    return re.sub(r"([\\ ():\[\]'\"`$,])", r"\\\1", text)


def _zsh_action(spec, message: str) -> str:
    msg = message.replace(":", "\\:")
    if spec is None:
        return f":{msg}: "
    kind = spec[0]
    if kind == "words":
        return f":{msg}:(" + " ".join(_zword(w) for w in spec[1]) + ")"
    if kind == "list":
        return f":{msg}:_values -s , {_zword(msg)} " + " ".join(_zword(w) for w in spec[1])
    if kind == "files":
        return f":{msg}:_files"
    if kind == "profiles":
        return f":{msg}:_yce_profiles"
    if kind == "styles":
        return f":{msg}:_sequence -s , _yce_style_ids {spec[1]}"
    raise ValueError(spec)


def _value_label(opt: click.Parameter) -> str:
    if opt.metavar:
        return opt.metavar.rstrip(".").lower()
    if getattr(opt, "opts", None):
        return max(opt.opts, key=len).lstrip("-").replace("-", " ")
    return (opt.name or "value").replace("_", " ")


def _zsh_specs(node: Node) -> list[str]:
    specs = []
    for opt in node.options:
        desc = _zdesc(_first_sentence(opt.help))
        names = option_names(opt)
        if opt.name == "help" or "--version" in names:
            for name in names:
                specs.append(_sh(f"(- *){name}[{desc}]"))
            continue
        value = (
            _zsh_action(value_completion(node, opt), _value_label(opt)) if takes_value(opt) else ""
        )
        exclusive = "" if opt.multiple else "(" + " ".join(names) + ")"
        repeat = "*" if opt.multiple else ""
        for name in names:
            suffix = ("=" if name.startswith("--") else "+") if value else ""
            text = f"not {opt.opts[0]}" if name in opt.secondary_opts else desc
            specs.append(_sh(f"{repeat}{exclusive}{name}{suffix}[{text}]{value}"))
    for key, arg in _arg_keys(node):
        label = (arg.metavar or arg.name or "arg").rstrip(".").lower()
        action = _zsh_action(value_completion(node, arg), label)
        position = "*" if key == "*" else key
        specs.append(_sh(f"{position}{action}"))
    return specs


def _zsh_function(node: Node) -> list[str]:
    func = _zfunc(node)
    specs = _zsh_specs(node)
    if not node.is_group:
        lines = [f"{func}() {{", "    _arguments -S \\"]
        lines += [f"        {s} \\" for s in specs[:-1]] + [f"        {specs[-1]}"]
        return [*lines, "}", ""]
    lines = [
        f"{func}() {{",
        "    local curcontext=$curcontext state state_descr line ret=1",
        "    typeset -A opt_args",
        "    _arguments -C -S \\",
    ]
    lines += [f"        {s} \\" for s in specs]
    lines += [
        "        ': :->command' \\",
        "        '*:: :->args' && ret=0",
        "    case $state in",
        "        command)",
        "            local -a commands=(",
    ]
    for child in node.children:
        entry = child.name.replace(":", "\\:") + ":" + short_help(child.cmd, 70)
        lines.append(f"                {_sh(entry)}")
    title = " ".join(("yce", *node.path))
    lines += [
        "            )",
        f"            _describe -t commands {_sh(title + ' command')} commands && ret=0",
        "            ;;",
        "        args)",
        f"            curcontext=${{curcontext%:*:*}}:{'-'.join(('yce', *node.path))}-$words[1]:",
        "            case $words[1] in",
    ]
    for child in node.children:
        lines.append(f"                {_sh(child.name)}) {_zfunc(child)} && ret=0 ;;")
    lines += ["            esac", "            ;;", "    esac", "    return ret", "}", ""]
    return lines


def zsh_script(root: Node) -> str:
    out = [
        "#compdef yce",
        f"# zsh completion for yce, {HEADER}.",
        "# Install: yce completion install zsh; or put this file, named _yce, in a directory",
        "# of $fpath before compinit runs. Profile names and cached style ids come from",
        "# `yce completion words`, which reads local files only.",
        "",
        "_yce_profiles() {",
        "    local -a names",
        '    names=(${(f)"$(_call_program profiles yce completion words profiles 2>/dev/null)"})',
        "    _wanted profiles expl 'profile' compadd -a names",
        "}",
        "",
        "_yce_style_ids() {",
        "    # ID:NAME lines (names from style sheets already drawn), shown as the id",
        "    # with its name beside it.",
        "    local -a ids",
        '    ids=(${(f)"$(_call_program styles yce completion words style-names $1 2>/dev/null)"})',
        "    _describe -t styles 'style id' ids",
        "}",
        "",
    ]
    for node in root.walk():
        out += _zsh_function(node)
    out += [
        "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then",
        '    _yce "$@"',
        "else",
        "    compdef _yce yce",
        "fi",
    ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------
# fish


def _fq(text: str) -> str:
    """Single-quote for fish (only \\ and ' are special inside)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_action(spec) -> str:
    if spec is None:
        return " -x"
    kind = spec[0]
    if kind in ("words", "list"):
        # one candidate per line: values may hold spaces (hair-color --preset)
        values = "(printf '%s\\n' " + " ".join(_sh(w) for w in spec[1]) + ")"
        if kind == "list":
            values = "(__yce_list " + " ".join(_sh(w) for w in spec[1]) + ")"
        return " -x -a " + _fq(values)
    if kind == "files":
        return " -r -F"
    if kind == "profiles":
        return " -x -a '(__yce_words profiles)'"
    if kind == "styles":
        return " -x -a " + _fq(f"(__yce_list (__yce_words styles {spec[1]}))")
    raise ValueError(spec)


def fish_script(root: Node) -> str:
    nodes = list(root.walk())
    out = [
        f"# fish completion for yce, {HEADER}.",
        "# Install: yce completion install fish (or copy to ~/.config/fish/completions/).",
        "# Profile names and cached style ids come from `yce completion words`, which",
        "# reads local files only.",
        "",
        "function __yce_commands --description 'The subcommands of a yce command path'",
        "    switch $argv[1]",
    ]
    for node in nodes:
        if node.is_group:
            out.append(f"        case {_fq(node.key)}")
            out.append("            printf '%s\\n' " + " ".join(c.name for c in node.children))
    out += ["    end", "end", ""]
    out.append("set -g __yce_value_options \\")
    pairs = [
        f"{node.key}:{n}" for node in nodes for o in node.options if takes_value(o) for n in opts(o)
    ]
    out += [f"    {_fq(p)} \\" for p in pairs[:-1]] + [f"    {_fq(pairs[-1])}", ""]
    out += [
        r"""function __yce_state --description 'Command path at the cursor; arguments before it'
    set -l line (commandline -cp)
    if test "$line" = "$__yce_state_line"
        printf '%s\n' $__yce_state_cache
        return
    end
    set -l path ''
    set -l nargs 0
    set -l expect 0
    for word in (commandline -opc)[2..-1]
        if test $expect = 1
            set expect 0
            continue
        end
        switch $word
            case '-*'
                if contains -- "$path:$word" $__yce_value_options
                    set expect 1
                end
                continue
        end
        if test $nargs = 0; and contains -- $word (__yce_commands $path)
            set path (string trim -- "$path $word")
            continue
        end
        set nargs (math $nargs + 1)
    end
    set -g __yce_state_line $line
    set -g __yce_state_cache $path $nargs
    printf '%s\n' $path $nargs
end

function __yce_at --description 'Whether the cursor is in command path $argv[1]'
    set -l state (__yce_state)
    test "$state[1]" = "$argv[1]"
end

function __yce_arg --description 'Whether the cursor is at argument N (or N+) of a path'
    set -l state (__yce_state)
    test "$state[1]" = "$argv[1]"; or return 1
    set -l index (math $state[2] + 1)
    set -l want (string replace '+' '' -- $argv[2])
    if string match -q -- '*+' $argv[2]
        test $index -ge $want
    else
        test $index -eq $want
    end
end

function __yce_words --description 'Profile names or cached style ids, from local files'
    command yce completion words $argv 2>/dev/null
end

function __yce_list --description 'Candidates for a comma-separated list: a,b,<TAB>'
    set -l token (commandline -ct)
    set -l head (string match -r -- '^.*,' $token)
    printf "$head%s\n" $argv
end

complete -c yce -f""",
    ]
    for node in nodes:
        cond = f'__yce_at "{node.key}"'
        for opt in node.options:
            desc = " -d " + _fq(_first_sentence(opt.help))
            action = _fish_action(value_completion(node, opt)) if takes_value(opt) else ""
            for names in (opts(opt), opt.secondary_opts):
                if not names:
                    continue
                flags = "".join(
                    f" -l {n[2:]}" if n.startswith("--") else f" -s {n[1:]}" for n in names
                )
                if names is opt.secondary_opts:
                    desc = " -d " + _fq(f"not {opt.opts[0]}")
                out.append(f"complete -c yce -n {_fq(cond)}{flags}{action}{desc}")
        for child in node.children:
            cond = f'__yce_arg "{node.key}" 1'
            out.append(
                f"complete -c yce -n {_fq(cond)} -a {_fq(child.name)}"
                f" -d {_fq(short_help(child.cmd, 70))}"
            )
        for key, arg in _arg_keys(node):
            spec = value_completion(node, arg)
            if spec is None:
                continue
            index = f"{len(node.arguments)}+" if key == "*" else key
            action = _fish_action(spec).replace(" -x", "").replace(" -r", "")
            cond = f'__yce_arg "{node.key}" {index}'
            out.append(f"complete -c yce -n {_fq(cond)}{action}")
    return "\n".join(out) + "\n"


def completion_script(shell: str) -> str:
    """The completion script for bash, zsh or fish (the text of completions/)."""
    makers = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}
    if shell not in makers:
        raise ValueError(f"unknown shell {shell!r}: one of {', '.join(SHELLS)}")
    return makers[shell](command_tree())


# --------------------------------------------------------------------------------------
# man pages


def roff(text: str, fill: bool = True) -> str:
    """Escape plain text for a roff text line; `code` becomes bold. With fill=False
    (for .nf blocks) spacing is kept and backticks are left alone."""
    if fill:
        text = _clean(text)
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


def _metavar(node: Node, opt: click.Parameter) -> str:
    choices = getattr(opt.type, "choices", None)
    if choices:
        values = [str(getattr(c, "value", c)) for c in choices]
        listed = "{" + "|".join(values) + "}"
        # a long list would not fit on a terminal line: named, and listed in the text
        if len(listed) <= 40 and not any(" " in v for v in values):
            return listed
        return "NAME"
    if opt.metavar:
        return opt.metavar
    if "--output" in opt.opts:
        return "PATH"
    if value_completion(node, opt) == ("files",):
        return "FILE"
    type_name = type(opt.type).__name__
    if "Int" in type_name:
        return "INTEGER"
    if "Float" in type_name:
        return "NUMBER"
    return "TEXT"


def _option_help(node: Node, opt: click.Parameter) -> str:
    record = opt.get_help_record(node.ctx)
    text = record[1] if record else _clean(opt.help)
    choices = getattr(opt.type, "choices", None)
    spec = _param_for(node, opt)
    if spec is not None and hasattr(spec, "rules"):
        text = f"{spec.help} Limits: {_limits(spec)}."
    aliases = getattr(spec, "aliases", None)
    if aliases:
        text += " Values: " + ", ".join(f"{w} ({v})" for w, v in aliases.items()) + "."
    elif choices and _metavar(node, opt) == "NAME":
        text += " Values: " + ", ".join(str(getattr(c, "value", c)) for c in choices) + "."
    if opt.multiple and "several times" not in text and "Repeat" not in text:
        text += " May be given several times."
    return text


def _limits(spec) -> str:
    facts = spec.rules.describe()
    if spec.rules.note:
        facts += f" ({spec.rules.note})"
    return facts


def _option_entry(node: Node, opt: click.Parameter) -> list[str]:
    parts = []
    for names in (opts(opt), opt.secondary_opts):
        if names:
            tag = ", ".join(B(n) for n in names)
            if takes_value(opt):
                tag += " " + I(_metavar(node, opt))
            parts.append(tag)
    return [".TP", " | ".join(parts) if len(parts) > 1 else parts[0], roff(_option_help(node, opt))]


def _usage(node: Node) -> str:
    words = [B("yce"), "[" + I("GLOBAL OPTIONS") + "]"] if node.path else [B("yce")]
    if node.path:
        words.append(B(" ".join(node.path)))
    if any(opt.name != "help" for opt in node.options):
        words.append("[" + I("OPTIONS") + "]")
    for arg in node.arguments:
        label = arg.metavar or (arg.name or "").upper()
        if arg.nargs == -1 and not label.endswith("..."):
            label += "..."
        words.append(I(label) if arg.required else "[" + I(label) + "]")
    return " ".join(words)


def _exit_status() -> list[str]:
    from ycecli.errors import EXIT_STATUS_MEANING

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
    from ycecli.config import ENV_OVERRIDES, ENV_PROFILE

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
    from ycecli.config import Paths

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


# Examples and notes of the tool commands (the features carry theirs in the registry).
TOOL_EXAMPLES = {
    "styles": (
        "yce styles groups hair-style",
        "yce styles list hair-style --group GROUP_ID --all",
        "yce styles list clothes                # top-level categories",
    ),
    "units": ("yce units", "yce units history --all", "yce --json units | jq .total"),
    "task": (
        "yce task list --open",
        "yce task status enhance TASK_ID",
        "yce task wait enhance TASK_ID -o out/",
    ),
    "profile": (
        "yce profile add work --client-id YOUR_API_KEY --client-secret-stdin < secret.txt",
        "yce profile add shop --api-key-stdin < v2-key.txt",
        "yce profile use work && yce profile show",
    ),
    "auth": ("yce auth check", "yce --profile shop auth check", "yce auth logout"),
    "sandbox": (
        "yce sandbox serve --port 8080 --task-seconds 1",
        "yce sandbox serve --port 0 --units 5   # run a pipeline out of units",
        "yce --sandbox enhance photo.jpg --scale 2   # no server needed",
    ),
    "completion": (
        "yce completion install bash",
        "yce completion install zsh && echo 'fpath=(~/.zfunc $fpath)' >> ~/.zshrc",
        "source <(yce completion show bash)",
    ),
}
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


def _feature_page(node: Node) -> str:
    feature = node.feature
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
    groups: dict[str, list[click.Parameter]] = {
        "Input files": [],
        "Parameters": [],
        "Output": [],
        "Running": [],
    }
    for opt in node.options:
        spec = _param_for(node, opt)
        if spec is not None and hasattr(spec, "rules"):
            groups["Input files"].append(opt)
        elif spec is not None:
            groups["Parameters"].append(opt)
        elif {"--output", "--overwrite"} & set(opt.opts):
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
                lines += _option_entry(node, opt)
    if feature.examples:
        lines += [".SH EXAMPLES", *_example_block(feature.examples)]
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


def _tool_page(node: Node) -> str:
    name = f"yce-{node.name}"
    entries = ([node] if node.cmd.callback and node.cmd.invoke_without_command else []) + [
        n for n in node.walk() if n is not node and not n.is_group
    ]
    lines = [
        *_th(name),
        ".SH NAME",
        f"{roff(name)} \\- {roff(short_help(node.cmd, 200).rstrip('.'))}",
        ".SH SYNOPSIS",
    ]
    for i, entry in enumerate(entries):
        if i:
            lines.append(".br")
        lines.append(_usage(entry))
    lines += [".SH DESCRIPTION", *_paragraphs(node.cmd.help)]
    if node.name in TOOL_NOTES:
        lines += [".PP", roff(TOOL_NOTES[node.name])]
    lines.append(".SH COMMANDS")
    for entry in entries:
        lines.append(".SS " + roff(" ".join(("yce", *entry.path))))
        # a group's own help was the DESCRIPTION; the callback's docstring is the same
        body = entry.cmd.callback.__doc__ if entry is node else entry.cmd.help
        lines += _paragraphs(_dedent(body))
        for arg in entry.arguments:
            label = arg.metavar or (arg.name or "").upper()
            record = arg.get_help_record(entry.ctx)
            lines += [".TP", I(label), roff(record[1] if record else "")]
        for opt in entry.options:
            if opt.name != "help":
                lines += _option_entry(entry, opt)
    if node.name in TOOL_EXAMPLES:
        lines += [".SH EXAMPLES", *_example_block(TOOL_EXAMPLES[node.name])]
    if node.name in TOOL_FILES:
        lines += _files(TOOL_FILES[node.name])
    lines += _exit_status()
    lines += _see_also(["yce"])
    return "\n".join(lines) + "\n"


def _dedent(text: str | None) -> str:
    import inspect

    return inspect.cleandoc(text or "")


def _main_page(root: Node) -> str:
    from ycecli.cli.app import TOOLS_PANEL
    from ycecli.features import GROUPS

    help_text = _dedent(root.cmd.help)
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
        lines += _option_entry(root, opt)
    lines.append(".SH COMMANDS")
    sections: dict[str, list[Node]] = {}
    for child in root.children:
        panel = getattr(child.cmd, "rich_help_panel", None) or TOOLS_PANEL
        sections.setdefault(panel, []).append(child)
    for panel in (*GROUPS, TOOLS_PANEL):
        if not sections.get(panel):
            continue
        lines.append(f".SS {roff(panel)}")
        for child in sections[panel]:
            if child.feature is not None:
                lines += [
                    ".TP",
                    B(child.name),
                    roff(f"{short_help(child.cmd, 200)} See yce-{child.name}(1)."),
                ]
                continue
            entries = ([child] if child.cmd.invoke_without_command else []) + [
                n for n in child.walk() if n is not child and not n.is_group
            ]
            for entry in entries:
                doc = child.cmd.callback.__doc__ if entry is child else entry.cmd.help
                text = _clean(_dedent(doc).split("\n\n")[0]).rstrip(".") + "."
                lines += [
                    ".TP",
                    B(" ".join(entry.path)),
                    roff(f"{text} See yce-{child.name}(1)."),
                ]
    examples = (
        "yce --sandbox enhance photo.jpg --scale 2     # try it with no account",
        "yce profile add work --client-id YOUR_API_KEY --client-secret-stdin < secret.txt",
        "yce enhance a.jpg b.png --scale 4 -o out/",
        "id=$(yce --json bg-remove product.jpg | jq -r '.dst_ids[0]')",
        'yce enhance "id:$id" --scale 2                # chain without re-uploading',
    )
    lines += [".SH EXAMPLES", *_example_block(examples)]
    lines += _exit_status()
    lines += _environment()
    lines += _files()
    pages = [f"yce-{c.name}" for c in root.children]
    lines += _see_also(pages)
    return "\n".join(lines) + "\n"


def man_pages() -> dict[str, str]:
    """{file name: roff text}: yce.1, one page per feature command and per tool group."""
    root = command_tree()
    pages = {"yce.1": _main_page(root)}
    for child in root.children:
        page = _feature_page(child) if child.feature is not None else _tool_page(child)
        pages[f"yce-{child.name}.1"] = page
    return pages


# --------------------------------------------------------------------------------------
# python -m ycecli.cli.docs --write | --check


def generated_files() -> dict[str, str]:
    """{path relative to the repository: text} for completions/ and man/."""
    files = {f"completions/{COMPLETION_FILES[s]}": completion_script(s) for s in SHELLS}
    files.update({f"man/{name}": text for name, text in man_pages().items()})
    return files


def _repo_root() -> Path:
    here = Path(__file__).resolve().parents[2]
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
    files = generated_files()
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
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
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
