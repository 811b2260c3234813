"""Snapshot tests of the dialogs: import (empty, at 60x20, and with a file that cannot be
read), rotate (a refreshable v1 key, and a token rotated by hand), and the delete question.

Demo data and a fixed clock (see test_snapshots.py); no real secret is ever typed here.
Update after an intended change with: pytest tests/test_snapshots_dialogs.py --snapshot-update
"""

from __future__ import annotations

from tests.test_snapshots import SIZE, _settle, demo_app


def press_then_settle(*keys: str):
    async def run_before(pilot) -> None:
        await _settle(pilot)
        await pilot.press(*keys)
        await _settle(pilot)

    return run_before


def test_import_dialog(snap_compare):
    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=press_then_settle("i"))


def test_import_dialog_at_60x20(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(60, 20), run_before=press_then_settle("i"))


def test_import_dialog_with_a_file_that_is_not_there(snap_compare):
    async def run_before(pilot) -> None:
        await press_then_settle("i")(pilot)
        await pilot.press(*"/nonexistent/momento-api-key.json")
        await _settle(pilot)

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=run_before)


def test_rotate_dialog_refreshable_key(snap_compare):
    # The fifth row by expiry: "orders-api prod", a v1 key with its refresh token.
    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=press_then_settle("down", "down", "down", "down", "R"))


def test_rotate_dialog_by_hand(snap_compare):
    # The second row: "ci token", a disposable token: it cannot be refreshed.
    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=press_then_settle("down", "R"))


def test_delete_question_at_60x20(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(60, 20), run_before=press_then_settle("d"))
