"""The commands that ask Momento: `generate` (a v1 key or disposable token; a v2 key is made
by tui.cli.account) and `verify`.

Everything that can be checked offline is checked before the one call to
Momento; once Momento has answered, the key goes through the one never-lose
path (tui.services.issuing): stored, or rescued to a file, never dropped.
"""

from __future__ import annotations

from ..errors import ExitCode, UserError
from . import output
from .keys import check_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from ..core.model import KeyRecord
    from ..core.permissions import Grant
    from ..services.momento import GeneratedKey, MomentoApi, MomentoError
    from .context import Context


def _options(args: argparse.Namespace) -> None:
    """v2 options (--role...) and v1 ones (--cache...) make different keys: one set or the other."""
    v1 = [option for option, given in (("--cache", args.cache), ("--topic", args.topic), ("--all-data", args.all_data),
                                       ("--disposable", args.disposable), ("--token-id", args.token_id is not None))
          if given]
    if args.role is not None and v1:
        raise UserError(f"--role makes a v2 API key, and {', '.join(v1)} {'is' if len(v1) == 1 else 'are'} for v1 "
                        "fine-grained keys and disposable tokens: give one or the other (see generate --help)",
                        ExitCode.USAGE)
    v2 = [option for option, given in (("--description", args.description is not None),
                                       ("--endpoint", args.endpoint is not None),
                                       ("--account-api", args.account_api is not None)) if given]
    if args.role is None and v2:
        raise UserError(f"{', '.join(v2)} {'goes' if len(v2) == 1 else 'go'} with --role ROLE (a v2 API key); a v1 "
                        "key or token takes --cache/--topic/--all-data (see generate --help)", ExitCode.USAGE)
    if args.token_id is not None:
        from ..core.limits import TOKEN_ID_MAX_CHARS
        from ..core.text import first_invisible, shown

        if not args.disposable:
            raise UserError("--token-id goes with --disposable (an id for a disposable token)", ExitCode.USAGE)
        if not 0 < len(args.token_id) <= TOKEN_ID_MAX_CHARS or first_invisible(args.token_id) is not None:
            raise UserError(f"--token-id {shown(args.token_id)}: 1 to {TOKEN_ID_MAX_CHARS} visible characters")


def _expiry(args: argparse.Namespace, now: float) -> int | None:
    """``--expires``: seconds from now, or None for never (which needs --yes-never)."""
    from ..core.expiry import NEVER, ExpiryError, parse_expiry
    from ..core.text import shown

    raw = args.expires.strip()
    if raw.lower() == NEVER and not args.disposable and not args.yes_never:
        raise UserError("--expires never makes a key that never expires, which Momento advises against; "
                        "add --yes-never to confirm, or give a duration such as 90d")
    try:
        return parse_expiry(raw, now, disposable=args.disposable)
    except ExpiryError as exc:
        raise UserError(f"--expires {shown(raw)}: {exc}") from None


def _grants(args: argparse.Namespace) -> list[Grant]:
    from ..core.permissions import (
        ALL_DATA_READ_WRITE,
        PermissionSpecError,
        parse_cache_arg,
        parse_topic_arg,
        validate_grants,
    )
    from ..core.text import one_line, shown

    if args.all_data and (args.cache or args.topic):
        raise UserError("--all-data already gives read-write on every cache and topic; "
                        "use either --all-data or --cache/--topic")
    grants = list(ALL_DATA_READ_WRITE) if args.all_data else []
    for option, values, parse in (("--cache", args.cache, parse_cache_arg), ("--topic", args.topic, parse_topic_arg)):
        for value in values:
            try:
                grants.append(parse(value))
            except PermissionSpecError as exc:
                raise UserError(f"{option} {shown(value)}: {one_line(str(exc), 200)}") from None
    if not grants:
        raise UserError("say what the key may do: --cache CACHE=ROLE and/or --topic CACHE/TOPIC=ROLE "
                        "(repeatable), or --all-data")
    try:
        return validate_grants(grants)
    except PermissionSpecError as exc:
        raise UserError(str(exc)) from None


def _momento_failure(exc: MomentoError, *, using: str, disposable: bool) -> UserError:
    """Momento said no, or did not answer: nothing to keep. Says whether a key may exist anyway."""
    from ..services.momento import ErrorCode

    what = "disposable tokens" if disposable else "API keys"
    if exc.code is ErrorCode.PERMISSION:
        return UserError(f"Momento refused: {using!r} may not create {what} (PERMISSION_DENIED); a super-user "
                         "key is needed: make one in the Momento console, import it with --type super-user "
                         "and pass its name to --using. Nothing was generated")
    if exc.code is ErrorCode.AUTHENTICATION:
        return UserError(f"Momento rejected {using!r}: it is expired, revoked or not a real Momento key. "
                         "Nothing was generated")
    message = exc.message.rstrip()
    if exc.outcome_unknown:
        return UserError(f"{message} Nothing was stored.", ExitCode.UNAVAILABLE)
    if exc.transient:
        return UserError(f"{message} Nothing was generated; try again later.", ExitCode.UNAVAILABLE)
    return UserError(f"{message} Nothing was generated.")


def _ready(ctx: Context, name: str, *, v2: bool = False) -> KeyRecord:
    """Everything checked before Momento is asked: the name is free, the acting key's secret is
    there, and the keyring can store the new key. Returns the acting key."""
    from ..core.model import KeyType
    from ..services.vault import Health

    keeper = ctx.keeper
    if keeper.store.readonly:
        raise UserError(keeper.store.readonly_reason or "the database is read-only")
    if keeper.store.find(name) is not None:
        raise UserError(f"a key named {name!r} is already tracked; choose another --name")
    acting = ctx.find(ctx.args.using)
    if not acting.secret_stored:
        raise UserError(f"no secret is stored for {acting.name!r} (metadata only), so it cannot make keys: "
                        "import it again where a keyring can store it")
    if keeper.vault.status.health is Health.UNCHECKED:
        keeper.vault.probe()
    if not keeper.vault.writable():
        hint = ""
        if keeper.vault.status.health is Health.INSECURE:
            hint = " (allow it with --allow-insecure-keyring or [keyring] allow_insecure = true)"
        raise UserError(f"the new key could not be stored: {keeper.vault.status.summary()}{hint}; "
                        "nothing was generated")
    if not v2 and acting.key_type is not KeyType.SUPER_USER:
        output.warning(f"{acting.name!r} is recorded as {acting.key_type.value}, not super-user; only "
                       "super-user keys can make keys (trying anyway: Momento decides)")
    return acting


def _ask(api: MomentoApi, acting: KeyRecord, secret: str, grants: list[Grant], valid_for: int | None,
         name: str, disposable: bool, token_id: str | None = None) -> GeneratedKey:
    """The one call to Momento. Any failure here means Momento gave us no key."""
    from ..core.text import scrub
    from ..services.momento import MomentoError

    maybe = "" if disposable else "; the key may have been created anyway: check the Momento console"
    try:
        if disposable:
            extra = {"token_id": token_id} if token_id else {}  # only when given: any client takes the call
            return api.generate_disposable_token(secret, acting.endpoint, grants, valid_for, **extra)
        return api.generate_api_key(secret, acting.endpoint, grants, valid_for)
    except MomentoError as exc:
        raise _momento_failure(exc, using=acting.name, disposable=disposable) from None
    except KeyboardInterrupt:
        raise UserError(f"interrupted while Momento was making {name!r}, so nothing was stored{maybe}",
                        ExitCode.INTERRUPTED) from None
    except ValueError as exc:  # the stored secret is not a usable key, or a bad endpoint: nothing was sent
        raise UserError(f"{acting.name!r} cannot be used: {str(exc).rstrip('.')}; nothing was generated") from None
    except Exception as exc:  # a bug or an SDK surprise: say what, without a traceback or a secret
        detail = scrub(f"{type(exc).__name__}: {exc}", [secret])
        raise UserError(f"unexpected failure while calling Momento ({detail}); nothing was stored{maybe}",
                        ExitCode.UNAVAILABLE) from None


def cmd_generate(ctx: Context) -> int:
    from ..core.model import KeyType, Kind
    from ..core.permissions import describe_all, to_json
    from ..services.keeper import KeeperError, parse_tags, validate_name
    from .rescue import render_unstored

    args = ctx.args
    # 1. Everything that can be checked offline, before any network call.
    _options(args)
    check_name("--name", args.name)
    try:
        name = validate_name(args.name)
    except KeeperError as exc:
        raise UserError(f"--name: {exc}") from None
    if args.role is not None:  # a v2 key, through the account API
        from .account import generate_v2

        seconds = _expiry(args, ctx.clock.now())
        return generate_v2(ctx, name, seconds, _ready(ctx, name, v2=True))
    grants = _grants(args)
    valid_for = _expiry(args, ctx.clock.now())
    acting = _ready(ctx, name)
    api = ctx.momento()
    if acting.endpoint is None and api.override is None:
        raise UserError(f"{acting.name!r} has no endpoint recorded; set one (dashboard editor) and try again")
    if valid_for is None:
        output.warning(f"{name!r} will never expire; Momento advises against keys that never expire (they have "
                       "no refresh token either). Delete it in the Momento console when it is no longer needed")
    try:
        secret = ctx.keeper.secret(acting, why="used to generate")
    except KeeperError as exc:
        raise UserError(str(exc)) from None
    issuer = ctx.issuer  # built now: after Momento answers, nothing but keeping the key is left to do
    kind = Kind.DISPOSABLE if args.disposable else Kind.V1
    fields = {"kind": kind, "key_type": KeyType.FINE_GRAINED, "permissions": to_json(grants), "notes": args.notes,
              "tags": parse_tags(args.tags)}

    # 2. The one call to Momento.
    generated = _ask(api, acting, secret, grants, valid_for, name, args.disposable, args.token_id)

    # 3. Keep it: stored, or rescued; never lost.
    try:
        issued = issuer.keep(generated, name, **fields)
    except KeyboardInterrupt:
        issued = issuer.rescue(generated, name, "interrupted while storing")
    if issued.record is None:
        return render_unstored(issued, ["--name", name, "--type", "fine-grained"]
                               + (["--disposable"] if args.disposable else []))
    record = issued.record
    if args.json:
        from ..core.report import record_json

        output.print_json(record_json(record, ctx.clock.now(), ctx.settings.thresholds))
    else:
        from ..core.policy import countdown
        from ..core.report import local_time
        from ..core.text import shell_quote

        what = "disposable token" if args.disposable else "fine-grained API key (v1)"
        if args.token_id:
            what += f" (token id {args.token_id!r})"
        if record.expires_at is None:
            expiry = "never expires"
        else:
            expiry = f"expires {local_time(record.expires_at)} ({countdown(record.expires_at - ctx.clock.now())} left)"
        output.out(f"generated {record.name!r}: {what}, region {record.region or 'unknown'}, {expiry}")
        output.out(f"  permissions: {describe_all(grants)}")
        refresh = ", with its refresh token" if record.has_refresh_token else ""
        output.out(f"  secret: in the keyring ({ctx.vault.status.description}){refresh}; "
                   f"use `momento-keys env {shell_quote(record.name)}` or `export` to hand it to an app")
    for w in issued.warnings:
        output.warning(w)
    return ExitCode.OK


# ---- verify ----------------------------------------------------------------------------------

VERIFY_CODES = {"valid": ExitCode.OK, "restricted": ExitCode.OK, "invalid": ExitCode.INVALID,
                "unknown": ExitCode.UNKNOWN}


def cmd_verify(ctx: Context) -> int:
    from ..core.model import KeyType

    args = ctx.args
    record = ctx.find(args.name)
    api = ctx.momento()
    secret = ctx.secret(record)
    try:
        result = api.verify(secret, record.endpoint)
    except Exception as exc:  # verify reports failures in its result: a bug or an SDK surprise
        from ..core.text import scrub
        from ..services.momento import VerifyResult

        result = VerifyResult("unknown", "Could not check the key: unexpected failure "
                                         f"({scrub(f'{type(exc).__name__}: {exc}', [secret])}).")
    status = result.status
    message = result.message
    if status == "restricted":
        message = ("valid, restricted: this key authenticated but may not list caches — "
                   "expected for fine-grained keys and tokens")
        if record.key_type is KeyType.SUPER_USER:
            message += f" (but {record.name!r} is recorded as super-user: check its type)"
    if not ctx.store.readonly:
        ctx.log(record, "verified", status)
    if args.json:
        output.print_json({"name": record.name, "status": status, "message": message})
    elif status == "restricted":
        output.out(f"{record.name}: {message}")
    else:
        label = {"valid": "valid", "invalid": "INVALID", "unknown": "UNKNOWN"}[status]
        output.out(f"{record.name}: {label} — {message}")
    return VERIFY_CODES[status]
