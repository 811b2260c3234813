"""Step 8: the new key, shown once: where it is kept (or why it is not), reveal, copy, retry
storing and Download JSON."""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from ....core.keys import mask
from ....core.report import local_time
from ....core.text import slug
from ....services.issuing import Issued
from ....services.recovery import SecretFileError, in_git_work_tree, rescue_dir, write_secret_file
from ...base import KeysBase
from ..state import WizardState, keep_fields, result_problem
from .base import Note, Step, expected_errors
from .generate import link

REVEAL_SECONDS = 20


def downloads_folder(db_path: Path) -> Path:
    """Where Download JSON saves by default: the user's downloads folder, else the data folder
    (never the current directory, which may be a git checkout)."""
    import platformdirs

    folder = Path(platformdirs.user_downloads_dir())
    return folder if folder.is_dir() else rescue_dir(db_path).parent


def target_of(text: str) -> Path | None:
    """The file typed in the Download JSON field (None: nothing usable typed)."""
    text = text.strip()
    if not text or "\x00" in text:
        return None
    try:
        return Path(text).expanduser()
    except RuntimeError:  # ~user of an unknown user
        return Path(text)


def git_warning(target: Path) -> str | None:
    try:
        top = in_git_work_tree(target.parent)
    except (OSError, ValueError, RuntimeError):  # RuntimeError: ~user of an unknown user
        return None
    if top is None:
        return None
    return (f"⚠ {target.parent} is inside the git work tree {top}: a secret there is one `git add` away from "
            "a commit. Choose a folder outside it.")


class ResultStep(Step):
    title = "Result"
    heading = "Your new key"
    can_go_back = False
    can_cancel = False

    class Retried(Message):
        def __init__(self, issued: Issued, link_problem: str | None) -> None:
            super().__init__()
            self.issued = issued
            self.link_problem = link_problem

    class Downloaded(Message):
        def __init__(self, target: Path, problem: str | None) -> None:
            super().__init__()
            self.target = target
            self.problem = problem

    def __init__(self, state: WizardState, *, id: str) -> None:
        super().__init__(state, id=id)
        self.revealed = False

    def compose(self) -> ComposeResult:
        yield self.title_widget()
        yield Note("", id="store-status", classes="note")
        yield Static("", id="key-box")
        yield Static("", id="result")
        with Horizontal():
            yield Button("Reveal", id="reveal", compact=True)
            yield Button("Copy", id="copy", compact=True)
            yield Button("Retry storing", id="retry-store", compact=True, variant="warning")
        with Horizontal(id="download-row"):
            yield Button("Download JSON to", id="download", compact=True)
            yield Input(id="download-path", compact=True)
        yield Note("", id="download-note", classes="note")
        yield self.problem

    def on_mount(self) -> None:
        self.query_one("#retry-store").display = False

    @property
    def first_focus(self) -> Widget:
        stored = self.state.record is not None
        return self.query_one("#copy" if stored else "#retry-store")

    # ---- showing the outcome --------------------------------------------------------------------
    def enter(self) -> None:
        s = self.state
        issued = s.issued
        if issued is None:
            return
        g = issued.generated
        status = self.query_one("#store-status", Note)
        if issued.record is not None:
            what = "the key and its refresh token are" if g.refresh_token else "the key is"
            text = Text.assemble(("✔ Stored as ", "bold"), (s.name, "bold"),
                                 f": {what} in your keyring ({self.services.vault.status.description}); "
                                 "the database keeps only metadata.")
            for warning in issued.warnings:
                text.append(f"\n⚠ {warning}")
            status.say(text, "good")
        else:
            text = Text.assemble(("✖ NOT STORED: ", "bold"), issued.problem or "?")
            if issued.rescue_file is not None:
                text.append(f"\nA copy is saved in {issued.rescue_file} (mode 0600: only you can read it). Retry "
                            "storing once the problem is fixed (for example after unlocking your keyring): the "
                            "copy is then deleted. You can also copy the key or download its JSON.")
            else:
                text.append("\nThe key exists only on this screen. Copy it, download its JSON, or retry storing "
                            "(for example after unlocking your keyring).")
            status.say(text, "bad")
        self.query_one("#retry-store").display = issued.record is None
        self.render_key()
        label = "dim"
        if g.valid_until:
            until = local_time(g.valid_until)
        else:
            until = "never expires" if g.expiry_known else "unknown until the next sync"
        text = Text.assemble(
            ("      endpoint  ", label), g.endpoint, "\n",
            (" HTTP endpoint  ", label), f"https://api.cache.{g.endpoint}", "\n",
            ("   valid until  ", label), until)
        if issued.v2 is not None:  # a v2 key: no refresh token to speak of; its role and account id instead
            v2 = issued.v2
            text.append_text(Text.assemble("\n", ("          role  ", label), v2.role_name or v2.role_id or "?",
                                           "\n", ("        key id  ", label), v2.key_id or "unknown until a sync"))
        else:
            text.append_text(Text.assemble("\n", (" refresh token  ", label),
                                           "yes (kept with the key)" if g.refresh_token else "none"))
        self.query_one("#result", Static).update(text)
        path = self.query_one("#download-path", Input)
        if not path.value:
            folder = downloads_folder(self.services.store.path)
            path.value = str(folder / f"momento-api-key-{slug(s.name)}.json")

    def leave(self) -> str | None:
        return result_problem(self.state)

    def render_key(self) -> None:
        g = self.state.generated
        if g is None:
            return
        box = self.query_one("#key-box", Static)
        if self.revealed:
            box.update(Text(g.api_key))
            box.add_class("-revealed")
        else:
            box.update(Text.assemble(mask(g.api_key), ("   (masked; Reveal shows it)", "dim")))
            box.remove_class("-revealed")
        self.query_one("#reveal", Button).label = "Hide" if self.revealed else "Reveal"

    @on(Button.Pressed, "#reveal")
    def _toggle_reveal(self) -> None:
        self.revealed = not self.revealed
        self.render_key()
        if self.revealed:
            self.set_timer(REVEAL_SECONDS, self.hide_key)

    def hide_key(self) -> None:
        if self.revealed:
            self.revealed = False
            self.render_key()

    # ---- copy ------------------------------------------------------------------------------------
    @on(Button.Pressed, "#copy")
    def _copy(self) -> None:
        g = self.state.generated
        if g is not None:
            # The app's one copy path: both clipboards, and the clear that outlives the app.
            screen = self.screen
            if isinstance(screen, KeysBase):
                screen.host.copy_secret_value(g.api_key, self.state.name)

    # ---- retry storing -----------------------------------------------------------------------------
    @on(Button.Pressed, "#retry-store")
    def _retry(self) -> None:
        self.query_one("#store-status", Note).say("Storing…", "warn")
        self.retry_store()

    @work(thread=True, exclusive=True, group="wizard-store", exit_on_error=False)
    def retry_store(self) -> None:
        services, s = self.services, self.state
        issued = s.issued
        if issued is None:
            return
        try:
            services.vault.probe()  # the keyring may have been unlocked meanwhile
            again = services.issuer.retry(issued, **keep_fields(s))
        except Exception as exc:
            again = Issued(issued.generated, issued.name, rescue_file=issued.rescue_file,
                           problem=f"unexpected {type(exc).__name__} while storing")
        self.post_message(self.Retried(again, link(services, s, again)))

    @on(Retried)
    def _retried(self, event: Retried) -> None:
        event.stop()
        self.state.issued = event.issued
        self.enter()
        if event.issued.stored:
            self.notify(f"Stored {self.state.name!r}", markup=False)
        else:
            self.notify(f"Still not stored: {event.issued.problem}", severity="error", markup=False)
        if event.link_problem:
            self.notify(event.link_problem, severity="warning", markup=False)

    # ---- Download JSON -----------------------------------------------------------------------------
    @on(Input.Changed, "#download-path")
    def _path_changed(self, event: Input.Changed) -> None:
        target = target_of(event.value)
        warning = git_warning(target) if target is not None else None
        self.query_one("#download-note", Note).say(warning or "", "warn" if warning else "")

    @on(Input.Submitted, "#download-path")
    def _download_submitted(self, event: Input.Submitted) -> None:
        event.stop()  # Enter here saves the file; it does not move the wizard on
        self._download()

    @on(Button.Pressed, "#download")
    def _download(self) -> None:
        target = target_of(self.query_one("#download-path", Input).value)
        if target is None:
            self.query_one("#download-note", Note).say("✖ type the file to save the key's JSON in", "bad")
            return
        self.download(target)

    @work(thread=True, exclusive=True, group="wizard-download", exit_on_error=False)
    def download(self, target: Path) -> None:
        services, issued = self.services, self.state.issued
        if issued is None:
            return
        try:
            write_secret_file(target, issued.download_json())
        except SecretFileError as exc:
            problem = (f"{target} already exists: choose another file name (nothing was overwritten)."
                       if os.path.lexists(target) else str(exc))
            self.post_message(self.Downloaded(target, problem))
            return
        except (OSError, ValueError, RuntimeError) as exc:  # a name refused outright (NUL, ~unknown-user)
            self.post_message(self.Downloaded(target, f"cannot write {target}: {exc}"))
            return
        if issued.record is not None and issued.record.id is not None:
            try:
                services.store.log(issued.record.id, "exported", now=services.keeper.now(), detail=str(target))
            except expected_errors():
                pass  # the file is written; the journal line is a nicety
        self.post_message(self.Downloaded(target, None))

    @on(Downloaded)
    def _downloaded(self, event: Downloaded) -> None:
        event.stop()
        note = self.query_one("#download-note", Note)
        if event.problem:
            note.say(f"✖ {event.problem}", "bad")
            return
        self.state.download_path = str(event.target)
        text = (f"✔ Saved {event.target} (mode 0600: only you can read it). It holds the key: move it into a "
                "secrets manager and delete it.")
        warning = git_warning(event.target)
        note.say(f"{text}\n{warning}" if warning else text, "warn" if warning else "good")
        self.notify(f"Saved the JSON of {self.state.name!r} to {event.target}", markup=False)
