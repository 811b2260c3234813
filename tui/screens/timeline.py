"""When keys expire and reminders fall due over the next 90 days, as a picture:
one bar per week, so the busy weeks stand out."""

from __future__ import annotations

from datetime import datetime, timedelta

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.widgets import Header, Static

from ..core.model import Lifecycle
from ..core.reminders import ReminderKind
from ..widgets.footer import KeysFooter
from .base import KeysScreen, safe_work

WEEKS = 13
BAR = 48


def weekly(expiries: list[int], reminders: list[int], now: float, weeks: int = WEEKS) -> list[tuple[datetime, int, int]]:
    """(week start, expiries, reminders) for `weeks` weeks from the start of this week (local time)."""
    today = datetime.fromtimestamp(now).astimezone()
    start = (today - timedelta(days=today.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    edges = [(start + timedelta(weeks=i)).timestamp() for i in range(weeks + 1)]
    rows = []
    for i in range(weeks):
        lo, hi = edges[i], edges[i + 1]
        rows.append((start + timedelta(weeks=i),
                     sum(1 for t in expiries if lo <= t < hi),
                     sum(1 for t in reminders if lo <= t < hi)))
    return rows


LABEL = 17  # "Nov 16 – Nov 22" and its padding
MIN_BAR = 12


def render(rows: list[tuple[datetime, int, int]], overdue: tuple[int, int], width: int = BAR + LABEL + 40) -> str:
    """The weeks as bars in ``width`` cells. With room, each week is one line (label, bar,
    counts); in a narrow terminal the counts go beside the label and the bar under it."""
    counted: list[tuple[datetime, int, int, str]] = []
    for start, exp, rem in rows:
        parts: list[str] = []
        if exp:
            parts.append(f"{exp} expir{'y' if exp == 1 else 'ies'}")
        if rem:
            parts.append(f"{rem} reminder{'s' if rem != 1 else ''}")
        counted.append((start, exp, rem, ", ".join(parts) or "·"))
    peak = max([e + r for _, e, r in rows] + [1])
    busiest = "  ← busiest"
    longest = max((len(c) for *_, c in counted), default=1) + len(busiest)
    one_line = width - 2 - LABEL - 2 - longest >= MIN_BAR
    bar_width = min(BAR, width - 2 - LABEL - 2 - longest) if one_line else max(MIN_BAR, min(BAR, width - 4))
    lines = ["[b]Next 90 days[/b]   [red]█[/red] keys expiring   [yellow]▒[/yellow] reminders falling due", ""]
    if any(overdue):
        lines.append(f"  [b]overdue[/b]: already expired: {overdue[0]}, reminders due now: {overdue[1]}")
        lines.append("")
    for start, exp, rem, counts in counted:
        end = start + timedelta(days=6)
        label = f"{start:%b %d} – {end:%b %d}"
        n_exp = round(exp / peak * bar_width) if exp else 0
        n_rem = round(rem / peak * bar_width) if rem else 0
        if exp and not n_exp:
            n_exp = 1
        if rem and not n_rem:
            n_rem = 1
        bar = f"[red]{'█' * n_exp}[/red][yellow]{'▒' * n_rem}[/yellow]"
        mark = busiest if exp + rem == peak and peak > 1 else ""
        if one_line:
            lines.append(f"  {label:<{LABEL}} {bar}{' ' * (bar_width - n_exp - n_rem)} {counts}{mark}")
        else:
            lines.append(f"  {label:<{LABEL}} {counts}{mark}")
            if exp or rem:
                lines.append(f"  {bar}")
    return "\n".join(lines)


def listing(soon: list[tuple[int, str, str]]) -> Content:
    """The keys expiring soon: (expiry, name, notes); names and notes are text, never markup."""
    if not soon:
        return Content("")
    lines = [Content(""), Content.styled("Expiring in the next 90 days", "bold")]
    for expires_at, name, notes in soon:
        line = Content(f"  {datetime.fromtimestamp(expires_at).astimezone():%a %b %d %H:%M}  {name}")
        if notes:
            line += Content.assemble("  ", (f"({notes})", "dim"))
        lines.append(line)
    return Content("\n").join(lines)


class TimelineScreen(KeysScreen[None]):
    BINDINGS = [Binding("escape,t", "leave", "Back", id="timeline.back")]

    def __init__(self) -> None:
        super().__init__()
        self.sub_title = "Timeline"

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("loading…", id="timeline")
            yield Static("", id="timeline-list")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.load()

    def records_changed(self) -> None:
        self.load()

    @safe_work("Timeline", group="timeline", exclusive=True)
    def load(self) -> None:
        store = self.services.store
        now = self.services.clock.now()
        horizon = now + WEEKS * 7 * 86400
        records = [r for r in store.all(lean=True) if r.lifecycle is not Lifecycle.RETIRED]
        reminders = store.reminders()
        expiries = [r.expires_at for r in records if r.expires_at is not None]
        due_times = [r.when() for r in reminders if r.kind is not ReminderKind.EXPIRY]
        overdue = (sum(1 for t in expiries if t <= now),
                   sum(1 for r in reminders if r.kind is not ReminderKind.EXPIRY and r.is_due(now)))
        # What is already past is counted once, as overdue, not again in this week's bar.
        weeks = weekly([t for t in expiries if t > now], [t for t in due_times if t > now], now)
        soon = sorted((r.expires_at, r.name, r.notes) for r in records
                      if r.expires_at is not None and now < r.expires_at <= horizon)[:15]
        self.from_worker(self._show, weeks, overdue, listing(soon))

    def _show(self, weeks: list[tuple[datetime, int, int]], overdue: tuple[int, int], soon: Content) -> None:
        self._weeks = (weeks, overdue)
        self._draw()
        self.query_one("#timeline-list", Static).update(soon)

    _weeks: tuple[list[tuple[datetime, int, int]], tuple[int, int]] | None = None

    def on_resize(self, _: Resize) -> None:
        self._draw()

    def _draw(self) -> None:
        """The bars, as wide as the screen allows (again when it is resized)."""
        if self._weeks is not None:
            width = self.query_one(VerticalScroll).scrollable_content_region.width or self.size.width
            self.query_one("#timeline", Static).update(render(*self._weeks, width=width or 120))
