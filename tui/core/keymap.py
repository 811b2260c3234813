"""Every key binding id of the app, grouped as the help screen shows them, with what each does.

The ids are what ``[bindings]`` in the settings file remaps (``filter = "f"``). This is the
one list of them: the settings loader reports ids not in it (a typo would otherwise be
ignored silently), the help screen shows each id beside its live key, and a test checks
that it matches the ``Binding(id=…)`` of every screen and widget, both ways. Pure data:
the CLI reads it without importing Textual.
"""

from __future__ import annotations

import re

# (section title, rows); a row: (binding ids shown together, what they do). ``{clear_after}``
# is filled in with the clipboard setting.
SECTIONS: tuple[tuple[str, tuple[tuple[tuple[str, ...], str], ...]], ...] = (
    ("Dashboard", (
        (("table.up", "table.down"), "move"),
        (("table.page_up",), "page up"),
        (("table.page_down",), "page down"),
        (("table.first",), "first key"),
        (("table.last",), "last key"),
        (("table.open",), "details of the selected key"),
        (("filter",), "filter: name, region, kind, notes, tags (several words narrow)"),
        (("clear_filter",), "clear the filter"),
        (("sort",), "sort: expiry → status → name → kind → type → region → lifecycle (or click a title)"),
        (("sort_reverse",), "reverse the sort (or click the sorted column's title again)"),
        (("new_key",), "generate a new key or short-lived token (the wizard)"),
        (("import",), "import a key (paste it, or give the path of a Download JSON)"),
        (("reminders",), "reminders: due first; snooze, dismiss, done, undo"),
        (("timeline",), "timeline: the next 90 days, week by week"),
        (("rotate",), "rotate the selected key"),
        (("edit",), "edit name, notes, tags, key type, thresholds"),
        (("copy",), "copy the key to the clipboard ({clear_after})"),
        (("delete",), "delete the key's record (asks first)"),
        (("sync",), "sync the account: read its v2 keys"),
        (("revoke",), "revoke the selected v2 key at Momento (asks first)"),
        (("reload",), "reload from the database (it also reloads by itself)"),
        (("help",), "this help"),
        (("quit", "quit_ctrl"), "quit (never from a dialog or the wizard: there Esc goes back)"),
    )),
    ("Key details", (
        (("detail.reveal",), "reveal the key for 20 s"),
        (("detail.copy",), "copy the key"),
        (("detail.edit",), "edit"),
        (("detail.rotate",), "rotate"),
        (("detail.link",), "link to a key of the account (v2)"),
        (("detail.revoke",), "revoke (v2; asks first)"),
        (("detail.delete",), "delete (asks first)"),
        (("detail.back",), "back to the list"),
    )),
    ("Reminders", (
        (("reminders.snooze_day", "reminders.snooze_week"), "snooze 1 day, 7 days"),
        (("reminders.snooze_custom",), "snooze for a time you type (3d, 12h, 2w)"),
        (("reminders.dismiss",), "dismiss: not needed, hide it (nothing else changes)"),
        (("reminders.done",), "done: handled (a switch reminder's done retires the old key)"),
        (("reminders.undo",), "undo the last snooze, dismiss or done"),
        (("reminders.open",), "open the key"),
        (("reminders.rotate",), "rotate the key now"),
        (("reminders.back",), "back"),
    )),
    ("Timeline", (
        (("timeline.back",), "back"),
    )),
    ("Wizard", (
        (("wizard.next", "wizard.enter"), "next step"),
        (("wizard.back",), "previous step"),
        (("wizard.escape_back",), "back a step (where there is one)"),
        (("wizard.cancel",), "leave from the first step (asks first when work would be lost)"),
        (("wizard.close",), "close once the key is made (asks first if it is not stored)"),
        (("wizard.no_quit",), "(q does not quit from inside the wizard)"),
    )),
    ("Dialogs", (
        (("confirm.yes", "confirm.no"), "answer yes, no"),
        (("import.cancel", "edit.cancel", "rotate.close", "snooze.cancel"), "close the dialog"),
        (("help.close",), "close this help"),
    )),
)

BINDING_IDS: frozenset[str] = frozenset(i for _, rows in SECTIONS for ids, _ in rows for i in ids)


_KEY = re.compile(r"(?:(?:ctrl|shift|alt|meta|super|hyper)\+)*(?:[a-z][a-z0-9_]*|[^\s,])")


def not_keys(bindings: dict[str, str]) -> list[tuple[str, str]]:
    """The (id, keys) of ``bindings`` whose keys are not key names (``f``, ``ctrl+f``, ``f5``,
    ``slash``, ``left_square_bracket``; several, separated by commas): such a remap would leave
    the action with no key at all."""
    return [(i, keys) for i, keys in bindings.items()
            if not keys.strip() or not all(_KEY.fullmatch(part.strip()) for part in keys.split(","))]


def unknown_ids(ids: object) -> list[str]:
    """The ids among ``ids`` that no binding has, in the order given."""
    return [i for i in ids if i not in BINDING_IDS]  # type: ignore[attr-defined]


def suggestion(binding_id: str) -> str | None:
    """The valid id closest to a mistyped one, if any is close."""
    import difflib  # (only for a mistake: `check` at start-up never loads it)

    close = difflib.get_close_matches(binding_id, sorted(BINDING_IDS), n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_ids_message(unknown: list[str], *, listing: bool = True) -> str:
    """One sentence about ids in ``[bindings]`` that no binding has: each named (with the closest
    valid id), and, with ``listing``, every valid id."""
    parts = []
    for i in unknown:
        near = suggestion(i)
        parts.append(f"{i!r}" + (f" (did you mean {near!r}?)" if near else ""))
    noun = "id" if len(unknown) == 1 else "ids"
    text = f"[bindings]: unknown binding {noun} {', '.join(parts)}: ignored"
    if listing:
        text += "; the valid ids are " + ", ".join(sorted(BINDING_IDS))
    return text
