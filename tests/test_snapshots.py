"""Snapshot tests: the screens as a user sees them (demo data, fixed clock, no real secrets).

Update after an intended change with: pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.conftest import ENDPOINT
from tests.fake_account import OPERATOR, OWNER, VIEWER, FakeAccount
from tui.app import MomentoKeysApp
from tui.core.clock import ManualClock
from tui.factory import demo_keeper
from tui.services.config import Settings
from tui.services.keeper import Keeper
from tui.services.store import Store
from tui.services.vault import MemoryKeyring, Vault

SIZE = (120, 36)
NOW = 1_795_000_000
SEED = 2026
DAY = 86400


def demo_app(**kw) -> MomentoKeysApp:
    return MomentoKeysApp(demo_keeper(ManualClock(NOW), seed=SEED), tick=False, watch_interval=0, **kw)


async def _settle(pilot) -> None:
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.clear_notifications()
    # A text field's cursor blinks: held on, or the picture depends on when it is taken
    # (the review step's snapshot failed under load with its cursor in the off phase).
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def test_dashboard(snap_compare):
    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=_settle)


def test_dashboard_empty(snap_compare):
    vault = Vault(MemoryKeyring())
    vault.probe()
    app = MomentoKeysApp(Keeper(Store(":memory:"), vault, Settings(), ManualClock(NOW)), tick=False, watch_interval=0)
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_detail(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("down", "down", "down", "enter")
        await _settle(pilot)

    assert snap_compare(demo_app(), terminal_size=SIZE, run_before=run_before)


def test_readonly(snap_compare):
    assert snap_compare(demo_app(readonly=True), terminal_size=SIZE, run_before=_settle)


def test_narrow_terminal_drops_columns(snap_compare):
    assert snap_compare(demo_app(), terminal_size=(70, 24), run_before=_settle)


def synced_demo_keeper(server: FakeAccount, clock: ManualClock) -> Keeper:
    """The demo keys, three v2 keys made through the (fake, local) account API with their
    roles, one of them since revoked in the console, and the account synced: its other keys
    are listed without their secrets. (scripts/screenshots.py builds the same.)"""
    from tui.services.account import client_for
    from tui.services.issuing import Issuer
    from tui.services.sync import sync

    keeper = demo_keeper(clock, seed=SEED)
    api = client_for(server.acting_key(OWNER, "ci bootstrap"), acting="ci bootstrap", base_url=server.url,
                     timeout=5)
    made = {}
    for name, role_id, role_name, life in [("platform admin", OWNER, "Owner", None),
                                           ("orders-api v2", OPERATOR, "Operator", 90 * DAY),
                                           ("reporting v2", VIEWER, "Viewer", 30 * DAY)]:
        issued = Issuer(keeper).generate_v2(api, name, role_id=role_id, description=name, endpoint=ENDPOINT,
                                            expiry="never" if life is None else NOW - 20 * DAY + life,
                                            role_name=role_name)
        assert issued.record is not None
        made[name] = issued.record
    server.remove(made["reporting v2"].key_id)  # revoked in the console
    server.add_keys(3, role_id=VIEWER, prefix="grafana", lifetime=12 * DAY, issued_at=NOW - 10 * DAY)
    sync(keeper, api)
    api.close()
    return keeper


def test_synced_dashboard(snap_compare):
    clock = ManualClock(NOW)
    with FakeAccount(now=clock.now) as server:
        app = MomentoKeysApp(synced_demo_keeper(server, clock), tick=False, watch_interval=0)
        assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


# ==== The generation wizard: one snapshot per step (v2 and v1 paths; Momento and the account API stubbed) ====

WIZARD_CACHES = ("orders", "payments", "sessions")
WIZARD_CELL = "cell-4-us-west-2-1.prod.a.momentohq.com"


def _wizard_key() -> str:
    """A fixed (fake) v1 key, so the masked key on the result step never changes."""
    import base64
    import json

    import jwt

    from tests.conftest import SECRETS_MADE

    raw = jwt.encode({"sub": "snapshot", "ver": 1, "p": "fixed", "iat": NOW, "exp": NOW + 30 * 86400},
                     "snapshot-signer", algorithm="HS256")
    key = base64.b64encode(json.dumps({"endpoint": WIZARD_CELL, "api_key": raw}).encode()).decode()
    SECRETS_MADE.add(key)
    return key


class _StubMomento:
    def verify(self, api_key, endpoint):
        from tui.services.momento import VerifyResult

        return VerifyResult("valid", "Momento accepted the key; it can list caches (3 caches).",
                            caches=WIZARD_CACHES)

    def generate_api_key(self, secret, endpoint, grants, valid_for, description=None):
        from tui.services.momento import GeneratedKey

        return GeneratedKey(_wizard_key(), "refresh-token-snapshot", endpoint, NOW + (valid_for or 0))


class _StubAccount:
    def list_roles(self, type=None):
        from tests.fake_account import SYSTEM_ROLES
        from tui.core.roles import Role

        return [Role(**role) for role in SYSTEM_ROLES]


def wizard_app(monkeypatch) -> MomentoKeysApp:
    from pathlib import Path

    import tui.screens.wizard.steps.result as result
    import tui.screens.wizard.steps.role as role

    monkeypatch.setattr(role, "account_client", lambda services, state: _StubAccount())
    monkeypatch.setattr(result, "downloads_folder", lambda db_path: Path("/home/you/Downloads"))
    return MomentoKeysApp(demo_keeper(ManualClock(NOW), seed=SEED), tick=False, watch_interval=0,
                          api_factory=_StubMomento)


V2_PATH = ("n", "enter", "enter")                                    # → role
V1_PATH = ("n", "enter", "down", "enter", "enter", "enter")          # → permissions
WIZARD_STEPS = {
    "sign_in": ("n",),
    "key_type": ("n", "enter"),
    "role": V2_PATH,
    "endpoint_v2": (*V2_PATH, "enter"),
    "expiration": (*V2_PATH, "enter", "enter"),
    "review_v2": (*V2_PATH, "enter", "enter", "enter"),
    "region_v1": ("n", "enter", "down", "enter"),
    "permissions": V1_PATH,
    "review": (*V1_PATH, "o", "r", "right", "enter"),
    "result": (*V1_PATH, "o", "r", "right", "enter", "enter"),
    "secure": (*V1_PATH, "o", "r", "right", "enter", "enter", "ctrl+n"),
}


@pytest.mark.parametrize("step", list(WIZARD_STEPS))
def test_wizard_step(snap_compare, monkeypatch, step):
    async def run_before(pilot):
        await _settle(pilot)
        for key in WIZARD_STEPS[step]:
            await pilot.press(key)
            await _settle(pilot)
        await _settle(pilot)
        if step == "role":
            # The chosen role's summary is written after the refresh that follows the roles'
            # arrival (call_after_refresh): wait for it, or the picture depends on timing.
            from tui.screens.wizard.steps.base import Note

            note = pilot.app.screen.query_one("#role-note", Note)
            for _ in range(200):
                focused = pilot.app.focused
                if (str(note.render()).strip() and note.size.height > 0 and focused is not None
                        and focused.id == "role"):
                    break  # (the roles also take the focus after that refresh)
                await pilot.pause(0.02)
            await pilot.pause()

    assert snap_compare(wizard_app(monkeypatch), terminal_size=SIZE, run_before=run_before)
