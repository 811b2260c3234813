"""The box of a dialog and its row of buttons.

The box scrolls when the terminal is too small for the dialog, with its buttons pinned at
its foot (docked, see app.tcss), so they are always on screen, even at 60x20. The box is
never a stop of Tab (a focused field is scrolled into view). Textual orders Tab by where
widgets are on screen; the pinned buttons, drawn above fields scrolled out of view, still
come last: after the fields, as they do in the dialog's reading order.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Offset, Region
from textual.widget import Widget


class DialogBox(VerticalScroll, can_focus=False):
    def scroll_to_region(self, region: Region, **kwargs: Any) -> Offset:
        # Scrolled only as far as a focused field needs, never to centre it: Textual centres a
        # newly focused widget it deems out of view, which, asked before the dialog's first
        # layout, scrolled its title away at 60x20.
        kwargs["center"] = False
        kwargs["animate"] = False
        return super().scroll_to_region(region, **kwargs)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.call_after_refresh(self._clear_of_buttons)

    def _clear_of_buttons(self) -> None:
        """The buttons pinned at the foot cover the content's last lines: a focused field
        under them is scrolled up above them (it took what was typed, unseen)."""
        focused = self.screen.focused
        if focused is None:
            return
        for pinned in self.query_children(DialogButtons):
            if not pinned.display or focused in pinned.query("*"):
                continue
            overlap = focused.region.bottom - (pinned.region.y - pinned.styles.margin.top)
            if overlap > 0 and focused.region.height:
                self.scroll_relative(y=overlap, animate=False, immediate=True)


class DialogButtons(Horizontal):
    """The row of a dialog's buttons. When they don't fit side by side (a narrow terminal, long
    labels), they stack, one compact line each, so that no label is cut."""

    DEFAULT_CSS = """
    DialogButtons.-stacked { layout: vertical; height: auto; }
    DialogButtons.-stacked Button { width: 100%; margin-left: 0; }
    """

    @property
    def _focus_sort_key(self) -> tuple[int, int]:  # (Textual's: (y, x) of the widget; textual<9 is pinned)
        return (1 << 30, 0)

    def on_resize(self) -> None:
        self.refit()

    def refit(self) -> None:
        """Side by side or stacked, for the buttons shown now (call after showing or hiding one)."""
        from rich.cells import cell_len
        from textual.widgets import Button

        shown = [b for b in self.query_children(Button) if b.display]
        # A button: its label, padding and border (at least 16 cells, Textual's minimum), and a gap.
        need = sum(max(16, cell_len(str(b.label)) + 4) + 2 for b in shown)
        width = self.size.width or (self.parent.size.width if isinstance(self.parent, Widget) else 0)
        stacked = bool(width) and need > width
        if stacked != self.has_class("-stacked"):
            self.set_class(stacked, "-stacked")
            for button in self.query_children(Button):
                button.compact = stacked
