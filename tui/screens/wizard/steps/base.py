"""What every step of the wizard is: a scrolling page with a title, its fields, and a line
that says what to fix, right under those fields."""

from __future__ import annotations

from typing import ClassVar, cast

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import RadioButton, RadioSet, Select, Static

from ....services.context import Services
from ...base import ServicesHost
from ..state import WizardState


def expected_errors() -> tuple[type[Exception], ...]:
    """The errors a user can cause in a wizard worker (shown in the step, never fatal)."""
    from ....errors import UserError
    from ....services.keeper import KeeperError
    from ....services.momento import MomentoError
    from ....services.store import StoreError
    from ....services.vault import VaultError

    return (UserError, KeeperError, StoreError, VaultError, MomentoError, ValueError)


class Note(Static):
    """Feedback beside a field: a glyph and text, coloured by kind (never colour alone)."""

    def say(self, text: str | Text, kind: str = "") -> None:
        self.remove_class("-good", "-bad", "-warn")
        if kind:
            self.add_class(f"-{kind}")
        self.update(text if isinstance(text, Text) else Text(text))


class Choices(RadioSet, inherit_bindings=False):
    """A radio set that chooses as the highlight moves (as a native radio group does), so Enter
    is left to the wizard: it moves on."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,right", "step(1)", "Next option", show=False),
        Binding("up,left", "step(-1)", "Previous option", show=False),
        Binding("space", "toggle_button", "Choose", show=False),
    ]

    def action_step(self, delta: int) -> None:
        """Choose the option before or after the chosen one (wrapping), skipping disabled ones."""
        buttons = list(self.query(RadioButton))
        if not buttons:
            return
        at = self.pressed_index if self.pressed_index >= 0 else (-1 if delta > 0 else 0)
        for step in range(1, len(buttons) + 1):
            button = buttons[(at + delta * step) % len(buttons)]
            if not button.disabled:
                button.value = True
                return


class Picker(Select[str], inherit_bindings=False):
    """A select whose menu opens with space or the arrows; Enter is left to the wizard (it moves on)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,space,up", "show_overlay", "Show menu", show=False),
    ]


class Step(VerticalScroll, can_focus=False):
    """One step. The screen calls ``enter`` when it shows the step and ``leave`` on Next:
    ``leave`` returns a sentence saying what to fix, or None once the state holds the step's
    answer. The scroll container itself never takes the focus: ``first_focus`` does."""

    title: ClassVar[str] = ""            # in the row of steps at the top
    heading: ClassVar[str] = ""          # above the step's fields (the title if empty)
    can_go_back: ClassVar[bool] = True
    next_label: ClassVar[str | None] = "Next →"  # None: no Next button (the step moves on by itself)
    can_cancel: ClassVar[bool] = True

    def __init__(self, state: WizardState, *, id: str) -> None:
        super().__init__(id=id, classes="step")
        self.state = state
        self.problem = Note("", classes="note step-problem")
        self.problem.display = False

    @property
    def services(self) -> Services:
        return cast(ServicesHost, self.app).services

    def title_widget(self) -> Static:
        return Static(Text(self.heading or self.title), classes="step-title")

    # ---- the interface the screen uses ----------------------------------------------------
    def enter(self) -> None:
        """The step is shown (again): fill it from the state."""

    def leave(self) -> str | None:
        """Next was pressed: store the answer in the state, or say what to fix."""
        return None

    @property
    def first_focus(self) -> Widget | None:
        """The field that takes the focus when the step is shown."""
        return None

    @property
    def busy(self) -> bool:
        """Waiting for Momento: neither Next nor leaving makes sense."""
        return False

    def has_input(self) -> bool:
        """Something typed here would be lost by leaving the wizard."""
        return False

    @classmethod
    def applies(cls, state: WizardState) -> bool:
        """Whether the key being made asks this step (a role for v2 keys, grants for v1 ones)."""
        return True

    def show_problem(self, text: str | None) -> None:
        """Say what to fix, right under the step's fields, and scroll it into view."""
        self.problem.say(f"✖ {text}" if text else "", "bad" if text else "")
        self.problem.display = bool(text)
        if text:
            self.call_after_refresh(self.problem.scroll_visible, animate=False)

    @property
    def problem_text(self) -> str:
        return str(self.problem.render()) if self.problem.display else ""
