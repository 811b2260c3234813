"""Snapshot tests of the panels: reminders, timeline and help (demo data, a fixed clock, the
settings file's path fixed, no real secrets), at 120×36 and at 60×20.

Update after an intended change with: pytest tests/test_snapshots_panels.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_snapshots import _settle
from tui.app import MomentoKeysApp
from tui.core.clock import ManualClock
from tui.core.model import Thresholds
from tui.factory import demo_keeper
from tui.services.config import Settings

SIZE = (120, 36)
NARROW = (60, 20)
NOW = 1_795_000_000
SEED = 2026
DAY = 86400
CONFIG = "/home/you/.config/momento-keys/config.toml"


@pytest.fixture(autouse=True)
def fixed_config_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The help names the settings file: the same path on every machine."""
    monkeypatch.setenv("MOMENTO_KEYS_CONFIG", CONFIG)


def demo_app(settings: Settings | None = None, **kw) -> MomentoKeysApp:
    return MomentoKeysApp(demo_keeper(ManualClock(NOW), seed=SEED, settings=settings), tick=False, watch_interval=0,
                          **kw)


def pressing(*keys: str):
    async def run_before(pilot) -> None:
        await _settle(pilot)
        for key in keys:
            await pilot.press(key)
            await _settle(pilot)
        await _settle(pilot)

    return run_before


def test_reminders_panel(snap_compare):
    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=pressing("r"))


def test_reminders_panel_narrow(snap_compare):
    assert snap_compare(demo_app(), terminal_size=NARROW, run_before=pressing("r"))


def test_reminders_panel_after_a_dismissal_and_its_undo_toast(snap_compare):
    """The second row dismissed then brought back: the panel as before, the undo's toast."""

    async def run_before(pilot) -> None:
        await pressing("r", "down", "x")(pilot)
        await pilot.press("u")
        for _ in range(2):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=run_before)


def test_timeline(snap_compare):
    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=pressing("t"))


def test_timeline_narrow(snap_compare):
    assert snap_compare(demo_app(), terminal_size=NARROW, run_before=pressing("t"))


def test_help(snap_compare):
    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=pressing("question_mark"))


def test_help_narrow(snap_compare):
    assert snap_compare(demo_app(), terminal_size=NARROW, run_before=pressing("question_mark"))


def test_help_with_remapped_keys_and_thresholds(snap_compare):
    """Keys remapped in [bindings] (one id mistyped) and thresholds set: the help shows them."""
    settings = Settings(thresholds=Thresholds(warning_seconds=21 * DAY, warning_fraction=0.75,
                                              critical_seconds=5 * DAY, critical_fraction=0.95),
                        bindings={"filter": "f", "new_key": "ctrl+n", "fitler": "g"}, unknown_bindings=("fitler",),
                        source=Path(CONFIG))
    assert snap_compare(demo_app(settings), terminal_size=SIZE, run_before=pressing("question_mark"))


def test_dashboard_header_with_the_endpoint_override(snap_compare):
    assert snap_compare(demo_app(endpoint_override="127.0.0.1:9090"), terminal_size=SIZE, run_before=pressing())
