"""Timestamps at the edges display in every timezone (a key expiring at 9999-12-31T23:59:59Z
once crashed inspect, import, list and the dashboard east of UTC)."""

from __future__ import annotations

import os
import time

import pytest

from tui.core.report import iso_utc, local_time

EDGES = [253402300799, 253402300799 + 86400, 2**63 - 1, -62135596800, -(2**63), 0, -1, 2**32]


@pytest.fixture(params=["Pacific/Kiritimati", "Asia/Tokyo", "UTC", "America/Los_Angeles", "Pacific/Pago_Pago"])
def zone(request: pytest.FixtureRequest):
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.mark.parametrize("instant", EDGES)
def test_any_instant_displays_in_any_timezone(zone: str, instant: int) -> None:
    shown, iso = local_time(instant), iso_utc(instant)
    assert len(shown.lstrip("<>")) == 16 and shown.lstrip("<>")[4] == "-"
    assert len(iso) == 20 and iso.endswith("Z")


def test_the_last_second_of_9999_is_clamped_only_where_it_overflows(zone: str) -> None:
    assert iso_utc(253402300799) == "9999-12-31T23:59:59Z"
    shown = local_time(253402300799)
    east = zone in ("Pacific/Kiritimati", "Asia/Tokyo")
    assert shown == ">9999-12-31 23:59" if east else shown.startswith("9999-12-31")


def test_years_before_1000_keep_four_digits() -> None:
    assert iso_utc(-62135596800) == "0001-01-01T00:00:00Z"
