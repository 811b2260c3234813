"""The argument parser of the command line.

A module of its own so that argparse (and the parser of every subcommand) is
built only when a command line needs it: plain `check` and `list` command
lines are read without it (tui.cli_argv).
"""

from __future__ import annotations

import argparse
import re
from typing import NoReturn

from .cli import PROG, _version

# Anything shaped like a key or token: a JWT, or a long run of base64/token characters.
_SECRET_SHAPED = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*|[A-Za-z0-9_+/=-]{32,}")


def _redact(text: str) -> str:
    """Text made safe to print: whatever looks like a key or token is replaced."""
    return _SECRET_SHAPED.sub("[redacted]", text)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error never echoes a key pasted on the command line
    (`momento-keys import --key eyJ...` would otherwise print it into the CI log)."""

    def error(self, message: str) -> NoReturn:
        super().error(_redact(message))


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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    common = _Parser(add_help=False)
    _global_options(common, suppress=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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

    p = sub.add_parser("list", parents=[common], help="list tracked keys (no secrets)")
    p.add_argument("--json", action="store_true", help="a stable JSON array (see the README)")
    p.add_argument("--all", action="store_true", help="include retired keys")

    p = sub.add_parser("check", parents=[common], help="exit 0 ok, 1 warning, 2 critical/expired, 3 unknown/error")
    p.add_argument("--warn", metavar="DUR", help="warning when less than DUR is left (e.g. 14d)")
    p.add_argument("--critical", metavar="DUR", help="critical when less than DUR is left (e.g. 3d)")
    p.add_argument("--allow-never", action="store_true", help="count keys that never expire as ok")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing; only the exit code")

    p = sub.add_parser("inspect", parents=[common], help="decode a key from stdin or a file; prints no secret")
    p.add_argument("--file", metavar="PATH")
    p.add_argument("--endpoint", metavar="HOST", help="endpoint to assume for a v2 key")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("doctor", parents=[common], help="keyring, database and versions: what is wrong and how to fix it")
    p.add_argument("--json", action="store_true")
    p.add_argument("--adopt", action="store_true",
                   help="re-create the records of secrets an interrupted import, generation or rotation left "
                        "in the keyring")

    _momento_parsers(sub, common)
    from .cli_reminders import add_parsers as _reminder_parsers

    _reminder_parsers(sub, common)
    return parser



GENERATE_EPILOG = """\
--expires takes a duration (30d, 12h, 2w, 1d12h; units s m h d w mo y), a date
YYYY-MM-DD (the key then lasts until 23:59:59 local time that day, which must be
in the future), or `never` (only with --yes-never: Momento advises against keys
that never expire). A disposable token must expire within 25 hours (the
service's limit).

Everything is checked before Momento is called: the arguments, the names, the
acting key's secret and that the keyring can store the new key.

The new key goes straight into the keyring and the database; it is never
printed. If it cannot be stored after Momento made it, it is written to a rescue
file (Download JSON, mode 0600) in a `rescue/` folder next to the database and
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
directory, then renamed) and an existing file is kept unless --force is given.
Without --out (or with --out -) the JSON goes to stdout, but only when stdout is
not a terminal (a pipe or a redirect); --stdout prints it on a terminal too.

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

def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("must be between 0 and 600 seconds")
    return value


def _momento_parsers(sub, common: argparse.ArgumentParser) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "generate", parents=[common], formatter_class=raw, epilog=GENERATE_EPILOG,
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
    p.add_argument("--timeout", type=_positive_seconds, default=15.0, metavar="SECONDS",
                   help="deadline of each Momento call (default 15)")
    p.add_argument("--json", action="store_true", help="print the new record as JSON (never the secret)")

    p = sub.add_parser("verify", parents=[common], formatter_class=raw, epilog=VERIFY_EPILOG,
                       help="ask Momento whether a tracked key works: exit 0 valid/restricted, 2 invalid, 3 unknown",
                       description="Ask Momento whether a tracked key works.")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    p.add_argument("--timeout", type=_positive_seconds, default=15.0, metavar="SECONDS",
                   help="deadline of each Momento call (default 15)")
    p.add_argument("--json", action="store_true", help='print {"name", "status", "message"}')

    p = sub.add_parser("export", parents=[common], formatter_class=raw, epilog=EXPORT_EPILOG,
                       help="write a tracked key as the console's Download JSON (a 0600 file, or a pipe)",
                       description="Write a tracked key, with its refresh token, as the console's\nDownload JSON.")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="FILE", help="write to FILE (mode 0600); '-' means stdout")
    where.add_argument("--stdout", action="store_true", help="print to stdout even if it is a terminal")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")

    p = sub.add_parser("env", parents=[common], formatter_class=raw, epilog=ENV_EPILOG,
                       help="print export lines for MOMENTO_API_KEY and MOMENTO_ENDPOINT (for eval)",
                       description="Print shell export lines for a tracked key.")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    p.add_argument("--stdout", action="store_true", help="print even if stdout is a terminal")

