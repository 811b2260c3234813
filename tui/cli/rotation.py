"""Rotation and reminders: `rotate`, `reminders`, `snooze`, `dismiss` and `notify`.

Only `rotate` talks to Momento; the others import neither Textual nor grpc.
"""

from __future__ import annotations

from ..errors import ExitCode, UserError
from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..core.reminders import Reminder
    from ..services.keeper import Keeper
    from .context import Context


# ---- rotate ----------------------------------------------------------------------------------

def cmd_rotate(ctx: Context) -> int:
    from ..core.report import record_json
    from ..core.text import shell_quote
    from ..services.rotation import RotationError

    args = ctx.args
    keeper = ctx.keeper
    record = ctx.find(args.name, hint=False)
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
        raise UserError(str(exc), ExitCode.UNAVAILABLE if exc.transient else ExitCode.ERROR) from None
    for warning in outcome.warnings:
        output.warning(warning)
    if args.json:
        now = ctx.clock.now()
        output.print_json({
            "new": record_json(outcome.new, now, ctx.settings.thresholds),
            "previous": record_json(outcome.old, now, ctx.settings.thresholds),
            "verify": outcome.verify,
        })
    else:
        output.out(outcome.summary())
        output.out(f"  the old key is now {outcome.old.name!r}; when its consumers use the new key: "
                   f"momento-keys dismiss {shell_quote(outcome.old.name)} --kind switch --done")
    return ExitCode.OK


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
        rows.append([r.effective_state(now).value.upper(), r.kind.value, r.key_name,
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
    import shutil

    keeper = ctx.keeper
    keeper.schedule_all()
    keeper.retire_expired_previous()
    claimed = keeper.store.claim_notifications(keeper.now())
    sender = None if ctx.args.stdout else shutil.which("notify-send")
    failed = _notify(keeper, claimed, sender)
    if failed:
        output.warning(f"notify-send failed {failed} time(s); printed instead")
    return ExitCode.OK


def _notify(keeper: Keeper, claimed: list[Reminder], sender: str | None) -> int:
    """One desktop notification per reminder (a line on stdout without notify-send, or when it
    fails); how many times notify-send failed."""
    import subprocess

    from ..core.reminders import message

    now = keeper.now()
    records = {r.id: r for r in keeper.store.all(lean=True)} if claimed else {}
    failed = 0
    for reminder in claimed:
        text = output.safe(message(reminder, records.get(reminder.key_id), now))
        title = f"momento-keys: {reminder.kind.value}"
        if sender:
            urgency = "critical" if reminder.kind.value in ("critical", "expiry") else "normal"
            try:
                subprocess.run([sender, "--app-name=momento-keys", f"--urgency={urgency}", title, text],
                               check=True, timeout=10, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                continue
            except (OSError, subprocess.SubprocessError):
                failed += 1
        output.out(f"{title}: {text}")
    return failed
