"""Import a key: paste it, or give the path of a key file or the console's Download JSON."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ..core.keys import Inspection, KeyFormatError, inspect_text
from ..core.model import KeyRecord, KeyType, Kind
from ..core.policy import countdown
from ..core.report import local_time
from ..services.files import KeyFileError, read_key_file
from ..services.keeper import KeeperError, parse_tags, validate_name
from ..services.vault import Health
from ..widgets.dialog import DialogBox, DialogButtons
from .base import KEY_TYPES, KeysModal, safe_work

if TYPE_CHECKING:
    from ..services.keeper import ImportResult

WAITING = Content.styled("waiting for a key…", "dim")


def looks_like_path(text: str) -> bool:
    t = text.strip()
    return bool(t) and (t.startswith(("/", "~", "./", "../")) or t.endswith((".json", ".txt", ".key")))


def read_source(text: str) -> tuple[str, str | None]:
    """The key text from what was typed: the text itself, or a file's content.

    Returns (key text, file path or None). Raises KeyFormatError with a
    one-line message for a file that cannot be used. Reads the file: call it off the UI thread.
    """
    if not looks_like_path(text):
        return text, None
    path = Path(text.strip()).expanduser()
    try:
        return read_key_file(path), str(path)
    except KeyFileError as exc:
        raise KeyFormatError(str(exc)) from None


def describe(i: Inspection, now: float) -> str:
    region = f"{i.region} ({i.provider})" if i.region else "unknown region"
    if i.expires_at is None:
        expiry = "never expires (not recommended)" if i.expiry_source.value != "unknown" else "expiry unknown"
    elif i.expires_at <= now:
        expiry = f"EXPIRED on {local_time(i.expires_at)}"
    else:
        expiry = f"expires {local_time(i.expires_at)} ({countdown(i.expires_at - now)} left)"
    extra = " · refresh token included" if i.refresh_token else ""
    src = " · from Download JSON" if i.source == "console_json" else ""
    return f"✔ {i.kind.value} key · {region} · {expiry}{extra}{src} · {i.fingerprint}"


class ImportScreen(KeysModal[KeyRecord | None]):
    """Answers the imported record (None: cancelled)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="import.cancel")]
    AUTO_FOCUS = "#key"

    def __init__(self, *, name: str = "", key_type: KeyType = KeyType.UNKNOWN, title: str | None = None,
                 replaces: KeyRecord | None = None) -> None:
        super().__init__()
        self.replaces = replaces  # the record this key replaces (a manual rotation)
        self.initial_name = name
        self.initial_type = key_type
        if title is None:
            title = f"Import the replacement of {replaces.name}" if replaces is not None else "Import a Momento key"
        self.title_text = title
        self.inspection: Inspection | None = None
        self.source_path: str | None = None
        self.importing: str | None = None  # the name being imported (errors name it)

    @property
    def subject_name(self) -> str | None:
        return self.importing

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog", id="import-dialog"):
            yield Static(Text(self.title_text), classes="title")
            yield Static("Paste the key, or type the path of a file holding it or the console's "
                         "[i]Download JSON[/i]. The secret goes to your OS keyring only.", classes="hint")
            with Grid(classes="form"):
                yield Label("Key or file")
                yield Input(placeholder="paste (hidden) or ~/Downloads/momento-api-key.json", password=True,
                            id="key", compact=True)
                yield Static()
                yield Checkbox("show what I typed", id="show", compact=True)
            yield Static(WAITING, id="preview", classes="preview")
            with Grid(classes="form"):
                yield Label("Name")
                yield Input(value=self.initial_name, placeholder="unique, e.g. orders-api prod", id="name",
                            compact=True)
                yield Label("Endpoint")
                yield Input(placeholder="v2 keys only, e.g. cell-4-us-west-2-1.prod.a.momentohq.com",
                            id="endpoint", compact=True)
                yield Label("Key type")
                yield Select(KEY_TYPES, value=self.initial_type.value, allow_blank=False, id="type", compact=True)
                yield Static()
                yield Checkbox("disposable token (short-lived, cannot be refreshed)", id="disposable", compact=True)
                yield Label("Used where")
                yield Input(placeholder="notes, e.g. k8s secret orders/momento in prod-eu", id="notes",
                            compact=True)
                yield Label("Tags")
                yield Input(placeholder="prod, orders", id="tags", compact=True)
            yield Static("", id="error", classes="error")
            with DialogButtons(classes="buttons"):
                # Import before Cancel: Tab from the last field reaches Import first.
                yield Button("Import", id="import", variant="primary", disabled=True)
                yield Button("Cancel", id="cancel")

    @on(Checkbox.Changed, "#show")
    def _toggle_show(self, event: Checkbox.Changed) -> None:
        self.query_one("#key", Input).password = not event.value

    @on(Input.Changed, "#key")
    @on(Input.Changed, "#endpoint")
    def _preview(self) -> None:
        self.update_preview()

    def _typed(self) -> tuple[str, str | None]:
        return self.query_one("#key", Input).value, self.query_one("#endpoint", Input).value.strip() or None

    def update_preview(self) -> None:
        text, endpoint = self._typed()
        self.inspection = None
        self.source_path = None
        self.query_one("#import", Button).disabled = True
        if not text.strip():
            self._show_preview(WAITING)
        elif looks_like_path(text):
            self._show_preview(Content.styled("reading the file…", "dim"))
            self._read_file(text, endpoint)  # a file may be slow to read (a network folder): off the UI thread
        else:
            self._inspect(text, endpoint, text, None)

    @safe_work("Import", group="import-preview", exclusive=True)
    def _read_file(self, text: str, endpoint: str | None) -> None:
        try:
            body, path = read_source(text)
        except KeyFormatError as exc:
            self.from_worker(self._unreadable, text, endpoint, str(exc))
            return
        self.from_worker(self._inspect, text, endpoint, body, path)

    def _unreadable(self, text: str, endpoint: str | None, message: str) -> None:
        if (text, endpoint) == self._typed():  # (not overtaken by more typing)
            self._show_preview(Content(f"✖ {message}"), "-bad")

    def _inspect(self, text: str, endpoint: str | None, body: str, path: str | None) -> None:
        if (text, endpoint) != self._typed():
            return
        try:
            inspection = inspect_text(body, endpoint=endpoint)
        except KeyFormatError as exc:
            self._show_preview(Content(f"✖ {exc}"), "-bad")
            return
        self.inspection, self.source_path = inspection, path
        msg = describe(inspection, self.services.clock.now())
        if inspection.endpoint is None:
            msg += "\n⚠ no endpoint: type the cell endpoint below (e.g. cell-4-us-west-2-1.prod.a.momentohq.com)"
        self._show_preview(Content(msg), "-good")
        self.query_one("#import", Button).disabled = False

    def _show_preview(self, content: Content, style: str | None = None) -> None:
        preview = self.query_one("#preview", Static)
        preview.remove_class("-good", "-bad")
        preview.update(content)
        if style:
            preview.add_class(style)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        if self.inspection is not None and self.query_one("#name", Input).value.strip():
            self._start_import()

    @on(Button.Pressed, "#import")
    def _start_import(self) -> None:
        error = self.query_one("#error", Static)
        error.update("")
        if self.inspection is None:
            error.update("Paste a key or give a file path first.")
            return
        try:
            name = validate_name(self.query_one("#name", Input).value)
        except KeeperError as exc:
            error.update(Text(str(exc)))
            self.query_one("#name", Input).focus()
            return
        vault = self.services.vault
        inspection, form = self.inspection, self._form()
        if vault.status.health is Health.INSECURE and not vault.allow_insecure:
            from ..widgets.confirm import ConfirmScreen

            def answer(store_anyway: bool | None) -> None:
                if store_anyway:
                    vault.allow_insecure = True  # (the app's banner says so after the import)
                self._import(inspection, name, form)

            self.app.push_screen(ConfirmScreen(
                Text.assemble("The keyring backend is ", ("not secure", "bold"), f": {vault.status.description}.\n\n"
                              "Store the secret there anyway? Anyone who can read that storage can use this key.\n"
                              "Choose ", ("Metadata only", "bold"), " to track the key without storing its secret."),
                yes="Store anyway", no="Metadata only", danger=True), answer)
            return
        self._import(inspection, name, form)

    def _form(self) -> dict:
        """The dialog's values, read on the UI thread for the worker."""
        return {
            "key_type": KeyType(str(self.query_one("#type", Select).value)),
            "kind": Kind.DISPOSABLE if self.query_one("#disposable", Checkbox).value else None,
            "notes": self.query_one("#notes", Input).value.strip(),
            "tags": parse_tags(self.query_one("#tags", Input).value),
        }

    def _import(self, inspection: Inspection, name: str, form: dict) -> None:
        self.importing = name
        self.do_import(inspection, name, form)

    @safe_work("Not imported", group="import", exclusive=True)
    def do_import(self, inspection: Inspection, name: str, form: dict) -> None:
        result = self.services.keeper.import_key(inspection, name, **form)
        if self.replaces is not None:
            self.services.rotator.link_replacement(self.replaces, result.record)
            result.warnings.append(f"{result.record.name!r} now replaces {self.replaces.name!r}: switch its "
                                   "consumers, then revoke the old key in the Momento console")
        self.from_worker(self._done, result)

    def worker_failed(self, title: str, message: str) -> None:
        self.query_one("#error", Static).update(Text(f"{title}: {message}"))

    def _done(self, result: ImportResult) -> None:
        r = result.record
        where = "its secret is in the keyring" if r.secret_stored else "metadata only (secret NOT stored)"
        self.notify(f"Imported {r.name!r}: {where}", title="Imported")
        for w in result.warnings:
            self.notify(w, severity="warning", timeout=10)
        self.keys_changed()
        self.dismiss(r)
