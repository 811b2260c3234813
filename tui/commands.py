"""The command palette (ctrl+p): the dashboard's actions, and every listed key by name.

Key names are the user's text: they reach the palette as plain ``Content`` (highlighted
here, never parsed as markup).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from itertools import islice
from typing import Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.dom import DOMNode
from textual.fuzzy import Matcher

from .core.roster import Roster


class PaletteHost(Protocol):
    """What the palette reads from the app (tui.app.MomentoKeysApp)."""

    roster: Roster

    @property
    def readonly(self) -> bool: ...

    def action_open_detail(self, record_id: int) -> None: ...

    @property
    def dashboard(self) -> DOMNode: ...  # (its actions: DASHBOARD_COMMANDS)

KEY_HITS = 40  # keys offered for one query (the filter, `/`, lists them all)
KEY_SCORED = 500  # names scored for one query: a fuzzy match costs microseconds each

COMMANDS = [
    ("Filter keys", "Type to filter by name, region, kind, notes or tags", "filter"),
    ("Sort by expiry", "Soonest expiry first", "sort('expiry')"),
    ("Sort by status", "Worst status first", "sort('status')"),
    ("Sort by name", "Alphabetical", "sort('name')"),
    ("Sort by kind", "v1, v2, disposable; soonest expiry first within each", "sort('kind')"),
    ("Sort by type or role", "Key type, or a v2 key's role; soonest expiry first within each", "sort('type')"),
    ("Sort by region", "Alphabetical, unknown last; soonest expiry first within each", "sort('region')"),
    ("Sort by lifecycle", "Active, previous (replaced by a rotation), retired", "sort('lifecycle')"),
    ("Show details of the selected key", "Metadata, permissions, events, secret", "open_selected"),
    ("Reminders", "Due first: snooze, dismiss, open the key, rotate", "reminders"),
    ("Timeline", "Expiries and reminders over the next 90 days, week by week", "timeline"),
    ("Help", "Keys, status bands and CLI exit codes", "help"),
    ("Reload keys", "Read the database again", "reload"),
]
# Run on the dashboard (the others run on the app).
DASHBOARD_COMMANDS = [
    ("Reverse the sort order", "Latest expiry, best status, Z to A… first (and back)", "reverse_sort"),
]
WRITE_COMMANDS = [
    ("Generate a new key (wizard)", "Fine-grained key or short-lived token, step by step", "new_key"),
    ("Import a key", "Paste a key or give the path of the console's Download JSON", "import_key"),
    ("Edit the selected key", "Name, notes, tags, thresholds", "edit_selected"),
    ("Delete the selected key", "Removes its record and its keyring entry", "delete_selected"),
    ("Copy the selected key", "To the clipboard, cleared after a while", "copy_selected"),
    ("Rotate the selected key", "Refresh it through Momento, or replace it by hand", "rotate_selected"),
    ("Sync the account (v2 keys)", "Read every API key of the account: expiries, roles, revoked keys, keys not "
     "tracked here", "sync_account"),
    ("Revoke the selected v2 key", "Delete it from the account through Momento's account API (asks first)",
     "revoke_selected"),
]


def highlight(matcher: Matcher, text: str) -> Content:
    """``text`` as plain content, the letters that matched the query highlighted
    (``Matcher.highlight`` would parse it as markup)."""
    content = Content(text)
    score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    if score:
        for offset in offsets:
            if not text[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class KeysCommands(Provider):
    @property
    def keys_app(self) -> PaletteHost:
        return cast(PaletteHost, self.app)

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app, dashboard = self.app, self.keys_app.dashboard
        commands: list[tuple[str, str, Callable[[], object]]] = [
            (title, help_text, partial(app.run_action, action)) for title, help_text, action in COMMANDS]
        commands += [(title, help_text, partial(app.run_action, action, dashboard))
                     for title, help_text, action in DASHBOARD_COMMANDS]
        if not self.keys_app.readonly:
            commands += [(title, help_text, partial(app.run_action, action))
                         for title, help_text, action in WRITE_COMMANDS]
        return commands

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, highlight(matcher, title), run, text=title, help=help_text)
        for score, name, record_id in self._keys(query, matcher):
            yield Hit(score, highlight(matcher, name), partial(self.keys_app.action_open_detail, record_id),
                      text=name, help="Open this key's details")

    def _keys(self, query: str, matcher: Matcher) -> list[tuple[float, str, int]]:
        """Listed keys whose name, notes or tags hold every word of the query (the filter's
        rule), best fuzzy match of the name first."""
        roster = self.keys_app.roster
        found = roster.matching(query.split())
        if not found:
            return []
        hits = []
        for i in islice(found, KEY_SCORED):
            name = roster.name(i)
            hits.append((max(matcher.match(name), 0.1), name, roster.ids[i]))
        hits.sort(key=lambda h: -h[0])
        return hits[:KEY_HITS]
