"""Rotation and reminders: `rotate`, `reminders`, `snooze`, `dismiss` and `notify`.

Only `rotate` talks to Momento (and, for v2 keys, its account API); the others import
neither Textual nor grpc. Deploy hooks: tui.cli.hooks.
"""

from __future__ import annotations

from ..errors import ExitCode, UserError
from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..core.model import KeyRecord
    from ..core.reminders import Reminder
    from ..services.desktop import Notifier
    from ..services.keeper import Keeper
    from .context import Context


# ---- rotate ----------------------------------------------------------------------------------

def cmd_rotate(ctx: Context) -> int:
    from ..core.model import Kind
    from ..core.report import record_json
    from ..core.text import shell_quote
    from ..services.rotation import RotationError

    args = ctx.args
    if args.finish:
        return _finish(ctx)
    keeper = ctx.keeper
    record = ctx.find(args.name, hint=False)
    if record.kind is Kind.V2:
        from .account import acting_key

        ctx.acting = acting_key(ctx, record)
        ctx.account(ctx.acting)  # the acting key and the URL are checked before anything changes
    elif args.using or args.account_api:
        raise UserError(f"--using and --account-api are for v2 keys; {record.name!r} is a {record.kind.value} key, "
                        "refreshed through Momento with its own refresh token", ExitCode.USAGE)
    rotator = ctx.rotator
    ctx.momento()  # the endpoint override is checked (and noted) before anything changes
    try:
        for note in rotator.resume():
            output.note(note if isinstance(note, str) else note.summary())
    except RotationError as exc:
        raise UserError(f"an interrupted rotation could not be completed: {exc}") from None
    record = keeper.store.find(record.name) or record
    try:
        outcome = rotator.rotate(record)
    except RotationError as exc:
        if exc.issued is not None:
            from .rescue import render_unstored

            return render_unstored(exc.issued, ["--name", exc.issued.name, "--replaces", record.name,
                                                "--type", record.key_type.value], headline=str(exc))
        message = str(exc)
        if record.kind is Kind.V2 and not args.using and "auth-management" in message:
            message += f" (act with another key: --using NAME; {record.name!r} acted for itself)"
        raise UserError(message, ExitCode.UNAVAILABLE if exc.transient else ExitCode.ERROR) from None
    for warning in outcome.warnings:
        output.warning(warning)
    hook = None
    if args.deploy_hook:
        from .hooks import run_deploy_hook

        hook = run_deploy_hook(ctx, outcome.new, args.deploy_hook)
    v2 = outcome.old.kind is Kind.V2
    if args.json:
        now = ctx.clock.now()
        output.print_json({
            "new": record_json(outcome.new, now, ctx.settings.thresholds),
            "previous": record_json(outcome.old, now, ctx.settings.thresholds),
            "verify": outcome.verify,
            "deploy_hook": None if hook is None else hook.to_json(),
        })
    else:
        output.out(outcome.summary())
        if v2:
            output.out(f"  the old key is now {outcome.old.name!r}; when its consumers use the new key, revoke it: "
                       f"momento-keys rotate --finish {shell_quote(outcome.new.name)}")
        else:
            output.out(f"  the old key is now {outcome.old.name!r}; when its consumers use the new key: "
                       f"momento-keys dismiss {shell_quote(outcome.old.name)} --kind switch --done")
        if hook is not None and hook.ok:
            output.out("  the deploy hook ran and succeeded")
    return ExitCode.OK


def _finish(ctx: Context) -> int:
    """`rotate --finish NAME`: revoke the previous key of a v2 rotation (NAME: the key, or its previous one)."""
    from ..core.model import Kind, Lifecycle
    from ..services.account import AccountError
    from ..services.rotation import RotationError
    from .account import account_failure, acting_key, report_revoked, role_text
    from .ask import confirm

    args = ctx.args
    if args.deploy_hook:
        raise UserError("--deploy-hook runs after a rotation, not after --finish", ExitCode.USAGE)
    store = ctx.keeper.store
    record = ctx.find(args.name, hint=False)
    before, after = store.lineage(record.id)  # type: ignore[arg-type]
    old: KeyRecord | None
    current: KeyRecord | None
    if record.lifecycle is Lifecycle.PREVIOUS:
        old = record
        current = next((r for r in reversed(after) if r.lifecycle is Lifecycle.ACTIVE), None)
    else:
        old = next((r for r in reversed(before) if r.lifecycle is Lifecycle.PREVIOUS), None)
        current = record
    if old is None:
        raise UserError(f"{record.name!r} has no previous key waiting to be revoked: nothing to finish")
    if old.kind is not Kind.V2:
        from ..core.report import local_time
        from ..core.text import shell_quote

        raise UserError(f"the previous key {old.name!r} is a {old.kind.value} key, which the account API cannot "
                        f"revoke: it stops working on {local_time(old.expires_at, never='never')}. When its "
                        f"consumers have switched: momento-keys dismiss {shell_quote(old.name)} --kind switch --done")
    acting = acting_key(ctx, old, default=current)
    confirm(f"Revoke the previous key {old.name!r} (role {role_text(old)}, account key {old.key_id})? Programs "
            "still using it stop working at once.", yes=args.yes, refusal=f"{old.name!r} was not revoked")
    ctx.acting = acting
    ctx.account(acting)
    try:
        outcome = ctx.rotator.finish_v2(old, acting.name)
    except RotationError as exc:
        raise UserError(str(exc)) from None
    except AccountError as exc:
        raise account_failure(exc, f"{old.name!r} was not revoked; nothing changed here.",
                              maybe=f"{old.name!r} may have been revoked anyway: `momento-keys sync` tells",
                              using_given=bool(args.using)) from None
    return report_revoked(ctx, outcome)


# ---- reminders -------------------------------------------------------------------------------

def _open_reminder(ctx: Context, name: str, kind: str | None) -> Reminder:
    """The one open reminder of ``name`` that the command means (the due one, or --kind)."""
    keeper = ctx.keeper
    record = ctx.find(name, hint=False)
    reminders = keeper.store.reminders(key_id=record.id)
    if kind:
        reminders = [r for r in reminders if r.kind.value == kind]
    now = keeper.clock.now()
    due = [r for r in reminders if r.is_due(now)]
    choice = due or reminders
    if not choice:
        raise UserError(f"{name!r} has no open {kind + ' ' if kind else ''}reminder")
    if len(choice) > 1 and not kind:
        kinds = ", ".join(r.kind.value for r in choice)
        raise UserError(f"{name!r} has several open reminders ({kinds}): choose one with --kind")
    return choice[0]


def cmd_reminders(ctx: Context) -> int:
    from ..core.policy import countdown
    from ..core.reminders import STATE_WORDS
    from ..core.report import iso_utc, local_time

    keeper = ctx.keeper
    keeper.schedule_all()
    now = keeper.clock.now()
    reminders = keeper.store.reminders()
    if ctx.args.due:
        reminders = [r for r in reminders if r.is_due(now)]
    reminders.sort(key=lambda r: (not r.is_due(now), r.when()))
    if ctx.args.json:
        output.print_json([{
            "name": r.key_name, "kind": r.kind.value, "state": r.effective_state(now).value,
            "due_at": iso_utc(r.when()), "notes": r.key_notes,
        } for r in reminders])
        return ExitCode.OK
    if not reminders:
        output.out("No reminders due." if ctx.args.due else "No open reminders.")
        return ExitCode.OK
    rows = []
    for r in reminders:
        when = r.when()
        rel = f"in {countdown(when - now)}" if when > now else f"{countdown(now - when)} ago"
        rows.append([STATE_WORDS[r.effective_state(now)].upper(), r.kind.value, r.key_name,
                     f"{local_time(when)} ({rel})", r.key_notes or "-"])
    output.out(output.table(rows, ["STATE", "KIND", "KEY", "WHEN", "WHERE USED"]))
    return ExitCode.OK


def cmd_snooze(ctx: Context) -> int:
    from ..core.expiry import ExpiryError, duration
    from ..core.policy import countdown

    try:
        seconds = duration(ctx.args.duration)
    except ExpiryError as exc:
        raise UserError(str(exc)) from None
    reminder = _open_reminder(ctx, ctx.args.name, ctx.args.kind)
    ctx.keeper.snooze(reminder, seconds)
    output.out(f"snoozed the {reminder.kind.value} reminder of {ctx.args.name!r} for {countdown(seconds)}")
    return ExitCode.OK


def cmd_dismiss(ctx: Context) -> int:
    from ..core.reminders import ReminderState

    done = ctx.args.done
    reminder = _open_reminder(ctx, ctx.args.name, ctx.args.kind)
    ctx.keeper.close(reminder, ReminderState.DONE if done else ReminderState.DISMISSED)
    output.out(f"{'marked done' if done else 'dismissed'}: the {reminder.kind.value} reminder of {ctx.args.name!r}")
    return ExitCode.OK


def cmd_notify(ctx: Context) -> int:
    from ..services.desktop import find_notifier

    keeper = ctx.keeper
    keeper.schedule_all()
    keeper.retire_expired_previous()
    claimed = keeper.store.claim_notifications(keeper.now())
    notifier = None if ctx.args.stdout else find_notifier()
    failed = _notify(keeper, claimed, notifier)
    if failed and notifier is not None:
        output.warning(f"{notifier.name} failed {failed} time(s); printed instead")
    return ExitCode.OK


def _notify(keeper: Keeper, claimed: list[Reminder], notifier: Notifier | None) -> int:
    """One desktop notification per reminder (a line on stdout without a notifier, or when it
    fails); how many times the notifier failed."""
    from ..core.reminders import message

    now = keeper.now()
    records = {r.id: r for r in keeper.store.all(lean=True)} if claimed else {}
    failed = 0
    for reminder in claimed:
        text = output.safe(message(reminder, records.get(reminder.key_id), now))
        title = f"momento-keys: {reminder.kind.value}"
        if notifier is not None:
            if notifier.send(title, text, urgent=reminder.kind.value in ("critical", "expiry")):
                continue
            failed += 1
        output.out(f"{title}: {text}")
    return failed
