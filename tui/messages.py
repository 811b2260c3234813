"""Messages the app's workers and screens send to the app; its handlers apply them on the
main thread."""

from __future__ import annotations

from textual.message import Message

from .core.roster import Roster


class RecordsLoaded(Message):
    """A load finished: every listed key, and the database's version when it was read."""

    def __init__(self, roster: Roster, version: int | None) -> None:
        super().__init__()
        self.roster = roster
        self.version = version


class VaultChecked(Message):
    """The keyring probe finished: the banner and the title can say where secrets go."""


class KeysChanged(Message):
    """A screen changed keys or reminders (import, edit, rotation, snooze…): the app reloads.

    Screens post it instead of reloading the app themselves; several in a row are one reload.
    """

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, KeysChanged)
