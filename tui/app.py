"""The momento-keys app: wiring, app-wide bindings, the workers that keep the keys current.

The App receives its services (``tui.services.context.Services``: keeper, store, vault,
settings, clock, the Momento client's factory) from one factory (tui.factory), so the
CLI, the tests, the screenshot script and the benchmarks build it the same way, and
exposes them to every screen as ``app.services``. Screens navigate through the actions
here (``action_open_detail(id)``, ``action_rotate(id)``…), answer through ``dismiss`` or
messages (tui.messages), and never import each other. Blocking work runs in thread
workers (``safe_work``: errors are shown, never fatal); their results come back as
messages or callbacks on the main thread.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.notifications import Notification, Notify, SeverityLevel
from textual.screen import Screen
from textual.theme import Theme

from .commands import KeysCommands
from .copying import SecretCopying
from .core.model import KeyRecord, KeyType, Kind, Lifecycle
from .core.roster import Roster, RosterBands, RosterRow, RowsView
from .core.text import one_line, terminal_safe
from .messages import KeysChanged, RecordsLoaded, VaultChecked
from .screens.base import KeysBase, on_ui, report, safe_work
from .screens.dashboard import Dashboard
from .services.config import UiState, starting_theme
from .services.context import Services
from .services.keeper import Keeper
from .services.memory import release_free_memory
from .services.store import StoreError
from .services.vault import Health
from .widgets.key_table import KeyTable

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from .core.roles import Role
    from .services.account import AccountClient
    from .services.revoke import RevokeOutcome
    from .services.sync import SyncReport

__all__ = ["KeysChanged", "MomentoKeysApp", "RecordsLoaded", "VaultChecked"]

POLL_SECONDS = 2.0
SYNC_LOAD_MAX = 20_000  # keys read before the first paint (about 0.1 s); more load in a worker
REMINDER_POLL_SECONDS = 30.0

# Actions that change something: refused in read-only mode (bindings show them disabled).
WRITE_ACTIONS = frozenset({
    "import_key", "new_key", "edit_selected", "delete_selected", "copy_selected", "rotate_selected",
    "open_import", "open_wizard", "edit", "delete", "copy", "rotate", "sync_account", "revoke", "revoke_selected",
})
ROW_ACTIONS = frozenset({"rotate_selected", "edit_selected", "delete_selected", "copy_selected", "revoke_selected"})
OWNER_ROLE = "Owner"  # the system role that manages API keys: preferred to act with


def pick_acting(records: list[KeyRecord], prefer_id: int | None = None, avoid_id: int | None = None) -> KeyRecord | None:
    """The tracked key to act with on the account API: a current v2 key whose secret is held.
    Keys whose role is Owner (the role that manages API keys) first, then the others; within
    each, ``prefer_id`` (the selected key) first, then the first tracked. So the selection
    picks among Owner keys, and is used itself when no Owner key is held. ``avoid_id`` (the
    key being revoked) only if there is no other."""
    usable = [r for r in records if r.kind is Kind.V2 and r.secret_stored and r.lifecycle is Lifecycle.ACTIVE
              and r.revoked_at is None]
    ranked = sorted(usable, key=lambda r: (r.role_name != OWNER_ROLE, r.id != prefer_id, r.id or 0))
    others = [r for r in ranked if r.id != avoid_id]
    chosen = others or ranked
    return chosen[0] if chosen else None



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


class MomentoKeysApp(SecretCopying):
    """Every tracked Momento key, with a live countdown to expiry."""

    TITLE = "momento-keys"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {KeysCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, id="quit_ctrl"),
        Binding("question_mark", "help", "Help", id="help"),
    ]

    def __init__(self, services: Services | Keeper, *, readonly: bool = False, api_factory=None,
                 watch_interval: float = POLL_SECONDS, tick: bool = True, ui_state: UiState | None = None,
                 endpoint_override: str | None = None) -> None:
        super().__init__()
        if isinstance(services, Keeper):  # (a keeper alone: the services around it)
            services = Services(services, api_factory=api_factory)
        elif api_factory is not None:
            services = replace(services, api_factory=api_factory)
        readonly = readonly or services.readonly or services.store.readonly
        if readonly != services.readonly:
            services = replace(services, readonly=readonly)
        self.services = services
        self.roster = Roster([], services.settings.thresholds)
        self.bands = RosterBands(self.roster, 0)
        self.reminders_due = 0
        self._watch_interval = watch_interval
        self._tick_enabled = tick
        self._data_version: int | None = None
        self._loaded = False
        # v2 keys: when the account was last synced (None: never), what a running sync is
        # doing (the dashboard's header shows it), and the account's roles once read.
        self.account_synced_at: int | None = None
        self.sync_note: str | None = None
        self.roles: dict[str, Role] = {}
        # Options of the account-API client (tests shorten its timeouts).
        self.account_options: dict[str, object] = {}
        # Where Momento calls go instead of Momento (--endpoint-override or the environment):
        # the dashboard's header says so while it is on.
        self.endpoint_override = one_line(terminal_safe(endpoint_override), 80) if endpoint_override else None
        settings = services.settings
        if settings.bindings:
            self.set_keymap(settings.bindings)  # (ids no binding has change nothing: reported at start)
        # Toasts shown now (see notify): one of them can be taken back (_withdraw).
        self._toasts: list[Notification] = []
        self._toasts_lock = threading.Lock()
        # Start-up notices (reminders due, settings warnings): withdrawn when a screen opens
        # over the dashboard, which they would cover (the summary line keeps the count due).
        self._start_notices: list[Notification] = []
        self._start_warnings = settings.warnings(listing=False)  # (a toast: not every valid id)
        # The theme: the last one picked in the palette (ui_state), or [ui] theme in the
        # settings, whichever is newer (tui.services.config.starting_theme).
        self.ui_state = ui_state
        choice = starting_theme(settings.theme, ui_state.load() if ui_state is not None else {})
        if choice.name is not None:
            if choice.name in self.available_themes:
                self.theme = choice.name
            else:
                where = "[ui] theme in the settings" if choice.source == "settings" else "the theme picked last"
                self._start_warnings.append(f"{where}: no theme is called {choice.name!r}; the themes are "
                                            + ", ".join(sorted(self.available_themes)))
        self._theme_kept = self.theme  # the theme the state file has (or needs not have)

    @property
    def readonly(self) -> bool:
        return self.services.readonly

    # ---- start up ----------------------------------------------------------------
    def get_default_screen(self) -> Screen:
        return Dashboard(id="dashboard")

    def start(self) -> None:
        """The dashboard is on screen: load, probe the keyring, start the clocks."""
        self.update_banner()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.screen_change_signal.subscribe(self, self._screen_changed)
        for warning in self._start_warnings:
            self._start_notices.append(self._toast(warning, title="Settings", severity="warning", timeout=20))
        # The rows first. Upkeep (reminders, grace windows, interrupted rotations)
        # and the keyring probe wait until they are on screen (see on_records_loaded):
        # they would compete with the first paint for the CPU and the database.
        # Up to SYNC_LOAD_MAX keys are read right here, so the first frame shows them:
        # a worker would share the one interpreter lock with the painting of an empty
        # dashboard, and take longer. More keys load in a worker, the UI live meanwhile.
        store = self.services.store
        try:
            small = store.count() <= SYNC_LOAD_MAX
        except StoreError:
            small = False  # the worker reports it
        if small:
            try:
                self._load()
            except StoreError as exc:
                report(self, "Database", exc)
        else:
            self.dashboard.sub_title = "loading…"
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
        return self.dashboard.table

    @property
    def _dashboard_up(self) -> Dashboard | None:
        """The dashboard, unless it is going away: while the app shuts down, its timers and
        workers may still report, and the dashboard's widgets are gone."""
        stack = self.screen_stack
        dashboard = stack[0] if stack else None
        if isinstance(dashboard, Dashboard) and dashboard.is_running and dashboard.is_attached:
            return dashboard
        return None

    @property
    def records(self) -> RowsView:
        """Every listed key (retired ones too), soonest expiry first, as RosterRows."""
        return RowsView(self.roster, self.roster.order("expiry", 0))

    def row(self, record_id: int) -> RosterRow | None:
        """The listed key with this id, if any."""
        i = self.roster.index_of(record_id)
        return None if i is None else self.roster.row(i)

    def _screens(self) -> list[KeysBase]:
        """The screens above the dashboard that are set up (the tick and reloads reach only them)."""
        return [s for s in self.screen_stack[1:] if isinstance(s, KeysBase) and s.ready]

    # ---- records ---------------------------------------------------------------------
    @safe_work("Database", group="load", exclusive=True)
    def load_records(self) -> None:
        self._load()  # (the recount that follows gives the freed memory back)

    def _load(self) -> None:
        """Read every key (in a worker, or at start on the main thread) and post them."""
        store = self.services.store
        version = store.data_version()
        with gc_paused():  # ~40% of a roster's build is the cyclic collector otherwise
            roster = store.roster(self.services.settings.thresholds)
        self.post_message(RecordsLoaded(roster, version))

    def on_keys_changed(self, _: KeysChanged) -> None:
        self.update_banner()  # (an import may have allowed an insecure keyring)
        self.load_records()

    def on_records_loaded(self, message: RecordsLoaded) -> None:
        self.roster = message.roster
        self._data_version = message.version
        if (dashboard := self._dashboard_up) is None:
            return
        dashboard.show_roster(self.roster)
        first = not self._loaded
        self._loaded = True
        self.refresh_title()
        self.refresh_summary()
        # The rows reach the screen first; counting them, and on the first load the
        # upkeep and the keyring probe, would compete with that frame for the CPU.
        self.call_after_refresh(self._after_load, first)
        for screen in self._screens():
            screen.records_changed()

    def _after_load(self, first: bool) -> None:
        self.recount()
        self.count_reminders()
        if first and not self.readonly:
            self.maintain()
            self.check_vault()

    @safe_work("Reminders", group="maintain", exclusive=True)
    def maintain(self) -> None:
        """At start, after the rows are on screen: reminder schedules up to date,
        ended grace windows retired, interrupted rotations resumed; then announce
        what is due."""
        keeper = self.services.keeper
        notes: list[str] = []
        changed = False
        try:
            changed = keeper.schedule_all() > 0
            for r in keeper.retire_expired_previous():
                notes.append(f"Retired {r.name!r}: its grace window ended")
                changed = True
            if keeper.store.open_rotations():  # only then load the Momento client
                for outcome in self.services.rotator.resume():
                    notes.append(outcome if isinstance(outcome, str) else f"Resumed an interrupted rotation: "
                                                                          f"{outcome.summary()}")
                    changed = True
            due, names = keeper.store.due_summary(int(keeper.clock.now()), names=4)
        except Exception as exc:
            report(self, "Reminders", exc)
            due, names = 0, []
        if changed:
            on_ui(self, self.load_records)
        on_ui(self, self._set_reminders_due, due)
        for note in notes:
            on_ui(self, self.notify, note, timeout=10)
        if due:
            more = "" if len(names) >= due else f" and {due - len(names)} more"
            on_ui(self, self._start_notice, f"{due} reminder{'s' if due != 1 else ''} due: {', '.join(names)}{more}. "
                  "Press r to see them.", title="Reminders", severity="warning", timeout=15)

    def poll_changes(self) -> None:
        """Pick up changes other processes (the CLI, another dashboard) committed."""
        if self._loaded:
            self._poll_worker()

    @safe_work("Database", group="poll", exclusive=True)
    def _poll_worker(self) -> None:
        try:
            version = self.services.store.data_version()
        except StoreError:
            return  # busy or gone for a moment: the next poll, 2 s on, asks again (no notice per poll)
        if version != self._data_version:
            on_ui(self, self.load_records)

    def action_reload(self) -> None:
        self.load_records()

    @safe_work("Database", group="summary", exclusive=True)
    def recount(self) -> None:
        """Rebuild the band counts (O(n): after a load, and hourly) off the main thread;
        after a load, also the filter's text."""
        roster = self.roster
        bands = RosterBands(roster, self.services.clock.now())
        on_ui(self, self._set_bands, roster, bands)
        try:
            from .services.sync import last_synced

            synced = last_synced(self.services.keeper)
        except StoreError:
            synced = self.account_synced_at
        if synced != self.account_synced_at:
            on_ui(self, self._set_synced_at, synced)
        if not roster.searchable:
            try:
                if self.services.store.add_search_text(roster):
                    on_ui(self, self._searchable, roster)
            except StoreError:
                pass  # the filter keeps to names, kinds and regions until the next load
        release_free_memory()  # what building these took, and the replaced roster after a reload

    def _searchable(self, roster: Roster) -> None:
        """Notes, tags and providers can be searched now: filter again if a filter is typed."""
        if self._dashboard_up is None:
            return
        table = self.table
        if roster is not self.roster:
            return
        table.notes_arrived()  # the TAGS · NOTES column, when shown, shows them now (not at the next repaint)
        if table.filter_text:
            table.set_filter(table.filter_text)
            self.refresh_summary()

    def _set_synced_at(self, synced: int | None) -> None:
        self.account_synced_at = synced
        self.refresh_title()

    def _set_bands(self, roster: Roster, bands: RosterBands) -> None:
        if roster is self.roster:  # not overtaken by a newer load
            self.bands = bands
            self.refresh_summary()

    @safe_work("Reminders", group="reminders-count", exclusive=True)
    def count_reminders(self) -> None:
        try:
            due = self.services.store.due_count(int(self.services.clock.now()))
        except StoreError:
            return  # polled every 30 s: the next count says it
        on_ui(self, self._set_reminders_due, due)

    def _set_reminders_due(self, due: int) -> None:
        if due != self.reminders_due:
            self.reminders_due = due
            self.refresh_summary()

    def refresh_summary(self) -> None:
        if (dashboard := self._dashboard_up) is not None:
            dashboard.refresh_summary()

    def refresh_title(self) -> None:
        if (dashboard := self._dashboard_up) is not None:
            dashboard.refresh_title()

    # ---- time ---------------------------------------------------------------------------
    def tick(self) -> None:
        """Once a second: repaint the visible countdowns; recount only when a band changes."""
        if (dashboard := self._dashboard_up) is None:
            return
        dashboard.table.tick()
        for screen in self._screens():
            screen.tick()
        now = self.services.clock.now()
        if self.bands.stale(now):
            if self.bands.roster is self.roster:  # (a recount is already on its way otherwise)
                self.recount()
        elif self.bands.advance(now):
            self.refresh_summary()

    # ---- keyring --------------------------------------------------------------------------
    @safe_work("Keyring", group="vault", exclusive=True)
    def check_vault(self) -> None:
        self.services.vault.probe()
        self.post_message(VaultChecked())

    def on_vault_checked(self, _: VaultChecked) -> None:
        self.update_banner()
        self.refresh_title()
        vault = self.services.vault
        status = vault.status
        if status.health is Health.SECURE:
            return
        if vault.writable():
            self.notify(f"Secrets go to an insecure keyring ({status.description}): you allowed this",
                        title="Keyring", severity="warning", timeout=10)
        else:
            self.notify(status.summary(), title="Keyring", severity="warning", timeout=10)

    def update_banner(self) -> None:
        if (dashboard := self._dashboard_up) is not None:
            dashboard.update_banner()

    # ---- text, never markup ------------------------------------------------------------------
    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Textual's notify, with the message taken as text unless told otherwise: our
        messages hold key names, notes and server messages. (Safe from any thread.)"""
        self._toast(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def _toast(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> Notification:
        """Show a notification as Textual's notify does, keeping a handle on it (_withdraw)."""
        notification = Notification(message, title, severity,
                                    self.NOTIFICATION_TIMEOUT if timeout is None else timeout, markup=markup)
        with self._toasts_lock:
            self._toasts = [t for t in self._toasts if not t.has_expired]
            self._toasts.append(notification)
        self.post_message(Notify(notification))
        return notification

    def _withdraw(self, gone: list[Notification]) -> None:
        """Take these notifications off the screen now; the others stay, with the time they
        had left (Textual offers no public way to remove one: clear all, show the rest again)."""
        if not any(not n.has_expired for n in gone):
            return
        with self._toasts_lock:
            self._toasts = [t for t in self._toasts if not t.has_expired and t not in gone]
            rest = list(self._toasts)
        self.clear_notifications()
        for notification in rest:
            self.post_message(Notify(notification))

    def _start_notice(self, message: str, *, title: str, severity: SeverityLevel, timeout: float) -> None:
        """A notice at start that a screen opened over the dashboard takes off (see _screen_changed)."""
        if self._dashboard_up is not None and self.screen is self.dashboard:
            self._start_notices.append(self._toast(message, title=title, severity=severity, timeout=timeout))

    def _screen_changed(self, screen: Screen) -> None:
        if self._start_notices and screen is not self.screen_stack[0]:
            notices, self._start_notices = self._start_notices, []
            self._withdraw(notices)

    # ---- the theme: remembered when picked ----------------------------------------------------
    def _theme_changed(self, theme: Theme) -> None:
        """A theme was picked (ctrl+p → Theme): remember it for the next start, unless
        read-only (or the demo: its state is read-only)."""
        if theme.name == self._theme_kept or self.ui_state is None or self.ui_state.readonly or self.readonly:
            return
        self._theme_kept = theme.name
        self.remember_theme()

    @safe_work("Theme", group="ui-state", exclusive=True)
    def remember_theme(self) -> None:
        assert self.ui_state is not None
        self.ui_state.remember_theme(self.theme, self.services.settings.theme)  # (the latest, if picks raced)

    def action_help_quit(self) -> None:
        self.notify("Press q or ctrl+q to quit", title="Do you want to quit?")

    # ---- navigation: actions with arguments -----------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.readonly and action in WRITE_ACTIONS:
            return False
        if action in ROW_ACTIONS and (dashboard := self._dashboard_up) is not None:
            return dashboard.table.current_id is not None  # no key shown: nothing to rotate, edit…
        return True

    def _opening(self) -> bool:
        """A screen is still opening: keys that arrive meanwhile (a fast typist, key repeat)
        open nothing more, so screens never pile up half-built."""
        screen = self.screen
        return isinstance(screen, KeysBase) and not screen.ready

    def _open(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> None:
        if not self._opening():
            self.push_screen(screen, callback)

    def _record(self, record_id: int | None) -> KeyRecord | None:
        """The whole record of a listed key (the list holds a few fields of each): one row read."""
        if record_id is None:
            return None
        try:
            return self.services.store.get(record_id)
        except StoreError as exc:
            report(self, "Database", exc)
            return None

    def action_open_detail(self, record_id: int) -> None:
        from .screens.detail import DetailScreen

        if self._opening():
            return
        record = self._record(record_id)
        if record is not None:
            self._open(DetailScreen(record))

    def action_open_selected(self) -> None:
        record_id = self.table.current_id
        if record_id is not None:
            self.action_open_detail(record_id)

    def action_open_import(self, replaces_id: int | None = None, key_type: str = "") -> None:
        """The import dialog; ``replaces_id``: the key the imported one replaces (a manual
        rotation); ``key_type``: the type to preselect."""
        if self.readonly:
            return
        from .screens.import_key import ImportScreen

        replaces = self._record(replaces_id)
        if replaces_id is not None and replaces is None:
            return
        kind = KeyType(key_type) if key_type else (replaces.key_type if replaces else KeyType.UNKNOWN)
        title = "Import the super-user key from the console" if kind is KeyType.SUPER_USER and not replaces else None
        self._open(ImportScreen(key_type=kind, replaces=replaces, title=title))

    def action_import_key(self) -> None:
        self.action_open_import()

    def action_open_wizard(self, replaces_id: int | None = None) -> None:
        """The generation wizard; ``replaces_id``: the key the new one replaces."""
        if self.readonly:
            return
        from .screens.wizard import WizardScreen

        replaces = self._record(replaces_id)
        if replaces_id is not None and replaces is None:
            return
        # Whatever the wizard stored (a new key, a super-user key tracked at sign-in), the
        # list reloads when it closes.
        self._open(WizardScreen(replaces=replaces), lambda _record: self.load_records())

    def action_new_key(self) -> None:
        self.action_open_wizard()

    def action_rotate(self, record_id: int) -> None:
        if self.readonly:
            return
        from .screens.rotate import RotateScreen

        record = self._record(record_id)  # the whole record: a rotation carries its permissions over
        if record is None:
            return

        def then(choice: Literal["import", "wizard"] | None) -> None:
            if choice == "import":
                self.action_open_import(record_id)
            elif choice == "wizard":
                self.action_open_wizard(record_id)

        self._open(RotateScreen(record), then)

    def action_rotate_selected(self) -> None:
        if (record_id := self.table.current_id) is not None:
            self.action_rotate(record_id)

    def action_reminders(self) -> None:
        from .screens.reminders import RemindersScreen

        if not isinstance(self.screen, RemindersScreen):
            self._open(RemindersScreen())

    def action_timeline(self) -> None:
        from .screens.timeline import TimelineScreen

        if not isinstance(self.screen, TimelineScreen):
            self._open(TimelineScreen())

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self._open(HelpScreen(self.binding_keys()))

    def binding_keys(self, *classes: type[DOMNode]) -> dict[str, list[str]]:
        """The binding ids of ``classes`` (default: every screen and widget of the app) with
        the keys that trigger them now (the settings' [bindings] applied), shown as the
        footer shows keys: the help screen lists them, the reminders panel names its keys."""
        from textual.binding import BindingsMap

        if not classes:
            from .screens.detail import DetailScreen
            from .screens.edit import EditScreen
            from .screens.help import HelpScreen
            from .screens.import_key import ImportScreen
            from .screens.reminders import RemindersScreen, SnoozeScreen
            from .screens.rotate import RotateScreen
            from .screens.timeline import TimelineScreen
            from .screens.wizard import WizardScreen
            from .widgets.confirm import ConfirmScreen

            classes = (type(self), Dashboard, KeyTable, DetailScreen, RemindersScreen, SnoozeScreen, TimelineScreen,
                       WizardScreen, ImportScreen, EditScreen, RotateScreen, ConfirmScreen, HelpScreen)
        found: dict[str, list[Binding]] = {}
        for cls in classes:
            for _key, binding in BindingsMap(cls.BINDINGS):
                if binding.id:
                    found.setdefault(binding.id, []).append(binding)
        remapped = self.services.settings.bindings
        keys: dict[str, list[str]] = {}
        for binding_id, bindings in found.items():
            if binding_id in remapped:
                bindings = [bindings[0].with_key(k.strip(), key_display=None) for k in remapped[binding_id].split(",")
                            if k.strip()]
            keys[binding_id] = [self.get_key_display(b) for b in bindings]
        return keys

    def action_filter(self) -> None:
        if self.screen is self.dashboard:
            self.dashboard.action_filter()

    def action_sort(self, sort: str) -> None:
        self.dashboard.set_sort(sort)

    def action_edit(self, record_id: int) -> None:
        if self.readonly:
            return
        from .screens.edit import EditScreen

        record = self._record(record_id)
        if record is not None:
            self._open(EditScreen(record))

    def action_edit_selected(self) -> None:
        if (record_id := self.table.current_id) is not None:
            self.action_edit(record_id)

    def action_delete(self, record_id: int) -> None:
        record = self._record(record_id)
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

        self._open(ConfirmScreen(question, yes="Delete", danger=True), done)

    def action_delete_selected(self) -> None:
        if (record_id := self.table.current_id) is not None:
            self.action_delete(record_id)

    @safe_work("Delete", group="write")
    def delete_record(self, record: KeyRecord) -> None:
        self.services.keeper.delete(record)
        on_ui(self, self._after_delete, record)

    def _after_delete(self, record: KeyRecord) -> None:
        screen = self.screen
        if isinstance(screen, KeysBase) and screen.key_id == record.id:
            self.pop_screen()
        self.notify(f"Deleted {record.name!r}" + (" and its keyring entry" if record.secret_stored else ""))
        self.load_records()

    # ---- copying a key -------------------------------------------------------------------------
    def action_copy(self, record_id: int) -> None:
        record = self._record(record_id)
        if self.readonly or record is None:
            return
        self.copy_secret(record)

    def action_copy_selected(self) -> None:
        if (record_id := self.table.current_id) is not None:
            self.action_copy(record_id)

    # ---- v2 keys: the account API ----------------------------------------------------------------
    def account_for(self, prefer_id: int | None = None, avoid_id: int | None = None) -> AccountClient:
        """The account-API client to act with (blocking: call it in a worker). The services'
        ``account_factory`` when wired; else a tracked v2 key whose secret is held (see
        :func:`pick_acting`), at ``MOMENTO_KEYS_ACCOUNT_API`` when set."""
        from .errors import UserError

        factory = self.services.account_factory
        if factory is not None:
            return factory()
        from .services.account import AccountUrlError, client_for_record

        acting = pick_acting(self.services.store.v2_records(), prefer_id, avoid_id)
        if acting is None:
            raise UserError("no tracked v2 key holds its secret here to act with on the account API: import a key "
                            "whose role manages API keys (such as Owner), then try again")
        try:
            return client_for_record(self.services.keeper, acting, **self.account_options)  # type: ignore[arg-type]
        except AccountUrlError as exc:
            raise UserError(str(exc)) from None

    def action_sync_account(self) -> None:
        """Read the account's keys (every page) into the list: tracked v2 keys updated, revoked
        ones flagged, untracked ones listed without their secret."""
        if self.readonly:
            return
        if self.sync_note is not None:
            self.notify("The account is being synced already", title="Account sync", timeout=4)
            return
        prefer = self.table.current_id if self._dashboard_up is not None else None
        self._sync_progress("syncing the account…")
        self.sync_account(prefer)

    @safe_work("Account sync", group="account-sync", exclusive=True)
    def sync_account(self, prefer_id: int | None = None) -> None:
        from .services.sync import sync

        try:
            client = _RolesKept(self.account_for(prefer_id))
            on_ui(self, self._sync_progress, f"syncing the account with {client.acting!r}…")
            try:
                report = sync(self.services.keeper, client, on_page=lambda n: on_ui(
                    self, self._sync_progress, f"syncing the account: {n:,} keys read…"))
            finally:
                _close(client.client)
        finally:
            on_ui(self, self._sync_progress, None)
        on_ui(self, self._synced, report, client.roles)

    def _sync_progress(self, note: str | None) -> None:
        self.sync_note = note
        self.refresh_title()

    def _synced(self, report: SyncReport, roles: list[Role] | None) -> None:
        if roles is not None:
            self.roles = {r.role_id: r for r in roles}
        self.account_synced_at = report.synced_at
        self.notify(report.summary(), title="Account sync", timeout=10)
        for warning in report.warnings:
            self.notify(warning, title="Account sync", severity="warning", timeout=10)
        if report.expired_gone:
            self.notify(f"{len(report.expired_gone)} expired key(s) are no longer listed by the account: "
                        + ", ".join(report.expired_gone[:4]), title="Account sync", timeout=10)
        self.load_records()

    def action_revoke(self, record_id: int) -> None:
        """Revoke a v2 key through the account API, after asking (naming the key and its role)."""
        if self.readonly:
            return
        record = self._record(record_id)
        if record is None:
            return
        from .services.revoke import revoke_blocker
        from .widgets.confirm import ConfirmScreen

        blocker = revoke_blocker(record)
        if blocker is not None:
            self.notify(blocker, title="Revoke", severity="warning", timeout=8)
            return
        role = record.role_name or record.role_id or "not known"
        question = Text.assemble(
            "Revoke ", (record.name, "bold"), " (role ", (role, "bold"), ")?\n\n",
            f"Momento deletes the key from the account (key id {record.key_id}): everything that still uses it "
            "stops working at once. This cannot be undone. Its record here retires and its reminders close.")

        def done(yes: bool | None) -> None:
            if yes:
                self.revoke_record(record)

        self._open(ConfirmScreen(question, yes="Revoke", danger=True), done)

    def action_revoke_selected(self) -> None:
        if (record_id := self.table.current_id) is not None:
            self.action_revoke(record_id)

    @safe_work("Revoke", group="revoke")
    def revoke_record(self, record: KeyRecord) -> None:
        from .services.revoke import revoke

        client = self.account_for(None, avoid_id=record.id)
        try:
            outcome = revoke(self.services.keeper, client, record)
        finally:
            _close(client)
        on_ui(self, self._revoked, outcome)

    def _revoked(self, outcome: RevokeOutcome) -> None:
        self.notify(outcome.summary(), title="Revoked", timeout=10)
        for warning in outcome.warnings:
            self.notify(warning, title="Revoke", severity="warning", timeout=10)
        self.load_records()


def _close(client: object) -> None:
    """Close an account client's connection, if it holds one."""
    close = getattr(client, "close", None)
    if callable(close):
        close()


class _RolesKept:
    """An account client that keeps the roles it read (the detail view summarizes them)."""

    def __init__(self, client: AccountClient) -> None:
        self.client = client
        self.roles: list[Role] | None = None

    @property
    def acting(self) -> str:
        return self.client.acting

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def list_roles(self, type=None):  # (the protocol's name)
        roles = self.client.list_roles(type)
        if type is None:
            self.roles = roles
        return roles

    def list_keys(self, on_page=None):
        return self.client.list_keys(on_page)

    def create_key(self, role_id, description, expiry):
        return self.client.create_key(role_id, description, expiry)

    def revoke_key(self, key_id):
        return self.client.revoke_key(key_id)
