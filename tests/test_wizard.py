"""The generation wizard, walked with Pilot against the fake Momento server."""

from __future__ import annotations

import json
import os
import stat
import time

import grpc
import pytest
from textual.widgets import Button, Checkbox, Input, RadioSet, Select

from tests.fake_momento import FakeMomento
from tui.app import MomentoKeysApp
from tui.core.keys import inspect_text
from tui.core.model import KeyType, Kind
from tui.screens.import_key import ImportScreen
from tui.screens.wizard import WizardScreen
from tui.screens.wizard.steps import (
    ExpirationStep,
    KeyTypeStep,
    PermissionsStep,
    RegionStep,
    ResultStep,
    ReviewStep,
    SecureStep,
    SignInStep,
)
from tui.services.context import Services
from tui.services.keeper import Keeper
from tui.services.momento import MomentoApi
from tui.services.vault import SERVICE, VaultError

DAY = 86400
SIZE = (120, 40)


def make_app(keeper: Keeper, server: FakeMomento | None, api_factory=None) -> MomentoKeysApp:
    if api_factory is None and server is not None:
        def api_factory():
            return MomentoApi(override=server.override, timeout=5, retries=1, backoff=0.01)
    return MomentoKeysApp(Services(keeper, api_factory=api_factory), tick=False, watch_interval=0)


def track_superuser(keeper: Keeper, server: FakeMomento, name: str = "ops super") -> None:
    keeper.import_key(inspect_text(server.superuser_key()), name, key_type=KeyType.SUPER_USER)


async def settle(pilot) -> None:
    app = pilot.app
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def nxt(pilot) -> WizardScreen:
    await pilot.press("ctrl+n")
    await settle(pilot)
    return pilot.app.screen


def pick(screen: WizardScreen, radio_id: str, name: str) -> None:
    radio = screen.query_one(radio_id, RadioSet)
    for button in radio.query("RadioButton"):
        if button.name == name:
            button.value = True
            return
    raise AssertionError(f"no option {name} in {radio_id}")


async def open_wizard(pilot) -> WizardScreen:
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, WizardScreen)
    return screen


def at(w: WizardScreen, kind: type) -> bool:
    """The wizard shows the step ``kind``."""
    return isinstance(w.current, kind)


async def walk_to_permissions(pilot, *, kind: str = "fine-grained", expiry: str | None = None) -> WizardScreen:
    w = await open_wizard(pilot)
    w = await nxt(pilot)        # sign in (the tracked super-user key is preselected)
    assert at(w, KeyTypeStep)
    pick(w, "#key-type", kind)
    await pilot.pause()
    w = await nxt(pilot)
    assert at(w, RegionStep)
    w = await nxt(pilot)        # region: defaults to the acting key's cell
    assert w.state.endpoint == "cell-4-us-west-2-1.prod.a.momentohq.com"
    assert at(w, ExpirationStep)
    if expiry:
        pick(w, "#expiry-token" if kind == "token" else "#expiry-key", expiry)
        await pilot.pause()
    w = await nxt(pilot)
    assert at(w, PermissionsStep), error_text(w)
    return w


async def walk_to_review(pilot, *, kind: str = "fine-grained") -> WizardScreen:
    """Through the v1 steps, with the first permission row filled (it asks for one named cache)."""
    w = await walk_to_permissions(pilot, kind=kind)
    w.query("GrantRow").first().query_one(".cache", Input).value = "orders"
    w = await nxt(pilot)
    assert at(w, ReviewStep), error_text(w)
    return w


def error_text(w: WizardScreen) -> str:
    """What the current step says to fix (shown under its fields)."""
    return w.current.problem_text


async def test_fine_grained_key_end_to_end(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        w = await walk_to_permissions(pilot, expiry=str(7 * DAY))
        row = w.query("GrantRow").first()
        row.query_one(".cache", Input).value = "orders"
        row.query_one(".role", Select).value = "readonly"
        w.query_one("#add-topic", Button).press()
        await settle(pilot)
        rows = list(w.query("GrantRow"))
        rows[1].query_one(".cache", Input).value = "orders"
        rows[1].query_one(".topic", Input).value = "events"
        rows[1].query_one(".role", Select).value = "subscribeonly"
        w = await nxt(pilot)
        assert at(w, ReviewStep)
        review = str(w.query_one("#review").render())
        assert "read-only on cache 'orders'" in review or "orders" in review
        w.query_one("#new-name", Input).value = "orders reader"
        w.query_one("#new-notes", Input).value = "orders-svc prod"
        w = await nxt(pilot)   # generate
        await settle(pilot)
        assert at(w, ResultStep), error_text(w)
        assert "Stored as orders reader" in str(w.query_one("#store-status").render())
        generated = w.state.generated
    calls = fake_momento.calls("GenerateApiToken")
    assert len(calls) == 1
    request, metadata = calls[0]
    assert request.expires.valid_for_seconds == 7 * DAY
    perms = request.permissions.explicit.permissions
    assert len(perms) == 2
    assert perms[0].cache_permissions.cache_selector.cache_name == "orders"
    assert perms[1].topic_permissions.topic_selector.topic_name == "events"
    assert metadata["authorization"] == request.auth_token
    record = wkeeper.store.find("orders reader")
    assert record.kind is Kind.V1 and record.key_type is KeyType.FINE_GRAINED
    assert record.expires_at == generated.valid_until and record.expiry_source.value == "valid_until"
    assert record.has_refresh_token and record.secret_stored and record.notes == "orders-svc prod"
    assert record.permissions[0] == {"kind": "cache", "cache": "orders", "topic": None, "role": "readonly"}
    entries = wkeeper.vault.backend.entries
    assert entries[(SERVICE, f"key:{record.fingerprint}")] == generated.api_key
    assert entries[(SERVICE, f"refresh:{record.fingerprint}")] == generated.refresh_token


async def test_short_lived_token(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        w = await walk_to_permissions(pilot, kind="token", expiry=str(6 * 3600))
        w.query_one("#all-data", Button).press()
        await settle(pilot)
        w = await nxt(pilot)
        w.query_one("#new-name", Input).value = "ci token"
        w = await nxt(pilot)
        await settle(pilot)
        assert at(w, ResultStep), error_text(w)
    calls = fake_momento.calls("GenerateDisposableToken")
    assert len(calls) == 1 and not fake_momento.calls("GenerateApiToken")
    record = wkeeper.store.find("ci token")
    assert record.kind is Kind.DISPOSABLE and not record.has_refresh_token
    assert abs(record.expires_at - time.time() - 6 * 3600) < 120


async def test_super_user_path_hands_over_to_import(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        w = await open_wizard(pilot)
        w = await nxt(pilot)
        pick(w, "#key-type", "super-user")
        await pilot.pause()
        assert "console" in str(w.query_one("#type-note").render())
        w = await nxt(pilot)
        assert at(w, KeyTypeStep) and "console" in error_text(w)
        w.query_one("#to-import", Button).press()
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen)
        assert app.screen.query_one("#type", Select).value == "super-user"
    assert fake_momento.requests == []


async def test_sign_in_with_a_pasted_key_verifies_and_tracks_it(wkeeper: Keeper, fake_momento: FakeMomento):
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        w = await open_wizard(pilot)
        assert w.query_one("#paste-box").display   # nothing tracked: paste is the only choice
        w.query_one("#acting-key", Input).value = "not a key"
        w = await nxt(pilot)
        assert at(w, SignInStep) and "not a Momento" in error_text(w)
        w.query_one("#acting-key", Input).value = fake_momento.superuser_key()
        w.query_one("#acting-name", Input).value = "pasted super"
        w.query_one("#verify", Button).press()
        await settle(pilot)
        assert w.state.verified == "valid"
        w = await nxt(pilot)
        await settle(pilot)
        assert at(w, KeyTypeStep)
    assert len(fake_momento.calls("ListCaches")) == 1
    record = wkeeper.store.find("pasted super")
    assert record is not None and record.key_type is KeyType.SUPER_USER and record.secret_stored


async def test_validation_errors_stop_each_step(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    track_superuser_name = "ops super"
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        w = await open_wizard(pilot)
        w = await nxt(pilot)
        pick(w, "#key-type", "fine-grained")
        await pilot.pause()
        w = await nxt(pilot)
        w.query_one("#region", Select).value = "custom"
        w.query_one("#custom-endpoint", Input).value = "https://bad host/x"
        w = await nxt(pilot)
        assert at(w, RegionStep) and error_text(w)
        w.query_one("#region", Select).value = "cell-4-us-west-2-1.prod.a.momentohq.com"
        w = await nxt(pilot)
        assert at(w, ExpirationStep)
        pick(w, "#expiry-key", "custom")
        await pilot.pause()
        for bad, words in [("2001-01-01", "past"), ("someday", "duration"), ("", "type a date")]:
            w.query_one("#expiry-custom", Input).value = bad
            w = await nxt(pilot)
            assert at(w, ExpirationStep) and words in error_text(w), (bad, error_text(w))
        pick(w, "#expiry-key", "never")
        await pilot.pause()
        assert "NEVER expire" in str(w.query_one("#expiry-note").render())
        w = await nxt(pilot)
        assert at(w, ExpirationStep) and "never expires" in error_text(w)
        w.query_one("#never-ok", Checkbox).value = True
        w = await nxt(pilot)
        assert at(w, PermissionsStep) and w.state.valid_for is None
        row = w.query("GrantRow").first()
        row.query_one(".cache", Input).value = "has space"
        w = await nxt(pilot)
        assert at(w, PermissionsStep) and error_text(w)
        row.query_one(".cache", Input).value = ""
        w = await nxt(pilot)
        assert at(w, PermissionsStep) and error_text(w)
        for _ in range(12):
            w.query_one("#add-cache", Button).press()
            await pilot.pause()
        assert len(w.query("GrantRow")) == 10
        assert "at most 10" in str(w.query_one("#grants-note").render())
        w.query_one("#all-data", Button).press()
        await settle(pilot)
        w = await nxt(pilot)
        assert at(w, ReviewStep)
        w.query_one("#new-name", Input).value = track_superuser_name
        w = await nxt(pilot)
        assert at(w, ReviewStep) and "already tracked" in error_text(w)
    assert fake_momento.calls("GenerateApiToken") == []


async def test_token_longer_than_the_service_limit_is_refused(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        w = await open_wizard(pilot)
        w = await nxt(pilot)
        pick(w, "#key-type", "token")
        await pilot.pause()
        w = await nxt(pilot)
        w = await nxt(pilot)
        pick(w, "#expiry-token", "custom")
        await pilot.pause()
        w.query_one("#expiry-custom", Input).value = "2d"
        w = await nxt(pilot)
        assert at(w, ExpirationStep) and "25 hours" in error_text(w)


@pytest.mark.parametrize("code, words", [
    (grpc.StatusCode.UNAUTHENTICATED, "rejected"),
    (grpc.StatusCode.PERMISSION_DENIED, "not allowed"),
    (grpc.StatusCode.INVALID_ARGUMENT, "invalid"),
])
async def test_server_errors_store_nothing(wkeeper: Keeper, fake_momento: FakeMomento, code, words):
    track_superuser(wkeeper, fake_momento)
    fake_momento.fail_next("GenerateApiToken", code)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        w = await walk_to_review(pilot)
        w.query_one("#new-name", Input).value = "will fail"
        w = await nxt(pilot)
        await settle(pilot)
        assert at(w, ReviewStep)
        assert "Not generated" in error_text(w) and "Nothing was stored" in error_text(w)
        assert words.lower() in error_text(w).lower(), error_text(w)
    assert wkeeper.store.find("will fail") is None
    assert wkeeper.store.count() == 1


async def test_keyring_failure_after_generation_loses_nothing(wkeeper: Keeper, fake_momento: FakeMomento, tmp_path,
                                                             monkeypatch):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    real_put = wkeeper.vault.put

    def locked(*a, **k):
        raise VaultError("the keyring refused the key: the keyring is locked")

    async with app.run_test(size=SIZE) as pilot:
        w = await walk_to_review(pilot)
        w.query_one("#new-name", Input).value = "precious"
        monkeypatch.setattr(wkeeper.vault, "put", locked)
        w = await nxt(pilot)
        await settle(pilot)
        assert at(w, ResultStep)
        status = str(w.query_one("#store-status").render())
        assert "NOT STORED" in status and "locked" in status
        generated = w.state.generated
        assert generated is not None and wkeeper.store.find("precious") is None
        # Going on is refused; leaving asks first.
        w = await nxt(pilot)
        assert at(w, ResultStep) and "not stored" in error_text(w)
        await pilot.press("escape")
        await pilot.pause()
        from tui.widgets.confirm import ConfirmScreen

        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")   # stay
        await pilot.pause()
        assert app.screen is w
        # Copy works while nothing is stored.
        w.query_one("#copy", Button).press()
        await pilot.pause()
        assert app.clipboard == generated.api_key
        # Download JSON: 0600, console format, never overwrites.
        target = tmp_path / "precious.json"
        w.query_one("#download-path", Input).value = str(target)
        w.query_one("#download", Button).press()
        await settle(pilot)
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
        doc = json.loads(target.read_text())
        assert doc["apiKey"] == generated.api_key and doc["refreshToken"] == generated.refresh_token
        assert doc["validUntil"] == generated.valid_until and doc["endpoint"] == generated.endpoint
        target.write_text("other")
        w.query_one("#download", Button).press()
        await settle(pilot)
        assert "already exists" in str(w.query_one("#download-note").render())
        assert target.read_text() == "other"
        # The keyring comes back: retry stores it.
        monkeypatch.setattr(wkeeper.vault, "put", real_put)
        w.query_one("#retry-store", Button).press()
        await settle(pilot)
        assert "Stored as precious" in str(w.query_one("#store-status").render())
    record = wkeeper.store.find("precious")
    assert record is not None and wkeeper.vault.get(record.fingerprint) == generated.api_key
    assert len(fake_momento.calls("GenerateApiToken")) == 1  # one key, made once


async def test_unreachable_server(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, None, lambda: MomentoApi(override="127.0.0.1:1", timeout=2, retries=1, backoff=0.01))
    async with app.run_test(size=SIZE) as pilot:
        w = await walk_to_review(pilot)
        w.query_one("#new-name", Input).value = "nowhere"
        w = await nxt(pilot)
        await settle(pilot)
        assert at(w, ReviewStep) and "Not generated" in error_text(w)
    assert wkeeper.store.find("nowhere") is None


# ---- the wizard's rules, without Textual ----------------------------------------------------

def test_state_rules_without_textual():
    from tui.core.permissions import Grant
    from tui.screens.wizard.state import (
        CUSTOM,
        NEVER,
        WizardState,
        choose_endpoint,
        choose_expiry,
        choose_grants,
        choose_kind,
        choose_name,
        keep_fields,
        result_problem,
    )
    from tui.services.issuing import Issued
    from tui.services.momento import GeneratedKey

    now = time.time()
    s = WizardState()
    assert choose_endpoint(s, CUSTOM, "") == "type the custom endpoint"
    assert choose_endpoint(s, CUSTOM, "https://bad host/x") and s.endpoint is None
    assert choose_endpoint(s, "cell-4-us-west-2-1.prod.a.momentohq.com", "") is None
    assert s.endpoint == "cell-4-us-west-2-1.prod.a.momentohq.com"
    assert "console" in choose_kind(s, "super-user")
    assert choose_kind(s, "token") is None and s.token
    assert "25 hours" in choose_expiry(s, CUSTOM, "2d", False, now)
    assert "past" in choose_expiry(s, CUSTOM, "2001-01-01", False, now)
    assert "not a real date" in choose_expiry(s, CUSTOM, "2027-02-30", False, now)
    assert choose_expiry(s, CUSTOM, "6h", False, now) is None and s.valid_for == 6 * 3600
    assert choose_kind(s, "fine-grained") is None
    assert "never expires" in choose_expiry(s, NEVER, "", False, now)
    assert choose_expiry(s, NEVER, "", True, now) is None and s.valid_for is None
    assert choose_grants(s, [Grant("cache", "has space", None, "readonly")])
    assert choose_grants(s, []) and s.grants == []
    assert choose_grants(s, [Grant("cache", "orders", None, "readonly")]) is None and len(s.grants) == 1
    assert "already tracked" in choose_name(s, "taken", "", "", lambda name: name == "taken")
    assert choose_name(s, "  orders   reader ", " svc ", "prod, eu prod", lambda name: False) is None
    assert (s.name, s.notes, s.tags) == ("orders reader", "svc", ["prod", "eu"])
    assert keep_fields(s)["kind"] is Kind.V1 and keep_fields(s)["permissions"][0]["cache"] == "orders"
    generated = GeneratedKey("k" * 40, None, "cell-4-us-west-2-1.prod.a.momentohq.com", None)
    s.issued = Issued(generated, s.name, problem="the keyring is locked")
    assert "not stored" in result_problem(s)
    s.download_path = "/somewhere.json"
    assert result_problem(s) is None


def test_state_for_a_replacement():
    from tui.core.model import KeyRecord
    from tui.screens.wizard.state import WizardState

    old = KeyRecord("ci token", Kind.DISPOSABLE, endpoint="cell-1-eu-west-1-1.prod.a.momentohq.com",
                    permissions=[{"kind": "cache", "cache": "orders", "topic": None, "role": "readonly"}])
    s = WizardState.replacing(old)
    assert s.replaces is old and s.token and s.endpoint == old.endpoint
    assert [g.cache for g in s.grants] == ["orders"]


# ---- errors a user can cause never take the app down ------------------------------------------

async def test_verify_with_a_bad_endpoint_override_says_so(wkeeper: Keeper, fake_momento: FakeMomento,
                                                           monkeypatch):
    monkeypatch.setenv("MOMENTO_KEYS_ENDPOINT_OVERRIDE", "not a host")
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, None)  # the default client, built from the environment
    async with app.run_test(size=SIZE) as pilot:
        w = await open_wizard(pilot)
        w.query_one("#verify", Button).press()
        await settle(pilot)
        note = str(w.query_one("#verify-note").render())
        assert "MOMENTO_KEYS_ENDPOINT_OVERRIDE" in note and "HOST:PORT" in note, note
        assert app.is_running and app.screen is w
        # Generating with it fails the same way, in the step, and stores nothing.
        w = await nxt(pilot)
        pick(w, "#key-type", "fine-grained")
        await pilot.pause()
        for _ in range(3):
            w = await nxt(pilot)
        w.query("GrantRow").first().query_one(".cache", Input).value = "orders"
        w = await nxt(pilot)
        assert at(w, ReviewStep)
        w.query_one("#new-name", Input).value = "never made"
        w = await nxt(pilot)
        await settle(pilot)
        assert at(w, ReviewStep) and "Not generated" in error_text(w) and "HOST:PORT" in error_text(w)
        assert app.is_running
    assert wkeeper.store.find("never made") is None and fake_momento.requests == []


# ---- focus, leaving, text --------------------------------------------------------------------

async def test_focus_lands_in_each_steps_first_field(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        w = await open_wizard(pilot)
        assert app.focused is w.query_one("#acting")
        w = await nxt(pilot)
        assert app.focused is w.query_one("#key-type")
        pick(w, "#key-type", "fine-grained")
        await pilot.pause()
        for selector in ["#region", "#expiry-key"]:
            w = await nxt(pilot)
            assert app.focused is w.query_one(selector), (selector, app.focused)
        w = await nxt(pilot)
        row = w.query("GrantRow").first()
        assert app.focused is row.query_one(".cache")
        row.query_one(".cache", Input).value = "orders"
        w = await nxt(pilot)
        assert app.focused is w.query_one("#new-name")
        # Esc goes back a step (focus in its first field); Cancel asks before dropping what was
        # chosen; Stay keeps the wizard as it was.
        await pilot.press("escape")
        await settle(pilot)
        assert at(w, PermissionsStep) and app.focused is row.query_one(".cache")
        w = await nxt(pilot)
        assert at(w, ReviewStep)
        w.query_one("#cancel", Button).press()
        await pilot.pause()
        from tui.widgets.confirm import ConfirmScreen

        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is w and at(w, ReviewStep)


async def test_names_are_text_not_markup(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento, name="[b]ops[/b] super")
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        w = await open_wizard(pilot)
        labels = [str(b.label) for b in w.query("#acting RadioButton")]
        assert any("[b]ops[/b] super" in label for label in labels), labels
        w = await nxt(pilot)
        pick(w, "#key-type", "fine-grained")
        await pilot.pause()
        for _ in range(3):
            w = await nxt(pilot)
        w.query("GrantRow").first().query_one(".cache", Input).value = "orders"
        w = await nxt(pilot)
        assert "[b]ops[/b] super" in str(w.query_one("#review").render())


# ---- never lose a key: rescue file, retry, Download JSON -------------------------------------

async def test_rescued_key_is_shown_and_retry_removes_the_rescue_file(wkeeper: Keeper, fake_momento: FakeMomento,
                                                                      db_path, monkeypatch):
    from tui.services.recovery import rescue_dir, rescue_files

    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    real_put = wkeeper.vault.put

    def locked(*a, **k):
        raise VaultError("the keyring refused the key: the keyring is locked")

    async with app.run_test(size=SIZE) as pilot:
        w = await walk_to_review(pilot)
        w.query_one("#new-name", Input).value = "rescued one"
        monkeypatch.setattr(wkeeper.vault, "put", locked)
        w = await nxt(pilot)
        await settle(pilot)
        assert at(w, ResultStep)
        rescue = w.state.issued.rescue_file
        assert rescue is not None and rescue.parent == rescue_dir(db_path) and rescue.exists()
        assert json.loads(rescue.read_text())["apiKey"] == w.state.generated.api_key
        status = str(w.query_one("#store-status").render())
        assert "NOT STORED" in status and str(rescue) in status
        assert app.focused is w.query_one("#retry-store")
        monkeypatch.setattr(wkeeper.vault, "put", real_put)
        w.query_one("#retry-store", Button).press()
        await settle(pilot)
        assert "Stored as rescued one" in str(w.query_one("#store-status").render())
        assert not rescue.exists() and rescue_files(db_path) == []
        w = await nxt(pilot)
        assert at(w, SecureStep) and "rescued-one" in str(w.query_one("#secure-commands").render())
        w = await nxt(pilot)
        assert not isinstance(app.screen, WizardScreen)
    assert wkeeper.store.find("rescued one").secret_stored


async def test_download_defaults_to_the_downloads_folder_and_warns_in_a_git_tree(
        wkeeper: Keeper, fake_momento: FakeMomento, tmp_path, monkeypatch):
    import platformdirs

    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    monkeypatch.setattr(platformdirs, "user_downloads_dir", lambda: str(downloads))
    repo = tmp_path / "checkout"
    (repo / ".git").mkdir(parents=True)
    track_superuser(wkeeper, fake_momento)
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        w = await walk_to_review(pilot)
        w.query_one("#new-name", Input).value = "orders key"
        w = await nxt(pilot)
        await settle(pilot)
        assert at(w, ResultStep)
        path = w.query_one("#download-path", Input)
        assert path.value == str(downloads / "momento-api-key-orders-key.json")
        assert not path.value.startswith(os.getcwd())
        for bad, words in [("", "type the file"), ("~no-such-user-here/k.json", "cannot write"),
                           (str(tmp_path / "no-such-folder" / "k.json"), "cannot write")]:
            path.value = bad
            w.query_one("#download", Button).press()
            await settle(pilot)
            assert words in str(w.query_one("#download-note").render()), bad
            assert app.is_running and w.state.download_path is None
        target = repo / "key.json"
        path.value = str(target)
        await pilot.pause()
        assert "git work tree" in str(w.query_one("#download-note").render())
        w.query_one("#download", Button).press()
        await settle(pilot)
        note = str(w.query_one("#download-note").render())
        assert "Saved" in note and "git work tree" in note
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    record = wkeeper.store.find("orders key")
    assert any(e.action == "exported" for e in wkeeper.store.events(record.id))


async def test_a_replacement_is_linked_to_the_key_it_replaces(wkeeper: Keeper, fake_momento: FakeMomento):
    track_superuser(wkeeper, fake_momento)
    from tests.conftest import make_v1

    old = wkeeper.import_key(inspect_text(make_v1()), "old orders", key_type=KeyType.FINE_GRAINED).record
    app = make_app(wkeeper, fake_momento)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(WizardScreen(replaces=old))
        await settle(pilot)
        w = app.screen
        assert isinstance(w, WizardScreen) and "old orders" in w.sub_title
        for _ in range(4):
            w = await nxt(pilot)
        assert at(w, PermissionsStep)
        row = w.query("GrantRow").first()
        if not row.query_one(".cache", Input).value:
            row.query_one(".cache", Input).value = "orders"
        w = await nxt(pilot)
        assert at(w, ReviewStep), error_text(w)
        w.query_one("#new-name", Input).value = "new orders"
        w = await nxt(pilot)
        await settle(pilot)
        assert at(w, ResultStep), error_text(w)
    new = wkeeper.store.find("new orders")
    assert new.predecessor_id == old.id
