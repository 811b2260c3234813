"""Copying a key: to the terminal's clipboard (OSC 52) and, where a tool exists, the system's;
both cleared after the configured time, unless a newer copy replaced it.

The app derives from :class:`SecretCopying`; the subprocesses of the system clipboard run in
workers.
"""

from __future__ import annotations

from functools import partial

from textual.app import App

from .core.model import KeyRecord
from .screens.base import on_ui, safe_work
from .services.clipboard import SystemClipboard
from .services.context import Services


class SecretCopying(App[None]):
    services: Services

    def __init__(self) -> None:
        super().__init__()
        self.clipboard_tool = SystemClipboard()
        self._copy_generation = 0

    @safe_work("Copy", group="secret")
    def copy_secret(self, record: KeyRecord) -> None:
        value = self.services.keeper.secret(record, why="copied")
        system = self._copy_system(value)
        on_ui(self, self._copied, f"the key of {record.name!r}", value, system)

    def _copy_system(self, value: str) -> bool:
        """Copy to the system clipboard (in a worker) and start the detached clear, which
        happens even if the app has quit by then (``pass`` does the same)."""
        system = self.clipboard_tool.copy(value)
        clear = self.services.settings.clipboard_clear_seconds
        if system and clear:
            self.clipboard_tool.clear_later(value, clear)
        return system

    def copy_secret_value(self, value: str, name: str) -> None:
        """Copy a secret no record holds yet (a new key that could not be stored)."""
        self._copy_value(value, f"the new key {name!r}")

    @safe_work("Copy", group="secret")
    def _copy_value(self, value: str, what: str) -> None:
        system = self._copy_system(value)
        on_ui(self, self._copied, what, value, system)

    def _copied(self, what: str, value: str, system: bool) -> None:
        self.copy_to_clipboard(value)
        self._copy_generation += 1
        generation = self._copy_generation
        clear = self.services.settings.clipboard_clear_seconds
        how = (f"system clipboard ({self.clipboard_tool.name}) and terminal (OSC 52)" if system
               else "terminal clipboard (OSC 52; works where your terminal allows it)")
        if clear and system and self.clipboard_tool.readable:
            tail = f"; it will be cleared in {clear}s, even if you quit"
        elif clear:
            tail = f"; it will be cleared in {clear}s if momento-keys is still open"
        else:
            tail = ""
        self.notify(f"Copied {what} to the {how}{tail}", title="Copied")
        if clear:
            self.set_timer(clear, partial(self._clear_clipboard, what, value, generation, system))

    def _clear_clipboard(self, what: str, value: str, generation: int, system: bool) -> None:
        if generation != self._copy_generation:
            return  # a newer copy replaced it; that one clears itself
        if self.clipboard == value:
            self.copy_to_clipboard("")
        if system:
            self._clear_system_clipboard(what, value)
        else:
            self._cleared(what, "cleared (terminal clipboard)")

    @safe_work("Clipboard", group="clipboard")
    def _clear_system_clipboard(self, what: str, value: str) -> None:
        on_ui(self, self._cleared, what, self.clipboard_tool.clear_if_holds(value))

    def _cleared(self, what: str, outcome: str) -> None:
        self.notify(f"Clipboard {outcome}: {what} is no longer offered", timeout=4)
