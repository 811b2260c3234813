"""Snapshot tests of the dashboard at the sizes people use: a narrow 60×20 terminal (the
columns give way by priority), a wide 200×50 one (lifecycle, tags and notes), and the
usual 120×36 with a filter on and the sort reversed (the summary keeps the filter's count
and the sort). Demo keys, a fixed clock and seed, no real secrets.

Update after an intended change with: pytest tests/test_snapshots_dashboard.py --snapshot-update
"""

from __future__ import annotations

from tests.test_snapshots import NOW, SEED, _settle
from tui.app import MomentoKeysApp
from tui.core.clock import ManualClock
from tui.core.model import ExpirySource, KeyRecord, KeyType, Kind, Lifecycle
from tui.factory import demo_keeper

DAY = 86400


def demo_app(*, rotated: bool = False) -> MomentoKeysApp:
    """The demo keys; `rotated`: also the old keys of two rotations, one still in its grace
    window, one retired (as a rotation leaves them: renamed, their secrets gone)."""
    keeper = demo_keeper(ManualClock(NOW), seed=SEED)
    if rotated:
        for name, lifecycle, expires, notes, tags in (
            ("checkout prod (until 2026-11-20)", Lifecycle.PREVIOUS, NOW + 2 * DAY, "ECS task def checkout-svc",
             ["prod"]),
            ("orders-api prod (until 2026-09-19)", Lifecycle.RETIRED, NOW - 60 * DAY, "k8s secret orders/momento",
             ["prod"]),
        ):
            keeper.store.add(KeyRecord(name=name, kind=Kind.V1, key_type=KeyType.FINE_GRAINED,
                                       endpoint="cell-us-east-1-1.prod.a.momentohq.com", region="us-east-1",
                                       issued_at=expires - 30 * DAY, expires_at=expires,
                                       expiry_source=ExpirySource.JWT_EXP, lifecycle=lifecycle, notes=notes,
                                       tags=tags, fingerprint=f"demo-{name}"), now=NOW)
    return MomentoKeysApp(keeper, tick=False, watch_interval=0)


def test_dashboard_narrow(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(60, 20), run_before=_settle)


def test_dashboard_wide(snap_compare):
    assert snap_compare(demo_app(rotated=True), terminal_size=(200, 50), run_before=_settle)


def test_dashboard_filtered_and_reversed(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("o", "slash", *"prod", "enter")
        await _settle(pilot)

    assert snap_compare(demo_app(), terminal_size=(120, 36), run_before=run_before)


async def test_the_summary_counts_retired_keys_apart_and_agrees_with_the_header():
    app = demo_app(rotated=True)
    async with app.run_test(size=(200, 50)) as pilot:
        await _settle(pilot)
        summary = str(app.dashboard.query_one("#summary").render())
        assert summary.startswith("10 keys + 1 retired · "), summary
        assert app.dashboard.sub_title.startswith("11 keys · ")
