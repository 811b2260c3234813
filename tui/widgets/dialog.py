"""The box of a dialog and its row of buttons.

The box scrolls when the terminal is too small for the dialog, with its buttons pinned at
its foot (docked, see app.tcss), so they are always on screen, even at 60x20. The box is
never a stop of Tab (a focused field is scrolled into view). Textual orders Tab by where
widgets are on screen; the pinned buttons, drawn above fields scrolled out of view, still
come last: after the fields, as they do in the dialog's reading order.
"""

from __future__ import annotations

from typing import Any

from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Offset, Region


class DialogBox(VerticalScroll, can_focus=False):
    def scroll_to_region(self, region: Region, **kwargs: Any) -> Offset:
        # Scrolled only as far as a focused field needs, never to centre it: Textual centres a
        # newly focused widget it deems out of view, which, asked before the dialog's first
        # layout, scrolled its title away at 60x20.
        kwargs["center"] = False
        kwargs["animate"] = False
        return super().scroll_to_region(region, **kwargs)


class DialogButtons(Horizontal):
    @property
    def _focus_sort_key(self) -> tuple[int, int]:  # (Textual's: (y, x) of the widget; textual<9 is pinned)
        return (1 << 30, 0)
