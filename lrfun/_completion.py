"""Shell completion for the ``lrfun`` command: bash, zsh and fish scripts, made from its parser.

The commands, options, option values (a ``--format``'s choices, files for ``-o``) are read off
the argparse parser when the script is printed, so a script never lists an option the
command does not have. Schedule names are not written into the script: where a SPEC goes, it
runs ``lrfun completion --names`` (with the ``--import`` modules of the line being completed),
so it completes the names registered then -- a library's schedules included.
"""

from __future__ import annotations

import argparse
import dataclasses

__all__ = ["SHELLS", "script"]

SHELLS = ("bash", "zsh", "fish")


@dataclasses.dataclass(frozen=True)
class _Option:
    flags: tuple[str, ...]
    help: str
    # What its value is: None (it takes none), "file", "dir", "choice" or "text" (a free
    # value, where an @file is completed as a file).
    value: str | None
    choices: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class _Command:
    name: str  # "" for lrfun itself
    help: str
    options: tuple[_Option, ...]
    # What its positional arguments are: "spec" (schedule names, @files), "choice", or None.
    positional: str | None
    choices: tuple[str, ...] = ()

    def valued(self) -> list[_Option]:
        return [o for o in self.options if o.value is not None]


def _option(action: argparse.Action) -> _Option:
    choices = tuple(str(c) for c in action.choices or ())
    if action.nargs == 0:
        value = None
    elif choices:
        value = "choice"
    elif action.metavar == "FILE":
        value = "file"
    elif action.metavar == "DIR":
        value = "dir"
    else:
        value = "text"
    text = " ".join((action.help or "").replace("%%", "%").split())
    return _Option(tuple(action.option_strings), text, value, choices)


def _command(name: str, help: str, parser: argparse.ArgumentParser) -> _Command:
    options: list[_Option] = []
    positional: str | None = None
    choices: tuple[str, ...] = ()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        if action.option_strings:
            options.append(_option(action))
        elif action.choices:
            positional, choices = "choice", tuple(str(c) for c in action.choices)
        elif action.metavar == "SPEC":
            positional = "spec"
    return _Command(name, help, tuple(options), positional, choices)


def _commands(parser: argparse.ArgumentParser) -> list[_Command]:
    """lrfun itself (named ``""``), then each of its commands, in the parser's order."""
    out = [_command("", "", parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                out.append(_command(name, " ".join(helps.get(name, "").split()), sub))
    return out


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script of ``parser``'s command for ``shell`` (one of ``SHELLS``)."""
    commands = _commands(parser)
    if not any(o.flags == ("--import",) for o in commands[0].options):
        raise RuntimeError("the lrfun parser has no --import option")  # the scripts read it
    render = {"bash": _bash, "zsh": _zsh, "fish": _fish}[shell]
    return render(parser.prog, commands)


def _quoted(text: str) -> str:
    """``text`` as one word of bash or zsh: in single quotes."""
    return "'" + text.replace("'", "'\\''") + "'"


def _fish_quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _case(name: str) -> str:
    """A case pattern matching ``name`` (the empty name: no command yet)."""
    return _quoted(name) if name else '""'


def _flags(command: _Command) -> str:
    return " ".join(flag for option in command.options for flag in option.flags)


# -- bash ---------------------------------------------------------------------------------

_BASH = """\
# bash completion for {prog} (printed by `{prog} completion bash`). Load it in ~/.bashrc:
#     source <({prog} completion bash)
_{func}() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local command="" i
    local -a imports=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${{COMP_WORDS[i]}} in
            --import) imports+=(--import "${{COMP_WORDS[i+1]}}"); ((i++)) ;;
            --import=*) imports+=("${{COMP_WORDS[i]}}") ;;
{top_values}            -*) ;;
            *) command=${{COMP_WORDS[i]}}; break ;;
        esac
    done
    COMPREPLY=()
    # the value of an option
    case "$command:$prev" in
{values}    esac
    if [[ $cur == -* ]]; then
        case $command in
{options}        esac
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        return 0
    fi
    case $command in
{positionals}    esac
}}
_{func}_files() {{
    # an @file where a file goes (a SPEC's config, --metrics)
    if [[ $cur == @* ]]; then
        COMPREPLY=($(compgen -f -P @ -- "${{cur#@}}"))
    fi
}}
complete -F _{func} {prog}
"""


def _bash(prog: str, commands: list[_Command]) -> str:
    func = prog.replace("-", "_")
    top, subcommands = commands[0], commands[1:]
    top_values = "".join(
        f"            {'|'.join(o.flags)}) ((i++)) ;;\n"
        for o in top.valued()
        if o.flags != ("--import",)
    )
    values = []
    for command in commands:
        for option in command.valued():
            pattern = "|".join(f'"{command.name}:{flag}"' for flag in option.flags)
            if option.value == "choice":
                words = _quoted(" ".join(option.choices))
                action = f'COMPREPLY=($(compgen -W {words} -- "$cur"))'
            elif option.value == "file":
                action = 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))'
            elif option.value == "dir":
                action = 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur"))'
            else:
                action = f"_{func}_files"
            values.append(f"        {pattern}) {action}; return 0 ;;\n")
    options = "".join(
        f"            {_case(c.name)}) local flags={_quoted(_flags(c))} ;;\n" for c in commands
    )
    positionals = [
        f'        "") COMPREPLY=($(compgen -W {_quoted(" ".join(c.name for c in subcommands))}'
        ' -- "$cur")) ;;\n'
    ]
    for command in subcommands:
        if command.positional == "choice":
            words = _quoted(" ".join(command.choices))
            action = f'COMPREPLY=($(compgen -W {words} -- "$cur"))'
        elif command.positional == "spec":
            action = (
                f"if [[ $cur == @* ]]; then _{func}_files; else\n"
                # an opening quote is the user's: names match what follows it
                "                cur=${cur#[\\\"\\']}\n"
                f'                local names=$("${{COMP_WORDS[0]}}" "${{imports[@]}}" completion '
                "--names 2>/dev/null)\n"
                "                compopt -o nospace 2>/dev/null\n"
                '                COMPREPLY=($(compgen -W "$names" -- "$cur"))\n'
                "            fi"
            )
        else:
            continue
        positionals.append(f"        {_quoted(command.name)}) {action} ;;\n")
    return _BASH.format(
        prog=prog,
        func=func,
        top_values=top_values,
        values="".join(values),
        options=options,
        positionals="".join(positionals),
    )


# -- zsh ----------------------------------------------------------------------------------

_ZSH = """\
#compdef {prog}
# zsh completion for {prog} (printed by `{prog} completion zsh`). Load it in ~/.zshrc, after
# compinit:
#     source <({prog} completion zsh)
# or save it as _{prog} in a directory of $fpath.
_{func}() {{
    local prev=${{words[CURRENT-1]}} command="" i
    local -a imports
    for ((i = 2; i < CURRENT; i++)); do
        case ${{words[i]}} in
            (--import) imports+=(--import "${{words[i+1]}}"); ((i++)) ;;
            (--import=*) imports+=("${{words[i]}}") ;;
{top_values}            (-*) ;;
            (*) command=${{words[i]}}; break ;;
        esac
    done
    # the value of an option
    case "$command:$prev" in
{values}    esac
    if [[ $PREFIX == -* ]]; then
        local -a flags
        case $command in
{options}        esac
        _describe -t options option flags
        return
    fi
    case $command in
{positionals}    esac
}}
_{func}_files() {{
    # an @file where a file goes (a SPEC's config, --metrics)
    if [[ $PREFIX == @* ]]; then
        compset -P @
        _files
    fi
}}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _{func} "$@"
else
    compdef _{func} {prog}
fi
"""


def _described(entries: list[tuple[str, str]]) -> str:
    """A zsh array of ``name:description`` entries, as ``_describe`` reads them."""
    return " ".join(_quoted(name.replace(":", "\\:") + ":" + text) for name, text in entries)


def _zsh(prog: str, commands: list[_Command]) -> str:
    func = prog.replace("-", "_")
    top, subcommands = commands[0], commands[1:]
    top_values = "".join(
        f"            ({'|'.join(o.flags)}) ((i++)) ;;\n"
        for o in top.valued()
        if o.flags != ("--import",)
    )
    values = []
    for command in commands:
        for option in command.valued():
            pattern = "|".join(f'"{command.name}:{flag}"' for flag in option.flags)
            if option.value == "choice":
                action = f"compadd -- {' '.join(_quoted(c) for c in option.choices)}"
            elif option.value == "file":
                action = "_files"
            elif option.value == "dir":
                action = "_files -/"
            else:
                action = f"_{func}_files"
            values.append(f"        ({pattern}) {action}; return ;;\n")
    options = "".join(
        f"            ({_case(c.name)}) flags=("
        + _described([(flag, o.help) for o in c.options for flag in o.flags])
        + ") ;;\n"
        for c in commands
    )
    positionals = [
        '        ("") local -a commands=('
        + _described([(c.name, c.help) for c in subcommands])
        + ")\n            _describe -t commands command commands ;;\n"
    ]
    for command in subcommands:
        if command.positional == "choice":
            action = f"compadd -- {' '.join(_quoted(c) for c in command.choices)}"
        elif command.positional == "spec":
            action = (
                f"if [[ $PREFIX == @* ]]; then _{func}_files; else\n"
                f'                local -a names=(${{(f)"$(${{words[1]}} "${{imports[@]}}" '
                'completion --names 2>/dev/null)"})\n'
                "                compadd -S '' -- $names\n"
                "            fi"
            )
        else:
            continue
        positionals.append(f"        ({_quoted(command.name)}) {action} ;;\n")
    return _ZSH.format(
        prog=prog,
        func=func,
        top_values=top_values,
        values="".join(values),
        options=options,
        positionals="".join(positionals),
    )


# -- fish ---------------------------------------------------------------------------------

_FISH = """\
# fish completion for {prog} (printed by `{prog} completion fish`). Save it where fish
# finds it:
#     {prog} completion fish > ~/.config/fish/completions/{prog}.fish
function __{func}_command --description 'the command of the line being completed'
    set -l words (commandline -opc)
    set -e words[1]
    while set -q words[1]
        switch $words[1]
            case --import {top_values}
                set -e words[1]
            case '-*'
            case '*'
                echo $words[1]
                return 0
        end
        set -e words[1]
    end
    return 1
end
function __{func}_using --description 'whether the command is one of the arguments'
    set -l command (__{func}_command)
    and contains -- $command $argv
end
function __{func}_names --description 'the schedule names a SPEC may call'
    set -l words (commandline -opc)
    set -l imports
    set -l i 2
    while test $i -le (count $words)
        switch $words[$i]
            case --import
                set i (math $i + 1)
                set -a imports --import $words[$i]
            case '--import=*'
                set -a imports $words[$i]
        end
        set i (math $i + 1)
    end
    $words[1] $imports completion --names 2>/dev/null
end
function __{func}_files --description 'an @file where a file goes'
    set -l token (commandline -ct)
    string match -q -- '@*' $token; or return
    for path in (__fish_complete_path (string sub -s 2 -- $token))
        echo @$path
    end
end
complete -c {prog} -f
{lines}"""


def _fish(prog: str, commands: list[_Command]) -> str:
    func = prog.replace("-", "_")
    top, subcommands = commands[0], commands[1:]
    top_values = " ".join(
        flag for o in top.valued() if o.flags != ("--import",) for flag in o.flags
    )
    lines = []
    for command in commands:
        if command.name:
            condition = f"__{func}_using {command.name}"
        else:
            condition = f"not __{func}_command >/dev/null"
        head = f"complete -c {prog} -n {_fish_quoted(condition)}"
        for option in command.options:
            flags = " ".join(
                f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}"
                for flag in option.flags
            )
            if option.value == "choice":
                flags += f" -x -a {_fish_quoted(' '.join(option.choices))}"
            elif option.value == "file":
                flags += " -r -F"
            elif option.value == "dir":
                flags += " -x -a '(__fish_complete_directories)'"
            elif option.value == "text":
                flags += f" -x -a '(__{func}_files)'"
            lines.append(f"{head} {flags} -d {_fish_quoted(option.help)}\n")
        if not command.name:
            for sub in subcommands:
                lines.append(f"{head} -a {sub.name} -d {_fish_quoted(sub.help)}\n")
        elif command.positional == "choice":
            lines.append(f"{head} -a {_fish_quoted(' '.join(command.choices))}\n")
        elif command.positional == "spec":
            lines.append(f"{head} -a '(__{func}_names) (__{func}_files)'\n")
    return _FISH.format(prog=prog, func=func, top_values=top_values, lines="".join(lines))
