"""The wizard as a new user meets it: the v2 path against the local account API, the
"read-only key for cache orders, 30 days" task counted key by key, every error visible
beside its field, and `q` that never quits from inside the wizard."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from textual.widgets import Button, Checkbox, ContentSwitcher, Input, Select

from tests.fake_account import OPERATOR, FakeAccount
from tests.fake_momento import FakeMomento
from tests.test_wizard import at, error_text, make_app, open_wizard, pick, settle, track_superuser
from tui.core.keys import inspect_text
from tui.core.model import Kind
from tui.screens.wizard import WizardScreen
from tui.screens.wizard.steps import (
    ExpirationStep,
    KeyTypeStep,
    PermissionsStep,
    RegionStep,
    ResultStep,
    ReviewStep,
    RoleStep,
    SecureStep,
    SignInStep,
)
from tui.services.account import ENV_ACCOUNT_API
from tui.services.keeper import Keeper

DAY = 86400
SIZE = (120, 36)
CELL = "cell-4-us-west-2-1.prod.a.momentohq.com"


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAccount]:
    with FakeAccount() as server:
        monkeypatch.setenv(ENV_ACCOUNT_API, server.url)
        yield server


class Keys:
    """Presses keys through Pilot and counts every one (a typed word counts each character)."""

    def __init__(self, pilot) -> None:
        self.pilot = pilot
        self.count = 0

    async def press(self, *keys: str) -> WizardScreen:
        for key in keys:
            self.count += 1
            await self.pilot.press(key)
            await settle(self.pilot)
        return self.pilot.app.screen

    async def type(self, text: str) -> WizardScreen:
        return await self.press(*text)


# ---- v2 ----------------------------------------------------------------------------------------

async def test_v2_key_end_to_end_against_the_account_api(wkeeper: Keeper, fake_momento: FakeMomento,
                                                         account: FakeAccount):
    acting = account.acting_key()
    wkeeper.import_key(inspect_text(acting, endpoint=CELL), "ops v2")
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        keys = Keys(pilot)
        w = await open_wizard(pilot)
        assert "ops v2" in str(w.query_one("#acting RadioButton").label)
        w = await keys.press("enter")
        assert at(w, KeyTypeStep) and w.state.acting_v2
        labels = [str(b.label) for b in w.query("#key-type RadioButton")]
        assert labels[0].startswith("v2 API key (recommended)")
        assert "deprecated" in labels[1] and "Short-lived token" in labels[2]
        w = await keys.press("enter")
        assert at(w, RoleStep), error_text(w)
        names = [str(b.label).split(" (")[0] for b in w.query("#role RadioButton")]
        assert names == ["Owner", "Operator", "Viewer"]     # system roles first, in Momento's order
        assert "caches: read, list on *" in str(w.query_one("#role RadioButton:last-of-type").label)
        assert w.query_one("#role").pressed_button.name == "role-viewer"  # the least, unless chosen
        assert app.focused is w.query_one("#role")
        w = await keys.press("up")                            # Operator
        assert "Operator" in str(w.query_one("#role-note").render())
        w = await keys.press("tab")
        assert app.focused is w.query_one("#description")
        w = await keys.type("orders api")
        w = await keys.press("enter")
        assert at(w, RegionStep) and app.focused is w.query_one("#region")
        assert "every region" in str(w.query_one("#region-explain").render())
        w = await keys.press("enter")                         # the acting key's endpoint
        assert at(w, ExpirationStep)
        w = await keys.press("enter")                         # 30 days
        assert at(w, ReviewStep), error_text(w)
        review = str(w.query_one("#review").render())
        assert "Operator" in review and "orders api" in review
        assert w.query_one("#new-name", Input).value == "orders-api"
        w = await keys.press("enter")                         # Generate
        await settle(pilot)
        assert at(w, ResultStep), error_text(w)
        result = str(w.query_one("#result").render())
        assert "refresh" not in result and "Operator" in result
        assert "refresh token" not in str(w.query_one("#store-status").render())
        w = await keys.press("ctrl+n")
        assert at(w, SecureStep)
        await keys.press("enter")
        assert not isinstance(app.screen, WizardScreen)
        assert keys.count <= 30
    [post] = account.calls("POST", "/api-keys")
    assert set(post.body) == {"role_id", "description", "expiry"}
    assert post.body["role_id"] == OPERATOR and post.body["description"] == "orders api"
    assert abs(post.body["expiry"] - (time.time() + 30 * DAY)) < 120
    assert post.headers["Authorization"] == acting
    record = wkeeper.store.find("orders-api")
    assert record is not None and record.kind is Kind.V2 and record.secret_stored
    assert (record.role_id, record.role_name, record.description) == (OPERATOR, "Operator", "orders api")
    assert record.key_id is not None and record.key_id in account.keys
    assert record.endpoint == CELL
    assert record.expires_at == account.keys[record.key_id]["expires_at_epoch_seconds"]
    assert fake_momento.calls("GenerateApiToken") == []


async def test_v2_roles_that_cannot_be_read_say_so_beside_the_field(wkeeper: Keeper, fake_momento: FakeMomento,
                                                                   account: FakeAccount):
    wkeeper.import_key(inspect_text(account.acting_key(), endpoint=CELL), "ops v2")
    account.fail(403, path="/roles", body={"code": "403", "message": "no auth management access"})
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        w = await open_wizard(pilot)
        keys = Keys(pilot)
        w = await keys.press("enter", "enter")
        assert at(w, RoleStep)
        box = str(w.query_one("#role-box Note").render())
        assert "could not read the roles" in box and "ops v2" in box, box
        w = await keys.press("enter")
        assert at(w, RoleStep) and "could not be read" in error_text(w)
        assert_visible(w)
        # A v2 key makes only v2 keys: choosing a v1 type says so.
        w = await keys.press("escape")
        assert at(w, KeyTypeStep)
        w = await keys.press("down", "enter")
        assert at(w, KeyTypeStep) and "v2 key makes only v2 keys" in error_text(w)
        assert_visible(w)
    assert account.calls("POST") == []


# ---- the new user's task ------------------------------------------------------------------------

async def test_read_only_key_for_one_cache_in_at_most_30_presses(wkeeper: Keeper, fake_momento: FakeMomento):
    """ "I only have a super-user key; make a read-only key for cache `orders`, 30 days." """
    fake_momento.caches = ("default-cache", "orders", "payments")
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        keys = Keys(pilot)
        w = await keys.press("n")
        assert isinstance(w, WizardScreen) and at(w, SignInStep)
        w = await keys.press("enter")                   # the tracked super-user key
        assert at(w, KeyTypeStep) and app.focused is w.query_one("#key-type")
        w = await keys.press("down")                    # fine-grained v1 key
        w = await keys.press("enter")
        assert at(w, RegionStep), error_text(w)
        w = await keys.press("enter")                   # the super-user key's cell
        assert at(w, ExpirationStep) and app.focused is w.query_one("#expiry-key")
        w = await keys.press("enter")                   # 30 days, the default
        assert at(w, PermissionsStep), error_text(w)
        row = w.query("GrantRow").first()
        assert app.focused is row.query_one(".cache")
        assert row.read().role == "readonly" and row.read().cache == ""   # the least: one named cache, read-only
        assert "orders" in row.query_one(".cache", Input).placeholder     # the listed caches are offered
        w = await keys.type("or")
        assert row.query_one(".cache", Input)._suggestion == "orders"      # type to complete
        w = await keys.press("right")                   # take the completion
        assert row.query_one(".cache", Input).value == "orders"
        w = await keys.press("enter")
        assert at(w, ReviewStep), error_text(w)
        assert w.query_one("#new-name", Input).value == "orders-readonly"
        assert app.focused is w.query_one("#new-name")
        w = await keys.press("enter")                   # Generate
        await settle(pilot)
        assert at(w, ResultStep), error_text(w)
        w = await keys.press("ctrl+n")
        assert at(w, SecureStep)
        await keys.press("enter")                       # Done
        assert not isinstance(app.screen, WizardScreen)
        assert keys.count <= 30, keys.count
    assert keys.count == 13   # n, enter, down, enter, enter, enter, o, r, right, enter, enter, ctrl+n, enter
    [(request, _)] = fake_momento.calls("GenerateApiToken")
    assert request.expires.valid_for_seconds == 30 * DAY
    record = wkeeper.store.find("orders-readonly")
    assert record is not None and record.kind is Kind.V1 and record.secret_stored
    assert record.permissions == [{"kind": "cache", "cache": "orders", "topic": None, "role": "readonly"}]
    assert abs(record.expires_at - time.time() - 30 * DAY) < 120
    reminders = {r.kind.value: r.due_at for r in wkeeper.store.reminders(key_id=record.id)}
    assert {"warning", "critical", "expiry"} <= set(reminders), reminders
    assert reminders["warning"] < reminders["critical"] < reminders["expiry"] == record.expires_at


def test_default_names_come_from_what_the_key_grants_and_never_collide():
    from tui.core.permissions import ALL_DATA_READ_WRITE, Grant
    from tui.screens.wizard.state import FINE_GRAINED, TOKEN, WizardState, default_name

    s = WizardState(key_kind=FINE_GRAINED, grants=[Grant("cache", "orders", None, "readonly")])
    assert default_name(s, lambda name: False) == "orders-readonly"
    taken = {"orders-readonly", "orders-readonly-2"}
    assert default_name(s, taken.__contains__) == "orders-readonly-3"
    s.grants = [Grant("cache", "orders", None, "readonly"), Grant("topic", "*", "events", "subscribeonly"),
                Grant("cache", "carts", None, "readwrite")]
    assert default_name(s, lambda name: False) == "orders-readonly-events-subscribe-and-1-more"
    s.grants, s.key_kind = list(ALL_DATA_READ_WRITE), TOKEN
    assert default_name(s, lambda name: False) == "all-data-readwrite-token"


# ---- errors are seen, q never quits ------------------------------------------------------------

def assert_visible(w: WizardScreen) -> None:
    """The step's error is on screen: inside the step's visible region, above the buttons and
    the footer."""
    problem = w.current.problem
    assert problem.display and str(problem.render()).strip()
    region = problem.region
    assert region.height > 0 and region.width > 0
    assert w.query_one(ContentSwitcher).region.contains_region(region), (region, w.current.region)
    assert w.current.region.contains_region(region)
    for other in (w.query_one("#nav"), w.query_one("KeysFooter")):
        assert not other.region.overlaps(region)
    assert w.screen.region.contains_region(region)


async def test_every_wizard_error_is_visible_beside_its_field(wkeeper: Keeper, fake_momento: FakeMomento):
    import grpc

    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)

    async def refused(w: WizardScreen, kind: type, words: str) -> WizardScreen:
        w = await keys.press("ctrl+n")
        assert at(w, kind) and words in error_text(w), (kind, error_text(w))
        assert_visible(w)
        return w

    async with app.run_test(size=SIZE) as pilot:
        keys = Keys(pilot)
        w = await open_wizard(pilot)
        pick(w, "#acting", "-1")                          # paste a key
        await pilot.pause()
        w.query_one("#acting-key", Input).value = "not a key"
        w = await refused(w, SignInStep, "not a Momento")
        pick(w, "#acting", str(wkeeper.store.find("ops super").id))
        await pilot.pause()
        w = await keys.press("ctrl+n")
        pick(w, "#key-type", "super-user")
        await pilot.pause()
        w = await refused(w, KeyTypeStep, "console")
        pick(w, "#key-type", "fine-grained")
        await pilot.pause()
        w = await keys.press("ctrl+n")
        w.query_one("#region", Select).value = "custom"
        w.query_one("#custom-endpoint", Input).value = "https://bad host/x"
        w = await refused(w, RegionStep, "")
        w.query_one("#region", Select).value = CELL
        w = await keys.press("ctrl+n")
        pick(w, "#expiry-key", "never")
        await pilot.pause()
        w = await refused(w, ExpirationStep, "never expires")
        pick(w, "#expiry-key", "custom")
        await pilot.pause()
        w.query_one("#expiry-custom", Input).value = "2027-02-30"
        w = await refused(w, ExpirationStep, "not a real date")
        w.query_one("#expiry-custom", Input).value = "30d"
        w = await keys.press("ctrl+n")
        assert at(w, PermissionsStep)
        w = await refused(w, PermissionsStep, "")                   # no cache named
        w.query("GrantRow").first().query_one(".cache", Input).value = "bad name!/x"
        w = await refused(w, PermissionsStep, "")
        for _ in range(9):
            w.query_one("#add-cache", Button).press()
            await pilot.pause()
        for row in w.query("GrantRow"):
            row.query_one(".cache", Input).value = "orders"
        w = await refused(w, PermissionsStep, "")                   # the same cache ten times
        w.query_one("#all-data", Button).press()
        await settle(pilot)
        w = await keys.press("ctrl+n")
        w.query_one("#new-name", Input).value = "ops super"
        w = await refused(w, ReviewStep, "already tracked")
        w.query_one("#new-name", Input).value = "will fail"
        fake_momento.fail_next("GenerateApiToken", grpc.StatusCode.PERMISSION_DENIED)
        w = await keys.press("ctrl+n")
        await settle(pilot)
        assert at(w, ReviewStep) and "Not generated" in error_text(w)
        assert_visible(w)
        assert w.query_one("#never-ok", Checkbox) is not None


async def test_q_never_quits_from_inside_the_wizard(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        w = await open_wizard(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert app.is_running and app.screen is w and at(w, SignInStep)
        bindings = w.active_bindings
        assert bindings["q"].binding.action == "no_quit" and not bindings["q"].binding.show
        await pilot.press("enter", "down", "enter", "enter", "enter")
        await settle(pilot)
        assert at(w, PermissionsStep)
        await pilot.press("q")                      # into the cache field: a letter, not a command
        assert w.query("GrantRow").first().query_one(".cache", Input).value == "q"
        # Esc goes back a step at a time; on the first step it asks before dropping the choices.
        for kind in (ExpirationStep, RegionStep, KeyTypeStep, SignInStep):
            await pilot.press("escape")
            await settle(pilot)
            assert at(w, kind)
        await pilot.press("escape")
        await settle(pilot)
        from tui.widgets.confirm import ConfirmScreen

        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is w
