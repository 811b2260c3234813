"""The reminders panel: due first, with the key's name and where it is used."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Header, Input, Label, Static

from ..core.policy import DurationError, countdown, parse_duration
from ..core.reminders import Reminder, ReminderKind, ReminderState, message
from ..core.report import local_time
from ..services.keeper import KeeperError
from ..services.store import StoreError
from ..widgets.footer import KeysFooter

KIND_LABEL = {
    ReminderKind.WARNING: "▲ warning",
    ReminderKind.CRITICAL: "◆ critical",
    ReminderKind.EXPIRY: "✖ expiry",
    ReminderKind.REVIEW: "∞ review",
    ReminderKind.SWITCH: "⇄ switch",
    ReminderKind.REVOKE: "⊘ revoke",
}


class SnoozeScreen(ModalScreen[int | None]):
    """Ask for a custom snooze duration."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="snooze.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Snooze for how long?", classes="title")
            yield Label("A duration such as 3d, 12h or 2w")
            yield Input(placeholder="3d", id="duration")
            yield Static("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Snooze", id="ok", variant="primary")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        try:
            self.dismiss(parse_duration(self.query_one("#duration", Input).value))
        except DurationError as exc:
            self.query_one("#error", Static).update(escape(str(exc)))


class RemindersScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="reminders.back"),
        Binding("z", "snooze(86400)", "Snooze 1d", id="reminders.snooze_day"),
        Binding("w", "snooze(604800)", "Snooze 7d", id="reminders.snooze_week"),
        Binding("Z", "snooze_custom", "Snooze…", id="reminders.snooze_custom"),
        Binding("x", "dismiss_reminder", "Dismiss", id="reminders.dismiss"),
        Binding("D", "done", "Done", show=False, id="reminders.done"),
        Binding("o", "open_key", "Open key", id="reminders.open"),
        Binding("R", "rotate", "Rotate now", id="reminders.rotate"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.reminders: list[Reminder] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="reminders-summary")
        yield DataTable(id="reminders", cursor_type="row", zebra_stripes=True)
        yield Static("", id="reminder-message")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = "Reminders"
        table = self.query_one(DataTable)
        table.add_columns("state", "kind", "key", "when", "where used")
        self.load()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if getattr(self.app, "readonly", False) and action in ("snooze", "snooze_custom", "dismiss_reminder",
                                                                "done", "rotate"):
            return False
        return True

    def records_changed(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="reminders")
    def load(self) -> None:
        keeper = self.app.keeper  # type: ignore[attr-defined]
        try:
            reminders = keeper.store.reminders()
        except StoreError as exc:
            self.app.call_from_thread(self.app.notify, str(exc), severity="error")
            return
        now = keeper.clock.now()
        reminders.sort(key=lambda r: (not r.is_due(now), r.when()))
        self.app.call_from_thread(self._show, reminders)

    def _show(self, reminders: list[Reminder]) -> None:
        self.reminders = reminders
        now = self.app.keeper.clock.now()  # type: ignore[attr-defined]
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        due = 0
        for r in reminders:
            state = r.effective_state(now)
            due += state is ReminderState.DUE
            when = r.when()
            rel = f"in {countdown(when - now)}" if when > now else f"{countdown(now - when)} ago"
            label = {"due": "● DUE", "snoozed": "z snoozed", "pending": "  upcoming"}.get(state.value, state.value)
            style = "bold" if state is ReminderState.DUE else ""
            table.add_row(Text(label, style=style), KIND_LABEL.get(r.kind, r.kind.value), r.key_name,
                          f"{local_time(when)} ({rel})", r.key_notes or "—", key=str(r.id))
        if reminders:
            table.move_cursor(row=min(keep, len(reminders) - 1))
        self.query_one("#reminders-summary", Static).update(
            f" {due} due · {len(reminders) - due} upcoming   [dim]z snooze 1 day · w 7 days · Z custom · "
            "x dismiss · D done · o open the key · R rotate now[/dim]"
            if reminders else " No reminders. Keys you track get one when they near expiry.")
        self._describe()

    @on(DataTable.RowHighlighted)
    def _describe(self) -> None:
        reminder = self.current()
        box = self.query_one("#reminder-message", Static)
        if reminder is None:
            box.update("")
            return
        record = self.app.row(reminder.key_id)  # type: ignore[attr-defined]
        box.update(escape(message(reminder, record, self.app.keeper.clock.now())))  # type: ignore[attr-defined]

    def current(self) -> Reminder | None:
        table = self.query_one(DataTable)
        if not self.reminders or table.cursor_row < 0 or table.cursor_row >= len(self.reminders):
            return None
        return self.reminders[table.cursor_row]

    # ---- actions ----------------------------------------------------------------------
    def action_snooze(self, seconds: int) -> None:
        reminder = self.current()
        if reminder is not None:
            self._change(reminder, "snooze", seconds)

    def action_snooze_custom(self) -> None:
        reminder = self.current()
        if reminder is None:
            return

        def done(seconds: int | None) -> None:
            if seconds:
                self._change(reminder, "snooze", seconds)

        self.app.push_screen(SnoozeScreen(), done)

    def action_dismiss_reminder(self) -> None:
        reminder = self.current()
        if reminder is not None:
            self._change(reminder, "dismiss", 0)

    def action_done(self) -> None:
        reminder = self.current()
        if reminder is not None:
            self._change(reminder, "done", 0)

    @work(thread=True, group="reminders-write")
    def _change(self, reminder: Reminder, what: str, seconds: int) -> None:
        keeper = self.app.keeper  # type: ignore[attr-defined]
        try:
            if what == "snooze":
                keeper.snooze(reminder, seconds)
                text = f"Snoozed the {reminder.kind.value} reminder of {reminder.key_name!r} for {countdown(seconds)}"
            elif what == "done":
                keeper.close(reminder, ReminderState.DONE)
                text = f"Marked the {reminder.kind.value} reminder of {reminder.key_name!r} done"
            else:
                keeper.close(reminder, ReminderState.DISMISSED)
                text = f"Dismissed the {reminder.kind.value} reminder of {reminder.key_name!r}"
        except (KeeperError, StoreError) as exc:
            self.app.call_from_thread(self.app.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self.app.notify, text)
        self.app.call_from_thread(self.app.load_records)  # type: ignore[attr-defined]

    def _record(self):
        reminder = self.current()
        if reminder is None:
            return None
        return self.app.row(reminder.key_id)  # type: ignore[attr-defined]

    def action_open_key(self) -> None:
        record = self._record()
        if record is not None:
            self.app.open_detail(record)  # type: ignore[attr-defined]

    def action_rotate(self) -> None:
        record = self._record()
        if record is not None:
            self.app.rotate(record)  # type: ignore[attr-defined]
