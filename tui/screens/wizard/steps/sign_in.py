"""Step 0: the key that makes the new key (a tracked super-user or v2 key, or one pasted), and Verify
(which also lists the caches the permission step offers)."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, Static

from ....core.keys import Inspection
from ....core.model import KeyRecord, KeyType, Kind
from ....core.policy import countdown
from ..state import PASTE, Problem, WizardState, acting_candidates, choose_acting, read_pasted
from .base import Choices, Note, Step, expected_errors

VERDICTS = {
    "valid": ("✔ Momento accepted the key; it can list caches (that alone does not make it a super-user key: Generate "
              "will tell).", "good"),
    "restricted": (("⚠ Momento accepted the key, but it may not list caches: it is probably NOT a super-user key, "
                    "and generating keys with it will fail."), "warn"),
    "invalid": ("✖ Momento rejected the key: it is expired, revoked or not a real key.", "bad"),
    "unknown": ("? Momento could not be asked. You can continue; generation will tell.", "warn"),
}


class SignInStep(Step):
    title = "Sign in"
    heading = "Sign in: the key that makes the new key"
    can_go_back = False

    class Loaded(Message):
        def __init__(self, candidates: list[KeyRecord], problem: str | None = None) -> None:
            super().__init__()
            self.candidates = candidates
            self.problem = problem

    class Verified(Message):
        def __init__(self, verdict: str | None, message: str, caches: tuple[str, ...] = ()) -> None:
            super().__init__()
            self.verdict = verdict  # None: Momento was not asked (the message says why)
            self.message = message
            self.caches = caches

    class Tracked(Message):
        def __init__(self, name: str, problem: str | None) -> None:
            super().__init__()
            self.name = name
            self.problem = problem

    def __init__(self, state: WizardState, *, id: str) -> None:
        super().__init__(state, id=id)
        self.candidates: list[KeyRecord] | None = None  # None: still reading them

    def compose(self) -> ComposeResult:
        yield self.title_widget()
        yield Static("Momento makes API keys only for a [b]super-user key[/b] (v1 keys and tokens) or a v2 key "
                     "whose role manages API keys (v2 keys). Pick one you track, or paste one (from the console's "
                     "API keys page). It is used for this one request; nothing is sent anywhere but Momento.",
                     classes="explain")
        yield Vertical(Static("Looking for the super-user keys you track…", classes="note"), id="acting-box")
        with Vertical(id="paste-box"), Grid(classes="form"):
            yield Label("Super-user key")
            yield Input(password=True, placeholder="paste the key (hidden)", id="acting-key", compact=True)
            yield Label("Endpoint")
            yield Input(placeholder="only for a v2 key, e.g. cell-4-us-west-2-1.prod.a.momentohq.com",
                        id="acting-endpoint", compact=True)
            yield Static()
            yield Checkbox("also track this key (its secret goes to the keyring)", id="acting-store",
                           value=True, compact=True)
            yield Label("Its name")
            yield Input(placeholder="e.g. ops super-user", id="acting-name", compact=True)
        yield self.problem
        yield Button("Verify the key", id="verify")
        yield Note("", id="verify-note", classes="note")

    def on_mount(self) -> None:
        self.query_one("#paste-box").display = False
        self.load_candidates()

    @work(thread=True, group="wizard-acting", exit_on_error=False)
    def load_candidates(self) -> None:
        try:
            found = acting_candidates(self.services.store.all(lean=True))
        except expected_errors() as exc:
            self.post_message(self.Loaded([], f"could not read your keys: {exc}"))
            return
        except Exception as exc:
            self.post_message(self.Loaded([], f"could not read your keys: unexpected {type(exc).__name__}"))
            return
        self.post_message(self.Loaded(found))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        event.stop()
        self.candidates = event.candidates
        now = self.services.clock.now()
        buttons = [RadioButton(Text(f"{r.name}  ({what(r)}, {left(r, now)})"),
                               value=i == 0, name=str(r.id)) for i, r in enumerate(event.candidates)]
        buttons.append(RadioButton("Paste a super-user key…", value=not event.candidates, name=PASTE))
        box = self.query_one("#acting-box")
        box.remove_children()
        box.mount(Choices(*buttons, id="acting"))
        if event.problem:
            box.mount(Note(Text(event.problem), classes="note -bad"))
        self.call_after_refresh(self._sync_paste_box)
        self.call_after_refresh(self._focus_first)

    def _focus_first(self) -> None:
        # Only if the user has not moved the focus into this step already.
        focused = self.screen.focused
        if self.display and self.first_focus is not None and (focused is None or self not in focused.ancestors):
            self.first_focus.focus()

    # ---- the interface -----------------------------------------------------------------------
    @property
    def first_focus(self) -> Widget | None:
        if self._choice() == PASTE:
            return self.query_one("#acting-key")
        radios = self.query("#acting")
        return radios.first() if radios else None

    def has_input(self) -> bool:
        return bool(self.query_one("#acting-key", Input).value)

    def leave(self) -> str | None:
        if self.candidates is None:
            return "still looking for the super-user keys you track: try again in a moment"
        try:
            record, inspection = self._read()
        except Problem as exc:
            return str(exc)
        track = self.query_one("#acting-store", Checkbox).value and inspection is not None
        problem = choose_acting(self.state, record=record, inspection=inspection,
                                track_name=self.query_one("#acting-name", Input).value if track else None)
        if problem is None and self.state.track is not None:
            inspection, name = self.state.track
            self.state.track = None
            self.track_acting(inspection, name)
        return problem

    # ---- which key ------------------------------------------------------------------------------
    def _choice(self) -> str | None:
        radios = self.query("#acting")
        if not radios:
            return None
        button = radios.first(Choices).pressed_button
        return None if button is None else button.name

    def _read(self) -> tuple[KeyRecord | None, Inspection | None]:
        choice = self._choice()
        if choice is None:
            raise Problem("choose a super-user key, or paste one")
        if choice != PASTE:
            record = next((r for r in self.candidates or [] if str(r.id) == choice), None)
            if record is None:
                raise Problem("choose a super-user key, or paste one")
            return record, None
        return None, read_pasted(self.query_one("#acting-key", Input).value,
                                 self.query_one("#acting-endpoint", Input).value)

    @on(Choices.Changed, "#acting")
    def _sync_paste_box(self) -> None:
        self.query_one("#paste-box").display = self._choice() == PASTE
        self.state.verified = self.state.caches = None
        self.query_one("#verify-note", Note).say("")

    @on(Input.Changed, "#acting-key, #acting-endpoint")
    def _pasted_changed(self) -> None:
        self.state.verified = self.state.caches = None

    # ---- verify ------------------------------------------------------------------------------------
    @on(Button.Pressed, "#verify")
    def _verify_pressed(self) -> None:
        note = self.query_one("#verify-note", Note)
        try:
            record, inspection = self._read()
        except Problem as exc:
            note.say(f"✖ {exc}", "bad")
            return
        note.say("Asking Momento…", "warn")
        if inspection is not None:
            self.verify(inspection.secret, inspection.endpoint, None)
        elif record is not None:
            self.verify(None, record.endpoint, record)

    @work(thread=True, exclusive=True, group="wizard-verify", exit_on_error=False)
    def verify(self, secret: str | None, endpoint: str | None, record: KeyRecord | None) -> None:
        services = self.services
        try:
            if secret is None and record is not None:
                secret = services.keeper.secret(record, why="used to sign in (wizard)")
            result = services.momento().verify(secret or "", endpoint)
        except expected_errors() as exc:
            self.post_message(self.Verified(None, f"✖ Not verified: {exc}"))
            return
        except Exception as exc:
            self.post_message(self.Verified(None, f"✖ Not verified: unexpected {type(exc).__name__}"))
            return
        self.post_message(self.Verified(result.status, result.message, result.caches))

    @on(Verified)
    def _verified(self, event: Verified) -> None:
        event.stop()
        note = self.query_one("#verify-note", Note)
        if event.verdict is None:
            note.say(event.message, "bad")
            return
        self.state.verified = event.verdict
        if event.verdict == "valid":
            self.state.caches = list(event.caches)
        text, kind = VERDICTS[event.verdict]
        note.say(Text(f"{text}\n{event.message}" if event.message else text), kind)

    # ---- track a pasted key ------------------------------------------------------------------------
    @work(thread=True, group="wizard-track", exit_on_error=False)
    def track_acting(self, inspection: Inspection, name: str) -> None:
        try:
            result = self.services.keeper.import_key(inspection, name, key_type=KeyType.SUPER_USER,
                                                     action="imported (wizard)")
        except expected_errors() as exc:
            self.post_message(self.Tracked(name, str(exc)))
            return
        except Exception as exc:
            self.post_message(self.Tracked(name, f"unexpected {type(exc).__name__}"))
            return
        self.post_message(self.Tracked(result.record.name, None))

    @on(Tracked)
    def _tracked(self, event: Tracked) -> None:
        event.stop()
        if event.problem:
            self.notify(f"Super-user key {event.name!r} not tracked: {event.problem}", severity="warning",
                        markup=False)
        else:
            self.state.acting_name = event.name
            self.notify(f"Now tracking the super-user key {event.name!r}", markup=False)


def what(record: KeyRecord) -> str:
    if record.kind is Kind.V2:
        role = f", {record.role_name}" if record.role_name else ""
        return f"v2 super-user key{role}" if record.key_type is KeyType.SUPER_USER else f"v2 key{role}"
    return f"super-user, {record.region or 'unknown region'}"


def left(record: KeyRecord, now: float) -> str:
    if record.expires_at is None:
        return "never expires"
    remaining = record.expires_at - now
    return "EXPIRED" if remaining <= 0 else f"{countdown(remaining)} left"
