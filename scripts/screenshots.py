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
from tui.factory import demo_keeper  # noqa: E402
from tui.services.config import Settings  # noqa: E402
from tui.services.keeper import Keeper  # noqa: E402
from tui.services.store import Store  # noqa: E402
from tui.services.vault import MemoryKeyring, Vault  # noqa: E402

OUT = ROOT / "screenshots"
SIZE = (120, 36)
NOW = 1_795_000_000  # 2026-11-18T09:46:40Z: a fixed instant, so pictures are stable
SEED = 2026


def demo_app(**kwargs) -> MomentoKeysApp:
    return MomentoKeysApp(demo_keeper(ManualClock(NOW), seed=SEED), tick=False, watch_interval=0, **kwargs)


def empty_app() -> MomentoKeysApp:
    vault = Vault(MemoryKeyring())
    vault.probe()
    keeper = Keeper(Store(":memory:"), vault, Settings(), ManualClock(NOW))
    return MomentoKeysApp(keeper, tick=False, watch_interval=0)


async def shoot(app: MomentoKeysApp, name: str, steps=None) -> Path:
    async with app.run_test(size=SIZE) as pilot:
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


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    await shoot(demo_app(), "dashboard")
    await shoot(empty_app(), "dashboard-empty")
    await shoot(demo_app(), "detail", detail)
    await shoot(demo_app(), "filter", filtered)
    await shoot(demo_app(), "import", import_dialog)
    await shoot(demo_app(), "help", help_screen)
    await shoot(demo_app(readonly=True), "readonly")


if __name__ == "__main__":
    asyncio.run(main())
