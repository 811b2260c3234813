"""Edit what the user knows about a key: name, notes, tags, key type, endpoint, thresholds."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widgets import Button, Input, Label, Select, Static

from ..core.keys import KeyFormatError, normalise_endpoint, region_of
from ..core.model import KeyRecord, KeyType
from ..core.policy import DurationError, countdown, parse_duration
from ..core.text import user_text
from ..services.keeper import KeeperError, carries_endpoint, parse_tags, validate_name
from ..widgets.dialog import DialogBox, DialogButtons
from .base import KEY_TYPES, KeysModal, safe_work


class EditScreen(KeysModal[KeyRecord | None]):
    """Answers the saved record (None: cancelled)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="edit.cancel")]
    AUTO_FOCUS = "#name"

    def __init__(self, record: KeyRecord) -> None:
        super().__init__()
        self.record = record
        # Notes and tags are kept exactly as given (JSON gives them back), but shown without
        # anything that would drive the terminal; left as shown, the kept text is saved back.
        self.shown_notes = user_text(record.notes)
        self.shown_tags = ", ".join(user_text(tag) for tag in record.tags)

    def compose(self) -> ComposeResult:
        r = self.record
        with DialogBox(classes="dialog"):
            yield Static(Text(f"Edit {r.name}"), classes="title")
            with Grid(classes="form"):
                yield Label("Name")
                yield Input(value=r.name, id="name", compact=True)
                yield Label("Used where")
                yield Input(value=self.shown_notes, placeholder="notes: where this key is deployed", id="notes", compact=True)
                yield Label("Tags")
                yield Input(value=self.shown_tags, placeholder="prod, orders", id="tags", compact=True)
                yield Label("Key type")
                yield Select(KEY_TYPES, value=r.key_type.value, allow_blank=False, id="type", compact=True)
                yield Label("Endpoint")
                fixed = carries_endpoint(r)  # a v1 key's own: shown, not editable
                yield Input(value=r.endpoint or "", placeholder="cell-4-us-west-2-1.prod.a.momentohq.com",
                            id="endpoint", compact=True, disabled=fixed,
                            tooltip="carried by the key itself: it is only ever sent there" if fixed else None)
                yield Label("Warn at")
                yield Input(value=countdown(r.warning_seconds) if r.warning_seconds else "",
                            placeholder="time left, e.g. 14d (blank: global setting)", id="warning", compact=True)
                yield Label("Critical at")
                yield Input(value=countdown(r.critical_seconds) if r.critical_seconds else "",
                            placeholder="time left, e.g. 3d (blank: global setting)", id="critical", compact=True)
            yield Static("", id="error", classes="error")
            with DialogButtons(classes="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    def _duration(self, widget_id: str) -> int | None:
        text = self.query_one(f"#{widget_id}", Input).value.strip()
        if not text:
            return None
        return parse_duration(text.replace(" ", ""))

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        error = self.query_one("#error", Static)
        try:
            name = validate_name(self.query_one("#name", Input).value)
            endpoint_text = self.query_one("#endpoint", Input).value.strip()
            endpoint = normalise_endpoint(endpoint_text) if endpoint_text else None
            warning = self._duration("warning")
            critical = self._duration("critical")
        except (KeeperError, KeyFormatError, DurationError) as exc:
            error.update(Text(str(exc)))
            return
        if warning and critical and critical > warning:
            error.update("critical must not be longer than warning")
            return
        region, provider = region_of(endpoint)
        fields = {
            "name": name,
            "notes": self._unless_as_shown("#notes", self.shown_notes, self.record.notes, str.strip),
            "tags": self._unless_as_shown("#tags", self.shown_tags, self.record.tags, parse_tags),
            "key_type": KeyType(str(self.query_one("#type", Select).value)),
            "endpoint": endpoint,
            "region": region,
            "provider": provider,
            "warning_seconds": warning,
            "critical_seconds": critical,
        }
        self.save(fields)

    def _unless_as_shown(self, field: str, shown: str, kept: object, parse) -> object:
        """The field's value, or the kept one if the field still shows what it was opened with."""
        value = self.query_one(field, Input).value
        return kept if value == shown else parse(value)

    @safe_work("Not saved", group="edit", exclusive=True)
    def save(self, fields: dict) -> None:
        record = self.services.keeper.edit(self.record, **fields)
        self.from_worker(self._done, record)

    def worker_failed(self, title: str, message: str) -> None:
        self.query_one("#error", Static).update(Text(f"{title}: {message}"))

    def _done(self, record: KeyRecord) -> None:
        self.notify(f"Saved {record.name!r}")
        self.keys_changed()
        self.dismiss(record)
