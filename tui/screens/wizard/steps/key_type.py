"""Step 1: what to make. A v2 API key (the console's default today), a fine-grained v1 key, or a
short-lived token; super-user keys come from the console (an import)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, RadioButton

from ....core.keys import CONSOLE_URL
from ..state import FINE_GRAINED, SUPER_USER, TOKEN, V2, choose_kind
from .base import Choices, Note, Step

NOTES = {
    V2: ("One key for every region, bound to a role of your account (Owner, Operator, Viewer or a custom role), "
         "with a description; no refresh token. Made through Momento's account API.", "good"),
    FINE_GRAINED: ("A v1 key, made in one region, limited to the caches and topics you choose next, with a "
                   "refresh token. Momento's SDKs call v1 keys deprecated; they still work.", "good"),
    TOKEN: ("A disposable token: data-plane only, expires within 25 hours, no refresh token. Good for CI jobs "
            "and short tasks.", "good"),
    SUPER_USER: ("Super-user keys cannot be made through the API: only the Momento console makes them.\n"
                 f"Open {CONSOLE_URL}, generate a Super User key, press Download JSON, then import the key or "
                 "its JSON file here.", "warn"),
}


class KeyTypeStep(Step):
    title = "Key type"

    class ImportWanted(Message):
        """The user wants to import a super-user key made in the console."""

    def compose(self) -> ComposeResult:
        yield self.title_widget()
        kind = self.state.key_kind
        yield Choices(
            RadioButton("v2 API key (recommended): every region, bound to a role", value=kind == V2, name=V2),
            RadioButton("Fine-grained v1 key: chosen caches and topics, one region, refresh token "
                        "(deprecated by Momento)", value=kind == FINE_GRAINED, name=FINE_GRAINED),
            RadioButton("Short-lived token: disposable, data only, up to 25 hours, cannot be refreshed",
                        value=kind == TOKEN, name=TOKEN),
            RadioButton("Super user key: everything, including management (made in the console)", name=SUPER_USER),
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
        button = self.query_one("#key-type", Choices).pressed_button
        return button.name if button is not None and button.name else V2

    def enter(self) -> None:
        self._changed()

    def leave(self) -> str | None:
        return choose_kind(self.state, self._choice())

    @on(Choices.Changed, "#key-type")
    def _changed(self) -> None:
        choice = self._choice()
        self.query_one("#to-import").display = choice == SUPER_USER
        text, kind = NOTES[choice]
        if choice != V2 and self.state.acting_v2:
            text, kind = ("You signed in with a v2 key, which makes only v2 keys: go back and choose a v1 "
                          "super-user key for this type."), "warn"
        self.query_one("#type-note", Note).say(text, kind)

    @on(Button.Pressed, "#to-import")
    def _to_import(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.ImportWanted())
