"""The commands for monitoring: `check` (Nagios-style exit codes) and `metrics` (Prometheus).

cron runs `check` every minute on thousands of keys: SQLite computes every key's
status (`core.policy.band_sql`, the rule of `core.policy.band`) and hands back the
counts and the few keys the report shows, instead of a Python object per key.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ExitCode, UserError
from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..core.model import Status, Thresholds
    from ..services.store import Store
    from .context import Context

SHOWN = 50  # keys the text report names; --json gives them all


# ---- the statuses, from SQLite --------------------------------------------------------------

def _query(store: Store, sql: str, params: dict[str, object]) -> list[tuple]:
    # The store's reader, with the named parameters of `band_sql` (sqlite3 takes a mapping).
    return store._read(sql, params)  # type: ignore[arg-type]


def status_counts(store: Store, thresholds: Thresholds, now: float) -> dict[Status, int]:
    """How many active keys are in each status. (One string of every status, counted here: a
    GROUP BY would sort 10,000 rows, and handing them to Python one by one costs more still.)"""
    from ..core.model import Status
    from ..core.policy import band_sql

    status, params = band_sql(thresholds, now)
    [(joined,)] = _query(store, f"SELECT group_concat({status}) FROM keys WHERE lifecycle = 'active'", params)
    every = joined.split(",") if joined else []
    counts = {s: every.count(s.value) for s in Status}
    return {s: n for s, n in counts.items() if n}


def flagged(store: Store, thresholds: Thresholds, now: float, hidden: tuple[Status, ...],
            limit: int | None = None) -> list[tuple[Status, int | None, str, int]]:
    """(status, expires_at, name, id) of the active keys whose status is not in ``hidden``, as
    the report shows them: soonest expiry first, never/unknown last, then by name. The keys
    with an expiry come from the index on expires_at, so the first ``limit`` of them are read
    without looking at the rest."""
    from ..core.model import Status
    from ..core.policy import band_sql

    status, params = band_sql(thresholds, now)
    shown = f"status NOT IN ({', '.join(repr(s.value) for s in hidden)})"
    cut = "" if limit is None else f" LIMIT {int(limit)}"
    keys = f"SELECT {status} AS status, expires_at, name, id FROM keys WHERE lifecycle = 'active'"
    rows = _query(store, f"SELECT * FROM ({keys} AND expires_at IS NOT NULL) WHERE {shown} "
                         f"ORDER BY expires_at, name{cut}", params)
    if limit is None or len(rows) < limit:
        cut = "" if limit is None else f" LIMIT {int(limit) - len(rows)}"
        rows += _query(store, f"SELECT * FROM ({keys} AND expires_at IS NULL) WHERE {shown} ORDER BY name{cut}",
                       params)
    return [(Status(s), e, n, i) for s, e, n, i in rows]


# ---- check -----------------------------------------------------------------------------------

def _thresholds(ctx: Context) -> Thresholds:
    """The settings' thresholds, or those of the command line. --warn and --critical are the
    whole policy for the run: they are explicit (they apply even to keys whose whole life is
    shorter) and the lifetime fractions are off, unless --warn-fraction/--critical-fraction
    add them back. (A fraction of 1 is reached only at expiry: it never fires.)"""
    args = ctx.args
    thresholds = ctx.settings.thresholds
    if not (args.warn or args.critical or args.warn_fraction or args.critical_fraction):
        return thresholds
    from dataclasses import replace

    from ..core.expiry import ExpiryError, duration

    if args.warn or args.critical:
        thresholds = replace(thresholds, warning_fraction=1.0, critical_fraction=1.0)
    try:
        if args.warn:
            thresholds = replace(thresholds, warning_seconds=duration(args.warn), warning_explicit=True)
        if args.critical:
            thresholds = replace(thresholds, critical_seconds=duration(args.critical), critical_explicit=True)
    except ExpiryError as exc:
        raise UserError(str(exc), ExitCode.UNKNOWN) from None
    if args.warn_fraction:
        thresholds = replace(thresholds, warning_fraction=args.warn_fraction)
    if args.critical_fraction:
        thresholds = replace(thresholds, critical_fraction=args.critical_fraction)
    if thresholds.critical_seconds > thresholds.warning_seconds:
        raise UserError("--critical must not be longer than --warn", ExitCode.UNKNOWN)
    if args.warn_fraction and args.critical_fraction and args.critical_fraction < args.warn_fraction:
        raise UserError("--critical-fraction must not be smaller than --warn-fraction", ExitCode.UNKNOWN)
    return thresholds


def cmd_check(ctx: Context) -> int:
    from ..core.model import Status
    from ..core.report import check_exit_code

    args = ctx.args
    thresholds = _thresholds(ctx)
    store = ctx.store  # no Keeper: `check` needs the settings and the store, never the keyring
    now = ctx.clock.now()
    counts = status_counts(store, thresholds, now)
    code = check_exit_code(counts, never_is_ok=args.allow_never)
    if args.quiet:
        return code
    hidden = (Status.OK, Status.NEVER) if args.allow_never else (Status.OK,)
    due: list = []  # reminders due (all for --json; the first 20 otherwise), and how many
    due_count = 0
    if store.schema_version() >= 2:
        if args.json:
            due = store.due_reminders(int(now))
            due_count = len(due)
        elif due_count := store.due_count(int(now)):
            due = store.due_reminders(int(now), limit=20)
    if args.json:
        _check_json(store, thresholds, now, counts, code, hidden, due)
        return code
    total = sum(counts.values())
    if not total:
        output.out("OK: no keys tracked")
        return code
    attention = sum(n for s, n in counts.items() if s not in hidden)
    label = {ExitCode.OK: "OK", ExitCode.WARNING: "WARNING", ExitCode.CRITICAL: "CRITICAL",
             ExitCode.UNKNOWN: "UNKNOWN"}[code]
    lines = [f"{label}: {total} keys checked, {attention} need attention"]
    lines += [_check_line(s, expires_at, name, now) for s, expires_at, name, _ in
              flagged(store, thresholds, now, hidden, SHOWN)]
    if attention > SHOWN:
        lines.append(f"  … and {attention - SHOWN} more (use --json for all)")
    if due_count:
        lines.append(f"{due_count} reminder{'s' if due_count != 1 else ''} due (momento-keys reminders --due):")
        lines += [f"  {d.kind.value:<9} {d.key_name}" for d in due]
    output.out("\n".join(lines))
    return code


def _check_line(status: Status, expires_at: int | None, name: str, now: float) -> str:
    from ..core.model import Status
    from ..core.policy import LABELS, countdown

    if expires_at is None:
        when = "never expires (Momento advises against it)" if status is Status.NEVER else "expiry unknown"
    elif expires_at <= now:
        when = f"expired {countdown(now - expires_at)} ago"
    else:
        when = f"{countdown(expires_at - now)} left"
    return f"  {LABELS[status]:<13} {name}: {when}"


def _check_json(store: Store, thresholds: Thresholds, now: float, counts: dict[Status, int], code: int,
                hidden: tuple[Status, ...], due: list) -> None:
    from ..core.model import Status
    from ..core.report import iso_utc, record_json, worst

    ids = [i for *_, i in flagged(store, thresholds, now, hidden)]
    if len(ids) > 200:
        wanted = set(ids)
        by_id = {r.id: r for r in store.all(lean=True) if r.id in wanted}
        records = [by_id[i] for i in ids]
    else:
        records = [store.get(i) for i in ids]
    output.print_json({
        "exit_code": int(code),
        "worst": worst(list(counts)).value,
        "checked": sum(counts.values()),
        "counts": {s.value: counts[s] for s in Status if s in counts},
        "keys": [record_json(r, now, thresholds) for r in records],
        "reminders_due": [{"name": d.key_name, "kind": d.kind.value, "due_at": iso_utc(d.when())} for d in due],
    })


# ---- metrics ---------------------------------------------------------------------------------

def _label(value: str | None) -> str:
    """A Prometheus label value: escaped as the format wants, and nothing that drives a terminal."""
    return output.safe(value or "").replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def metrics_text(store: Store, thresholds: Thresholds, now: float) -> str:
    """Prometheus text exposition format: one series per key and metric."""
    from ..core.model import Lifecycle, Status
    from ..core.policy import status_of

    records = [r for r in store.all(lean=True) if r.lifecycle is not Lifecycle.RETIRED]
    due = store.due_reminders(int(now))
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
        current = status_of(r, now, thresholds)
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


def cmd_metrics(ctx: Context) -> int:
    import sys

    text = metrics_text(ctx.store, ctx.settings.thresholds, ctx.clock.now())
    if not ctx.args.textfile:
        sys.stdout.write(text)
        return ExitCode.OK
    write_textfile(Path(ctx.args.textfile).expanduser(), text)
    return ExitCode.OK


def write_textfile(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically, readable by node_exporter (0644; it holds no
    secret). Only a regular file is ever replaced: never a link, a device or a pipe."""
    from ..services.files import WriteError, write_atomically

    try:
        write_atomically(target, text, mode=0o644, replace=True)
    except WriteError as exc:
        raise UserError(str(exc)) from None
