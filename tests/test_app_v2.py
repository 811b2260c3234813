"""The dashboard's side of v2 keys (Pilot, against tests.fake_account: a real local HTTP
server): S syncs the account (paging, progress, tracked keys updated, revoked ones shown as
REVOKED, untracked ones listed without a secret), X revokes (asks first, naming the key and
its role), the detail view shows the account's metadata and links a key id, the rotate
dialog rotates a v2 key and revokes the old one, and every failure of the account API is
one true sentence on screen with the app still up."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from textual.widgets import Button, Input

from tests.conftest import ENDPOINT, NOW
from tests.fake_account import OPERATOR, OWNER, VIEWER, FakeAccount
from tui.app import MomentoKeysApp, pick_acting
from tui.core.keys import inspect_key
from tui.core.model import KeyRecord, Kind, Lifecycle, Status
from tui.core.report import local_time
from tui.factory import build_app
from tui.screens.detail import DetailScreen
from tui.screens.rotate import RotateScreen
from tui.services.account import ENV_ACCOUNT_API, client_for
from tui.services.account.http import HttpAccountClient
from tui.services.issuing import Issuer
from tui.services.keeper import Keeper
from tui.widgets.confirm import ConfirmScreen

DAY = 86400
SIZE = (120, 36)


@pytest.fixture
def account(clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAccount]:
    with FakeAccount(now=clock.now, hang_limit=3) as server:
        monkeypatch.setenv(ENV_ACCOUNT_API, server.url)  # the app's client goes there (url.resolve reads it)
        yield server


@pytest.fixture
def api(account: FakeAccount) -> HttpAccountClient:
    return client_for(account.acting_key(OWNER, "setup key"), acting="setup", timeout=2, backoff=0.01)


def generate(keeper: Keeper, api: HttpAccountClient, name: str, *, role_id: str = OPERATOR,
             role_name: str | None = "Operator", lifetime: int | None = 30 * DAY) -> KeyRecord:
    issued = Issuer(keeper).generate_v2(api, name, role_id=role_id, description=name,
                                        expiry="never" if lifetime is None else NOW + lifetime, endpoint=ENDPOINT,
                                        role_name=role_name)
    assert issued.stored and issued.record is not None, issued.problem
    return issued.record


def admin(keeper: Keeper, api: HttpAccountClient) -> KeyRecord:
    """The tracked key the app acts with: an Owner key made here (its secret in the keyring)."""
    return generate(keeper, api, "admin", role_id=OWNER, role_name="Owner", lifetime=None)


def app_for(keeper: Keeper, *, readonly: bool = False) -> MomentoKeysApp:
    app = build_app(keeper, readonly=readonly, tick=False, watch_interval=0)
    app.account_options = {"timeout": 1.0, "backoff": 0.01, "max_wait": 0.2}
    return app


async def settle(pilot) -> None:
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def messages(app: MomentoKeysApp, severity: str | None = None) -> list[str]:
    return [n.message for n in app._notifications if severity is None or n.severity == severity]


def screen_text(app: MomentoKeysApp) -> str:
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


async def select(pilot, app: MomentoKeysApp, name: str) -> None:
    """Filter the table down to one key (the cursor on it)."""
    app.dashboard.action_filter()
    box = app.dashboard.query_one("#filter", Input)
    box.value = name
    await pilot.press("enter")
    await settle(pilot)
    assert app.table.current is not None and app.table.current.name == name


# ---- the acting key ----------------------------------------------------------------------------

def test_the_acting_key_is_the_selected_v2_key_else_an_owner_else_the_first():
    def v2(i: int, role: str | None = None, **kw) -> KeyRecord:
        return KeyRecord(id=i, name=f"k{i}", kind=Kind.V2, role_name=role, **{"secret_stored": True, **kw})

    keys = [KeyRecord(id=1, name="v1", kind=Kind.V1, secret_stored=True), v2(2), v2(3, "Owner"),
            v2(4, secret_stored=False), v2(5, revoked_at=NOW), v2(6, lifecycle=Lifecycle.PREVIOUS)]
    assert pick_acting(keys, prefer_id=2).id == 3        # an Owner key first...
    assert pick_acting([*keys, v2(8, "Owner")], prefer_id=8).id == 8  # ...the selected one among them
    assert pick_acting([k for k in keys if k.id != 3], prefer_id=6).id == 2  # not a current key: the first
    assert pick_acting([k for k in keys if k.id != 3] + [v2(9)], prefer_id=9).id == 9  # no Owner: the selection
    assert pick_acting(keys, prefer_id=4).id == 3        # no secret held
    assert pick_acting(keys).id == 3
    assert pick_acting(keys, avoid_id=3).id == 2         # revoking the Owner key: another acts
    assert pick_acting([v2(7)], avoid_id=7).id == 7      # unless it is the only one
    assert pick_acting(keys[:1]) is None


# ---- sync --------------------------------------------------------------------------------------

async def test_sync_250_account_keys_over_3_pages_from_the_dashboard(keeper: Keeper, api, account: FakeAccount,
                                                                      clock):
    admin(keeper, api)
    tracked = generate(keeper, api, "orders prod")
    gone = generate(keeper, api, "billing prod", role_id=VIEWER, role_name="Viewer")
    account.remove(gone.key_id)                                         # revoked in the console
    account.keys[tracked.key_id].update(expires_at_epoch_seconds=NOW + 60 * DAY, description="orders, renamed")
    setup = next(k for k, v in account.keys.items() if v["description"] == "setup key")
    account.add_keys(250 - len(account.keys), prefix="svc")            # 250 listed: 3 pages of 100
    assert len(account.keys) == 250
    clock.advance(3600)
    app = app_for(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "synced" not in app.dashboard.sub_title
        pages: list[str] = []
        original = app._sync_progress

        def progress(note: str | None) -> None:
            pages.append(note or "")
            original(note)

        app._sync_progress = progress  # type: ignore[method-assign]
        await pilot.press("S")
        await settle(pilot)
        assert len(account.calls("GET", "/api-keys")) == 3, (messages(app), pages)
        assert any("250 keys read" in p for p in pages) and any("100 keys read" in p for p in pages)
        assert pages[-1] == "" and app.sync_note is None
        [summary] = [m for m in messages(app) if m.startswith("Synced:")]
        assert "250 account keys read" in summary and "1 revoked" in summary
        assert not messages(app, "error")

        store = keeper.store
        updated = store.get(tracked.id)
        assert updated.expires_at == NOW + 60 * DAY and updated.description == "orders, renamed"
        assert updated.synced_at == NOW + 3600
        revoked = store.get(gone.id)
        assert revoked.revoked_at == NOW + 3600
        i = app.roster.index_of(gone.id)
        assert i is not None and app.roster.status(i, clock.now()) is Status.REVOKED
        listed = [r for r in store.all() if r.source == "account"]
        assert len(listed) == 248 and not any(r.secret_stored for r in listed)  # svc 0000… and the setup key
        assert {r.key_id for r in listed} >= {setup}
        assert len(app.roster) == 3 + 248
        assert app.account_synced_at == NOW + 3600
        assert f"synced {local_time(NOW + 3600)}" in app.dashboard.sub_title
        assert set(app.roles) == {OWNER, OPERATOR, VIEWER}

        # On screen: the revoked key as REVOKED, the role where the key type was, an untracked key.
        await select(pilot, app, "billing prod")
        text = screen_text(app)
        assert "⊘ REVOKED" in text and "role: Viewer" in text
        await select(pilot, app, "svc 0007")
        assert "role: Viewer" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        account_box = str(app.screen.query_one("#account").render())
        assert "metadata only" in account_box and "Viewer (role-viewer)" in account_box
    assert app.return_code in (None, 0)


async def test_sync_without_a_key_to_act_with_says_so(keeper: Keeper, account: FakeAccount):
    app = app_for(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        [error] = messages(app, "error")
        assert "no tracked v2 key holds its secret here" in error
        assert not account.requests and app.is_running and app.sync_note is None


@pytest.mark.parametrize(("fault", "said"), [
    (401, "rejected 'admin' while listing API keys (HTTP 401): the key is invalid or expired"),
    (403, "'admin' lacks auth-management access (HTTP 403 while listing API keys)"),
    (404, "found nothing to act on while listing API keys (HTTP 404)"),
    (429, "is throttling requests (HTTP 429)"),
    (500, "failed with a server error (HTTP 500) while listing API keys"),
    ("hang", "did not answer within 1 s while listing API keys"),
])
async def test_every_account_failure_is_one_true_sentence_and_the_app_stays_up(keeper: Keeper, api,
                                                                               account: FakeAccount, fault, said):
    record = admin(keeper, api)
    if fault == "hang":
        account.hang(times=5, method="GET", path="/api-keys")
    else:
        account.fail(fault, times=20, method="GET", path="/api-keys")
    app = app_for(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        [error] = messages(app, "error")
        assert said in error, error
        assert "\n" not in error and "bug" not in error and "Traceback" not in error
        assert app.is_running and app.screen is app.dashboard and app.sync_note is None
        assert "syncing" not in app.dashboard.sub_title
        assert keeper.store.get(record.id).synced_at is None  # nothing changed
        # The account answers again: the next sync works.
        account.faults.clear()
        app.clear_notifications()
        await pilot.press("S")
        await settle(pilot)
        assert any(m.startswith("Synced:") for m in messages(app)) and not messages(app, "error")


# ---- revoke ------------------------------------------------------------------------------------

async def test_revoke_with_x_asks_then_deletes_the_key_once_and_retires_it(keeper: Keeper, api,
                                                                           account: FakeAccount):
    admin(keeper, api)
    victim = generate(keeper, api, "to revoke [b]x[/b]", role_id=VIEWER, role_name="Viewer")
    app = app_for(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "to revoke [b]x[/b]")
        await pilot.press("X")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        question = app.screen.question
        assert "to revoke [b]x[/b]" in str(question) and "(role Viewer)" in str(question)  # text, not markup
        await pilot.press("n")
        await settle(pilot)
        assert not account.calls("DELETE")
        await pilot.press("X")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        [call] = account.calls("DELETE")
        assert call.path == f"/api-keys/{victim.key_id}" and victim.key_id not in account.keys
        record = keeper.store.get(victim.id)
        assert record.lifecycle is Lifecycle.RETIRED and record.revoked_at is not None
        assert any(m.startswith("Revoked 'to revoke [b]x[/b]' (role Viewer) with 'admin'") for m in messages(app))
        # Retired: nothing more to revoke, and X says so without a call.
        await pilot.press("X")
        await settle(pilot)
        assert len(account.calls("DELETE")) == 1 and not isinstance(app.screen, ConfirmScreen)
        assert any("nothing to do" in m for m in messages(app, "warning"))


async def test_revoking_a_key_already_gone_says_so_and_retires_it(keeper: Keeper, api, account: FakeAccount):
    admin(keeper, api)
    victim = generate(keeper, api, "gone already")
    account.remove(victim.key_id)
    app = app_for(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "gone already")
        await pilot.press("X")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert len(account.calls("DELETE")) == 1
        assert any("was already gone from the account" in m for m in messages(app))
        assert keeper.store.get(victim.id).lifecycle is Lifecycle.RETIRED


async def test_a_refused_revoke_is_one_sentence_and_changes_nothing(keeper: Keeper, api, account: FakeAccount):
    admin(keeper, api)
    victim = generate(keeper, api, "kept")
    account.fail(403, method="DELETE")
    app = app_for(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, app, "kept")
        await pilot.press("X", "y")
        await settle(pilot)
        [error] = messages(app, "error")
        assert "'admin' lacks auth-management access (HTTP 403" in error and error.startswith("kept: ")
        assert keeper.store.get(victim.id).lifecycle is Lifecycle.ACTIVE and app.is_running


async def test_read_only_offers_neither_sync_nor_revoke(keeper: Keeper, api, account: FakeAccount):
    admin(keeper, api)
    generate(keeper, api, "orders")
    calls = len(account.requests)
    app = app_for(keeper, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("X", "S")
        await settle(pilot)
        assert app.screen is app.dashboard and len(account.requests) == calls
        app.action_sync_account()
        await settle(pilot)
        assert len(account.requests) == calls


# ---- the detail view ---------------------------------------------------------------------------

async def test_the_detail_view_shows_the_account_metadata_and_links_a_key_id(keeper: Keeper, api,
                                                                             account: FakeAccount):
    admin(keeper, api)
    made = generate(keeper, api, "made here")
    key, info = account.issue(VIEWER, "imported one", "never")
    imported = keeper.import_key(inspect_key(key, endpoint=ENDPOINT), "imported").record
    assert imported.key_id is None
    app = app_for(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("S")  # the roles are known from here: the detail view summarizes them
        await settle(pilot)
        app.action_open_detail(made.id)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        box = str(screen.query_one("#account").render())
        for expected in (made.key_id, "Operator (role-operator)", "grants", "made here", "synced at"):
            assert expected in box, expected
        assert screen.check_action("link", ()) is False and screen.check_action("revoke", ()) is True
        await pilot.press("escape")
        await settle(pilot)

        app.action_open_detail(imported.id)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and "not linked" in str(screen.query_one("#account").render())
        assert screen.check_action("link", ()) is True and screen.check_action("revoke", ()) is False
        await pilot.press("l")
        box_input = screen.query_one("#link-input", Input)
        assert box_input.display and box_input.has_focus
        await pilot.press("escape")  # closes the box, not the screen
        assert app.screen is screen and not box_input.display
        await pilot.press("l")
        box_input.value = info["key_id"]
        await pilot.press("enter")
        await settle(pilot)
        assert keeper.store.get(imported.id).key_id == info["key_id"]
        assert screen.record.key_id == info["key_id"] and info["key_id"] in str(screen.query_one("#account").render())
        assert any(m.startswith("Linked 'imported'") for m in messages(app))


# ---- rotation ----------------------------------------------------------------------------------

async def test_the_rotate_dialog_rotates_a_v2_key_then_revokes_the_old_one(keeper: Keeper, api,
                                                                           account: FakeAccount):
    admin(keeper, api)
    old = generate(keeper, api, "orders prod")
    app = app_for(keeper)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_rotate(old.id)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RotateScreen)
        assert "role Operator" in str(screen.query_one("#rotate-body").render())
        await pilot.click("#go")
        await settle(pilot)
        [create] = account.calls("POST", "/api-keys")[-1:]
        assert create.body["role_id"] == OPERATOR and create.body["description"] == "orders prod"
        new = keeper.store.find("orders prod")
        assert new is not None and new.id != old.id and new.key_id in account.keys and new.secret_stored
        previous = keeper.store.get(old.id)
        assert previous.lifecycle is Lifecycle.PREVIOUS
        assert screen.query_one("#finish", Button).display
        await pilot.click("#finish")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and previous.name in str(app.screen.question)
        await pilot.press("y")
        await settle(pilot)
        [delete] = account.calls("DELETE")
        assert delete.path == f"/api-keys/{old.key_id}"
        assert keeper.store.get(old.id).lifecycle is Lifecycle.RETIRED
        assert any(m.startswith(f"Revoked {previous.name!r}") for m in messages(app))
        assert not messages(app, "error")
