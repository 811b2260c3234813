"""Command line: no subcommand starts the dashboard; subcommands run headless.

The headless paths (list, check, import, inspect, doctor) import neither
Textual nor the Momento SDK, so they start fast enough for cron.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from .services.keeper import Keeper

PROG = "momento-keys"


class CliError(Exception):
    """A user error: printed as one line on stderr, exit code attached."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# ---- argument parsing ------------------------------------------------------------

def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--db", metavar="PATH", default=default,
                        help="the key database (default: $MOMENTO_KEYS_DB or the user data directory)")
    parser.add_argument("--config", metavar="PATH", default=default,
                        help="the settings file (default: $MOMENTO_KEYS_CONFIG or the user config directory)")
    parser.add_argument("--allow-insecure-keyring", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="store secrets even in a keyring backend that is not secure (plaintext files)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    common = argparse.ArgumentParser(add_help=False)
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
    return parser


def _version() -> str:
    from . import __version__

    return __version__


# ---- plumbing ----------------------------------------------------------------------

def _settings(args: argparse.Namespace):
    from .services.config import ConfigError, config_path, load_settings

    path = Path(args.config).expanduser() if getattr(args, "config", None) else config_path()
    try:
        return load_settings(path)
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def _store(args: argparse.Namespace, *, readonly: bool = False):
    from .services.config import db_path
    from .services.store import Store, StoreError

    path = db_path(getattr(args, "db", None))
    try:
        return Store(path, readonly=readonly)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot create the database at {path}: {exc.strerror}") from None


def _keeper(args: argparse.Namespace, *, readonly: bool = False, vault=None) -> Keeper:
    from .services.keeper import Keeper
    from .services.vault import Vault

    settings = _settings(args)
    allow = bool(getattr(args, "allow_insecure_keyring", False)) or settings.allow_insecure_keyring
    return Keeper(_store(args, readonly=readonly), vault or Vault(allow_insecure=allow), settings)


MAX_INPUT = 1 << 20  # a key file is small; refuse to read a huge one into memory


def _read_input(path: str | None, *, what: str = "the key") -> str:
    if path:
        p = Path(path).expanduser()
        try:
            if p.stat().st_size > MAX_INPUT:
                raise CliError(f"{p} is {p.stat().st_size} bytes: too large to be a key or Download JSON")
            data = p.read_bytes()
        except FileNotFoundError:
            raise CliError(f"no such file: {p}") from None
        except IsADirectoryError:
            raise CliError(f"{p} is a directory, not a key file") from None
        except PermissionError:
            raise CliError(f"cannot read {p}: permission denied") from None
        except OSError as exc:
            raise CliError(f"cannot read {p}: {exc.strerror}") from None
    elif sys.stdin is None or sys.stdin.closed:
        raise CliError(f"no input: pipe {what} on stdin or give --file PATH")
    elif sys.stdin.isatty():
        try:
            return getpass.getpass(f"Paste {what} (input is hidden), then press Enter: ")
        except (EOFError, KeyboardInterrupt):
            raise CliError("cancelled; nothing was imported") from None
    else:
        data = sys.stdin.buffer.read(MAX_INPUT + 1)
        if len(data) > MAX_INPUT:
            raise CliError("the input is over 1 MiB: too large to be a key or Download JSON")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CliError("the input is not text (not UTF-8): expected a Momento key or the console's Download JSON") from None


def _print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


# ---- commands -------------------------------------------------------------------

def cmd_import(args: argparse.Namespace) -> int:
    from .core.keys import KeyFormatError, cli_credentials_path, inspect_text, parse_cli_credentials
    from .core.model import KeyType, Kind
    from .services.keeper import KeeperError, parse_tags
    from .services.store import StoreError

    if args.momento_cli:
        path = Path(args.file).expanduser() if args.file else cli_credentials_path()
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            raise CliError(f"no momento-cli credentials file at {path} (set MOMENTO_CONFIG_DIR or use --file)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            profiles = parse_cli_credentials(text)
        except KeyFormatError as exc:
            raise CliError(f"{path}: {exc}") from None
        if args.profile:
            profiles = [(n, r) for n, r in profiles if n == args.profile]
            if not profiles:
                raise CliError(f"no profile {args.profile!r} in {path}")
        if not profiles:
            raise CliError(f"{path} holds no profiles")
        keeper = _keeper(args)
        failures = 0
        for profile, result in profiles:
            name = args.name if (args.name and len(profiles) == 1) else f"momento-cli {profile}"
            if isinstance(result, Exception):
                print(f"{PROG}: profile {profile!r}: {result}", file=sys.stderr)
                failures += 1
                continue
            try:
                done = keeper.import_key(result, name, key_type=KeyType(args.key_type),
                                         notes=args.notes, tags=parse_tags(args.tags))
            except (KeeperError, StoreError) as exc:
                print(f"{PROG}: profile {profile!r}: {exc}", file=sys.stderr)
                failures += 1
                continue
            _report_import(done, keeper)
        return 1 if failures else 0

    if not args.name:
        raise CliError("import needs --name NAME (a unique name such as 'orders-api prod')")
    text = _read_input(args.file)
    try:
        inspection = inspect_text(text, endpoint=args.endpoint)
    except KeyFormatError as exc:
        raise CliError(str(exc)) from None
    keeper = _keeper(args)
    kind = Kind.DISPOSABLE if args.disposable else None
    try:
        done = keeper.import_key(inspection, args.name, key_type=KeyType(args.key_type), kind=kind,
                                 notes=args.notes, tags=parse_tags(args.tags))
    except (KeeperError, StoreError) as exc:
        raise CliError(str(exc)) from None
    if args.json:
        from .core.report import record_json

        _print_json(record_json(done.record, keeper.clock.now(), keeper.settings.thresholds))
        for w in done.warnings:
            print(f"{PROG}: warning: {w}", file=sys.stderr)
        return 0
    _report_import(done, keeper)
    return 0


def _report_import(done, keeper: Keeper) -> None:
    from .core.policy import LABELS, countdown
    from .core.report import local_time

    r = done.record
    status = keeper.status(r)
    left = "" if r.expires_at is None else f", {countdown(r.expires_at - keeper.clock.now())} left"
    print(f"imported {r.name!r}: {r.kind.value} key, region {r.region or 'unknown'}, "
          f"expires {local_time(r.expires_at)}{left} [{LABELS[status]}]")
    print(f"  secret: {'in the keyring (' + keeper.vault.status.description + ')' if r.secret_stored else 'not stored'}")
    for w in done.warnings:
        print(f"{PROG}: warning: {w}", file=sys.stderr)


def cmd_list(args: argparse.Namespace) -> int:
    from .core.model import Lifecycle
    from .core.policy import GLYPHS, LABELS, countdown
    from .core.report import local_time, record_json

    keeper = _keeper(args, readonly=True)
    records = keeper.store.all()
    if not args.all:
        records = [r for r in records if r.lifecycle is not Lifecycle.RETIRED]
    now = keeper.clock.now()
    if args.json:
        _print_json([record_json(r, now, keeper.settings.thresholds) for r in records])
        return 0
    if not records:
        print("No keys tracked yet. Import one: momento-keys import --name NAME < key.json")
        return 0
    rows = []
    for r in records:
        s = keeper.status(r)
        left = countdown(None if r.expires_at is None else r.expires_at - now)
        rows.append([f"{GLYPHS[s]} {LABELS[s]}", r.name, r.kind.value, r.key_type.value, r.region or "-",
                     local_time(r.expires_at), left, "yes" if r.secret_stored else "no"])
    print(_table(rows, ["STATUS", "NAME", "KIND", "TYPE", "REGION", "EXPIRES", "LEFT", "SECRET"]))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .core.model import Lifecycle, Status
    from .core.policy import LABELS, DurationError, countdown, parse_duration, status_of
    from .core.report import EXIT_UNKNOWN, check_exit_code, record_json, worst

    try:
        keeper = _keeper(args, readonly=True)
        thresholds = keeper.settings.thresholds
        try:
            if args.warn:
                thresholds = replace(thresholds, warning_seconds=parse_duration(args.warn))
            if args.critical:
                thresholds = replace(thresholds, critical_seconds=parse_duration(args.critical))
        except DurationError as exc:
            raise CliError(str(exc), EXIT_UNKNOWN) from None
        if thresholds.critical_seconds > thresholds.warning_seconds:
            raise CliError("--critical must not be longer than --warn", EXIT_UNKNOWN)
        records = [r for r in keeper.store.all() if r.lifecycle is Lifecycle.ACTIVE]
    except CliError as exc:
        exc.code = EXIT_UNKNOWN
        raise
    now = keeper.clock.now()
    statuses = [status_of(r, now, thresholds) for r in records]
    code = check_exit_code(statuses, never_is_ok=args.allow_never)
    attention = [(r, s) for r, s in zip(records, statuses)
                 if s not in (Status.OK,) and not (s is Status.NEVER and args.allow_never)]
    if args.quiet:
        return code
    if args.json:
        counts: dict[str, int] = {}
        for s in statuses:
            counts[s.value] = counts.get(s.value, 0) + 1
        _print_json({
            "exit_code": code,
            "worst": worst(statuses).value if statuses else "ok",
            "checked": len(records),
            "counts": counts,
            "keys": [record_json(r, now, thresholds) for r, _ in attention],
        })
        return code
    if not records:
        print("OK: no keys tracked")
        return code
    label = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}[code]
    print(f"{label}: {len(records)} keys checked, {len(attention)} need attention")
    for r, s in attention[:50]:
        if r.expires_at is None:
            when = "never expires (Momento advises against it)" if s is Status.NEVER else "expiry unknown"
        elif r.expires_at <= now:
            when = f"expired {countdown(now - r.expires_at)} ago"
        else:
            when = f"{countdown(r.expires_at - now)} left"
        print(f"  {LABELS[s]:<13} {r.name}: {when}")
    if len(attention) > 50:
        print(f"  … and {len(attention) - 50} more (use --json for all)")
    return code


def cmd_inspect(args: argparse.Namespace) -> int:
    from .core.keys import KeyFormatError, inspect_text
    from .core.policy import countdown
    from .core.report import iso_utc, local_time

    text = _read_input(args.file)
    try:
        i = inspect_text(text, endpoint=args.endpoint)
    except KeyFormatError as exc:
        raise CliError(str(exc)) from None
    from .core.clock import SystemClock

    now = SystemClock().now()
    info = {
        "kind": i.kind.value,
        "kind_note": "a v1 API key or a disposable token (the two look the same)" if i.kind.value == "v1" else "",
        "endpoint": i.endpoint,
        "control_host": i.control_host,
        "cache_host": i.cache_host,
        "token_host": i.token_host,
        "http_endpoint": i.http_endpoint,
        "region": i.region,
        "provider": i.provider,
        "issued_at": iso_utc(i.issued_at),
        "expires_at": iso_utc(i.expires_at),
        "expiry_source": i.expiry_source.value,
        "seconds_left": None if i.expires_at is None else int(i.expires_at - now),
        "key_type": "unknown (cannot be read from the key; it depends on how the key was made)",
        "claims": i.claims,
        "fingerprint": i.fingerprint,
        "has_refresh_token": bool(i.refresh_token),
        "source": i.source,
    }
    if args.json:
        _print_json(info)
        return 0
    if i.expires_at is None:
        expiry = "never" if i.expiry_source.value != "unknown" else "unknown"
    else:
        left = i.expires_at - now
        expiry = f"{local_time(i.expires_at)} ({countdown(left)} left)" if left > 0 else f"{local_time(i.expires_at)} (EXPIRED)"
    rows = [
        ("kind", i.kind.value + (f" — {info['kind_note']}" if info["kind_note"] else "")),
        ("endpoint", i.endpoint or "unknown (give --endpoint for a v2 key)"),
        ("control", i.control_host or "-"),
        ("cache", i.cache_host or "-"),
        ("token", i.token_host or "-"),
        ("http", i.http_endpoint or "-"),
        ("region", f"{i.region} ({i.provider})" if i.region else "unknown"),
        ("issued", local_time(i.issued_at, never="unknown")),
        ("expires", expiry),
        ("expiry from", i.expiry_source.value),
        ("key type", "unknown (cannot be read from the key)"),
        ("refresh token", "yes" if i.refresh_token else "no"),
        ("fingerprint", i.fingerprint),
        ("claims", ", ".join(f"{k}={v}" for k, v in sorted(i.claims.items())) or "-"),
    ]
    for k, v in rows:
        print(f"{k:>14}  {v}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    import platform
    import sqlite3
    from importlib import metadata

    from .services.config import ConfigError, config_path, db_path, load_settings
    from .services.store import SCHEMA_VERSION, Store, StoreError
    from .services.vault import Health, Vault

    problems: list[str] = []
    report: dict[str, object] = {}

    cfg = Path(args.config).expanduser() if getattr(args, "config", None) else config_path()
    try:
        settings = load_settings(cfg)
        report["config"] = {"path": str(cfg), "exists": cfg.exists(), "ok": True}
    except ConfigError as exc:
        settings = None
        report["config"] = {"path": str(cfg), "exists": True, "ok": False, "error": str(exc)}
        problems.append(str(exc))

    allow = bool(getattr(args, "allow_insecure_keyring", False)) or bool(settings and settings.allow_insecure_keyring)
    vault = Vault(allow_insecure=allow)
    status = vault.probe()
    report["keyring"] = {"backend": status.backend, "description": status.description,
                         "health": status.health.value, "detail": status.detail,
                         "secure": status.health is Health.SECURE, "insecure_allowed": allow}
    if status.health is not Health.SECURE:
        problems.append(f"keyring: {status.summary()}. Fix: on Linux install and unlock a Secret Service "
                        "(gnome-keyring or KeePassXC); or set PYTHON_KEYRING_BACKEND to a secure backend")

    path = db_path(getattr(args, "db", None))
    dbinfo: dict[str, object] = {"path": str(path), "exists": path.exists()}
    records = []
    if path.exists():
        mode = path.stat().st_mode & 0o777
        dbinfo["mode"] = oct(mode)
        if mode & 0o077:
            problems.append(f"database {path} is readable by others (mode {oct(mode)}); fix: chmod 600 {path}")
        try:
            store = Store(path, readonly=True)
            dbinfo["schema"] = store.schema_version()
            dbinfo["schema_supported"] = SCHEMA_VERSION
            dbinfo["integrity"] = store.integrity()
            records = store.all()
            dbinfo["records"] = len(records)
            if dbinfo["integrity"] != "ok":
                problems.append(f"database integrity check failed: {dbinfo['integrity']}")
            if store.schema_version() > SCHEMA_VERSION:
                problems.append(store.readonly_reason or "database is from a newer version")
            store.close()
        except StoreError as exc:
            dbinfo["error"] = str(exc)
            problems.append(str(exc))
    report["database"] = dbinfo

    missing = []
    if status.health in (Health.SECURE, Health.INSECURE):
        for r in records:
            if r.secret_stored and not vault.has(r.fingerprint):
                missing.append(r.name)
    unstored = [r.name for r in records if not r.secret_stored]
    report["secrets"] = {"missing_from_keyring": missing, "metadata_only": unstored}
    if missing:
        problems.append(f"{len(missing)} record(s) say their secret is in the keyring but it is not: "
                        + ", ".join(missing[:10]) + " — re-import those keys or delete the records")

    def ver(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    report["versions"] = {"momento-keys": _version(), "python": platform.python_version(),
                          "sqlite": sqlite3.sqlite_version, "textual": ver("textual"),
                          "momento": ver("momento"), "keyring": ver("keyring")}
    report["problems"] = problems
    if args.json:
        _print_json(report)
        return 1 if problems else 0
    kr = report["keyring"]
    print(f"keyring   {kr['description']} [{kr['health'].upper()}]")  # type: ignore[index]
    print(f"          backend {kr['backend']}")  # type: ignore[index]
    if status.detail and status.health is not Health.SECURE:
        print(f"          {status.detail}")
    print(f"database  {path}" + ("" if path.exists() else " (not created yet)"))
    if path.exists():
        print(f"          mode {dbinfo.get('mode')}, schema {dbinfo.get('schema', '?')} "
              f"(supported {SCHEMA_VERSION}), integrity {dbinfo.get('integrity', '?')}, "
              f"{dbinfo.get('records', '?')} records")
    print(f"config    {cfg}" + ("" if cfg.exists() else " (defaults; file not present)"))
    print(f"secrets   {len(records) - len(unstored)} in the keyring, {len(unstored)} metadata only"
          + (f", {len(missing)} MISSING" if missing else ""))
    v = report["versions"]
    print("versions  " + ", ".join(f"{k} {val}" for k, val in v.items()))  # type: ignore[union-attr]
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print(f"  - {p}")
        return 1
    print("\nall good")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from .factory import build_app, build_demo_app

    if args.demo:
        app = build_demo_app()
    else:
        keeper = _keeper(args, readonly=args.readonly)
        app = build_app(keeper, readonly=args.readonly)
    app.run()
    return app.return_code or 0


COMMANDS = {
    "import": cmd_import,
    "list": cmd_list,
    "check": cmd_check,
    "inspect": cmd_inspect,
    "doctor": cmd_doctor,
}


def _fail(message: str, code: int) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # `check` promises 3 for any error, usage errors included (monitoring reads it).
        if exc.code == 2 and "check" in argv:
            raise SystemExit(3) from None
        raise
    handler = COMMANDS.get(args.command or "", cmd_dashboard)
    try:
        return handler(args)
    except CliError as exc:
        _fail(str(exc), exc.code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        # `momento-keys list | head`: the reader went away; not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        # Failures of the store, keyring or keeper are user errors with a
        # message already written for people: no traceback for those.
        from .services.keeper import KeeperError
        from .services.store import StoreError
        from .services.vault import VaultError

        if isinstance(exc, (StoreError, VaultError, KeeperError)):
            _fail(str(exc), 3 if args.command == "check" else 1)
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
