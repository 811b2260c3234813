"""Snapshot tests: the screens as a user sees them (demo data, fixed clock, no real secrets).

Update after an intended change with: pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from tui.app import MomentoKeysApp
from tui.core.clock import ManualClock
from tui.factory import demo_keeper
from tui.services.config import Settings
from tui.services.keeper import Keeper
from tui.services.store import Store
from tui.services.vault import MemoryKeyring, Vault

SIZE = (120, 36)
NOW = 1_795_000_000
SEED = 2026


def demo_app(**kw) -> MomentoKeysApp:
    return MomentoKeysApp(demo_keeper(ManualClock(NOW), seed=SEED), tick=False, watch_interval=0, **kw)


async def _settle(pilot) -> None:
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.clear_notifications()
    await pilot.pause()


def test_dashboard(snap_compare):
    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=_settle)


def test_dashboard_empty(snap_compare):
    vault = Vault(MemoryKeyring())
    vault.probe()
    app = MomentoKeysApp(Keeper(Store(":memory:"), vault, Settings(), ManualClock(NOW)), tick=False, watch_interval=0)
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_detail(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("down", "down", "down", "enter")
        await _settle(pilot)

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=run_before)


def test_readonly(snap_compare):
    assert snap_compare(demo_app(readonly=True), terminal_size=SIZE, run_before=_settle)


def test_narrow_terminal_drops_columns(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(70, 24), run_before=_settle)
