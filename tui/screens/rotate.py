"""Rotate a key: refresh it through Momento, or guide a manual replacement."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, LoadingIndicator, Static

from ..core.keys import CONSOLE_URL
from ..core.model import KeyRecord, KeyType, Kind
from ..core.report import local_time
from ..services.recovery import SecretFileError, download_json, write_secret_file
from ..services.rotation import RotationError, refresh_blocker


class RotateScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", id="rotate.close")]

    def __init__(self, record: KeyRecord) -> None:
        super().__init__()
        self.record = record
        self.rescue = None  # a generated pair the keyring refused
        self.running = False

    def compose(self) -> ComposeResult:
        r = self.record
        with Vertical(classes="dialog", id="rotate-dialog"):
            yield Static(f"Rotate {escape(r.name)}", classes="title")
            yield Static("", id="rotate-body")
            yield LoadingIndicator(id="rotate-progress")
            yield Input(id="rescue-path", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close")
                yield Button("Copy the new key", id="copy-rescue")
                yield Button("Save the new key as JSON", id="save-rescue", variant="warning")
                yield Button("Import the replacement…", id="manual-import")
                yield Button("Make a replacement (wizard)…", id="manual-wizard")
                yield Button("Rotate now", id="go", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#rotate-progress").display = False
        self.query_one("#rescue-path").display = False
        self.query_one("#save-rescue").display = False
        self.query_one("#copy-rescue").display = False
        keeper = self.app.keeper  # type: ignore[attr-defined]
        r = self.record
        blocker = refresh_blocker(r, keeper.clock.now())
        body = self.query_one("#rotate-body", Static)
        if blocker is None:
            body.update(
                "Momento will make a new key with the same permissions and the same lifetime, counted from now, "
                "and a new refresh token. Both are stored together in your keyring; the new key takes the name "
                f"{escape(r.name)!r}.\n\nThe old key keeps working until {local_time(r.expires_at)} — the grace "
                "window to switch everything that uses it. You will get a reminder to do that."
            )
            self.query_one("#manual-import").display = False
            self.query_one("#manual-wizard").display = False
            self.query_one("#go", Button).focus()
        else:
            self.query_one("#go").display = False
            wizard_ok = r.key_type is not KeyType.SUPER_USER and r.kind in (Kind.V1, Kind.DISPOSABLE)
            self.query_one("#manual-wizard").display = wizard_ok
            steps = [f"[b]This key cannot be refreshed[/b]: {escape(blocker)}.", "", "Rotate it by hand:"]
            if wizard_ok:
                steps.append("  1. Make a replacement with the wizard (same permissions, where known), or in the "
                             f"console ({CONSOLE_URL}).")
            else:
                steps.append(f"  1. Make a replacement in the Momento console ({CONSOLE_URL}) and press "
                             "Download JSON.")
            steps += ["  2. Import it here as the replacement: momento-keys links the two keys.",
                      "  3. Switch everything that uses the old key to the new one.",
                      "  4. Revoke the old key in the console. Reminders will track steps 3 and 4."]
            body.update("\n".join(steps))

    def action_close(self) -> None:
        if self.running:
            self.notify("Rotation in progress: wait for Momento's answer", severity="warning")
            return
        if self.rescue is not None:
            self.notify("Save the new key first: it is not stored anywhere else", severity="error")
            return
        self.dismiss(None)

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.action_close()

    @on(Button.Pressed, "#go")
    def _go(self) -> None:
        self.running = True
        self.query_one("#go").display = False
        self.query_one("#rotate-progress").display = True
        self.query_one("#rotate-body", Static).update("Asking Momento for a new key…")
        self.run_rotation()

    @work(thread=True, exclusive=True, group="rotate")
    def run_rotation(self) -> None:
        rotator = self.app.rotator()  # type: ignore[attr-defined]
        try:
            outcome = rotator.rotate(self.record)
        except RotationError as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._done, outcome)

    def _done(self, outcome) -> None:
        self.running = False
        self.query_one("#rotate-progress").display = False
        lines = [f"✔ {escape(outcome.summary())}"]
        lines += [f"⚠ {escape(w)}" for w in outcome.warnings]
        lines.append(f"\nThe old key is now {escape(outcome.old.name)!r} (previous).")
        self.query_one("#rotate-body", Static).update("\n".join(lines))
        self.app.notify(f"Rotated {outcome.new.name!r}", title="Rotated")
        self.app.load_records()  # type: ignore[attr-defined]

    def _failed(self, exc: RotationError) -> None:
        self.running = False
        self.query_one("#rotate-progress").display = False
        body = self.query_one("#rotate-body", Static)
        if exc.issued is not None and exc.issued.rescue_file is not None:
            body.update(f"[b]✖ {escape(str(exc))}[/b]")
        elif exc.issued is not None:
            self.rescue = exc.issued.generated
            body.update(f"[b]✖ {escape(str(exc))}[/b]\n\nSave it as a JSON file only you can read (0600), to "
                        "import later, or copy it to the clipboard.")
            path = self.query_one("#rescue-path", Input)
            path.value = str(Path.cwd() / "momento-rotated-key.json")
            path.display = True
            self.query_one("#save-rescue").display = True
            self.query_one("#copy-rescue").display = True
        else:
            body.update(f"✖ {escape(str(exc))}")
        self.app.notify(f"{self.record.name}: {exc}", severity="error", timeout=10)
        self.app.load_records()  # type: ignore[attr-defined]

    @on(Button.Pressed, "#copy-rescue")
    def _copy(self) -> None:
        if self.rescue is not None:
            self.app.copy_to_clipboard(self.rescue.api_key)
            self.app.clipboard_tool.copy(self.rescue.api_key)  # type: ignore[attr-defined]
            self.notify("Copied the new key. Also save its JSON: it holds the new refresh token too.")

    @on(Button.Pressed, "#save-rescue")
    def _save(self) -> None:
        target = Path(self.query_one("#rescue-path", Input).value.strip()).expanduser()
        g = self.rescue
        try:
            write_secret_file(target, download_json(g.api_key, g.refresh_token, g.valid_until, g.endpoint))
        except SecretFileError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.rescue = None
        self.query_one("#save-rescue").display = False
        self.query_one("#rotate-body", Static).update(
            f"Saved the new key to {escape(str(target))} (mode 0600). Import it with "
            f"momento-keys import --name NAME --file {escape(str(target))} once the keyring works.")

    @on(Button.Pressed, "#manual-import")
    def _manual_import(self) -> None:
        from .import_key import ImportScreen

        self.dismiss(None)
        self.app.push_screen(ImportScreen(key_type=self.record.key_type, replaces=self.record,
                                          title=f"Import the replacement of {self.record.name}"))

    @on(Button.Pressed, "#manual-wizard")
    def _manual_wizard(self) -> None:
        from .wizard import WizardScreen

        self.dismiss(None)
        self.app.push_screen(WizardScreen(replaces=self.record))
