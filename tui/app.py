"""The momento-keys dashboard.

The App receives its services (a Keeper: store, vault, settings) and its clock
from a factory (tui.factory), so the CLI, the tests, the screenshot script and
the benchmarks build it the same way. Blocking work runs in thread workers;
their results come back as messages or via call_from_thread.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Input, Static

from .core.model import KeyRecord, Status
from .core.policy import GLYPHS, LABELS
from .core.roster import Roster, RosterBands, RosterRow, RowsView
from .services.clipboard import SystemClipboard
from .services.keeper import Keeper, KeeperError
from .services.memory import release_free_memory
from .services.store import StoreError
from .services.vault import Health, VaultError
from .widgets.key_table import SORTS, KeyTable, KeyTableHeader
from .widgets.summary import SummaryLine
from .widgets.footer import KeysFooter

POLL_SECONDS = 2.0
SYNC_LOAD_MAX = 20_000  # keys read before the first paint (about 0.1 s); more load in a worker
REMINDER_POLL_SECONDS = 30.0
REVEAL_SECONDS = 20


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: building many small objects (a roster's rows)
    would otherwise trigger passes over every object of the app. Nests; restores the state."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class RecordsLoaded(Message):
    def __init__(self, roster: Roster, version: int | None) -> None:
        super().__init__()
        self.roster = roster
        self.version = version


class VaultChecked(Message):
    pass


class KeysCommands(Provider):
    """Command palette entries for the dashboard's actions."""

    def _commands(self) -> list[tuple[str, str, str]]:
        app = self.app
        assert isinstance(app, MomentoKeysApp)
        items = [
            ("Filter keys", "Type to filter by name, region, kind, notes or tags", "filter"),
            ("Sort by expiry", "Soonest expiry first", "sort('expiry')"),
            ("Sort by status", "Worst status first", "sort('status')"),
            ("Sort by name", "Alphabetical", "sort('name')"),
            ("Show details of the selected key", "Metadata, permissions, events, secret", "open_selected"),
            ("Reminders", "Due first: snooze, dismiss, open the key, rotate", "reminders"),
            ("Timeline", "Expiries and reminders over the next 90 days, week by week", "timeline"),
            ("Help", "Keys, status bands and CLI exit codes", "help"),
            ("Reload keys", "Read the database again", "reload"),
        ]
        if not app.readonly:
            items += [
                ("Generate a new key (wizard)", "Fine-grained key or short-lived token, step by step", "new_key"),
                ("Import a key", "Paste a key or give the path of the console's Download JSON", "import_key"),
                ("Edit the selected key", "Name, notes, tags, thresholds", "edit_selected"),
                ("Delete the selected key", "Removes its record and its keyring entry", "delete_selected"),
                ("Copy the selected key", "To the clipboard, cleared after a while", "copy_selected"),
                ("Rotate the selected key", "Refresh it through Momento, or replace it by hand", "rotate_selected"),
            ]
        return items

    async def discover(self) -> Hits:
        for title, help_text, action in self._commands():
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action), help=help_text)


class Dashboard(Screen):
    """The table of keys, the filter, the summary line and the storage banner."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("n", "new_key", "New key", id="new_key"),
        Binding("i", "import_key", "Import", id="import"),
        Binding("r", "reminders", "Reminders", id="reminders"),
        Binding("R", "rotate_selected", "Rotate", id="rotate"),
        Binding("t", "timeline", "Timeline", show=False, id="timeline"),
        Binding("e", "edit_selected", "Edit", show=False, id="edit"),
        Binding("d,delete", "delete_selected", "Delete", show=False, id="delete"),
        Binding("c", "copy_selected", "Copy key", show=False, id="copy"),
        Binding("s", "cycle_sort", "Sort", show=False, id="sort"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="clear_filter"),
        Binding("ctrl+r", "reload", "Reload", show=False, id="reload"),
    ]

    def compose(self) -> ComposeResult:
        app = self.app
        assert isinstance(app, MomentoKeysApp)
        yield Header()
        yield Static("", id="banner")
        # The summary sits right above the table: it changes about as often as the
        # countdowns, and Textual repaints the span between changed regions.
        yield SummaryLine(id="summary")
        yield Input(placeholder="Filter: name, region, kind, notes, tags…  (Enter: back to the table, Esc: clear)",
                    id="filter")
        with Vertical(id="table-box"):
            yield KeyTableHeader(id="table-header")
            yield KeyTable(app.keeper.clock, id="keys")
            yield Static(EMPTY_TEXT, id="empty")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(KeyTable).focus()
        self.app.start()  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        app = self.app
        if isinstance(app, MomentoKeysApp) and app.readonly and action in WRITE_ACTIONS:
            return False
        return True

    # ---- filter ------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value or box.display:
            box.value = ""
            box.display = False
            self.query_one(KeyTable).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(KeyTable).set_filter(event.value)
        self.app.refresh_summary()  # type: ignore[attr-defined]

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.value:
            box.display = False
        self.query_one(KeyTable).focus()

    def action_cycle_sort(self) -> None:
        table = self.query_one(KeyTable)
        table.set_sort(SORTS[(SORTS.index(table.sort) + 1) % len(SORTS)])
        self.app.refresh_summary()  # type: ignore[attr-defined]
        self.notify(f"Sorted by {table.sort}", timeout=2)

    # Delegate to the app, which owns the records and workers.
    def action_import_key(self) -> None:
        self.app.action_import_key()  # type: ignore[attr-defined]

    def action_new_key(self) -> None:
        self.app.action_new_key()  # type: ignore[attr-defined]

    def action_reminders(self) -> None:
        self.app.action_reminders()  # type: ignore[attr-defined]

    def action_timeline(self) -> None:
        self.app.action_timeline()  # type: ignore[attr-defined]

    def action_rotate_selected(self) -> None:
        self.app.action_rotate_selected()  # type: ignore[attr-defined]

    def action_edit_selected(self) -> None:
        self.app.action_edit_selected()  # type: ignore[attr-defined]

    def action_delete_selected(self) -> None:
        self.app.action_delete_selected()  # type: ignore[attr-defined]

    def action_copy_selected(self) -> None:
        self.app.action_copy_selected()  # type: ignore[attr-defined]

    def action_reload(self) -> None:
        self.app.action_reload()  # type: ignore[attr-defined]

    @on(KeyTable.Opened)
    def _open(self, event: KeyTable.Opened) -> None:
        self.app.open_detail(event.record)  # type: ignore[attr-defined]


EMPTY_TEXT = """[b]No Momento keys tracked yet.[/b]

Press [b]i[/b] to import one: paste the key, or give the path of the
JSON file the Momento console's [i]Download JSON[/i] button saved.
Press [b]n[/b] to generate a scoped, expiring key with the wizard
(it needs a super-user key to act with).

From a shell:  [b]momento-keys import --name "orders-api prod" --file key.json[/b]

Keys are made in the Momento console (console.gomomento.com → API keys).
Secrets go to your OS keyring; this tool's database keeps only metadata.
Press [b]?[/b] for help, [b]ctrl+p[/b] for all commands."""

WRITE_ACTIONS = {"import_key", "new_key", "edit_selected", "delete_selected", "copy_selected", "rotate_selected"}


class MomentoKeysApp(App):
    """Every tracked Momento key, with a live countdown to expiry."""

    TITLE = "momento-keys"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {KeysCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, id="quit_ctrl"),
        Binding("question_mark", "help", "Help", id="help"),
    ]

    def __init__(self, keeper: Keeper, *, readonly: bool = False, watch_interval: float = POLL_SECONDS,
                 tick: bool = True, api_factory=None) -> None:
        super().__init__()
        self.keeper = keeper
        # Builds the Momento API client (tests point it at a local fake server).
        self.api_factory = api_factory
        self.readonly = readonly or keeper.store.readonly
        self.roster = Roster([], keeper.settings.thresholds)
        self.bands = RosterBands(self.roster, 0)
        self.reminders_due = 0
        self.clipboard_tool = SystemClipboard()
        self._watch_interval = watch_interval
        self._tick_enabled = tick
        self._data_version: int | None = None
        self._loaded = False
        self._copy_generation = 0
        self._table: KeyTable | None = None  # the dashboard's, looked up once (a DOM query per tick costs
        self._summary: SummaryLine | None = None  # more than the tick's own work)
        if keeper.settings.bindings:
            self.set_keymap(keeper.settings.bindings)

    # ---- start up ----------------------------------------------------------------
    def get_default_screen(self) -> Screen:
        return Dashboard(id="dashboard")

    def start(self) -> None:
        """The dashboard is on screen: load, probe the keyring, start the clocks."""
        self.update_banner()
        # The rows first. Upkeep (reminders, grace windows, interrupted rotations)
        # and the keyring probe wait until they are on screen (see on_records_loaded):
        # they would compete with the first paint for the CPU and the database.
        # Up to SYNC_LOAD_MAX keys are read right here, so the first frame shows them:
        # a worker would share the one interpreter lock with the painting of an empty
        # dashboard, and take longer. More keys load in a worker, the UI live meanwhile.
        try:
            small = self.keeper.store.count() <= SYNC_LOAD_MAX
        except StoreError:
            small = False  # the worker reports it
        if small:
            self._load()
        else:
            self.sub_title = "loading…"
            self.load_records()
        if self._tick_enabled:
            self.set_interval(1.0, self.tick, name="countdown")
        if self._watch_interval:
            self.set_interval(self._watch_interval, self.poll_changes, name="watch-db")
        self.set_interval(REMINDER_POLL_SECONDS, self.count_reminders, name="reminders-due")

    @property
    def dashboard(self) -> Dashboard:
        screen = self.screen_stack[0]
        assert isinstance(screen, Dashboard)
        return screen

    @property
    def table(self) -> KeyTable:
        if self._table is None:
            self._table = self.dashboard.query_one(KeyTable)
        return self._table

    @property
    def records(self) -> RowsView:
        """Every listed key (retired ones too), soonest expiry first, as RosterRows."""
        return RowsView(self.roster, self.roster.order("expiry", 0))

    def row(self, record_id: int) -> RosterRow | None:
        """The listed key with this id, if any."""
        i = self.roster.index_of(record_id)
        return None if i is None else self.roster.row(i)

    # ---- records ---------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load")
    def load_records(self) -> None:
        self._load()  # (the recount that follows gives the freed memory back)

    def _load(self) -> bool:
        """Read every key (in a worker, or at start on the main thread) and post them."""
        try:
            version = self.keeper.store.data_version()
            with gc_paused():  # ~40% of a roster's build is the cyclic collector otherwise
                roster = self.keeper.store.roster(self.keeper.settings.thresholds)
        except StoreError as exc:
            if threading.current_thread() is threading.main_thread():
                self.notify(str(exc), title="Database", severity="error", timeout=15)
            else:
                self.call_from_thread(self.notify, str(exc), title="Database", severity="error", timeout=15)
            return False
        self.post_message(RecordsLoaded(roster, version))
        return True

    @work(thread=True, exclusive=True, group="maintain")
    def maintain(self) -> None:
        """At start, after the rows are on screen: reminder schedules up to date,
        ended grace windows retired, interrupted rotations resumed; then announce
        what is due."""
        notes: list[str] = []
        changed = False
        try:
            changed = self.keeper.schedule_all() > 0
            for r in self.keeper.retire_expired_previous():
                notes.append(f"Retired {r.name!r}: its grace window ended")
                changed = True
            if self.keeper.store.open_rotations():  # only then load the Momento client
                for outcome in self.rotator().resume():
                    notes.append(outcome if isinstance(outcome, str) else f"Resumed an interrupted rotation: "
                                                                          f"{outcome.summary()}")
                    changed = True
            due, names = self.keeper.store.due_summary(int(self.keeper.clock.now()), names=4)
        except Exception as exc:  # never block the dashboard on maintenance
            self.call_from_thread(self.notify, f"Could not update reminders: {exc}", severity="warning")
            due, names = 0, []
        if changed:
            self.call_from_thread(self.load_records)
        self.call_from_thread(self._set_reminders_due, due)
        for note in notes:
            self.call_from_thread(self.notify, note, timeout=10)
        if due:
            more = "" if len(names) >= due else f" and {due - len(names)} more"
            self.call_from_thread(self.notify, f"{due} reminder{'s' if due != 1 else ''} due: "
                                  f"{', '.join(names)}{more}. Press r to see them.", title="Reminders",
                                  severity="warning", timeout=15)

    def rotator(self):
        from .services.rotation import Rotator

        factory = self.api_factory
        if factory is None:
            from .services.momento import MomentoApi

            factory = MomentoApi.from_env
        return Rotator(self.keeper, factory)

    def rotate(self, record: KeyRecord | RosterRow) -> None:
        if self.readonly:
            return
        from .screens.rotate import RotateScreen

        try:  # the whole record: a rotation carries its permissions over
            record = self.keeper.store.get(record.id)  # type: ignore[arg-type]
        except StoreError as exc:
            self.notify(str(exc), severity="error")
            return
        self.push_screen(RotateScreen(record))

    def action_rotate_selected(self) -> None:
        record = self.selected()
        if record is not None:
            self.rotate(record)

    def action_reminders(self) -> None:
        from .screens.reminders import RemindersScreen

        if not isinstance(self.screen, RemindersScreen):
            self.push_screen(RemindersScreen())

    def action_timeline(self) -> None:
        from .screens.timeline import TimelineScreen

        if not isinstance(self.screen, TimelineScreen):
            self.push_screen(TimelineScreen())

    def on_records_loaded(self, message: RecordsLoaded) -> None:
        self.roster = message.roster
        self._data_version = message.version
        self.table.set_roster(self.roster)
        shown = len(self.roster) > 0
        self.dashboard.query_one("#empty").display = not shown
        self.dashboard.query_one("#table-header").display = shown
        self.table.display = shown
        if shown and self.dashboard.focused is None:
            self.table.focus()

        first = not self._loaded
        self._loaded = True
        self.refresh_title()
        self.refresh_summary()
        # The rows reach the screen first; counting them, and on the first load the
        # upkeep and the keyring probe, would compete with that frame for the CPU.
        self.call_after_refresh(self._after_load, first)
        for screen in self.screen_stack[1:]:
            if hasattr(screen, "records_changed"):
                screen.records_changed()

    def _after_load(self, first: bool) -> None:
        self.recount()
        self.count_reminders()
        if first and not self.readonly and not self.keeper.store.readonly:
            self.maintain()
        if first and not self.readonly:
            self.check_vault()

    def poll_changes(self) -> None:
        """Pick up changes other processes (the CLI, another dashboard) committed."""
        if not self._loaded:
            return
        self._poll_worker()

    @work(thread=True, exclusive=True, group="poll")
    def _poll_worker(self) -> None:
        try:
            version = self.keeper.store.data_version()
        except StoreError:
            return
        if version != self._data_version:
            self.call_from_thread(self.load_records)

    def action_reload(self) -> None:
        self.load_records()

    @work(thread=True, exclusive=True, group="summary")
    def recount(self) -> None:
        """Rebuild the band counts (O(n): after a load, and hourly) off the main thread;
        after a load, also the filter's text."""
        roster = self.roster
        bands = RosterBands(roster, self.keeper.clock.now())
        self.call_from_thread(self._set_bands, roster, bands)
        if not roster.searchable:
            try:
                if self.keeper.store.add_search_text(roster):
                    self.call_from_thread(self._searchable, roster)
            except StoreError:
                pass  # the filter keeps to names, kinds and regions until the next load
        release_free_memory()  # what building these took, and the replaced roster after a reload

    def _searchable(self, roster: Roster) -> None:
        """Notes, tags and providers can be searched now: filter again if a filter is typed."""
        table = self.table
        if roster is self.roster and table.filter_text:
            table.set_filter(table.filter_text)
            self.refresh_summary()

    def _set_bands(self, roster: Roster, bands: RosterBands) -> None:
        if roster is self.roster:  # not overtaken by a newer load
            self.bands = bands
            self.refresh_summary()

    @work(thread=True, exclusive=True, group="reminders-count")
    def count_reminders(self) -> None:
        try:
            due = self.keeper.store.due_count(int(self.keeper.clock.now()))
        except StoreError:
            return
        self.call_from_thread(self._set_reminders_due, due)

    def _set_reminders_due(self, due: int) -> None:
        if due != self.reminders_due:
            self.reminders_due = due
            self.refresh_summary()

    def refresh_summary(self) -> None:
        """The summary line: counts per band, reminders due, filter, sort, where secrets live.
        Only this one line repaints (no layout, no header churn)."""
        c = self.bands.counts
        total = self.bands.total
        if self.bands.roster is self.roster:
            parts = [(f"{total} key{'s' if total != 1 else ''}", False)]
        else:  # just loaded: the counts follow in a moment
            parts = [("counting keys…", False)]
        if self.reminders_due:
            parts.append((f"{self.reminders_due} reminder{'s' if self.reminders_due != 1 else ''} due", True))
        for status in (Status.EXPIRED, Status.CRITICAL, Status.WARNING, Status.NEVER, Status.UNKNOWN):
            if c.get(status) and self.bands.roster is self.roster:
                parts.append((f"{GLYPHS[status]} {c[status]} {LABELS[status].lower()}", False))
        table = self.table
        if table.filter_text:
            parts.append((f"{len(table.order)} of {len(self.roster)} shown", False))
        parts.append((f"sorted by {table.sort}", False))
        if self._summary is None or not self._summary.is_attached:
            self._summary = next(iter(self.dashboard.query("#summary").results(SummaryLine)), None)
        if self._summary is not None:  # (none while shutting down)
            self._summary.set_parts(parts)

    def refresh_title(self) -> None:
        """The header: how many keys, and where their secrets live (changes rarely)."""
        n = len(self.roster)
        vault = self.keeper.vault.status
        if self.readonly:
            where = "READ-ONLY (keyring not used)"
        elif vault.health is Health.SECURE:
            where = f"secrets: {vault.description}"
        elif vault.health is Health.UNCHECKED:
            where = "checking the keyring…"
        else:
            where = "secrets NOT stored"
        self.sub_title = f"{n} key{'s' if n != 1 else ''} · {where}"

    # ---- time ---------------------------------------------------------------------------
    def tick(self) -> None:
        """Once a second: repaint the visible countdowns; recount only when a band changes."""
        self.table.tick()
        for screen in self.screen_stack[1:]:
            if hasattr(screen, "tick"):
                screen.tick()
        now = self.keeper.clock.now()
        if self.bands.stale(now):
            if self.bands.roster is self.roster:  # (a recount is already on its way otherwise)
                self.recount()
        elif self.bands.advance(now):
            self.refresh_summary()

    # ---- keyring --------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="vault")
    def check_vault(self) -> None:
        self.keeper.vault.probe()
        self.post_message(VaultChecked())

    def on_vault_checked(self, _: VaultChecked) -> None:
        self.update_banner()
        self.refresh_title()
        status = self.keeper.vault.status
        if status.health is Health.SECURE:
            return
        if self.keeper.vault.writable():
            self.notify(f"Secrets go to an insecure keyring ({status.description}): you allowed this",
                        title="Keyring", severity="warning", timeout=10)
        else:
            self.notify(status.summary(), title="Keyring", severity="warning", timeout=10)

    def update_banner(self) -> None:
        banner = self.dashboard.query_one("#banner", Static)
        status = self.keeper.vault.status
        banner.remove_class("-warning", "-info")
        if self.keeper.store.readonly and self.keeper.store.readonly_reason != "opened read-only":
            banner.update(f"⚠ READ-ONLY: {self.keeper.store.readonly_reason}")
            banner.add_class("-warning")
            banner.display = True
        elif self.readonly:
            banner.update("READ-ONLY watch mode: no changes, the keyring is never touched")
            banner.add_class("-info")
            banner.display = True
        elif status.health in (Health.BROKEN, Health.INSECURE) and not self.keeper.vault.writable():
            summary = status.summary()
            extra = f" — {status.detail}" if status.detail and status.detail not in summary else ""
            banner.update(f"⚠ {summary}{extra}. Run `momento-keys doctor` for a fix.")
            banner.add_class("-warning")
            banner.display = True
        elif status.health is Health.INSECURE:
            banner.update(f"⚠ Secrets go to an INSECURE keyring ({status.description}): you allowed this")
            banner.add_class("-warning")
            banner.display = True
        else:
            banner.display = False

    # ---- actions --------------------------------------------------------------------------
    def selected(self) -> KeyRecord | None:
        """The whole record of the key on screen: the detail view's, or the table's current row."""
        if self.screen is not self.dashboard and hasattr(self.screen, "record"):
            return self.screen.record  # type: ignore[attr-defined]
        record_id = self.table.current_id
        if record_id is None:
            return None
        try:
            return self.keeper.store.get(record_id)
        except StoreError as exc:
            self.notify(str(exc), severity="error")
            return None

    def open_detail(self, record: KeyRecord | RosterRow) -> None:
        from .screens.detail import DetailScreen

        try:  # the list holds a few fields of each key; the detail view shows everything
            record = self.keeper.store.get(record.id)  # type: ignore[arg-type]
        except StoreError as exc:
            self.notify(str(exc), severity="error")
            return
        self.push_screen(DetailScreen(record))

    def action_open_selected(self) -> None:
        record = self.table.current
        if record is not None:
            self.open_detail(record)

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_filter(self) -> None:
        if self.screen is self.dashboard:
            self.dashboard.action_filter()

    def action_sort(self, sort: str) -> None:
        self.table.set_sort(sort)
        self.refresh_summary()

    def action_import_key(self) -> None:
        if self.readonly:
            return
        from .screens.import_key import ImportScreen

        self.push_screen(ImportScreen())

    def action_new_key(self) -> None:
        if self.readonly:
            return
        from .screens.wizard import WizardScreen

        self.push_screen(WizardScreen())

    def action_edit_selected(self) -> None:
        record = self.selected()
        if self.readonly or record is None:
            return
        from .screens.edit import EditScreen

        self.push_screen(EditScreen(record))

    def action_delete_selected(self) -> None:
        record = self.selected()
        if self.readonly or record is None:
            return
        from .widgets.confirm import ConfirmScreen

        secret = "and its secret in the keyring " if record.secret_stored else ""
        question = Text.assemble(
            "Delete ", (record.name, "bold"), f"?\n\nThis removes its record {secret}from this machine. "
            "The key itself keeps working at Momento until it expires: revoke it in the Momento console "
            "if it should stop working now."
        )

        def done(yes: bool | None) -> None:
            if yes:
                self.delete_record(record)

        self.push_screen(ConfirmScreen(question, yes="Delete", danger=True), done)

    @work(thread=True, group="write")
    def delete_record(self, record: KeyRecord) -> None:
        try:
            self.keeper.delete(record)
        except (StoreError, KeeperError) as exc:
            self.call_from_thread(self.notify, f"{record.name}: not deleted: {exc}", severity="error")
            return
        self.call_from_thread(self._after_delete, record)

    def _after_delete(self, record: KeyRecord) -> None:
        from .screens.detail import DetailScreen

        if isinstance(self.screen, DetailScreen) and self.screen.record.id == record.id:
            self.pop_screen()
        self.notify(f"Deleted {record.name!r}" + (" and its keyring entry" if record.secret_stored else ""))
        self.load_records()

    def action_copy_selected(self) -> None:
        record = self.selected()
        if self.readonly or record is None:
            return
        self.copy_secret(record)

    @work(thread=True, group="secret")
    def copy_secret(self, record: KeyRecord) -> None:
        try:
            value = self.keeper.secret(record, why="copied")
        except (KeeperError, StoreError, VaultError) as exc:
            self.call_from_thread(self.notify, str(exc), title="Copy", severity="error")
            return
        system = self.clipboard_tool.copy(value)
        self.call_from_thread(self._copied, record, value, system)

    def _copied(self, record: KeyRecord, value: str, system: bool) -> None:
        self.copy_to_clipboard(value)
        self._copy_generation += 1
        generation = self._copy_generation
        clear = self.keeper.settings.clipboard_clear_seconds
        how = f"system clipboard ({self.clipboard_tool.name}) and terminal (OSC 52)" if system else "terminal clipboard (OSC 52; works where your terminal allows it)"
        tail = f"; it will be cleared in {clear}s" if clear else ""
        self.notify(f"Copied the key of {record.name!r} to the {how}{tail}", title="Copied")
        if clear:
            self.set_timer(clear, partial(self._clear_clipboard, record.name, value, generation, system))

    def _clear_clipboard(self, name: str, value: str, generation: int, system: bool) -> None:
        if generation != self._copy_generation:
            return  # a newer copy replaced it; that one clears itself
        if self.clipboard == value:
            self.copy_to_clipboard("")
        outcome = self.clipboard_tool.clear_if_holds(value) if system else "cleared (terminal clipboard)"
        self.notify(f"Clipboard {outcome}: the key of {name!r} is no longer offered", timeout=4)

