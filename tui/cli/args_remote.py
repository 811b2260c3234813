"""The arguments of the commands that talk to Momento (gRPC) or to its account API (HTTP):
each function adds one sub-command to the parser (tui.cli.parser)."""

from __future__ import annotations

import argparse

TYPE_CHECKING = False
if TYPE_CHECKING:
    Sub = argparse._SubParsersAction
    Parent = argparse.ArgumentParser


def _raw():
    from .formatting import RawFormatter

    return RawFormatter


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
                   help="deadline of each call to Momento (default 15)")


def _account_api(p: argparse._ActionsContainer) -> None:
    p.add_argument("--account-api", metavar="URL",
                   help="send the account-API calls to this server instead of Momento's "
                        "(such as http://127.0.0.1:8080; default: $MOMENTO_KEYS_ACCOUNT_API)")


GENERATE_DESCRIPTION = """\
Make a new key with a tracked key (--using), and track it.

A v2 API key (recommended; what Momento's console makes since December 2025):
  --role ROLE --description TEXT. One key for every region, bound to a role
  (Owner, Operator, Viewer or a custom role, by name or id), made through
  Momento's account API; the --using key's role must manage API keys (such as
  Owner). The endpoint is chosen separately (--endpoint; by default the --using
  key's) and stored with it. No refresh token: rotate it with `rotate`.

The alternatives, made with a tracked super-user v1 key through the auth API:
  a v1 fine-grained key (--cache/--topic/--all-data: data access to chosen
  caches and topics, one region, with a refresh token), or a disposable token
  (--disposable with the same grants: at most 25 hours, no refresh token).
"""

GENERATE_EPILOG = """\
--expires takes a duration (30d, 12h, 2w, 1d12h; units s m h d w mo y), a date
YYYY-MM-DD (the key then lasts until 23:59:59 local time that day, which must be
in the future) or YYYY-MM-DD HH:MM, or `never` (only with --yes-never: Momento
advises against keys that never expire). A disposable token must expire within
25 hours (the service's limit).

Everything is checked before Momento is called: the arguments, the names, the
acting key's secret and that the keyring can store the new key (for a v2 key,
the role too, read from the account).

The new key goes straight into the keyring and the database; it is never
printed. If it cannot be stored after Momento made it, it is written to a rescue
file (Download JSON, mode 0600) in the `rescue/` folder next to the database and
the error says where and how to import it.

exit codes:
  0  generated and stored
  1  nothing was generated: bad arguments, unknown names or role, no usable
     keyring, or Momento refused (for example: the --using key may not make
     keys; a v1 key needs a super-user key, a v2 key a role that manages keys)
  2  usage error, such as v2 options (--role) with v1 ones (--cache...)
  3  Momento could not be reached or did not answer; nothing was stored. The
     message says whether the key may have been created anyway
  4  Momento made the key but it could not be stored: it is in a rescue file
     (path on stderr; import it with `momento-keys import --file PATH`)
"""


def generate(sub: Sub, common: Parent) -> None:
    p = sub.add_parser(
        "generate", parents=[common], formatter_class=_raw(), epilog=GENERATE_EPILOG,
        description=GENERATE_DESCRIPTION,
        help="make a v2 API key with a role (or a v1 fine-grained key or disposable token) and track it")
    p.add_argument("--name", required=True, help="a unique name for the new key")
    p.add_argument("--using", required=True, metavar="NAME",
                   help="the tracked key that makes it (its secret is read from the keyring)")
    p.add_argument("--expires", required=True, metavar="WHEN",
                   help="30d, 12h, 2w, ..., a date YYYY-MM-DD (until 23:59:59 local time), or never")
    p.add_argument("--yes-never", action="store_true",
                   help="confirm --expires never (Momento advises against keys that never expire)")
    v2 = p.add_argument_group("a v2 API key (recommended)")
    v2.add_argument("--role", metavar="ROLE", help="the role: Owner, Operator, Viewer or a custom role (name or id)")
    v2.add_argument("--description", metavar="TEXT",
                    help="the key's description in the account (default: its --name)")
    v2.add_argument("--endpoint", metavar="HOST",
                    help="the cell endpoint stored with it (default: the --using key's)")
    _account_api(v2)
    v1 = p.add_argument_group("a v1 fine-grained key or a disposable token")
    v1.add_argument("--cache", action="append", default=[], metavar="CACHE=ROLE",
                    help="a cache permission, repeatable; CACHE may be '*' for all caches (including future "
                         "ones); ROLE readwrite, readonly or writeonly")
    v1.add_argument("--topic", action="append", default=[], metavar="CACHE/TOPIC=ROLE",
                    help="a topic permission, repeatable; CACHE and TOPIC may be '*'; ROLE publishsubscribe, "
                         "subscribeonly or publishonly")
    v1.add_argument("--all-data", action="store_true",
                    help="read-write on all caches and publish-subscribe on all topics")
    v1.add_argument("--disposable", action="store_true",
                    help="a disposable token (data only, no refresh token, at most 25 hours) instead of an API key")
    v1.add_argument("--token-id", metavar="ID",
                    help="with --disposable: an id the service puts in the token (at most 64 characters)")
    p.add_argument("--notes", default="", help="where this key is used")
    p.add_argument("--tags", default="", help="comma- or space-separated tags")
    _timeout(p)
    p.add_argument("--json", action="store_true", help="print the new record as JSON (never the secret)")


VERIFY_EPILOG = """\
Asks Momento with one ListCaches call whether the key works. Success says the
key is valid, not what it may do: roles such as Viewer can list caches too.

exit codes (like `check`, any failure to get an answer is 3):
  0  valid, or valid but restricted (authenticated but may not list caches:
     expected for fine-grained keys and disposable tokens)
  2  invalid: Momento rejected the key (expired, revoked, forged)
  3  unknown: Momento could not be reached, or the key could not be read
     (no such name, no secret stored, keyring error, usage error)
"""


def verify(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("verify", parents=[common], formatter_class=_raw(), epilog=VERIFY_EPILOG,
                       help="ask Momento whether a tracked key works: exit 0 valid/restricted, 2 invalid, 3 unknown",
                       description="Ask Momento whether a tracked key works.")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    _timeout(p)
    p.add_argument("--json", action="store_true", help='print {"name", "status", "message"}')


ACCOUNT_CODES = """\
exit codes: 0 done, 1 refused (the message says why: the acting key is invalid
or lacks auth-management access, no such role, ...), 2 usage error, 3 the
account API could not be reached, timed out, or may have acted without
answering (run `sync` to see).
"""

SYNC_EPILOG = """\
Reads every page of the account's API keys, then: tracked v2 keys get their
role, description, issue time and authoritative expiry; tracked v2 keys the
account no longer lists are marked revoked (`check` counts them as critical);
the account's keys that are not tracked here appear as records without a
secret, so their expiries show and get reminders. Imported v2 keys are matched
to account keys only when the match is certain; link the others with
`momento-keys link NAME KEY_ID`.

""" + ACCOUNT_CODES


def sync(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("sync", parents=[common], formatter_class=_raw(), epilog=SYNC_EPILOG,
                       help="read the account's v2 keys: expiries, roles, revoked keys, keys not tracked here",
                       description="Bring the tracked v2 keys in line with Momento's account.")
    p.add_argument("--using", required=True, metavar="NAME",
                   help="the tracked key to act with (its role must manage API keys, such as Owner)")
    _account_api(p)
    _timeout(p)
    p.add_argument("--json", action="store_true", help="print what changed as JSON")


REVOKE_EPILOG = """\
Sends DELETE /api-keys/KEY_ID once, then retires the record, closes its
reminders and logs who revoked it. A key the account no longer has (404) is
reported as already gone and retired all the same. On a terminal it asks first,
naming the key and its role; elsewhere --yes is required.

""" + ACCOUNT_CODES


def revoke(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("revoke", parents=[common], formatter_class=_raw(), epilog=REVOKE_EPILOG,
                       help="revoke a v2 key through the account API (it stops working at once)",
                       description="Revoke a tracked v2 key through Momento's account API.")
    p.add_argument("name", metavar="NAME", help="the tracked v2 key to revoke")
    p.add_argument("--using", metavar="NAME",
                   help="the tracked key to act with (default: the key itself, if its role manages API keys)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask (required when not on a terminal)")
    _account_api(p)
    _timeout(p)
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")


def link(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("link", parents=[common],
                       help="link an imported v2 key to its account key id (for sync and revoke)",
                       description="Link a tracked v2 key to its account key (as `sync` or the Momento console "
                                   "shows its id): later syncs then match it exactly, and `revoke` can revoke it.")
    p.add_argument("name", metavar="NAME", help="the tracked v2 key")
    p.add_argument("key_id", metavar="KEY_ID", help="the account's key id")
    p.add_argument("--json", action="store_true", help="print the linked record as JSON")


ROTATE_EPILOG = """\
A v1 key is refreshed through Momento (a new key and refresh token; the old key
keeps working until it expires). A v2 key gets a new key with the same role,
description and lifetime through the account API; the old one keeps working
until `rotate --finish NAME` revokes it (asking first; --yes elsewhere).
Either way the old key becomes "previous" with a reminder to switch consumers.

--deploy-hook CMD runs after a successful rotation, through the shell (as
certbot's --deploy-hook): the new key on its stdin, MOMENTO_KEYS_NAME and
MOMENTO_KEYS_FINGERPRINT in its environment, its output on stderr. If the hook
fails, the rotation stays done: a warning says so, an event records it, and the
exit code is still 0 (run the hook again by hand).

exit codes: 0 rotated (or finished), 1 cannot be rotated or Momento refused
(nothing changed), 3 unreachable or no answer, 4 rotated but the keyring
refused the new key (rescue file written).
"""


def rotate(sub: Sub, common: Parent) -> None:
    p = sub.add_parser("rotate", parents=[common], formatter_class=_raw(), epilog=ROTATE_EPILOG,
                       help="replace a key with a new one (v1: refresh; v2: same role), or finish a v2 rotation",
                       description="Rotate a tracked key, or finish the rotation of a v2 key.")
    p.add_argument("name", metavar="NAME", help="the tracked key")
    p.add_argument("--finish", action="store_true",
                   help="v2: revoke the previous key of NAME's rotation, once its consumers use the new key")
    p.add_argument("--using", metavar="NAME",
                   help="v2: the tracked key to act with (default: the key itself, whose role must manage API keys)")
    p.add_argument("--yes", "-y", action="store_true", help="with --finish: do not ask")
    p.add_argument("--deploy-hook", metavar="CMD",
                   help="a shell command run after a successful rotation, with the new key on its stdin")
    _account_api(p)
    p.add_argument("--json", action="store_true", help="print the new and previous records as JSON")
    _timeout(p)
