"""What the footer and the dialogs offer: each screen's own keys, named for what they do there;
a dialog's buttons on screen at 60x20; the least a new permission row asks for."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input, Select
from textual.widgets._footer import FooterKey

from tests.fake_momento import FakeMomento
from tests.test_wizard import (
    make_app,
    nxt,
    open_wizard,
    settle,
    track_superuser,
    walk_to_permissions,
)
from tui.screens.import_key import ImportScreen
from tui.screens.wizard.steps import KeyTypeStep, ResultStep, SecureStep
from tui.services.keeper import Keeper
from tui.widgets.footer import KeysFooter


def footer_keys(screen) -> dict[str, str]:
    """What the screen's footer shows: key shown → description."""
    footer = screen.query_one(KeysFooter)
    return {str(key.key_display): key.description for key in footer.query(FooterKey)}


def inside(widget, screen) -> bool:
    """The widget is drawn wholly inside the screen and not under its footer."""
    region = widget.region
    footer = screen.query_one(KeysFooter).region
    return (region.width > 0 and region.height > 0 and region.right <= screen.size.width
            and region.bottom <= footer.y)


async def test_esc_is_named_for_what_it_does_on_each_wizard_step(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=(120, 40)) as pilot:
        w = await open_wizard(pilot)
        assert footer_keys(w)["esc"] == "Cancel"  # the first step: nothing to go back to
        w = await nxt(pilot)
        assert isinstance(w.current, KeyTypeStep)
        assert footer_keys(w)["esc"] == "Back"
        await pilot.press("escape")
        await settle(pilot)
        assert footer_keys(w)["esc"] == "Cancel"
        # Esc on the first step leaves (nothing chosen: no question).
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.dashboard


async def test_esc_says_close_once_the_key_exists(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=(120, 40)) as pilot:
        w = await walk_to_permissions(pilot)
        w.query("GrantRow").first().query_one(".cache", Input).value = "orders"
        w = await nxt(pilot)          # review
        w = await nxt(pilot)          # generate
        await settle(pilot)
        assert isinstance(w.current, ResultStep)
        assert footer_keys(w)["esc"] == "Close"
        w = await nxt(pilot)
        assert isinstance(w.current, SecureStep)
        secure = str(w.query_one("#secure-commands").render())
        # A v1 key carries its endpoint: `env` sets only MOMENTO_API_KEY for it.
        assert "A shell (MOMENTO_API_KEY)" in secure and "MOMENTO_ENDPOINT" not in secure


async def test_a_new_topic_row_asks_the_least(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=(120, 40)) as pilot:
        w = await walk_to_permissions(pilot)
        w.query_one("#add-topic", Button).press()
        await settle(pilot)
        row = list(w.query("GrantRow"))[1]
        assert row.query_one(".kind", Select).value == "topic"
        assert row.query_one(".role", Select).value == "subscribeonly"
        assert row.query_one(".cache", Input).value == "" and row.query_one(".topic", Input).value == ""
        assert app.focused is row.query_one(".cache")
        # Left empty, the step says which name is missing, and stays.
        w.query("GrantRow").first().query_one(".cache", Input).value = "orders"
        row.query_one(".cache", Input).value = "orders"
        w = await nxt(pilot)
        assert "topic name is empty" in w.current.problem_text
        # Switching a cache row to a topic does not fill in "all topics" either.
        first = w.query("GrantRow").first()
        first.query_one(".kind", Select).value = "topic"
        await pilot.pause()
        assert first.query_one(".topic", Input).value == ""
        assert first.query_one(".role", Select).value == "subscribeonly"


@pytest.mark.parametrize("size", [(60, 20), (120, 40)])
async def test_import_dialog_fits_and_shows_its_own_keys(wkeeper: Keeper, fake_momento: FakeMomento, size):
    app = make_app(wkeeper, None)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ImportScreen)
        # The dialog's footer, not the dashboard's: its keys, none of the dashboard's.
        keys = footer_keys(dialog)
        assert keys.get("esc") == "Cancel" and "n" not in keys and "/" not in keys
        for button in ("#import", "#cancel"):
            assert inside(dialog.query_one(button), dialog), (button, dialog.query_one(button).region)
        # With a key pasted, Tab from the last field reaches Import before Cancel, and Enter
        # in a field imports.
        dialog.query_one("#key", Input).value = fake_momento.superuser_key()
        await settle(pilot)
        dialog.query_one("#name", Input).value = "pasted"
        dialog.query_one("#tags", Input).focus()
        await pilot.press("tab")
        assert app.focused is dialog.query_one("#import")
        dialog.query_one("#tags", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is app.dashboard
        assert wkeeper.store.find("pasted").secret_stored


async def test_delete_confirmation_offers_y_and_n_in_its_footer(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        from tui.widgets.confirm import ConfirmScreen

        assert isinstance(app.screen, ConfirmScreen)
        keys = footer_keys(app.screen)
        assert keys.get("y") == "Yes" and keys.get("esc") == "Cancel"
        assert inside(app.screen.query_one("#yes"), app.screen)
        await pilot.press("n")
        await settle(pilot)
        assert wkeeper.store.find("ops super") is not None


@pytest.mark.parametrize("width", [50, 60, 80, 120])
async def test_a_narrow_footer_shows_whole_keys_and_always_help(wkeeper: Keeper, fake_momento: FakeMomento, width):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=(width, 20)) as pilot:
        await settle(pilot)
        footer = app.dashboard.query_one(KeysFooter)
        keys = list(footer.query(FooterKey))
        shown = [key.description for key in keys]
        assert "Help" in shown and "Details" in shown and "Filter" in shown
        # Every key shown is whole: none reaches past the footer's right edge.
        assert all(key.region.right <= width for key in keys), [(k.description, k.region) for k in keys]
        if width >= 120:
            assert {"Rotate", "Quit"} <= set(shown)
        # Wider again: the keys it dropped come back.
        await pilot.resize_terminal(140, 20)
        await settle(pilot)
        assert {"Reminders", "Rotate", "Quit", "Help"} <= {k.description for k in footer.query(FooterKey)}


async def test_a_v1_keys_endpoint_cannot_be_edited_away_from_the_one_it_carries(wkeeper: Keeper,
                                                                                fake_momento: FakeMomento):
    from tui.services.keeper import KeeperError

    track_superuser(wkeeper, fake_momento)
    record = wkeeper.store.find("ops super")
    with pytest.raises(KeeperError, match="carries its endpoint"):
        wkeeper.edit(record, endpoint="cell-1-eu-west-1-1.prod.a.momentohq.com")
    assert wkeeper.store.find("ops super").endpoint == record.endpoint
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        field = app.screen.query_one("#endpoint", Input)
        assert field.disabled and field.value == record.endpoint
        # The rest of the dialog still saves.
        app.screen.query_one("#notes", Input).value = "ops laptop"
        await pilot.press("enter")
        await settle(pilot)
    assert wkeeper.store.find("ops super").notes == "ops laptop"


def test_where_a_key_came_from_is_said_in_words():
    from tui.screens.detail import source_words

    assert source_words("console_json") == "the console's Download JSON"
    assert source_words(None) == source_words("raw") == "pasted or read from a file"
    assert source_words("momento_cli:prod") == "the Momento CLI's profile 'prod'"
    assert "_" not in "".join(source_words(s) for s in ("generated", "rotation", "adopted", "account"))


async def test_the_detail_view_shows_no_internal_names():
    from tests.test_snapshots import _settle, demo_app
    from tui.screens.detail import DetailScreen

    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        await pilot.press("down", "down", "down", "enter")  # "checkout prod": from a Download JSON
        await _settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        text = " ".join(str(w.render()) for w in app.screen.query(".kv"))
        assert "came from  the console's Download JSON" in text
        for internal in ("console_json", "jwt_no_exp", "valid_until", "left left"):
            assert internal not in text, internal


@pytest.mark.parametrize("opens", ["d", "R", "e", "i"])
async def test_q_never_quits_from_a_dialog_and_focus_is_on_something_visible(opens: str):
    from tests.test_snapshots import _settle, demo_app
    from tui.screens.base import KeysModal
    from tui.widgets.confirm import ConfirmScreen

    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _settle(pilot)
        await pilot.press(opens)  # on "leaderboard prod": expired, so rotated by hand
        await _settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, (KeysModal, ConfirmScreen))
        focused = app.focused
        assert focused is not None and focused.display and focused.region.area > 0, focused
        if opens == "R":
            assert focused.id == "manual-wizard"  # the next step, not a hidden field
        await pilot.press("q")
        await _settle(pilot)
        assert app.is_running and app.screen is dialog


async def test_keys_about_the_selected_key_are_offered_only_when_there_is_one(keeper: Keeper):
    from tui.app import MomentoKeysApp

    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        shown = footer_keys(app.dashboard)
        assert "Rotate" not in shown.values() and "Import" in shown.values()
        await pilot.press("R", "e", "d", "c")  # nothing to act on: nothing opens, nothing breaks
        await settle(pilot)
        assert app.screen is app.dashboard and app.is_running


@pytest.mark.parametrize("size", [(40, 12), (60, 20), (100, 30)])
async def test_tab_never_leaves_the_focus_under_the_pinned_buttons(size):
    from tests.test_snapshots import _settle, demo_app
    from tui.widgets.dialog import DialogButtons

    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await _settle(pilot)
        for opener in ("i", "e"):
            await pilot.press(opener)
            await _settle(pilot)
            buttons = app.screen.query_one(DialogButtons)
            for _ in range(12):
                await pilot.press("tab")
                await pilot.pause()
                await pilot.pause()
                focused = app.focused
                if focused is None or focused in buttons.query("*"):
                    continue
                cover = buttons.region.y - buttons.styles.margin.top
                assert focused.region.bottom <= cover, (size, opener, focused, focused.region, buttons.region)
            await pilot.press("escape")
            await _settle(pilot)


@pytest.mark.parametrize("size", [(60, 20), (120, 36)])
async def test_rotate_buttons_stack_rather_than_cut_their_labels(size):
    from textual.widgets import Button

    from tests.test_snapshots import _settle, demo_app
    from tui.widgets.dialog import DialogButtons

    app = demo_app()
    async with app.run_test(size=size) as pilot:
        await _settle(pilot)
        await pilot.press("R")  # "leaderboard prod": expired, rotated by hand (three long buttons)
        await _settle(pilot)
        row = app.screen.query_one(DialogButtons)
        for button in (b for b in row.query(Button) if b.display):
            label = str(button.label)
            shown = "".join(seg.text for line in button.render_lines(button.region.reset_offset)
                            for seg in line)
            assert label in shown, (size, label, shown)  # whole, never "Make a replacement (wi"
            assert button.region.right <= app.size.width
        assert row.has_class("-stacked") == (size[0] < 100)


@pytest.mark.parametrize("remap, yes_keys, no_keys", [
    ({}, "y", "esc/n"),
    ({"confirm.yes": "x", "confirm.no": "escape,z"}, "x", "esc/z"),
])
async def test_the_confirmation_names_the_keys_as_bound(keeper: Keeper, remap: dict, yes_keys: str, no_keys: str):
    from dataclasses import replace as replaced

    from tests.test_app_reminders import seed
    from tui.app import MomentoKeysApp
    from tui.widgets.confirm import ConfirmScreen

    keeper.settings = replaced(keeper.settings, bindings=remap)
    seed(keeper, "doomed", issued=0, expires=None)
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        hint = str(app.screen.query_one("#keys-hint").render())
        assert hint == f"{yes_keys}: Delete   {no_keys}: Cancel", hint
