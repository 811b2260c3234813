"""A yes/no question in a modal. The question is text (a ``rich.text.Text`` or a plain string
shown as is), never markup: it usually holds a key's name."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from .dialog import DialogBox, DialogButtons
from .footer import KeysFooter


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("escape,n", "answer(False)", "Cancel", id="confirm.no"),
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
    ]

    def __init__(self, question: str | Text, *, yes: str = "Yes", no: str = "Cancel", danger: bool = False) -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no
        self.danger = danger

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog" + (" -danger" if self.danger else "")):
            question = self.question if isinstance(self.question, Text) else Text(self.question)
            yield Static(question, id="question")
            yield Static("", id="keys-hint", classes="hint")
            with DialogButtons(classes="buttons"):
                yield Button(self.no, id="no")
                yield Button(self.yes, id="yes", variant="error" if self.danger else "primary")
        yield KeysFooter()

    @property
    def AUTO_FOCUS(self) -> str:  # type: ignore[override]
        # The safe answer has the focus: Enter on a dangerous question cancels.
        return "#no" if self.danger else "#yes"

    def on_mount(self) -> None:
        self.query_one("#keys-hint", Static).update(self.keys_hint())

    def keys_hint(self) -> Text:
        """Which keys answer, as they are bound now ([bindings] may have remapped them)."""
        keys: dict[bool, list[str]] = {True: [], False: []}
        for active in self.active_bindings.values():
            answer = {"answer(True)": True, "answer(False)": False}.get(active.binding.action)
            if answer is not None:
                keys[answer].append(self.app.get_key_display(active.binding))
        return Text(f"{'/'.join(keys[True]) or '—'}: {self.yes}   {'/'.join(keys[False]) or '—'}: {self.no}")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
