"""Counts of keys per status band, kept up to date in O(changes), not O(keys).

Every key's band changes at known instants (warning, critical, expiry), so
the counter keeps those instants in a heap: a one-second tick pops only the
keys whose band actually moved. Building it is O(n); done in a worker.
"""

from __future__ import annotations

import heapq

from .model import KeyRecord, Lifecycle, Status, Thresholds
from .policy import band_changes, status_of, thresholds_for


class BandCounter:
    def __init__(self, records: list[KeyRecord], now: float, default: Thresholds) -> None:
        self.default = default
        self.records = records
        self.counts: dict[Status, int] = {s: 0 for s in Status}
        self.status: list[Status | None] = []
        self.heap: list[tuple[float, int]] = []
        for i, r in enumerate(records):
            if r.lifecycle is Lifecycle.RETIRED:
                self.status.append(None)
                continue
            s = status_of(r, now, default)
            self.status.append(s)
            self.counts[s] += 1
            t = self._next_change(r, now)
            if t is not None:
                self.heap.append((t, i))
        heapq.heapify(self.heap)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def next_change(self) -> float:
        return self.heap[0][0] if self.heap else float("inf")

    def _next_change(self, r: KeyRecord, now: float) -> float | None:
        if r.expires_at is None or r.expires_at <= now:
            return None
        warn, crit = band_changes(r.expires_at, r.issued_at, thresholds_for(r, self.default))
        later = [t for t in (warn, crit, r.expires_at) if t > now]
        return min(later) if later else None

    def advance(self, now: float) -> bool:
        """Move the keys whose band changed by `now`; True if any count changed."""
        changed = False
        while self.heap and self.heap[0][0] <= now:
            _, i = heapq.heappop(self.heap)
            r = self.records[i]
            old = self.status[i]
            new = status_of(r, now, self.default)
            if old is not new and old is not None:
                self.counts[old] -= 1
                self.counts[new] += 1
                self.status[i] = new
                changed = True
            t = self._next_change(r, now)
            if t is not None:
                heapq.heappush(self.heap, (t, i))
        return changed
