"""The one argument parser of the command line.

The sub-commands are declared in two modules: `args_local` (the commands that
work on this machine alone) and `args_remote` (those that talk to Momento or its
account API). This module assembles them, and `completion` walks the result.

Building the parser of every sub-command costs more than `check` itself on
10,000 keys (cron runs it every minute), so `parse` builds the top-level parser
with only the sub-command that the command line names. When the command line
does not plainly name one (help, an abbreviated or unknown option before the
command word, no command), every sub-command is built: the result is the same
either way, only the work differs (tests/test_cli_fast.py holds them equal).
"""

from __future__ import annotations

import argparse

from ..errors import ExitCode
from . import args_local, args_remote
from .formatting import Parser, RawFormatter
from .output import PROG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

# The top-level options, exactly as spelled; those that take a value.
VALUE_OPTIONS = ("--db", "--config", "--endpoint-override")
TOP_FLAGS = ("--allow-insecure-keyring", "--readonly", "--demo", "--debug")

EXIT_CODES = """\
exit codes (each command's --help says what they mean for it):
  0    done; `check`: every key is ok
  1    error, nothing was done (one line on stderr); `check`: a warning
  2    usage error; `check`: critical, expired or revoked; `verify`: invalid
  3    unknown: Momento or its account API could not be reached, timed out, or
       may have acted without answering; `check` and `verify`: any failure
  4    rescued: Momento made a key that could not be stored; it is in a rescue
       file (the message says where and how to import it)
  5    tracked, but the secret could not be stored in the keyring (import)
  130  interrupted (Ctrl-C or SIGTERM)
"""


def _version() -> str:
    from .. import __version__

    return __version__


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--db", metavar="PATH", default=default,
                        help="the key database (default: $MOMENTO_KEYS_DB or the user data directory)")
    parser.add_argument("--config", metavar="PATH", default=default,
                        help="the settings file (default: $MOMENTO_KEYS_CONFIG or the user config directory)")
    parser.add_argument("--allow-insecure-keyring", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="store secrets even in a keyring backend that is not secure (plaintext files)")
    parser.add_argument("--endpoint-override", metavar="HOST:PORT", default=default,
                        help="send every Momento call (generate, verify, rotate, the dashboard) to this plaintext gRPC server "
                             "instead of Momento: Momento Local or a test server "
                             "(default: $MOMENTO_KEYS_ENDPOINT_OVERRIDE)")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="log what the tool does (calls, timings, retries; never a secret) to stderr, or for the "
                             "dashboard to its log file (`config show` names it); also MOMENTO_KEYS_DEBUG=1")


# In the order `--help` lists them.
SUBCOMMANDS: dict[str, Callable[[argparse._SubParsersAction, argparse.ArgumentParser], None]] = {
    "import": args_local.import_, "list": args_local.list_, "check": args_local.check,
    "inspect": args_local.inspect, "doctor": args_local.doctor,
    "generate": args_remote.generate, "verify": args_remote.verify, "sync": args_remote.sync,
    "revoke": args_remote.revoke, "link": args_remote.link,
    "export": args_local.export, "env": args_local.env, "exec": args_local.exec_,
    "reminders": args_local.reminders, "snooze": args_local.snooze, "dismiss": args_local.dismiss,
    "rotate": args_remote.rotate, "notify": args_local.notify, "metrics": args_local.metrics,
    "config": args_local.config, "completion": args_local.completion,
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of the whole command line; with ``only``, of that sub-command alone."""
    parser = Parser(
        prog=PROG, formatter_class=RawFormatter,
        description="A terminal dashboard for Momento API keys. With no command, opens the dashboard.\n"
                    "Secrets live only in the OS keyring; the database holds metadata.",
        epilog=EXIT_CODES,
    )
    _global_options(parser, suppress=False)
    parser.add_argument("--readonly", action="store_true",
                        help="dashboard for shared screens: no changes, never touches the keyring")
    parser.add_argument("--demo", action="store_true",
                        help="dashboard on generated demo keys, in memory (nothing is saved)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    common = Parser(add_help=False)
    _global_options(common, suppress=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in SUBCOMMANDS.items():
        if only is None or name == only:
            add(sub, common)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The sub-command named in argv (the first word that is not an option or an option's value)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def plain_command(argv: Sequence[str]) -> str | None:
    """The sub-command if argv plainly names one: only top-level options spelled out in full
    come before it. Then its parser alone reads argv as the whole parser would."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in VALUE_OPTIONS:
            skip = True
        elif arg in TOP_FLAGS or (arg.partition("=")[0] in VALUE_OPTIONS and "=" in arg):
            continue
        elif arg.startswith("-"):
            return None  # help, --version, an abbreviation, a typo: the whole parser decides
        else:
            return arg if arg in SUBCOMMANDS else None
    return None


# Commands whose exit codes are read by monitoring: any error, usage errors
# included, is 3 ("unknown"), so that it is never mistaken for a verdict.
UNKNOWN_ON_ERROR = ("check", "verify")


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """argv as a namespace; argparse's usage errors exit 2 (3 for `check` and `verify`)."""
    parser = build_parser(plain_command(argv))
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        # `check` and `verify` promise 3 for any error, usage errors included (monitoring reads them).
        if exc.code == ExitCode.USAGE and command_of(argv) in UNKNOWN_ON_ERROR:
            raise SystemExit(ExitCode.UNKNOWN) from None
        raise


# Options that name files, or hand text to another program (exec's command, a deploy hook):
# any bytes the system allows are fine there.
_PASSED_ON = frozenset({"db", "config", "file", "out", "textfile", "argv", "deploy_hook"})
_SHOWN_AS = {"key_type": "--type", "duration": "DUR", "key_id": "KEY_ID", "action": "ACTION", "shell": "SHELL"}


def undecodable_argument(args: argparse.Namespace) -> str | None:
    """The first argument (not a path) holding bytes that are not UTF-8, which Python passes on
    as lone surrogates: they cannot be stored, printed or sent, so refuse them up front."""
    for dest, value in vars(args).items():
        if dest in _PASSED_ON:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    if dest == "name" and args.command not in ("import", "generate"):
                        return "NAME"
                    return _SHOWN_AS.get(dest, "--" + dest.replace("_", "-"))
    return None
