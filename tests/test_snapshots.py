"""Snapshot tests: the screens as a user sees them (demo data, fixed clock, no real secrets).

Update after an intended change with: pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from tests.conftest import ENDPOINT
from tests.fake_account import OPERATOR, OWNER, VIEWER, FakeAccount
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
DAY = 86400


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


def synced_demo_keeper(server: FakeAccount, clock: ManualClock) -> Keeper:
    """The demo keys, three v2 keys made through the (fake, local) account API with their
    roles, one of them since revoked in the console, and the account synced: its other keys
    are listed without their secrets. (scripts/screenshots.py builds the same.)"""
    from tui.services.account import client_for
    from tui.services.issuing import Issuer
    from tui.services.sync import sync

    keeper = demo_keeper(clock, seed=SEED)
    api = client_for(server.acting_key(OWNER, "ci bootstrap"), acting="ci bootstrap", base_url=server.url,
                     timeout=5)
    made = {}
    for name, role_id, role_name, life in [("platform admin", OWNER, "Owner", None),
                                           ("orders-api v2", OPERATOR, "Operator", 90 * DAY),
                                           ("reporting v2", VIEWER, "Viewer", 30 * DAY)]:
        issued = Issuer(keeper).generate_v2(api, name, role_id=role_id, description=name, endpoint=ENDPOINT,
                                            expiry="never" if life is None else NOW - 20 * DAY + life,
                                            role_name=role_name)
        assert issued.record is not None
        made[name] = issued.record
    server.remove(made["reporting v2"].key_id)  # revoked in the console
    server.add_keys(3, role_id=VIEWER, prefix="grafana", lifetime=12 * DAY, issued_at=NOW - 10 * DAY)
    sync(keeper, api)
    api.close()
    return keeper


def test_synced_dashboard(snap_compare):
    clock = ManualClock(NOW)
    with FakeAccount(now=clock.now) as server:
        app = MomentoKeysApp(synced_demo_keeper(server, clock), tick=False, watch_interval=0)
        assert snap_compare(app, terminal_size=SIZE, run_before=_settle)
