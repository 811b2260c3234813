"""The wizard's navigating screen: a row of steps, the current step, and Cancel / Back / Next.

It knows nothing of what a step asks: each step (``steps/``) fills itself from the shared
:class:`WizardState` on ``enter`` and checks its answer on ``leave``. The screen moves
between the steps that apply to the key being made (``Step.applies``), starts generation
after Review and answers the app through ``dismiss`` with the new key's record (or None).

Keys: Enter moves on (from a text field, a choice or a menu; a focused button is pressed),
Esc goes back a step (on the first step, or once the key exists, it leaves, asking first
when something would be lost), and ``q`` never quits the app from inside the wizard.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, ContentSwitcher, Header, Input, Static

from ...core.model import KeyRecord
from ...core.text import shell_quote
from ...widgets.confirm import ConfirmScreen
from ...widgets.footer import KeysFooter
from ..base import KeysScreen
from .state import WizardState
from .steps import STEPS, GenerateStep, KeyTypeStep, ResultStep, ReviewStep, Step

# The app's action that opens the import dialog for a super-user key (screens never import each other).
IMPORT_SUPER_USER = "open_import(None, 'super-user')"


S = TypeVar("S", bound=Step)


class WizardScreen(KeysScreen[KeyRecord | None]):
    """Generate a fine-grained key or a short-lived token, step by step."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Esc goes back a step where there is one ("Back" in the footer), else leaves: "Cancel"
        # before the key exists, "Close" after (the footer names the one that applies).
        Binding("escape", "escape_back", "Back", id="wizard.escape_back"),
        Binding("escape", "leave", "Cancel", id="wizard.cancel"),
        Binding("escape", "close", "Close", id="wizard.close"),
        Binding("ctrl+n", "next", "Next", id="wizard.next"),
        Binding("ctrl+b", "back", "Back", show=False, id="wizard.back"),
        Binding("enter", "next", "Next", show=False, id="wizard.enter"),
        # The app's `q` quits; inside the wizard it would drop the work (or a key not yet stored).
        Binding("q", "no_quit", show=False, id="wizard.no_quit"),
    ]
    AUTO_FOCUS = None  # each step says which of its fields takes the focus

    def __init__(self, replaces: KeyRecord | None = None) -> None:
        super().__init__()
        self.replaces = replaces
        self.state = WizardState.replacing(replaces)
        self.steps: list[Step] = [step(self.state, id=f"step-{i}") for i, step in enumerate(STEPS)]
        self.step = 0

    @property
    def current(self) -> Step:
        return self.steps[self.step]

    def step_of(self, kind: type[S]) -> S:
        return next(step for step in self.steps if isinstance(step, kind))

    def index(self, kind: type[Step]) -> int:
        return self.steps.index(self.step_of(kind))

    def applicable(self) -> list[int]:
        """The indexes of the steps that apply to the key being made."""
        return [i for i, step in enumerate(self.steps) if step.applies(self.state)]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="steps")
        with ContentSwitcher(initial=self.steps[0].id):
            yield from self.steps
        with Horizontal(id="nav"):
            yield Button("Cancel", id="cancel")
            yield Button("← Back", id="back")
            yield Button("Next →", id="next", variant="primary")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = f"Replacement for {self.replaces.name}" if self.replaces else "New key"
        self.show(0)

    # ---- navigation --------------------------------------------------------------------------
    def show(self, index: int, problem: str | None = None) -> None:
        self.step = index
        step = self.current
        self.query_one(ContentSwitcher).current = step.id
        marks = Text()
        for n, i in enumerate(self.applicable()):
            other = self.steps[i]
            if n:
                marks.append(" › ", "dim")
            if i == index:
                marks.append(f" {n + 1} {other.title} ", "bold reverse")
            else:
                marks.append(f"✔ {other.title}" if i < index else f"{n + 1} {other.title}", "dim")
        self.query_one("#steps", Static).update(marks)
        self.query_one("#back").display = self._previous() is not None
        self.query_one("#cancel").display = step.can_cancel
        nxt = self.query_one("#next", Button)
        nxt.display = step.next_label is not None
        nxt.label = step.next_label or ""
        step.show_problem(problem)
        step.enter()
        self.refresh_bindings()  # Esc says Back or Cancel
        self.call_after_refresh(self._focus, step)

    def _focus(self, step: Step) -> None:
        if step is not self.current:
            return
        target = step.first_focus
        if target is None or not target.focusable:
            nxt = self.query_one("#next", Button)
            target = nxt if nxt.display else None
        if target is not None:
            target.focus()

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        step = self.current
        if step.busy or step.next_label is None:
            return
        problem = step.leave()
        if problem:
            step.show_problem(problem)
            return
        step.show_problem(None)
        following = [i for i in self.applicable() if i > self.step]
        if not following:
            self.dismiss(self.state.record)
            return
        self.show(following[0])

    def _previous(self) -> int | None:
        earlier = [i for i in self.applicable() if i < self.step]
        return earlier[-1] if earlier and self.current.can_go_back else None

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        previous = self._previous()
        if previous is not None and not self.current.busy:
            self.show(previous)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "escape_back":  # off where there is no step to go back to: Esc then leaves
            return self._previous() is not None and not self.current.busy
        if action in ("leave", "close"):  # one name in the footer: Cancel before the key exists, Close after
            return (self.state.issued is None) == (action == "leave")
        return True

    def action_close(self) -> None:
        self.action_leave()

    def action_escape_back(self) -> None:
        """Esc: back one step (where there is none, Esc is bound to leave, asking first)."""
        self.action_back()

    def action_no_quit(self) -> None:
        self.notify("q does not quit inside the wizard: Esc goes back a step, Cancel leaves it.",
                    title="Wizard", timeout=4)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        # Enter in a text field moves on (a field with its own meaning for Enter stops the event).
        event.stop()
        self.action_next()

    @on(Button.Pressed, "#cancel")
    def action_leave(self) -> None:
        s = self.state
        if self.current.busy:
            self.current.show_problem("Generating: wait for Momento's answer (it is stored the moment it arrives).")
        elif s.unsaved:
            self._confirm_leave(self._lose_question(), yes="Leave without the key", danger=True)
        elif s.issued is not None:
            self.dismiss(s.record)
        elif self.step > 0 or any(step.has_input() for step in self.steps):
            self._confirm_leave(Text("Leave the wizard? Nothing has been generated; what you chose here is "
                                     "dropped."), yes="Leave", danger=False)
        else:
            self.dismiss(None)

    def _lose_question(self) -> Text:
        issued = self.state.issued
        assert issued is not None
        if issued.rescue_file is not None:
            return Text.assemble(
                ("The new key is not in your keyring.", "bold"),
                f"\n\nA copy stays in {issued.rescue_file} (only you can read it). Import it from there later:\n"
                f"momento-keys import --name {shell_quote(issued.name)} --file {shell_quote(str(issued.rescue_file))}"
                "\nthen delete the file.")
        return Text.assemble(("The new key is NOT stored anywhere yet.", "bold"),
                             "\n\nIf you leave now it is lost: Momento shows a key only once. Copy it or download "
                             "its JSON first, or retry storing it.")

    def _confirm_leave(self, question: Text, *, yes: str, danger: bool) -> None:
        def answer(leave: bool | None) -> None:
            if leave:
                self.dismiss(self.state.record)

        self.app.push_screen(ConfirmScreen(question, yes=yes, no="Stay", danger=danger), answer)

    def on_screen_suspend(self) -> None:
        # Another screen on top (the palette, a dialog, a screenshot): no revealed key stays on display.
        self.step_of(ResultStep).hide_key()

    # ---- what the steps report -------------------------------------------------------------------
    @on(KeyTypeStep.ImportWanted)
    def _to_import(self, event: KeyTypeStep.ImportWanted) -> None:
        event.stop()
        app = self.app
        self.dismiss(None)
        app.call_later(app.run_action, IMPORT_SUPER_USER)

    @on(GenerateStep.Done)
    def _generated(self, event: GenerateStep.Done) -> None:
        event.stop()
        self.step_of(GenerateStep).finished()
        self.state.issued = issued = event.issued
        self.show(self.index(ResultStep))
        name = self.state.name
        if issued.stored:
            self.notify(f"Generated and stored {name!r}", title="New key", markup=False)
        elif issued.rescue_file is not None:
            self.notify(f"Generated {name!r} but could NOT store it: {issued.problem}. A copy is in "
                        f"{issued.rescue_file}", severity="error", timeout=20, markup=False)
        else:
            self.notify(f"Generated {name!r} but could NOT store it: {issued.problem}", severity="error",
                        timeout=20, markup=False)
        if event.link_problem:
            self.notify(event.link_problem, severity="warning", markup=False)

    @on(GenerateStep.Failed)
    def _not_generated(self, event: GenerateStep.Failed) -> None:
        event.stop()
        self.step_of(GenerateStep).finished()
        reason = event.reason.rstrip(". ")
        self.show(self.index(ReviewStep), problem=f"Not generated: {reason}. Nothing was stored.")
        self.notify(f"Key not generated: {reason}", severity="error", timeout=10, markup=False)
