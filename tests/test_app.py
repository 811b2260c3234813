"""The dashboard, driven through Textual's Pilot."""

from __future__ import annotations

from textual.widgets import Input, Static

from tests.conftest import NOW, console_json, make_v1
from tui.app import MomentoKeysApp
from tui.core.keys import inspect_text
from tui.core.model import KeyType
from tui.messages import RecordsLoaded
from tui.screens.detail import DetailScreen
from tui.screens.edit import EditScreen
from tui.screens.help import HelpScreen
from tui.screens.import_key import ImportScreen
from tui.services.keeper import Keeper
from tui.services.store import Store
from tui.services.vault import SERVICE, Health, Vault
from tui.widgets.confirm import ConfirmScreen
from tui.widgets.key_table import KeyTable

DAY = 86400
SIZE = (120, 36)


def row_text(table: KeyTable, y: int) -> str:
    return "".join(seg.text for seg in table.render_line(y))


def summary_text(app: MomentoKeysApp) -> str:
    return str(app.dashboard.query_one("#summary").render())


def make_app(keeper: Keeper, **kw) -> MomentoKeysApp:
    return MomentoKeysApp(keeper, tick=False, watch_interval=0, **kw)


async def settle(pilot, app: MomentoKeysApp) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def seed(keeper: Keeper, name: str, *, left: int, life: int = 90 * DAY, refresh: str | None = None, **kw):
    key = make_v1(issued=NOW + left - life, expires=NOW + left)
    text = console_json(key, NOW + left, refresh) if refresh else key
    return keeper.import_key(inspect_text(text), name, **kw).record


async def test_countdown_advances_with_the_clock(keeper: Keeper, clock):
    seed(keeper, "soon", left=3600 + 5)
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        table = app.table
        assert "1h 00m 05s" in row_text(table, 0)
        clock.advance(1)
        app.tick()
        assert "1h 00m 04s" in row_text(table, 0)
        clock.advance(3600 + 10)
        app.tick()
        await settle(pilot, app)
        line = row_text(table, 0)
        assert "EXPIRED" in line and "6s ago" in line
        assert "1 expired" in summary_text(app)


async def test_rows_sorted_by_soonest_expiry_with_status_text(keeper: Keeper):
    seed(keeper, "later", left=60 * DAY, life=61 * DAY)
    seed(keeper, "warn", left=10 * DAY, life=20 * DAY)
    seed(keeper, "crit", left=2 * DAY, life=5 * DAY)
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        lines = [row_text(app.table, y) for y in range(3)]
        assert ["crit" in lines[0], "warn" in lines[1], "later" in lines[2]] == [True] * 3
        assert "◆ CRITICAL" in lines[0] and "▲ WARNING" in lines[1] and "● OK" in lines[2]
        await pilot.press("s")  # status
        assert app.table.sort == "status"
        await pilot.press("s")  # name
        assert [r.name for r in app.table.rows] == ["crit", "later", "warn"]


async def test_filter(keeper: Keeper):
    seed(keeper, "orders prod", left=30 * DAY, notes="k8s orders")
    seed(keeper, "checkout staging", left=40 * DAY)
    seed(keeper, "orders staging", left=50 * DAY)
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("slash")
        box = app.screen.query_one("#filter", Input)
        assert box.has_focus
        await pilot.press(*"orders")
        assert [r.name for r in app.table.rows] == ["orders prod", "orders staging"]
        await pilot.press("space", *"staging")
        assert [r.name for r in app.table.rows] == ["orders staging"]
        await pilot.pause()
        assert "1 of 3 shown" in str(app.screen.query_one("#summary").render())
        await pilot.press("escape")
        assert len(app.table.rows) == 3 and not box.display


async def test_detail_reveal_remasks_and_copy(keeper: Keeper, clock):
    r = seed(keeper, "orders prod", left=30 * DAY, refresh="rt-abcdefghijklmnop", key_type=KeyType.FINE_GRAINED)
    secret = keeper.vault.get(r.fingerprint)
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        box = screen.query_one("#secret", Static)
        assert secret not in str(box.render())
        await pilot.press("r")
        await settle(pilot, app)
        assert screen.revealed == secret and secret in str(box.render())
        # The reveal hides itself (the timer fires; here we fire it).
        screen.hide()
        assert secret not in str(box.render())
        await pilot.press("c")
        await settle(pilot, app)
        assert app.clipboard == secret
        assert any("Copied the key of 'orders prod'" in n.message for n in app._notifications)
        actions = [e.action for e in keeper.store.events(r.id)]
        assert actions[:2] == ["copied", "revealed"]
        # Clearing: the timer's callback empties the clipboard.
        app._clear_clipboard("orders prod", secret, app._copy_generation, False)
        assert app.clipboard == ""
        await pilot.press("escape")
        assert app.screen is app.dashboard


async def test_leaving_detail_hides_a_revealed_key(keeper: Keeper):
    seed(keeper, "a", left=30 * DAY)
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("enter", "r")
        await settle(pilot, app)
        screen = app.screen
        assert screen.revealed
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert screen.revealed is None


async def test_import_dialog_paste(keeper: Keeper, memory_keyring):
    app = make_app(keeper)
    key = make_v1(expires=NOW + 20 * DAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.screen.query_one("#empty").display  # empty state first
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        dialog = app.screen
        dialog.query_one("#key", Input).value = "  " + key + "\n"
        await pilot.pause()
        assert "us-west-2" in str(dialog.query_one("#preview", Static).render())
        dialog.query_one("#name", Input).value = "pasted prod"
        dialog.query_one("#notes", Input).value = "lambda env"
        await pilot.pause()
        await pilot.click("#import")
        await settle(pilot, app)
        assert not isinstance(app.screen, ImportScreen)
    r = keeper.store.find("pasted prod")
    assert r is not None and r.secret_stored and r.notes == "lambda env"
    assert memory_keyring.entries[(SERVICE, f"key:{r.fingerprint}")] == key


async def test_import_dialog_file_and_errors(keeper: Keeper, tmp_path):
    good = tmp_path / "key.json"
    good.write_text(console_json(make_v1(), NOW + 9 * DAY, "rt-xyz"))
    bad = tmp_path / "broken.json"
    bad.write_text("{\"apiKey\": ")
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("i")
        dialog = app.screen
        key_input = dialog.query_one("#key", Input)
        key_input.value = "garbage"
        await pilot.pause()
        assert "not a Momento" in str(dialog.query_one("#preview", Static).render())
        assert dialog.query_one("#import").disabled
        key_input.value = str(bad)
        await settle(pilot, app)  # (files are read in a worker)
        assert "JSON" in str(dialog.query_one("#preview", Static).render())
        key_input.value = str(tmp_path / "missing.json")
        await settle(pilot, app)
        assert "no such file" in str(dialog.query_one("#preview", Static).render())
        key_input.value = str(good)
        await settle(pilot, app)
        assert "refresh token included" in str(dialog.query_one("#preview", Static).render())
        # No name yet: a clear message, nothing stored.
        await pilot.click("#import")
        await pilot.pause()
        assert "name" in str(dialog.query_one("#error", Static).render())
        assert keeper.store.count() == 0
        dialog.query_one("#name", Input).value = "from file"
        await pilot.pause(0.3)  # a button ignores a second click while it shows the first
        await pilot.click("#import")
        await settle(pilot, app)
    r = keeper.store.find("from file")
    assert r is not None and r.has_refresh_token and r.expires_at == NOW + 9 * DAY


async def test_import_into_insecure_keyring_asks_first(store: Store, clock, tmp_path):
    from keyrings.alt.file import PlaintextKeyring

    kr = PlaintextKeyring()
    kr.file_path = str(tmp_path / "plain.cfg")
    vault = Vault(kr)
    keeper = Keeper(store, vault, clock=clock)
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert vault.status.health is Health.INSECURE
        banner = app.screen.query_one("#banner", Static)
        assert banner.display and "not secure" in str(banner.render())
        await pilot.press("i")
        dialog = app.screen
        dialog.query_one("#key", Input).value = make_v1()
        dialog.query_one("#name", Input).value = "x"
        await pilot.pause()
        await pilot.click("#import")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#no")  # "Metadata only"
        await settle(pilot, app)
    r = keeper.store.find("x")
    assert r is not None and not r.secret_stored
    assert not (tmp_path / "plain.cfg").exists() or "x" not in (tmp_path / "plain.cfg").read_text()


async def test_delete_asks_then_removes_record_and_keyring_entry(keeper: Keeper, memory_keyring):
    r = seed(keeper, "doomed", left=30 * DAY)
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # the focused button is Cancel
        await settle(pilot, app)
        assert keeper.store.find("doomed") is not None
        await pilot.press("d")
        await pilot.click("#yes")
        await settle(pilot, app)
        assert keeper.store.find("doomed") is None
        assert memory_keyring.entries == {}
        assert app.screen.query_one("#empty").display
        assert any("Deleted 'doomed'" in n.message for n in app._notifications)
    assert keeper.store.events(r.id)[0].action == "deleted"


async def test_edit_name_notes_tags_and_thresholds(keeper: Keeper):
    seed(keeper, "old", left=20 * DAY, life=21 * DAY)
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert "OK" in row_text(app.table, 0)
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, EditScreen)
        dialog.query_one("#name", Input).value = "new"
        dialog.query_one("#tags", Input).value = "prod, eu"
        dialog.query_one("#warning", Input).value = "30d"
        dialog.query_one("#critical", Input).value = "oops"
        await pilot.click("#save")
        await pilot.pause()
        assert "not a duration" in str(dialog.query_one("#error", Static).render())
        dialog.query_one("#critical", Input).value = ""
        await pilot.pause(0.3)  # a button ignores a second click while it shows the first
        await pilot.click("#save")
        await settle(pilot, app)
        assert "WARNING" in row_text(app.table, 0) and "new" in row_text(app.table, 0)
    r = keeper.store.find("new")
    assert r.tags == ["prod", "eu"] and r.warning_seconds == 30 * DAY


class ExplodingKeyring:
    """A backend that fails the test if anything touches it."""

    def __getattr__(self, name):
        raise AssertionError(f"the keyring was touched: {name}")


async def test_readonly_never_touches_keyring_and_refuses_changes(store: Store, clock):
    Keeper(store, Vault(__import__("tui.services.vault", fromlist=["x"]).MemoryKeyring(), allow_insecure=True),
           clock=clock)
    keeper = Keeper(store, Vault(ExplodingKeyring()), clock=clock)
    keeper.vault.status = keeper.vault.status  # unchecked
    seed_keeper = Keeper(store, Vault(__import__("tui.services.vault", fromlist=["x"]).MemoryKeyring()), clock=clock)
    seed_keeper.vault.probe()
    seed(seed_keeper, "shared", left=5 * DAY)
    app = make_app(keeper, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert "READ-ONLY" in app.dashboard.sub_title
        for key in ("i", "d", "e", "c"):
            await pilot.press(key)
            await settle(pilot, app)
            assert app.screen is app.dashboard
        await pilot.press("enter", "r", "c")
        await settle(pilot, app)
        assert isinstance(app.screen, DetailScreen) and app.screen.revealed is None
    assert keeper.store.find("shared") is not None


async def test_empty_state_and_help(keeper: Keeper):
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        empty = app.screen.query_one("#empty", Static)
        assert empty.display and "Press i to import" in str(empty.render()).replace("[b]", "").replace("[/b]", "")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is app.dashboard


async def test_changes_by_other_processes_appear(keeper: Keeper, db_path, clock):
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        other = Keeper(Store(db_path), keeper.vault, clock=clock)
        seed(other, "from the cli", left=10 * DAY)
        for _ in range(50):
            await pilot.pause(0.05)
            if app.table.rows:
                break
        assert [r.name for r in app.table.rows] == ["from the cli"]


async def test_command_palette_lists_import(keeper: Keeper):
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"import a key")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ImportScreen)


async def test_ten_thousand_rows_tick_repaints_only_what_changed(keeper: Keeper, clock, monkeypatch):
    from tui.core.model import ExpirySource, KeyRecord, Kind, Thresholds
    from tui.core.roster import Roster

    # 10,000 keys expiring within the next few hours: every visible countdown
    # changes each second, the 9,970 others are never rendered.
    rows = [KeyRecord(name=f"k{i:05d}", kind=Kind.V1, issued_at=NOW - 86400, expires_at=NOW + 3600 + i,
                      expiry_source=ExpirySource.JWT_EXP, id=i + 1) for i in range(10_000)]
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.post_message(RecordsLoaded(Roster.of(rows, Thresholds()), None))
        await settle(pilot, app)
        app.tick()          # the first tick paints whatever was never painted
        await pilot.pause()
        calls = []
        original = KeyTable.render_line

        def counting(self, y):
            calls.append(y)
            return original(self, y)

        monkeypatch.setattr(KeyTable, "render_line", counting)
        clock.advance(1)
        app.tick()
        await pilot.pause()
        visible = app.table.size.height
        assert visible - 2 <= len(calls) <= visible + 2
        # Nothing changes on screen: a tick draws nothing.
        calls.clear()
        app.tick()
        await pilot.pause()
        assert calls == []
        await pilot.press("end")
        assert app.table.cursor == 9_999
        assert app.table.scroll_offset.y > 9_000
        assert "k09999" in row_text(app.table, app.table.cursor - app.table.scroll_offset.y)


def screen_text(app: MomentoKeysApp) -> str:
    """What the terminal shows now (from Textual's own screenshot of the screen)."""
    import html
    import re

    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


async def test_countdown_keeps_ticking_on_screen_after_a_resize(keeper: Keeper, clock):
    seed(keeper, "soon", left=3600 + 30)
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert "1h 00m 30s" in screen_text(app)
        await pilot.resize_terminal(100, 30)
        await settle(pilot, app)
        for _ in range(3):
            clock.advance(1)
            app.tick()
            await pilot.pause()
        assert "1h 00m 27s" in screen_text(app)


async def test_footer_follows_the_focus_and_is_rebuilt_only_when_its_keys_change(keeper: Keeper):
    from textual.widgets._footer import FooterKey

    from tui.widgets.footer import KeysFooter

    seed(keeper, "orders prod", left=30 * DAY)
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        footer = app.dashboard.query_one(KeysFooter)

        def shown() -> list[str]:
            return [key.description for key in footer.query(FooterKey)]

        assert "Details" in shown()          # the table's own key, while it has the focus
        await pilot.press("slash")
        await settle(pilot, app)
        assert isinstance(app.focused, Input) and "Details" not in shown()
        await pilot.press("escape")
        await settle(pilot, app)
        assert app.focused is app.table and "Details" in shown()
        # A bindings signal that changes nothing on the footer leaves its widgets alone.
        keys = list(footer.query(FooterKey))
        for _ in range(3):
            app.dashboard.refresh_bindings()
            await pilot.pause()
        await settle(pilot, app)
        assert list(footer.query(FooterKey)) == keys


async def test_many_keys_load_in_a_worker_and_the_dashboard_answers_meanwhile(keeper: Keeper, monkeypatch):
    import tui.app

    monkeypatch.setattr(tui.app, "SYNC_LOAD_MAX", 1)  # as if the database held more than 20,000 keys
    for i in range(3):
        seed(keeper, f"key {i}", left=(i + 1) * DAY)
    app = make_app(keeper)
    async with app.run_test(size=SIZE) as pilot:
        assert app.dashboard.sub_title == "loading…" or len(app.table.order) == 3  # (the worker may be quick)
        await settle(pilot, app)
        assert [r.name for r in app.table.rows] == ["key 0", "key 1", "key 2"]
        assert "3 keys" in summary_text(app)
