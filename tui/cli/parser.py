"""The one argument parser of the command line.

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
from .output import PROG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import NoReturn

# The top-level options, exactly as spelled; those that take a value.
VALUE_OPTIONS = ("--db", "--config", "--endpoint-override")
TOP_FLAGS = ("--allow-insecure-keyring", "--readonly", "--demo")
KINDS = ("warning", "critical", "expiry", "review", "switch", "revoke")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error never echoes a key pasted on the command line
    (`momento-keys import --key eyJ...` would otherwise print it into the CI log)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        from ..core.text import redact

        super().error(redact(message))


def _columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` gives it ($COLUMNS, then the
    terminal, then 80), without importing shutil, which imports every compression module
    (argparse builds a formatter for each argument it adds)."""
    import os
    import sys

    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class RawFormatter(Formatter, argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written (exit-code tables)."""


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


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("must be between 0 and 600 seconds")
    return value


def _timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=positive_seconds, default=15.0, metavar="SECONDS",
                   help="deadline of each Momento call (default 15)")


# ---- the sub-commands: each adds its parser ------------------------------------------------

def _import(sub, common) -> None:
    p = sub.add_parser("import", parents=[common], help="track a key: from stdin or --file, never from argv",
                       description="Import a key (raw key or the console's Download JSON) from stdin or a file. "
                                   "The secret goes to the OS keyring; the database keeps metadata only.")
    p.add_argument("--name", help="a unique name, e.g. 'orders-api prod' (required unless --momento-cli)")
    p.add_argument("--endpoint", metavar="HOST", help="cell endpoint, needed for v2 keys "
                   "(e.g. cell-4-us-west-2-1.prod.a.momentohq.com)")
    p.add_argument("--type", dest="key_type", choices=["super-user", "fine-grained", "unknown"], default="unknown",
                   help="what the key may do (it cannot be read from the key itself)")
    p.add_argument("--disposable", action="store_true", help="the key is a disposable token, not an API key")
    p.add_argument("--file", metavar="PATH", help="read the key or Download JSON from this file")
    p.add_argument("--momento-cli", action="store_true",
                   help="import the profiles of momento-cli's credentials file ($MOMENTO_CONFIG_DIR or ~/.momento)")
    p.add_argument("--profile", help="with --momento-cli: only this profile")
    p.add_argument("--notes", default="", help="where this key is used")
    p.add_argument("--tags", default="", help="comma- or space-separated tags")
    p.add_argument("--replaces", metavar="NAME",
                   help="the imported key replaces this tracked key (a manual rotation: links the two, "
                        "and reminds you to switch consumers and revoke the old key)")
    p.add_argument("--json", action="store_true", help="print the new record as JSON")


def _list(sub, common) -> None:
    p = sub.add_parser("list", parents=[common], help="list tracked keys (no secrets)")
    p.add_argument("--json", action="store_true", help="a stable JSON array (see the README)")
    p.add_argument("--all", action="store_true", help="include retired keys")


def _check(sub, common) -> None:
    p = sub.add_parser("check", parents=[common], help="exit 0 ok, 1 warning, 2 critical/expired, 3 unknown/error")
    p.add_argument("--warn", metavar="DUR", help="warning when less than DUR is left (e.g. 14d)")
    p.add_argument("--critical", metavar="DUR", help="critical when less than DUR is left (e.g. 3d)")
    p.add_argument("--allow-never", action="store_true", help="count keys that never expire as ok")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing; only the exit code")


def _inspect(sub, common) -> None:
    p = sub.add_parser("inspect", parents=[common], help="decode a key from stdin or a file; prints no secret")
    p.add_argument("--file", metavar="PATH")
    p.add_argument("--endpoint", metavar="HOST", help="endpoint to assume for a v2 key")
    p.add_argument("--json", action="store_true")


def _doctor(sub, common) -> None:
    p = sub.add_parser("doctor", parents=[common],
                       help="keyring, database and versions: what is wrong and how to fix it")
    p.add_argument("--json", action="store_true")
    p.add_argument("--adopt", action="store_true",
                   help="re-create the records of secrets an interrupted import, generation or rotation left "
                        "in the keyring")


GENERATE_EPILOG = """\
--expires takes a duration (30d, 12h, 2w, 1d12h; units s m h d w mo y), a date
YYYY-MM-DD (the key then lasts until 23:59:59 local time that day, which must be
in the future) or YYYY-MM-DD HH:MM, or `never` (only with --yes-never: Momento
advises against keys that never expire). A disposable token must expire within
25 hours (the service's limit).

Everything is checked before Momento is called: the arguments, the names, the
acting key's secret and that the keyring can store the new key.

The new key goes straight into the keyring and the database; it is never
printed. If it cannot be stored after Momento made it, it is written to a rescue
file (Download JSON, mode 0600) in the `rescue/` folder next to the database and
the error says where and how to import it.

exit codes:
  0  generated and stored
  1  nothing was generated: bad arguments, unknown names, no usable keyring, or
     Momento refused (for example PERMISSION_DENIED: the --using key is not a
     super-user key)
  2  usage error (argparse)
  3  Momento could not be reached or did not answer; nothing was stored. For an
     API key the message says whether it may have been created anyway
  4  Momento made the key but it could not be stored: it is in a rescue file
     (path on stderr; import it with `momento-keys import --file PATH`)
"""

VERIFY_EPILOG = """\
Asks Momento with one ListCaches call whether the key works.

exit codes (like `check`, any failure to get an answer is 3):
  0  valid, or valid but restricted (authenticated but may not list caches:
     expected for fine-grained keys and disposable tokens)
  2  invalid: Momento rejected the key (expired, revoked, forged)
  3  unknown: Momento could not be reached, or the key could not be read
     (no such name, no secret stored, keyring error, usage error)
"""

EXPORT_EPILOG = """\
Writes the console's Download JSON: {"apiKey", "refreshToken" (when the key has
one), "validUntil" (epoch seconds, 0 = never; left out when the expiry is
unknown), "endpoint"}. `momento-keys import --file` reads it back.

With --out the file is written atomically (a 0600 temporary file in the same
directory, then renamed) and an existing file is kept unless --force is given
(even then, only a regular file is replaced). Without --out (or with --out -)
the JSON goes to stdout, but only when stdout is not a terminal (a pipe or a
redirect); --stdout prints it on a terminal too.

exit codes: 0 exported, 1 error (nothing written), 2 usage error.
"""

ENV_EPILOG = """\
Prints shell lines that set MOMENTO_API_KEY and MOMENTO_ENDPOINT, quoted for
POSIX shells:

  eval "$(momento-keys env NAME)"

To keep the secret off the screen, the lines are printed only when stdout is not
a terminal (as inside $(...)); --stdout prints them on a terminal too.

exit codes: 0 printed, 1 error, 2 usage error.
"""


def _generate(sub, common) -> None:
    p = sub.add_parser(
        "generate", parents=[common], formatter_class=RawFormatter, epilog=GENERATE_EPILOG,
        help="make a fine-grained API key or a disposable token with a tracked super-user key",
        description="Ask Momento for a new fine-grained API key (or, with --disposable, a disposable\n"
                    "token), made with the tracked super-user key --using, and track it.")
    p.add_argument("--name", required=True, help="a unique name for the new key")
    p.add_argument("--using", required=True, metavar="NAME",
                   help="the tracked super-user key that makes it (its secret is read from the keyring)")
    p.add_argument("--expires", required=True, metavar="WHEN",
                   help="30d, 12h, 2w, ..., a date YYYY-MM-DD (until 23:59:59 local time), or never")
    p.add_argument("--yes-never", action="store_true",
                   help="confirm --expires never (Momento advises against keys that never expire)")
    p.add_argument("--cache", action="append", default=[], metavar="CACHE=ROLE",
                   help="a cache permission, repeatable; CACHE may be '*' for all caches (including future "
                        "ones); ROLE readwrite, readonly or writeonly")
    p.add_argument("--topic", action="append", default=[], metavar="CACHE/TOPIC=ROLE",
                   help="a topic permission, repeatable; CACHE and TOPIC may be '*'; ROLE publishsubscribe, "
                        "subscribeonly or publishonly")
    p.add_argument("--all-data", action="store_true",
                   help="read-write on all caches and publish-subscribe on all topics")
    p.add_argument("--disposable", action="store_true",
                   help="a disposable token (data only, no refresh token, at most 25 hours) instead of an API key")
    p.add_argument("--notes", default="", help="where this key is used")
    p.add_argument("--tags", default="", help="comma- or space-separated tags")
    _timeout(p)
    p.add_argument("--json", action="store_true", help="print the new record as JSON (never the secret)")


def _verify(sub, common) -> None:
    p = sub.add_parser("verify", parents=[common], formatter_class=RawFormatter,
                       epilog=VERIFY_EPILOG,
                       help="ask Momento whether a tracked key works: exit 0 valid/restricted, 2 invalid, 3 unknown",
                       description="Ask Momento whether a tracked key works.")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    _timeout(p)
    p.add_argument("--json", action="store_true", help='print {"name", "status", "message"}')


def _export(sub, common) -> None:
    p = sub.add_parser("export", parents=[common], formatter_class=RawFormatter,
                       epilog=EXPORT_EPILOG,
                       help="write a tracked key as the console's Download JSON (a 0600 file, or a pipe)",
                       description="Write a tracked key, with its refresh token, as the console's\nDownload JSON.")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="FILE", help="write to FILE (mode 0600); '-' means stdout")
    where.add_argument("--stdout", action="store_true", help="print to stdout even if it is a terminal")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")


def _env(sub, common) -> None:
    p = sub.add_parser("env", parents=[common], formatter_class=RawFormatter,
                       epilog=ENV_EPILOG,
                       help="print export lines for MOMENTO_API_KEY and MOMENTO_ENDPOINT (for eval)",
                       description="Print shell export lines for a tracked key.")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    p.add_argument("--stdout", action="store_true", help="print even if stdout is a terminal")


def _reminders(sub, common) -> None:
    p = sub.add_parser("reminders", parents=[common], help="open reminders, due first (no secrets)")
    p.add_argument("--due", action="store_true", help="only those due now")
    p.add_argument("--json", action="store_true")


def _snooze(sub, common) -> None:
    p = sub.add_parser("snooze", parents=[common], help="snooze a key's due reminder for DUR (e.g. 1d, 7d)")
    p.add_argument("name")
    p.add_argument("duration", metavar="DUR")
    p.add_argument("--kind", choices=KINDS, help="which reminder, when the key has several open")


def _dismiss(sub, common) -> None:
    p = sub.add_parser("dismiss", parents=[common], help="dismiss a key's due reminder")
    p.add_argument("name")
    p.add_argument("--kind", choices=KINDS, help="which reminder, when the key has several open")
    p.add_argument("--done", action="store_true",
                   help="mark it done instead (for a 'switch' reminder: retires the old key)")


def _rotate(sub, common) -> None:
    p = sub.add_parser("rotate", parents=[common],
                       help="refresh a key through Momento (new key + refresh token; the old one keeps "
                            "working until it expires)",
                       epilog="Exit codes: 0 rotated, 1 cannot be refreshed or Momento refused (nothing changed), "
                              "3 unreachable, 4 rotated but the keyring refused the new key (rescue file written).")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    _timeout(p)


def _notify(sub, common) -> None:
    p = sub.add_parser("notify", parents=[common],
                       help="for cron: one desktop notification per due reminder (stdout without notify-send), "
                            "never twice for the same reminder")
    p.add_argument("--stdout", action="store_true", help="print even when notify-send is present")


def _metrics(sub, common) -> None:
    p = sub.add_parser("metrics", parents=[common], help="Prometheus text format (for node_exporter)")
    p.add_argument("--textfile", metavar="PATH",
                   help="write atomically to PATH (node_exporter's textfile collector) instead of stdout")


# In the order `--help` lists them.
SUBCOMMANDS: dict[str, Callable[[argparse._SubParsersAction, argparse.ArgumentParser], None]] = {
    "import": _import, "list": _list, "check": _check, "inspect": _inspect, "doctor": _doctor,
    "generate": _generate, "verify": _verify, "export": _export, "env": _env,
    "reminders": _reminders, "snooze": _snooze, "dismiss": _dismiss, "rotate": _rotate, "notify": _notify,
    "metrics": _metrics,
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of the whole command line; with ``only``, of that sub-command alone."""
    parser = Parser(
        prog=PROG,
        description="A terminal dashboard for Momento API keys. With no command, opens the dashboard.",
        epilog="Secrets live only in the OS keyring; the database holds metadata. See the README for exit codes.",
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
        elif arg in TOP_FLAGS or arg.partition("=")[0] in VALUE_OPTIONS and "=" in arg:
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


# Options that name files: any bytes the filesystem allows are fine there.
_PATH_OPTIONS = frozenset({"db", "config", "file", "out", "textfile"})


def undecodable_argument(args: argparse.Namespace) -> str | None:
    """The first argument (not a path) holding bytes that are not UTF-8, which Python passes on
    as lone surrogates: they cannot be stored, printed or sent, so refuse them up front."""
    for dest, value in vars(args).items():
        if dest in _PATH_OPTIONS:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    if dest == "name" and args.command not in ("import", "generate"):
                        return "NAME"
                    if dest == "duration":
                        return "DUR"
                    return {"key_type": "--type"}.get(dest, "--" + dest.replace("_", "-"))
    return None
