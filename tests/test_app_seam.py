"""The app's seam with its screens: typed services, ticks only for screens that are set up,
workers that never take the app down, user text shown as text (Pilot)."""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import stat
import time
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input, Static
from textual.worker import WorkerCancelled

from tests.conftest import NOW, console_json, make_v1
from tests.fake_momento import FakeMomento
from tui.app import MomentoKeysApp
from tui.core.clock import ManualClock
from tui.core.keys import inspect_text
from tui.core.model import KeyType
from tui.factory import build_app
from tui.screens.detail import DetailScreen
from tui.screens.reminders import RemindersScreen
from tui.screens.rotate import RotateScreen, save_folder
from tui.services.config import Settings
from tui.services.context import Services
from tui.services.keeper import Keeper
from tui.services.momento import MomentoApi
from tui.services.recovery import rescue_dir
from tui.services.store import Store
from tui.services.vault import MemoryKeyring, Vault, VaultError
from tui.widgets.confirm import ConfirmScreen

DAY = 86400
SIZE = (120, 36)
ODD_NAMES = ["ci token [/]", "[@click=app.quit]x", "[staging] payments"]


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def screen_text(app: MomentoKeysApp) -> str:
    """What the terminal shows now (from Textual's own screenshot of the screen)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def messages(app: MomentoKeysApp) -> list[str]:
    return [n.message for n in app._notifications]


def seed(keeper: Keeper, name: str, *, left: int, life: int = 90 * DAY, notes: str = "", refresh: str | None = None):
    key = make_v1(issued=NOW + left - life, expires=NOW + left)
    text = console_json(key, NOW + left, refresh) if refresh else key
    return keeper.import_key(inspect_text(text), name, notes=notes).record


# ---- the services ------------------------------------------------------------------------------

async def test_the_factory_hands_the_app_its_services(keeper: Keeper):
    app = build_app(keeper, readonly=True, tick=False, watch_interval=0)
    assert isinstance(app.services, Services) and app.services.keeper is keeper
    assert app.services.readonly and app.readonly
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.dashboard.services is app.services


# ---- the tick reaches only screens that are set up ----------------------------------------------

@pytest.mark.slow
async def test_opening_and_closing_the_detail_view_fifty_times_quickly_never_crashes(keeper: Keeper, clock):
    for i in range(3):
        seed(keeper, f"key {i}", left=(i + 1) * DAY, refresh=f"rt-{i}-abcdefghijklmnop")
    app = MomentoKeysApp(keeper, watch_interval=0.05)  # the real one-second tick, and a busy poller
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # As a person would, 50 times in a row, with a tick each time and no pause.
        for _ in range(50):
            await pilot.press("enter", "escape")
            app.tick()
        assert app.screen is app.dashboard
        # Faster than the app can open a screen (key repeat, or keys arriving in one read):
        # each Esc lands on a screen still being built, each Enter while one is opening.
        for i in range(50):
            app.post_message(events.Key("enter", "\r"))
            await asyncio.sleep(0.001 * (i % 7))
            app.post_message(events.Key("escape", "\x1b"))
            clock.advance(1)
            app.tick()
            if i % 10 == 0:
                app.load_records()
        for _ in range(5):
            await quiet(pilot)
        assert app.is_running and len(app.screen_stack) <= 2  # (the last Enter may open one)
        assert all(isinstance(s, DetailScreen) and s.ready for s in app.screen_stack[1:])
        assert not [m for m in messages(app) if "bug" in m]
    assert app.return_code in (None, 0)


async def quiet(pilot) -> None:
    """Workers done and the screen settled (a cancelled worker is no failure here)."""
    try:
        await pilot.app.workers.wait_for_complete()
    except WorkerCancelled:
        pass
    await pilot.pause(0.1)


async def test_a_reload_refreshes_an_open_detail_view_and_a_delete_closes_it(keeper: Keeper):
    record = seed(keeper, "renamed soon", left=10 * DAY)
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_open_detail(record.id)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.ready
        keeper.edit(record, name="renamed")
        app.load_records()
        await settle(pilot)
        assert screen.record.name == "renamed" and "renamed" in str(screen.query_one("#identity").render())
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#yes")
        await settle(pilot)
        assert app.screen is app.dashboard
        assert any("Deleted 'renamed'" in m for m in messages(app))


# ---- workers show errors and keep the app up -----------------------------------------------------

class RefusingKeyring(MemoryKeyring):
    """Reads work; the keyring refuses to give a secret back (a locked collection)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("the collection is locked")


async def test_worker_errors_are_shown_with_the_keys_name(keeper: Keeper, memory_keyring, monkeypatch):
    seed(keeper, "orders prod", left=30 * DAY)
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        def locked(fingerprint):
            raise VaultError("the keyring is locked: unlock it and try again")

        monkeypatch.setattr(keeper.vault, "get", locked)
        await pilot.press("c")
        await settle(pilot)
        assert any(m.startswith("orders prod: ") and "locked" in m for m in messages(app)), messages(app)

        def broken(*args, **kwargs):  # a bug, not something the user did
            raise ZeroDivisionError("oops")

        monkeypatch.setattr(keeper, "delete", broken)
        await pilot.press("d")
        await pilot.click("#yes")
        await settle(pilot)
        assert app.is_running and keeper.store.find("orders prod") is not None
        assert any("orders prod: unexpected error (ZeroDivisionError" in m and "bug" in m for m in messages(app))
    assert app.return_code in (None, 0)


async def test_rotate_with_a_bad_endpoint_override_says_so(keeper: Keeper, monkeypatch):
    seed(keeper, "refreshable", left=20 * DAY, refresh="rt-abcdefghijklmnopqrst")
    monkeypatch.setenv("MOMENTO_KEYS_ENDPOINT_OVERRIDE", "not a host:port")
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)  # the default Momento client
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, RotateScreen)
        await pilot.click("#go")
        await settle(pilot)
        body = str(dialog.query_one("#rotate-body", Static).render())
        assert "MOMENTO_KEYS_ENDPOINT_OVERRIDE" in body and not dialog.running
        assert any(m.startswith("refreshable: ") for m in messages(app))
        await pilot.press("escape")
        assert app.screen is app.dashboard and app.is_running


# ---- the rotate dialog when the new key cannot be stored ---------------------------------------

@pytest.fixture
def live_keeper(db_path) -> Keeper:
    vault = Vault(MemoryKeyring())
    vault.probe()
    return Keeper(Store(db_path), vault, Settings(), ManualClock(time.time()))


def refusing_writes(keeper: Keeper) -> None:
    """From now on the keyring refuses every write (as a locked or full one would)."""
    def refuse(*args, **kwargs):
        raise RuntimeError("the keyring refused the write")

    keeper.vault.backend.set_password = refuse  # type: ignore[method-assign]


def rotation_app(keeper: Keeper, fake_momento: FakeMomento) -> MomentoKeysApp:
    key, refresh = fake_momento.issue_key(valid_for_seconds=2 * DAY)
    keeper.import_key(inspect_text(console_json(key, inspect_text(key).expires_at, refresh)), "orders",
                      key_type=KeyType.FINE_GRAINED)
    return build_app(keeper, tick=False, watch_interval=0,
                     api_factory=lambda: MomentoApi(override=fake_momento.override, timeout=5, retries=1))


async def rotate_now(pilot) -> RotateScreen:
    await settle(pilot)
    await pilot.press("R")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, RotateScreen)
    await pilot.click("#go")
    await settle(pilot)
    return dialog


async def test_rotation_whose_new_key_is_rescued_says_where_and_how_to_import_it(
        live_keeper: Keeper, fake_momento: FakeMomento):
    app = rotation_app(live_keeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        refusing_writes(live_keeper)
        dialog = await rotate_now(pilot)
        [rescued] = list(rescue_dir(live_keeper.store.path).iterdir())
        body = str(dialog.query_one("#rotate-body", Static).render())
        assert str(rescued) in body
        assert (f"momento-keys import --name 'orders (new)' --replaces orders --type fine-grained "
                f"--file {rescued}") in " ".join(body.split())
        # Kept in a file: nothing to copy or save here, and the dialog closes.
        assert not dialog.query_one("#save-rescue").display and not dialog.query_one("#copy-rescue").display
        await pilot.press("escape")
        assert app.screen is app.dashboard
    doc = json.loads(rescued.read_text())
    assert doc["apiKey"] and doc["refreshToken"] and doc["validUntil"] > 0
    assert stat.S_IMODE(os.stat(rescued).st_mode) == 0o600


async def test_rotation_whose_new_key_is_nowhere_else_offers_save_as_in_the_downloads_folder(
        live_keeper: Keeper, fake_momento: FakeMomento, tmp_path: Path):
    app = rotation_app(live_keeper, fake_momento)
    rescue = rescue_dir(live_keeper.store.path)
    rescue.parent.mkdir(parents=True, exist_ok=True)
    rescue.write_text("not a folder")  # so no rescue file can be written either
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        refusing_writes(live_keeper)
        dialog = await rotate_now(pilot)
        assert dialog.unkept is not None
        path_box = dialog.query_one("#rescue-path", Input)
        assert path_box.display and Path(path_box.value).parent == save_folder() != Path.cwd()
        await pilot.press("escape")  # not yet: the key is nowhere else
        assert app.screen is dialog
        target = tmp_path / "saved" / "orders-new.json"
        target.parent.mkdir()
        path_box.value = str(target)
        await pilot.click("#save-rescue")
        await settle(pilot)
        body = " ".join(str(dialog.query_one("#rotate-body", Static).render()).split())
        assert str(target) in body and f"--file {target}" in body
        assert any(f"Saved the new key of 'orders' to {target}" in m for m in messages(app))
        # Saving again refuses to replace the file.
        dialog.save_unkept(_issued_of(target), target)
        await settle(pilot)
        assert any("already exists" in m for m in messages(app))
        await pilot.press("escape")
        assert app.screen is app.dashboard
    doc = json.loads(target.read_text())
    assert doc["apiKey"] and doc["refreshToken"]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def _issued_of(target: Path):
    """(The dialog forgets the key once saved: rebuild what it held, for the second save.)"""
    from tui.services.issuing import Issued
    from tui.services.momento import GeneratedKey

    doc = json.loads(target.read_text())
    return Issued(GeneratedKey(doc["apiKey"], doc.get("refreshToken"), doc.get("endpoint", ""), doc["validUntil"]),
                  "orders (new)")


# ---- user text is text, never markup ------------------------------------------------------------

async def test_names_that_look_like_markup_are_shown_as_written(keeper: Keeper):
    seed(keeper, ODD_NAMES[0], left=60 * DAY, notes="[b]not bold[/b]")
    seed(keeper, ODD_NAMES[1], left=50 * DAY, notes="[$accent]x")
    seed(keeper, ODD_NAMES[2], left=10 * DAY, life=20 * DAY, notes="[red]orders-svc")  # a reminder due
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert all(name in shown for name in ODD_NAMES), shown
        names = [r.name for r in app.table.rows]
        for name in ODD_NAMES:
            app.table.cursor = names.index(name)
            await pilot.pause()
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, DetailScreen)
            assert name in screen_text(app)
            assert name in str(app.screen.query_one("#identity", Static).render())
            await pilot.press("escape")
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmScreen) and name in screen_text(app)
            await pilot.press("escape")
            await pilot.press("c")
            await settle(pilot)
            assert any(f"Copied the key of {name!r}" in m for m in messages(app))
            assert app.screen is app.dashboard
        assert any("[staging] payments" in m for m in messages(app))  # "1 reminder due: …"
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RemindersScreen)
        shown = screen_text(app)
        assert "[staging] payments" in shown and "[red]orders-svc" in shown
        await pilot.press("escape")
        for query, name in (("staging", ODD_NAMES[2]), ("click", ODD_NAMES[1]), ("token", ODD_NAMES[0])):
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*query)
            await pilot.pause(0.3)
            assert name in screen_text(app), query
            await pilot.press("escape")
            await pilot.pause()
        assert app.is_running
        # The palette opens a key by its name.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"staging] pay")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.record.name == ODD_NAMES[2]
    assert app.return_code in (None, 0)


async def test_an_import_that_fails_says_why_in_the_dialog_and_a_notification(keeper: Keeper):
    seed(keeper, "taken [name]", left=30 * DAY)
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        dialog = app.screen
        dialog.query_one("#key", Input).value = make_v1()
        dialog.query_one("#name", Input).value = "taken [name]"
        await pilot.pause()
        await pilot.click("#import")
        await settle(pilot)
        assert app.screen is dialog  # still open, the typed key kept
        error = str(dialog.query_one("#error", Static).render())
        assert error.startswith("Not imported: taken [name]: ") and "taken [name]" in error
        assert any(m.startswith("taken [name]: ") for m in messages(app))
    assert keeper.store.count() == 1
