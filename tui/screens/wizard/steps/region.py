"""Step 3: the cell (region) a v1 key is made in, or the endpoint stored with a v2 key
(v2 keys work in every region; the endpoint tells the SDKs where to connect)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from ....core.keys import PUBLIC_REGIONS
from ..state import CUSTOM, Problem, choose_endpoint, endpoint_of, region_note
from .base import Note, Picker, Step


class RegionStep(Step):
    title = "Region"
    heading = "Cloud provider and region"

    def compose(self) -> ComposeResult:
        yield self.title_widget()
        yield Static("", id="region-explain", classes="explain")
        regions = [(f"AWS  {region:<16} {host}", host) for region, host in PUBLIC_REGIONS]
        regions.append(("Custom endpoint (private cell, Momento Local)…", CUSTOM))
        yield Picker(regions, allow_blank=False, id="region")
        with Grid(classes="form", id="custom-box"):
            yield Label("Endpoint")
            yield Input(placeholder="cell-…prod.a.momentohq.com", id="custom-endpoint", compact=True)
        yield self.problem
        yield Note("", id="region-note", classes="note")

    def on_mount(self) -> None:
        self.query_one("#custom-box").display = False

    @property
    def first_focus(self) -> Widget:
        if self.query_one("#region", Picker).value == CUSTOM:
            return self.query_one("#custom-endpoint")
        return self.query_one("#region")

    def enter(self) -> None:
        select = self.query_one("#region", Picker)
        self.query_one("#region-explain", Static).update(
            "A v2 key works in every region; choose the endpoint its programs connect to (stored with the key, "
            "exported as MOMENTO_ENDPOINT). It defaults to the endpoint of the key you act with."
            if self.state.v2 else
            "Keys are made in a cell (a region). Momento runs on AWS; the new key will work in the cell you "
            "choose, and the key you act with must be valid there.")
        endpoint = self.state.endpoint or self.state.acting_endpoint
        if endpoint in [host for _, host in PUBLIC_REGIONS]:
            select.value = endpoint
        elif endpoint:
            select.value = CUSTOM
            self.query_one("#custom-endpoint", Input).value = endpoint
        self._changed()

    def leave(self) -> str | None:
        select, custom = self._fields()
        return choose_endpoint(self.state, select, custom)

    def _fields(self) -> tuple[str, str]:
        return str(self.query_one("#region", Picker).value), self.query_one("#custom-endpoint", Input).value

    @on(Picker.Changed, "#region")
    @on(Input.Changed, "#custom-endpoint")
    def _changed(self) -> None:
        choice, custom = self._fields()
        self.query_one("#custom-box").display = choice == CUSTOM
        try:
            endpoint = endpoint_of(choice, custom)
        except Problem:
            endpoint = None  # said on Next; no red while typing
        text, kind = region_note(endpoint, None if self.state.v2 else self.state.acting_endpoint)
        self.query_one("#region-note", Note).say(text, kind)
