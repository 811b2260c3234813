"""Command line: no subcommand starts the dashboard; subcommands run headless.

The headless paths (list, check, import, inspect, doctor, export, env) import
neither Textual nor the Momento SDK, so they start fast enough for cron. Only
the commands that call Momento (generate, verify) import grpc and momento,
and only when they run.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

# Only what every command needs is imported here: `check` runs every minute
# from cron, so argparse (tui.cli_parser), json, typing and the services are
# imported by the commands that use them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import NoReturn

    from .services.keeper import Keeper

PROG = "momento-keys"


class CliError(Exception):
    """A user error: printed as one line on stderr, exit code attached."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# ---- arguments (the parser itself is in tui.cli_parser) ---------------------------

def build_parser() -> argparse.ArgumentParser:
    from .cli_parser import build_parser

    return build_parser()


def _shown(value: str, limit: int = 60) -> str:
    """A user's value for an error message: quoted and escaped (no control character reaches the
    terminal), and cut short so that the message stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 4] + "...'"


def _check_name(option: str, value: str) -> None:
    """Names are printed in tables and notifications: no characters that move the cursor or start
    a terminal escape (C1 controls such as CSI, DEL, line and paragraph separators)."""
    bad = next((ch for ch in value if not ch.isprintable() and ch not in " \t\n\r"), None)
    if bad is not None:
        raise CliError(f"{option} {_shown(value)}: a name may not contain the invisible or control character "
                       f"{bad!r}")


DURATION_MAX_CHARS = 64


def _parse_duration(text: str) -> int:
    """core.policy.parse_duration, but a number too long for int() is a DurationError too."""
    from .core.policy import DurationError, parse_duration

    if len(text) > DURATION_MAX_CHARS:
        # parse_duration's regex is quadratic on long runs of digits: 50,000 of them take minutes.
        raise DurationError(f"not a duration: {len(text)} characters is far too long; use a number and a unit "
                            "(s, m, h, d, w, mo, y), such as 14d, 12h or 30m")
    try:
        return parse_duration(text)
    except DurationError:
        raise
    except (ValueError, OverflowError):  # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        raise DurationError("not a duration: its number is far too long; use a number and a unit "
                            "(s, m, h, d, w, mo, y), such as 14d, 12h or 30m") from None


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


def _store_message(exc: BaseException, path: Path | None = None) -> str:
    """A store failure in one line, with what to do about it when the store did not say."""
    from .services.store import ReadOnlyStore

    text = str(exc)
    if isinstance(exc, ReadOnlyStore) and "newer momento-keys" not in text:
        how = f"chmod u+w {_quote(str(path))} {_quote(str(path.parent))}; " if path else ""
        text += (f"; check that you may write the database file and its folder ({how}SQLite also writes -wal "
                 "and -shm files beside it), or use another file with --db PATH")
    elif "unable to open database file" in text:
        text += "; check that its folder exists and is writable, or use another file with --db PATH"
    elif "is full" in text and "free" not in text:
        text += "; free some space and try again"
    return text


def _store(args: argparse.Namespace, *, readonly: bool = False):
    from .services.config import db_path
    from .services.store import Store, StoreError

    path = db_path(getattr(args, "db", None))
    try:
        return Store(path, readonly=readonly)
    except StoreError as exc:
        raise CliError(_store_message(exc, path)) from None
    except OSError as exc:
        folder = path.parent
        raise CliError(f"cannot create the database at {path}: {exc.strerror or exc}; make {folder} writable, or "
                       "choose another place with --db PATH or MOMENTO_KEYS_DB") from None


def _keeper(args: argparse.Namespace, *, readonly: bool = False, vault=None) -> Keeper:
    from .services.keeper import Keeper
    from .services.vault import Vault

    settings = _settings(args)
    allow = bool(getattr(args, "allow_insecure_keyring", False)) or settings.allow_insecure_keyring
    return Keeper(_store(args, readonly=readonly), vault or Vault(allow_insecure=allow), settings)


def _read_input(path: str | None, *, what: str = "the key") -> str:
    from .services.files import MAX_KEY_FILE, KeyFileError, decode_key_bytes, read_key_file

    try:
        if path:
            return read_key_file(path)
        if sys.stdin is None or sys.stdin.closed:
            raise CliError(f"no input: pipe {what} on stdin or give --file PATH")
        if sys.stdin.isatty():
            import getpass

            try:
                return getpass.getpass(f"Paste {what} (input is hidden), then press Enter: ")
            except (EOFError, KeyboardInterrupt):
                raise CliError("cancelled; nothing was imported") from None
        data = sys.stdin.buffer.read(MAX_KEY_FILE + 1)
        if len(data) > MAX_KEY_FILE:
            raise CliError("the input is over 1 MiB: too large to be a key or Download JSON")
        return decode_key_bytes(data)
    except KeyFileError as exc:
        raise CliError(str(exc)) from None


def _print_json(value: object) -> None:
    import json

    # One write: json.dump writes piece by piece, a system call each when stdout is
    # unbuffered (PYTHONUNBUFFERED): 700,000 of them for `list --json` of 10,000 keys.
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


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
                print(f"{PROG}: profile {profile!r}: {_store_message(exc, keeper.store.path)}", file=sys.stderr)
                failures += 1
                continue
            _report_import(done, keeper)
        return 1 if failures else 0

    if not args.name:
        raise CliError("import needs --name NAME (a unique name such as 'orders-api prod')")
    _check_name("--name", args.name)
    text = _read_input(args.file)
    try:
        inspection = inspect_text(text, endpoint=args.endpoint)
    except KeyFormatError as exc:
        raise CliError(str(exc)) from None
    keeper = _keeper(args)
    kind = Kind.DISPOSABLE if args.disposable else None
    try:
        replaced = None
        if args.replaces:
            replaced = keeper.store.find(args.replaces)
            if replaced is None:
                raise CliError(f"--replaces: no key named {_shown(args.replaces, 120)} is tracked")
        done = keeper.import_key(inspection, args.name, key_type=KeyType(args.key_type), kind=kind,
                                 notes=args.notes, tags=parse_tags(args.tags))
        if replaced is not None:
            from .services.rotation import Rotator

            Rotator(keeper, api_factory=None).link_replacement(replaced, done.record)  # type: ignore[arg-type]
            done.warnings.append(f"{args.name!r} replaces {replaced.name!r}: switch its consumers, then revoke "
                                 "the old key in the Momento console (reminders are set)")
    except (KeeperError, StoreError) as exc:
        raise CliError(_store_message(exc, keeper.store.path)) from None
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
    from .core.clock import SystemClock
    from .core.model import Lifecycle
    from .core.policy import GLYPHS, LABELS, countdown, status_of
    from .core.report import local_time, record_json

    # No Keeper: listing needs the settings and the store, never the keyring.
    settings = _settings(args)
    store = _store(args, readonly=True)
    clock = SystemClock()
    records = store.all(lean=True)
    if not args.all:
        records = [r for r in records if r.lifecycle is not Lifecycle.RETIRED]
    now = clock.now()
    if args.json:
        _print_json([record_json(r, now, settings.thresholds) for r in records])
        return 0
    if not records:
        print("No keys tracked yet. Import one: momento-keys import --name NAME < key.json")
        return 0
    rows = []
    for r in records:
        s = status_of(r, clock.now(), settings.thresholds)
        left = countdown(None if r.expires_at is None else r.expires_at - now)
        rows.append([f"{GLYPHS[s]} {LABELS[s]}", r.name, r.kind.value, r.key_type.value, r.region or "-",
                     local_time(r.expires_at), left, "yes" if r.secret_stored else "no"])
    print(_table(rows, ["STATUS", "NAME", "KIND", "TYPE", "REGION", "EXPIRES", "LEFT", "SECRET"]))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from .cli_check import active_columns, column_statuses, in_order
    from .core.clock import SystemClock
    from .core.model import Status
    from .core.policy import LABELS, DurationError, countdown
    from .core.report import EXIT_UNKNOWN, check_exit_code, iso_utc, record_json, worst

    parse_duration = _parse_duration
    clock = SystemClock()
    try:
        # No Keeper: `check` needs the settings and the store, never the keyring.
        settings = _settings(args)
        store = _store(args, readonly=True)
        thresholds = settings.thresholds
        try:
            # Thresholds given here are explicit: they apply even to keys whose whole life is shorter.
            if args.warn:
                thresholds = replace(thresholds, warning_seconds=parse_duration(args.warn), warning_explicit=True)
            if args.critical:
                thresholds = replace(thresholds, critical_seconds=parse_duration(args.critical),
                                     critical_explicit=True)
        except DurationError as exc:
            raise CliError(str(exc), EXIT_UNKNOWN) from None
        if thresholds.critical_seconds > thresholds.warning_seconds:
            raise CliError("--critical must not be longer than --warn", EXIT_UNKNOWN)
        columns = active_columns(store, ids=args.json)
        due: list = []  # reminders due (all for --json; the first 20 otherwise), and how many
        due_count = 0
        if not args.quiet and store.schema_version() >= 2:
            if args.json:
                due = store.due_reminders(int(clock.now()))
                due_count = len(due)
            elif due_count := store.due_count(int(clock.now())):
                due = store.due_reminders(int(clock.now()), limit=20)
    except CliError as exc:
        exc.code = EXIT_UNKNOWN
        raise
    now = clock.now()
    # Statuses straight from the columns they need (cron runs this every minute);
    # whole records only for the keys --json shows.
    statuses = column_statuses(columns, now, thresholds)
    code = check_exit_code(statuses, never_is_ok=args.allow_never)
    if args.quiet:
        return code
    expires, names = columns[0], columns[5]
    ok, never = Status.OK, (Status.NEVER if args.allow_never else None)
    flagged = [i for i, s in enumerate(statuses) if s is not ok and s is not never]  # indexes of keys to show
    if args.json:
        ids = columns[6]
        flagged = in_order(flagged, expires, names)
        if len(flagged) > 200:
            wanted = {ids[i] for i in flagged}
            by_id = {r.id: r for r in store.all(lean=True) if r.id in wanted}
            records = [by_id[ids[i]] for i in flagged]
        else:
            records = [store.get(ids[i]) for i in flagged]
        counts: dict[str, int] = {}
        for s in statuses:
            counts[s.value] = counts.get(s.value, 0) + 1
        _print_json({
            "exit_code": code,
            "worst": worst(statuses).value if statuses else "ok",
            "checked": len(statuses),
            "counts": counts,
            "keys": [record_json(r, now, thresholds) for r in records],
            "reminders_due": [{"name": d.key_name, "kind": d.kind.value, "due_at": iso_utc(d.when())}
                              for d in due],
        })
        return code
    if not statuses:
        print("OK: no keys tracked")
        return code
    label = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}[code]
    print(f"{label}: {len(statuses)} keys checked, {len(flagged)} need attention")
    for i in in_order(flagged, expires, names, first=50):
        s, expires_at = statuses[i], expires[i]
        if expires_at is None:
            when = "never expires (Momento advises against it)" if s is Status.NEVER else "expiry unknown"
        elif expires_at <= now:
            when = f"expired {countdown(now - expires_at)} ago"
        else:
            when = f"{countdown(expires_at - now)} left"
        print(f"  {LABELS[s]:<13} {names[i]}: {when}")
    if len(flagged) > 50:
        print(f"  … and {len(flagged) - 50} more (use --json for all)")
    if due_count:
        print(f"{due_count} reminder{'s' if due_count != 1 else ''} due (momento-keys reminders --due):")
        for d in due:
            print(f"  {d.kind.value:<9} {d.key_name}")
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


LOW_DISK_BYTES = 10 * 2**20  # doctor warns when the database's disk has less than this free


def _keyring_fix(status) -> str:
    """What to do about a keyring that is not secure and working, in one sentence."""
    from .services.vault import Health

    backend = status.backend
    detail = (status.detail or "").lower()
    if status.health is Health.INSECURE:
        return ("use a secure keyring (Secret Service, macOS Keychain, Windows Credential Locker, KWallet), or, if "
                "this backend is acceptable to you, opt in with --allow-insecure-keyring or "
                "[keyring] allow_insecure = true in the settings")
    if backend == "keyring.backends.null.Keyring":
        return ("the 'null' backend is configured (PYTHON_KEYRING_BACKEND or keyringrc.cfg) and stores nothing: "
                "remove that setting or point it at your real keyring")
    if "locked" in detail:
        return ("unlock the keyring (log in to the desktop session, or on a headless Linux machine: "
                "echo PASSWORD | gnome-keyring-daemon --unlock --components=secrets), then run this again")
    if "could not start" in detail or status.description == "keyring could not start":
        return ("the keyring library failed to start: check PYTHON_KEYRING_BACKEND and keyringrc.cfg, and that "
                "the backend's packages are installed")
    return ("on Linux install and unlock a Secret Service (gnome-keyring or KeePassXC; headless: run inside "
            "dbus-run-session); or set PYTHON_KEYRING_BACKEND to a secure backend")


def _salvage_hint(path: Path) -> str:
    q = _quote(str(path))
    new = _quote(str(path.with_name(path.stem + "-recovered" + path.suffix)))
    return (f"To salvage the records (their secrets are still in the keyring): sqlite3 {q} .recover | sqlite3 {new}, "
            f"then use --db {new} (or move it into place); otherwise move the damaged file aside "
            f"(mv {q} {q}.damaged) and import your keys again")


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _db_write_probe(path: Path) -> tuple[str, str]:
    """Can the database be written right now? ("ok" | "busy" | "read-only" | "error", detail).

    A real write inside a transaction that is rolled back: nothing changes. (BEGIN
    IMMEDIATE alone succeeds even on a read-only file in WAL mode.)
    """
    import sqlite3

    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=rw", uri=True, timeout=1.0, isolation_level=None)
    except sqlite3.Error as exc:
        return "error", str(exc)
    try:
        conn.execute("BEGIN IMMEDIATE")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA user_version = {int(version)}")
        return "ok", ""
    except sqlite3.Error as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return "busy", text
        if "readonly" in text or "read-only" in text:
            return "read-only", text
        if "full" in text:
            return "full", text
        return "error", text
    finally:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        conn.close()


def _rescue_files(db: Path) -> list[Path]:
    """Rescue files (keys Momento made that could not be stored) in the places `_rescue` writes them."""
    found: list[Path] = []
    for folder in (db.parent / "rescue", Path.home() / "momento-keys-rescue"):
        try:
            found += sorted(p for p in folder.iterdir() if p.suffix == ".json" and p.is_file())
        except OSError:
            continue
    return found


def _check_override(text: str) -> str | None:
    """Why an endpoint override is unusable (the same rules as services.momento), or None.
    Doctor must not import grpc, so this does not call into services.momento."""
    host, sep, port = text.strip().rpartition(":")
    host_ok = re.fullmatch(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.%A-Za-z]+\]", host) is not None
    if not sep or not host_ok or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        return f"it must look like HOST:PORT, not {_shown(text)}"
    if int(port) == 443:
        return "it is plaintext, so it may not use port 443"
    return None


def cmd_doctor(args: argparse.Namespace) -> int:
    import platform
    import shutil
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
        report["keyring"]["fix"] = _keyring_fix(status)  # type: ignore[index]
        problems.append(f"keyring: {status.summary()}. Fix: {_keyring_fix(status)}")

    override_given = getattr(args, "endpoint_override", None)
    override = (override_given or os.environ.get("MOMENTO_KEYS_ENDPOINT_OVERRIDE") or "").strip() or None
    report["momento"] = {"endpoint_override": override}
    if override:
        why = _check_override(override)
        source = "--endpoint-override" if override_given else "MOMENTO_KEYS_ENDPOINT_OVERRIDE"
        if why:
            report["momento"]["error"] = why  # type: ignore[index]
            problems.append(f"{source}: {why}; every Momento call (generate, verify, rotate) will fail until it "
                            "is fixed or unset")

    path = db_path(getattr(args, "db", None))
    dbinfo: dict[str, object] = {"path": str(path), "exists": path.exists()}
    records = []
    journal: list[dict] = []
    rotations: list[dict] = []
    place = _existing_ancestor(path if path.exists() else path.parent)
    try:
        dbinfo["free_bytes"] = shutil.disk_usage(place).free
    except OSError:
        pass
    if isinstance(dbinfo.get("free_bytes"), int) and dbinfo["free_bytes"] < LOW_DISK_BYTES:  # type: ignore[operator]
        problems.append(f"the disk holding {path} is (nearly) full: {dbinfo['free_bytes']} bytes free; nothing can be "
                        "saved until space is freed")
    if not path.exists():
        writable = os.access(place, os.W_OK | os.X_OK)
        dbinfo["directory_writable"] = writable
        if not writable:
            problems.append(f"the database {path} cannot be created: {place} is not writable. Fix: chmod u+w {place}, "
                            "or choose another place with --db PATH or MOMENTO_KEYS_DB")
    else:
        mode = path.stat().st_mode & 0o777
        dbinfo["mode"] = oct(mode)
        if mode & 0o077:
            problems.append(f"database {path} is readable by others (mode {oct(mode)}); fix: chmod 600 {path}")
        try:
            store = Store(path, readonly=True)
            dbinfo["schema"] = store.schema_version()
            dbinfo["schema_supported"] = SCHEMA_VERSION
            dbinfo["integrity"] = store.integrity()
            records = store.all(lean=True)
            journal = store.journal() if store.schema_version() >= 3 else []
            rotations = store.open_rotations() if store.schema_version() >= 2 else []
            dbinfo["records"] = len(records)
            if dbinfo["integrity"] != "ok":
                backup = None
                from .services.store import backup_corrupt

                backup = backup_corrupt(path)
                if backup:
                    dbinfo["backup"] = str(backup)
                problems.append(f"database integrity check failed: {dbinfo['integrity']}. The file was left untouched"
                                + (f"; a copy is at {backup}" if backup else "") + ". " + _salvage_hint(path))
            if store.schema_version() > SCHEMA_VERSION:
                problems.append(store.readonly_reason or "database is from a newer version")
            store.close()
        except StoreError as exc:
            dbinfo["error"] = str(exc)
            backup = getattr(exc, "backup", None)
            if backup:
                dbinfo["backup"] = str(backup)
            problems.append(_store_message(exc, path))
            if backup:
                problems.append(_salvage_hint(path))
        if "error" not in dbinfo:
            state, detail = _db_write_probe(path)
            dbinfo["writable"] = state
            if state == "busy":
                problems.append(f"the database {path} is locked by another process ({detail}): close other "
                                "momento-keys dashboards and commands; if none is running, find the holder with "
                                f"`fuser {path}`")
            elif state == "read-only":
                problems.append(f"the database {path} cannot be written ({detail}): nothing can be imported, "
                                f"generated or changed. Fix: chmod u+w {path} {path.parent} (SQLite also writes "
                                "-wal and -shm files beside it), or use another file with --db PATH")
            elif state == "full":
                problems.append(f"the disk holding {path} is full ({detail}): free some space; nothing was changed")
            elif state == "error":
                problems.append(f"the database {path} cannot be written: {detail}")
    report["database"] = dbinfo

    # Secrets a crash left in the keyring without their record (found through the journal).
    orphans = [j for j in journal if status.health in (Health.SECURE, Health.INSECURE)
               and vault.has(j["fingerprint"])]
    adopted: list[str] = []
    if orphans and getattr(args, "adopt", False):
        from .services.keeper import Keeper

        writer = Keeper(Store(path), vault, settings or None)
        done, _ = writer.adopt()
        adopted = [r.name for r in done]
        orphans = []
    report["orphans"] = [{"name": j["name"], "fingerprint": j["fingerprint"]} for j in orphans]
    report["adopted"] = adopted
    if orphans:
        problems.append(f"{len(orphans)} secret(s) are in the keyring without a record (an import, generation or "
                        "rotation was interrupted): " + ", ".join(j["name"] for j in orphans[:10])
                        + " — run `momento-keys doctor --adopt` to track them again")

    report["rotations"] = [{"name": r["old_name"], "state": r["state"], "detail": r["detail"]} for r in rotations]
    for r in rotations[:10]:
        if r["state"] == "unsaved":
            # Momento made the new key, the keyring refused it, and it went to a rescue file.
            problems.append(f"the rotation of {r['old_name']!r} made a new key that could not be stored "
                            f"({r['detail']}); it is in a rescue file (listed here): import it with "
                            f"`momento-keys import --name NEW --replaces {_quote(r['old_name'])} --file PATH`")
        else:
            problems.append(f"the rotation of {r['old_name']!r} did not finish (state {r['state']}"
                            + (f": {r['detail']}" if r["detail"] else "") + f"); run `momento-keys rotate "
                            f"{_quote(r['old_name'])}` to finish it")

    rescue = _rescue_files(path)
    report["rescue_files"] = [str(p) for p in rescue]
    if rescue:
        problems.append(f"{len(rescue)} rescue file(s) hold keys Momento made that momento-keys could not store: "
                        + ", ".join(str(p) for p in rescue[:5])
                        + " — import each (momento-keys import --name NAME --type fine-grained --file PATH), "
                          "then delete the file: it holds the secret")

    missing = []
    unknown_presence = []
    if status.health in (Health.SECURE, Health.INSECURE):
        for r in records:
            if r.secret_stored:
                present = vault.presence(r.fingerprint)
                if present is False:
                    missing.append(r.name)
                elif present is None:
                    unknown_presence.append(r.name)
    unstored = [r.name for r in records if not r.secret_stored]
    report["secrets"] = {"missing_from_keyring": missing, "metadata_only": unstored,
                         "could_not_check": unknown_presence}
    if missing:
        problems.append(f"{len(missing)} record(s) say their secret is in the keyring but it is not: "
                        + ", ".join(missing[:10]) + " — to restore one, delete its record (dashboard: select it, "
                        "d) and import the key again from where you keep it; if a key is gone for good, delete its "
                        "record and make a new key (the wizard, or `momento-keys generate`)")
    if unknown_presence:
        problems.append(f"the keyring could not be read for {len(unknown_presence)} record(s): "
                        + ", ".join(unknown_presence[:10]))

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
              f"{dbinfo.get('records', '?')} records, writable {dbinfo.get('writable', '?')}")
    if isinstance(dbinfo.get("free_bytes"), int):
        print(f"          {dbinfo['free_bytes'] / 2**20:,.0f} MiB free on its disk")
    print(f"config    {cfg}" + ("" if cfg.exists() else " (defaults; file not present)"))
    if override:
        print(f"momento   calls go to {override} (endpoint override, plaintext)")
    print(f"secrets   {len(records) - len(unstored)} in the keyring, {len(unstored)} metadata only"
          + (f", {len(missing)} MISSING" if missing else "")
          + (f", {len(orphans)} without a record" if orphans else "")
          + (f", {len(rescue)} in rescue files" if rescue else ""))
    for name in adopted:
        print(f"          adopted {name!r}: its secret was in the keyring; its record is back")
    v = report["versions"]
    print("versions  " + ", ".join(f"{k} {val}" for k, val in v.items()))  # type: ignore[union-attr]
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print(f"  - {p}")
        return 1
    print("\nall good")
    return 0


# ---- commands that use a stored secret: generate, verify, export, env -------------------

UINT32_MAX = 2**32 - 1
DISPOSABLE_MAX_SECONDS = 25 * 3600  # the service's limit for disposable tokens (2026)
EXIT_MOMENTO_UNREACHABLE = 3
EXIT_RESCUED = 4


def _find(keeper: Keeper, name: str):
    """The tracked record called ``name`` (whitespace normalised, as names are stored)."""
    import difflib

    clean = " ".join(name.split())
    record = keeper.store.find(clean)
    if record is not None:
        return record
    names = [r.name for r in keeper.store.all(lean=True)]
    close = difflib.get_close_matches(clean, names, n=3)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else " (see `momento-keys list`)"
    raise CliError(f"no key named {_shown(clean, 120)} is tracked{hint}")


def _read_secret(keeper: Keeper, record) -> str:
    """A record's secret, or a CliError that says why not. Logs nothing (callers log what they did)."""
    from .services.vault import VaultError

    if not record.secret_stored:
        raise CliError(f"no secret is stored for {record.name!r}: momento-keys tracks only its metadata "
                       "(import the key again where a keyring can store it)")
    try:
        return keeper.vault.get(record.fingerprint)
    except VaultError as exc:
        raise CliError(f"{record.name!r}: {exc}") from None


def _log(keeper: Keeper, record, action: str, detail: str) -> None:
    """Log an event; a failure to log is a warning, not a failure of what was done."""
    from .services.store import StoreError

    try:
        assert record.id is not None
        keeper.store.log(record.id, action, now=keeper.now(), detail=detail)
    except StoreError as exc:
        print(f"{PROG}: warning: could not log the {action!r} event: {exc}", file=sys.stderr)


def _momento_api(args: argparse.Namespace):
    """The Momento client (imports grpc). The override is checked here, before any call."""
    from .services.momento import ENV_OVERRIDE, MomentoApi

    given = getattr(args, "endpoint_override", None)
    override = (given or os.environ.get(ENV_OVERRIDE) or "").strip() or None
    try:
        api = MomentoApi(override=override, timeout=getattr(args, "timeout", 15.0))
    except ValueError as exc:
        source = "--endpoint-override" if given else ENV_OVERRIDE
        raise CliError(f"{source}: {str(exc).rstrip('.')}") from None
    if api.override:
        host, port = api.override
        print(f"{PROG}: note: Momento calls go to {host}:{port} in plaintext, not to Momento "
              f"({'--endpoint-override' if given else ENV_OVERRIDE})", file=sys.stderr)
    return api


def _parse_expiry(text: str, *, now: float, disposable: bool, yes_never: bool) -> int | None:
    """``--expires``: seconds from now, or None for never."""
    import re
    from datetime import date, datetime
    from datetime import time as dtime

    from .core.policy import DurationError
    from .core.report import local_time

    parse_duration = _parse_duration
    raw = text.strip().lower()
    if raw == "never":
        if disposable:
            raise CliError("a disposable token must expire: Momento allows at most 25 hours (e.g. --expires 1h)")
        if not yes_never:
            raise CliError("--expires never makes a key that never expires, which Momento advises against; "
                           "add --yes-never to confirm, or give a duration such as 90d")
        return None
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", raw)
    if match:
        try:
            day = date(*(int(g) for g in match.groups()))
        except ValueError:
            raise CliError(f"--expires {_shown(text.strip())} is not a real date (YYYY-MM-DD)") from None
        try:
            end = datetime.combine(day, dtime(23, 59, 59)).timestamp()  # naive: local time
        except (ValueError, OverflowError, OSError):  # outside what the platform's time functions take
            raise CliError(f"--expires {day.isoformat()} is out of range; give a date within the next 100 years, "
                           "or a duration such as 90d") from None
        seconds = int(end - now)
        if seconds <= 0:
            raise CliError(f"--expires {day.isoformat()} is in the past (the key would expire at "
                           f"{local_time(int(end))} local time); choose a later date")
    else:
        try:
            seconds = parse_duration(raw)
        except DurationError as exc:
            raise CliError(f"--expires: {exc}; or a date YYYY-MM-DD, or never") from None
    if disposable and seconds > DISPOSABLE_MAX_SECONDS:
        raise CliError(f"a disposable token may last at most 25 hours (the Momento service's limit); "
                       f"--expires {_shown(text.strip())} is {seconds / 3600:.4g} hours")
    if seconds > UINT32_MAX:
        raise CliError(f"--expires {_shown(text.strip())} is too far away: Momento takes at most {UINT32_MAX} seconds "
                       "(about 136 years)")
    return seconds


def _grants(args: argparse.Namespace) -> list:
    from .core.permissions import (
        ALL_DATA_READ_WRITE,
        PermissionSpecError,
        parse_cache_arg,
        parse_topic_arg,
        validate_grants,
    )

    if args.all_data and (args.cache or args.topic):
        raise CliError("--all-data already gives read-write on every cache and topic; "
                       "use either --all-data or --cache/--topic")
    grants = list(ALL_DATA_READ_WRITE) if args.all_data else []
    for option, values, parse in (("--cache", args.cache, parse_cache_arg), ("--topic", args.topic, parse_topic_arg)):
        for value in values:
            try:
                grants.append(parse(value))
            except PermissionSpecError as exc:
                reason = " ".join(str(exc).split())
                reason = reason if len(reason) <= 200 else reason[:197] + "..."
                raise CliError(f"{option} {_shown(value)}: {reason}") from None
    if not grants:
        raise CliError("say what the key may do: --cache CACHE=ROLE and/or --topic CACHE/TOPIC=ROLE "
                       "(repeatable), or --all-data")
    try:
        return validate_grants(grants)
    except PermissionSpecError as exc:
        raise CliError(str(exc)) from None


def _download_json(api_key: str, refresh_token: str | None, valid_until: int | None,
                   endpoint: str | None, *, expiry_known: bool = True) -> str:
    """The console's Download JSON (plus ``endpoint``): what rescue files and `export` write."""
    doc: dict[str, object] = {"apiKey": api_key}
    if refresh_token:
        doc["refreshToken"] = refresh_token
    if expiry_known:
        doc["validUntil"] = int(valid_until or 0)
    if endpoint:
        doc["endpoint"] = endpoint
    import json

    return json.dumps(doc, indent=2) + "\n"


def _momento_failure(exc, *, using: str, disposable: bool) -> CliError:
    """A MomentoError from generate as a CliError with its exit code."""
    from .services.momento import ErrorCode

    what = "disposable tokens" if disposable else "API keys"
    if exc.code is ErrorCode.PERMISSION:
        return CliError(f"Momento refused: {using!r} may not create {what} (PERMISSION_DENIED); a super-user "
                        "key is needed: make one in the Momento console, import it with --type super-user "
                        "and pass its name to --using. Nothing was generated")
    if exc.code is ErrorCode.AUTHENTICATION:
        return CliError(f"Momento rejected {using!r}: it is expired, revoked or not a real Momento key. "
                        "Nothing was generated")
    message = exc.message.rstrip()
    if exc.outcome_unknown:
        return CliError(f"{message} Nothing was stored.", EXIT_MOMENTO_UNREACHABLE)
    if exc.transient:
        return CliError(f"{message} Nothing was generated; try again later.", EXIT_MOMENTO_UNREACHABLE)
    return CliError(f"{message} Nothing was generated.")


def cmd_generate(args: argparse.Namespace) -> int:
    import time

    from .core.model import KeyType, Kind
    from .core.permissions import describe_all, to_json
    from .services.keeper import KeeperError, parse_tags, validate_name
    from .services.vault import Health

    # 1. Everything that can be checked offline, before any network call.
    _check_name("--name", args.name)
    try:
        name = validate_name(args.name)
    except KeeperError as exc:
        raise CliError(f"--name: {exc}") from None
    grants = _grants(args)
    valid_for = _parse_expiry(args.expires, now=time.time(), disposable=args.disposable, yes_never=args.yes_never)
    keeper = _keeper(args)
    if keeper.store.readonly:
        raise CliError(keeper.store.readonly_reason or "the database is read-only")
    if keeper.store.find(name) is not None:
        raise CliError(f"a key named {name!r} is already tracked; choose another --name")
    acting = _find(keeper, args.using)
    if not acting.secret_stored:
        raise CliError(f"no secret is stored for {acting.name!r} (metadata only), so it cannot make keys: "
                       "import it again where a keyring can store it")
    if keeper.vault.status.health is Health.UNCHECKED:
        keeper.vault.probe()
    if not keeper.vault.writable():
        hint = ""
        if keeper.vault.status.health is Health.INSECURE:
            hint = " (allow it with --allow-insecure-keyring or [keyring] allow_insecure = true)"
        raise CliError(f"the new key could not be stored: {keeper.vault.status.summary()}{hint}; "
                       "nothing was generated")
    api = _momento_api(args)
    if acting.endpoint is None and api.override is None:
        raise CliError(f"{acting.name!r} has no endpoint recorded; set one (dashboard editor) and try again")
    if acting.key_type is not KeyType.SUPER_USER:
        print(f"{PROG}: warning: {acting.name!r} is recorded as {acting.key_type.value}, not super-user; only "
              "super-user keys can make keys (trying anyway: Momento decides)", file=sys.stderr)
    if valid_for is None:
        print(f"{PROG}: warning: {name!r} will never expire; Momento advises against keys that never expire "
              "(they have no refresh token either). Delete it in the Momento console when it is no longer needed",
              file=sys.stderr)
    try:
        secret = keeper.secret(acting, why="used to generate")
    except KeeperError as exc:
        raise CliError(str(exc)) from None

    # 2. The one call to Momento.
    from .services.momento import MomentoError

    try:
        if args.disposable:
            generated = api.generate_disposable_token(secret, acting.endpoint, grants, valid_for)
        else:
            generated = api.generate_api_key(secret, acting.endpoint, grants, valid_for)
    except MomentoError as exc:
        raise _momento_failure(exc, using=acting.name, disposable=args.disposable) from None
    except KeyboardInterrupt:
        maybe = "" if args.disposable else "; the key may have been created anyway: check the Momento console"
        raise CliError(f"interrupted while Momento was making {name!r}, so nothing was stored{maybe}", 130) from None
    except ValueError as exc:  # the stored secret is not a usable key, or a bad endpoint: nothing was sent
        raise CliError(f"{acting.name!r} cannot be used: {str(exc).rstrip('.')}; nothing was generated") from None
    except Exception as exc:  # a bug or an SDK surprise: say what, without a traceback or a secret
        from .core.text import scrub as _scrub

        maybe = "" if args.disposable else "; the key may have been created anyway: check the Momento console"
        detail = _scrub(f"{type(exc).__name__}: {exc}", [secret])
        raise CliError(f"unexpected failure while calling Momento ({detail}); nothing was stored{maybe}",
                       EXIT_MOMENTO_UNREACHABLE) from None

    # 3. Store it at once; if that fails, never lose it.
    kind = Kind.DISPOSABLE if args.disposable else Kind.V1
    try:
        done = keeper.store_generated(generated, name, key_type=KeyType.FINE_GRAINED, kind=kind,
                                      permissions=to_json(grants), notes=args.notes, tags=parse_tags(args.tags))
    except (Exception, KeyboardInterrupt) as exc:
        record = _stored_anyway(keeper, generated, name)
        if record is None:
            return _rescue(keeper, generated, name, exc, disposable=args.disposable)
        # The key and its record were written; only a later step (such as reminders) failed.
        from .services.keeper import ImportResult

        done = ImportResult(record, [f"{name!r} was stored, but a later step failed: {_reason(exc, generated)}"])

    record = done.record
    if args.json:
        from .core.report import record_json

        _print_json(record_json(record, keeper.clock.now(), keeper.settings.thresholds))
    else:
        from .core.policy import countdown
        from .core.report import local_time

        what = "disposable token" if args.disposable else "fine-grained API key"
        if record.expires_at is None:
            expiry = "never expires"
        else:
            expiry = f"expires {local_time(record.expires_at)} ({countdown(record.expires_at - keeper.clock.now())} left)"
        print(f"generated {record.name!r}: {what}, region {record.region or 'unknown'}, {expiry}")
        print(f"  permissions: {describe_all(grants)}")
        refresh = ", with its refresh token" if record.has_refresh_token else ""
        print(f"  secret: in the keyring ({keeper.vault.status.description}){refresh}; "
              f"use `momento-keys env {_quote(record.name)}` or `export` to hand it to an app")
    for w in done.warnings:
        print(f"{PROG}: warning: {w}", file=sys.stderr)
    return 0


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _reason(exc: BaseException, generated) -> str:
    """Why storing failed, in one line without a secret."""
    from .services.keeper import KeeperError
    from .core.text import scrub as _scrub
    from .services.store import StoreError
    from .services.vault import VaultError

    if isinstance(exc, KeyboardInterrupt):
        reason = "interrupted while storing"
    elif isinstance(exc, (KeeperError, StoreError, VaultError)):
        reason = str(exc)
    else:
        reason = f"{type(exc).__name__}: {exc}"
    reason = _scrub(reason, [generated.api_key, generated.refresh_token or ""])
    reason = reason.replace(" Save it now: it is shown once.", "")  # the rescue file does that
    return reason.removeprefix("the key was not stored: ")


def _stored_anyway(keeper: Keeper, generated, name: str):
    """The record of ``generated`` if it did get stored, secret included, despite an error; else None."""
    try:
        from .core.keys import inspect_key

        fp = inspect_key(generated.api_key, endpoint=generated.endpoint).fingerprint
        record = keeper.store.find(name)
        if record is not None and record.fingerprint == fp and record.secret_stored and keeper.vault.has(fp):
            return record
    except Exception:
        pass
    return None


def _rescue(keeper: Keeper, generated, name: str, exc: BaseException, *, disposable: bool,
            replaces=None) -> int:
    """Momento made a key that could not be stored: save it in a 0600 file and say where.

    ``replaces`` is the record a rotation was replacing: the rescued key is then imported under
    a new name as its replacement (the old record still holds the name).
    """
    import tempfile
    from datetime import datetime, timezone

    reason = _reason(exc, generated)
    text = _download_json(generated.api_key, generated.refresh_token, generated.valid_until, generated.endpoint)
    slug = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in name).strip("-.")[:60] or "key"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    db = keeper.store.path
    places = [db.parent / "rescue", Path.home() / "momento-keys-rescue"]
    written: Path | None = None
    problems: list[str] = []
    for folder in places:
        try:
            written = _write_new_secret_file(folder, f"{slug}-{stamp}", text)
            break
        except OSError as err:
            problems.append(f"{folder}: {err.strerror or err}")
    if written is None:
        try:
            written = _write_new_secret_file(Path(tempfile.mkdtemp(prefix="momento-keys-rescue-")),
                                             f"{slug}-{stamp}", text)
        except OSError as err:
            problems.append(f"temporary directory: {err.strerror or err}")
    print(f"{PROG}: error: Momento made {name!r} but it could not be stored: {reason}", file=sys.stderr)
    if replaces is not None:
        import_cmd = (f"momento-keys import --name {_quote(name + ' (new)')} --replaces {_quote(replaces.name)} "
                      f"--type {replaces.key_type.value} --file ")
    else:
        import_cmd = (f"momento-keys import --name {_quote(name)} --type fine-grained"
                      f"{' --disposable' if disposable else ''} --file ")
    if written is not None:
        print(f"{PROG}: the key is saved in {written} (mode 0600, Download JSON; it holds the secret)",
              file=sys.stderr)
        print(f"{PROG}: to track it: {import_cmd}{_quote(str(written))}   then delete the file", file=sys.stderr)
        return EXIT_RESCUED
    # No file could be written anywhere: the terminal is the last place the key can go.
    print(f"{PROG}: no rescue file could be written ({'; '.join(problems)})", file=sys.stderr)
    if sys.stdout.isatty():
        print(f"{PROG}: the key is printed below ONCE; save it as a file and import it with: {import_cmd}FILE",
              file=sys.stderr)
        sys.stdout.write(text)
    else:
        until = "it never expires: delete it in the Momento console" if not generated.valid_until else \
            "it expires on its own"
        print(f"{PROG}: the key was not printed because stdout is not a terminal, so it is lost; {until}",
              file=sys.stderr)
    return EXIT_RESCUED


def _write_new_secret_file(folder: Path, stem: str, text: str) -> Path:
    """Create ``folder/stem.json`` (0600, never replacing a file) in a 0700 folder and write ``text``."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.chmod(folder, 0o700)
    except OSError:
        pass
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for n in range(100):
        path = folder / (f"{stem}.json" if n == 0 else f"{stem}-{n}.json")
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
        except OSError:
            try:
                path.unlink()
            except OSError:
                pass
            raise
        return path
    raise FileExistsError(f"too many rescue files named {stem}")


def cmd_verify(args: argparse.Namespace) -> int:
    from .core.model import KeyType

    try:
        keeper = _keeper(args)
        record = _find(keeper, args.name)
        api = _momento_api(args)
        secret = _read_secret(keeper, record)
    except CliError as exc:
        exc.code = 3
        raise
    try:
        result = api.verify(secret, record.endpoint)
    except Exception as exc:  # verify reports failures in its result; this is a bug or an SDK surprise
        from .core.text import scrub as _scrub
        from .services.momento import VerifyResult

        result = VerifyResult("unknown", "Could not check the key: unexpected failure "
                                         f"({_scrub(f'{type(exc).__name__}: {exc}', [secret])}).")
    status = result.status
    message = result.message
    if status == "restricted":
        message = ("valid, restricted: this key authenticated but may not list caches — "
                   "expected for fine-grained keys and tokens")
        if record.key_type is KeyType.SUPER_USER:
            message += f" (but {record.name!r} is recorded as super-user: check its type)"
    if not keeper.store.readonly:
        _log(keeper, record, "verified", status)
    if args.json:
        _print_json({"name": record.name, "status": status, "message": message})
    elif status == "restricted":
        print(f"{record.name}: {message}")
    else:
        label = {"valid": "valid", "invalid": "INVALID", "unknown": "UNKNOWN"}[status]
        print(f"{record.name}: {label} — {message}")
    return {"valid": 0, "restricted": 0, "invalid": 2, "unknown": 3}[status]


def _refuse_terminal(what: str, hint: str) -> None:
    if sys.stdout.isatty():
        raise CliError(f"not printing {what} on the terminal: {hint}")


def _warn_if_stdout_shared() -> None:
    """`export NAME > file`: the shell made the file with the umask; say so if others can read it."""
    import stat

    try:
        st = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError):
        return
    if stat.S_ISREG(st.st_mode) and st.st_mode & 0o077:
        print(f"{PROG}: warning: stdout is a file others may read (mode {oct(st.st_mode & 0o777)}); "
              "prefer --out FILE, which writes 0600", file=sys.stderr)


def cmd_export(args: argparse.Namespace) -> int:
    from .core.model import ExpirySource
    from .services.vault import VaultError

    to_stdout = args.out is None or args.out == "-"
    path: Path | None = None
    if to_stdout:
        if not args.stdout:
            _refuse_terminal("the secret", "use --out FILE (written with mode 0600), or --stdout to print it anyway")
    else:
        path = Path(args.out).expanduser()
        if path.is_dir():
            raise CliError(f"{path} is a directory; give a file name, such as {path / 'key.json'}")
        if not path.parent.is_dir():
            raise CliError(f"no such directory: {path.parent}")
        if (path.exists() or path.is_symlink()) and not args.force:
            raise CliError(f"{path} already exists; add --force to replace it")
    keeper = _keeper(args)
    record = _find(keeper, args.name)
    secret = _read_secret(keeper, record)
    try:
        refresh = keeper.refresh_token(record)
    except VaultError as exc:
        raise CliError(f"{record.name!r}: {exc}") from None
    known = record.expires_at is not None or record.expiry_source is not ExpirySource.UNKNOWN
    text = _download_json(secret, refresh, record.expires_at, record.endpoint, expiry_known=known)
    if path is None:
        _warn_if_stdout_shared()
        sys.stdout.write(text)
        sys.stdout.flush()
        _log(keeper, record, "exported", "to stdout")
        return 0
    _write_secret_file(path, text, force=args.force)
    _log(keeper, record, "exported", f"to {path}")
    print(f"exported {record.name!r} to {path} (mode 0600); it holds the secret: delete it when it is no "
          "longer needed", file=sys.stderr)
    if not known:
        print(f"{PROG}: warning: the expiry of {record.name!r} is unknown, so validUntil was left out",
              file=sys.stderr)
    return 0


def _write_secret_file(path: Path, text: str, *, force: bool) -> None:
    """Write atomically: a 0600 temporary file in the same directory, then rename it into place.

    Without ``force`` an existing file is never replaced, even one that
    appeared a moment ago (a hard link cannot replace a file).
    """
    import tempfile

    exists = CliError(f"{path} already exists; add --force to replace it")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CliError(f"cannot write in {path.parent}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise exists from None
            except OSError:  # a filesystem without hard links
                if path.exists() or path.is_symlink():
                    raise exists from None
                os.replace(tmp, path)
            else:
                tmp.unlink()
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            try:
                tmp.unlink()
            except OSError:
                pass


def cmd_env(args: argparse.Namespace) -> int:
    if not args.stdout:
        _refuse_terminal("the secret", f'run eval "$(momento-keys env {_quote(args.name)})" to set the variables '
                                       "in your shell, or add --stdout to print them anyway")
    keeper = _keeper(args)
    record = _find(keeper, args.name)
    secret = _read_secret(keeper, record)
    lines = [f"export MOMENTO_API_KEY={_quote(secret)}"]
    if record.endpoint:
        lines.append(f"export MOMENTO_ENDPOINT={_quote(record.endpoint)}")
    else:
        print(f"{PROG}: warning: no endpoint is recorded for {record.name!r}; MOMENTO_ENDPOINT is not set",
              file=sys.stderr)
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    _log(keeper, record, "exported", "as environment variables (env)")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from .factory import build_app, build_demo_app

    override = getattr(args, "endpoint_override", None)

    def api_factory():
        # Imported only when the dashboard first talks to Momento.
        from .services.momento import MomentoApi

        return MomentoApi(override=override) if override else MomentoApi.from_env()

    if args.demo:
        app = build_demo_app(api_factory=api_factory)
    else:
        keeper = _keeper(args, readonly=args.readonly)
        app = build_app(keeper, readonly=args.readonly, api_factory=api_factory)
    app.run()
    return app.return_code or 0


COMMANDS = {
    "import": cmd_import,
    "list": cmd_list,
    "check": cmd_check,
    "inspect": cmd_inspect,
    "doctor": cmd_doctor,
    "generate": cmd_generate,
    "verify": cmd_verify,
    "export": cmd_export,
    "env": cmd_env,
}


def _reminder_commands() -> dict:
    from .cli_reminders import COMMANDS as more

    return more

# Commands whose exit codes are read by monitoring: any error, usage errors
# included, is 3 ("unknown"), so that it is never mistaken for a verdict.
UNKNOWN_ON_ERROR = ("check", "verify")
_VALUE_OPTIONS = ("--db", "--config", "--endpoint-override")


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in argv (the first word that is not an option or an option's value)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


# Options that name files: any bytes the filesystem allows are fine there.
_PATH_OPTIONS = frozenset({"db", "config", "file", "out", "textfile"})


def _undecodable_argument(args: argparse.Namespace) -> str | None:
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


def _fail(message: str, code: int) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def threading_is_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _terminate_as_interrupt(signum, frame) -> None:  # pragma: no cover - signal handler
    # `kill` (SIGTERM) during generate or rotate takes the same careful path as
    # Ctrl-C: a key Momento already made is saved to a rescue file, not dropped.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    from .cli_argv import parse_argv

    argv = list(sys.argv[1:] if argv is None else argv)
    # Plain `check` and `list` command lines are read without building the parser (the same namespace).
    args = parse_argv(argv)
    if args is None:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:
            # `check` and `verify` promise 3 for any error, usage errors included (monitoring reads them).
            if exc.code == 2 and _command_of(argv) in UNKNOWN_ON_ERROR:
                raise SystemExit(3) from None
            raise
    unreadable = _undecodable_argument(args)
    if unreadable:
        _fail(f"argument {unreadable}: not valid text (it holds bytes that are not UTF-8); type it again",
              3 if args.command in UNKNOWN_ON_ERROR else 2)
    handler = COMMANDS.get(args.command or "") or _reminder_commands().get(args.command or "", cmd_dashboard)
    import gc

    # `check` and `list` are short-lived and make no reference cycles: the cyclic
    # collector's passes over the freshly imported modules and the rows would cost
    # cron a few milliseconds. (Turned back on after, for callers in the same process.)
    pause_gc = args.command in ("check", "list") and gc.isenabled()
    if pause_gc:
        gc.disable()
    if args.command and threading_is_main():  # headless commands only; the dashboard keeps Textual's handling
        import signal

        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
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
            _fail(_store_message(exc), 3 if args.command in UNKNOWN_ON_ERROR else 1)
        raise
    finally:
        if pause_gc:
            gc.enable()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
