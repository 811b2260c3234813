"""Reminders panel, rotation and timeline in the dashboard (Pilot)."""

from __future__ import annotations

import time

import pytest
from textual.widgets import DataTable, Static

from tests.conftest import NOW, console_json, make_v1
from tests.fake_momento import FakeMomento
from tui.app import MomentoKeysApp
from tui.core.clock import ManualClock
from tui.core.keys import inspect_text
from tui.core.model import KeyType, Lifecycle
from tui.core.reminders import ReminderState
from tui.screens.detail import DetailScreen
from tui.screens.import_key import ImportScreen
from tui.screens.reminders import RemindersScreen
from tui.screens.rotate import RotateScreen
from tui.screens.timeline import TimelineScreen
from tui.services.config import Settings
from tui.services.keeper import Keeper
from tui.services.momento import MomentoApi
from tui.services.store import Store
from tui.services.vault import MemoryKeyring, Vault

DAY = 86400
SIZE = (120, 36)


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def seed(keeper: Keeper, name: str, *, issued: int, expires: int | None, notes: str = ""):
    return keeper.import_key(inspect_text(make_v1(issued=issued, expires=expires)), name, notes=notes).record


async def test_reminders_panel_due_first_snooze_dismiss(keeper: Keeper, clock):
    seed(keeper, "due soon", issued=NOW - 20 * DAY, expires=NOW + 10 * DAY, notes="orders-svc")
    seed(keeper, "fine", issued=NOW, expires=NOW + 90 * DAY)
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "1 reminder due" in str(app.dashboard.query_one("#summary").render())
        assert any("1 reminder due: due soon" in n.message for n in app._notifications)
        await pilot.press("r")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RemindersScreen)
        table = screen.query_one(DataTable)
        first = [str(c) for c in table.get_row_at(0)]
        assert "DUE" in first[0] and first[2] == "due soon" and first[4] == "orders-svc"
        assert "warning band" in str(screen.query_one("#reminder-message", Static).render())
        await pilot.press("z")
        await settle(pilot)
        [rem] = [r for r in keeper.store.reminders() if r.key_name == "due soon" and r.kind.value == "warning"]
        assert rem.state is ReminderState.SNOOZED and rem.snoozed_until == NOW + DAY
        assert "0 due" in str(screen.query_one("#reminders-summary", Static).render())
        clock.advance(DAY + 1)
        screen.load()
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert keeper.store.reminders(open_only=False)[0].state in (ReminderState.DISMISSED,
                                                                    ReminderState.PENDING, ReminderState.SNOOZED)
        dismissed = [r for r in keeper.store.reminders(open_only=False) if r.state is ReminderState.DISMISSED]
        assert [(r.key_name, r.kind.value) for r in dismissed] == [("due soon", "warning")]
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)


@pytest.fixture
def live_keeper(db_path) -> Keeper:
    vault = Vault(MemoryKeyring())
    vault.probe()
    return Keeper(Store(db_path), vault, Settings(), ManualClock(time.time()))


async def test_rotate_from_the_dashboard(live_keeper: Keeper, fake_momento: FakeMomento):
    key, refresh = fake_momento.issue_key(valid_for_seconds=2 * DAY)
    exp = inspect_text(key).expires_at
    live_keeper.import_key(inspect_text(console_json(key, exp, refresh)), "orders", key_type=KeyType.FINE_GRAINED)
    app = MomentoKeysApp(live_keeper, tick=False, watch_interval=0,
                         api_factory=lambda: MomentoApi(override=fake_momento.override, timeout=5, retries=1))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, RotateScreen)
        assert "keeps working until" in str(dialog.query_one("#rotate-body", Static).render())
        await pilot.click("#go")
        await settle(pilot)
        body = str(dialog.query_one("#rotate-body", Static).render())
        assert "Rotated 'orders'" in body, body
        # In words: the new key works (not verify's jargon, "stored and restricted").
        assert "the new key is stored and works" in body and "restricted" not in body, body
        await pilot.press("escape")
        await settle(pilot)
        names = [r.name for r in app.table.rows]
        assert "orders" in names and len(names) == 2
        # The detail view shows both generations and the old key's grace window.
        app.table.cursor = names.index("orders")
        await pilot.press("enter")
        await settle(pilot)
        lineage = str(app.screen.query_one("#lineage", Static).render())
        assert "previous" in lineage and "grace window" in lineage and "▶ 2. orders" in lineage
    assert fake_momento.calls("RefreshApiToken")[0][0].refresh_token == refresh
    new = live_keeper.store.find("orders")
    assert new.predecessor_id is not None
    assert live_keeper.store.get(new.predecessor_id).lifecycle is Lifecycle.PREVIOUS


async def test_manual_rotation_offers_import_of_the_replacement(keeper: Keeper):
    seed(keeper, "no refresh", issued=NOW - DAY, expires=NOW + 20 * DAY)
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        body = str(app.screen.query_one("#rotate-body", Static).render())
        assert "Rotate it by hand" in body and "without a refresh token" in body
        await pilot.click("#manual-import")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen) and app.screen.replaces.name == "no refresh"


async def test_timeline_shows_busy_weeks(keeper: Keeper):
    for i in range(5):
        seed(keeper, f"busy {i}", issued=NOW - DAY, expires=NOW + 15 * DAY + i * 3600)
    seed(keeper, "later", issued=NOW - DAY, expires=NOW + 60 * DAY)
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TimelineScreen)
        text = str(app.screen.query_one("#timeline", Static).render())
        assert "Next 90 days" in text
        busy = [line for line in text.splitlines() if "5 expiries" in line]
        assert len(busy) == 1 and "busiest" in busy[0] and "█" in busy[0]
        assert any("1 expiry" in line for line in text.splitlines())
        listing = str(app.screen.query_one("#timeline-list", Static).render())
        assert "busy 0" in listing and "later" in listing
