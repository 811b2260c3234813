"""Step 4: when the new key expires (presets, a date or duration, or never after a warning)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, RadioButton, Static

from ....core.expiry import ExpiryError
from ..state import (
    CUSTOM,
    DEFAULT_KEY_EXPIRY,
    DEFAULT_TOKEN_EXPIRY,
    KEY_PRESETS,
    NEVER,
    TOKEN_PRESETS,
    choose_expiry,
    expiry_seconds,
    expiry_sentence,
)
from .base import Choices, Note, Step


class ExpirationStep(Step):
    title = "Expiration"

    def compose(self) -> ComposeResult:
        yield self.title_widget()
        yield Static("Keys should expire: rotate them before they do. Momento advises against keys that never "
                     "expire.", classes="explain")
        yield Choices(
            *[RadioButton(label, value=seconds == DEFAULT_KEY_EXPIRY, name=str(seconds))
              for label, seconds in KEY_PRESETS],
            RadioButton("Custom date or duration", name=CUSTOM),
            RadioButton("Never expires (not recommended)", name=NEVER),
            id="expiry-key", classes="expiry",
        )
        yield Choices(
            *[RadioButton(label, value=seconds == DEFAULT_TOKEN_EXPIRY, name=str(seconds))
              for label, seconds in TOKEN_PRESETS],
            RadioButton("Custom duration or date (at most 25 hours)", name=CUSTOM),
            id="expiry-token", classes="expiry",
        )
        with Grid(classes="form", id="custom-expiry"):
            yield Label("Custom")
            yield Input(placeholder="a date (2027-03-01, or 2027-03-01 14:30) or a duration (45d, 12h)",
                        id="expiry-custom", compact=True)
        yield Checkbox("I understand: a key that never expires stays valid until it is revoked", id="never-ok",
                       compact=True)
        yield self.problem
        yield Note("", id="expiry-note", classes="note")

    @property
    def _radio(self) -> Choices:
        return self.query_one("#expiry-token" if self.state.token else "#expiry-key", Choices)

    def _choice(self) -> str | None:
        button = self._radio.pressed_button
        return None if button is None else button.name

    @property
    def first_focus(self) -> Widget:
        return self.query_one("#expiry-custom") if self._choice() == CUSTOM else self._radio

    def has_input(self) -> bool:
        return bool(self.query_one("#expiry-custom", Input).value)

    def enter(self) -> None:
        self.query_one("#expiry-key").display = not self.state.token
        self.query_one("#expiry-token").display = self.state.token
        self._changed()

    def leave(self) -> str | None:
        return choose_expiry(self.state, self._choice(), self.query_one("#expiry-custom", Input).value,
                             self.query_one("#never-ok", Checkbox).value, self.services.clock.now())

    @on(Choices.Changed, ".expiry")
    @on(Input.Changed, "#expiry-custom")
    @on(Checkbox.Changed, "#never-ok")
    def _changed(self) -> None:
        choice = self._choice()
        custom = self.query_one("#expiry-custom", Input).value
        self.query_one("#custom-expiry").display = choice == CUSTOM
        note = self.query_one("#expiry-note", Note)
        now = self.services.clock.now()
        try:
            seconds = expiry_seconds(choice, custom, now, token=self.state.token)
        except ExpiryError as exc:
            self.query_one("#never-ok").display = False
            note.say("")
            self.show_problem(str(exc))  # while typing too: the sentence says what would be taken
            return
        self.show_problem(None)
        self.query_one("#never-ok").display = seconds is None
        note.say(expiry_sentence(seconds, now, v2=self.state.v2), "warn" if seconds is None else "good")
