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

from rich.cells import cell_len
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

COMPACT_BELOW = 100  # columns: a narrower footer packs its keys closer, to show more of them


class KeysFooter(Footer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None  # what the footer's keys show (as of its last compose)
        self._pending = False             # a recompose is on its way: it will read the bindings then
        self._composed_width = -1         # the width the keys were last picked for

    def _what_it_shows(self, screen: Screen) -> tuple:
        """The keys the footer would show now, as compose() picks them."""
        shown = tuple((binding.key, binding.key_display, binding.description, binding.action, binding.group,
                       enabled, tooltip)
                      for (_, binding, enabled, tooltip) in screen.active_bindings.values()
                      if binding.show)
        palette = screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        return shown, None if palette is None else (palette[2], palette[3])

    def on_resize(self) -> None:
        width = self.size.width
        self.compact = width < COMPACT_BELOW
        # Which keys fit depends on the width: picked again when the footer is or was narrow (a
        # wide footer shows them all, and a recompose at start-up would cost its milliseconds).
        narrow = width < COMPACT_BELOW or 0 < self._composed_width < COMPACT_BELOW
        if narrow and width != self._composed_width and self._bindings_ready and self.is_attached:
            self.refresh(recompose=True)

    def compose(self):
        self._pending = False
        if self._bindings_ready and self.is_attached:
            self._shown = self._what_it_shows(self.screen)
        widgets = list(super().compose())
        width = self._composed_width = self.size.width
        keys = [widget for widget in widgets if isinstance(widget, FooterKey)]
        if self.compact and width and len(keys) == len(widgets):  # (no key groups: none in this app)
            yield from fitting(keys, width)
        else:
            yield from widgets

    def bindings_changed(self, screen: Screen) -> None:
        if not (screen.app.app_focus and self.is_attached and screen is self.screen):
            super().bindings_changed(screen)
            return
        if self._pending or self._what_it_shows(screen) == self._shown:
            self._bindings_ready = True  # (what the base class does first)
            return
        self._pending = True
        super().bindings_changed(screen)


HELP_ACTIONS = ("help", "app.help")  # the key that lists every other: always shown


def fitting(keys: list[FooterKey], width: int) -> list[FooterKey]:
    """The keys a compact footer `width` cells wide can show whole. The palette's key goes
    first, then the last keys (the app's, such as Quit), but never Help: it lists them all."""

    def cells(key: FooterKey) -> int:  # "k Description " in the compact style
        return cell_len(key.key_display) + 1 + cell_len(key.description) + 1

    if sum(map(cells, keys)) + 1 <= width:
        return keys
    rest = [key for key in keys if not key.has_class("-command-palette")]
    while rest and sum(map(cells, rest)) > width:
        drop = next((key for key in reversed(rest) if key.action not in HELP_ACTIONS), None)
        if drop is None:
            break
        rest.remove(drop)
    return rest
