"""The summary line repaints only up to its last changed character, and the screen
always shows exactly its current text."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.widgets.summary import SummaryLine


class One(App):
    def compose(self) -> ComposeResult:
        yield SummaryLine(id="summary")


def line(app: App) -> str:
    return "".join(seg.text for seg in app.screen._compositor.render_strips()[0]).rstrip()


async def test_the_screen_shows_the_current_parts_and_only_the_changed_start_is_repainted():
    app = One()
    async with app.run_test(size=(80, 3)) as pilot:
        summary = app.query_one(SummaryLine)
        summary.set_parts([("10,000 keys", False), ("3 reminders due", True), ("✖ 725 expired", False),
                           ("sorted by expiry", False)])
        await pilot.pause()
        assert line(app) == " 10,000 keys · 3 reminders due · ✖ 725 expired · sorted by expiry"
        summary.set_parts([("10,000 keys", False), ("3 reminders due", True), ("✖ 726 expired", False),
                           ("sorted by expiry", False)])
        dirty = list(summary._repaint_regions)
        assert [(r.x, r.width) for r in dirty] == [(0, len(" 10,000 keys · 3 reminders due · ✖ 726"))]
        await pilot.pause()
        assert line(app) == " 10,000 keys · 3 reminders due · ✖ 726 expired · sorted by expiry"
        summary.set_parts([("9,999 keys", False), ("sorted by name", False)])  # shorter: the tail is cleared
        await pilot.pause()
        assert line(app) == " 9,999 keys · sorted by name"
        summary.set_parts([("9,999 keys", False), ("sorted by name", False)])  # unchanged: nothing to paint
        assert not summary._repaint_regions


async def test_parts_that_do_not_fit_are_dropped_from_the_end():
    app = One()
    async with app.run_test(size=(40, 3)) as pilot:
        summary = app.query_one(SummaryLine)
        summary.set_parts([("10,000 keys", False), ("3 reminders due", True), ("✖ 725 expired", False),
                           ("sorted by expiry", False)])
        await pilot.pause()
        assert line(app) == " 10,000 keys · 3 reminders due · …"
        await pilot.resize_terminal(100, 3)
        await pilot.pause()
        assert line(app) == " 10,000 keys · 3 reminders due · ✖ 725 expired · sorted by expiry"
