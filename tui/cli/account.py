"""The commands for v2 keys that talk to Momento's account API (HTTP): `generate --role`,
`sync`, `revoke` and `link` (which only writes here).

Every failed call (`AccountError`) ends as one true line: 3 when the account could not be
reached, did not answer in time, or may have acted without answering; 1 otherwise.
"""

from __future__ import annotations

from ..errors import ExitCode, UserError
from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..core.model import KeyRecord
    from ..services.account import AccountError
    from ..services.revoke import RevokeOutcome
    from ..services.sync import SyncReport
    from .context import Context


def account_failure(exc: AccountError, outcome: str, *, maybe: str = "", using_given: bool = True) -> UserError:
    """The one line for a failed account call. ``outcome`` says what did not happen (true when
    the account answered or was never reached); ``maybe`` replaces it when the request may
    have reached the account without an answer coming back."""
    from ..services.account import ErrorKind

    message = str(exc).rstrip(". ")
    if exc.kind is ErrorKind.FORBIDDEN and not using_given:
        message += " (give it with --using NAME)"
    unanswered = exc.kind is ErrorKind.TIMEOUT or exc.outcome_unknown
    code = ExitCode.UNAVAILABLE if unanswered or exc.kind is ErrorKind.UNREACHABLE else ExitCode.ERROR
    if exc.outcome_unknown:  # the message says already that it may have acted
        return UserError(message + ".", code)
    tail = maybe if (unanswered and maybe) else outcome
    return UserError(f"{message}. {tail}".rstrip(), code)


def role_text(record: KeyRecord) -> str:
    return record.role_name or record.role_id or "unknown role"


# ---- generate --role -------------------------------------------------------------------------

def generate_v2(ctx: Context, name: str, seconds: int | None, acting: KeyRecord) -> int:
    """`generate --role`: a v2 key through POST /api-keys, kept by the one issuing path."""
    from ..core.keys import KeyFormatError, normalise_endpoint
    from ..core.roles import RoleLookupError, find
    from ..services.account import AccountError
    from ..services.keeper import parse_tags
    from .rescue import render_unstored

    args = ctx.args
    raw_endpoint = args.endpoint or acting.endpoint
    if not raw_endpoint:
        raise UserError(f"{acting.name!r} has no endpoint recorded: give --endpoint HOST, the cell the new key "
                        "will use (such as cell-4-us-west-2-1.prod.a.momentohq.com); nothing was generated")
    try:
        endpoint = normalise_endpoint(raw_endpoint)
    except KeyFormatError as exc:
        raise UserError(f"--endpoint: {exc}; nothing was generated") from None
    client = ctx.account(acting)
    try:
        roles = client.list_roles()
    except AccountError as exc:
        raise account_failure(exc, "Nothing was generated.") from None
    try:
        role = find(roles, args.role)
    except RoleLookupError as exc:
        raise UserError(f"--role: {exc}; nothing was generated") from None
    now = ctx.clock.now()
    expiry: int | str = "never" if seconds is None else int(now) + seconds
    description = args.description if args.description is not None else name
    if seconds is None:
        output.warning(f"{name!r} will never expire; Momento advises against keys that never expire. Revoke it "
                       "(momento-keys revoke) when it is no longer needed")
    issuer = ctx.issuer
    try:
        issued = issuer.generate_v2(client, name, role_id=role.role_id, description=description,
                                    expiry=expiry, endpoint=endpoint, role_name=role.role_name,  # type: ignore[arg-type]
                                    notes=args.notes, tags=parse_tags(args.tags))
    except AccountError as exc:
        raise account_failure(exc, "Nothing was generated.",
                              maybe="The key may have been created anyway: `momento-keys sync` lists it") from None
    except ValueError as exc:
        raise UserError(f"{str(exc).rstrip('.')}; nothing was generated") from None
    except KeyboardInterrupt:
        raise UserError(f"interrupted while the account was making {name!r}, so nothing was stored; the key may "
                        "have been created anyway: `momento-keys sync` lists it, to revoke",
                        ExitCode.INTERRUPTED) from None
    if issued.record is None:
        key_id = issued.v2.key_id if issued.v2 else None
        return render_unstored(issued, ["--name", name, "--endpoint", endpoint],
                               then=f"momento-keys link {_q(name)} {_q(key_id)}" if key_id else None)
    record = issued.record
    if args.json:
        from ..core.report import record_json

        output.print_json(record_json(record, now, ctx.settings.thresholds))
    else:
        output.out(f"generated {record.name!r}: v2 API key, role {role.role_name}, {_expiry_text(record, now)}")
        output.out(f"  endpoint: {record.endpoint}; account key {record.key_id or 'unknown (run a sync)'}; "
                   f"description {record.description or ''!r}")
        output.out(f"  secret: in the keyring ({ctx.vault.status.description}); use `momento-keys exec "
                   f"{_q(record.name)} -- COMMAND` or `env` to hand it to an app")
    for w in issued.warnings:
        output.warning(w)
    return ExitCode.OK


def _q(text: str | None) -> str:
    from ..core.text import shell_quote

    return shell_quote(text or "")


def _expiry_text(record: KeyRecord, now: float) -> str:
    from ..core.policy import countdown
    from ..core.report import local_time

    if record.expires_at is None:
        return "never expires" if record.never_expires else "expiry unknown until a sync"
    return f"expires {local_time(record.expires_at)} ({countdown(record.expires_at - now)} left)"


# ---- sync ------------------------------------------------------------------------------------

def cmd_sync(ctx: Context) -> int:
    from ..services.account import AccountError
    from ..services.sync import sync

    args = ctx.args
    acting = ctx.find(args.using)
    client = ctx.account(acting)
    if ctx.keeper.store.readonly:
        raise UserError(ctx.keeper.store.readonly_reason or "the database is read-only")
    try:
        report = sync(ctx.keeper, client, on_page=_page_logger())
    except AccountError as exc:
        raise account_failure(exc, "Nothing changed here.") from None
    if args.json:
        output.print_json(_sync_json(report))
    else:
        output.out(report.summary())
        for label, names in (("revoked (the account no longer lists them)", report.revoked),
                             ("added (account keys without a secret here)", report.added),
                             ("linked by their issue time", report.matched),
                             ("updated", report.updated),
                             ("not matched: link them with `momento-keys link NAME KEY_ID`", report.unmatched),
                             ("expired, and gone from the account", report.expired_gone),
                             ("retired here, but still listed by the account: revoke them", report.retired_but_live)):
            if names:
                shown = ", ".join(repr(n) for n in names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20
                                                                 else "")
                output.out(f"  {label}: {shown}")
    for w in report.warnings:
        output.warning(w)
    return ExitCode.OK


def _page_logger():
    import sys

    if "logging" not in sys.modules:
        return None
    from ..services.log import get

    log = get("cli")
    return lambda count: log.debug("sync: %d account keys read so far", count)


def _sync_json(report: SyncReport) -> dict:
    from ..core.report import iso_utc

    return {"synced_at": iso_utc(report.synced_at), "counts": report.counts(), "updated": report.updated,
            "revoked": report.revoked, "added": report.added, "matched": report.matched,
            "unmatched": report.unmatched, "expired_gone": report.expired_gone,
            "retired_but_live": report.retired_but_live, "roles_known": report.roles_known,
            "warnings": report.warnings}


# ---- revoke ----------------------------------------------------------------------------------

def acting_key(ctx: Context, record: KeyRecord, default: KeyRecord | None = None) -> KeyRecord:
    """``--using NAME``, or ``default`` (the key itself, or the new key of its rotation)."""
    if getattr(ctx.args, "using", None):
        return ctx.find(ctx.args.using)
    acting = default or record
    if not acting.secret_stored:
        raise UserError(f"no secret is stored for {acting.name!r}, so it cannot act for the account API: give "
                        "--using NAME, a tracked key whose role manages API keys (such as Owner)")
    return acting


def cmd_revoke(ctx: Context) -> int:
    from ..services.account import AccountError
    from ..services.revoke import revoke, revoke_blocker
    from .ask import confirm

    args = ctx.args
    record = ctx.find(args.name)
    blocker = revoke_blocker(record)
    if blocker:
        raise UserError(blocker)
    acting = acting_key(ctx, record)
    confirm(f"Revoke {record.name!r} (role {role_text(record)}, account key {record.key_id})? It stops working "
            "at once, for every program that uses it.", yes=args.yes, refusal=f"{record.name!r} was not revoked")
    client = ctx.account(acting)
    try:
        outcome = revoke(ctx.keeper, client, record, acting.name)
    except AccountError as exc:
        raise account_failure(exc, f"{record.name!r} was not revoked; nothing changed here.",
                              maybe=f"{record.name!r} may have been revoked anyway: `momento-keys sync` tells",
                              using_given=bool(args.using)) from None
    return report_revoked(ctx, outcome)


def report_revoked(ctx: Context, outcome: RevokeOutcome) -> int:
    if ctx.args.json:
        output.print_json({"name": outcome.record.name, "key_id": outcome.record.key_id,
                           "role": role_text(outcome.record), "revoked": not outcome.already_gone,
                           "already_gone": outcome.already_gone, "acting": outcome.acting})
    else:
        output.out(outcome.summary())
    for w in outcome.warnings:
        output.warning(w)
    return ExitCode.OK


# ---- link ------------------------------------------------------------------------------------

def cmd_link(ctx: Context) -> int:
    from ..services.keeper import KeeperError
    from ..services.sync import link

    args = ctx.args
    record = ctx.find(args.name)
    try:
        linked = link(ctx.keeper, record, args.key_id)
    except KeeperError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        from ..core.report import record_json

        output.print_json(record_json(linked, ctx.clock.now(), ctx.settings.thresholds))
    else:
        known = " (its role and expiry are known from an earlier sync)" if linked.synced_at else \
            "; the next `momento-keys sync` reads its role and expiry"
        output.out(f"linked {linked.name!r} to the account key {linked.key_id}{known}")
    return ExitCode.OK
