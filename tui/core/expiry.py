"""Reading what a user types for an expiry: a duration, a date, or "never".

One parser for the CLI's ``--expires`` and the wizard's custom expiry, so both
accept and refuse the same text with the same sentences.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from datetime import time as dtime

from .limits import DISPOSABLE_MAX_SECONDS, DURATION_MAX_CHARS, UINT32_MAX
from .policy import DurationError, parse_duration

_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2}))?")
NEVER = "never"


class ExpiryError(ValueError):
    """What the user typed is not an expiry Momento takes; the message says what would be."""


def duration(text: str) -> int:
    """``parse_duration`` with a length cap (its regex is slow on huge runs of digits)
    and every failure as an ``ExpiryError``."""
    if len(text) > DURATION_MAX_CHARS:
        raise ExpiryError(f"not a duration: {len(text)} characters is far too long; use a number and a unit "
                          "(s, m, h, d, w, mo, y), such as 14d, 12h or 30m")
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise ExpiryError(str(exc)) from None
    except (ValueError, OverflowError):
        raise ExpiryError("not a duration: its number is far too long; use a number and a unit "
                          "(s, m, h, d, w, mo, y), such as 14d, 12h or 30m") from None


def date_seconds(text: str, now: float) -> int:
    """Seconds from ``now`` until a typed local date: ``2027-03-01`` (the end of that day)
    or ``2027-03-01 14:30``."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise ExpiryError("type a date as YYYY-MM-DD (the end of that day) or YYYY-MM-DD HH:MM")
    y, mo, d, hh, mm = match.groups()
    try:
        day = date(int(y), int(mo), int(d))
    except ValueError:
        raise ExpiryError(f"{text.strip()} is not a real date: {y}-{int(mo):02d} has no day {int(d)}"
                          if 1 <= int(mo) <= 12 else f"{text.strip()} is not a real date: there is no month {mo}"
                          ) from None
    try:
        at = dtime(23, 59, 59) if hh is None else dtime(int(hh), int(mm))
    except ValueError:
        raise ExpiryError(f"{hh}:{mm} is not a time of day (00:00 to 23:59)") from None
    try:
        end = int(datetime.combine(day, at).astimezone().timestamp())  # naive: local time
    except (ValueError, OverflowError, OSError):
        raise ExpiryError(f"{day.isoformat()} is out of range; give a date within the next 100 years, "
                          "or a duration such as 90d") from None
    seconds = end - int(now)
    if seconds <= 0:
        raise ExpiryError(f"{day.isoformat()} is in the past; choose a later date")
    return seconds


def parse_expiry(text: str, now: float, *, disposable: bool = False) -> int | None:
    """Seconds from now that a new key should live, or None for "never".

    Accepts a duration (``90d``, ``12h``, ``1d12h``), a local date (``2027-03-01``,
    ``2027-03-01 14:30``) or ``never``; checks Momento's limits (a disposable token must
    expire within 25 hours; no key lives longer than ``UINT32_MAX`` seconds).
    """
    raw = text.strip()
    if not raw:
        raise ExpiryError("type a duration (90d, 12h), a date (2027-03-01) or never")
    if raw.lower() == NEVER:
        if disposable:
            raise ExpiryError("a disposable token must expire: Momento allows at most 25 hours (such as 1h)")
        return None
    seconds = date_seconds(raw, now) if raw[:1].isdigit() and "-" in raw else duration(raw)
    if disposable and seconds > DISPOSABLE_MAX_SECONDS:
        raise ExpiryError(f"a disposable token may last at most 25 hours (the Momento service's limit), "
                          f"not {seconds / 3600:.4g} hours")
    if seconds > UINT32_MAX:
        raise ExpiryError(f"that is too far away: Momento takes at most {UINT32_MAX} seconds (about 136 years)")
    return seconds
