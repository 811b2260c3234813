"""Rotate a key: refresh it through Momento, or guide a manual replacement.

The dialog answers ``"import"`` or ``"wizard"`` through ``dismiss`` when the user chooses
to make the replacement by hand; the app opens that screen.

A new key Momento made that could not be stored went through the one never-lose path
(tui.services.issuing): the dialog says where it was rescued and how to import it, and
only when no rescue file could be written offers to copy it or save it elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Button, Input, LoadingIndicator, Static

from ..core.keys import CONSOLE_URL
from ..core.model import KeyRecord, KeyType, Kind, Lifecycle
from ..core.report import local_time
from ..core.text import shell_quote, slug
from ..widgets.dialog import DialogBox, DialogButtons
from .base import KeysModal, error_text, safe_work

if TYPE_CHECKING:
    from ..services.issuing import Issued
    from ..services.revoke import RevokeOutcome
    from ..services.rotation import RotationOutcome, Rotator

Choice = Literal["import", "wizard"]


def import_command(issued: Issued, old: KeyRecord, path: Path) -> str:
    """The CLI step that tracks a rescued new key as the replacement of ``old``."""
    return (f"momento-keys import --name {shell_quote(issued.name)} --replaces {shell_quote(old.name)} "
            f"--type {old.key_type.value} --file {shell_quote(str(path))}")


def save_folder() -> Path:
    """Where "save as" proposes to write: the user's downloads folder (never the current
    directory, which may be a git work tree)."""
    from platformdirs import user_downloads_dir

    folder = Path(user_downloads_dir())
    return folder if folder.is_dir() else Path.home()


class RotateScreen(KeysModal[Choice | None]):
    BINDINGS = [Binding("escape", "close", "Close", id="rotate.close")]
    AUTO_FOCUS = None  # on_mount focuses the button of what to do next (Textual's pick could be a hidden field)

    def __init__(self, record: KeyRecord) -> None:
        super().__init__()
        self.record = record
        self.unkept: Issued | None = None  # a new key Momento made that is nowhere else: save or copy it
        self.copied = False
        self.running = False
        self.previous: KeyRecord | None = None  # v2: the old key, to revoke once consumers switched

    @property
    def key_id(self) -> int | None:
        return self.record.id

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog", id="rotate-dialog"):
            yield Static(Content(f"Rotate {self.record.name}"), classes="title")
            yield Static("", id="rotate-body")
            yield LoadingIndicator(id="rotate-progress")
            yield Input(id="rescue-path", compact=True)
            with DialogButtons(classes="buttons"):
                yield Button("Close", id="close")
                yield Button("Copy the new key", id="copy-rescue")
                yield Button("Save the new key as JSON", id="save-rescue", variant="warning")
                yield Button("Import the replacement…", id="manual-import")
                yield Button("Make a replacement (wizard)…", id="manual-wizard")
                yield Button("Revoke the old key…", id="finish", variant="error")
                yield Button("Rotate now", id="go", variant="primary")

    def on_mount(self) -> None:
        from ..services.rotation import refresh_blocker

        for widget in ("#rotate-progress", "#rescue-path", "#save-rescue", "#copy-rescue", "#finish"):
            self.query_one(widget).display = False
        r = self.record
        if r.kind is Kind.V2 and self._mount_v2():
            return
        blocker = refresh_blocker(r, self.services.clock.now())
        if r.kind is Kind.V2:
            from ..services.rotation import v2_blocker

            blocker = v2_blocker(r, self.services.clock.now())
        if blocker is None:
            self._body(Content(
                "Momento will make a new key with the same permissions and the same lifetime, counted from now, "
                "and a new refresh token. Both are stored together in your keyring; the new key takes the name "
                f"{r.name!r}.\n\nThe old key keeps working until {local_time(r.expires_at)} — the grace "
                "window to switch everything that uses it. You will get a reminder to do that."))
            self.query_one("#manual-import").display = False
            self.query_one("#manual-wizard").display = False
            self.query_one("#go", Button).focus()
            return
        self.query_one("#go").display = False
        wizard_ok = r.key_type is not KeyType.SUPER_USER and r.kind in (Kind.V1, Kind.DISPOSABLE)
        self.query_one("#manual-wizard").display = wizard_ok
        self.query_one("#manual-wizard" if wizard_ok else "#manual-import", Button).focus()
        if wizard_ok:
            first = ("  1. Make a replacement with the wizard (same permissions, where known), or in the "
                     f"console ({CONSOLE_URL}).")
        else:
            first = f"  1. Make a replacement in the Momento console ({CONSOLE_URL}) and press Download JSON."
        self._body(Content.assemble(
            ("Rotate it by hand", "bold"), f" — {blocker}.\n\n{first}\n",
            "  2. Import it here as the replacement: momento-keys links the two keys.\n"
            "  3. Switch everything that uses the old key to the new one.\n"
            "  4. Revoke the old key in the console. Reminders will track steps 3 and 4."))

    def _mount_v2(self) -> bool:
        """A v2 key: rotated through the account API (a new key with the same role), or, for
        the previous key of such a rotation, its last step: revoke it. False: it cannot be
        rotated that way (the manual steps follow)."""
        from ..services.rotation import v2_blocker

        r = self.record
        if r.lifecycle is Lifecycle.PREVIOUS and r.key_id is not None and r.revoked_at is None:
            self.previous = r
            self._show_finish(Content(
                f"{r.name!r} is the previous key of a rotation: it keeps working until it is revoked.\n\n"
                "Once everything that used it has switched to the new key, revoke it: Momento deletes it from the "
                "account, and its record here retires."))
            self.query_one("#go").display = False
            self.query_one("#manual-import").display = False
            self.query_one("#manual-wizard").display = False
            return True
        if v2_blocker(r, self.services.clock.now()) is not None:
            return False
        role = r.role_name or r.role_id
        lifetime = ("never expires" if r.expires_at is None
                    else f"the same lifetime, counted from now (the old one expires {local_time(r.expires_at)})")
        self._body(Content(
            f"Momento's account API will make a new v2 key with the role {role}, the description "
            f"{(r.description or '')!r} and {lifetime}. It is stored in your keyring and takes the name "
            f"{r.name!r}.\n\nThe old key keeps working until it is revoked: switch everything that uses it, then "
            "revoke it (here, after the rotation, or X on the dashboard). You will get a reminder."))
        self.query_one("#manual-import").display = False
        self.query_one("#manual-wizard").display = False
        self.query_one("#go", Button).focus()
        return True

    def _rotator(self) -> Rotator:
        """The services' rotator, with the account API for v2 keys: the app picks the key that
        acts (``account_for``) unless the services wire their own."""
        services = self.services
        if services.account_factory is not None or self.record.kind is not Kind.V2:
            return services.rotator
        from ..services.rotation import Rotator

        return Rotator(services.keeper, services.momento, lambda: self.host.account_for())

    def _show_finish(self, body: Content) -> None:
        self._body(body)
        finish = self.query_one("#finish", Button)
        finish.display = True
        finish.focus()

    @on(Button.Pressed, "#finish")
    def _finish(self) -> None:
        old = self.previous
        if old is None or self.running:
            return
        from rich.text import Text

        from ..widgets.confirm import ConfirmScreen

        role = old.role_name or old.role_id or "not known"
        question = Text.assemble(
            "Revoke the old key ", (old.name, "bold"), " (role ", (role, "bold"), ")?\n\n",
            "Everything still using it stops working at once. This cannot be undone.")

        def answer(yes: bool | None) -> None:
            if yes and self.previous is not None:
                self.running = True
                self.query_one("#finish").display = False
                self.query_one("#rotate-progress").display = True
                self._body(Content(f"Revoking {old.name!r} through the account API…"))
                self.run_finish(self.previous)

        self.app.push_screen(ConfirmScreen(question, yes="Revoke", danger=True), answer)

    @safe_work("Revoke", group="rotate", exclusive=True)
    def run_finish(self, old: KeyRecord) -> None:
        try:
            outcome = self._rotator().finish_v2(old)
        except Exception as exc:
            self.from_worker(self._finish_failed, exc)
            raise
        self.from_worker(self._finished, outcome)

    def _finished(self, outcome: RevokeOutcome) -> None:
        self.running = False
        self.previous = None
        self.query_one("#rotate-progress").display = False
        self._body(Content("\n".join([f"✔ {outcome.summary()}", *(f"⚠ {w}" for w in outcome.warnings)])))
        self.notify(outcome.summary(), title="Revoked")
        self.keys_changed()

    def _finish_failed(self, exc: Exception) -> None:
        self.running = False
        self.query_one("#rotate-progress").display = False
        self._show_finish(Content(f"✖ {error_text(exc)}"))

    def _body(self, content: Content) -> None:
        self.query_one("#rotate-body", Static).update(content)
        # (every change of state comes with new words, and shows or hides buttons)
        self.call_after_refresh(self.query_one(DialogButtons).refit)

    def action_close(self) -> None:
        if self.running:
            self.notify("Rotation in progress: wait for Momento's answer", severity="warning")
            return
        if self.unkept is not None and not self.copied:
            self.notify(f"Save the new key of {self.record.name!r} first (or copy it): it is stored nowhere else",
                        severity="error")
            return
        self.dismiss(None)

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.action_close()

    # ---- refresh ------------------------------------------------------------------------
    @on(Button.Pressed, "#go")
    def _go(self) -> None:
        self.running = True
        self.query_one("#go").display = False
        self.query_one("#rotate-progress").display = True
        self._body(Content("Asking Momento for a new key…"))
        self.run_rotation(self.record)

    @safe_work("Rotate", group="rotate", exclusive=True)
    def run_rotation(self, record: KeyRecord) -> None:
        try:
            outcome = self._rotator().rotate(record)
        except Exception as exc:
            self.from_worker(self._failed, exc)
            raise  # (shown in a notification too)
        self.from_worker(self._done, outcome)

    def _done(self, outcome: RotationOutcome) -> None:
        self.running = False
        self.query_one("#rotate-progress").display = False
        lines = [f"✔ {outcome.summary()}", *(f"⚠ {w}" for w in outcome.warnings),
                 f"\nThe old key is now {outcome.old.name!r} (previous)."]
        if outcome.old.kind is Kind.V2 and outcome.old.key_id is not None:
            self.previous = outcome.old
            lines.append("Once everything that used it has switched to the new key, revoke it (the button below, "
                         "or X on the dashboard later).")
            self._show_finish(Content("\n".join(lines)))
        else:
            self._body(Content("\n".join(lines)))
        self.notify(f"Rotated {outcome.new.name!r}", title="Rotated")
        self.keys_changed()

    def _failed(self, exc: Exception) -> None:
        from ..services.rotation import RotationError

        self.running = False
        self.query_one("#rotate-progress").display = False
        self.keys_changed()  # a rotation that failed half way may have changed records
        issued = exc.issued if isinstance(exc, RotationError) else None
        if issued is None:
            self._body(Content(f"✖ {error_text(exc)}"))
        elif issued.rescue_file is not None:
            self._rescued(issued, issued.rescue_file)
        else:
            self._unkept(issued)

    def _rescued(self, issued: Issued, path: Path, *, saved: bool = False) -> None:
        """The new key is in a file: say where, and the exact step that tracks it."""
        r = self.record
        if saved:
            headline: tuple[str, str] | Content = ("✔ The new key is saved", "bold")
            where = "It is in"
        else:
            headline = Content.assemble(("✖ Momento made the new key, but it could not be stored", "bold"),
                                        f": {issued.problem}." if issued.problem else ".")
            where = "It is saved in"
        self._body(Content.assemble(
            headline, "\n\n", f"{where} ", (str(path), "bold"),
            " (the console's Download JSON, readable only by you; it holds the new key and its refresh token). "
            f"The old refresh token is spent; the old key keeps working until {local_time(r.expires_at)}.\n\n"
            "Once the keyring works, track it as the replacement:\n",
            (import_command(issued, r, path), "bold"), "\nthen delete the file."))

    def _unkept(self, issued: Issued) -> None:
        """No rescue file could be written: this screen holds the only copy of the new key."""
        self.unkept = issued
        self._body(Content.assemble(
            ("✖ Momento made the new key, but it could not be stored", "bold"), f": {issued.problem}.\n\n",
            "It is stored nowhere else: save it as a JSON file only you can read (0600), to import later, "
            "or copy it to the clipboard. The old refresh token is spent."))
        path = self.query_one("#rescue-path", Input)
        path.value = str(save_folder() / f"momento-{slug(self.record.name)}-rotated.json")
        path.display = True
        self.query_one("#save-rescue").display = True
        self.query_one("#copy-rescue").display = True

    @on(Button.Pressed, "#copy-rescue")
    def _copy(self) -> None:
        if self.unkept is not None:
            self.host.copy_secret_value(self.unkept.generated.api_key, self.unkept.name)
            self.copied = True
            self.notify("Also save its JSON: it holds the new refresh token too.", timeout=8)

    @on(Button.Pressed, "#save-rescue")
    def _save(self) -> None:
        if self.unkept is not None:
            target = Path(self.query_one("#rescue-path", Input).value.strip()).expanduser()
            self.save_unkept(self.unkept, target)

    @safe_work("Save", group="save-rescue", exclusive=True)
    def save_unkept(self, issued: Issued, target: Path) -> None:
        from ..services.recovery import write_secret_file

        written = write_secret_file(target, issued.download_json())
        self.from_worker(self._saved, issued, written)

    def _saved(self, issued: Issued, path: Path) -> None:
        self.unkept = None
        for widget in ("#rescue-path", "#save-rescue", "#copy-rescue"):
            self.query_one(widget).display = False
        self._rescued(issued, path, saved=True)
        self.notify(f"Saved the new key of {self.record.name!r} to {path} (mode 0600)", title="Saved")

    # ---- by hand ----------------------------------------------------------------------------
    @on(Button.Pressed, "#manual-import")
    def _manual_import(self) -> None:
        self.dismiss("import")

    @on(Button.Pressed, "#manual-wizard")
    def _manual_wizard(self) -> None:
        self.dismiss("wizard")
