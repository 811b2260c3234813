from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.core.model import ExpirySource, KeyRecord, Kind, Status, Thresholds
from tui.core.policy import (
    DAY,
    HOUR,
    DurationError,
    band,
    band_changes,
    countdown,
    parse_duration,
    status_of,
    thresholds_for,
)
from tui.core.report import check_exit_code

T = Thresholds()
NOW = 1_800_000_000


@pytest.mark.parametrize(
    "left, status",
    [(30 * DAY, Status.OK), (14 * DAY + 1, Status.OK), (14 * DAY, Status.WARNING), (3 * DAY + 1, Status.WARNING),
     (3 * DAY, Status.CRITICAL), (1, Status.CRITICAL), (0, Status.EXPIRED), (-5, Status.EXPIRED)],
)
def test_absolute_thresholds(left, status):
    assert band(NOW + left, NOW, T) is status


def test_short_lived_keys_use_the_share_of_their_life():
    # A 1-hour token: the 14-day and 3-day absolute rules are longer than its
    # whole life, so they are skipped; it warns at 40 minutes, critical at 54.
    issued = NOW
    assert band(issued + HOUR, NOW + 60, T, issued_at=issued) is Status.OK
    assert band(issued + HOUR, NOW + 40 * 60, T, issued_at=issued) is Status.WARNING
    assert band(issued + HOUR, NOW + 54 * 60, T, issued_at=issued) is Status.CRITICAL
    # A 7-day key: 14 days is skipped, 3 days left applies (before 90 % used).
    assert band(issued + 7 * DAY, NOW + 4 * DAY - 1, T, issued_at=issued) is Status.OK
    assert band(issued + 7 * DAY, NOW + 4 * DAY, T, issued_at=issued) is Status.CRITICAL
    # Without a known lifetime the absolute rules are all there is.
    assert band(NOW + HOUR, NOW, T) is Status.CRITICAL
    # A 365-day key at 70 % of its life with 109 days left is a warning (2/3 used).
    issued = NOW - int(0.7 * 365 * DAY)
    assert band(issued + 365 * DAY, NOW, T, issued_at=issued) is Status.WARNING
    # ... and at 50 % it is fine.
    issued = NOW - int(0.5 * 365 * DAY)
    assert band(issued + 365 * DAY, NOW, T, issued_at=issued) is Status.OK
    # 95 % used of a 2-year key (36 days left): critical by fraction.
    issued = NOW - int(0.95 * 730 * DAY)
    assert band(issued + 730 * DAY, NOW, T, issued_at=issued) is Status.CRITICAL


def test_never_and_unknown():
    assert band(None, NOW, T, never=True) is Status.NEVER
    assert band(None, NOW, T) is Status.UNKNOWN
    r = KeyRecord(name="a", kind=Kind.V1, expiry_source=ExpirySource.JWT_NO_EXP)
    assert status_of(r, NOW, T) is Status.NEVER
    r = KeyRecord(name="b", kind=Kind.V2, expiry_source=ExpirySource.UNKNOWN)
    assert status_of(r, NOW, T) is Status.UNKNOWN


def test_per_key_overrides():
    r = KeyRecord(name="a", kind=Kind.V1, expires_at=NOW + 20 * DAY, expiry_source=ExpirySource.JWT_EXP)
    assert status_of(r, NOW, T) is Status.OK
    r.warning_seconds = 30 * DAY
    assert thresholds_for(r, T).warning_seconds == 30 * DAY
    assert status_of(r, NOW, T) is Status.WARNING
    r.critical_seconds = 21 * DAY
    assert status_of(r, NOW, T) is Status.CRITICAL


def test_band_changes_match_band():
    issued, expires = NOW, NOW + 90 * DAY
    warn, crit = band_changes(expires, issued, T)
    assert band(expires, warn - 1, T, issued_at=issued) is Status.OK
    assert band(expires, warn, T, issued_at=issued) is Status.WARNING
    assert band(expires, crit - 1, T, issued_at=issued) is Status.WARNING
    assert band(expires, crit, T, issued_at=issued) is Status.CRITICAL


@pytest.mark.parametrize(
    "seconds, text",
    [(42, "42s"), (59 * 60 + 12, "59m 12s"), (3 * DAY + 4 * HOUR, "3d 4h"), (14 * DAY, "14d"),
     (330 * DAY, "11mo"), (400 * DAY, "1y 1mo"), (-90, "-1m 30s"), (None, "never"), (5 * HOUR, "5h")],
)
def test_countdown(seconds, text):
    assert countdown(seconds) == text


def test_precise_countdown_ticks_every_second():
    assert countdown(16 * HOUR + 42 * 60 + 5, precise=True) == "16h 42m 05s"
    assert countdown(16 * HOUR + 42 * 60 + 4, precise=True) == "16h 42m 04s"


@pytest.mark.parametrize("text, seconds", [("14d", 14 * DAY), ("12h", 12 * HOUR), ("30m", 1800), ("1d12h", 36 * HOUR),
                                           ("2w", 14 * DAY), (" 90s ", 90), ("1mo", 30 * DAY), ("1y", 365 * DAY),
                                           ("3D", 3 * DAY)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "14", "d", "14x", "-3d", "0d", "1d garbage", "1000y", "1.5d"])
def test_parse_duration_rejects(text):
    with pytest.raises(DurationError) as info:
        parse_duration(text)
    assert "\n" not in str(info.value)


@given(st.text(max_size=60))
def test_parse_duration_never_crashes(text):
    try:
        value = parse_duration(text)
    except DurationError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert value > 0


@given(st.integers(min_value=-10 * 365 * DAY, max_value=200 * 365 * DAY))
def test_countdown_is_short_for_any_span(seconds):
    text = countdown(seconds)
    assert 1 <= len(text) <= 12


def test_check_exit_codes_worst_wins():
    assert check_exit_code([]) == 0
    assert check_exit_code([Status.OK, Status.OK]) == 0
    assert check_exit_code([Status.OK, Status.WARNING]) == 1
    assert check_exit_code([Status.NEVER]) == 1
    assert check_exit_code([Status.NEVER], never_is_ok=True) == 0
    assert check_exit_code([Status.WARNING, Status.UNKNOWN]) == 3
    assert check_exit_code([Status.UNKNOWN, Status.CRITICAL]) == 2
    assert check_exit_code([Status.EXPIRED, Status.OK]) == 2


@pytest.mark.parametrize("text", ["9" * 5000 + "d", "1" * 13 + "d", "1d" * 40])
def test_huge_durations_are_refused_quickly(text):
    with pytest.raises(DurationError):
        parse_duration(text)


def test_explicit_thresholds_of_a_run_stay_explicit_for_keys_with_their_own() -> None:
    """`check --warn 2h` applies to every key, also one that has only its own critical threshold:
    a 1-hour token half used is then a warning (the global 2h alone would be skipped, being
    longer than the key's life)."""
    now = 1_800_000_000
    token = KeyRecord(name="t", kind=Kind.V1, issued_at=now - 1800, expires_at=now + 1800,
                      expiry_source=ExpirySource.JWT_EXP, critical_seconds=60)
    explicit = Thresholds(warning_seconds=7200, warning_explicit=True)
    assert status_of(token, now, explicit) is Status.WARNING
    assert status_of(token, now, Thresholds(warning_seconds=7200)) is Status.OK
