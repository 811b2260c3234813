"""Rotation against the fake Momento server: refresh, lineage, grace, and faults at every step."""

from __future__ import annotations

import json
import time

import grpc
import pytest

from tests.conftest import console_json
from tests.fake_momento import FakeMomento
from tui.core.clock import ManualClock
from tui.core.keys import inspect_text
from tui.core.model import KeyType, Lifecycle
from tui.core.reminders import ReminderKind, ReminderState
from tui.services import recovery
from tui.services.config import Settings
from tui.services.keeper import Keeper
from tui.services.momento import MomentoApi
from tui.services.recovery import rescue_dir
from tui.services.rotation import RotationError, Rotator, refresh_blocker
from tui.services.store import Store, StoreError
from tui.services.vault import SERVICE, MemoryKeyring, Vault, VaultError

DAY = 86400


@pytest.fixture
def rclock() -> ManualClock:
    return ManualClock(time.time())


@pytest.fixture
def rkeeper(db_path, rclock) -> Keeper:
    vault = Vault(MemoryKeyring())
    vault.probe()
    return Keeper(Store(db_path), vault, Settings(), rclock)


def rotator(keeper: Keeper, server: FakeMomento, **kw) -> Rotator:
    return Rotator(keeper, lambda: MomentoApi(override=server.override, timeout=5, retries=1, backoff=0.01, **kw))


def two_day_key(keeper: Keeper, server: FakeMomento, name: str = "orders prod"):
    key, refresh = server.issue_key(valid_for_seconds=2 * DAY)
    expires = inspect_text(key).expires_at
    record = keeper.import_key(inspect_text(console_json(key, expires, refresh)), name,
                               key_type=KeyType.FINE_GRAINED, notes="orders-svc").record
    return record, key, refresh


def entries(keeper: Keeper) -> dict:
    return keeper.vault.backend.entries


def test_two_day_key_is_due_and_rotates(rkeeper: Keeper, fake_momento: FakeMomento, rclock):
    old, old_key, old_refresh = two_day_key(rkeeper, fake_momento)
    assert rkeeper.due() == []                     # fresh: the 2-day life's reminders lie ahead
    rclock.advance(33 * 3600)                      # past 2/3 of its life (32 h)
    assert [r.kind for r in rkeeper.due()] == [ReminderKind.WARNING]
    outcome = rotator(rkeeper, fake_momento).rotate(old)
    request, _metadata = fake_momento.calls("RefreshApiToken")[0]
    assert request.refresh_token == old_refresh
    assert request.api_key == inspect_text(old_key).inner_jwt()
    new, old = outcome.new, outcome.old
    assert new.name == "orders prod" and new.predecessor_id == old.id and new.lifecycle is Lifecycle.ACTIVE
    assert old.lifecycle is Lifecycle.PREVIOUS and old.name.startswith("orders prod (until ")
    assert new.notes == "orders-svc" and new.key_type is KeyType.FINE_GRAINED
    assert outcome.verify in ("valid", "restricted")
    # The new pair is stored together; the old key is still there for its grace window.
    assert entries(rkeeper)[(SERVICE, f"key:{new.fingerprint}")] != old_key
    assert entries(rkeeper)[(SERVICE, f"refresh:{new.fingerprint}")] not in (None, old_refresh)
    assert entries(rkeeper)[(SERVICE, f"key:{old.fingerprint}")] == old_key
    assert not any(u.startswith("key:pending") for _, u in entries(rkeeper))
    # Lineage both ways.
    before, after = rkeeper.store.lineage(new.id)
    assert [r.id for r in before] == [old.id] and after == []
    before, after = rkeeper.store.lineage(old.id)
    assert before == [] and [r.id for r in after] == [new.id]
    # The old key: a switch reminder now; its expiry still ends the grace window.
    old_reminders = {r.kind: r for r in rkeeper.store.reminders(key_id=old.id)}
    assert set(old_reminders) == {ReminderKind.SWITCH, ReminderKind.EXPIRY}
    assert old_reminders[ReminderKind.EXPIRY].due_at == old.expires_at
    # Confirming the switch retires the old key.
    rkeeper.close(old_reminders[ReminderKind.SWITCH], ReminderState.DONE)
    assert rkeeper.store.get(old.id).lifecycle is Lifecycle.RETIRED
    actions = [e.action for e in rkeeper.store.events(old.id)]
    assert "rotation started" in actions and "rotated" in actions and "retired" in actions


def test_previous_key_retires_when_its_grace_window_ends(rkeeper, fake_momento, rclock):
    old, *_ = two_day_key(rkeeper, fake_momento)
    outcome = rotator(rkeeper, fake_momento).rotate(old)
    rclock.advance(2 * DAY + 5)
    retired = rkeeper.retire_expired_previous()
    assert [r.id for r in retired] == [outcome.old.id]
    assert rkeeper.store.get(outcome.new.id).lifecycle is Lifecycle.ACTIVE


def test_refresh_after_expiry_is_refused_with_the_manual_path(rkeeper, fake_momento, rclock):
    old, *_ = two_day_key(rkeeper, fake_momento)
    rclock.advance(3 * DAY)
    with pytest.raises(RotationError, match="only before it expires"):
        rotator(rkeeper, fake_momento).rotate(old)
    assert fake_momento.calls("RefreshApiToken") == []


def test_server_says_expired(rkeeper, fake_momento):
    old, _old_key, _ = two_day_key(rkeeper, fake_momento)
    fake_momento.clock = lambda: time.time() + 3 * DAY  # the service sees it expired; our clock does not
    with pytest.raises(RotationError) as info:
        rotator(rkeeper, fake_momento).rotate(old)
    assert "unchanged" in str(info.value)
    assert rkeeper.store.find("orders prod").id == old.id
    assert rkeeper.store.get(old.id).lifecycle is Lifecycle.ACTIVE


@pytest.mark.parametrize("kind, blocked", [("v2", "v2 keys"), ("disposable", "disposable"), ("never", "never expire"),
                                           ("no-refresh", "without a refresh token")])
def test_keys_that_cannot_be_refreshed_say_why(rkeeper, fake_momento, kind, blocked):
    from tui.core.model import Kind

    if kind == "never":
        key, _ = fake_momento.issue_key(valid_for_seconds=None)
        r = rkeeper.import_key(inspect_text(key), "k").record
    elif kind == "no-refresh":
        key, _ = fake_momento.issue_key(valid_for_seconds=30 * DAY)
        r = rkeeper.import_key(inspect_text(key), "k").record
    elif kind == "disposable":
        key, _ = fake_momento.issue_key(valid_for_seconds=3600, kind="disposable")
        r = rkeeper.import_key(inspect_text(key), "k", kind=Kind.DISPOSABLE).record
    else:
        r = rkeeper.import_key(inspect_text(fake_momento.superuser_v2_key(), endpoint=fake_momento.cell), "k").record
    assert blocked in refresh_blocker(r, rkeeper.now())
    with pytest.raises(RotationError, match=blocked):
        rotator(rkeeper, fake_momento).rotate(r)


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAUTHENTICATED,
                                  grpc.StatusCode.PERMISSION_DENIED])
def test_refresh_rpc_fault_changes_nothing(rkeeper, fake_momento, code):
    old, _old_key, _old_refresh = two_day_key(rkeeper, fake_momento)
    before = dict(entries(rkeeper))
    fake_momento.fail_next("RefreshApiToken", code, count=5)
    with pytest.raises(RotationError, match="not rotated"):
        rotator(rkeeper, fake_momento).rotate(old)
    assert entries(rkeeper) == before
    assert rkeeper.store.get(old.id).lifecycle is Lifecycle.ACTIVE
    assert rkeeper.store.open_rotations() == []


def test_keyring_refuses_the_new_pair_hands_it_back(rkeeper, fake_momento, monkeypatch):
    old, *_ = two_day_key(rkeeper, fake_momento)

    def refuse(*a, **k):
        raise VaultError("the keyring is locked")

    monkeypatch.setattr(rkeeper.vault, "put_pending", refuse)
    with pytest.raises(RotationError) as info:
        rotator(rkeeper, fake_momento).rotate(old)
    issued = info.value.issued
    assert issued is not None and issued.generated.refresh_token   # the pair went the never-lose path
    assert issued.rescue_file is not None and issued.rescue_file.parent == rescue_dir(rkeeper.store.path)
    doc = json.loads(issued.rescue_file.read_text())
    assert doc["apiKey"] == issued.generated.api_key and doc["refreshToken"] == issued.generated.refresh_token
    assert oct(issued.rescue_file.stat().st_mode & 0o777) == "0o600"
    assert str(issued.rescue_file) in str(info.value) and "refresh token is spent" in str(info.value)
    assert rkeeper.store.get(old.id).lifecycle is Lifecycle.ACTIVE


@pytest.mark.parametrize("step", ["vault.put", "store.replace", "delete_pending"])
def test_interrupted_rotation_resumes_without_losing_a_key(rkeeper, fake_momento, monkeypatch, step):
    old, old_key, _ = two_day_key(rkeeper, fake_momento)
    target, attr = step.split(".") if "." in step else ("vault", step)
    obj = rkeeper.vault if target == "vault" else rkeeper.store
    real = getattr(obj, attr)
    calls = {"n": 0}

    def crash(*a, **k):
        # put() is also used for parking the pair first; fail only the filing step.
        if attr == "put" and a and str(a[0]).startswith("pending:"):
            return real(*a, **k)
        calls["n"] += 1
        if attr == "delete_pending":
            raise KeyboardInterrupt("simulated crash")
        raise (VaultError("keyring went away") if target == "vault" else StoreError("database is busy"))

    monkeypatch.setattr(obj, attr, crash)
    with pytest.raises((RotationError, KeyboardInterrupt)):
        rotator(rkeeper, fake_momento).rotate(old)
    assert calls["n"] == 1
    # Nothing is lost: the old key is still in the keyring, the new one parked or filed.
    assert entries(rkeeper)[(SERVICE, f"key:{old.fingerprint}")] == old_key
    assert (SERVICE, f"key:pending:{old.fingerprint}") in entries(rkeeper) or \
        rkeeper.store.find("orders prod").id != old.id
    monkeypatch.setattr(obj, attr, real)
    results = rotator(rkeeper, fake_momento).resume()
    new = rkeeper.store.find("orders prod")
    assert new.id != old.id and new.predecessor_id == old.id and new.secret_stored
    assert rkeeper.vault.get(new.fingerprint).startswith("eyJ")
    assert rkeeper.vault.get_refresh_token(new.fingerprint)
    assert rkeeper.store.open_rotations() == []
    assert (SERVICE, f"key:pending:{old.fingerprint}") not in entries(rkeeper)
    assert len(fake_momento.calls("RefreshApiToken")) == 1     # resumed, not refreshed twice
    assert results


def test_manual_rotation_links_a_replacement(rkeeper, fake_momento):
    old = rkeeper.import_key(inspect_text(fake_momento.superuser_v2_key(), endpoint=fake_momento.cell),
                             "v2 ops", key_type=KeyType.SUPER_USER).record
    new = rkeeper.import_key(inspect_text(fake_momento.superuser_v2_key(), endpoint=fake_momento.cell),
                             "v2 ops 2027", key_type=KeyType.SUPER_USER).record
    rotator(rkeeper, fake_momento).link_replacement(old, new)
    assert rkeeper.store.get(old.id).lifecycle is Lifecycle.PREVIOUS
    assert rkeeper.store.get(new.id).predecessor_id == old.id
    kinds = {r.kind for r in rkeeper.store.reminders(key_id=old.id)}
    assert {ReminderKind.SWITCH, ReminderKind.REVOKE} <= kinds


def interrupting(server: FakeMomento):
    """A Momento factory whose refresh reaches the server, then the user presses Ctrl-C."""

    class Interrupted(MomentoApi):
        def refresh_api_key(self, *args, **kwargs):
            super().refresh_api_key(*args, **kwargs)  # Momento has spent the refresh token now
            raise KeyboardInterrupt

    return lambda: Interrupted(override=server.override, timeout=5, retries=1, backoff=0.01)


def test_an_interrupt_while_momento_answers_ends_with_a_true_message(rkeeper, fake_momento):
    """Ctrl-C or SIGTERM while waiting for Momento: the message says what may have happened, and
    the next run does not blame "another process" for the spent refresh token."""
    old, *_ = two_day_key(rkeeper, fake_momento)
    with pytest.raises(RotationError) as info:
        Rotator(rkeeper, interrupting(fake_momento)).rotate(old)
    said = str(info.value)
    assert "interrupted while Momento was refreshing 'orders prod'" in said
    assert "refresh token is spent" in said and "keeps working until" in said
    assert [r["state"] for r in rkeeper.store.rotations(old.id)] == ["interrupted"]
    r = rotator(rkeeper, fake_momento)
    assert r.resume() == [] or True  # (nothing to resume: no new key was received)
    with pytest.raises(RotationError) as info:
        r.rotate(rkeeper.store.get(old.id))
    said = str(info.value)
    assert "another momento-keys process" not in said
    assert "earlier rotation of 'orders prod' was interrupted" in said and "--replaces" in said


def test_a_key_with_a_parked_pair_cannot_be_deleted_and_doctor_adopts_an_orphaned_pair(
        rkeeper, fake_momento, monkeypatch):
    from tui.services.keeper import KeeperError

    old, *_ = two_day_key(rkeeper, fake_momento)
    r = rotator(rkeeper, fake_momento)

    def db_busy(*a, **k):
        raise StoreError("database is locked")

    monkeypatch.setattr(rkeeper.store, "replace", db_busy)  # the database is busy after the refresh
    with pytest.raises(RotationError) as info:
        r.rotate(old)
    assert info.value.resumable and "safe in the keyring" in str(info.value)
    monkeypatch.undo()
    assert any(u == f"key:pending:{old.fingerprint}" for _, u in entries(rkeeper))
    with pytest.raises(KeeperError, match="rotation in progress"):
        rkeeper.delete(rkeeper.store.get(old.id))
    # Its rotation record is lost (a damaged database restored from a copy, say): the parked pair is
    # still found through the journal, and adopt files it as a key of its own.
    for rot in rkeeper.store.open_rotations():
        rkeeper.store.update_rotation(rot["id"], "failed", now=rkeeper.now(), detail="lost")
    assert any(o["fingerprint"] == f"pending:{old.fingerprint}" for o in recovery.orphans(rkeeper))
    adopted, _ = recovery.adopt(rkeeper)
    assert [a.name for a in adopted] == ["orders prod (new)"]
    assert adopted[0].has_refresh_token and rkeeper.vault.get_refresh_token(adopted[0].fingerprint)
    assert not any(u.startswith("key:pending") for _, u in entries(rkeeper))
    assert recovery.orphans(rkeeper) == []
