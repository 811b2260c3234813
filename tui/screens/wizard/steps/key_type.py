"""Step 2: fine-grained key or short-lived token (super-user keys come from the console)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, RadioButton, RadioSet

from ....core.keys import CONSOLE_URL
from ..state import FINE_GRAINED, SUPER_USER, TOKEN, choose_kind
from .base import Note, Step


class KeyTypeStep(Step):
    title = "Key type"

    class ImportWanted(Message):
        """The user wants to import a super-user key made in the console."""

    def compose(self) -> ComposeResult:
        yield self.title_widget()
        token = self.state.token
        yield RadioSet(
            RadioButton("Fine-grained access key: data operations on chosen caches and topics (recommended)",
                        value=not token, name=FINE_GRAINED),
            RadioButton("Super user key: everything, including management and the auth API", name=SUPER_USER),
            RadioButton("Short-lived token: disposable, data only, up to 25 hours, cannot be refreshed",
                        value=token, name=TOKEN),
            id="key-type",
        )
        yield self.problem
        yield Note("", id="type-note", classes="note")
        yield Button("Import a super-user key from the console…", id="to-import")

    def on_mount(self) -> None:
        self.query_one("#to-import").display = False

    @property
    def first_focus(self) -> Widget:
        return self.query_one("#key-type")

    def _choice(self) -> str:
        button = self.query_one("#key-type", RadioSet).pressed_button
        return button.name if button is not None and button.name else FINE_GRAINED

    def enter(self) -> None:
        self._changed()

    def leave(self) -> str | None:
        return choose_kind(self.state, self._choice())

    @on(RadioSet.Changed, "#key-type")
    def _changed(self) -> None:
        choice = self._choice()
        self.query_one("#to-import").display = choice == SUPER_USER
        note = self.query_one("#type-note", Note)
        if choice == SUPER_USER:
            note.say("Super-user keys cannot be made through the API: only the Momento console makes them.\n"
                     f"Open {CONSOLE_URL}, generate a Super User key, press Download JSON, then import the key "
                     "or its JSON file here.", "warn")
        elif choice == TOKEN:
            note.say("A disposable token: data-plane only, expires within 25 hours, no refresh token. Good for "
                     "CI jobs and short tasks.", "good")
        else:
            note.say("Data operations limited to the caches and topics you choose next.", "good")

    @on(Button.Pressed, "#to-import")
    def _to_import(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.ImportWanted())
