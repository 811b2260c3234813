"""Free text (notes, tags, an account's descriptions) never reaches the terminal as escape
sequences. It is kept exactly as given (`list --json` gives it back: tests/test_hostile.py)
and shown clean on every screen; an edit of something else keeps it as it was."""

from __future__ import annotations

import pytest
from textual.geometry import Region

from tests.test_snapshots import _settle, demo_app
from tui.core.text import user_text

HOSTILE = "evil\x1b[2J\x1b]0;pwned\x07\x9b31m\u202etail\nnext"
CONTROL = ("\x1b", "\x07", "\x9b", "\u202e")


def test_user_text_keeps_the_words_and_drops_what_moves_the_terminal():
    cleaned = user_text(HOSTILE)
    assert not any(c in cleaned for c in CONTROL) and "\n" not in cleaned
    assert cleaned.startswith("evil") and "tail" in cleaned and cleaned.endswith("next")


def rendered_controls(screen) -> list[tuple[str, str]]:
    """Every rendered segment of the screen's widgets that holds a control character."""
    found = []
    for widget in screen.walk_children(with_self=False):
        try:
            lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
        except Exception:  # (containers without lines of their own)
            continue
        for strip in lines:
            for segment in strip:
                if any(c in segment.text for c in CONTROL):
                    found.append((type(widget).__name__, segment.text))
    return found


@pytest.mark.parametrize("where", ["dashboard", "detail", "edit"])
async def test_text_with_escapes_is_shown_clean(where: str):
    app = demo_app()
    keeper = app.services.keeper
    record = keeper.store.find("checkout prod")
    keeper.edit(record, notes=HOSTILE, tags=["t\x1b[5mx"])
    keeper.store.update(record.id, now=0, action="edited", detail="test",  # as a sync keeps them
                        description="from the account\x1b]0;title\x07", role_id="role-x",
                        role_name="Ops\x1b]0;ROLE\x07\x1b[44mBLUE")
    other = keeper.store.find("orders-api prod")  # a name an older version let in (names are refused now)
    with keeper.store._write() as conn:
        conn.execute("UPDATE keys SET name = ? WHERE id = ?", ("orders\x1b]0;pwned\x07 prod", other.id))
    async with app.run_test(size=(200, 40)) as pilot:
        await _settle(pilot)
        if where != "dashboard":
            await pilot.press("down", "down", "down", "enter" if where == "detail" else "e")
            await _settle(pilot)
        assert not rendered_controls(app.screen), rendered_controls(app.screen)
        if where == "detail":
            text = " ".join(str(w.render()) for w in app.screen.query(".kv"))
            assert "evil" in text and "tail" in text  # the words are still there


async def test_an_edit_of_something_else_keeps_the_notes_and_tags_exactly():
    app = demo_app()
    keeper = app.services.keeper
    record = keeper.edit(keeper.store.find("checkout prod"), notes=HOSTILE, tags=["t\x1b[5mx", "prod"])
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        await pilot.press("down", "down", "down", "e")
        await _settle(pilot)
        app.screen.query_one("#name").value = "checkout prod eu"
        await pilot.press("enter")
        await _settle(pilot)
    saved = keeper.store.get(record.id)
    assert saved.name == "checkout prod eu"
    assert saved.notes == HOSTILE and saved.tags == ["t\x1b[5mx", "prod"]


def test_a_role_name_from_the_account_api_is_kept_as_text_to_show():
    from tui.services.account.wire import role

    read = role({"role_id": "r-1", "role_name": "Ops\x1b]0;ROLE\x07\x1b[44mBLUE\u202e", "role_type": "custom"},
                "a role")
    assert read.role_name == "OpsBLUE" and read.role_id == "r-1"
