"""Textual's Footer, rebuilt only when what it shows changes.

Textual's Footer recomposes (a new widget per key, each styled from the CSS)
every time the screen says its bindings *may* have changed: on every focus
change, for instance, and several times while the dashboard starts. Each time
costs milliseconds; at start-up it added about a tenth of a second before the
keys' rows reached the screen. This Footer compares what it would show with
what it shows and recomposes only when they differ.

(It overrides Footer.bindings_changed, the callback Textual's Footer subscribes
to the screen's bindings signal; the project pins textual<9.)
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None  # what the footer's keys show (as of its last compose)
        self._pending = False             # a recompose is on its way: it will read the bindings then

    def _what_it_shows(self, screen: Screen) -> tuple:
        """The keys the footer would show now, as compose() picks them."""
        shown = tuple((binding.key, binding.key_display, binding.description, binding.action, binding.group,
                       enabled, tooltip)
                      for (_, binding, enabled, tooltip) in screen.active_bindings.values()
                      if binding.show)
        palette = screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        return shown, None if palette is None else (palette[2], palette[3])

    def compose(self):
        self._pending = False
        if self._bindings_ready and self.is_attached:
            self._shown = self._what_it_shows(self.screen)
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        if not (screen.app.app_focus and self.is_attached and screen is self.screen):
            super().bindings_changed(screen)
            return
        if self._pending or self._what_it_shows(screen) == self._shown:
            self._bindings_ready = True  # (what the base class does first)
            return
        self._pending = True
        super().bindings_changed(screen)
