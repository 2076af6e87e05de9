"""The bash completion script (completions/yce.bash).

Commands, options, choices and which options take a value are written into the
script as case tables, so TAB runs no Python; profile names and cached style ids
come from `yce completion words`, which reads local files only.
"""

from __future__ import annotations

from ycecli.cli.docs.tree import HEADER, Command
from ycecli.cli.docs.tree import sh_quote as _sh


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


def script(root: Command) -> str:
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
        names = " ".join(n for opt in node.options for n in opt.all_names)
        out.append(f"        {_sh(node.key)}) REPLY={_sh(names)} ;;")
    out += ["        *) REPLY='' ;;", "    esac", "}", ""]

    out += [
        "_yce_takes_value() {  # whether option $2 of command path $1 takes a value",
        '    case "$1:$2" in',
    ]
    for node in nodes:
        pats = [
            _sh(f"{node.key}:{n}") for opt in node.options if opt.takes_value for n in opt.names
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
            if opt.values:
                for name in opt.names:
                    arms.setdefault(_bash_action(opt.values), []).append(_sh(f"{node.key}:{name}"))
        for key, arg in node.positions():
            if arg.values:
                pat = _sh(f"{node.key}:#") + "*" if key == "*" else _sh(f"{node.key}:#{key}")
                arms.setdefault(_bash_action(arg.values), []).append(pat)
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
