"""The zsh completion script (completions/_yce): one _arguments function per command."""

from __future__ import annotations

import re

from ycecli.cli.docs.tree import HEADER, Command, Param, first_sentence, short_help
from ycecli.cli.docs.tree import sh_quote as _sh


def _zfunc(node: Command) -> str:
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


def _value_label(opt: Param) -> str:
    if opt.metavar:
        return opt.metavar.rstrip(".").lower()
    if opt.names:
        return max(opt.names, key=len).lstrip("-").replace("-", " ")
    return (opt.name or "value").replace("_", " ")


def _zsh_specs(node: Command) -> list[str]:
    specs = []
    for opt in node.options:
        desc = _zdesc(first_sentence(opt.help))
        names = opt.all_names
        if opt.name == "help" or "--version" in names:
            for name in names:
                specs.append(_sh(f"(- *){name}[{desc}]"))
            continue
        value = _zsh_action(opt.values, _value_label(opt)) if opt.takes_value else ""
        exclusive = "" if opt.multiple else "(" + " ".join(names) + ")"
        repeat = "*" if opt.multiple else ""
        for name in names:
            suffix = ("=" if name.startswith("--") else "+") if value else ""
            text = f"not {opt.names[0]}" if name in opt.secondary else desc
            specs.append(_sh(f"{repeat}{exclusive}{name}{suffix}[{text}]{value}"))
    for key, arg in node.positions():
        label = (arg.metavar or arg.name or "arg").rstrip(".").lower()
        action = _zsh_action(arg.values, label)
        position = "*" if key == "*" else key
        specs.append(_sh(f"{position}{action}"))
    return specs


def _zsh_function(node: Command) -> list[str]:
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
        entry = child.name.replace(":", "\\:") + ":" + short_help(child.help, 70)
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


def script(root: Command) -> str:
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
