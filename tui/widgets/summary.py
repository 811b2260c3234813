"""The dashboard's one-line summary (counts per band, reminders due, filter, sort).

With many keys some band count changes nearly every second, so this line is
repainted often: it builds its single strip directly from a few segments
instead of going through markup parsing and text layout each time.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

SEPARATOR = " · "


class SummaryLine(Widget):
    """One line of parts joined by " · "; a part may be bold."""

    DEFAULT_CSS = """
    SummaryLine { height: 1; background: $panel; color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.parts: tuple[tuple[str, bool], ...] = ()

    @property
    def text(self) -> str:
        return SEPARATOR.join(text for text, _ in self.parts)

    def set_parts(self, parts: list[tuple[str, bool]]) -> None:
        """Show these (text, bold) parts; repaints only if they changed."""
        new = tuple(parts)
        if new != self.parts:
            self.parts = new
            self.refresh()

    def render(self) -> str:  # what the line says (also for tests and screen readers of the DOM)
        return self.text

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self.rich_style
        if y != 0:
            return Strip.blank(width, style)
        bold = style + Style(bold=True)
        segments = [Segment(" ", style)]
        for n, (text, strong) in enumerate(self.parts):
            if n:
                segments.append(Segment(SEPARATOR, style))
            segments.append(Segment(text, bold if strong else style))
        return Strip(segments).adjust_cell_length(width, style)
