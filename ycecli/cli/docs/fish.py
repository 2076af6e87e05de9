"""The fish completion script (completions/yce.fish): a `complete` line per option,
subcommand and argument, conditioned on the command path at the cursor."""

from __future__ import annotations

from ycecli.cli.docs.tree import HEADER, Command, first_sentence, short_help
from ycecli.cli.docs.tree import sh_quote as _sh


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


def script(root: Command) -> str:
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
        f"{node.key}:{n}" for node in nodes for o in node.options if o.takes_value for n in o.names
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
            desc = " -d " + _fq(first_sentence(opt.help))
            action = _fish_action(opt.values) if opt.takes_value else ""
            for secondary, names in ((False, opt.names), (True, opt.secondary)):
                if not names:
                    continue
                flags = "".join(
                    f" -l {n[2:]}" if n.startswith("--") else f" -s {n[1:]}" for n in names
                )
                if secondary:
                    desc = " -d " + _fq(f"not {opt.names[0]}")
                out.append(f"complete -c yce -n {_fq(cond)}{flags}{action}{desc}")
        for child in node.children:
            cond = f'__yce_arg "{node.key}" 1'
            out.append(
                f"complete -c yce -n {_fq(cond)} -a {_fq(child.name)}"
                f" -d {_fq(short_help(child.help, 70))}"
            )
        for key, arg in node.positions():
            if arg.values is None:
                continue
            index = f"{len(node.arguments)}+" if key == "*" else key
            action = _fish_action(arg.values).replace(" -x", "").replace(" -r", "")
            cond = f'__yce_arg "{node.key}" {index}'
            out.append(f"complete -c yce -n {_fq(cond)}{action}")
    return "\n".join(out) + "\n"
