"""The reminders panel: due first, with the key's name and where it is used.

Snooze, dismiss and done act on the selected reminder; each can be undone (``u``, the
last first) while the panel is open. A line under the counts says what dismiss and done
mean: dismiss hides a reminder that is not needed; done says it was handled (a switch
reminder's done retires the old key). The states read as in the CLI: due, snoozed, upcoming.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, DataTable, Header, Input, Label, Static

from ..core.policy import DurationError, countdown, parse_duration
from ..core.reminders import STATE_WORDS, Reminder, ReminderKind, ReminderState, message
from ..core.report import local_time
from ..services.keeper import ReminderChange
from ..services.store import StoreError

if TYPE_CHECKING:
    from textual.dom import DOMNode
from ..widgets.footer import KeysFooter
from .base import KeysModal, KeysScreen, on_ui, safe_work

KIND_LABEL = {
    ReminderKind.WARNING: "▲ warning",
    ReminderKind.CRITICAL: "◆ critical",
    ReminderKind.EXPIRY: "✖ expiry",
    ReminderKind.REVIEW: "∞ review",
    ReminderKind.SWITCH: "⇄ switch",
    ReminderKind.REVOKE: "⊘ revoke",
}


class SnoozeScreen(KeysModal[int | None]):
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
            self.query_one("#error", Static).update(Text(str(exc)))


class KeysHost(Protocol):
    """What the panel reads from the app to name its keys as they are bound now."""

    def binding_keys(self, *classes: type[DOMNode]) -> dict[str, list[str]]: ...


# The line under the counts (the footer has the other keys): (binding id, what it does);
# the keys are the live ones.
HINTS = [
    ("reminders.dismiss", "dismiss: not needed, hide it"),
    ("reminders.done", "done: handled (a switch's done retires the old key)"),
    ("reminders.undo", "undo"),
]
WRITES = ("snooze", "snooze_custom", "dismiss_reminder", "done", "undo", "rotate")


class RemindersScreen(KeysScreen[None]):
    BINDINGS = [
        Binding("escape", "leave", "Back", id="reminders.back"),
        Binding("z", "snooze(86400)", "Snooze 1d", id="reminders.snooze_day"),
        Binding("w", "snooze(604800)", "Snooze 7d", id="reminders.snooze_week"),
        Binding("Z", "snooze_custom", "Snooze…", id="reminders.snooze_custom"),
        Binding("x", "dismiss_reminder", "Dismiss", id="reminders.dismiss"),
        Binding("D", "done", "Done", show=False, id="reminders.done"),
        Binding("u", "undo", "Undo", show=False, id="reminders.undo"),
        Binding("o", "open_key", "Open key", id="reminders.open"),
        Binding("R", "rotate", "Rotate now", id="reminders.rotate"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.reminders: list[Reminder] = []
        self.undoable: list[ReminderChange] = []  # what u undoes, the last first
        self.sub_title = "Reminders"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="reminders-summary")
        yield Static("", id="reminders-keys")
        yield DataTable(id="reminders", cursor_type="row", zebra_stripes=True)
        yield Static("", id="reminder-message")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("state", "kind", "key", "when", "where used")
        keys = cast(KeysHost, self.app).binding_keys(type(self))
        hints = [Content.assemble(("/".join(keys[i]), "bold"), f" {what}") for i, what in HINTS if keys.get(i)]
        if self.services.readonly:  # (those keys do nothing here: say so instead of offering them)
            hints = [Content("read-only: reminders are shown, not changed")]
        self.query_one("#reminders-keys", Static).update(Content(" ") + Content(" · ").join(hints).stylize("dim"))
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.services.readonly and action in WRITES)

    def records_changed(self) -> None:
        self.load()

    @safe_work("Reminders", group="reminders", exclusive=True)
    def load(self) -> None:
        reminders = self.services.store.reminders()
        now = self.services.clock.now()
        reminders.sort(key=lambda r: (not r.is_due(now), r.when()))
        self.from_worker(self._show, reminders)

    def _show(self, reminders: list[Reminder]) -> None:
        self.reminders = reminders
        now = self.services.clock.now()
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        due = 0
        snoozed = 0
        for r in reminders:
            state = r.effective_state(now)
            due += state is ReminderState.DUE
            snoozed += state is ReminderState.SNOOZED
            when = r.when()
            rel = f"in {countdown(when - now)}" if when > now else f"{countdown(now - when)} ago"
            word = STATE_WORDS.get(state, state.value)
            label = {ReminderState.DUE: f"● {word.upper()}", ReminderState.SNOOZED: f"z {word}"}.get(state, f"  {word}")
            style = "bold" if state is ReminderState.DUE else ""
            table.add_row(Text(label, style=style), KIND_LABEL.get(r.kind, r.kind.value), Text(r.key_name),
                          f"{rel} · {local_time(when)}", Text(r.key_notes or "—"), key=str(r.id))
        if reminders:
            table.move_cursor(row=min(keep, len(reminders) - 1))
        summary = self.query_one("#reminders-summary", Static)
        if reminders:
            counts = [f"{due} due"] + ([f"{snoozed} snoozed"] if snoozed else [])
            counts.append(f"{len(reminders) - due - snoozed} upcoming")
            summary.update(Content.assemble((" " + " · ".join(counts), "bold")))
        else:
            summary.update(" No reminders. Keys you track get one when they near expiry.")
        self._describe()

    @on(DataTable.RowHighlighted)
    def _describe(self) -> None:
        reminder = self.current()
        box = self.query_one("#reminder-message", Static)
        if reminder is None:
            box.update("")
            return
        record: object = self.host.row(reminder.key_id)  # a listed row has the fields message() reads…
        if reminder.kind in (ReminderKind.SWITCH, ReminderKind.REVOKE):
            try:  # …but for these: whether it is a v2 key (its account key id), in the whole record
                record = self.services.store.get(reminder.key_id)
            except StoreError:
                pass  # (gone meanwhile: the listed row, or none, still makes a sentence)
        box.update(Text(message(reminder, record, self.services.clock.now())))  # type: ignore[arg-type]

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

    def action_undo(self) -> None:
        if not self.undoable:
            self.notify("Nothing to undo here: snooze, dismiss and done can be undone while this panel is open",
                        title="Undo", timeout=5)
            return
        self._undo(self.undoable.pop())

    def _undo_key(self) -> str:
        return "/".join(cast(KeysHost, self.app).binding_keys(type(self)).get("reminders.undo", [])) or "u"

    @safe_work("Reminders", group="reminders-write")
    def _change(self, reminder: Reminder, what: str, seconds: int) -> None:
        keeper = self.services.keeper
        if what == "snooze":
            change = keeper.snooze(reminder, seconds)
            text = f"Snoozed the {reminder.kind.value} reminder of {reminder.key_name!r} for {countdown(seconds)}"
        elif what == "done":
            change = keeper.close(reminder, ReminderState.DONE)
            text = f"Marked the {reminder.kind.value} reminder of {reminder.key_name!r} done"
            if change.record is not None:
                text += f": {change.record.name!r} is retired"
        else:
            change = keeper.close(reminder, ReminderState.DISMISSED)
            text = f"Dismissed the {reminder.kind.value} reminder of {reminder.key_name!r}"
        on_ui(self.app, self._changed, change, text)
        self.keys_changed()

    def _changed(self, change: ReminderChange, text: str) -> None:
        self.undoable.append(change)
        self.notify(f"{text} ({self._undo_key()} undoes)")

    @safe_work("Undo", group="reminders-write")
    def _undo(self, change: ReminderChange) -> None:
        where = self.services.keeper.undo(change)
        before = change.before
        done = {"snooze": "the snooze of", "dismiss": "the dismissal of", "done": "marking done"}[change.what]
        on_ui(self.app, self.app.notify, f"Undid {done} the {before.kind.value} reminder of {before.key_name!r}: "
                                         f"it {where}", title="Undo")
        self.keys_changed()

    def action_open_key(self) -> None:
        if (reminder := self.current()) is not None:
            self.host.action_open_detail(reminder.key_id)

    def action_rotate(self) -> None:
        if (reminder := self.current()) is not None:
            self.host.action_rotate(reminder.key_id)
