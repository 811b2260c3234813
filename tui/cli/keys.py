"""The commands about tracked keys themselves: `import`, `list` and `inspect`."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ExitCode, UserError
from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..services.keeper import ImportResult, Keeper
    from .context import Context


def check_name(option: str, value: str) -> None:
    """Names are printed in tables and notifications: no characters that move the cursor or start
    a terminal escape (C1 controls such as CSI, DEL, line and paragraph separators). Tabs and
    line breaks are whitespace, folded to one space when the name is stored."""
    from ..core.text import first_invisible, shown

    bad = first_invisible(value.translate({9: 32, 10: 32, 13: 32}))
    if bad is not None:
        raise UserError(f"{option} {shown(value)}: a name may not contain the invisible or control character "
                        f"{bad!r}")


def read_input(path: str | None, *, what: str = "the key") -> str:
    """The key or Download JSON: from ``path``, a pipe on stdin, or typed (hidden) at a terminal."""
    from ..services.files import (
        MAX_KEY_FILE,
        KeyFileError,
        decode_key_bytes,
        read_key_file,
    )

    try:
        if path:
            return read_key_file(path)
        if sys.stdin is None or sys.stdin.closed:
            raise UserError(f"no input: pipe {what} on stdin or give --file PATH")
        if sys.stdin.isatty():
            import getpass

            try:
                return getpass.getpass(f"Paste {what} (input is hidden), then press Enter: ")
            except (EOFError, KeyboardInterrupt):
                raise UserError("cancelled; nothing was imported") from None
        data = sys.stdin.buffer.read(MAX_KEY_FILE + 1)
        if len(data) > MAX_KEY_FILE:
            raise UserError("the input is over 1 MiB: too large to be a key or Download JSON")
        return decode_key_bytes(data)
    except KeyFileError as exc:
        raise UserError(str(exc)) from None


# ---- import ----------------------------------------------------------------------------------

def cmd_import(ctx: Context) -> int:
    if ctx.args.momento_cli:
        return _import_momento_cli(ctx)
    from ..core.keys import KeyFormatError, inspect_text
    from ..core.model import KeyType, Kind
    from ..core.text import shown
    from ..services.doctor import explain_store_error
    from ..services.keeper import KeeperError, parse_tags
    from ..services.store import StoreError

    args = ctx.args
    if not args.name:
        raise UserError("import needs --name NAME (a unique name such as 'orders-api prod')")
    check_name("--name", args.name)
    text = read_input(args.file)
    try:
        inspection = inspect_text(text, endpoint=args.endpoint)
    except KeyFormatError as exc:
        raise UserError(str(exc)) from None
    keeper = ctx.keeper
    kind = Kind.DISPOSABLE if args.disposable else None
    try:
        replaced = None
        if args.replaces:
            replaced = keeper.store.find(args.replaces)
            if replaced is None:
                raise UserError(f"--replaces: no key named {shown(args.replaces, 120)} is tracked")
        done = keeper.import_key(inspection, args.name, key_type=KeyType(args.key_type), kind=kind,
                                 notes=args.notes, tags=parse_tags(args.tags))
        if replaced is not None:
            assert done.record is not None
            ctx.rotator.link_replacement(replaced, done.record)
            done.warnings.append(f"{args.name!r} replaces {replaced.name!r}: switch its consumers, then revoke "
                                 "the old key in the Momento console (reminders are set)")
    except (KeeperError, StoreError) as exc:
        raise UserError(explain_store_error(exc, keeper.store.path)) from None
    if args.json:
        from ..core.report import record_json

        output.print_json(record_json(done.record, keeper.clock.now(), keeper.settings.thresholds))
        for w in done.warnings:
            output.warning(w)
        return ExitCode.OK
    _report_import(done, keeper)
    return ExitCode.OK


def _import_momento_cli(ctx: Context) -> int:
    """`import --momento-cli`: every profile of momento-cli's credentials file (or --profile)."""
    from ..core.keys import KeyFormatError, cli_credentials_path, parse_cli_credentials
    from ..core.model import KeyType
    from ..services.doctor import explain_store_error
    from ..services.keeper import KeeperError, parse_tags
    from ..services.store import StoreError

    args = ctx.args
    path = Path(args.file).expanduser() if args.file else cli_credentials_path()
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise UserError(f"no momento-cli credentials file at {path} (set MOMENTO_CONFIG_DIR or use --file)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        profiles = parse_cli_credentials(text)
    except KeyFormatError as exc:
        raise UserError(f"{path}: {exc}") from None
    if args.profile:
        profiles = [(n, r) for n, r in profiles if n == args.profile]
        if not profiles:
            raise UserError(f"no profile {args.profile!r} in {path}")
    if not profiles:
        raise UserError(f"{path} holds no profiles")
    keeper = ctx.keeper
    failures = 0
    for profile, result in profiles:
        name = args.name if (args.name and len(profiles) == 1) else f"momento-cli {profile}"
        if isinstance(result, Exception):
            output.say(f"profile {profile!r}: {result}")
            failures += 1
            continue
        try:
            done = keeper.import_key(result, name, key_type=KeyType(args.key_type),
                                     notes=args.notes, tags=parse_tags(args.tags))
        except (KeeperError, StoreError) as exc:
            output.say(f"profile {profile!r}: {explain_store_error(exc, keeper.store.path)}")
            failures += 1
            continue
        _report_import(done, keeper)
    return ExitCode.ERROR if failures else ExitCode.OK


def _report_import(done: ImportResult, keeper: Keeper) -> None:
    from ..core.policy import LABELS, countdown
    from ..core.report import local_time

    r = done.record
    assert r is not None
    status = keeper.status(r)
    left = "" if r.expires_at is None else f", {countdown(r.expires_at - keeper.clock.now())} left"
    output.out(f"imported {r.name!r}: {r.kind.value} key, region {r.region or 'unknown'}, "
               f"expires {local_time(r.expires_at)}{left} [{LABELS[status]}]")
    stored = f"in the keyring ({keeper.vault.status.description})" if r.secret_stored else "not stored"
    output.out(f"  secret: {stored}")
    for w in done.warnings:
        output.warning(w)


# ---- list ------------------------------------------------------------------------------------

def cmd_list(ctx: Context) -> int:
    from ..core.model import Lifecycle
    from ..core.policy import GLYPHS, LABELS, countdown, status_of
    from ..core.report import local_time, record_json

    # Listing needs the settings and the store, never the keyring.
    thresholds = ctx.settings.thresholds
    records = ctx.store.all(lean=True)
    if not ctx.args.all:
        records = [r for r in records if r.lifecycle is not Lifecycle.RETIRED]
    now = ctx.clock.now()
    if ctx.args.json:
        output.print_json([record_json(r, now, thresholds) for r in records])
        return ExitCode.OK
    if not records:
        output.out("No keys tracked yet. Import one: momento-keys import --name NAME < key.json")
        return ExitCode.OK
    rows = []
    for r in records:
        s = status_of(r, now, thresholds)
        left = countdown(None if r.expires_at is None else r.expires_at - now)
        rows.append([f"{GLYPHS[s]} {LABELS[s]}", r.name, r.kind.value, r.key_type.value, r.region or "-",
                     local_time(r.expires_at), left, "yes" if r.secret_stored else "no"])
    output.out(output.table(rows, ["STATUS", "NAME", "KIND", "TYPE", "REGION", "EXPIRES", "LEFT", "SECRET"]))
    return ExitCode.OK


# ---- inspect ---------------------------------------------------------------------------------

def cmd_inspect(ctx: Context) -> int:
    from ..core.keys import KeyFormatError, inspect_text
    from ..core.policy import countdown
    from ..core.report import iso_utc, local_time

    args = ctx.args
    text = read_input(args.file)
    try:
        i = inspect_text(text, endpoint=args.endpoint)
    except KeyFormatError as exc:
        raise UserError(str(exc)) from None
    now = ctx.clock.now()
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
        output.print_json(info)
        return ExitCode.OK
    if i.expires_at is None:
        expiry = "never" if i.expiry_source.value != "unknown" else "unknown"
    else:
        left = i.expires_at - now
        expiry = (f"{local_time(i.expires_at)} ({countdown(left)} left)" if left > 0
                  else f"{local_time(i.expires_at)} (EXPIRED)")
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
        output.out(f"{k:>14}  {output.cell(v)}")
    return ExitCode.OK
