"""Step 5 (v1 keys and tokens): what the new key may do, one row per grant (up to ten). The
first row asks the least (one named cache, read-only); the cache field completes the names
of the caches Verify listed (listed here, in a worker, when Verify was not pressed)."""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from ....core.permissions import ALL_DATA_READ_WRITE, CACHE_ROLES, MAX_GRANTS, TOPIC_ROLES, Grant, GrantKind
from ..state import WizardState, choose_grants
from .base import Note, Picker, Step, expected_errors

LEAST = Grant("cache", "", None, "readonly")  # a new row: one named cache (typed next), read-only
LEAST_TOPIC = Grant("topic", "", "", "subscribeonly")  # one named topic of one named cache, subscribe only


class GrantRow(Horizontal):
    """One permission: Cache or Topic, cache name, topic name, role."""

    def __init__(self, grant: Grant | None = None, caches: list[str] | None = None) -> None:
        super().__init__(classes="grant-row")
        self.grant = grant or LEAST
        self.caches = caches or []

    def compose(self) -> ComposeResult:
        g = self.grant
        yield Picker([("Cache", "cache"), ("Topic", "topic")], value=g.kind, allow_blank=False, compact=True,
                     classes="kind")
        yield Input(value=g.cache, placeholder=placeholder(self.caches), compact=True, classes="cache",
                    suggester=SuggestFromList(self.caches, case_sensitive=False))
        yield Input(value=g.topic or "", placeholder="topic name, or * for all", compact=True, classes="topic")
        yield Picker(self._roles(g.kind), value=g.role, allow_blank=False, compact=True, classes="role")
        yield Button("✕", classes="remove", compact=True, tooltip="remove this permission")

    @staticmethod
    def _roles(kind: str) -> list[tuple[str, str]]:
        return [(r, r) for r in (CACHE_ROLES if kind == "cache" else TOPIC_ROLES)]

    def on_mount(self) -> None:
        self.query_one(".topic", Input).display = self.grant.kind == "topic"

    def offer(self, caches: list[str]) -> None:
        """The caches the account listed: completed while typing a cache name."""
        self.caches = caches
        cache = self.query_one(".cache", Input)
        cache.suggester = SuggestFromList(caches, case_sensitive=False)
        cache.placeholder = placeholder(caches)

    @on(Picker.Changed, ".kind")
    def _kind_changed(self, event: Picker.Changed) -> None:
        kind = str(event.value)
        topic = self.query_one(".topic", Input)
        topic.display = kind == "topic"  # (left empty: the user names the topic, or types * for all)
        role = self.query_one(".role", Picker)
        if role.value in (CACHE_ROLES if kind == "cache" else TOPIC_ROLES):
            return  # the kind set at mount: the row keeps its own role
        role.set_options(self._roles(kind))
        role.value = "readonly" if kind == "cache" else "subscribeonly"  # the least, as for a new row

    def read(self) -> Grant:
        kind = cast(GrantKind, str(self.query_one(".kind", Picker).value))
        cache = self.query_one(".cache", Input).value.strip()
        topic = self.query_one(".topic", Input).value.strip() if kind == "topic" else None
        return Grant(kind, cache, topic, str(self.query_one(".role", Picker).value))


def placeholder(caches: list[str]) -> str:
    if not caches:
        return "cache name, or * for all caches"
    shown = ", ".join(caches[:3]) + (", …" if len(caches) > 3 else "")
    return f"cache name ({shown}; → completes), or * for all"


class PermissionsStep(Step):
    title = "Permissions"

    class Listed(Message):
        def __init__(self, caches: list[str] | None) -> None:
            super().__init__()
            self.caches = caches  # None: not listed (the key may not list, or Momento was not reached)

    def __init__(self, state: WizardState, *, id: str) -> None:
        super().__init__(state, id=id)
        self.listing = False

    @classmethod
    def applies(cls, state: WizardState) -> bool:
        return not state.v2

    def compose(self) -> ComposeResult:
        yield self.title_widget()
        yield Static(f"Up to {MAX_GRANTS} rows. A name, or * for all caches (includes future caches) or all "
                     "topics. Cache roles: readwrite, readonly, writeonly. Topic roles: publishsubscribe, "
                     "subscribeonly, publishonly.", classes="explain")
        yield Vertical(id="grants")
        yield self.problem
        with Horizontal(classes="grant-buttons"):
            yield Button("+ Cache", id="add-cache", compact=True)
            yield Button("+ Topic", id="add-topic", compact=True)
            yield Button("All data, read-write", id="all-data", compact=True)
        yield Note("", id="grants-note", classes="note")

    @property
    def _box(self) -> Vertical:
        return self.query_one("#grants", Vertical)

    @property
    def first_focus(self) -> Widget | None:
        rows = self.query(GrantRow)
        return rows.first().query_one(".cache") if rows else self.query_one("#add-cache")

    def has_input(self) -> bool:
        return bool(self._box.children)

    def enter(self) -> None:
        if self.state.caches is None and not self.listing:
            self.listing = True
            self.list_caches()
        if self._box.children:
            return
        caches = self.state.caches
        self._box.mount_all([GrantRow(g, caches) for g in self.state.grants] or [GrantRow(None, caches)])
        replaces = self.state.replaces
        if replaces is not None and self.state.grants:
            self.query_one("#grants-note", Note).say(
                Text.assemble("The permissions of ", (replaces.name, "bold"), ", which this key replaces."), "good")

    def leave(self) -> str | None:
        return choose_grants(self.state, [row.read() for row in self.query(GrantRow)])

    @work(thread=True, exclusive=True, group="wizard-caches", exit_on_error=False)
    def list_caches(self) -> None:
        """The account's caches (one ListCaches call with the acting key), to complete names."""
        from .generate import acting_secret

        services, s = self.services, self.state
        try:
            result = services.momento().verify(acting_secret(services, s), s.endpoint)
        except expected_errors():
            self.post_message(self.Listed(None))
            return
        except Exception:
            self.post_message(self.Listed(None))
            return
        self.post_message(self.Listed(list(result.caches) if result.status == "valid" else None))

    @on(Listed)
    def _listed(self, event: Listed) -> None:
        event.stop()
        self.listing = False
        if event.caches is None:
            return
        self.state.caches = event.caches
        for row in self.query(GrantRow):
            row.offer(event.caches)

    @on(Button.Pressed, "#add-cache")
    def _add_cache(self) -> None:
        self._add_row(LEAST)

    @on(Button.Pressed, "#add-topic")
    def _add_topic(self) -> None:
        self._add_row(LEAST_TOPIC)

    def _add_row(self, grant: Grant) -> None:
        if len(self._box.children) >= MAX_GRANTS:
            self.query_one("#grants-note", Note).say(f"✖ at most {MAX_GRANTS} permissions per key", "bad")
            return
        row = GrantRow(grant, self.state.caches)
        self._box.mount(row)
        self.call_after_refresh(lambda: row.query_one(".cache").focus())

    @on(Button.Pressed, ".remove")
    def _remove_row(self, event: Button.Pressed) -> None:
        row = next((node for node in event.button.ancestors if isinstance(node, GrantRow)), None)
        if row is not None:
            row.remove()

    @on(Button.Pressed, "#all-data")
    def _all_data(self) -> None:
        self._box.remove_children()
        self._box.mount_all([GrantRow(g, self.state.caches) for g in ALL_DATA_READ_WRITE])
        self.query_one("#grants-note", Note).say("Read-write on all caches (including future ones) and "
                                                 "publish/subscribe on all topics.", "good")
