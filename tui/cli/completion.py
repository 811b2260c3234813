"""Shell completion, generated from the one parser: `completion bash|zsh|fish`. (The hidden
`__names` the scripts call for the names of tracked keys is tui.cli.names.)

`describe` walks the parser (every sub-command, option, choice and positional) into a
plain description; each shell's script is that description written in the shell's own
terms. What a value completes to comes from the parser too: an explicit ``NAME`` metavar
is a tracked key's name (`--using NAME`, `rotate NAME`), ``PATH``/``FILE`` a file, choices
their words, exec's COMMAND a command.

The scripts never evaluate a key's name: bash filters the names with a pattern match and
quotes them with ``printf %q`` (``compgen -W`` would expand ``$(...)`` inside a name), zsh's
``compadd`` and fish's ``complete`` quote what they insert.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import ExitCode
from . import output
from .completion_model import CHOICE, COMMAND, FILE, NAME, TEXT, Command, Option

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .context import Context



def _kind(action: argparse.Action) -> str:
    if action.nargs == argparse.REMAINDER:
        return COMMAND
    if action.choices:
        return CHOICE
    if action.metavar == "NAME":
        return NAME
    if action.metavar in ("PATH", "FILE"):
        return FILE
    return TEXT


def _help(action: argparse.Action) -> str:
    text = action.help if action.help and action.help != argparse.SUPPRESS else ""
    return " ".join(text.replace("%(prog)s", output.PROG).replace("%%", "%").split())


def _command(parser: argparse.ArgumentParser, help: str) -> Command:
    options, positionals = [], []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        if action.option_strings:
            takes = action.nargs != 0
            options.append(Option(list(action.option_strings), _help(action), _kind(action) if takes else None,
                                  [str(c) for c in action.choices or ()]))
        else:
            positionals.append((_kind(action), [str(c) for c in action.choices or ()]))
    return Command(help, options, positionals)


def describe() -> dict[str, Command]:
    """The whole command line: "" is the top level, then each sub-command in `--help` order."""
    from .parser import build_parser

    parser = build_parser()
    commands = {"": _command(parser, "")}
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {a.dest: _help(a) for a in sub._choices_actions}
    for name, child in sub.choices.items():
        commands[name] = _command(child, helps.get(name, ""))
    return commands


def cmd_completion(ctx: Context) -> int:
    from . import completion_scripts

    script = {"bash": completion_scripts.bash, "zsh": completion_scripts.zsh,
              "fish": completion_scripts.fish}[ctx.args.shell](describe())
    sys.stdout.write(script)
    return ExitCode.OK
