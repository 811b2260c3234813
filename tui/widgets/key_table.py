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

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from ..core.clock import Clock
from ..core.model import Status, Thresholds
from ..core.policy import GLYPHS, countdown
from ..core.report import local_time
from ..core.roster import KEY_TYPES, KINDS, Roster, RosterRow, RowsView

SHORT_LABEL = {
    Status.OK: "OK",
    Status.WARNING: "WARNING",
    Status.CRITICAL: "CRITICAL",
    Status.EXPIRED: "EXPIRED",
    Status.NEVER: "NEVER",
    Status.UNKNOWN: "UNKNOWN",
    Status.REVOKED: "REVOKED",
}

SORTS = ("expiry", "status", "name")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int  # 0: takes the rest
    right: bool = False


# The countdown comes first, flush with the table's left edge: Textual sends a
# changed region from the widget's left edge to the region's end, so a tick
# sends (over SSH too) just the countdown cells, not the whole row.
COLUMNS = (
    Column("left", "LEFT", 12, right=True),
    Column("status", "STATUS", 10),
    Column("name", "NAME", 0),
    Column("kind", "KIND", 10),
    Column("type", "TYPE", 12),
    Column("region", "REGION", 14),
    Column("expires", "EXPIRES", 16),
)
GAP = 2
NAME_MIN = 12


def layout(width: int) -> list[tuple[Column, int, int]]:
    """(column, x, width) for a table `width` cells wide. Narrow screens drop
    the least important columns first."""
    optional = ["type", "region", "kind", "expires"]
    cols = list(COLUMNS)
    while True:
        fixed = sum(c.width for c in cols if c.width) + GAP * (len(cols) - 1) + 1
        if width - fixed >= NAME_MIN or not optional:
            break
        drop = optional.pop(0)
        cols = [c for c in cols if c.key != drop]
    name_width = max(NAME_MIN, width - fixed)
    out, x = [], 0  # the countdown is right-aligned: its own blanks are the margin
    for c in cols:
        w = c.width or name_width
        out.append((c, x, w))
        x += w + GAP
    return out


def _fit(text: str, width: int, right: bool = False) -> str:
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.rjust(width) if right else text.ljust(width)


class KeyTableHeader(Static):
    """Column titles, laid out like the table below."""

    DEFAULT_CSS = """
    KeyTableHeader { height: 1; background: $panel; color: $foreground; text-style: bold; }
    """

    def render(self) -> str:
        line = [" "] * self.size.width
        width = self.size.width
        if self.parent is not None:  # line up with the table's content, beside its scrollbar
            for table in self.parent.query(KeyTable):
                width = table.scrollable_content_region.width or width
        for col, x, w in layout(width):
            for i, ch in enumerate(_fit(col.title, w, col.right)):
                if x + i < len(line):
                    line[x + i] = ch
        return "".join(line)

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
        self._painted: dict[int, tuple[Status, str]] = {}
        self._style_key: tuple | None = None
        self._style_cache: dict[str, Style] = {}
        self._columns_cache: tuple[int, list[tuple[Column, int, int]]] = (-1, [])

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

    def set_sort(self, sort: str) -> None:
        self.sort = sort
        self._apply(self.current_id, resort=True)

    def _apply(self, keep: int | None, *, resort: bool = False) -> None:
        """Sort (only when the keys or the sort changed: the status order costs a pass
        over every key, not to be paid per keystroke of the filter), then filter."""
        roster = self.roster
        if resort or self._base is None:
            self._base = roster.order(self.sort, self.clock.now())
        base = self._base
        matches = roster.matching(self.filter_text.split())
        was_empty = not self.order
        self.order = base if matches is None else array("l", [i for i in base if i in matches])
        if was_empty != (not self.order):
            self.refresh_bindings()  # "Details" only when there is a row to open
        self._painted.clear()
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

    # ---- time ------------------------------------------------------------------
    def tick(self) -> None:
        """Repaint what time changed on screen: for each visible row, the characters
        of its countdown that changed (the whole row if its band changed).
        O(visible rows); usually a handful of one- or two-cell regions."""
        order = self.order
        if not order:
            return
        top = self.scroll_offset.y
        height = self.size.height
        now = self.clock.now()
        left = self._left_column()
        roster = self.roster
        for y in range(top, min(top + height, len(order))):
            i = order[y]
            status = roster.status(i, now)
            painted = self._painted.get(y)
            if painted is None or painted[0] is not status:
                self.refresh_lines(y)
                continue
            text = _left_text(roster, i, now)
            if painted[1] == text or left is None:
                continue
            x, w = left
            old, new = _fit(painted[1], w, True), _fit(text, w, True)
            self._painted[y] = (status, text)
            if old == new:
                continue
            first = next(n for n in range(w) if old[n] != new[n])
            last = next(n for n in range(w - 1, -1, -1) if old[n] != new[n])
            self.refresh(Region(x + first, y - top, last - first + 1, 1))

    def _left_column(self) -> tuple[int, int] | None:
        """(x, width) of the LEFT column (the countdown), if shown."""
        for col, x, w in self._columns():
            if col.key == "left":
                return x, w
        return None

    # ---- rendering ---------------------------------------------------------------
    def _columns(self) -> list[tuple[Column, int, int]]:
        # The content width, not counting the vertical scrollbar.
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
        return self._style_cache

    def notify_style_update(self) -> None:
        self._style_key = None
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width or self.size.width
        styles = self._styles()
        if index >= len(self.order):
            return Strip.blank(width, styles["base"])
        roster = self.roster
        i = self.order[index]
        now = self.clock.now()
        status = roster.status(i, now)
        left = _left_text(roster, i, now)
        self._painted[index] = (status, left)
        prefix = "cursor:" if index == self.cursor else ""
        row_style = styles["cursor" if prefix else "base"]
        status_style = styles[prefix + status.value]
        muted = styles[prefix + "muted"]
        active = roster.active(i)
        if not active:
            row_style = muted
        segments: list[Segment] = []
        cursor_x = 0
        for col, x, w in self._columns():
            if x > cursor_x:
                segments.append(Segment(" " * (x - cursor_x), row_style))
            key = col.key
            style = row_style
            if key == "status":
                text, style = f"{GLYPHS[status]} {SHORT_LABEL[status]}", status_style
            elif key == "left":
                text, style = left, status_style
            elif key == "name":
                text = roster.name(i) if active else f"{roster.name(i)} ({roster.lifecycle(i).value})"
            elif key == "kind":
                text = KINDS[roster.kind[i]].value
            elif key == "type":
                text = KEY_TYPES[roster.key_type[i]].value
                if text == "unknown":
                    style = muted
            elif key == "region":
                text = roster.regions[roster.region[i]] or ""
                if not text:
                    text, style = "unknown", muted
            elif key == "expires":
                expires = roster.expires_at(i)
                if expires is None:
                    text, style = ("never" if roster.never_expires(i) else "unknown"), status_style
                else:
                    text = local_time(expires)
            else:
                text = ""
            segments.append(Segment(_fit(text, w, col.right), style))
            cursor_x = x + w
        if cursor_x < width:
            segments.append(Segment(" " * (width - cursor_x), row_style))
        elif cursor_x > width:  # a terminal too narrow even for the fewest columns
            return Strip(segments).crop(0, width)
        return Strip(segments, width)

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
        if action == "open" and not self.order:
            return False  # nothing to open: not offered in the footer
        return True

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


def _left_text(roster: Roster, i: int, now: float) -> str:
    """The LEFT column: a countdown that visibly ticks under a day, "… ago" once expired."""
    e = roster.expires[i]
    if e != e:
        return "∞" if roster.never_expires(i) else "?"
    left = e - now
    if left <= 0:
        return f"{countdown(-left)} ago"
    return countdown(left, precise=True)
