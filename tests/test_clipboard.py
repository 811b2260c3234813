"""The clipboard clear outlives the app: a detached process clears the key after the delay,
only if the clipboard still holds it (proved by reading it back)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tui.services.clipboard import SystemClipboard

FAKE_XCLIP = """#!/bin/sh
# A stand-in for xclip that keeps the clipboard in a file.
if [ "$3" = "-o" ]; then cat "$CLIP_FILE" 2>/dev/null; else cat > "$CLIP_FILE"; fi
"""


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[SystemClipboard, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "xclip"
    tool.write_text(FAKE_XCLIP)
    tool.chmod(0o755)
    clip = tmp_path / "clipboard"
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("CLIP_FILE", str(clip))
    return SystemClipboard(), clip


def wait_for(predicate, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_key_is_cleared_after_the_app_is_gone(board) -> None:
    clipboard, clip = board
    assert clipboard.copy("the-secret-key")
    assert clipboard.clear_later("the-secret-key", 0.3)
    del clipboard  # nothing of the app is left: only the detached process can clear it
    assert wait_for(lambda: clip.exists() and clip.read_text() == "")


def test_something_copied_since_is_left_alone(board) -> None:
    clipboard, clip = board
    clipboard.copy("the-secret-key")
    assert clipboard.clear_later("the-secret-key", 0.5)
    clipboard.copy("a shopping list")
    time.sleep(2.0)
    assert clip.read_text() == "a shopping list"
    assert clipboard.clear_if_holds("the-secret-key").startswith("left alone")


def test_without_a_way_to_read_back_nothing_claims_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    clipboard = SystemClipboard()
    clipboard.tools = (["true"], [])  # like Windows' clip: write-only
    assert clipboard.clear_later("k", 1) is False
    assert clipboard.clear_if_holds("k").startswith("not cleared")


async def test_a_key_copied_in_the_dashboard_is_cleared_after_the_app_quits(board, store, vault, clock) -> None:
    """Copy, then quit at once: the detached clear still empties the clipboard (the in-app timer
    died with the app, and the key once stayed in the clipboard for ever)."""
    from tests.conftest import make_v1
    from tui.app import MomentoKeysApp
    from tui.core.keys import inspect_text
    from tui.services.config import Settings
    from tui.services.keeper import Keeper

    _, clip = board
    keeper = Keeper(store, vault, Settings(clipboard_clear_seconds=1), clock)
    keeper.import_key(inspect_text(make_v1()), "orders")
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("c")
        assert wait_for(lambda: clip.exists() and clip.read_text().startswith("eyJ"), 5)
        await pilot.pause(0.2)
        assert any("even if you quit" in str(n.message) for n in app._notifications)
    assert clip.read_text().startswith("eyJ")  # the app is gone; the key is still there...
    assert wait_for(lambda: clip.read_text() == "", 10)  # ...until the detached clear runs
