"""The dashboard's one-line summary (counts per band, reminders due, filter, sort).

With many keys some band count changes nearly every second, so this line is
repainted often: it builds its single strip directly from a few segments
instead of going through markup parsing and text layout each time.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
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

    def _fitting(self, parts: tuple[tuple[str, bool], ...]) -> tuple[tuple[str, bool], ...]:
        """The parts that fit the width, dropping the last ones first (the most
        important come first); "…" says some were dropped."""
        width = self.size.width

        def fits(candidate: tuple) -> bool:
            return cell_len(" " + SEPARATOR.join(t for t, _ in candidate)) <= width

        if not width or fits(parts):
            return parts
        for keep in range(len(parts) - 1, 0, -1):
            candidate = (*parts[:keep], ("…", False))
            if fits(candidate):
                return candidate
        return parts[:1]

    def set_parts(self, parts: list[tuple[str, bool]]) -> None:
        """Show these (text, bold) parts. Repaints only up to the last character that
        changed: Textual sends a changed region from the widget's left edge, so a
        count that moves sends the line's start, not all of it."""
        new = tuple(parts)
        if new == self.parts:
            return
        old_text = " " + SEPARATOR.join(t for t, _ in self._fitting(self.parts))
        self.parts = new
        new_text = " " + SEPARATOR.join(t for t, _ in self._fitting(new))
        if old_text == new_text:
            return
        if len(old_text) != len(new_text) or not self.size.width:
            end = max(len(old_text), len(new_text))
        else:
            end = next(i for i in range(len(new_text) - 1, -1, -1) if old_text[i] != new_text[i]) + 1
        cells = cell_len(max(old_text, new_text, key=len)[:end])
        self.refresh(Region(0, 0, min(cells, self.size.width) or self.size.width, 1))

    def render(self) -> str:  # what the line says (also for tests and screen readers of the DOM)
        return self.text

    def on_resize(self) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self.rich_style
        if y != 0:
            return Strip.blank(width, style)
        bold = style + Style(bold=True)
        segments: list[Segment] = []
        plain = " "  # runs of plain text are one segment: one colour code each
        for n, (text, strong) in enumerate(self._fitting(self.parts)):
            if n:
                plain += SEPARATOR
            if strong:
                segments += [Segment(plain, style), Segment(text, bold)]
                plain = ""
            else:
                plain += text
        segments.append(Segment(plain, style))
        return Strip(segments).adjust_cell_length(width, style)
