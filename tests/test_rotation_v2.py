"""Rotating a v2 key through the account API (tests.fake_account): a new key with the same
role, description and lifetime, stored through the issuing path, the old one previous
until it is revoked; interruptions resume; failures change nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import ENDPOINT, NOW
from tests.fake_account import OPERATOR, OWNER, FakeAccount
from tui.core.model import ExpirySource, Kind, Lifecycle
from tui.core.reminders import ReminderKind, ReminderState
from tui.services.account import client_for
from tui.services.issuing import Issuer
from tui.services.keeper import Keeper
from tui.services.rotation import RotationError, Rotator, v2_blocker
from tui.services.store import StoreError
from tui.services.sync import sync

DAY = 86400


class Unverified:
    """A Momento client stand-in: verification is advice, and not what is tested here."""

    def verify(self, api_key: str, endpoint: str | None):
        from tui.services.momento import VerifyResult

        return VerifyResult("unknown", "not checked in this test")


@pytest.fixture
def account(clock) -> Iterator[FakeAccount]:
    with FakeAccount(now=clock.now) as server:
        yield server


@pytest.fixture
def acting(account: FakeAccount) -> str:
    return account.acting_key(OWNER, "admin key")


def rotator(keeper: Keeper, account: FakeAccount, acting: str, *, timeout: float = 2) -> Rotator:
    return Rotator(keeper, Unverified,
                   lambda: client_for(acting, acting="admin", base_url=account.url, timeout=timeout, backoff=0.01))


def make(keeper: Keeper, account: FakeAccount, acting: str, name: str = "orders prod", lifetime: int | None = 30 * DAY):
    api = client_for(acting, acting="admin", base_url=account.url)
    issued = Issuer(keeper).generate_v2(api, name, role_id=OPERATOR, description="orders service",
                                        expiry="never" if lifetime is None else NOW + lifetime, endpoint=ENDPOINT,
                                        role_name="Operator", notes="team: orders", tags=["prod"])
    assert issued.stored
    return issued.record


def test_rotate_a_v2_key_end_to_end(keeper: Keeper, account: FakeAccount, acting: str, clock):
    old = make(keeper, account, acting)
    keeper.store.update(old.id, now=NOW, warning_seconds=5 * DAY)
    clock.advance(25 * DAY)
    outcome = rotator(keeper, account, acting).rotate(keeper.store.get(old.id))

    now = NOW + 25 * DAY
    post = account.calls("POST", "/api-keys")[-1]
    assert post.body == {"role_id": OPERATOR, "description": "orders service", "expiry": now + 30 * DAY}
    new, old = outcome.new, outcome.old
    assert new.name == "orders prod" and new.kind is Kind.V2 and new.lifecycle is Lifecycle.ACTIVE
    assert new.key_id in account.keys and new.key_id != old.key_id
    assert (new.role_id, new.role_name, new.description) == (OPERATOR, "Operator", "orders service")
    assert new.endpoint == ENDPOINT == old.endpoint and new.expires_at == now + 30 * DAY
    assert new.expiry_source is ExpirySource.V2_METADATA and new.issued_at == now
    assert new.notes == "team: orders" and new.tags == ["prod"] and new.warning_seconds == 5 * DAY
    assert new.predecessor_id == old.id and new.secret_stored
    assert old.lifecycle is Lifecycle.PREVIOUS and old.name.startswith("orders prod (until ")
    assert old.key_id in account.keys  # still works until it is revoked
    switch = [r for r in keeper.store.reminders(key_id=old.id) if r.kind is ReminderKind.SWITCH]
    assert len(switch) == 1
    assert "switch its consumers, then revoke it" in outcome.summary()
    [rot] = keeper.store.rotations(old.id)
    assert (rot["method"], rot["state"], rot["new_id"]) == ("v2", "done", new.id)
    assert any(w.startswith("the new key could not be checked") for w in outcome.warnings)

    # Consumers switched: the switch reminder done asks for the revocation (a v2 key works until then).
    keeper.close(switch[0], ReminderState.DONE)
    old = keeper.store.get(old.id)
    assert old.lifecycle is Lifecycle.PREVIOUS
    assert [r.kind for r in keeper.store.reminders(key_id=old.id) if r.kind is ReminderKind.REVOKE] == [
        ReminderKind.REVOKE]

    finished = rotator(keeper, account, acting).finish_v2(old)
    assert [c.path for c in account.calls("DELETE")] == [f"/api-keys/{old.key_id}"]
    assert old.key_id not in account.keys and new.key_id in account.keys
    assert finished.record.lifecycle is Lifecycle.RETIRED and finished.record.revoked_at == now
    assert keeper.store.reminders(key_id=old.id) == []
    with pytest.raises(RotationError, match="not the previous key of a v2 rotation"):
        rotator(keeper, account, acting).finish_v2(keeper.store.get(new.id))
    # A sync afterwards agrees with all of it.
    report = sync(keeper, client_for(acting, acting="admin", base_url=account.url))
    assert report.revoked == [] and report.updated == [] and report.added == ["admin key"]


def test_a_never_expiring_key_rotates_to_one(keeper: Keeper, account: FakeAccount, acting: str):
    old = make(keeper, account, acting, lifetime=None)
    outcome = rotator(keeper, account, acting).rotate(old)
    assert account.calls("POST")[-1].body["expiry"] == "never"
    assert outcome.new.never_expires and outcome.old.name == "orders prod (old)"


def test_what_blocks_a_v2_rotation(keeper: Keeper, account: FakeAccount, acting: str):
    from tests.conftest import make_v2
    from tui.core.keys import inspect_key

    unlinked = keeper.import_key(inspect_key(make_v2(), endpoint=ENDPOINT), "unlinked").record
    assert "v2 keys are rotated through the account API" in v2_blocker(unlinked, NOW)
    with pytest.raises(RotationError, match="link 'unlinked' KEY_ID"):
        rotator(keeper, account, acting).rotate(unlinked)
    record = make(keeper, account, acting)
    with pytest.raises(RotationError, match="needs the account API"):
        Rotator(keeper, Unverified).rotate(record)
    account.remove(record.key_id)
    sync(keeper, client_for(acting, acting="admin", base_url=account.url))
    with pytest.raises(RotationError, match="was revoked on"):
        rotator(keeper, account, acting).rotate(keeper.store.get(record.id))
    assert len(account.calls("POST")) == 1


@pytest.mark.parametrize("status, state", [(403, "failed"), (400, "failed")])
def test_a_refused_create_changes_nothing(keeper: Keeper, account: FakeAccount, acting: str, status, state):
    old = make(keeper, account, acting)
    account.fail(status, method="POST")
    with pytest.raises(RotationError, match=r"not rotated: .*The old key is unchanged and still works"):
        rotator(keeper, account, acting).rotate(old)
    assert keeper.store.get(old.id).lifecycle is Lifecycle.ACTIVE and keeper.store.count() == 1
    assert keeper.store.rotations(old.id)[0]["state"] == state
    assert keeper.store.open_rotations() == []


def test_a_create_that_never_answers_resumes_as_abandoned(keeper: Keeper, account: FakeAccount, acting: str):
    old = make(keeper, account, acting)
    account.hang(method="POST")
    with pytest.raises(RotationError, match="may have been created anyway") as caught:
        rotator(keeper, account, acting, timeout=0.5).rotate(old)
    assert caught.value.transient
    assert keeper.store.rotations(old.id)[0]["state"] == "interrupted"
    [said] = rotator(keeper, account, acting).resume()
    assert "a sync lists it, to revoke" in said
    assert keeper.store.open_rotations() == [] and keeper.store.get(old.id).lifecycle is Lifecycle.ACTIVE


def test_interrupted_after_the_new_key_was_stored_resumes(keeper: Keeper, account: FakeAccount, acting: str,
                                                         monkeypatch: pytest.MonkeyPatch):
    old = make(keeper, account, acting)
    real = type(keeper.store).take_over

    def refuse(*a, **kw):
        raise StoreError("database is locked")

    monkeypatch.setattr(type(keeper.store), "take_over", refuse)
    with pytest.raises(RotationError, match="completes the rotation") as caught:
        rotator(keeper, account, acting).rotate(old)
    assert caught.value.resumable
    parked = keeper.store.find("orders prod (new)")
    assert parked is not None and parked.secret_stored and parked.key_id in account.keys
    assert keeper.store.open_rotations()[0]["state"] == "filed"
    monkeypatch.setattr(type(keeper.store), "take_over", real)

    [outcome] = rotator(keeper, account, acting).resume()
    assert outcome.new.id == parked.id and outcome.new.name == "orders prod"
    assert keeper.store.get(old.id).lifecycle is Lifecycle.PREVIOUS
    assert keeper.store.open_rotations() == [] and keeper.store.find("orders prod (new)") is None


def test_a_new_key_that_cannot_be_stored_is_rescued(keeper: Keeper, account: FakeAccount, acting: str,
                                                   monkeypatch: pytest.MonkeyPatch):
    from tui.services.vault import VaultError

    old = make(keeper, account, acting)

    def refuse(*a, **kw):
        raise VaultError("the keyring is locked")

    monkeypatch.setattr(keeper.vault, "put", refuse)
    with pytest.raises(RotationError, match=r"could not be stored: .*keyring is locked.*still works") as caught:
        rotator(keeper, account, acting).rotate(old)
    issued = caught.value.issued
    assert issued is not None and issued.rescue_file is not None
    doc = json.loads(issued.rescue_file.read_text())
    assert doc["keyId"] in account.keys and doc["roleId"] == OPERATOR and doc["endpoint"] == ENDPOINT
    assert keeper.store.get(old.id).lifecycle is Lifecycle.ACTIVE
    assert keeper.store.rotations(old.id)[0]["state"] == "unsaved"
    [said] = rotator(keeper, account, acting).resume()
    assert "rescue file" in said
