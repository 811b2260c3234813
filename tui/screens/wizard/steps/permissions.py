"""Step 4: what the new key may do, one row per grant (up to ten)."""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static

from ....core.permissions import ALL, ALL_DATA_READ_WRITE, CACHE_ROLES, MAX_GRANTS, TOPIC_ROLES, Grant, GrantKind
from ..state import choose_grants
from .base import Note, Step


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
        kind = cast(GrantKind, str(self.query_one(".kind", Select).value))
        cache = self.query_one(".cache", Input).value.strip()
        topic = self.query_one(".topic", Input).value.strip() if kind == "topic" else None
        return Grant(kind, cache, topic, str(self.query_one(".role", Select).value))


class PermissionsStep(Step):
    title = "Permissions"

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
        if self._box.children:
            return
        self._box.mount_all([GrantRow(g) for g in self.state.grants] or [GrantRow()])
        replaces = self.state.replaces
        if replaces is not None and self.state.grants:
            self.query_one("#grants-note", Note).say(
                Text.assemble("The permissions of ", (replaces.name, "bold"), ", which this key replaces."), "good")

    def leave(self) -> str | None:
        return choose_grants(self.state, [row.read() for row in self.query(GrantRow)])

    @on(Button.Pressed, "#add-cache")
    def _add_cache(self) -> None:
        self._add_row(Grant("cache", ALL, None, "readwrite"))

    @on(Button.Pressed, "#add-topic")
    def _add_topic(self) -> None:
        self._add_row(Grant("topic", ALL, ALL, "publishsubscribe"))

    def _add_row(self, grant: Grant) -> None:
        if len(self._box.children) >= MAX_GRANTS:
            self.query_one("#grants-note", Note).say(f"✖ at most {MAX_GRANTS} permissions per key", "bad")
            return
        row = GrantRow(grant)
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
        self._box.mount_all([GrantRow(g) for g in ALL_DATA_READ_WRITE])
        self.query_one("#grants-note", Note).say("Read-write on all caches (including future ones) and "
                                                 "publish/subscribe on all topics.", "good")
