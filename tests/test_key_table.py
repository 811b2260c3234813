"""The key table draws its own lines (tui/widgets/key_table.py): the screen must be
what Textual's own line path draws, and a tick must repaint only what changed."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest
from rich.cells import cell_len
from textual._compositor import CompositorUpdate
from textual.app import App
from textual.geometry import Region

from tests.conftest import NOW
from tui.app import MomentoKeysApp, RecordsLoaded
from tui.core.model import ExpirySource, KeyRecord, KeyType, Kind, Lifecycle, Thresholds
from tui.core.roster import Roster
from tui.services.keeper import Keeper
from tui.widgets.key_table import KeyTable

SIZE = (120, 36)
DAY = 86400


def records(n: int) -> list[KeyRecord]:
    """Every band, retired and never-expiring keys, wide characters; most within a day."""
    out = [
        KeyRecord(name="long gone", kind=Kind.V1, issued_at=NOW - 90 * DAY, expires_at=NOW - 30 * DAY,
                  expiry_source=ExpirySource.JWT_EXP),
        KeyRecord(name="注文 api 本番", kind=Kind.V2, key_type=KeyType.FINE_GRAINED, region="us-west-2",
                  issued_at=NOW - 10 * DAY, expires_at=NOW + 3 * DAY, expiry_source=ExpirySource.V2_METADATA),
        KeyRecord(name="old pair", kind=Kind.V1, issued_at=NOW - 10 * DAY, expires_at=NOW + 5 * DAY,
                  expiry_source=ExpirySource.JWT_EXP, lifecycle=Lifecycle.RETIRED),
        KeyRecord(name="forever", kind=Kind.V1, expiry_source=ExpirySource.JWT_NO_EXP),
        KeyRecord(name="who knows", kind=Kind.V1),
    ]
    out += [KeyRecord(name=f"k{i:05d}", kind=Kind.V1, region="eu-west-1", issued_at=NOW - DAY,
                      expires_at=NOW + 3600 + 7 * i, expiry_source=ExpirySource.JWT_EXP) for i in range(n)]
    return [replace(r, id=n + 1) for n, r in enumerate(out)]


def screen(app: MomentoKeysApp) -> str:
    """The whole screen, characters and styles, as Textual exports it (ids made stable)."""
    return re.sub(r"terminal-\d+", "terminal", app.export_screenshot())


def screen_text(app: MomentoKeysApp) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", app.export_screenshot())).replace("\xa0", " ")


async def show(keeper: Keeper, pilot, app: MomentoKeysApp, n: int) -> KeyTable:
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.post_message(RecordsLoaded(Roster.of(records(n), Thresholds()), None))
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.clear_notifications()
    await pilot.pause()
    return app.table


async def textual_draws(pilot, app: MomentoKeysApp, monkeypatch) -> str:
    """The screen when Textual's own path (its styles cache) draws every line of the table."""
    table = app.table
    with monkeypatch.context() as patch:
        patch.setattr(KeyTable, "_plain_box", lambda self: False)
        table.refresh()
        await pilot.pause()
        shown = screen(app)
    table.refresh()
    await pilot.pause()
    return shown


@pytest.mark.parametrize("n", [4, 300], ids=["no scrollbar", "scrollbar"])
@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
async def test_the_table_draws_what_textuals_own_path_draws(keeper: Keeper, clock, monkeypatch, n, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        table = await show(keeper, pilot, app, n)
        assert table.show_vertical_scrollbar == (n > 30)
        await pilot.press("down", "down", "down")   # the cursor, on a wide-character name
        ours = screen(app)
        assert ours == await textual_draws(pilot, app, monkeypatch)
        # ...and after ticks that changed every countdown, a band or two, and the focus.
        for _ in range(3):
            clock.advance(61)
            app.tick()
            await pilot.pause()
        app.dashboard.action_filter()
        await pilot.pause()
        assert screen(app) == await textual_draws(pilot, app, monkeypatch)


async def test_a_tick_marks_dirty_only_the_countdown_cells_that_changed(keeper: Keeper, clock, monkeypatch):
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        table = await show(keeper, pilot, app, 300)
        table.scroll_to(y=5, animate=False)           # rows that count down by the second
        await pilot.pause()
        app.tick()
        await pilot.pause()
        calls: list[tuple[Region, ...]] = []
        original = KeyTable.refresh

        def spy(self, *regions, **kwargs):
            calls.append(regions)
            return original(self, *regions, **kwargs)

        monkeypatch.setattr(KeyTable, "refresh", spy)
        clock.advance(1)
        table.tick()
        assert len(calls) == 1                        # one call for the whole tick
        regions = calls[0]
        assert len(regions) == table.size.height      # every visible countdown changed...
        assert all(r.height == 1 and r.right <= 12 for r in regions)   # ...and only countdown cells are dirty
        assert sorted(r.y for r in regions) == list(range(table.size.height))
        assert max(r.width for r in regions) <= 2     # "…05s" -> "…04s": one digit, at most two
        await pilot.pause()
        assert "1h 00m 34s" in screen_text(app)       # k00005: 3,635 s at NOW, 3,634 s now
        calls.clear()
        table.tick()                                  # nothing changed: nothing is marked
        assert calls == []


class Terminal:
    """What a terminal shows after the escape sequences the app wrote (cursor moves
    and text; colours ignored): the app's partial updates, applied cell by cell."""

    MOVE = re.compile(r"\x1b\[(\d+);(\d+)H|\x1b\[[0-9;?]*[A-Za-z]|\n|[^\x1b\n]")

    def __init__(self, width: int, height: int) -> None:
        self.cells = [[" "] * width for _ in range(height)]
        self.x = self.y = 0

    def write(self, data: str) -> None:
        for token in self.MOVE.finditer(data):
            if token.group(1):
                self.y, self.x = int(token.group(1)) - 1, int(token.group(2)) - 1
            elif token.group() == "\n":
                self.y, self.x = self.y + 1, 0
            elif not token.group().startswith("\x1b"):
                for _ in range(cell_len(token.group())):  # a wide character: itself, then a blank cell
                    if 0 <= self.y < len(self.cells) and 0 <= self.x < len(self.cells[0]):
                        self.cells[self.y][self.x] = token.group() if _ == 0 else ""
                    self.x += 1

    def lines(self) -> list[str]:
        return ["".join(line) for line in self.cells]


async def test_repaints_between_ticks_never_leave_a_countdown_half_updated(keeper: Keeper, clock, monkeypatch):
    # A tick marks dirty only the characters that changed since what the screen shows;
    # Textual then writes just those spans. Paints in between (a cursor move, the
    # summary line) draw lines too: the terminal must still end up showing each
    # countdown whole and current, the same as a full repaint would.
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    terminal = Terminal(*SIZE)
    display = App._display

    def shown_on_terminal(self, screen, update):
        if isinstance(update, CompositorUpdate):
            terminal.write(update.render_segments(self.console))
        return display(self, screen, update)

    monkeypatch.setattr(App, "_display", shown_on_terminal)
    async with app.run_test(size=SIZE) as pilot:
        table = await show(keeper, pilot, app, 300)
        table.scroll_to(y=5, animate=False)
        await pilot.pause()
        app.screen.refresh()
        await pilot.pause()
        for step in (1, 9, 1, 50):                     # the clock moves on, then a partial repaint
            clock.advance(step)
            await pilot.press("down")
            app.refresh_summary()
            await pilot.pause()
            app.tick()
            await pilot.pause()
            rows = terminal.lines()[3:3 + table.size.height]
            full = ["".join(seg.text for seg in strip)
                    for strip in app.screen._compositor.render_strips()][3:3 + table.size.height]
            assert [row[:12] for row in rows] == [row[:12] for row in full]   # the countdowns
        assert any(row[:12].strip() == "59m 34s" for row in rows)   # k00005: 3,635 s - 61 s
