"""Step 2 (v2 keys): the role the new key acts as, read from the account (``GET /roles``:
system roles first, each with a one-line summary of its rules), and its description."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, RadioButton, Static

from ....core.roles import Role, ordered
from ..state import WizardState, choose_role
from .base import Choices, Note, Step, expected_errors

if TYPE_CHECKING:
    from ....services.account import AccountClient
    from ....services.context import Services

LEAST = "viewer"  # the system role a new key gets unless the user chooses another (least privilege)


def account_client(services: Services, state: WizardState) -> AccountClient:
    """The account-API client acting with the key chosen at sign-in (``MOMENTO_KEYS_ACCOUNT_API``
    points it elsewhere). Raises ``KeeperError`` when that key is no longer tracked."""
    from ....services.account import client_for, client_for_record
    from ....services.keeper import KeeperError

    if state.acting_secret is not None:
        return client_for(state.acting_secret, acting="the pasted key")
    record = services.store.find(state.acting_name) if state.acting_name else None
    if record is None:
        raise KeeperError(f"the key {state.acting_name!r} is no longer tracked" if state.acting_name
                          else "no key to act with")
    return client_for_record(services.keeper, record)


def account_errors() -> tuple[type[Exception], ...]:
    from ....services.account import AccountError, AccountUrlError

    return (*expected_errors(), AccountError, AccountUrlError)


class RoleStep(Step):
    title = "Role"
    heading = "Role and description of the v2 key"

    class Loaded(Message):
        def __init__(self, roles: list[Role], problem: str | None = None) -> None:
            super().__init__()
            self.roles = roles
            self.problem = problem

    def __init__(self, state: WizardState, *, id: str) -> None:
        super().__init__(state, id=id)
        self.roles: list[Role] | None = None   # None: not read yet
        self.loading = False

    @classmethod
    def applies(cls, state: WizardState) -> bool:
        return state.v2

    def compose(self) -> ComposeResult:
        yield self.title_widget()
        yield Static("A v2 key acts as one of your account's roles. The roles come from Momento's account API, "
                     "system roles first.", classes="explain")
        yield Vertical(Note("Reading your account's roles…", classes="note"), id="role-box")
        yield Note("", id="role-note", classes="note")
        with Grid(classes="form"):
            yield Label("Description")
            yield Input(placeholder="what the key is for, e.g. orders-api prod", id="description", compact=True)
        yield self.problem

    @property
    def first_focus(self) -> Widget | None:
        radios = self.query("#role")
        return radios.first() if radios else self.query_one("#description")

    def has_input(self) -> bool:
        return bool(self.query_one("#description", Input).value)

    def enter(self) -> None:
        description = self.query_one("#description", Input)
        if not description.value and self.state.description:
            description.value = self.state.description
        if self.roles is None and not self.loading:
            self.loading = True
            self.load_roles()

    def leave(self) -> str | None:
        if self.roles is None:
            return ("still reading your account's roles: try again in a moment" if self.loading
                    else "your account's roles could not be read: see above, then go back or retry")
        return choose_role(self.state, self._chosen(), self.query_one("#description", Input).value)

    def _chosen(self) -> Role | None:
        radios = self.query("#role")
        button = radios.first(Choices).pressed_button if radios else None
        if button is None or self.roles is None:
            return None
        return next((r for r in self.roles if r.role_id == button.name), None)

    @work(thread=True, exclusive=True, group="wizard-roles", exit_on_error=False)
    def load_roles(self) -> None:
        try:
            roles = ordered(account_client(self.services, self.state).list_roles())
        except account_errors() as exc:
            self.post_message(self.Loaded([], f"could not read the roles: {exc}"))
            return
        except Exception as exc:
            self.post_message(self.Loaded([], f"could not read the roles: unexpected {type(exc).__name__}"))
            return
        self.post_message(self.Loaded(roles))

    @on(Loaded)
    async def _loaded(self, event: Loaded) -> None:
        event.stop()
        self.loading = False
        box = self.query_one("#role-box")
        await box.remove_children()
        if event.problem:
            self.roles = None
            box.mount(Note(Text(f"✖ {event.problem}"), classes="note -bad"))
            return
        self.roles = event.roles
        if not event.roles:
            box.mount(Note("✖ Your account has no roles to give a key.", classes="note -bad"))
            return
        wanted = self.state.role.role_id if self.state.role else None
        if wanted is None and self.state.replaces is not None:
            wanted = self.state.replaces.role_id
        if not any(r.role_id == wanted for r in event.roles):
            least = next((r for r in event.roles if r.system and r.role_name.casefold() == LEAST), event.roles[0])
            wanted = least.role_id
        buttons = [RadioButton(Text.assemble((r.role_name, "bold"), f" ({r.role_type})  ", (r.summary(), "dim")),
                               value=r.role_id == wanted, name=r.role_id) for r in event.roles]
        # Awaited: the chosen role is described (and focused) once its buttons exist, never
        # before (a describe that ran first found no buttons and left the note empty).
        await box.mount(Choices(*buttons, id="role"))
        self._describe()
        self.call_after_refresh(self._focus_first)

    def _focus_first(self) -> None:
        # The roles arrived: they take the focus unless the user has started on the step.
        focused = self.screen.focused
        description = self.query_one("#description", Input)
        untouched = focused is None or self not in focused.ancestors or (focused is description
                                                                          and not description.value)
        if self.display and self.first_focus is not None and untouched:
            self.first_focus.focus()

    @on(Choices.Changed, "#role")
    def _describe(self) -> None:
        role = self._chosen()
        note = self.query_one("#role-note", Note)
        if role is None:
            note.say("")
            return
        text = Text.assemble((role.role_name, "bold"), f": {role.summary()}")
        if role.description:
            text.append(f"\n{role.description}")
        note.say(text, "good")
