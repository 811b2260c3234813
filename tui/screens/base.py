"""What every screen of momento-keys shares: typed access to the services, and a tick
that reaches a screen only once it is mounted.

Screens never import each other: they navigate through the app's actions
(``self.app.run_action("open_import(3)")``) and answer through ``dismiss``.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar, cast

from textual.screen import ModalScreen, Screen

from ..services.context import Services

T = TypeVar("T")


class ServicesHost(Protocol):
    """What a screen may ask of the app (MomentoKeysApp provides it)."""

    services: Services


class _Shared:
    _ready = False

    @property
    def services(self) -> Services:
        return cast(ServicesHost, self.app).services  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        self._ready = True

    @property
    def ready(self) -> bool:
        """Mounted and set up: the app's tick may reach it."""
        return self._ready and self.is_mounted  # type: ignore[attr-defined]

    def tick(self) -> None:
        """Called once a second by the app, only while ``ready``. Override to refresh countdowns."""


class KeysScreen(_Shared, Screen[T], Generic[T]):
    """A full screen of the app."""


class KeysModal(_Shared, ModalScreen[T], Generic[T]):
    """A dialog of the app."""
