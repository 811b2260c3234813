"""The guided generation wizard: the Momento console's steps, in the terminal.

0 Sign in (the super-user key to act with) → 1 Region → 2 Key type →
3 Expiration → 4 Permissions → 5 Review → 6 Generate → 7 Result → 8 Secure it.

A generated key is stored (keyring + record) the moment the response arrives.
If that fails, the key stays on screen with retry, copy and Download JSON,
and leaving asks first: a generated key is never lost.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, time as dtime
from pathlib import Path

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button, Checkbox, ContentSwitcher, Header, Input, Label, LoadingIndicator, RadioButton, RadioSet,
    Select, Static,
)

from ..core.keys import PUBLIC_REGIONS, Inspection, KeyFormatError, inspect_text, normalise_endpoint, region_of
from ..core.model import KeyRecord, KeyType, Kind, Lifecycle
from ..core.permissions import (
    ALL, ALL_DATA_READ_WRITE, CACHE_ROLES, MAX_GRANTS, TOPIC_ROLES, Grant, PermissionSpecError, describe,
    to_json, validate_grants,
)
from ..core.policy import DAY, HOUR, DurationError, band_changes, countdown, parse_duration, thresholds_for
from ..core.report import local_time
from ..services.keeper import KeeperError, validate_name
from ..services.store import StoreError
from ..services.vault import VaultError
from ..widgets.footer import KeysFooter

CONSOLE_URL = "https://console.gomomento.com/api-keys"
TOKEN_MAX_SECONDS = 25 * HOUR  # the service's limit for disposable tokens (2026)
UINT32_MAX = 2**32 - 1

STEPS = ["Sign in", "Region", "Key type", "Expiration", "Permissions", "Review", "Generate", "Result", "Secure it"]

KEY_PRESETS = [("1 day", DAY), ("7 days", 7 * DAY), ("30 days", 30 * DAY), ("90 days", 90 * DAY),
               ("365 days", 365 * DAY)]
TOKEN_PRESETS = [("1 hour", HOUR), ("6 hours", 6 * HOUR), ("12 hours", 12 * HOUR), ("24 hours", 24 * HOUR)]


@dataclass
class WizardState:
    acting_secret: str | None = None
    acting_name: str | None = None
    acting_endpoint: str | None = None
    verified: str | None = None          # valid / restricted / invalid / unknown
    endpoint: str | None = None
    key_kind: str = "fine-grained"       # fine-grained | token
    valid_for: int | None = 30 * DAY     # None: never
    grants: list[Grant] = field(default_factory=list)
    name: str = ""
    notes: str = ""
    generated: object | None = None      # GeneratedKey
    record: KeyRecord | None = None      # once stored
    store_error: str | None = None
    download_path: str | None = None


def parse_expiry_date(text: str, now: float) -> int:
    """Seconds from now until a typed date ("2027-03-01" = the end of that day,
    local time, or "2027-03-01 14:30"). Raises ValueError with a sentence."""
    raw = text.strip()
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(raw, fmt)
            break
        except ValueError:
            continue
    else:
        raise ValueError("type a date as YYYY-MM-DD (end of that day) or YYYY-MM-DD HH:MM")
    if len(raw) == 10:
        parsed = datetime.combine(parsed.date(), dtime(23, 59, 59))
    instant = int(parsed.astimezone().timestamp())
    seconds = instant - int(now)
    if seconds <= 0:
        raise ValueError("that date is in the past: choose a date in the future")
    if seconds > UINT32_MAX:
        raise ValueError("that date is too far away (at most about 136 years)")
    return seconds


class GrantRow(Horizontal):
    """One permission: Cache or Topic, cache name, topic name, role."""

    def __init__(self, grant: Grant | None = None) -> None:
        super().__init__(classes="grant-row")
        self.grant = grant or Grant("cache", ALL, None, "readwrite")

    def compose(self) -> ComposeResult:
        g = self.grant
        yield Select([("Cache", "cache"), ("Topic", "topic")], value=g.kind, allow_blank=False, compact=True,
                     classes="kind")
        yield Input(value=g.cache, placeholder="cache name, or * for all caches", compact=True, classes="cache")
        yield Input(value=g.topic or "", placeholder="topic name, or * for all", compact=True, classes="topic")
        yield Select(self._roles(g.kind), value=g.role, allow_blank=False, compact=True, classes="role")
        yield Button("✕", classes="remove", compact=True, tooltip="remove this permission")

    @staticmethod
    def _roles(kind: str) -> list[tuple[str, str]]:
        return [(r, r) for r in (CACHE_ROLES if kind == "cache" else TOPIC_ROLES)]

    def on_mount(self) -> None:
        self.query_one(".topic", Input).display = self.grant.kind == "topic"

    @on(Select.Changed, ".kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        kind = str(event.value)
        role = self.query_one(".role", Select)
        role.set_options(self._roles(kind))
        role.value = CACHE_ROLES[0] if kind == "cache" else TOPIC_ROLES[0]
        topic = self.query_one(".topic", Input)
        topic.display = kind == "topic"
        if kind == "topic" and not topic.value:
            topic.value = ALL

    def read(self) -> Grant:
        kind = str(self.query_one(".kind", Select).value)
        cache = self.query_one(".cache", Input).value.strip()
        topic = self.query_one(".topic", Input).value.strip() if kind == "topic" else None
        role = str(self.query_one(".role", Select).value)
        return Grant(kind, cache, topic, role)  # type: ignore[arg-type]


class WizardScreen(Screen):
    """Generate a fine-grained key or a short-lived token, step by step."""

    BINDINGS = [
        Binding("escape", "leave", "Cancel", id="wizard.cancel"),
        Binding("ctrl+n", "next", "Next", id="wizard.next"),
        Binding("ctrl+b", "back", "Back", id="wizard.back"),
    ]


    def __init__(self, *, api_factory=None, replaces: KeyRecord | None = None) -> None:
        super().__init__()
        self.replaces = replaces  # a manual rotation: the new key will replace this one
        self.state = WizardState()
        if replaces is not None:
            self.state.endpoint = replaces.endpoint
            if replaces.kind is Kind.DISPOSABLE:
                self.state.key_kind = "token"
            if replaces.permissions:
                from ..core.permissions import from_json

                try:
                    self.state.grants = from_json(replaces.permissions)
                except PermissionSpecError:
                    self.state.grants = []
        self.step = 0
        self._api_factory = api_factory
        self._revealed = False
        self._generation = 0

    # ---- layout -------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="steps")
        with ContentSwitcher(initial="step-0"):
            yield from self._compose_steps()
        yield Static("", id="error")
        with Horizontal(id="nav"):
            yield Button("Cancel", id="cancel")
            yield Button("← Back", id="back")
            yield Button("Next →", id="next", variant="primary")
        yield KeysFooter()

    def _compose_steps(self) -> ComposeResult:
        app = self.app
        keeper = app.keeper  # type: ignore[attr-defined]
        supers = [r for r in keeper.store.all()
                  if r.key_type is KeyType.SUPER_USER and r.secret_stored and r.lifecycle is Lifecycle.ACTIVE]
        with VerticalScroll(id="step-0", classes="step"):
            yield Static("Sign in: the key that makes the new key", classes="step-title")
            yield Static(
                "Momento makes API keys only for a [b]super-user key[/b]: the auth API refuses anything else. "
                "Pick a super-user key you track, or paste one (from the console's API keys page). "
                "It is used for this one request; nothing is sent anywhere but Momento.", classes="explain")
            options = [(f"{r.name}  ({r.region or 'unknown region'}, {countdown_left(r, keeper)})", r.id)
                       for r in supers]
            options.append(("Paste a super-user key…", -1))
            yield RadioSet(*[RadioButton(label, value=i == 0, name=str(rid)) for i, (label, rid) in enumerate(options)],
                           id="acting")
            with Vertical(id="paste-box"):
                with Grid(classes="form"):
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
            yield Button("Verify the key", id="verify")
            yield Static("", id="verify-note", classes="note")
        with VerticalScroll(id="step-1", classes="step"):
            yield Static("Cloud provider and region", classes="step-title")
            yield Static("Keys are made in a cell (a region). Momento runs on AWS; the new key will work in the "
                         "cell you choose, and the key you act with must be valid there.", classes="explain")
            regions = [(f"AWS  {region:<16} {host}", host) for region, host in PUBLIC_REGIONS]
            regions.append(("Custom endpoint (private cell, Momento Local)…", "custom"))
            yield Select(regions, allow_blank=False, id="region")
            with Grid(classes="form", id="custom-box"):
                yield Label("Endpoint")
                yield Input(placeholder="cell-…prod.a.momentohq.com", id="custom-endpoint", compact=True)
            yield Static("", id="region-note", classes="note")
        with VerticalScroll(id="step-2", classes="step"):
            yield Static("Key type", classes="step-title")
            yield RadioSet(
                RadioButton("Fine-grained access key: data operations on chosen caches and topics (recommended)",
                            value=self.state.key_kind != "token", name="fine-grained"),
                RadioButton("Super user key: everything, including management and the auth API", name="super-user"),
                RadioButton("Short-lived token: disposable, data only, up to 25 hours, cannot be refreshed",
                            value=self.state.key_kind == "token", name="token"),
                id="key-type",
            )
            yield Static("", id="type-note", classes="note")
            yield Button("Import a super-user key from the console…", id="to-import")
        with VerticalScroll(id="step-3", classes="step"):
            yield Static("Expiration", classes="step-title")
            yield Static("Keys should expire: rotate them before they do. Momento advises against keys that never "
                         "expire.", classes="explain")
            yield RadioSet(
                *[RadioButton(label, value=seconds == 30 * DAY, name=str(seconds)) for label, seconds in KEY_PRESETS],
                RadioButton("Custom date or duration", name="custom"),
                RadioButton("Never expires (not recommended)", name="never"),
                id="expiry-key", classes="expiry",
            )
            yield RadioSet(
                *[RadioButton(label, value=seconds == 12 * HOUR, name=str(seconds))
                  for label, seconds in TOKEN_PRESETS],
                RadioButton("Custom duration or date (at most 25 hours)", name="custom"),
                id="expiry-token", classes="expiry",
            )
            with Grid(classes="form", id="custom-expiry"):
                yield Label("Custom")
                yield Input(placeholder="a date (2027-03-01, or 2027-03-01 14:30) or a duration (45d, 12h)",
                            id="expiry-custom", compact=True)
            yield Checkbox("I understand: a key that never expires stays valid until it is revoked", id="never-ok",
                           compact=True)
            yield Static("", id="expiry-note", classes="note")
        with VerticalScroll(id="step-4", classes="step"):
            yield Static("Permissions", classes="step-title")
            yield Static(f"Up to {MAX_GRANTS} rows. A name, or * for all caches (includes future caches) or all "
                         "topics. Cache roles: readwrite, readonly, writeonly. Topic roles: publishsubscribe, "
                         "subscribeonly, publishonly.", classes="explain")
            yield Vertical(id="grants")
            with Horizontal(classes="grant-buttons"):
                yield Button("+ Cache", id="add-cache", compact=True)
                yield Button("+ Topic", id="add-topic", compact=True)
                yield Button("All data, read-write", id="all-data", compact=True)
            yield Static("", id="grants-note", classes="note")
        with VerticalScroll(id="step-5", classes="step"):
            yield Static("Review", classes="step-title")
            yield Static("", id="review")
            with Grid(classes="form"):
                yield Label("Name")
                yield Input(placeholder="unique name for the new key", id="new-name", compact=True)
                yield Label("Used where")
                yield Input(placeholder="notes: where this key will be deployed", id="new-notes", compact=True)
        with VerticalScroll(id="step-6", classes="step"):
            yield Static("Generating…", classes="step-title")
            yield LoadingIndicator(id="gen-progress")
            yield Static("", id="gen-note", classes="note")
        with VerticalScroll(id="step-7", classes="step"):
            yield Static("Your new key", classes="step-title")
            yield Static("", id="store-status", classes="note")
            yield Static("", id="key-box")
            yield Static("", id="result")
            with Horizontal():
                yield Button("Reveal", id="reveal", compact=True)
                yield Button("Copy", id="copy", compact=True)
                yield Button("Retry storing", id="retry-store", compact=True, variant="warning")
            with Horizontal(id="download-row"):
                yield Button("Download JSON to", id="download", compact=True)
                yield Input(id="download-path", compact=True)
            yield Static("", id="download-note", classes="note")
        with VerticalScroll(id="step-8", classes="step"):
            yield Static("Secure it", classes="step-title")
            yield Static("", id="secure")

    def on_mount(self) -> None:
        self.sub_title = f"Replacement for {self.replaces.name}" if self.replaces else "New key"
        self.query_one("#custom-box").display = False
        self.query_one("#to-import").display = False
        self.query_one("#retry-store").display = False
        self._sync_paste_box()
        self._show()

    # ---- navigation ------------------------------------------------------------------
    def _show(self) -> None:
        self.query_one(ContentSwitcher).current = f"step-{self.step}"
        marks = []
        for i, title in enumerate(STEPS):
            if i == self.step:
                marks.append(f"[b reverse] {i} {title} [/]")
            elif i < self.step:
                marks.append(f"[dim]✔ {title}[/dim]")
            else:
                marks.append(f"[dim]{i} {title}[/dim]")
        self.query_one("#steps", Static).update(" › ".join(marks))
        self.set_error("")
        back = self.query_one("#back", Button)
        nxt = self.query_one("#next", Button)
        cancel = self.query_one("#cancel", Button)
        back.display = 0 < self.step < 6
        nxt.display = self.step != 6
        nxt.label = {5: "Generate", 7: "Next →", 8: "Done"}.get(self.step, "Next →")
        cancel.display = self.step < 7
        enter = getattr(self, f"_enter_{self.step}", None)
        if enter:
            enter()

    def set_error(self, text: str) -> None:
        self.query_one("#error", Static).update(escape(text))

    @on(Button.Pressed, "#next")
    def action_next(self) -> None:
        if self.step == 6:
            return
        check = getattr(self, f"_leave_{self.step}", None)
        if check is not None:
            problem = check()
            if problem:
                self.set_error(problem)
                return
        if self.step == 8:
            self.dismiss(self.state.record)
            return
        if self.step == 5:
            self.step = 6
            self._show()
            self.generate()
            return
        self.step += 1
        self._show()

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        if 0 < self.step < 6:
            self.step -= 1
            self._show()

    @on(Button.Pressed, "#cancel")
    def action_leave(self) -> None:
        s = self.state
        if s.generated is not None and s.record is None:
            from ..widgets.confirm import ConfirmScreen

            def answer(leave: bool | None) -> None:
                if leave:
                    self.dismiss(None)

            self.app.push_screen(ConfirmScreen(
                Text.assemble(("The new key is NOT stored anywhere yet.", "bold"), "\n\nIf you leave now it is lost: "
                              "Momento shows a key only once. Copy it or download its JSON first, or retry storing it."),
                yes="Leave and lose the key", no="Stay", danger=True), answer)
            return
        if self.step == 6:
            self.set_error("Generating: wait for Momento's answer (it is stored the moment it arrives).")
            return
        self.dismiss(s.record)

    # ---- step 0: sign in ----------------------------------------------------------------
    def _acting_choice(self) -> str | None:
        radio = self.query_one("#acting", RadioSet)
        button = radio.pressed_button
        return None if button is None else button.name

    @on(RadioSet.Changed, "#acting")
    def _sync_paste_box(self) -> None:
        self.query_one("#paste-box").display = self._acting_choice() == "-1"
        self.state.verified = None
        self.query_one("#verify-note", Static).update("")

    def _read_acting(self) -> tuple[str, str | None, str | None, Inspection | None]:
        """(secret, endpoint, name, inspection) of the chosen acting key; raises ValueError."""
        keeper = self.app.keeper  # type: ignore[attr-defined]
        choice = self._acting_choice()
        if choice is None:
            raise ValueError("choose a super-user key, or paste one")
        if choice != "-1":
            record = keeper.store.get(int(choice))
            return "", record.endpoint, record.name, None
        text = self.query_one("#acting-key", Input).value
        endpoint = self.query_one("#acting-endpoint", Input).value.strip() or None
        try:
            inspection = inspect_text(text, endpoint=endpoint)
        except KeyFormatError as exc:
            raise ValueError(str(exc)) from None
        if inspection.endpoint is None:
            raise ValueError("this key carries no endpoint: type the cell endpoint it belongs to")
        return inspection.secret, inspection.endpoint, None, inspection

    @on(Button.Pressed, "#verify")
    def _verify_pressed(self) -> None:
        try:
            secret, endpoint, name, _ = self._read_acting()
        except ValueError as exc:
            self._note("#verify-note", str(exc), "bad")
            return
        self._note("#verify-note", "Asking Momento…", "warn")
        self.verify_acting(secret, endpoint, name)

    @work(thread=True, exclusive=True, group="wizard-verify")
    def verify_acting(self, secret: str, endpoint: str | None, name: str | None) -> None:
        keeper = self.app.keeper  # type: ignore[attr-defined]
        try:
            if name is not None:
                secret = keeper.secret(keeper.store.find(name), why="used to sign in (wizard)")
            result = self.api().verify(secret, endpoint)
        except (KeeperError, VaultError, StoreError) as exc:
            self.app.call_from_thread(self._note, "#verify-note", str(exc), "bad")
            return
        self.app.call_from_thread(self._verified, result.status, result.message)

    def _verified(self, status: str, message: str) -> None:
        self.state.verified = status
        text = {
            "valid": "✔ Momento accepted the key and it may manage caches: it looks like a super-user key.",
            "restricted": "⚠ Momento accepted the key, but it may not list caches: it is probably NOT a "
                          "super-user key, and generating keys with it will fail.",
            "invalid": "✖ Momento rejected the key: it is expired, revoked or not a real key.",
            "unknown": "? Momento could not be asked. You can continue; generation will tell.",
        }[status]
        self._note("#verify-note", f"{text}\n{message}", {"valid": "good", "invalid": "bad"}.get(status, "warn"))

    def _leave_0(self) -> str | None:
        try:
            secret, endpoint, name, inspection = self._read_acting()
        except ValueError as exc:
            return str(exc)
        if self.state.verified == "invalid":
            return "Momento rejected this key: choose another one."
        s = self.state
        s.acting_secret, s.acting_endpoint, s.acting_name = (secret or None), endpoint, name
        if inspection is not None and self.query_one("#acting-store", Checkbox).value:
            try:
                track_name = validate_name(self.query_one("#acting-name", Input).value)
            except KeeperError as exc:
                return f"name for the super-user key: {exc}"
            self.track_acting(inspection, track_name)
        if s.endpoint is None:
            s.endpoint = endpoint
        return None

    @work(thread=True, group="wizard-track")
    def track_acting(self, inspection: Inspection, name: str) -> None:
        keeper = self.app.keeper  # type: ignore[attr-defined]
        try:
            result = keeper.import_key(inspection, name, key_type=KeyType.SUPER_USER, action="imported (wizard)")
        except (KeeperError, StoreError) as exc:
            self.app.call_from_thread(self.app.notify, f"Super-user key not tracked: {exc}", severity="warning")
            return
        self.state.acting_name = result.record.name
        self.app.call_from_thread(self.app.notify, f"Now tracking the super-user key {name!r}")
        self.app.call_from_thread(self.app.load_records)  # type: ignore[attr-defined]

    # ---- step 1: region ------------------------------------------------------------------
    def _enter_1(self) -> None:
        select = self.query_one("#region", Select)
        endpoint = self.state.endpoint or self.state.acting_endpoint
        hosts = [h for _, h in PUBLIC_REGIONS]
        if endpoint in hosts:
            select.value = endpoint
        elif endpoint:
            select.value = "custom"
            self.query_one("#custom-endpoint", Input).value = endpoint
        self._region_note()

    @on(Select.Changed, "#region")
    @on(Input.Changed, "#custom-endpoint")
    def _region_note(self) -> None:
        custom = self.query_one("#region", Select).value == "custom"
        self.query_one("#custom-box").display = custom
        endpoint = self._chosen_endpoint(quiet=True)
        acting = self.state.acting_endpoint
        note = ""
        if endpoint:
            region, provider = region_of(endpoint)
            note = f"Endpoint {endpoint}: {region or 'unknown region'} ({provider or 'private or unknown cell'})."
            if acting and endpoint != acting:
                note += (f"\n⚠ Your super-user key belongs to {acting}; Momento will most likely refuse it in "
                         "another cell.")
        self._note("#region-note", note, "warn" if acting and endpoint and endpoint != acting else "good")

    def _chosen_endpoint(self, quiet: bool = False) -> str | None:
        value = self.query_one("#region", Select).value
        if value != "custom":
            return str(value)
        text = self.query_one("#custom-endpoint", Input).value.strip()
        if not text:
            return None
        try:
            return normalise_endpoint(text)
        except KeyFormatError:
            if quiet:
                return None
            raise

    def _leave_1(self) -> str | None:
        try:
            endpoint = self._chosen_endpoint()
        except KeyFormatError as exc:
            return str(exc)
        if not endpoint:
            return "type the custom endpoint"
        self.state.endpoint = endpoint
        return None

    # ---- step 2: key type --------------------------------------------------------------------
    def _type_choice(self) -> str:
        button = self.query_one("#key-type", RadioSet).pressed_button
        return button.name if button is not None and button.name else "fine-grained"

    @on(RadioSet.Changed, "#key-type")
    def _type_changed(self) -> None:
        choice = self._type_choice()
        superuser = choice == "super-user"
        self.query_one("#to-import").display = superuser
        if superuser:
            self._note("#type-note",
                       "Super-user keys cannot be made through the API: only the Momento console makes them.\n"
                       f"Open {CONSOLE_URL}, generate a Super User key, press Download JSON, then import the key "
                       "or its JSON file here.", "warn")
        elif choice == "token":
            self._note("#type-note", "A disposable token: data-plane only, expires within 25 hours, no refresh "
                                     "token. Good for CI jobs and short tasks.", "good")
        else:
            self._note("#type-note", "Data operations limited to the caches and topics you choose next.", "good")

    @on(Button.Pressed, "#to-import")
    def _to_import(self) -> None:
        from .import_key import ImportScreen

        self.dismiss(None)
        self.app.push_screen(ImportScreen(key_type=KeyType.SUPER_USER, title="Import the super-user key from "
                                                                              "the console"))

    def _leave_2(self) -> str | None:
        choice = self._type_choice()
        if choice == "super-user":
            return "super-user keys come from the console: use the import button, or choose another type"
        self.state.key_kind = choice
        return None

    def _enter_2(self) -> None:
        self._type_changed()

    # ---- step 3: expiration ---------------------------------------------------------------------
    def _enter_3(self) -> None:
        token = self.state.key_kind == "token"
        self.query_one("#expiry-key").display = not token
        self.query_one("#expiry-token").display = token
        self._expiry_changed()

    def _expiry_choice(self) -> str | None:
        radio = self.query_one("#expiry-token" if self.state.key_kind == "token" else "#expiry-key", RadioSet)
        button = radio.pressed_button
        return None if button is None else button.name

    @on(RadioSet.Changed, ".expiry")
    @on(Input.Changed, "#expiry-custom")
    @on(Checkbox.Changed, "#never-ok")
    def _expiry_changed(self) -> None:
        choice = self._expiry_choice()
        self.query_one("#custom-expiry").display = choice == "custom"
        self.query_one("#never-ok").display = choice == "never"
        try:
            seconds = self._expiry_seconds()
        except ValueError as exc:
            self._note("#expiry-note", str(exc), "bad")
            return
        now = self.app.keeper.clock.now()  # type: ignore[attr-defined]
        if seconds is None:
            self._note("#expiry-note", "⚠ The key will NEVER expire. Momento advises against it: such a key works "
                                       "until someone revokes it in the console, and gets no refresh token.", "warn")
        else:
            self._note("#expiry-note", f"The key will expire on {local_time(int(now + seconds))} "
                                       f"({countdown(seconds)} from now).", "good")

    def _expiry_seconds(self) -> int | None:
        choice = self._expiry_choice()
        now = self.app.keeper.clock.now()  # type: ignore[attr-defined]
        token = self.state.key_kind == "token"
        if choice is None:
            raise ValueError("choose when the key expires")
        if choice == "never":
            return None
        if choice == "custom":
            text = self.query_one("#expiry-custom", Input).value.strip()
            if not text:
                raise ValueError("type a date (2027-03-01) or a duration (45d, 12h)")
            if text[:1].isdigit() and "-" in text:
                seconds = parse_expiry_date(text, now)
            else:
                try:
                    seconds = parse_duration(text)
                except DurationError as exc:
                    raise ValueError(str(exc)) from None
        else:
            seconds = int(choice)
        if token and seconds > TOKEN_MAX_SECONDS:
            raise ValueError("a short-lived token may live at most 25 hours (the service's limit)")
        if seconds > UINT32_MAX:
            raise ValueError("that is too far away (at most about 136 years)")
        return seconds

    def _leave_3(self) -> str | None:
        try:
            seconds = self._expiry_seconds()
        except ValueError as exc:
            return str(exc)
        if seconds is None and not self.query_one("#never-ok", Checkbox).value:
            return "tick the box to confirm a key that never expires, or choose an expiry"
        self.state.valid_for = seconds
        return None

    # ---- step 4: permissions ---------------------------------------------------------------------
    def _enter_4(self) -> None:
        box = self.query_one("#grants")
        if not box.children:
            box.mount_all([GrantRow(g) for g in self.state.grants] or [GrantRow()])
            if self.replaces is not None and self.state.grants:
                self._note("#grants-note", f"The permissions of {self.replaces.name!r}, which this key replaces.",
                           "good")

    @on(Button.Pressed, "#add-cache")
    def _add_cache(self) -> None:
        self._add_row(Grant("cache", ALL, None, "readwrite"))

    @on(Button.Pressed, "#add-topic")
    def _add_topic(self) -> None:
        self._add_row(Grant("topic", ALL, ALL, "publishsubscribe"))

    def _add_row(self, grant: Grant) -> None:
        box = self.query_one("#grants")
        if len(box.children) >= MAX_GRANTS:
            self._note("#grants-note", f"at most {MAX_GRANTS} permissions per key", "bad")
            return
        box.mount(GrantRow(grant))

    @on(Button.Pressed, ".remove")
    def _remove_row(self, event: Button.Pressed) -> None:
        row = event.button.parent
        if row is not None:
            row.remove()

    @on(Button.Pressed, "#all-data")
    def _all_data(self) -> None:
        box = self.query_one("#grants")
        box.remove_children()
        box.mount_all([GrantRow(g) for g in ALL_DATA_READ_WRITE])
        self._note("#grants-note", "Read-write on all caches (including future ones) and publish/subscribe on "
                                   "all topics.", "good")

    def _leave_4(self) -> str | None:
        rows = list(self.query(GrantRow))
        try:
            self.state.grants = validate_grants([row.read() for row in rows])
        except PermissionSpecError as exc:
            return str(exc)
        return None

    # ---- step 5: review ------------------------------------------------------------------------
    def _enter_5(self) -> None:
        s = self.state
        now = self.app.keeper.clock.now()  # type: ignore[attr-defined]
        region, provider = region_of(s.endpoint)
        what = "a short-lived (disposable) token" if s.key_kind == "token" else "a fine-grained API key"
        if s.valid_for is None:
            expiry = "[b]never expires[/b] (not recommended)"
        else:
            expiry = f"expires on {local_time(int(now + s.valid_for))} ({countdown(s.valid_for)} from now)"
        lines = [
            f"You are about to ask Momento for {what}:",
            "",
            f"  • made with the key: {escape(s.acting_name or 'the pasted super-user key')}",
            f"  • in the cell {escape(s.endpoint or '?')} — {region or 'unknown region'} ({provider or '?'})",
            f"  • {expiry}",
            "  • allowed to:",
            *[f"      – {escape(describe(g))}" for g in s.grants],
            "",
            "The key is shown once. It goes to your OS keyring the moment Momento answers.",
        ]
        self.query_one("#review", Static).update("\n".join(lines))
        name = self.query_one("#new-name", Input)
        if not name.value:
            kind = "token" if s.key_kind == "token" else "key"
            name.value = f"{kind} {region or 'custom'} {local_time(int(now))[:10]}"

    def _leave_5(self) -> str | None:
        keeper = self.app.keeper  # type: ignore[attr-defined]
        try:
            name = validate_name(self.query_one("#new-name", Input).value)
        except KeeperError as exc:
            return str(exc)
        if keeper.store.find(name) is not None:
            return f"a key named {name!r} is already tracked; choose another name"
        self.state.name = name
        self.state.notes = self.query_one("#new-notes", Input).value.strip()
        return None

    # ---- step 6: generate ---------------------------------------------------------------------
    def api(self):
        factory = self._api_factory or getattr(self.app, "api_factory", None)
        if factory is None:
            from ..services.momento import MomentoApi

            return MomentoApi.from_env()
        return factory()

    @work(thread=True, exclusive=True, group="wizard-generate")
    def generate(self) -> None:
        from ..services.momento import MomentoError

        s = self.state
        keeper = self.app.keeper  # type: ignore[attr-defined]
        try:
            secret = s.acting_secret
            if secret is None and s.acting_name:
                record = keeper.store.find(s.acting_name)
                if record is None:
                    raise KeeperError(f"the key {s.acting_name!r} is no longer tracked")
                secret = keeper.secret(record, why="used to generate a key")
            if secret is None:
                raise KeeperError("no super-user key to act with")
            api = self.api()
            if s.key_kind == "token":
                generated = api.generate_disposable_token(secret, s.endpoint, s.grants, s.valid_for)
            else:
                generated = api.generate_api_key(secret, s.endpoint, s.grants, s.valid_for,
                                                 description=s.name)
        except MomentoError as exc:
            self.app.call_from_thread(self._generation_failed, str(exc))
            return
        except (KeeperError, VaultError, StoreError, ValueError) as exc:
            self.app.call_from_thread(self._generation_failed, str(exc))
            return
        s.generated = generated
        self._store()
        self.app.call_from_thread(self._generated)

    def _store(self) -> None:
        """Store the generated key now (in the worker thread). Never raises."""
        s = self.state
        keeper = self.app.keeper  # type: ignore[attr-defined]
        try:
            result = keeper.store_generated(
                s.generated, s.name,
                key_type=KeyType.FINE_GRAINED,
                kind=Kind.DISPOSABLE if s.key_kind == "token" else Kind.V1,
                permissions=to_json(s.grants), notes=s.notes,
            )
        except (KeeperError, StoreError, VaultError) as exc:
            s.store_error = str(exc)
            return
        except Exception as exc:  # anything else: the key must still not be lost
            s.store_error = f"{type(exc).__name__}: {exc}"
            return
        s.record = result.record
        s.store_error = None
        if self.replaces is not None:
            try:
                self.app.rotator().link_replacement(self.replaces, result.record)  # type: ignore[attr-defined]
            except (KeeperError, StoreError) as exc:
                s.store_error = None
                self.app.call_from_thread(self.app.notify, f"Stored, but not linked to {self.replaces.name!r}: {exc}",
                                          severity="warning")

    def _generation_failed(self, message: str) -> None:
        self.step = 5
        self._show()
        self.set_error(f"Not generated: {message} Nothing was stored.")
        self.app.notify(f"Key not generated: {message}", severity="error", timeout=10)

    def _generated(self) -> None:
        self.step = 7
        self._show()
        if self.state.record is not None:
            self.app.notify(f"Generated and stored {self.state.name!r}", title="New key")
            self.app.load_records()  # type: ignore[attr-defined]
        else:
            self.app.notify(f"Generated {self.state.name!r} but could NOT store it: {self.state.store_error}",
                            severity="error", timeout=20)

    # ---- step 7: result -------------------------------------------------------------------------
    def _enter_7(self) -> None:
        s = self.state
        g = s.generated
        if g is None:
            return
        status = self.query_one("#store-status", Static)
        status.remove_class("-good", "-bad")
        if s.record is not None:
            where = self.app.keeper.vault.status.description  # type: ignore[attr-defined]
            status.update(f"✔ Stored as {escape(s.name)}: the key and its refresh token are in your keyring "
                          f"({escape(where)}); the database keeps only metadata.")
            status.add_class("-good")
        else:
            status.update(f"✖ NOT STORED: {escape(s.store_error or '?')}\nThe key exists only on this screen. "
                          "Copy it, download its JSON, or retry storing (e.g. after unlocking your keyring).")
            status.add_class("-bad")
        self.query_one("#retry-store").display = s.record is None
        self._render_key()
        endpoint = g.endpoint  # type: ignore[attr-defined]
        valid = g.valid_until  # type: ignore[attr-defined]
        self.query_one("#result", Static).update("\n".join([
            f"[dim]      endpoint[/dim]  {escape(endpoint)}",
            f"[dim] HTTP endpoint[/dim]  https://api.cache.{escape(endpoint)}",
            f"[dim]   valid until[/dim]  {local_time(valid) if valid else 'never expires'}",
            f"[dim] refresh token[/dim]  {'yes (stored with the key)' if g.refresh_token else 'none'}",  # type: ignore[attr-defined]
        ]))
        path = self.query_one("#download-path", Input)
        if not path.value:
            slug = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in s.name).strip("-") or "key"
            path.value = str(Path.cwd() / f"momento-api-key-{slug}.json")

    def _render_key(self) -> None:
        g = self.state.generated
        box = self.query_one("#key-box", Static)
        if g is None:
            return
        if self._revealed:
            box.update(escape(g.api_key))  # type: ignore[attr-defined]
            box.add_class("-revealed")
        else:
            from ..core.keys import mask

            box.update(f"{escape(mask(g.api_key))}   [dim](masked; Reveal shows it)[/dim]")  # type: ignore[attr-defined]
            box.remove_class("-revealed")
        self.query_one("#reveal", Button).label = "Hide" if self._revealed else "Reveal"

    @on(Button.Pressed, "#reveal")
    def _toggle_reveal(self) -> None:
        self._revealed = not self._revealed
        self._render_key()
        if self._revealed:
            self.set_timer(20, self._hide_key)

    def _hide_key(self) -> None:
        self._revealed = False
        self._render_key()

    def on_screen_suspend(self) -> None:
        # Another screen on top (the palette, a dialog, its Screenshot command):
        # a revealed key must not stay on display.
        if self._revealed:
            self._hide_key()

    @on(Button.Pressed, "#copy")
    def _copy(self) -> None:
        g = self.state.generated
        if g is None:
            return
        self.app.copy_to_clipboard(g.api_key)  # type: ignore[attr-defined]
        system = self.app.clipboard_tool.copy(g.api_key)  # type: ignore[attr-defined]
        how = "system and terminal clipboard" if system else "terminal clipboard (OSC 52)"
        self.app.notify(f"Copied the new key {self.state.name!r} to the {how}", title="Copied")

    @on(Button.Pressed, "#retry-store")
    def _retry(self) -> None:
        self.retry_store()

    @work(thread=True, exclusive=True, group="wizard-store")
    def retry_store(self) -> None:
        vault = self.app.keeper.vault  # type: ignore[attr-defined]
        vault.probe()
        self._store()
        self.app.call_from_thread(self._retried)

    def _retried(self) -> None:
        self._enter_7()
        if self.state.record is not None:
            self.app.notify(f"Stored {self.state.name!r}")
            self.app.load_records()  # type: ignore[attr-defined]
        else:
            self.app.notify(f"Still not stored: {self.state.store_error}", severity="error")

    @on(Button.Pressed, "#download")
    def _download(self) -> None:
        g = self.state.generated
        if g is None:
            return
        target = Path(self.query_one("#download-path", Input).value.strip()).expanduser()
        try:
            write_console_json(target, g)
        except FileExistsError:
            self._note("#download-note", f"{target} already exists: choose another file name (nothing was "
                                         "overwritten).", "bad")
            return
        except OSError as exc:
            self._note("#download-note", f"could not write {target}: {exc.strerror or exc}", "bad")
            return
        self.state.download_path = str(target)
        if self.state.record is not None:
            self.app.keeper.store.log(self.state.record.id, "exported", now=self.app.keeper.now(),  # type: ignore[attr-defined]
                                      detail=str(target))
        self._note("#download-note", f"Saved {target} (mode 0600: only you can read it). It holds the key: "
                                     "move it into a secrets manager and delete it.", "good")

    def _leave_7(self) -> str | None:
        if self.state.record is None and self.state.download_path is None:
            return ("the key is not stored: retry storing, or download its JSON (or copy it) before going on; "
                    "Esc lets you leave anyway")
        return None

    # ---- step 8: secure it -------------------------------------------------------------------------
    def _enter_8(self) -> None:
        s = self.state
        keeper = self.app.keeper  # type: ignore[attr-defined]
        name = s.name
        q = shell_quote(name)
        lines = []
        if s.record is not None:
            lines.append(f"[b]Where it lives[/b]: your OS keyring ({escape(keeper.vault.status.description)}), "
                         f"entry key:{s.record.fingerprint}. The database holds only metadata.")
            if s.record.expires_at is not None:
                warn, crit = band_changes(s.record.expires_at, s.record.issued_at,
                                          thresholds_for(s.record, keeper.settings.thresholds))
                lines.append(f"[b]Reminders[/b]: the dashboard turns it WARNING on {local_time(warn)}, CRITICAL on "
                             f"{local_time(crit)}, and EXPIRED on {local_time(s.record.expires_at)}. "
                             "`momento-keys check` in cron exits non-zero from the warning on.")
            else:
                lines.append("[b]Reminders[/b]: this key never expires — the dashboard flags it as a risk. "
                             "Plan to replace it.")
        elif s.download_path:
            lines.append(f"[b]Where it lives[/b]: only in {escape(s.download_path)} (not in the keyring). "
                         f"Import it when your keyring works: momento-keys import --name {escape(q)} "
                         f"--file {escape(shell_quote(s.download_path))}")
        lines += [
            "",
            "[b]Move it into your cloud's secret manager[/b] (piped: the key never appears on a command line):",
            "",
            "  AWS Secrets Manager",
            f"    momento-keys export {escape(q)} --stdout | aws secretsmanager create-secret "
            f"--name momento/{escape(slug(name))} --secret-string file:///dev/stdin",
            "  Azure Key Vault",
            f"    momento-keys export {escape(q)} --stdout | az keyvault secret set --vault-name MY-VAULT "
            f"--name momento-{escape(slug(name))} --file /dev/stdin",
            "  GCP Secret Manager",
            f"    momento-keys export {escape(q)} --stdout | gcloud secrets create momento-{escape(slug(name))} "
            "--data-file=-",
            "",
            "[b]Use it in a shell[/b] (MOMENTO_API_KEY and MOMENTO_ENDPOINT):",
            f"    eval \"$(momento-keys env {escape(q)} --stdout)\"",
            "",
            "Rotate it before it expires. Never paste it into chat, tickets or a command line.",
        ]
        self.query_one("#secure", Static).update("\n".join(lines))

    # ---- helpers -----------------------------------------------------------------------------------
    def _note(self, selector: str, text: str, kind: str = "") -> None:
        note = self.query_one(selector, Static)
        note.remove_class("-good", "-bad", "-warn")
        if kind:
            note.add_class(f"-{kind}")
        note.update(escape(text))


def countdown_left(record: KeyRecord, keeper) -> str:
    if record.expires_at is None:
        return "never expires"
    left = record.expires_at - keeper.clock.now()
    return "EXPIRED" if left <= 0 else f"{countdown(left)} left"


def slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name).strip("-").lower() or "key"


def shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def write_console_json(target: Path, generated) -> None:
    """The console's Download JSON (+ endpoint), 0600, never overwriting: raises FileExistsError."""
    doc = {"apiKey": generated.api_key, "validUntil": generated.valid_until or 0, "endpoint": generated.endpoint}
    if generated.refresh_token:
        doc["refreshToken"] = generated.refresh_token
    data = (json.dumps(doc, indent=2) + "\n").encode()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
