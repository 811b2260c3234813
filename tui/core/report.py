"""Stable, secret-free views of records: the JSON of `list --json` and `check --json`."""

from __future__ import annotations

import time
from functools import cache

from ..errors import ExitCode
from .model import KeyRecord, Status, Thresholds
from .policy import SEVERITY, countdown, status_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable


@cache
def _datetime():
    """The datetime module, imported when first needed (`check` never needs it)."""
    import datetime

    return datetime


# The instants whose year has four digits (1000-01-01 to 9999-12-31, UTC): for them
# time.strftime writes what datetime does, three times faster (`list --json` of many keys).
_ISO_FAST = range(-30610224000, 253402300800)


def iso_utc(instant: int | None) -> str | None:
    if instant is None:
        return None
    if type(instant) is int and instant in _ISO_FAST:
        t = time.gmtime(instant)
        if t.tm_sec < 60:  # (datetime shows a leap second as :59)
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", t)
    dt = _datetime()
    try:
        d = dt.datetime.fromtimestamp(instant, tz=dt.timezone.utc)
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}Z"
    except (OverflowError, ValueError, OSError):  # beyond what datetime holds: clamp to its edge
        return "9999-12-31T23:59:59Z" if instant > 0 else "0001-01-01T00:00:00Z"


def local_time(instant: int | None, *, never: str = "never") -> str:
    """An instant in the local timezone, "2026-12-01 10:00"; any instant a key can carry
    displays (years past 9999 in this timezone are clamped to its edge, marked with ">")."""
    if instant is None:
        return never
    dt = _datetime()
    try:
        d = dt.datetime.fromtimestamp(instant, tz=dt.timezone.utc).astimezone()
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}"
    except (OverflowError, ValueError, OSError):
        return ">9999-12-31 23:59" if instant > 0 else "<0001-01-01 00:00"


def local_when(record: KeyRecord | None, now: float) -> str:
    """A key's expiry as a user reads it: "2026-12-01 10:00 (in 3d 4h)"."""
    if record is None or record.expires_at is None:
        return "never" if record is not None and record.never_expires else "at an unknown time"
    left = record.expires_at - now
    rel = f"in {countdown(left)}" if left > 0 else f"{countdown(-left)} ago"
    return f"{local_time(record.expires_at)} ({rel})"


def record_json(record: KeyRecord, now: float, thresholds: Thresholds) -> dict:
    status = status_of(record, now, thresholds)
    return {
        "name": record.name,
        "kind": record.kind.value,
        "key_type": record.key_type.value,
        "endpoint": record.endpoint,
        "region": record.region,
        "provider": record.provider,
        "issued_at": iso_utc(record.issued_at),
        "expires_at": iso_utc(record.expires_at),
        "expiry_source": record.expiry_source.value,
        "seconds_left": None if record.expires_at is None else int(record.expires_at - now),
        "status": status.value,
        "fingerprint": record.fingerprint,
        "has_refresh_token": record.has_refresh_token,
        "secret_stored": record.secret_stored,
        "lifecycle": record.lifecycle.value,
        "notes": record.notes,
        "tags": list(record.tags),
        "key_id": record.key_id,
        "role_id": record.role_id,
        "role": record.role_name,
        "description": record.description,
        "synced_at": iso_utc(record.synced_at),
        "revoked_at": iso_utc(record.revoked_at),
    }


def check_exit_code(statuses: Iterable[Status], *, never_is_ok: bool = False) -> ExitCode:
    """Worst wins: 2 critical/expired/revoked, 1 warning (and never-expires), 3 unknown, 0 ok
    (documented in the README; never change their meaning)."""
    code = ExitCode.OK
    for status in statuses:
        if status in (Status.EXPIRED, Status.CRITICAL, Status.REVOKED):
            return ExitCode.CRITICAL
        if status is Status.UNKNOWN:
            code = ExitCode.UNKNOWN
        elif (status is Status.WARNING or (status is Status.NEVER and not never_is_ok)) and code == ExitCode.OK:
            code = ExitCode.WARNING
    return code


def worst(statuses: list[Status]) -> Status:
    return max(statuses, key=SEVERITY.__getitem__, default=Status.OK)
