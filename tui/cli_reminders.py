"""Headless reminders, rotation, notifications and metrics.

    momento-keys reminders [--due] [--json]
    momento-keys snooze NAME DUR [--kind KIND]
    momento-keys dismiss NAME [--kind KIND]
    momento-keys rotate NAME [--json]
    momento-keys notify
    momento-keys metrics [--textfile PATH]

`reminders`, `snooze`, `dismiss`, `notify` and `metrics` import neither
Textual nor grpc; `rotate` talks to Momento.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from .services.keeper import Keeper

KINDS = ("warning", "critical", "expiry", "review", "switch", "revoke")


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    from .cli_parser import _positive_seconds

    p = sub.add_parser("reminders", parents=[common], help="open reminders, due first (no secrets)")
    p.add_argument("--due", action="store_true", help="only those due now")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("snooze", parents=[common], help="snooze a key's due reminder for DUR (e.g. 1d, 7d)")
    p.add_argument("name")
    p.add_argument("duration", metavar="DUR")
    p.add_argument("--kind", choices=KINDS, help="which reminder, when the key has several open")

    p = sub.add_parser("dismiss", parents=[common], help="dismiss a key's due reminder")
    p.add_argument("name")
    p.add_argument("--kind", choices=KINDS, help="which reminder, when the key has several open")
    p.add_argument("--done", action="store_true",
                   help="mark it done instead (for a 'switch' reminder: retires the old key)")

    p = sub.add_parser("rotate", parents=[common],
                       help="refresh a key through Momento (new key + refresh token; the old one keeps "
                            "working until it expires)",
                       epilog="Exit codes: 0 rotated, 1 cannot be refreshed or Momento refused (nothing changed), "
                              "3 unreachable, 4 rotated but the keyring refused the new key (rescue file written).")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.add_argument("--timeout", type=_positive_seconds, default=15.0, metavar="SECONDS",
                   help="deadline of each Momento call (default 15)")

    p = sub.add_parser("notify", parents=[common],
                       help="for cron: one desktop notification per due reminder (stdout without notify-send), "
                            "never twice for the same reminder")
    p.add_argument("--stdout", action="store_true", help="print even when notify-send is present")

    p = sub.add_parser("metrics", parents=[common], help="Prometheus text format (for node_exporter)")
    p.add_argument("--textfile", metavar="PATH",
                   help="write atomically to PATH (node_exporter's textfile collector) instead of stdout")


# ---- helpers ----------------------------------------------------------------------

def _cli():
    from . import cli

    return cli


def _open_reminders(keeper: Keeper, name: str, kind: str | None):
    cli = _cli()
    record = keeper.store.find(name)
    if record is None:
        raise cli.CliError(f"no key named {cli._shown(name, 120)} is tracked (momento-keys list shows the names)")
    reminders = keeper.store.reminders(key_id=record.id)
    if kind:
        reminders = [r for r in reminders if r.kind.value == kind]
    now = keeper.clock.now()
    due = [r for r in reminders if r.is_due(now)]
    choice = due or reminders
    if not choice:
        raise cli.CliError(f"{name!r} has no open {kind + ' ' if kind else ''}reminder")
    if len(choice) > 1 and not kind:
        kinds = ", ".join(r.kind.value for r in choice)
        raise cli.CliError(f"{name!r} has several open reminders ({kinds}): choose one with --kind")
    return choice[0]


# ---- commands ---------------------------------------------------------------------

def cmd_reminders(args: argparse.Namespace) -> int:
    from .core.policy import countdown
    from .core.report import iso_utc, local_time

    cli = _cli()
    keeper = cli._keeper(args)
    keeper.schedule_all()
    now = keeper.clock.now()
    reminders = keeper.store.reminders()
    if args.due:
        reminders = [r for r in reminders if r.is_due(now)]
    reminders.sort(key=lambda r: (not r.is_due(now), r.when()))
    if args.json:
        cli._print_json([{
            "name": r.key_name, "kind": r.kind.value, "state": r.effective_state(now).value,
            "due_at": iso_utc(r.when()), "notes": r.key_notes,
        } for r in reminders])
        return 0
    if not reminders:
        print("No reminders due." if args.due else "No open reminders.")
        return 0
    rows = []
    for r in reminders:
        when = r.when()
        rel = f"in {countdown(when - now)}" if when > now else f"{countdown(now - when)} ago"
        rows.append([r.effective_state(now).value.upper(), r.kind.value, r.key_name,
                     f"{local_time(when)} ({rel})", r.key_notes or "-"])
    print(cli._table(rows, ["STATE", "KIND", "KEY", "WHEN", "WHERE USED"]))
    return 0


def cmd_snooze(args: argparse.Namespace) -> int:
    from .core.policy import DurationError, countdown

    cli = _cli()
    try:
        seconds = cli._parse_duration(args.duration)
    except DurationError as exc:
        raise cli.CliError(str(exc)) from None
    keeper = cli._keeper(args)
    reminder = _open_reminders(keeper, args.name, args.kind)
    keeper.snooze(reminder, seconds)
    print(f"snoozed the {reminder.kind.value} reminder of {args.name!r} for {countdown(seconds)}")
    return 0


def cmd_dismiss(args: argparse.Namespace) -> int:
    from .core.reminders import ReminderState

    cli = _cli()
    keeper = cli._keeper(args)
    reminder = _open_reminders(keeper, args.name, args.kind)
    keeper.close(reminder, ReminderState.DONE if args.done else ReminderState.DISMISSED)
    print(f"{'marked done' if args.done else 'dismissed'}: the {reminder.kind.value} reminder of {args.name!r}")
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    from .core.report import record_json
    from .services.rotation import RotationError, Rotator

    cli = _cli()
    keeper = cli._keeper(args)
    record = keeper.store.find(args.name)
    if record is None:
        raise cli.CliError(f"no key named {cli._shown(args.name, 120)} is tracked (momento-keys list shows the names)")
    api = cli._momento_api(args)
    rotator = Rotator(keeper, lambda: api)
    try:
        for note in rotator.resume():
            print(f"{cli.PROG}: note: {note if isinstance(note, str) else note.summary()}", file=sys.stderr)
    except RotationError as exc:
        raise cli.CliError(f"an interrupted rotation could not be completed: {exc}") from None
    record = keeper.store.find(args.name) or record
    try:
        outcome = rotator.rotate(record)
    except RotationError as exc:
        if exc.issued is not None:
            print(f"{cli.PROG}: error: {exc}", file=sys.stderr)
            if exc.issued.rescue_file is not None:
                print(f"{cli.PROG}: to track it: momento-keys import --name {cli._quote(args.name + ' (new)')} "
                      f"--replaces {cli._quote(record.name)} --type {record.key_type.value} --file "
                      f"{cli._quote(str(exc.issued.rescue_file))}   then delete the file", file=sys.stderr)
            elif sys.stdout.isatty():
                sys.stdout.write(exc.issued.download_json())
            return 4
        raise cli.CliError(str(exc), 3 if exc.transient else 1) from None
    for warning in outcome.warnings:
        print(f"{cli.PROG}: warning: {warning}", file=sys.stderr)
    if args.json:
        cli._print_json({
            "new": record_json(outcome.new, keeper.clock.now(), keeper.settings.thresholds),
            "previous": record_json(outcome.old, keeper.clock.now(), keeper.settings.thresholds),
            "verify": outcome.verify,
        })
    else:
        print(outcome.summary())
        print(f"  the old key is now {outcome.old.name!r}; when its consumers use the new key: "
              f"momento-keys dismiss {_quote(outcome.old.name)} --kind switch --done")
    return 0


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def cmd_notify(args: argparse.Namespace) -> int:
    import shutil
    import subprocess

    from .core.reminders import message

    cli = _cli()
    keeper = cli._keeper(args)
    keeper.schedule_all()
    keeper.retire_expired_previous()
    now = keeper.now()
    claimed = keeper.store.claim_notifications(now)
    sender = None if args.stdout else shutil.which("notify-send")
    records = {r.id: r for r in keeper.store.all(lean=True)} if claimed else {}
    failed = 0
    for reminder in claimed:
        text = message(reminder, records.get(reminder.key_id), now)
        title = f"momento-keys: {reminder.kind.value}"
        if sender:
            urgency = "critical" if reminder.kind.value in ("critical", "expiry") else "normal"
            try:
                subprocess.run([sender, "--app-name=momento-keys", f"--urgency={urgency}", title, text],
                               check=True, timeout=10, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                continue
            except (OSError, subprocess.SubprocessError):
                failed += 1
        print(f"{title}: {text}")
    if failed:
        print(f"{cli.PROG}: warning: notify-send failed {failed} time(s); printed instead", file=sys.stderr)
    return 0


def _label(value: str | None) -> str:
    return (value or "").replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def metrics_text(keeper: Keeper, now: float) -> str:
    """Prometheus text exposition format: one series per key and metric."""
    from .core.model import Lifecycle, Status
    from .core.policy import status_of

    records = [r for r in keeper.store.all(lean=True) if r.lifecycle is not Lifecycle.RETIRED]
    due = keeper.store.due_reminders(int(now))
    lines = [
        "# HELP momento_key_expiry_timestamp_seconds When the key expires (Unix time); absent for keys that never expire.",
        "# TYPE momento_key_expiry_timestamp_seconds gauge",
    ]
    labels = {}
    for r in records:
        labels[r.id] = (f'name="{_label(r.name)}",region="{_label(r.region or "unknown")}",'
                        f'kind="{r.kind.value}",key_type="{r.key_type.value}",lifecycle="{r.lifecycle.value}"')
    for r in records:
        if r.expires_at is not None:
            lines.append(f"momento_key_expiry_timestamp_seconds{{{labels[r.id]}}} {r.expires_at}")
    lines += ["# HELP momento_key_seconds_left Seconds until the key expires (negative once expired).",
              "# TYPE momento_key_seconds_left gauge"]
    for r in records:
        if r.expires_at is not None:
            lines.append(f"momento_key_seconds_left{{{labels[r.id]}}} {int(r.expires_at - now)}")
    lines += ["# HELP momento_key_status 1 for the key's current status band, 0 for the others.",
              "# TYPE momento_key_status gauge"]
    for r in records:
        current = status_of(r, now, keeper.settings.thresholds)
        for s in Status:
            lines.append(f'momento_key_status{{{labels[r.id]},status="{s.value}"}} {1 if s is current else 0}')
    lines += ["# HELP momento_key_has_refresh_token 1 if a refresh token came with the key.",
              "# TYPE momento_key_has_refresh_token gauge"]
    for r in records:
        lines.append(f"momento_key_has_refresh_token{{{labels[r.id]}}} {int(r.has_refresh_token)}")
    lines += ["# HELP momento_key_secret_stored 1 if the key's secret is in the OS keyring.",
              "# TYPE momento_key_secret_stored gauge"]
    for r in records:
        lines.append(f"momento_key_secret_stored{{{labels[r.id]}}} {int(r.secret_stored)}")
    lines += ["# HELP momento_keys_reminders_due Reminders due now.",
              "# TYPE momento_keys_reminders_due gauge",
              f"momento_keys_reminders_due {len(due)}",
              "# HELP momento_keys_tracked Keys tracked (not retired).",
              "# TYPE momento_keys_tracked gauge",
              f"momento_keys_tracked {len(records)}",
              "# HELP momento_keys_metrics_generated_timestamp_seconds When these metrics were written.",
              "# TYPE momento_keys_metrics_generated_timestamp_seconds gauge",
              f"momento_keys_metrics_generated_timestamp_seconds {int(now)}"]
    return "\n".join(lines) + "\n"


def cmd_metrics(args: argparse.Namespace) -> int:
    import tempfile

    cli = _cli()
    keeper = cli._keeper(args, readonly=True)
    text = metrics_text(keeper, keeper.clock.now())
    if not args.textfile:
        sys.stdout.write(text)
        return 0
    target = Path(args.textfile).expanduser()
    if target.is_dir():
        raise cli.CliError(f"{target} is a directory: give a file name ending in .prom")
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except FileNotFoundError:
        raise cli.CliError(f"no such directory: {target.parent}") from None
    except PermissionError:
        raise cli.CliError(f"cannot write in {target.parent}: permission denied") from None
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # node_exporter must read it; it holds no secret
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise cli.CliError(f"could not write {target}: {exc.strerror or exc}") from None
    return 0


COMMANDS = {
    "reminders": cmd_reminders,
    "snooze": cmd_snooze,
    "dismiss": cmd_dismiss,
    "rotate": cmd_rotate,
    "notify": cmd_notify,
    "metrics": cmd_metrics,
}
