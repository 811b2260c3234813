"""Step 6: everything that will be asked of Momento, in words, and the new key's name."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from ..state import WizardState, choose_name, default_name, review_lines
from .base import Step


class ReviewStep(Step):
    title = "Review"
    next_label = "Generate"

    def compose(self) -> ComposeResult:
        yield self.title_widget()
        yield Static("", id="review")
        with Grid(classes="form"):
            yield Label("Name")
            yield Input(placeholder="unique name for the new key", id="new-name", compact=True)
            yield Label("Used where")
            yield Input(placeholder="notes: where this key will be deployed", id="new-notes", compact=True)
            yield Label("Tags")
            yield Input(placeholder="optional, separated by spaces or commas", id="new-tags", compact=True)
        yield self.problem

    def __init__(self, state: WizardState, *, id: str) -> None:
        super().__init__(state, id=id)
        self.suggested = ""  # the default name last offered (replaced while the user has not changed it)

    @property
    def first_focus(self) -> Widget:
        return self.query_one("#new-name")

    def _taken(self, name: str) -> bool:
        return self.services.store.find(name) is not None

    def enter(self) -> None:
        now = self.services.clock.now()
        text = Text("\n".join(review_lines(self.state, now)))
        text.highlight_words(["never expires"], "bold")
        self.query_one("#review", Static).update(text)
        name = self.query_one("#new-name", Input)
        if not name.value or name.value == self.suggested:
            self.suggested = name.value = default_name(self.state, self._taken)
            name.cursor_position = len(name.value)

    def leave(self) -> str | None:
        return choose_name(self.state, self.query_one("#new-name", Input).value,
                           self.query_one("#new-notes", Input).value, self.query_one("#new-tags", Input).value,
                           self._taken)
