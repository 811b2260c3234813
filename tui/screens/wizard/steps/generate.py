"""Step 7: one request to Momento (the auth API for v1 keys and tokens, the account API for v2 keys); the answer goes straight to the issuer (stored, or rescued)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import LoadingIndicator

from ....services.keeper import KeeperError
from ..state import WizardState, keep_fields, v2_expiry
from .base import Note, Step, expected_errors

if TYPE_CHECKING:
    from ....services.context import Services
    from ....services.issuing import Issued
    from ....services.momento import GeneratedKey


def acting_secret(services: Services, state: WizardState) -> str:
    """The secret of the key chosen at sign-in (a tracked key's is read from the keyring).
    Raises ``KeeperError``."""
    if state.acting_secret is not None:
        return state.acting_secret
    record = services.store.find(state.acting_name) if state.acting_name else None
    if record is None:
        raise KeeperError(f"the key {state.acting_name!r} is no longer tracked" if state.acting_name
                          else "no super-user key to act with")
    return services.keeper.secret(record, why="used by the wizard")


def make_v2(services: Services, state: WizardState) -> Issued:
    """A v2 key through the account API, kept by the one never-lose path. Raises ``AccountError``
    (nothing made) and the errors of :func:`acting_secret`."""
    from .role import account_client

    role = state.role
    assert role is not None and state.endpoint is not None
    return services.issuer.generate_v2(account_client(services, state), state.name, role_id=role.role_id,
                                       description=state.description,
                                       expiry=v2_expiry(state, services.clock.now()),
                                       endpoint=state.endpoint, role_name=role.role_name, notes=state.notes,
                                       tags=list(state.tags))


def keep(services: Services, state: WizardState, generated: GeneratedKey) -> tuple[Issued, str | None]:
    """Hand Momento's answer to the one never-lose path; link a replacement to the key it
    replaces. Returns the outcome and, if linking failed, why. Never raises."""
    from ....services.issuing import Issued

    try:
        issued = services.issuer.keep(generated, state.name, **keep_fields(state))
    except Exception as exc:
        issued = Issued(generated, state.name, problem=f"unexpected {type(exc).__name__} while storing")
    return issued, link(services, state, issued)


def link(services: Services, state: WizardState, issued: Issued) -> str | None:
    """A manual rotation: record that the new key replaces the old one."""
    if state.replaces is None or issued.record is None:
        return None
    try:
        services.rotator.link_replacement(state.replaces, issued.record)
    except expected_errors() as exc:
        return f"stored, but not linked to {state.replaces.name!r}: {exc}"
    return None


class GenerateStep(Step):
    title = "Generate"
    heading = "Generating…"
    can_go_back = False
    next_label = None
    can_cancel = False

    class Done(Message):
        """Momento answered: ``issued`` says whether the key is stored or rescued."""

        def __init__(self, issued: Issued, link_problem: str | None) -> None:
            super().__init__()
            self.issued = issued
            self.link_problem = link_problem

    class Failed(Message):
        """Momento made nothing (or was not asked)."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(self, state: WizardState, *, id: str) -> None:
        super().__init__(state, id=id)
        self.running = False

    def compose(self) -> ComposeResult:
        yield self.title_widget()
        yield LoadingIndicator(id="gen-progress")
        yield Note("Asking Momento for the new key; it is stored the moment it arrives.", id="gen-note",
                   classes="note")
        yield self.problem

    @property
    def busy(self) -> bool:
        return self.running

    def enter(self) -> None:
        self.running = True
        self.generate()

    @work(thread=True, exclusive=True, group="wizard-generate", exit_on_error=False)
    def generate(self) -> None:
        services, s = self.services, self.state
        if s.v2:
            self.generate_v2()
            return
        try:
            secret = acting_secret(services, s)
            api = services.momento()
            if s.token:
                generated = api.generate_disposable_token(secret, s.endpoint, s.grants, s.valid_for)
            else:
                generated = api.generate_api_key(secret, s.endpoint, s.grants, s.valid_for, description=s.name)
        except expected_errors() as exc:
            self.post_message(self.Failed(str(exc)))
            return
        except Exception as exc:
            self.post_message(self.Failed(f"unexpected {type(exc).__name__}."))
            return
        issued, link_problem = keep(services, s, generated)
        self.post_message(self.Done(issued, link_problem))

    def generate_v2(self) -> None:
        from .role import account_errors

        services, s = self.services, self.state
        try:
            issued = make_v2(services, s)
        except account_errors() as exc:
            self.post_message(self.Failed(str(exc)))
            return
        except Exception as exc:
            self.post_message(self.Failed(f"unexpected {type(exc).__name__}."))
            return
        self.post_message(self.Done(issued, link(services, s, issued)))

    def finished(self) -> None:
        self.running = False
