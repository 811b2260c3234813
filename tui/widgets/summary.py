"""The dashboard's one-line summary (counts per band, reminders due, filter, sort).

With many keys some band count changes nearly every second, so this line is
repainted often: it builds its single strip directly from a few segments
instead of going through markup parsing and text layout each time.

When the line is too narrow, parts give way by priority (`Part.keep`): first
the least important take their short form, then they are dropped ("…" where
they were), so what matters most (with a filter on: how many keys it shows,
and the sort) is the last to go.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

SEPARATOR = " · "


class Part(NamedTuple):
    """One part of the line."""

    text: str
    bold: bool = False
    keep: int = 0             # the higher, the longer it stays on a narrow line (ties: the last goes first)
    short: str | None = None  # what it shows before anything is dropped for want of room


Shown = tuple[tuple[str, bool], ...]  # what the line shows: (text, bold) parts


class SummaryLine(Widget):
    """One line of parts joined by " · "; a part may be bold."""

    DEFAULT_CSS = """
    SummaryLine { height: 1; background: $panel; color: $text-muted; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.parts: tuple[Part, ...] = ()
        self._fitted: dict[tuple[tuple[Part, ...], int], Shown] = {}  # the last two lines laid out

    @property
    def text(self) -> str:
        return SEPARATOR.join(text for text, *_ in self.parts)

    def _fitting(self, parts: tuple[Part, ...]) -> Shown:
        """What of the parts fits the width: the least important (lowest `keep`) take
        their short form first, then are dropped; "…" stands where some were dropped."""
        width = self.size.width
        fitted = self._fitted.get((parts, width))
        if fitted is None:
            fitted = _fit_parts(parts, width)
            if len(self._fitted) >= 2:
                del self._fitted[next(iter(self._fitted))]
            self._fitted[(parts, width)] = fitted
        return fitted

    def set_parts(self, parts: list[Part] | list[tuple[str, bool]]) -> None:
        """Show these parts (or (text, bold) pairs). Repaints only up to the last character
        that changed: Textual sends a changed region from the widget's left edge, so a
        count that moves sends the line's start, not all of it."""
        new = tuple(p if isinstance(p, Part) else Part(*p) for p in parts)
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


def _fit_parts(parts: tuple[Part, ...], width: int) -> Shown:
    shown: list[tuple[str, bool] | None] = [(p.text, p.bold) for p in parts]

    def line() -> Shown:  # one "…" where the first part was dropped says some were: room is short
        out: list[tuple[str, bool]] = []
        marked = False
        for part in shown:
            if part is not None:
                out.append(part)
            elif not marked:
                out.append(("…", False))
                marked = True
        return tuple(out)

    def fits(candidate: Shown) -> bool:
        return cell_len(" " + SEPARATOR.join(t for t, _ in candidate)) <= width

    current = line()
    if not width or fits(current):
        return current
    # The least important first; of equals, the last.
    order = sorted(range(len(parts)), key=lambda n: (parts[n].keep, -n))
    for n in order:
        short = parts[n].short
        if short is not None:
            shown[n] = (short, parts[n].bold)
            if fits(current := line()):
                return current
    for n in order[:-1]:  # (the most important part stays, cut if need be)
        shown[n] = None
        if fits(current := line()):
            break
    else:
        return current
    # Dropping one may have freed room for one dropped before it (the key count goes, the
    # reminders due fit again): the most important back first, in full or short, and none
    # less important while a more important one stays out.
    for n in reversed(order):
        if shown[n] is None:
            for form in (parts[n].text, parts[n].short):
                if form is not None:
                    shown[n] = (form, parts[n].bold)
                    if fits(line()):
                        break
                    shown[n] = None
            if shown[n] is None:
                break
    return line()
