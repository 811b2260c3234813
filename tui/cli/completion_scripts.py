"""The completion scripts for bash, zsh and fish, written from `completion.describe()`.

Each script finds, on the command line being completed, the sub-command (the first word
that is not an option or an option's value), the option awaiting a value, how many
positionals came already and whether ``--`` was typed; then it offers options, choices,
files, commands or the names of tracked keys (from `momento-keys __names`, which the
script asks with the same ``--db`` the command line gives).
"""

from __future__ import annotations

from .completion_model import COMMAND, NAME, TEXT, Command

TOP = "_"  # the top level's key in the scripts' tables (an empty key is not allowed in bash)
PROG = "momento-keys"


def _tables(commands: dict[str, Command]) -> dict[str, dict[str, str]]:
    """The tables every script is built from, keyed as the scripts look them up."""
    opts, value, choices, pos = {}, {}, {}, {}
    for name, command in commands.items():
        key = name or TOP
        opts[key] = " ".join(s for o in command.options for s in o.strings)
        for option in command.options:
            if option.value is None:
                continue
            for string in option.strings:
                value[f"{key} {string}"] = option.value
                if option.choices:
                    choices[f"{key} {string}"] = " ".join(option.choices)
        pos[key] = " ".join(kind for kind, _ in command.positionals)
        for i, (_kind, words) in enumerate(command.positionals):
            if words:
                choices[f"{key} {i}"] = " ".join(words)
    return {"opts": opts, "value": value, "choices": choices, "pos": pos}


def _sq(text: str) -> str:
    """A single-quoted word for bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


def _assoc(name: str, table: dict[str, str], *, zsh: bool = False) -> str:
    if zsh:
        body = "\n".join(f"  {_sq(k)} {_sq(v)}" for k, v in table.items())
        return f"typeset -gA {name}\n{name}=(\n{body}\n)"
    body = "\n".join(f"  [{_sq(k)}]={_sq(v)}" for k, v in table.items())
    return f"declare -gA {name}=(\n{body}\n)"


def _subcommands(commands: dict[str, Command]) -> list[str]:
    return [name for name in commands if name]


# ---- bash -----------------------------------------------------------------------------------

_BASH = r"""
_momento_keys_words() {  # the words of $1 (fixed texts of the parser) that start with $2
    local word
    local -a list
    read -ra list <<< "$1"
    for word in "${list[@]}"; do
        [[ $word == "$2"* ]] && COMPREPLY+=("$word")
    done
}

_momento_keys_unquote() {  # $1 as the shell will read it: one leading quote or backslashes removed
    local text="$1" out="" i
    case $text in
        \'*|\"*) _MK_QUOTED=1; _MK_WORD="${text:1}"; return ;;
    esac
    _MK_QUOTED=0
    for ((i = 0; i < ${#text}; i++)); do
        if [[ ${text:i:1} == "\\" ]]; then
            i=$((i + 1))
        fi
        out+="${text:i:1}"
    done
    _MK_WORD="$out"
}

_momento_keys_names() {  # tracked keys' names starting with $1, quoted for the command line
    local line reply
    local -a args=(__names)
    _momento_keys_unquote "$1"
    if [[ -n $2 ]]; then
        local db="$2"
        [[ $db == "~/"* ]] && db="$HOME/${db:2}"
        args+=(--db "$db")
    fi
    while IFS= read -r line; do
        [[ -n $line && $line == "$_MK_WORD"* ]] || continue
        if ((_MK_QUOTED)); then
            COMPREPLY+=("$line")
        else
            printf -v reply '%q' "$line"
            COMPREPLY+=("$reply")
        fi
    done < <(command PROG "${args[@]}" 2>/dev/null)
}

_momento_keys_files() {
    compopt -o filenames 2>/dev/null
    local line
    while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -f -- "$1")
}

_momento_keys_complete() {  # complete a value of kind $1 (choices under key $2; database $3) for $4
    case $1 in
        name) _momento_keys_names "$4" "$3" ;;
        file) _momento_keys_files "$4" ;;
        command)
            local line
            while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -c -- "$4" | sort -u)
            ;;
        choice) _momento_keys_words "${_MK_CHOICES[$2]}" "$4" ;;
    esac
}

_momento_keys() {
    COMPREPLY=()
    local cur="${COMP_WORDS[COMP_CWORD]}" command=TOP pending="" word i count=0 dashdash=0 db=""
    local -a kinds=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        [[ $word == "=" ]] && continue  # bash splits --opt=value at '='
        if [[ -n $pending ]]; then
            [[ $pending == --db ]] && db="$word"
            pending=""
            continue
        fi
        if ((dashdash)); then
            count=$((count + 1))
            continue
        fi
        if [[ $word == -- ]]; then
            dashdash=1
            continue
        fi
        if [[ $word == -* ]]; then
            [[ -n ${_MK_VALUE["$command $word"]} ]] && pending="$word"
            continue
        fi
        if [[ $command == TOP ]]; then
            command="$word"
            read -ra kinds <<< "${_MK_POS[$command]}"
            continue
        fi
        [[ ${kinds[count]} == command ]] && dashdash=1  # the rest is the command's own
        count=$((count + 1))
    done
    [[ $cur == "=" ]] && cur=""
    if [[ -n $pending ]]; then
        _momento_keys_complete "${_MK_VALUE["$command $pending"]}" "$command $pending" "$db" "$cur"
        return 0
    fi
    if ((!dashdash)) && [[ $cur == -* ]]; then
        _momento_keys_words "${_MK_OPTS[$command]}" "$cur"
        return 0
    fi
    if [[ $command == TOP ]]; then
        _momento_keys_words "$_MK_COMMANDS" "$cur"
        return 0
    fi
    local kind="${kinds[count]}"
    if [[ -z $kind ]]; then
        local last=$(( ${#kinds[@]} - 1 ))
        ((last >= 0)) && [[ ${kinds[last]} == command ]] && kind=file  # the command's arguments
    fi
    _momento_keys_complete "$kind" "$command $count" "$db" "$cur"
    return 0
}

complete -F _momento_keys PROG
"""


def bash(commands: dict[str, Command]) -> str:
    t = _tables(commands)
    head = [f"# bash completion for {PROG}, generated from its parser: source <({PROG} completion bash)",
            _assoc("_MK_OPTS", t["opts"]), _assoc("_MK_VALUE", t["value"]), _assoc("_MK_CHOICES", t["choices"]),
            _assoc("_MK_POS", t["pos"]), f"_MK_COMMANDS={_sq(' '.join(_subcommands(commands)))}"]
    return "\n".join(head) + _BASH.replace("TOP", TOP).replace("PROG", PROG)


# ---- zsh ------------------------------------------------------------------------------------

_ZSH = r"""
_momento_keys_names() {
  local -a args names
  args=(__names)
  [[ -n $1 ]] && args+=(--db ${~1})
  names=(${(f)"$(command PROG $args 2>/dev/null)"})
  names=(${names:#})
  compadd -a names
}

_momento_keys_complete() {  # a value of kind $1 (choices under key $2; database $3)
  local -a words
  case $1 in
    name) _momento_keys_names "$3" ;;
    file) _files ;;
    command) _command_names -e ;;
    choice) words=(${=_MK_CHOICES[$2]}); compadd -a words ;;
    *) _message 'a value' ;;
  esac
}

_momento_keys() {
  local cur=${words[CURRENT]} command=TOP pending= word i count=0 dashdash=0 db=
  local -a kinds described
  for (( i = 2; i < CURRENT; i++ )); do
    word=${words[i]}
    if [[ -n $pending ]]; then
      [[ $pending == --db ]] && db=$word
      pending=
      continue
    fi
    if (( dashdash )); then
      (( count++ ))
      continue
    fi
    if [[ $word == -- ]]; then
      dashdash=1
      continue
    fi
    if [[ $word == -* ]]; then
      [[ $word == --db=* ]] && db=${word#--db=}
      [[ $word != *=* && -n ${_MK_VALUE[$command $word]} ]] && pending=$word
      continue
    fi
    if [[ $command == TOP ]]; then
      command=$word
      kinds=(${=_MK_POS[$command]})
      continue
    fi
    (( count++ ))
    [[ ${kinds[count]} == command ]] && dashdash=1
  done
  if [[ -z $pending && $cur == --*=* && -n ${_MK_VALUE[$command ${cur%%=*}]} ]]; then
    pending=${cur%%=*}
    compset -P '*='
  fi
  if [[ -n $pending ]]; then
    _momento_keys_complete ${_MK_VALUE[$command $pending]} "$command $pending" "$db"
    return
  fi
  if (( ! dashdash )) && [[ $cur == -* ]]; then
    described=(${(f)_MK_OPTHELP[$command]})
    _describe -t options option described
    return
  fi
  if [[ $command == TOP ]]; then
    described=(${(f)_MK_COMMANDS})
    _describe -t commands command described
    return
  fi
  local kind=${kinds[count + 1]}
  if [[ -z $kind && ${kinds[-1]} == command ]]; then
    kind=file
  fi
  _momento_keys_complete "$kind" "$command $count" "$db"
}

if (( $+functions[compdef] )); then
  compdef _momento_keys PROG
fi
"""


def _zsh_described(pairs: list[tuple[str, str]]) -> str:
    return "\n".join(f"{word.replace(':', chr(92) + ':')}:{help}" if help else word.replace(":", "\\:")
                     for word, help in pairs)


def zsh(commands: dict[str, Command]) -> str:
    t = _tables(commands)
    helps = {name or TOP: _zsh_described([(s, o.help) for o in c.options for s in o.strings])
             for name, c in commands.items()}
    head = [f"#compdef {PROG}", f"# zsh completion for {PROG}, generated from its parser: "
                                f"source <({PROG} completion zsh)  (after compinit)",
            _assoc("_MK_OPTHELP", helps, zsh=True), _assoc("_MK_VALUE", t["value"], zsh=True),
            _assoc("_MK_CHOICES", t["choices"], zsh=True), _assoc("_MK_POS", t["pos"], zsh=True),
            "_MK_COMMANDS=" + _sq(_zsh_described([(n, c.help) for n, c in commands.items() if n]))]
    return "\n".join(head) + _ZSH.replace("TOP", TOP).replace("PROG", PROG)


# ---- fish -----------------------------------------------------------------------------------

_FISH = r"""
function __momento_keys_state --description 'momento-keys: find the command, positionals and pending option'
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -g __mk_command ''
    set -g __mk_count 0
    set -g __mk_pending ''
    set -g __mk_dashdash 0
    set -g __mk_db ''
    for word in $tokens
        if test -n "$__mk_pending"
            test "$__mk_pending" = --db; and set -g __mk_db $word
            set -g __mk_pending ''
            continue
        end
        if test $__mk_dashdash = 1
            set -g __mk_count (math $__mk_count + 1)
            continue
        end
        if test "$word" = --
            set -g __mk_dashdash 1
            continue
        end
        if string match -q -- '-*' $word
            if string match -q -- '--db=*' $word
                set -g __mk_db (string replace -- '--db=' '' $word)
            else if not string match -q -- '*=*' $word; and __momento_keys_takes_value "$__mk_command" $word
                set -g __mk_pending $word
            end
            continue
        end
        if test -z "$__mk_command"
            set -g __mk_command $word
            continue
        end
        if __momento_keys_is_command_positional $__mk_command $__mk_count
            set -g __mk_dashdash 1
        end
        set -g __mk_count (math $__mk_count + 1)
    end
end

function __momento_keys_at_top
    __momento_keys_state
    test -z "$__mk_command"
end

function __momento_keys_in --argument-names command
    __momento_keys_state
    test "$__mk_command" = "$command"; and test $__mk_dashdash = 0
end

function __momento_keys_positional --argument-names command index
    __momento_keys_state
    test "$__mk_command" = "$command"; and test -z "$__mk_pending"; and test $__mk_count = $index
end

function __momento_keys_beyond --argument-names command index
    __momento_keys_state
    test "$__mk_command" = "$command"; and test -z "$__mk_pending"; and test $__mk_count -gt $index
end

function __momento_keys_names
    __momento_keys_state
    if test -n "$__mk_db"
        command PROG __names --db $__mk_db 2>/dev/null
    else
        command PROG __names 2>/dev/null
    end
end

complete -c PROG -f
"""


def _fq(text: str) -> str:
    """A single-quoted fish string."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_option(condition: str, strings: list[str], help: str, value: str | None, choices: list[str]) -> str:
    flags = []
    for s in strings:
        if s.startswith("--"):
            flags.append(f"-l {s[2:]}")
        elif len(s) == 2:
            flags.append(f"-s {s[1]}")
        else:
            flags.append(f"-o {s[1:]}")
    parts = [f"complete -c {PROG} -n {_fq(condition)}", *flags]
    if value == NAME:
        parts.append("-x -a '(__momento_keys_names)'")
    elif value == "file":
        parts.append("-r -F")
    elif value == "choice":
        parts.append(f"-x -a {_fq(' '.join(choices))}")
    elif value == TEXT:
        parts.append("-x")
    if help:
        parts.append(f"-d {_fq(help[:120])}")
    return " ".join(parts)


def fish(commands: dict[str, Command]) -> str:
    t = _tables(commands)
    cases = "\n".join(f"        case {_fq(k)}\n            return 0" for k in t["value"])
    takes = ("function __momento_keys_takes_value --argument-names command option\n"
             "    test -n \"$command\"; or set command " + TOP + "\n"
             "    switch \"$command $option\"\n" + cases + "\n    end\n    return 1\nend")
    positional_cases = "\n".join(f"        case {_fq(f'{name} {i}')}\n            return 0"
                                 for name, c in commands.items() if name
                                 for i, (kind, _) in enumerate(c.positionals) if kind == COMMAND)
    is_command = ("function __momento_keys_is_command_positional --argument-names command index\n"
                  "    switch \"$command $index\"\n" + (positional_cases or "        case ''\n            return 1")
                  + "\n    end\n    return 1\nend")
    lines = [f"# fish completion for {PROG}, generated from its parser:",
             f"#   {PROG} completion fish > ~/.config/fish/completions/{PROG}.fish", takes, is_command,
             _FISH.replace("PROG", PROG).strip()]
    for name, command in commands.items():
        if name:
            lines.append(f"complete -c {PROG} -n __momento_keys_at_top -a {name} -d {_fq(command.help[:120])}")
    for name, command in commands.items():
        condition = "__momento_keys_at_top" if not name else f"__momento_keys_in {name}"
        for option in command.options:
            lines.append(_fish_option(condition, option.strings, option.help, option.value, option.choices))
        for i, (kind, words) in enumerate(command.positionals):
            if not name:
                continue
            where = f"__momento_keys_positional {name} {i}"
            if kind == NAME:
                lines.append(f"complete -c {PROG} -n {_fq(where)} -a '(__momento_keys_names)'")
            elif kind == "choice":
                lines.append(f"complete -c {PROG} -n {_fq(where)} -a {_fq(' '.join(words))}")
            elif kind == "file":
                lines.append(f"complete -c {PROG} -n {_fq(where)} -F")
            elif kind == COMMAND:
                lines.append(f"complete -c {PROG} -n {_fq(where)} -a '(__fish_complete_command)'")
                lines.append(f"complete -c {PROG} -n {_fq(f'__momento_keys_beyond {name} {i}')} -F")
    return "\n".join(lines) + "\n"
