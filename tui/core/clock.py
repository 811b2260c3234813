"""The one place that reads the time.

Everything that needs "now" receives a Clock. Tests inject a ManualClock and
advance it; the app and CLI use SystemClock. Instants are Unix epoch seconds
(UTC) as ints, like the database.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs a few milliseconds of every CLI start (cron runs `check` each minute)
    from typing import Protocol
else:
    Protocol = object


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to (tests, screenshots, benchmarks)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, instant: float) -> None:
        self._now = float(instant)
