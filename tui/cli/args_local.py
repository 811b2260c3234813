"""The arguments of the commands that work on this machine alone (the database, the keyring,
files, other programs): each function adds one sub-command to the parser (tui.cli.parser)."""

from __future__ import annotations

import argparse

TYPE_CHECKING = False
if TYPE_CHECKING:
    Sub = argparse._SubParsersAction
    Parent = argparse.ArgumentParser

KINDS = ("warning", "critical", "expiry", "review", "switch", "revoke")
SHELLS = ("bash", "zsh", "fish")


def _raw():
    from .formatting import RawFormatter

    return RawFormatter


def import_(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("import", parents=[common], help="track a key: from stdin or --file, never from argv",
                       description="Import a key (raw key or the console's Download JSON) from stdin or a file. "
                                   "The secret goes to the OS keyring; the database keeps metadata only.")
    p.add_argument("--name", help="a unique name, e.g. 'orders-api prod' (required unless --momento-cli)")
    p.add_argument("--endpoint", metavar="HOST", help="cell endpoint, needed for v2 keys "
                   "(e.g. cell-4-us-west-2-1.prod.a.momentohq.com)")
    p.add_argument("--type", dest="key_type", choices=["super-user", "fine-grained", "unknown"], default="unknown",
                   help="what a v1 key may do (it cannot be read from the key itself)")
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
    p.add_argument("--json", action="store_true", help="print the new record as JSON (never the secret)")


def list_(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("list", parents=[common], help="list tracked keys (no secrets)",
                       description="List the tracked keys: status, name, kind, type, region, expiry. No secrets.")
    p.add_argument("--json", action="store_true", help="a stable JSON array of records (see the README)")
    p.add_argument("--all", action="store_true", help="include retired keys")


CHECK_EPILOG = """\
Reads the database only (never the keyring or the network): fit for cron.

Thresholds: the settings file's [thresholds] (by default a warning 14 days
before expiry or at 2/3 of the key's lifetime, critical 3 days before or at
90 %, whichever comes first). Given --warn or --critical, the times left are
the whole policy for this run: the lifetime fractions are off unless
--warn-fraction or --critical-fraction adds them back, and the one of --warn and
--critical not given keeps the settings' time. A key's own thresholds (set in
the dashboard) still apply to it.

exit codes (Nagios-style; the worst key decides, in this order):
  2  critical: a key is critical, expired, or revoked (v2: the account no
     longer lists it)
  3  unknown: a key's expiry is unknown, or check itself failed (bad
     arguments, a database named by --db that does not exist, a damaged one)
  1  warning: a key is in its warning band, or never expires (unless
     --allow-never)
  0  ok
"""


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("a share of the lifetime, between 0 and 1 (such as 0.9)")
    return value


def check(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("check", parents=[common], formatter_class=_raw(), epilog=CHECK_EPILOG,
                       help="for monitoring: exit 0 ok, 1 warning, 2 critical/expired/revoked, 3 unknown/error",
                       description="Check every tracked key's expiry; the exit code is the verdict.")
    p.add_argument("--warn", metavar="DUR", help="warning when less than DUR is left (e.g. 14d)")
    p.add_argument("--critical", metavar="DUR", help="critical when less than DUR is left (e.g. 3d)")
    p.add_argument("--warn-fraction", type=_fraction, metavar="SHARE",
                   help="also a warning once this share of a key's lifetime is used (e.g. 0.67)")
    p.add_argument("--critical-fraction", type=_fraction, metavar="SHARE",
                   help="also critical once this share of a key's lifetime is used (e.g. 0.9)")
    p.add_argument("--allow-never", action="store_true", help="count keys that never expire as ok")
    p.add_argument("--json", action="store_true",
                   help="print the verdict, the counts, every key needing attention and the reminders due")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing; only the exit code")


def inspect(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("inspect", parents=[common], help="decode a key from stdin or a file; prints no secret",
                       description="Decode a key (or Download JSON) without tracking it: kind, endpoint, region, "
                                   "expiry, claims. Prints no secret.")
    p.add_argument("--file", metavar="PATH", help="read the key or Download JSON from this file")
    p.add_argument("--endpoint", metavar="HOST", help="endpoint to assume for a v2 key")
    p.add_argument("--json", action="store_true", help="print what was decoded as JSON")


def doctor(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("doctor", parents=[common],
                       help="keyring, database, log file and versions: what is wrong and how to fix it",
                       description="Check the keyring, the database, the settings and the versions; say what is "
                                   "wrong and how to fix it. Exit 1 when something is wrong.")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--adopt", action="store_true",
                   help="re-create the records of secrets an interrupted import, generation or rotation left "
                        "in the keyring")


EXPORT_EPILOG = """\
--format console (the default) writes the console's Download JSON: {"apiKey",
"refreshToken" (when the key has one), "validUntil" (epoch seconds, 0 = never;
left out when the expiry is unknown), "endpoint"}. `momento-keys import --file`
reads it back. --format lambda writes what Momento's api-key-refresh-lambda
reads from Secrets Manager: {"authToken", "refreshToken", "validUntil" (a
string)}.

With --out the file is written atomically (a 0600 temporary file in the same
directory, then renamed) and an existing file is kept unless --force is given
(even then, only a regular file is replaced). Without --out (or with --out -)
the JSON goes to stdout, but only when stdout is not a terminal (a pipe or a
redirect); --stdout prints it on a terminal too.

exit codes: 0 exported, 1 error (nothing written), 2 usage error.
"""

ENV_EPILOG = """\
Prints the lines that set MOMENTO_API_KEY, and MOMENTO_ENDPOINT for a v2 key
(v1 keys and disposable tokens carry their endpoint: the SDKs reject a v1 key
paired with MOMENTO_ENDPOINT, so for those the lines unset it):

  eval "$(momento-keys env NAME)"                         # sh, bash, zsh
  momento-keys env NAME --shell powershell | Invoke-Expression

To keep the secret off the screen, the lines are printed only when stdout is not
a terminal (as inside $(...)); --stdout prints them on a terminal too. To hand
the key to one command only, without a shell variable, use `momento-keys exec`.

exit codes: 0 printed, 1 error, 2 usage error.
"""

EXEC_EPILOG = """\
Runs COMMAND with MOMENTO_API_KEY (and MOMENTO_ENDPOINT for a v2 key; for
other keys it is removed) in its environment only, as `aws-vault exec` and
`op run` do: the secret is never on a command line, and the shell that ran
momento-keys never holds it.

  momento-keys exec 'orders prod' -- node server.js

On Linux and macOS momento-keys replaces itself with COMMAND, so signals
(Ctrl-C, SIGTERM, SIGHUP...) reach it directly and its exit code is the exit
code. The use is recorded in the key's events ("used by exec").

exit codes: COMMAND's own; 1 error before it ran (no such key, no secret),
126 COMMAND cannot be run, 127 COMMAND not found, 2 usage error.
"""


def export(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("export", parents=[common], formatter_class=_raw(), epilog=EXPORT_EPILOG,
                       help="write a tracked key as the console's Download JSON, or for the refresh lambda",
                       description="Write a tracked key, with its refresh token, as the console's\nDownload JSON "
                                   "(or the refresh lambda's secret).")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    p.add_argument("--format", choices=["console", "lambda"], default="console",
                   help="console: Download JSON (default); lambda: api-key-refresh-lambda's secret")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="FILE", help="write to FILE (mode 0600); '-' means stdout")
    where.add_argument("--stdout", action="store_true", help="print to stdout even if it is a terminal")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")


def env(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("env", parents=[common], formatter_class=_raw(), epilog=ENV_EPILOG,
                       help="print lines that set MOMENTO_API_KEY (and MOMENTO_ENDPOINT for v2 keys), for eval",
                       description="Print shell lines that set the variables of a tracked key.")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    p.add_argument("--shell", choices=["sh", "powershell"], default="sh",
                   help="sh: POSIX export lines (default); powershell: $Env: assignments")
    p.add_argument("--stdout", action="store_true", help="print even if stdout is a terminal")


def exec_(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("exec", parents=[common], formatter_class=_raw(), epilog=EXEC_EPILOG,
                       usage="%(prog)s [options] NAME -- COMMAND [ARG ...]",
                       help="run a command with the key in its environment only (MOMENTO_API_KEY)",
                       description="Run COMMAND with a tracked key in its environment.")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="COMMAND",
                   help="the command and its arguments, after --")


def reminders(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("reminders", parents=[common], help="open reminders, due first (no secrets)",
                       description="List the open reminders (expiry, review, switch, revoke), due first: DUE, "
                                   "SNOOZED (until WHEN) or UPCOMING (due WHEN), as the dashboard's panel says.")
    p.add_argument("--due", action="store_true", help="only those due now")
    p.add_argument("--json", action="store_true",
                   help="print them as a JSON array; \"state\" is \"due\", \"snoozed\" or \"pending\" "
                        "(pending: upcoming)")


def snooze(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("snooze", parents=[common], help="snooze a key's due reminder for DUR (e.g. 1d, 7d)",
                       description="Snooze a key's due reminder for a while.")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    p.add_argument("duration", metavar="DUR", help="how long: 1h, 1d, 7d...")
    p.add_argument("--kind", choices=KINDS, help="which reminder, when the key has several open")


def dismiss(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("dismiss", parents=[common], help="dismiss a key's due reminder",
                       description="Dismiss a key's due reminder, or mark it done.")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    p.add_argument("--kind", choices=KINDS, help="which reminder, when the key has several open")
    p.add_argument("--done", action="store_true",
                   help="mark it done instead (for a 'switch' reminder: retires the old key)")


def notify(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("notify", parents=[common],
                       help="for cron: one desktop notification per due reminder, never twice for the same one",
                       description="Send one desktop notification per due reminder (notify-send on Linux, "
                                   "osascript on macOS, PowerShell on Windows; a line on stdout without one), "
                                   "never twice for the same reminder.")
    p.add_argument("--stdout", action="store_true", help="print the notifications instead of sending them")


def metrics(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("metrics", parents=[common], help="Prometheus text format (for node_exporter)",
                       description="Print every key's expiry and status in Prometheus' text format.")
    p.add_argument("--textfile", metavar="PATH",
                   help="write atomically to PATH (node_exporter's textfile collector) instead of stdout")


def config(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("config", parents=[common],
                       help="show the effective settings, where each came from, and every path used",
                       description="Show the effective settings, where each came from (default, file, "
                                   "environment, flag), and every path the tool uses on this machine.")
    p.add_argument("action", choices=["show"], metavar="show", help="show (the only action)")
    p.add_argument("--json", action="store_true", help="print them as JSON")


def completion(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("completion", parents=[common], formatter_class=_raw(),
                       help="print the shell completion script for bash, zsh or fish",
                       description="Print a completion script for SHELL: sub-commands, options, choices\n"
                                   "and the names of tracked keys.",
                       epilog="  bash:  source <(momento-keys completion bash)      (in ~/.bashrc)\n"
                              "  zsh:   source <(momento-keys completion zsh)       (in ~/.zshrc, after compinit)\n"
                              "  fish:  momento-keys completion fish > ~/.config/fish/completions/momento-keys.fish\n")
    p.add_argument("shell", choices=SHELLS, metavar="SHELL", help="bash, zsh or fish")
