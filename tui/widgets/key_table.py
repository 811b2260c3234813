"""A line-API table of key records that stays cheap at 100,000 rows.

The rows live in a `Roster` (compact columns, see core.roster); the table
holds a permutation of its row indices (the sort, filtered) and renders only
visible lines (`render_line`). A one-second tick repaints, for each visible
row, just the characters of the countdown that changed (the whole row if its
status band changed): over SSH that is a few bytes a row.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.color import Color
from textual.filter import LineFilter
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style as TextualStyle
from textual.widgets import Static

from ..core.clock import Clock
from ..core.model import Status, Thresholds
from ..core.policy import GLYPHS, countdown
from ..core.report import local_time
from ..core.roster import KINDS, Roster, RosterRow, RowsView
from ..core.text import terminal_safe

SHORT_LABEL = {
    Status.OK: "OK",
    Status.WARNING: "WARNING",
    Status.CRITICAL: "CRITICAL",
    Status.EXPIRED: "EXPIRED",
    Status.NEVER: "NEVER",
    Status.UNKNOWN: "UNKNOWN",
    Status.REVOKED: "REVOKED",
}

ROW_CACHE = 1024  # rows kept drawn (less their countdown): a few screens' worth, cursor and bands included


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int  # 0: takes the rest (shared with the other such column)
    right: bool = False
    sort: str | None = None  # what clicking its title sorts by


# The countdown comes first, flush with the table's left edge: Textual sends a
# changed region from the widget's left edge to the region's end, so a tick
# sends (over SSH too) just the countdown cells, not the whole row.
LEFT = Column("left", "LEFT", 12, right=True, sort="expiry")
STATUS = Column("status", "STATUS", 10, sort="status")
NAME = Column("name", "NAME", 0, sort="name")
LIFECYCLE = Column("lifecycle", "LIFECYCLE", 11, sort="lifecycle")  # active, previous (a rotation's old key), retired
KIND = Column("kind", "KIND", 10, sort="kind")
TYPE = Column("type", "TYPE", 14, sort="type")  # a v2 key's role here: "role: Operator"
REGION = Column("region", "REGION", 14, sort="region")
EXPIRES = Column("expires", "EXPIRES", 16, sort="expiry")
EXPIRES_DATE = Column("expires_date", "EXPIRES", 10, sort="expiry")  # the date only: "2026-11-18"
NOTES = Column("notes", "TAGS · NOTES", 0)  # where the key is used
COLUMNS = (LEFT, STATUS, NAME, LIFECYCLE, KIND, TYPE, REGION, EXPIRES, NOTES)


def _without(columns: tuple[Column, ...], drop: Column, instead: Column | None = None) -> tuple[Column, ...]:
    """`columns` without `drop`, or with `instead` in its place."""
    out = []
    for c in columns:
        if c is not drop:
            out.append(c)
        elif instead is not None:
            out.append(instead)
    return tuple(out)


# What a table of a given width shows: the first of these whose name gets its width.
# Columns give way by priority: tags and notes and the lifecycle only when there is
# room, then the key type, the expiry's time of day, the region, the kind, the expiry
# date; the countdown, the status and the name always stay.
LAYOUTS: list[tuple[Column, ...]] = [COLUMNS]
for _drop, _instead in ((NOTES, None), (LIFECYCLE, None), (TYPE, None), (EXPIRES, EXPIRES_DATE), (REGION, None),
                        (KIND, None), (EXPIRES_DATE, None)):
    LAYOUTS.append(_without(LAYOUTS[-1], _drop, _instead))
GAP = 2
NAME_MIN = 20    # a name narrower than this, and a column gives way
NAME_WIDE = 36   # beside tags and notes, the name keeps at least this...
NAME_MAX = 48    # ...and at most this; the tags and notes take the rest
NOTES_MIN = 20
LEFT_WIDTH = LEFT.width  # (never dropped from the layout)
SORT_MARKS = ("▲", "▼")  # the sort's own order (soonest, worst, A→Z first), and reversed


def layout(width: int) -> list[tuple[Column, int, int]]:
    """(column, x, width) for a table `width` cells wide (the columns' content; the
    scrollbar's gutter, always kept, is the right margin)."""
    for cols in LAYOUTS:
        rest = width - sum(c.width for c in cols) - GAP * (len(cols) - 1)
        if NOTES in cols:
            if rest >= NAME_WIDE + NOTES_MIN:  # (`rest`: the name's and the notes' cells)
                name = min(NAME_MAX, rest - NOTES_MIN)
                break
        elif rest >= NAME_MIN:
            name = rest
            break
    else:
        name = max(NAME_MIN // 2, rest)  # too narrow even for the fewest columns: the line is cut
    out, x = [], 0  # the countdown is right-aligned: its own blanks are the margin
    for c in cols:
        w = c.width or (name if c is NAME else rest - name)
        out.append((c, x, w))
        x += w + GAP
    return out


@dataclass(frozen=True, slots=True)
class _Paint:
    """What every line of one paint shares, computed once per paint instead of once per line."""

    width: int                             # of the content, without the scrollbar's gutter
    columns: list[tuple[Column, int, int]]
    styles: dict[str, Style]
    top: int
    cursor: int
    now: float
    lifecycle_shown: bool  # a key not active says so in its own column, not after its name
    # When the table draws whole lines itself (see render_lines): the cells under the
    # scrollbar, and the app's line filters with the background they are given.
    gutter: Segment | None = None
    filters: tuple[LineFilter, ...] = ()
    background: Color | None = None

    def filtered(self, segments: list[Segment]) -> list[Segment]:
        for line_filter in self.filters:
            segments = line_filter.apply(segments, self.background)  # type: ignore[arg-type]
        return segments


@dataclass(frozen=True, slots=True)
class _Row:
    """A drawn row but its countdown, line filters applied: `head` + countdown + `tail`."""

    head: list[Segment]
    tail: list[Segment]
    left_style: Style
    length: int        # cells of the whole line


def _fit(text: str, width: int, right: bool = False) -> str:
    """`text` in exactly `width` cells (display width: a CJK character takes two)."""
    cells = len(text) if text.isascii() else cell_len(text)
    if cells > width:
        return set_cell_size(text, max(0, width - 1)) + "…"
    pad = " " * (width - cells)
    return pad + text if right else text + pad


class KeyTableHeader(Static):
    """Column titles, laid out like the table below; the sort's column is marked ▲ (its
    own order) or ▼ (reversed). Clicking a title sorts by it; again, reverses."""

    DEFAULT_CSS = """
    KeyTableHeader { height: 1; background: $panel; color: $foreground; text-style: bold; }
    """

    class SortClicked(Message):
        """A column's title was clicked: sort by `sort` (again: reverse)."""

        def __init__(self, sort: str) -> None:
            super().__init__()
            self.sort = sort

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tooltip = "Click a column's title to sort by it; click it again to reverse"

    def _table(self) -> KeyTable | None:
        if self.parent is not None:
            for table in self.parent.query(KeyTable).results(KeyTable):
                return table
        return None

    def _layout(self) -> list[tuple[Column, int, int]]:
        table = self._table()  # line up with the table's content, beside its scrollbar
        width = self.size.width
        if table is not None:
            width = table.scrollable_content_region.width or width
        return layout(width)

    def render(self) -> str:
        line = [" "] * self.size.width
        table = self._table()
        for col, x, w in self._layout():
            title = col.title
            if table is not None and col.sort is not None and col.sort == table.sort:
                title = f"{title} {SORT_MARKS[table.reverse]}"
            for i, ch in enumerate(_fit(title, w, col.right)):
                if x + i < len(line):
                    line[x + i] = ch
        return "".join(line)

    def on_click(self, event) -> None:
        for col, x, w in self._layout():
            if x <= event.x < x + w + GAP and col.sort is not None:
                self.post_message(self.SortClicked(col.sort))
                return

    def on_resize(self) -> None:
        self.refresh()


class KeyTable(ScrollView, can_focus=True):
    """The records, one per line, with a cursor."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown,ctrl+f", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home,g", "jump(0)", "First", show=False, id="table.first"),
        Binding("end,G", "jump(-1)", "Last", show=False, id="table.last"),
        Binding("enter", "open", "Details", id="table.open"),
    ]

    COMPONENT_CLASSES = {
        "keytable--cursor",
        "keytable--ok",
        "keytable--warning",
        "keytable--critical",
        "keytable--expired",
        "keytable--never-expires",
        "keytable--unknown",
        "keytable--revoked",
        "keytable--muted",
    }

    DEFAULT_CSS = """
    KeyTable {
        background: $surface;
        overflow-x: hidden;
        scrollbar-gutter: stable;
        & > .keytable--cursor { background: $block-cursor-blurred-background; }
        &:focus > .keytable--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .keytable--ok { color: $success; }
        & > .keytable--warning { color: $warning; }
        & > .keytable--critical { color: $error; text-style: bold; }
        & > .keytable--expired { color: $error; text-style: bold reverse; }
        & > .keytable--never-expires { color: $warning; text-style: italic; }
        & > .keytable--unknown { color: $text-muted; }
        & > .keytable--revoked { color: $error; text-style: bold strike; }
        & > .keytable--muted { color: $text-muted; }
    }
    """

    cursor: reactive[int] = reactive(0, always_update=False, repaint=False)

    class Opened(Message):
        def __init__(self, record: RosterRow) -> None:
            super().__init__()
            self.record = record

    class Highlighted(Message):
        def __init__(self, record: RosterRow | None) -> None:
            super().__init__()
            self.record = record

    def __init__(self, clock: Clock, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.roster = Roster([], Thresholds())
        self.order: array = array("l")
        self._base: array | None = None  # every key in the current sort, before the filter
        self.filter_text = ""
        self.sort = "expiry"
        self.reverse = False  # the sort's order reversed (latest, best, Z→A first)
        # What each visible row shows (by its index in `order`): its band and countdown (the
        # LEFT column's cells) as of the tick that last repainted them. Lines are drawn from it, so a line drawn
        # again, for whatever reason, shows what the screen shows; only a tick moves it on.
        self._painted: dict[int, tuple[Status, str]] = {}
        self._style_key: tuple | None = None
        self._style_cache: dict[str, Style] = {}
        self._columns_cache: tuple[int, list[tuple[Column, int, int]]] = (-1, [])
        self._paint: _Paint | None = None  # set while Textual asks for this paint's lines
        # Drawn rows but their countdown, by (row, has the cursor, band), for one width, one
        # set of styles and filters (see `render_line`): a tick redraws a line from it in µs.
        self._rows: dict[tuple[int, bool, Status], _Row] = {}  # oldest first: dropped past ROW_CACHE
        # The strips last handed to Textual, by line on screen, with what they show.
        self._lines: dict[int, tuple[tuple, Strip]] = {}
        self._drawn_for: tuple | None = None  # what both were drawn for (widths, styles, filters)
        self._style_generation = 0

    # ---- data ----------------------------------------------------------------
    @property
    def rows(self) -> RowsView:
        """The rows shown, in order (RosterRows, made on demand)."""
        return RowsView(self.roster, self.order)

    def set_roster(self, roster: Roster) -> None:
        """Show these keys, keeping the cursor on the same key where possible."""
        keep = self.current_id
        self.roster = roster
        self._apply(keep, resort=True)

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._apply(self.current_id)

    def set_sort(self, sort: str, reverse: bool = False) -> None:
        """Sort by `sort` (one of core.roster.SORTS), in its own order or reversed."""
        self.sort = sort
        self.reverse = reverse
        self._apply(self.current_id, resort=True)

    def _apply(self, keep: int | None, *, resort: bool = False) -> None:
        """Sort (only when the keys or the sort changed: the status order costs a pass
        over every key, not to be paid per keystroke of the filter), then filter."""
        roster = self.roster
        if resort or self._base is None:
            base = roster.order(self.sort, self.clock.now())
            self._base = base[::-1] if self.reverse else base
        base = self._base
        matches = roster.matching(self.filter_text.split())
        was_empty = not self.order
        self.order = base if matches is None else array("l", [i for i in base if i in matches])
        if was_empty != (not self.order):
            self.refresh_bindings()  # "Details" only when there is a row to open
        self._painted.clear()
        self._rows.clear()
        self._lines.clear()
        self.virtual_size = Size(0, len(self.order))  # never wider than the view: no horizontal scrollbar
        index = 0
        if keep is not None and (row := roster.index_of(keep)) is not None:
            try:
                index = self.order.index(row)
            except ValueError:
                pass
        self.cursor = min(index, max(0, len(self.order) - 1))
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.Highlighted(self.current))

    @property
    def current_id(self) -> int | None:
        if 0 <= self.cursor < len(self.order):
            return self.roster.ids[self.order[self.cursor]]
        return None

    @property
    def current(self) -> RosterRow | None:
        if 0 <= self.cursor < len(self.order):
            return self.roster.row(self.order[self.cursor])
        return None

    def notes_arrived(self) -> None:
        """The roster's tags and notes were read (after its rows): repaint if they are shown."""
        if any(col is NOTES for col, _, _ in self._columns()):
            self.refresh()

    # ---- time ------------------------------------------------------------------
    def tick(self) -> None:
        """Repaint what time changed on screen: for each visible row, the characters
        of its countdown that changed (the whole row if its band changed).
        O(visible rows); usually a handful of one- or two-cell regions, marked
        dirty in one call (Textual's `refresh` has a cost per call, not per region)."""
        order = self.order
        if not order:
            return
        top = self.scroll_offset.y
        height = self.size.height
        now = self.clock.now()
        left = self._left_column()
        roster = self.roster
        before = self._painted
        painted: dict[int, tuple[Status, str]] = {}
        regions: list[Region] = []
        line_width = 0
        for y in range(top, min(top + height, len(order))):
            i = order[y]
            status = roster.status(i, now)
            new = _countdown_cells(roster, i, now)
            painted[y] = (status, new)
            shown = before.get(y)
            if shown is None or shown[0] is not status or left is None:
                if shown != (status, new):
                    line_width = line_width or max(self.virtual_size.width, self.size.width)
                    regions.append(Region(0, y - top, line_width, 1))
                continue
            old = shown[1]
            if old == new:
                continue
            x, w = left
            if len(old) != w or len(new) != w:  # a character wider than one cell: the whole column
                regions.append(Region(x, y - top, w, 1))
                continue
            first, last = 0, w - 1
            while old[first] == new[first]:
                first += 1
            while old[last] == new[last]:
                last -= 1
            regions.append(Region(x + first, y - top, last - first + 1, 1))
        self._painted = painted  # (rows scrolled away are forgotten: drawn afresh when back)
        if regions:
            self.refresh(*regions)

    def _left_column(self) -> tuple[int, int] | None:
        """(x, width) of the LEFT column (the countdown), if shown."""
        for col, x, w in self._columns():
            if col.key == "left":
                return x, w
        return None

    # ---- rendering ---------------------------------------------------------------
    #
    # A tick changes a character or two of each visible countdown. Textual's
    # default path redraws each such line whole, then styles it through the
    # widget's styles cache (border, padding, tint, then the app's line filters
    # over every segment): some 30 µs a line on top of drawing it. Here a line is
    # its row, drawn and filtered once (kept in `_rows`), plus its countdown,
    # filtered on its own; a line that shows what it showed last paint is handed
    # back as the very same strip (`_lines`). Textual's line filters (ANSI colours
    # to true colour, NO_COLOR, dim) map each segment on its own, so a row
    # filtered in pieces is the row filtered whole. A line always shows its row's
    # `_painted` state, so drawing a line again (a full repaint, a cursor move)
    # never shows a countdown the tick has not repainted. The table has no border,
    # padding, tint or transparency of its own (`_plain_box`); if CSS gives it
    # some, Textual's path draws the lines (from `render_line`, as always).

    def _columns(self, width: int | None = None) -> list[tuple[Column, int, int]]:
        if width is None:  # the content width, not counting the vertical scrollbar
            width = self.scrollable_content_region.width or self.size.width
        if self._columns_cache[0] != width:
            self._columns_cache = (width, layout(width))
        return self._columns_cache[1]

    def _styles(self) -> dict[str, Style]:
        """Rich styles for this paint: computing them walks the DOM, so they are
        cached until focus, theme or CSS change."""
        key = (self.has_focus, self.app.theme, self.app.stylesheet.rules_map.__len__())
        if self._style_key != key:
            base = self.rich_style
            cursor = base + self.get_component_rich_style("keytable--cursor")
            styles = {"base": base, "cursor": cursor}
            for prefix, row in (("", base), ("cursor:", cursor)):
                styles[prefix + "muted"] = row + self.get_component_rich_style("keytable--muted")
                for status in Status:
                    styles[prefix + status.value] = row + self.get_component_rich_style(f"keytable--{status.value}")
            self._style_cache = styles
            self._style_key = key
            self._style_generation += 1
        return self._style_cache

    def notify_style_update(self) -> None:
        self._style_key = None
        super().notify_style_update()

    def _begin_paint(self, width: int = 0, gutter: Segment | None = None, filters: tuple[LineFilter, ...] = (),
                     background: Color | None = None) -> _Paint:
        width = width or self.scrollable_content_region.width or self.size.width
        styles = self._styles()
        # (The tags and notes come after the rows, with the filter's text: `searchable`.)
        drawn_for = (width, gutter, self._style_generation, filters, background, self.roster.searchable)
        if self._drawn_for != drawn_for:  # what the cached rows and lines were drawn for
            if (self._drawn_for is not None and self._drawn_for[-1] != drawn_for[-1]
                    and any(col is NOTES for col, _, _ in self._columns(width))):
                # The tags and notes just came: the next frame shows them on every line (after
                # this one: a refresh asked for while Textual paints is forgotten once it has).
                self.call_after_refresh(self.refresh)
            self._rows.clear()
            self._lines.clear()
            self._drawn_for = drawn_for
        columns = self._columns(width)
        return _Paint(width, columns, styles, self.scroll_offset.y, self.cursor, self.clock.now(),
                      any(col is LIFECYCLE for col, _, _ in columns), gutter, filters, background)

    def _plain_box(self) -> bool:
        """Nothing for Textual to draw around or over the rows: no border, padding,
        outline, hatch, tint or transparency."""
        styles = self.styles
        return (not any(styles.gutter) and not any(edge for edge, _ in styles.outline) and not styles.tint.a
                and styles.text_opacity == 1.0 and self.opacity == 1.0
                and not (styles.has_rule("hatch") and styles.hatch != "none"))

    def render_lines(self, crop: Region) -> list[Strip]:
        """Textual asks for a paint's lines here. What they share (width, columns,
        styles, the instant) is read once for them all."""
        if not self._plain_box():
            self._paint = self._begin_paint()
            try:
                return super().render_lines(crop)  # calls render_line for the lines it lacks
            finally:
                self._paint = None
        # Lines as Textual's styles cache pads them: the cells of the scrollbar's gutter
        # in the widget's background. When the scrollbar is drawn there, over the
        # line, the line stops at the gutter instead: the compositor takes each cell
        # from the front-most widget and cuts lines only as far as they go, and a
        # line it need not cut is one strip fewer to make, per line, per paint.
        width = self.size.width
        base_background, background = self.background_colors
        content = self.scrollable_content_region.width or width
        gutter = None
        if width > content and not (self.show_vertical_scrollbar and self.styles.scrollbar_visibility == "visible"):
            gutter = Segment(" " * (width - content), TextualStyle(background=base_background + background).rich_style)
        paint = self._paint = self._begin_paint(content, gutter, tuple(self.get_line_filters()), background)
        try:
            lines, painted, order = self._lines, self._painted, self.order
            strips: list[Strip] = []
            for y in crop.line_range:
                index = paint.top + y
                shown = painted.get(index)
                if index >= len(order):
                    key: tuple = ("blank",)
                elif shown is None:  # not on screen yet: drawn afresh
                    key = ()
                else:
                    key = (order[index], index == paint.cursor, shown)
                drawn = lines.get(y)
                if key and drawn is not None and drawn[0] == key:
                    strip = drawn[1]
                else:
                    strip = self.render_line(y)
                    if key == ():
                        key = (order[index], index == paint.cursor, painted[index])
                    lines[y] = (key, strip)
                strips.append(strip)
        finally:
            self._paint = None
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def render_line(self, y: int) -> Strip:
        paint = self._paint or self._begin_paint()
        gutter = [] if paint.gutter is None else [paint.gutter]
        length = paint.width + (0 if paint.gutter is None else paint.gutter.cell_length)
        index = paint.top + y
        if index >= len(self.order):
            return Strip(paint.filtered([*Strip.blank(paint.width, paint.styles["base"]), *gutter]), length)
        roster = self.roster
        i = self.order[index]
        shown = self._painted.get(index)
        if shown is None:
            shown = self._painted[index] = (roster.status(i, paint.now), _countdown_cells(roster, i, paint.now))
        status, left = shown
        key = (i, index == paint.cursor, status)
        row = self._rows.get(key)
        if row is None:
            pieces, at, left_style, cells = self._draw_row(i, key[1], status, paint)
            if cells > paint.width or at < 0:  # a terminal too narrow even for the fewest columns
                if at >= 0:
                    pieces[at] = (left, left_style)
                strip = Strip([Segment(*piece) for piece in pieces if piece is not None]).crop(0, paint.width)
                return Strip(paint.filtered([*strip, *gutter]), length)
            if paint.gutter is not None:
                pieces.append((paint.gutter.text, paint.gutter.style or left_style))
            if len(self._rows) >= ROW_CACHE:
                del self._rows[next(iter(self._rows))]
            row = self._rows[key] = _Row(paint.filtered(_joined(pieces[:at])),
                                         paint.filtered(_joined(pieces[at + 1:])), left_style, length)
        countdown = paint.filtered([Segment(left, row.left_style)])
        return Strip([*row.head, *countdown, *row.tail], row.length)

    def _draw_row(self, i: int, cursor: bool, status: Status,
                  paint: _Paint) -> tuple[list[tuple[str, Style] | None], int, Style, int]:
        """Row `i` as (text, style) pieces, None where the countdown goes; and the
        countdown's index and style, and the cells the row takes."""
        roster = self.roster
        styles = paint.styles
        prefix = "cursor:" if cursor else ""
        row_style = styles["cursor" if cursor else "base"]
        status_style = styles[prefix + status.value]
        muted = styles[prefix + "muted"]
        active = roster.active(i)
        if not active:
            row_style = muted
        pieces: list[tuple[str, Style] | None] = []
        at = -1
        cursor_x = 0
        for col, x, w in paint.columns:
            if x > cursor_x:
                pieces.append((" " * (x - cursor_x), row_style))
            cursor_x = x + w
            key = col.key
            style = row_style
            if key == "left":
                at = len(pieces)
                pieces.append(None)
                continue
            if key == "status":
                text, style = f"{GLYPHS[status]} {SHORT_LABEL[status]}", status_style
            elif key == "name":
                text = roster.name(i)
                if not (active or paint.lifecycle_shown):
                    text = f"{text} ({roster.lifecycle(i).value})"
            elif key == "lifecycle":
                text = roster.lifecycle(i).value
            elif key == "kind":
                text = KINDS[roster.kind[i]].value
            elif key == "type":
                text = roster.type_text(i)
                if text == "unknown":
                    style = muted
            elif key == "region":
                text = roster.regions[roster.region[i]] or ""
                if not text:
                    text, style = "unknown", muted
            elif key == "expires" or key == "expires_date":
                expires = roster.expires_at(i)
                if expires is None:
                    text, style = ("never" if roster.never_expires(i) else "unknown"), status_style
                else:
                    text = local_time(expires)
                    if key == "expires_date":
                        text = text.split(" ")[0]
            elif key == "notes":
                text = roster.notes(i)
            else:
                text = ""
            # Names, roles and regions come from the database and the account API: shown, never
            # obeyed by the terminal (a role named with an escape sequence set its title).
            pieces.append((_fit(terminal_safe(text), w, col.right), style))
        if cursor_x < paint.width:
            pieces.append((" " * (paint.width - cursor_x), row_style))
        return pieces, at, status_style, cursor_x

    # ---- cursor ------------------------------------------------------------------
    def on_focus(self) -> None:
        self._style_key = None

    def on_blur(self) -> None:
        self._style_key = None

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_lines(old)
        self.refresh_lines(new)
        self._scroll_cursor_into_view()
        self.post_message(self.Highlighted(self.current))

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height or self.size.height
        if height <= 0:
            return
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        if self.order:
            self.cursor = max(0, min(len(self.order) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.size.height - 1))

    def action_jump(self, where: int) -> None:
        if self.order:
            self.cursor = 0 if where == 0 else len(self.order) - 1

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # Nothing to open: not offered in the footer.
        return not (action == "open" and not self.order)

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Opened(self.current))

    def on_click(self, event) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self.order):
            if index == self.cursor and event.chain >= 2:
                self.action_open()
            self.cursor = index

    def on_resize(self) -> None:
        self.virtual_size = Size(0, len(self.order))
        self._scroll_cursor_into_view()


def _joined(pieces: list) -> list[Segment]:
    """(text, style) pieces as segments, neighbours of one style joined: fewer
    segments are less work for every later step of a paint (line filters, the
    compositor's cuts, the terminal's escape codes)."""
    segments: list[Segment] = []
    for text, style in pieces:
        if segments and segments[-1].style == style:
            segments[-1] = Segment(segments[-1].text + text, style)
        else:
            segments.append(Segment(text, style))
    return segments


def _countdown_cells(roster: Roster, i: int, now: float) -> str:
    """The LEFT column's cells: the countdown, right-aligned."""
    return _fit(_left_text(roster, i, now), LEFT_WIDTH, True)


def _left_text(roster: Roster, i: int, now: float) -> str:
    """The LEFT column: a countdown that visibly ticks under a day, "… ago" once expired."""
    e = roster.expires[i]
    if e != e:
        return "∞" if roster.never_expires(i) else "?"
    left = e - now
    if left <= 0:
        return f"{countdown(-left)} ago"
    return countdown(left, precise=True)
