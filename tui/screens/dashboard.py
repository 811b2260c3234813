"""The dashboard: the table of keys, the filter, the summary line and the storage banner.

The app owns the keys (its roster) and the workers that load them; this screen shows
them. Its keys for the app's actions (new key, import, rotate…) are bound to those
actions directly (``app.…``), so the app decides, in one place, what read-only mode
allows.
"""

from __future__ import annotations

from typing import Protocol, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Header, Input, Static

from ..core.model import Status
from ..core.policy import GLYPHS, LABELS
from ..core.report import local_time
from ..core.roster import SORTS, Roster, RosterBands
from ..services.vault import Health
from ..widgets.footer import KeysFooter
from ..widgets.key_table import SORT_MARKS, KeyTable, KeyTableHeader
from ..widgets.summary import Part, SummaryLine
from .base import AppHost, KeysScreen

EMPTY_TEXT = """[b]No Momento keys tracked yet.[/b]

Press [b]i[/b] to import one: paste the key, or give the path of the
JSON file the Momento console's [i]Download JSON[/i] button saved.
Press [b]n[/b] to generate a scoped, expiring key with the wizard
(it needs a super-user key to act with).

From a shell:  [b]momento-keys import --name "orders-api prod" --file key.json[/b]

Keys are made in the Momento console (console.gomomento.com → API keys).
Secrets go to your OS keyring; this tool's database keeps only metadata.
Press [b]?[/b] for help, [b]ctrl+p[/b] for all commands."""


# How long a band's count stays on a narrow summary line (see SummaryLine): the worst longest.
BAND_KEEP = {Status.REVOKED: 40, Status.EXPIRED: 40, Status.CRITICAL: 40, Status.WARNING: 30, Status.NEVER: 20,
             Status.UNKNOWN: 20}


class DashboardHost(AppHost, Protocol):
    """What the dashboard reads from the app besides the services."""

    roster: Roster
    bands: RosterBands
    reminders_due: int
    account_synced_at: int | None   # v2 keys: the last account sync (None: never)
    sync_note: str | None           # what a running account sync is doing
    endpoint_override: str | None   # where Momento calls go instead (--endpoint-override), if set

    def start(self) -> None: ...


class Dashboard(KeysScreen[None]):
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("n", "app.new_key", "New key", id="new_key"),
        Binding("i", "app.import_key", "Import", id="import"),
        Binding("r", "app.reminders", "Reminders", id="reminders"),
        Binding("R", "app.rotate_selected", "Rotate", id="rotate"),
        Binding("S", "app.sync_account", "Sync account", show=False, id="sync"),
        Binding("X", "app.revoke_selected", "Revoke", show=False, id="revoke"),
        Binding("t", "app.timeline", "Timeline", show=False, id="timeline"),
        Binding("e", "app.edit_selected", "Edit", show=False, id="edit"),
        Binding("d,delete", "app.delete_selected", "Delete", show=False, id="delete"),
        Binding("c", "app.copy_selected", "Copy key", show=False, id="copy"),
        Binding("s", "cycle_sort", "Sort", show=False, id="sort"),
        Binding("o", "reverse_sort", "Reverse sort", show=False, id="sort_reverse"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="clear_filter"),
        Binding("ctrl+r", "app.reload", "Reload", show=False, id="reload"),
    ]

    @property
    def dashboard_host(self) -> DashboardHost:
        return cast(DashboardHost, self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="banner")
        # The summary sits right above the table: it changes about as often as the
        # countdowns, and Textual repaints the span between changed regions.
        yield SummaryLine(id="summary")
        yield Input(placeholder="Filter: name, region, kind, notes, tags…  (Enter: back to the table, Esc: clear)",
                    id="filter")
        with Vertical(id="table-box"):
            yield KeyTableHeader(id="table-header")
            yield KeyTable(self.services.clock, id="keys")
            yield Static(EMPTY_TEXT, id="empty")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(KeyTable).focus()
        self.dashboard_host.start()

    _table: KeyTable | None = None
    _summary: SummaryLine | None = None

    @property
    def table(self) -> KeyTable:
        # Looked up once: a DOM query per tick costs more than the tick's own work.
        if self._table is None:
            self._table = self.query_one(KeyTable)
        return self._table

    # ---- what the app shows here ---------------------------------------------------
    def show_roster(self, roster: Roster) -> None:
        table = self.table
        table.set_roster(roster)
        shown = len(roster) > 0
        self.query_one("#empty").display = not shown
        self.query_one("#table-header").display = shown
        table.display = shown
        if shown and self.focused is None:
            table.focus()

    def update_banner(self) -> None:
        """The banner above the table, while something about storage needs saying."""
        services = self.services
        store, vault = services.store, services.vault
        status = vault.status
        if store.readonly and store.readonly_reason != "opened read-only":
            self.show_banner(f"⚠ READ-ONLY: {store.readonly_reason}")
        elif services.readonly:
            self.show_banner("READ-ONLY watch mode: no changes, the keyring is never touched", "-info")
        elif status.health in (Health.BROKEN, Health.INSECURE) and not vault.writable():
            summary = status.summary()
            extra = f" — {status.detail}" if status.detail and status.detail not in summary else ""
            self.show_banner(f"⚠ {summary}{extra}. Run `momento-keys doctor` for a fix.")
        elif status.health is Health.INSECURE:
            self.show_banner(f"⚠ Secrets go to an INSECURE keyring ({status.description}): you allowed this")
        else:
            self.show_banner(None)

    def refresh_title(self) -> None:
        """The header: the endpoint override while it is on (first: a narrow header keeps it),
        how many keys, and where their secrets live (changes rarely). The dashboard's own
        subtitle, not the app's: every screen's Header watches the app's, and one on a screen
        closed while it was still opening would be asked to repaint."""
        n = len(self.dashboard_host.roster)
        vault = self.services.vault.status
        if self.services.readonly:
            where = "READ-ONLY (keyring not used)"
        elif vault.health is Health.SECURE:
            where = f"secrets: {vault.description}"
        elif vault.health is Health.UNCHECKED:
            where = "checking the keyring…"
        else:
            where = "secrets NOT stored"
        host = self.dashboard_host
        account = ""
        if host.sync_note is not None:
            account = f" · {host.sync_note}"
        elif host.account_synced_at is not None:
            account = f" · synced {local_time(host.account_synced_at)}"
        override = f"⚠ endpoint override {host.endpoint_override} · " if host.endpoint_override else ""
        self.sub_title = f"{override}{n} key{'s' if n != 1 else ''} · {where}{account}"

    def show_banner(self, text: str | None, style: str = "-warning") -> None:
        """A line above the table while something about storage needs saying (None: hidden).
        The text is shown as is: it may hold a path or a keyring's own words."""
        banner = self.query_one("#banner", Static)
        banner.remove_class("-warning", "-info")
        if text is None:
            banner.display = False
            return
        banner.update(Text(text))
        banner.add_class(style)
        banner.display = True

    def refresh_summary(self) -> None:
        """The summary line: counts per band, reminders due, filter, sort. Only this one line
        repaints (no layout, no header churn)."""
        host = self.dashboard_host
        bands, roster = host.bands, host.roster
        counted = bands.roster is roster
        total = bands.total
        # On a narrow line the band counts give way first (short, then gone), the filter's
        # count and the sort last (see SummaryLine).
        retired = len(roster) - total  # (the header counts every listed key; retired ones are in no band)
        counts = f"{total} key{'s' if total != 1 else ''}" + (f" + {retired} retired" if retired > 0 else "")
        parts = [Part(counts if counted else "counting keys…", keep=60)]
        due = host.reminders_due
        if due:
            parts.append(Part(f"{due} reminder{'s' if due != 1 else ''} due", True, keep=80))
        if counted:
            for status in (Status.REVOKED, Status.EXPIRED, Status.CRITICAL, Status.WARNING, Status.NEVER,
                           Status.UNKNOWN):
                if count := bands.counts.get(status):
                    parts.append(Part(f"{GLYPHS[status]} {count} {LABELS[status].lower()}", keep=BAND_KEEP[status],
                                      short=f"{GLYPHS[status]} {count}"))
        table = self.table
        if table.filter_text:
            parts.append(Part(f"{len(table.order)} of {len(roster)} shown", keep=100))
        parts.append(Part(f"sorted by {table.sort} {SORT_MARKS[table.reverse]}", keep=90))
        if self._summary is None or not self._summary.is_attached:
            self._summary = next(iter(self.query("#summary").results(SummaryLine)), None)
        if self._summary is not None:  # (none while shutting down)
            self._summary.set_parts(parts)

    # ---- filter and sort --------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value or box.display:
            box.value = ""
            box.display = False
            self.table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self.refresh_summary()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.value:
            box.display = False
        self.table.focus()

    def set_sort(self, sort: str, reverse: bool = False) -> None:
        """Sort the table by `sort` (one of core.roster.SORTS), in its own order or reversed;
        the cursor stays on its key."""
        self.table.set_sort(sort, reverse)
        self.query_one(KeyTableHeader).refresh()
        self.refresh_summary()

    def action_cycle_sort(self) -> None:
        table = self.table
        self.set_sort(SORTS[(SORTS.index(table.sort) + 1) % len(SORTS)])
        self.notify(f"Sorted by {table.sort}", timeout=2)

    def action_reverse_sort(self) -> None:
        table = self.table
        self.set_sort(table.sort, not table.reverse)
        self.notify(f"Sorted by {table.sort}, {'reversed' if table.reverse else 'in its own order'}", timeout=2)

    @on(KeyTableHeader.SortClicked)
    def _sort_clicked(self, event: KeyTableHeader.SortClicked) -> None:
        """A column's title: sort by it; the sort's own column again: reverse."""
        table = self.table
        self.set_sort(event.sort, not table.reverse if event.sort == table.sort else False)

    @on(KeyTable.Opened)
    def _open(self, event: KeyTable.Opened) -> None:
        self.host.action_open_detail(event.record.id)
