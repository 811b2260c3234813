"""Regenerate screenshots/ from the real app on demo data (no real secrets).

    .venv/bin/python scripts/screenshots.py

Every picture comes from `App.run_test()` + `save_screenshot()` on the demo
keeper (in-memory database and keyring, throwaway keys, a fixed clock), so
anyone can rerun it and get the same pictures.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

os.environ["TZ"] = "UTC"
time.tzset()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.widgets import Input  # noqa: E402

from tui.app import MomentoKeysApp  # noqa: E402
from tui.core.clock import ManualClock  # noqa: E402
from tui.factory import build_app, build_demo_app, demo_keeper  # noqa: E402
from tui.services.config import Settings  # noqa: E402
from tui.services.keeper import Keeper  # noqa: E402
from tui.services.store import Store  # noqa: E402
from tui.services.vault import MemoryKeyring, Vault  # noqa: E402

OUT = ROOT / "screenshots"
SIZE = (120, 36)
NOW = 1_795_000_000  # 2026-11-18T09:46:40Z: a fixed instant, so pictures are stable
SEED = 2026


def demo_app(*, readonly: bool = False) -> MomentoKeysApp:
    return build_demo_app(ManualClock(NOW), seed=SEED, readonly=readonly, tick=False, watch_interval=0)


def empty_app() -> MomentoKeysApp:
    vault = Vault(MemoryKeyring())
    vault.probe()
    keeper = Keeper(Store(":memory:"), vault, Settings(), ManualClock(NOW))
    return build_app(keeper, tick=False, watch_interval=0)


async def shoot(app: MomentoKeysApp, name: str, steps=None, size: tuple[int, int] = SIZE) -> Path:
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if steps:
            await steps(pilot, app)
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
        app.clear_notifications()
        await pilot.pause()
        path = OUT / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
    print(f"wrote {path.relative_to(ROOT)}")
    return path


async def detail(pilot, app):
    await pilot.press("down", "down", "down", "enter")


async def filtered(pilot, app):
    await pilot.press("slash", *"prod")


async def import_dialog(pilot, app):
    await pilot.press("i")
    await pilot.pause()
    dialog = app.screen
    from tui.demo import fake_v1_key

    dialog.query_one("#key", Input).value = fake_v1_key(
        "cell-1-eu-west-1-1.prod.a.momentohq.com", issued_at=NOW - 3600, expires_at=NOW + 30 * 86400
    )
    dialog.query_one("#name", Input).value = "payments prod"
    dialog.query_one("#notes", Input).value = "Vault path secret/payments/momento"


async def help_screen(pilot, app):
    await pilot.press("question_mark")


# ---- the wizard: the same steps and stubbed calls as its snapshot tests (no real keys) ---------

def wizard_presses(keys: tuple[str, ...]):
    from tests.test_snapshots import _settle

    async def steps(pilot, app):
        await _settle(pilot)
        for key in keys:
            await pilot.press(key)
            await _settle(pilot)
    return steps


async def reminders(pilot, app):
    await pilot.press("r")


async def timeline(pilot, app):
    await pilot.press("t")


async def rotate_manual(pilot, app):
    await pilot.press("end", "R")


def rotation_app(server) -> MomentoKeysApp:
    from tui.core.keys import inspect_text
    from tui.core.model import KeyType
    from tui.demo import console_json
    from tui.services.momento import MomentoApi

    keeper = demo_keeper(ManualClock(NOW), seed=SEED)
    key, refresh = server.issue_key(valid_for_seconds=2 * 86400)
    keeper.import_key(inspect_text(console_json(key, NOW + 2 * 86400, refresh)), "payments prod",
                      key_type=KeyType.FINE_GRAINED, notes="ECS task payments-api")
    return build_app(keeper, tick=False, watch_interval=0,
                     api_factory=lambda: MomentoApi(override=server.override, timeout=5, retries=1))


async def _to_row(pilot, app, name: str) -> None:
    names = [r.name for r in app.table.rows]
    app.table.cursor = names.index(name)
    await pilot.pause()


async def rotation_steps(pilot, app):
    await _to_row(pilot, app, "payments prod")
    await pilot.press("R")
    await pilot.pause()
    await pilot.click("#go")
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def rotation_lineage(pilot, app):
    await rotation_steps(pilot, app)
    await pilot.press("escape")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await _to_row(pilot, app, "payments prod")
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.screen.query_one("#lineage").scroll_visible(animate=False)


# ---- v2 keys: a synced dashboard, against a local fake account API (no real keys) --------------

def synced_app(server) -> MomentoKeysApp:
    """The demo keys, v2 keys made with roles (one since revoked in the console), and the
    account synced: the same data as the snapshot test of it (tests/test_snapshots.py)."""
    from tests.test_snapshots import synced_demo_keeper

    return build_app(synced_demo_keeper(server, ManualClock(NOW)), tick=False, watch_interval=0)


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    await shoot(demo_app(), "dashboard")
    await shoot(empty_app(), "dashboard-empty")
    from tests.test_snapshots_dashboard import demo_app as rotated_demo_app

    await shoot(rotated_demo_app(rotated=True), "dashboard-wide", size=(200, 50))  # lifecycle, tags and notes
    await shoot(demo_app(), "dashboard-narrow", size=(60, 20))
    await shoot(demo_app(), "detail", detail)
    await shoot(demo_app(), "filter", filtered)
    await shoot(demo_app(), "import", import_dialog)
    await shoot(demo_app(), "help", help_screen)
    await shoot(demo_app(readonly=True), "readonly")
    await shoot(demo_app(), "reminders", reminders)
    await shoot(demo_app(), "timeline", timeline)
    await shoot(demo_app(), "rotate-manual", rotate_manual)
    import pytest

    from tests.test_snapshots import WIZARD_STEPS
    from tests.test_snapshots import wizard_app as snapshot_wizard_app

    patches = pytest.MonkeyPatch()
    try:
        for name, keys in WIZARD_STEPS.items():
            await shoot(snapshot_wizard_app(patches), f"wizard-{name.replace('_', '-')}", wizard_presses(keys))
    finally:
        patches.undo()
    from tests.fake_momento import FakeMomento

    with FakeMomento(clock=lambda: NOW) as server:
        await shoot(rotation_app(server), "rotation", rotation_steps)
        await shoot(rotation_app(server), "rotation-lineage", rotation_lineage)
    from tests.fake_account import FakeAccount

    with FakeAccount(now=lambda: NOW) as account:
        await shoot(synced_app(account), "dashboard-synced")


if __name__ == "__main__":
    asyncio.run(main())
