"""Status bands, countdown text and duration parsing.

Pure functions of a record (or its expiry) and an instant: no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .model import KeyRecord, Status, Thresholds

MINUTE = 60
HOUR = 3600
DAY = 86400
MONTH = 30 * DAY
YEAR = 365 * DAY

GLYPHS: dict[Status, str] = {
    Status.OK: "●",
    Status.WARNING: "▲",
    Status.CRITICAL: "◆",
    Status.EXPIRED: "✖",
    Status.NEVER: "∞",
    Status.UNKNOWN: "?",
    Status.REVOKED: "⊘",
}

LABELS: dict[Status, str] = {
    Status.OK: "OK",
    Status.WARNING: "WARNING",
    Status.CRITICAL: "CRITICAL",
    Status.EXPIRED: "EXPIRED",
    Status.NEVER: "NEVER EXPIRES",
    Status.UNKNOWN: "UNKNOWN",
    Status.REVOKED: "REVOKED",
}

# How bad a status is, for sorting and for `check`'s exit code (worst wins).
SEVERITY: dict[Status, int] = {
    Status.REVOKED: 6,   # stopped working, whatever its expiry said
    Status.EXPIRED: 5,
    Status.CRITICAL: 4,
    Status.WARNING: 3,
    Status.UNKNOWN: 2,
    Status.NEVER: 1,
    Status.OK: 0,
}


def thresholds_for(record: KeyRecord, default: Thresholds) -> Thresholds:
    """Global thresholds with the record's per-key overrides applied."""
    return with_overrides(default, record.warning_seconds, record.critical_seconds)


def with_overrides(default: Thresholds, warning_seconds: int | None, critical_seconds: int | None) -> Thresholds:
    """Global thresholds with per-key overrides (None: the global value). A per-key
    threshold is explicit (it applies even beyond the key's life), and so stays one
    given explicitly for the whole run (`check --warn/--critical`)."""
    if warning_seconds is None and critical_seconds is None:
        return default
    return replace(
        default,
        warning_seconds=default.warning_seconds if warning_seconds is None else warning_seconds,
        critical_seconds=default.critical_seconds if critical_seconds is None else critical_seconds,
        warning_explicit=default.warning_explicit or warning_seconds is not None,
        critical_explicit=default.critical_explicit or critical_seconds is not None,
    )


def band(
    expires_at: int | None,
    now: float,
    thresholds: Thresholds,
    *,
    issued_at: int | None = None,
    never: bool = False,
    revoked: bool = False,
) -> Status:
    """The status band of a key expiring at ``expires_at`` seen at ``now``.

    A ``revoked`` key (v2: the account no longer has it) is REVOKED whatever its expiry.

    Warning and critical fire on whichever comes first: the absolute time left
    or the share of the lifetime used (when the lifetime is known). An
    absolute threshold longer than the whole lifetime is skipped: a 1-hour
    token is not "critical" from birth, it warns at 2/3 and 90 % of its hour.
    """
    if revoked:
        return Status.REVOKED
    if expires_at is None:
        return Status.NEVER if never else Status.UNKNOWN
    left = expires_at - now
    if left <= 0:
        return Status.EXPIRED
    warn_at, crit_at = band_changes(expires_at, issued_at, thresholds)
    if now >= crit_at:
        return Status.CRITICAL
    if now >= warn_at:
        return Status.WARNING
    return Status.OK


def status_of(record: KeyRecord, now: float, default: Thresholds) -> Status:
    return band(
        record.expires_at,
        now,
        thresholds_for(record, default),
        issued_at=record.issued_at,
        never=record.never_expires,
        revoked=record.revoked_at is not None,
    )


def band_changes(expires_at: int, issued_at: int | None, thresholds: Thresholds) -> tuple[int, int]:
    """The instants at which a key enters warning and critical.

    The status bands and the reminder schedule both come from here, so they
    always agree.
    """
    t = thresholds
    if issued_at is None or expires_at <= issued_at:  # no known lifetime: the absolute thresholds alone
        return expires_at - t.warning_seconds, expires_at - t.critical_seconds
    life = expires_at - issued_at
    warn = issued_at + int(life * t.warning_fraction)
    if t.warning_seconds < life or t.warning_explicit:
        warn = min(warn, expires_at - t.warning_seconds)
    crit = issued_at + int(life * t.critical_fraction)
    if t.critical_seconds < life or t.critical_explicit:
        crit = min(crit, expires_at - t.critical_seconds)
    return warn, crit


def countdown(seconds: float | None, *, precise: bool = False) -> str:
    """Short, readable time span: "42s", "59m 12s", "3d 4h", "11mo", "2y 3mo".

    ``precise`` adds seconds to spans under a day ("16h 42m 05s"), for a
    countdown that visibly ticks. Negative spans get a leading "-".
    """
    if seconds is None:
        return "never"
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))

    def pair(big: int, big_unit: str, small: int, small_unit: str, pad: bool = False) -> str:
        if not small:
            return f"{big}{big_unit}"
        return f"{big}{big_unit} {small:02d}{small_unit}" if pad else f"{big}{big_unit} {small}{small_unit}"

    if s < MINUTE:
        text = f"{s}s"
    elif s < HOUR:
        text = f"{s // MINUTE}m {s % MINUTE:02d}s"
    elif s < DAY:
        if precise:
            text = f"{s // HOUR}h {s % HOUR // MINUTE:02d}m {s % MINUTE:02d}s"
        else:
            text = pair(s // HOUR, "h", s % HOUR // MINUTE, "m", pad=True)
    elif s < 60 * DAY:
        text = pair(s // DAY, "d", s % DAY // HOUR, "h")
    elif s < YEAR:
        text = pair(s // MONTH, "mo", s % MONTH // DAY, "d")
    else:
        years, rest = divmod(s, YEAR)
        text = pair(years, "y", rest // MONTH, "mo")
    return sign + text


_DURATION = re.compile(r"(\d{1,12})\s*(y|mo|w|d|h|m|s)", re.IGNORECASE)
_UNITS = {"y": YEAR, "mo": MONTH, "w": 7 * DAY, "d": DAY, "h": HOUR, "m": MINUTE, "s": 1}


class DurationError(ValueError):
    pass


def parse_duration(text: str) -> int:
    """Parse "14d", "12h", "30m", "1d12h", "90s", "2w" into seconds."""
    raw = text.strip().lower()
    if not raw:
        raise DurationError("empty duration: use a number and a unit, such as 14d, 12h or 30m")
    if len(raw) > 64:
        raise DurationError("not a duration: too long; use a number and a unit, such as 14d, 12h or 30m")
    pos = 0
    total = 0
    for m in _DURATION.finditer(raw):
        if raw[pos:m.start()].strip():
            break
        total += int(m.group(1)) * _UNITS[m.group(2).lower()]
        pos = m.end()
    if pos == 0 or raw[pos:].strip():
        shown = text.strip()
        if len(shown) > 40:
            shown = shown[:37] + "..."
        raise DurationError(
            f"not a duration: {shown!r}; use a number and a unit (s, m, h, d, w, mo, y), such as 14d, 12h or 30m"
        )
    if total <= 0:
        raise DurationError("a duration must be longer than zero")
    if total > 100 * YEAR:
        raise DurationError("a duration must be under 100 years")
    return total




def band_sql(thresholds: Thresholds, now: float) -> tuple[str, dict[str, object]]:
    """`status_of` as an SQL expression over a key's columns ``expires_at``, ``issued_at``,
    ``expiry_source``, ``warning_seconds``, ``critical_seconds`` (its own thresholds over
    ``thresholds``) and ``revoked_at``: the status value, and the named parameters it needs.

    `check` lets SQLite compute the status of every key (cron runs it every minute on
    thousands): one pass in C instead of a row and a Python call per key. It is the rule
    of `band_changes`, case for case (``now >= min(a, b)`` written as ``now >= a OR now >=
    b``); tests/test_cli_fast.py holds the two equal on every kind of key and threshold.
    """

    def entered(own: str, seconds: str, fraction: str, explicit: bool) -> str:
        # The lifetime is known: the share of it used, or the absolute threshold (the key's
        # own, which is explicit; else the global one, unless longer than the whole life).
        share = f":now >= issued_at + CAST((expires_at - issued_at) * {fraction} AS INTEGER)"
        default = f":now >= expires_at - {seconds}" + ("" if explicit else f" AND {seconds} < expires_at - issued_at")
        return f"{share} OR ({own} IS NOT NULL AND :now >= expires_at - {own}) OR ({own} IS NULL AND {default})"

    s, t = Status, thresholds
    sql = (f"CASE WHEN revoked_at IS NOT NULL THEN '{s.REVOKED.value}' "
           f"WHEN expires_at IS NULL THEN CASE WHEN expiry_source = 'unknown' THEN '{s.UNKNOWN.value}' "
           f"ELSE '{s.NEVER.value}' END "
           f"WHEN expires_at - :now <= 0 THEN '{s.EXPIRED.value}' "
           # No known lifetime: the absolute thresholds alone.
           "WHEN issued_at IS NULL OR expires_at <= issued_at THEN CASE "
           f"WHEN :now >= expires_at - coalesce(critical_seconds, :crit_s) THEN '{s.CRITICAL.value}' "
           f"WHEN :now >= expires_at - coalesce(warning_seconds, :warn_s) THEN '{s.WARNING.value}' "
           f"ELSE '{s.OK.value}' END "
           f"WHEN {entered('critical_seconds', ':crit_s', ':crit_f', t.critical_explicit)} "
           f"THEN '{s.CRITICAL.value}' "
           f"WHEN {entered('warning_seconds', ':warn_s', ':warn_f', t.warning_explicit)} THEN '{s.WARNING.value}' "
           f"ELSE '{s.OK.value}' END")
    params: dict[str, object] = {"now": now, "warn_s": t.warning_seconds, "warn_f": t.warning_fraction,
                                 "crit_s": t.critical_seconds, "crit_f": t.critical_fraction}
    return sql, params
