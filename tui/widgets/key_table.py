"""A line-API table of key records that stays cheap at 100,000 rows.

Only visible lines are ever rendered (`render_line`), and a one-second tick
repaints just the countdown column of the visible rows, plus any visible row
whose status band changed. Filtering and sorting work on plain lists of
records; a precomputed lower-case "haystack" per record keeps a keystroke in
the filter to a single pass of substring tests.
"""

from __future__ import annotations

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
from ..core.model import KeyRecord, Lifecycle, Status, Thresholds
from ..core.policy import GLYPHS, SEVERITY, countdown, status_of
from ..core.report import local_time

SHORT_LABEL = {
    Status.OK: "OK",
    Status.WARNING: "WARNING",
    Status.CRITICAL: "CRITICAL",
    Status.EXPIRED: "EXPIRED",
    Status.NEVER: "NEVER",
    Status.UNKNOWN: "UNKNOWN",
}

SORTS = ("expiry", "status", "name")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int  # 0: takes the rest
    right: bool = False


# The countdown sits right after the status: the columns that change with time
# are the leftmost, so a tick repaints (and sends over SSH) a narrow strip.
COLUMNS = (
    Column("status", "STATUS", 10),
    Column("left", "LEFT", 12, right=True),
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
    out, x = [], 1
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
        & > .keytable--muted { color: $text-muted; }
    }
    """

    cursor: reactive[int] = reactive(0, always_update=False, repaint=False)

    class Opened(Message):
        def __init__(self, record: KeyRecord) -> None:
            super().__init__()
            self.record = record

    class Highlighted(Message):
        def __init__(self, record: KeyRecord | None) -> None:
            super().__init__()
            self.record = record

    def __init__(self, clock: Clock, thresholds: Thresholds, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.thresholds = thresholds
        self._all: list[KeyRecord] = []
        self._haystack: dict[int, str] = {}
        self.rows: list[KeyRecord] = []
        self.filter_text = ""
        self.sort = "expiry"
        self._painted: dict[int, tuple[Status, str]] = {}
        self._style_key: tuple | None = None
        self._style_cache: dict[str, Style] = {}
        self._columns_cache: tuple[int, list[tuple[Column, int, int]]] = (-1, [])

    # ---- data ----------------------------------------------------------------
    def set_records(self, records: list[KeyRecord]) -> None:
        """Replace the records, keeping the cursor on the same key where possible."""
        current = self.current
        self._all = records
        self._haystack = {
            id(r): " ".join(
                filter(None, [r.name, r.kind.value, r.key_type.value, r.region or "", r.provider or "",
                              r.notes, " ".join(r.tags), r.lifecycle.value])
            ).lower()
            for r in records
        }
        self._apply(keep=current)

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._apply(keep=self.current)

    def set_sort(self, sort: str) -> None:
        self.sort = sort
        self._apply(keep=self.current)

    def _apply(self, keep: KeyRecord | None) -> None:
        words = self.filter_text.lower().split()
        if words:
            hay = self._haystack
            rows = [r for r in self._all if all(w in hay[id(r)] for w in words)]
        else:
            rows = list(self._all)
        if self.sort == "name":
            rows.sort(key=lambda r: r.name.lower())
        elif self.sort == "status":
            now = self.clock.now()
            rows.sort(key=lambda r: (-SEVERITY[status_of(r, now, self.thresholds)], _expiry_key(r)))
        else:  # "expiry": soonest first; Timsort is linear on the store's already sorted order
            rows.sort(key=_expiry_key)
        self.rows = rows
        self._painted.clear()
        self.virtual_size = Size(0, len(rows))  # never wider than the view: no horizontal scrollbar
        index = 0
        if keep is not None and keep.id is not None:
            for i, r in enumerate(rows):
                if r.id == keep.id:
                    index = i
                    break
        self.cursor = min(index, max(0, len(rows) - 1))
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.Highlighted(self.current))

    @property
    def current(self) -> KeyRecord | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor]
        return None

    # ---- time ------------------------------------------------------------------
    def tick(self) -> None:
        """Repaint what time changed on screen: for each visible row whose status
        or countdown text moved, the STATUS+LEFT strip (the whole row if its band
        changed). O(visible rows); usually a handful of narrow line segments."""
        if not self.rows:
            return
        top = self.scroll_offset.y
        height = self.size.height
        now = self.clock.now()
        strip = self._time_strip()
        for y in range(top, min(top + height, len(self.rows))):
            record = self.rows[y]
            status = status_of(record, now, self.thresholds)
            painted = self._painted.get(y)
            if painted is None or painted[0] is not status:
                self.refresh_lines(y)
            elif painted[1] != _left_text(record, now):
                self.refresh(Region(0, y - top, strip, 1))

    def _time_strip(self) -> int:
        """Width of the STATUS and LEFT columns (what a tick may change)."""
        x_end = 0
        for col, x, w in self._columns():
            if col.key in ("status", "left"):
                x_end = max(x_end, x + w)
        return x_end

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
        if index >= len(self.rows):
            return Strip.blank(width, styles["base"])
        record = self.rows[index]
        now = self.clock.now()
        status = status_of(record, now, self.thresholds)
        self._painted[index] = (status, _left_text(record, now))
        prefix = "cursor:" if index == self.cursor else ""
        row_style = styles["cursor" if prefix else "base"]
        status_style = styles[prefix + status.value]
        muted = styles[prefix + "muted"]
        if record.lifecycle is not Lifecycle.ACTIVE:
            row_style = muted
        segments: list[Segment] = []
        cursor_x = 0
        for col, x, w in self._columns():
            if x > cursor_x:
                segments.append(Segment(" " * (x - cursor_x), row_style))
            text, style = self._cell(col.key, record, status, now, row_style, status_style, muted)
            segments.append(Segment(_fit(text, w, col.right), style))
            cursor_x = x + w
        if cursor_x < width:
            segments.append(Segment(" " * (width - cursor_x), row_style))
        elif cursor_x > width:  # a terminal too narrow even for the fewest columns
            return Strip(segments).crop(0, width)
        return Strip(segments, width)

    @staticmethod
    def _cell(key: str, r: KeyRecord, status: Status, now: float, row: Style, status_style: Style,
              muted: Style) -> tuple[str, Style]:
        if key == "status":
            return f"{GLYPHS[status]} {SHORT_LABEL[status]}", status_style
        if key == "name":
            suffix = "" if r.lifecycle is Lifecycle.ACTIVE else f" ({r.lifecycle.value})"
            return r.name + suffix, row
        if key == "kind":
            return r.kind.value, row
        if key == "type":
            return r.key_type.value, row if r.key_type.value != "unknown" else muted
        if key == "region":
            return r.region or "unknown", row if r.region else muted
        if key == "expires":
            if r.expires_at is None:
                return ("never" if r.never_expires else "unknown"), status_style
            return local_time(r.expires_at), row
        if key == "left":
            return _left_text(r, now), status_style
        return "", row

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
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.size.height - 1))

    def action_jump(self, where: int) -> None:
        if self.rows:
            self.cursor = 0 if where == 0 else len(self.rows) - 1

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Opened(self.current))

    def on_click(self, event) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self.rows):
            if index == self.cursor and event.chain >= 2:
                self.action_open()
            self.cursor = index

    def on_resize(self) -> None:
        self.virtual_size = Size(0, len(self.rows))
        self._scroll_cursor_into_view()


def _left_text(r: KeyRecord, now: float) -> str:
    """The LEFT column: a countdown that visibly ticks under a day, "… ago" once expired."""
    if r.expires_at is None:
        return "∞" if r.never_expires else "?"
    left = r.expires_at - now
    if left <= 0:
        return f"{countdown(-left)} ago"
    return countdown(left, precise=True)


def _expiry_key(r: KeyRecord) -> tuple[int, int, str]:
    return (r.expires_at is None, r.expires_at or 0, r.name)

