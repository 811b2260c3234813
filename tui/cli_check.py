"""What `check` reads, fast: cron runs it every minute, on thousands of keys.

`active_columns` and `column_statuses` give the status of every active key from
the few columns it needs, through `core.policy.band`, without building records;
`in_order` sorts the keys that need attention as the report shows them. The
command itself is `tui.cli.cmd_check` (its command line: tui.cli_argv).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .core.model import Status, Thresholds
    from .services.store import Store

# The columns of a key that `check` reads, in this order ("id" only for --json).
COLUMNS = ("expires_at", "issued_at", "expiry_source", "warning_seconds", "critical_seconds", "name", "id")


def active_columns(store: Store, *, ids: bool = True) -> tuple[list, ...]:
    """`COLUMNS` of every active key (without "id" unless ``ids``), as one list per column:
    the same key at the same index.

    SQLite hands rows to Python one at a time, at about a microsecond each: for 10,000 keys
    one row of JSON arrays (``json_group_array``; every aggregate of a query sees the rows
    in the same order) is read in about half the time.
    """
    import json

    arrays = ", ".join(f"json_group_array({c})" for c in (COLUMNS if ids else COLUMNS[:-1]))
    [row] = store._read(f"SELECT {arrays} FROM keys WHERE lifecycle = 'active'")
    return tuple(json.loads(array) for array in row)


def column_statuses(columns: tuple[list, ...], now: float, thresholds: Thresholds) -> list[Status]:
    """The status of each key of `active_columns`: `core.policy.band` with the key's own
    thresholds over ``thresholds`` (`policy.with_overrides`), as `status_of` gives it for a record."""
    from .core.policy import band, with_overrides

    expires, issued, sources, warnings, criticals = columns[:5]
    own: dict[tuple, Thresholds] = {}  # (warning_seconds, critical_seconds) -> thresholds
    statuses = []
    append = statuses.append
    for expires_at, issued_at, source, warn, crit in zip(expires, issued, sources, warnings, criticals):
        t = thresholds
        if warn is not None or crit is not None:
            t = own.get((warn, crit))  # type: ignore[assignment]
            if t is None:
                t = own[(warn, crit)] = with_overrides(thresholds, warn, crit)
        append(band(expires_at, now, t, issued_at=issued_at, never=expires_at is None and source != "unknown"))
    return statuses


def in_order(flagged: list[int], expires: list, names: list, first: int | None = None) -> list[int]:
    """The keys at indexes ``flagged`` in the order `check` shows them: soonest expiry first,
    never/unknown last, then by name; only the first ``first`` of them if given."""
    if first is not None:
        dated = [expires[i] for i in flagged if expires[i] is not None]
        if len(dated) > first:  # only keys expiring no later than the first-th soonest can be among the first
            dated.sort()
            cut = dated[first - 1]
            flagged = [i for i in flagged if expires[i] is not None and expires[i] <= cut]
    ordered = sorted(flagged, key=lambda i: (expires[i] is None, expires[i] or 0, names[i]))
    return ordered if first is None else ordered[:first]
