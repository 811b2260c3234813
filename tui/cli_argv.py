"""The command lines of `check` and `list`, read without argparse.

cron runs `momento-keys check` every minute: importing argparse and building
the parser of every subcommand (tui.cli_parser) costs more than checking
10,000 keys. `parse_argv` reads the plain forms of these two commands (whole
option names, values as ``--opt VALUE`` or ``--opt=VALUE``) and gives the
namespace argparse would make of them. Anything else (help, abbreviated
options, a value that starts with "-", a usage error, any other command)
gives None, and argparse reads the command line as always.
"""

from __future__ import annotations

from types import SimpleNamespace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

# The options of the top-level parser (tui.cli_parser.build_parser), with their
# defaults in argparse's order. The global ones (_VALUES, _FLAGS) may also come
# after the command word; --readonly and --demo only before it.
_TOP = {"db": None, "config": None, "allow_insecure_keyring": False, "endpoint_override": None,
        "readonly": False, "demo": False, "command": None}
_VALUES = {"--db": "db", "--config": "config", "--endpoint-override": "endpoint_override"}
_FLAGS = {"--allow-insecure-keyring": "allow_insecure_keyring"}
_TOP_FLAGS = {"--readonly": "readonly", "--demo": "demo"}

# Each command: its options that take a value, its flags, and its defaults in argparse's order.
_COMMANDS: dict[str, tuple[dict[str, str], dict[str, str], dict[str, object]]] = {
    "check": ({"--warn": "warn", "--critical": "critical"},
              {"--allow-never": "allow_never", "--json": "json", "--quiet": "quiet", "-q": "quiet"},
              {"warn": None, "critical": None, "allow_never": False, "json": False, "quiet": False}),
    "list": ({}, {"--json": "json", "--all": "all"}, {"json": False, "all": False}),
}


def parse_argv(argv: Sequence[str]) -> SimpleNamespace | None:
    """What argparse makes of ``argv`` when it is a plain `check` or `list` command line; else None."""
    ns: dict[str, object] = dict(_TOP)
    values, flags = _VALUES, {**_FLAGS, **_TOP_FLAGS}
    i, n = 0, len(argv)
    while i < n:
        arg = argv[i]
        i += 1
        if arg in flags:
            ns[flags[arg]] = True
            continue
        name, eq, value = arg.partition("=")
        if name in values:
            if not eq:
                if i == n or argv[i].startswith("-"):
                    return None  # a missing value, or one argparse may take for an option
                value = argv[i]
                i += 1
            ns[values[name]] = value  # the last one wins, as in argparse
            continue
        if ns["command"] is None and arg in _COMMANDS:
            own_values, own_flags, defaults = _COMMANDS[arg]
            ns["command"] = arg
            ns.update(defaults)
            values, flags = {**_VALUES, **own_values}, {**_FLAGS, **own_flags}
            continue
        return None
    return SimpleNamespace(**ns) if ns["command"] else None
