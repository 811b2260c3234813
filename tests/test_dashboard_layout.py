"""The dashboard's table at any width (tui/widgets/key_table.py, tui/screens/dashboard.py):
columns give way by priority, every column lines up whatever a name holds (CJK, emoji),
tags, notes and the lifecycle when there is room, sorting by a click on a column's title
(again: reversed), and a summary line that keeps what matters when it is short of room."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from tests.cli_support import run_main
from tests.conftest import NOW
from tests.test_snapshots import _settle
from tui.app import MomentoKeysApp
from tui.core.model import ExpirySource, KeyRecord, KeyType, Kind, Lifecycle, Thresholds
from tui.core.report import local_time
from tui.core.roster import SORTS, Roster
from tui.services.config import Settings
from tui.services.keeper import Keeper
from tui.services.store import Store
from tui.widgets.key_table import (
    EXPIRES,
    EXPIRES_DATE,
    GAP,
    LAYOUTS,
    LIFECYCLE,
    NAME_MIN,
    NOTES,
    Column,
    KeyTableHeader,
    _fit,
    layout,
)
from tui.widgets.summary import Part, SummaryLine

DAY = 86400
WIDE = "注文 api 本番 🔑"        # two cells a character, but for the ASCII ones
ESCAPES = "\x1b[2J\x1b]52;c;QUFBQQ==\x07\x9b31m"


def keys() -> list[KeyRecord]:
    """Wide characters in names, notes and tags; a rotation's old key; every kind."""
    return [
        KeyRecord(name=WIDE, kind=Kind.V2, key_type=KeyType.FINE_GRAINED, region="ap-northeast-1",
                  issued_at=NOW - 10 * DAY, expires_at=NOW + 3 * DAY, expiry_source=ExpirySource.V2_METADATA,
                  notes="東京の注文サービス", tags=["本番", "orders"]),
        KeyRecord(name="emoji 🔑🔑 keys", kind=Kind.V1, key_type=KeyType.SUPER_USER, region="us-west-2",
                  issued_at=NOW - 40 * DAY, expires_at=NOW + 20 * DAY, expiry_source=ExpirySource.JWT_EXP,
                  notes="🚀 deploys", tags=[]),
        KeyRecord(name="orders-api prod", kind=Kind.V1, key_type=KeyType.FINE_GRAINED, region="eu-west-1",
                  issued_at=NOW - 80 * DAY, expires_at=NOW + 10 * DAY, expiry_source=ExpirySource.JWT_EXP,
                  notes=f"k8s secret orders/momento\nline two {ESCAPES}", tags=["prod"]),
        KeyRecord(name="orders-api prod (old)", kind=Kind.V1, key_type=KeyType.FINE_GRAINED, region="eu-west-1",
                  issued_at=NOW - 170 * DAY, expires_at=NOW + 2 * DAY, expiry_source=ExpirySource.JWT_EXP,
                  lifecycle=Lifecycle.PREVIOUS, notes="replaced, in its grace window", tags=["prod"]),
        KeyRecord(name="ci token", kind=Kind.DISPOSABLE, key_type=KeyType.FINE_GRAINED, region=None,
                  issued_at=NOW - 3600, expires_at=NOW + 5 * 3600, expiry_source=ExpirySource.JWT_EXP,
                  notes="", tags=["ci", 'say "hi"']),
        KeyRecord(name="legacy-batch", kind=Kind.V1, key_type=KeyType.UNKNOWN, region="us-east-1",
                  expiry_source=ExpirySource.JWT_NO_EXP, notes="cron on batch-01", tags=[]),
    ]


@pytest.fixture
def stored(keeper: Keeper) -> Keeper:
    for n, record in enumerate(keys()):
        keeper.store.add(replace(record, fingerprint=f"fp-{n}"), now=NOW)
    return keeper


def app_of(keeper: Keeper) -> MomentoKeysApp:
    return MomentoKeysApp(keeper, tick=False, watch_interval=0)


def screen_cells(app: App) -> list[list[str]]:
    """The screen as the terminal shows it, cell by cell: a wide character, then "" for
    the cell it covers."""
    lines = []
    for strip in app.screen._compositor.render_strips():
        cells: list[str] = []
        for segment in strip:
            for ch in segment.text:
                cells += [ch] + [""] * (cell_len(ch) - 1)
        lines.append(cells)
    return lines


def cut(cells: list[str], x: int, width: int) -> str:
    return "".join(cells[x:x + width]).rstrip()


# ---- the layout --------------------------------------------------------------------------------

def test_columns_give_way_by_priority_and_the_name_keeps_a_useful_width():
    previous = 0
    for width in range(30, 320):
        columns = layout(width)
        keys = [c.key for c, _, _ in columns]
        assert keys[:3] == ["left", "status", "name"]            # always there, always first
        chosen = next(n for n, cols in enumerate(LAYOUTS) if [c.key for c in cols] == keys)
        assert chosen <= previous or previous == 0 or width == 30  # a wider table never shows fewer columns
        previous = chosen
        x = 0
        for _col, at, w in columns:                              # no overlap, the gap between columns
            assert at == x and w > 0
            x = at + w + GAP
        name = dict((c.key, w) for c, _, w in columns)["name"]
        if width >= 50:
            assert x - GAP <= width                              # within the table's content
            assert name >= NAME_MIN                              # the name is never squeezed first
    # A 60-column terminal (58 cells of content beside the scrollbar's gutter): the expiry
    # shows its date only, and the name gets 20 cells instead of 13.
    assert [(c.key, w) for c, _, w in layout(58)] == [("left", 12), ("status", 10), ("name", 20),
                                                     ("expires_date", 10)]
    # 120 columns: every column of old, the full expiry; no lifecycle or notes yet.
    assert [c.key for c, _, _ in layout(118)] == ["left", "status", "name", "kind", "type", "region", "expires"]
    # 200 columns: the lifecycle and the tags and notes too, the name still wide.
    wide = {c.key: w for c, _, w in layout(198)}
    assert "lifecycle" in wide and wide["notes"] >= 20 and wide["name"] >= 36


def test_the_short_expiry_comes_before_the_region_and_kind_go():
    order = [set(c.key for c in cols) for cols in LAYOUTS]
    assert EXPIRES.key in order[3] and EXPIRES_DATE.key in order[4]
    assert {"region", "kind"} <= order[4]                        # both still there with the short date
    assert NOTES.key in order[0] and NOTES.key not in order[1]   # the first to go
    assert LIFECYCLE.key in order[1] and LIFECYCLE.key not in order[2]


async def test_a_60_column_terminal_keeps_a_useful_name_and_the_expiry_date(stored: Keeper):
    app = app_of(stored)
    async with app.run_test(size=(120, 30)) as pilot:
        await _settle(pilot)
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        lines = ["".join(cells) for cells in screen_cells(app)]
        header = lines[app.table.region.y - 1]
        assert header.split() == ["LEFT", "▲", "STATUS", "NAME", "EXPIRES", "▲"]
        name = column(app, "name")
        assert name[2] >= 20
        row = next(line for line in lines if "orders-api prod (ol" in line)
        assert "orders-api prod (ol…" in row and "2027-01-17" in row and "08:00" not in row
        assert "LEFT ▲" in header and header.index("NAME") == name[1]   # the title over its column
        await pilot.resize_terminal(200, 30)                            # and back: every column again
        await pilot.pause()
        assert [c.key for c, _, _ in app.table._columns()] == [c.key for c in LAYOUTS[0]]


# ---- wide characters line up, in the table and in `list` ----------------------------------------

@pytest.mark.parametrize("size", [(60, 20), (120, 30), (200, 30)])
async def test_every_column_lines_up_after_wide_characters(stored: Keeper, size):
    app = app_of(stored)
    async with app.run_test(size=size) as pilot:
        await _settle(pilot)
        table = app.table
        columns = table._columns()
        table_columns = [c for c, _, _ in columns]
        header_y = table.region.y - 1
        lines = screen_cells(app)
        header = lines[header_y]
        for col, x, w in columns:
            assert col.title in cut(header, x, w)
        records = {r.name: r for r in stored.store.all()}
        roster = table.roster
        for n, row in enumerate(table.rows):
            cells = lines[table.region.y + n]
            record = records[row.name]
            i = table.order[n]
            expected = {
                "kind": record.kind.value,
                "type": record.key_type.value,
                "region": record.region or "unknown",
                "lifecycle": record.lifecycle.value,
                "expires": local_time(record.expires_at) if record.expires_at else "never",
                "expires_date": local_time(record.expires_at)[:10] if record.expires_at else "never",
                "notes": roster.notes(i),
                "name": record.name if record.lifecycle is Lifecycle.ACTIVE or LIFECYCLE in table_columns
                else f"{record.name} ({record.lifecycle.value})",
            }
            for col, x, w in columns:
                if col.key in expected:
                    assert cut(cells, x, w) == _fit(expected[col.key], w).rstrip(), (col.key, "".join(cells))
        assert len(table.rows) == len(records)
        assert any(WIDE in "".join(cells) for cells in lines)
        text = "".join("".join(line) for line in lines)
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text




def test_list_lines_up_every_column_after_wide_characters(stored: Keeper):
    code, out = run_main("list", "--all", "--db", str(stored.store.path))
    assert code == 0, out
    lines = [[c for ch in line for c in [ch] + [""] * (cell_len(ch) - 1)] for line in out.splitlines()]
    header = "".join(lines[0])
    starts = {title: header.index(title) for title in ("NAME", "KIND", "TYPE", "REGION", "EXPIRES", "LEFT")}
    assert len(lines) == len(keys()) + 1
    names = {r.name: r for r in keys()}
    for cells in lines[1:]:
        # Every column starts in the same cell as its title, whatever the name before it holds.
        after_name = "".join(cells[starts["KIND"]:])
        name = "".join(cells[starts["NAME"]:starts["KIND"]]).rstrip()
        record = names[name]
        assert after_name.startswith(record.kind.value + " ")
        assert "".join(cells[starts["TYPE"]:]).startswith(record.key_type.value)
        assert "".join(cells[starts["REGION"]:]).startswith(record.region or "-")
        assert "".join(cells[starts["EXPIRES"]:]).startswith(local_time(record.expires_at))
    assert any(WIDE in "".join(cells) for cells in lines)


# ---- the optional columns ---------------------------------------------------------------------

def test_the_roster_keeps_tags_and_notes_as_one_safe_line():
    records = [replace(r, id=n + 1) for n, r in enumerate(keys())]
    roster = Roster.of(records, Thresholds())
    notes = {roster.name(i): roster.notes(i) for i in range(len(roster))}
    assert notes[WIDE] == "本番, orders · 東京の注文サービス"
    assert notes["emoji 🔑🔑 keys"] == "🚀 deploys"
    assert notes["ci token"] == 'ci, say "hi"'
    assert notes["legacy-batch"] == "cron on batch-01"
    # One line, nothing a terminal would obey: the newline folded, the escapes gone.
    assert notes["orders-api prod"].startswith("prod · k8s secret orders/momento line two")
    assert all(ch.isprintable() for text in notes.values() for ch in text)
    # Read in chunks (as the store reads them), each row still finds its own text.
    search_rows = [(r.id, r.provider, r.notes, json.dumps(r.tags)) for r in records]
    assert roster.add_search_text([search_rows[n:n + 2] for n in range(0, len(search_rows), 2)])
    assert {roster.name(i): roster.notes(i) for i in range(len(roster))} == notes
    # Long notes are cut to what a column can show.
    long = replace(records[0], id=99, notes="x" * 1000, tags=[])
    assert len(Roster.of([long], Thresholds()).notes(0)) == 120
    # Until the filter's text is built, there are none (and nothing breaks).
    bare = Roster([[(1, "a", 0, 2, None, None, None, True, 0, None, None, None, None)]], Thresholds())
    assert bare.notes(0) == ""


async def test_wide_screens_show_lifecycle_and_notes_instead_of_a_name_suffix(stored: Keeper):
    app = app_of(stored)
    async with app.run_test(size=(200, 30)) as pilot:
        await _settle(pilot)
        lines = ["".join(cells) for cells in screen_cells(app)]
        old = next(line for line in lines if "orders-api prod (old)" in line)
        assert "previous" in old and "(old) (previous)" not in old
        assert "TAGS · NOTES" in "".join(lines) and "LIFECYCLE" in "".join(lines)
        assert "prod · replaced, in its grace window" in old
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        lines = ["".join(cells) for cells in screen_cells(app)]
        old = next(line for line in lines if "orders-api prod (old)" in line)
        assert "orders-api prod (old) (previo…" in old           # no column for it: said after the name
        assert "TAGS · NOTES" not in "".join(lines)


async def test_the_notes_appear_once_they_are_read(stored: Keeper, clock):
    """The tags and notes come after the rows are on screen (with the filter's text): the
    next paint (here a tick that changes one countdown's cells) draws every line again."""
    app = app_of(stored)
    terminal: list[str] = []
    async with app.run_test(size=(200, 30)) as pilot:
        await _settle(pilot)
        table = app.table
        fresh = stored.store.roster(Thresholds())              # the same rows, their notes not read yet
        assert not fresh.searchable
        table.set_roster(fresh)
        await pilot.pause()
        assert not any("東京の注文サービス" in "".join(cells) for cells in screen_cells(app))
        assert stored.store.add_search_text(fresh)
        original = app._display

        def shown(screen, update):                            # what reaches the terminal
            from textual._compositor import CompositorUpdate

            if isinstance(update, CompositorUpdate):
                terminal.append(update.render_segments(app.console))
            return original(screen, update)

        app._display = shown
        clock.advance(1)
        table.tick()                                           # "ci token" counts down by the second
        for _ in range(3):
            await pilot.pause()
        assert any("東京の注文サービス" in update for update in terminal)


# ---- sorting ------------------------------------------------------------------------------------

def header_text(app: MomentoKeysApp) -> str:
    return str(app.dashboard.query_one(KeyTableHeader).render())


def summary_text(app: MomentoKeysApp) -> str:
    return "".join(app.dashboard.query_one(SummaryLine).render_line(0).text).strip()


def column(app: MomentoKeysApp, key: str) -> tuple[Column, int, int]:
    return next(c for c in app.table._columns() if c[0].key == key)


async def click_title(pilot, app: MomentoKeysApp, key: str) -> None:
    _, x, _ = column(app, key)
    await pilot.click(KeyTableHeader, offset=(x + 1, 0))
    await pilot.pause()


async def test_clicking_a_title_sorts_by_it_and_again_reverses(stored: Keeper):
    app = app_of(stored)
    async with app.run_test(size=(120, 30)) as pilot:
        await _settle(pilot)
        table = app.table
        assert "LEFT ▲" in header_text(app) and "EXPIRES ▲" in header_text(app)
        assert summary_text(app).endswith("sorted by expiry ▲")
        await pilot.press("down", "down")
        kept = table.current_id
        await click_title(pilot, app, "name")
        names = [r.name for r in table.rows]
        assert (table.sort, table.reverse) == ("name", False)
        assert names == sorted(names, key=str.lower)
        assert "NAME ▲" in header_text(app) and "LEFT ▲" not in header_text(app)
        assert summary_text(app).endswith("sorted by name ▲")
        assert table.current_id == kept                            # the cursor stays on its key
        await click_title(pilot, app, "name")
        assert (table.sort, table.reverse) == ("name", True)
        assert [r.name for r in table.rows] == names[::-1]
        assert "NAME ▼" in header_text(app) and summary_text(app).endswith("sorted by name ▼")
        assert table.current_id == kept
        await click_title(pilot, app, "region")                   # another column: its own order
        assert (table.sort, table.reverse) == ("region", False)
        regions = [r.region for r in table.rows]
        assert regions == sorted(regions, key=lambda r: (r is None, r or ""))   # unknown last
        assert "REGION ▲" in header_text(app)
        await click_title(pilot, app, "status")
        assert table.sort == "status"
        await click_title(pilot, app, "left")                     # the countdown: by expiry
        assert table.sort == "expiry" and "EXPIRES ▲" in header_text(app)
        assert table.current_id == kept


async def test_s_cycles_every_sort_and_o_reverses(stored: Keeper):
    app = app_of(stored)
    async with app.run_test(size=(120, 30)) as pilot:
        await _settle(pilot)
        table = app.table
        seen = []
        for _ in SORTS:
            seen.append(table.sort)
            await pilot.press("s")
        assert seen == list(SORTS) and table.sort == "expiry"
        expiry = [r.id for r in table.rows]
        await pilot.press("o")
        assert table.reverse and [r.id for r in table.rows] == expiry[::-1]
        assert "sorted by expiry ▼" in summary_text(app)
        await pilot.press("o")
        assert not table.reverse and [r.id for r in table.rows] == expiry
        await pilot.press("s")                                    # a new sort starts in its own order
        await pilot.press("o", "s")
        assert (table.sort, table.reverse) == ("name", False)


async def test_the_reverse_key_can_be_remapped_by_its_id(store: Store, vault, clock):
    keeper = Keeper(store, vault, Settings(bindings={"sort_reverse": "O"}), clock)
    for n, record in enumerate(keys()):
        store.add(replace(record, fingerprint=f"fp-{n}"), now=NOW)
    app = app_of(keeper)
    async with app.run_test(size=(120, 30)) as pilot:
        await _settle(pilot)
        await pilot.press("o")
        assert not app.table.reverse
        await pilot.press("O")
        assert app.table.reverse


async def test_the_palette_sorts_by_any_column_and_reverses(stored: Keeper):
    app = app_of(stored)
    async with app.run_test(size=(120, 30)) as pilot:
        await _settle(pilot)
        for query, expected in (("sort by type", ("type", False)), ("reverse the sort", ("type", True)),
                                ("sort by lifecycle", ("lifecycle", False))):
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*query)
            for _ in range(20):                   # the palette searches in the background
                await pilot.pause(0.05)
                if app.screen.query("CommandList Option"):
                    break
            await pilot.press("enter")
            await _settle(pilot)
            assert (app.table.sort, app.table.reverse) == expected, query
        lifecycles = [r.lifecycle for r in app.table.rows]
        assert lifecycles[-1] is Lifecycle.PREVIOUS


def test_the_roster_sorts_by_kind_type_region_and_lifecycle_with_expiry_within():
    records = [replace(r, id=n + 1) for n, r in enumerate(keys())]
    roster = Roster.of(records, Thresholds())
    by_id = {r.id: r for r in records}
    expiry = [roster.ids[i] for i in roster.order("expiry", NOW)]
    rank = {record_id: n for n, record_id in enumerate(expiry)}

    def ids(sort: str) -> list[int]:
        return [roster.ids[i] for i in roster.order(sort, NOW)]

    def by(key) -> list[int]:
        return sorted(expiry, key=lambda i: (key(by_id[i]), rank[i]))

    assert ids("kind") == by(lambda r: r.kind.value)
    assert ids("type") == by(lambda r: r.key_type.value)
    assert ids("region") == by(lambda r: (r.region is None, r.region or ""))
    assert ids("lifecycle") == by(lambda r: list(Lifecycle).index(r.lifecycle))
    with pytest.raises(ValueError):
        roster.order("colour", NOW)


# ---- the summary line ---------------------------------------------------------------------------

class One(App):
    def compose(self) -> ComposeResult:
        yield SummaryLine()


PARTS = [Part("10,000 keys", keep=60), Part("3 reminders due", True, keep=80),
         Part("✖ 725 expired", keep=40, short="✖ 725"), Part("◆ 31 critical", keep=40, short="◆ 31"),
         Part("▲ 210 warning", keep=30, short="▲ 210"), Part("∞ 12 never expires", keep=20, short="∞ 12"),
         Part("12 of 10,000 shown", keep=100), Part("sorted by expiry ▼", keep=90)]


@pytest.mark.parametrize("width, expected", [
    (160, " 10,000 keys · 3 reminders due · ✖ 725 expired · ◆ 31 critical · ▲ 210 warning · ∞ 12 never expires · "
          "12 of 10,000 shown · sorted by expiry ▼"),
    # The least important band first: short, then gone ("…" where it was).
    (120, " 10,000 keys · 3 reminders due · ✖ 725 expired · ◆ 31 critical · ▲ 210 · ∞ 12 · 12 of 10,000 shown · "
          "sorted by expiry ▼"),
    (100, " 10,000 keys · 3 reminders due · ✖ 725 · ◆ 31 · ▲ 210 · … · 12 of 10,000 shown · sorted by expiry ▼"),
    (80, " 10,000 keys · 3 reminders due · … · 12 of 10,000 shown · sorted by expiry ▼"),
    (60, " … · 12 of 10,000 shown · sorted by expiry ▼"),
    (40, " … · 12 of 10,000 shown"),  # (one "…" says parts were dropped: room is short)
])
async def test_the_band_counts_shorten_then_go_before_the_filter_and_the_sort(width, expected):
    app = One()
    async with app.run_test(size=(width, 3)) as pilot:
        app.query_one(SummaryLine).set_parts(PARTS)
        await pilot.pause()
        line = "".join(seg.text for seg in app.screen._compositor.render_strips()[0]).rstrip()
        assert line == expected


@pytest.mark.parametrize("width", [120, 60])
async def test_with_a_filter_on_the_summary_keeps_the_count_shown_and_the_sort(stored: Keeper, width):
    app = app_of(stored)
    async with app.run_test(size=(width, 30)) as pilot:
        await _settle(pilot)
        await pilot.press("o", "slash", *"orders")
        await pilot.pause()
        line = summary_text(app)
        assert "3 of 6 shown" in line and "sorted by expiry ▼" in line
        assert cell_len(" " + line) <= width


async def test_tags_and_notes_show_as_soon_as_they_are_read_without_waiting_for_a_tick(stored: Keeper):
    """The notes are read after the rows (a second pass): the wide table shows them once read,
    with no countdown change (no tick here) to trigger a repaint."""
    app = app_of(stored)
    async with app.run_test(size=(200, 30)) as pilot:
        await _settle(pilot)
        await _settle(pilot)
        assert app.roster.searchable
        text = "\n".join("".join(line) for line in screen_cells(app))
        assert "cron on batch-01" in text and "🚀 deploys" in text


async def test_a_dropped_part_comes_back_when_room_was_freed():
    app = One()
    async with app.run_test(size=(64, 3)) as pilot:
        app.query_one(SummaryLine).set_parts(PARTS)
        await pilot.pause()
        line = "".join(seg.text for seg in app.screen._compositor.render_strips()[0]).rstrip()
        assert line == " … · 3 reminders due · 12 of 10,000 shown · sorted by expiry ▼", line
