"""v2 keys against a real local account server (tests.fake_account): generating one with
a role, syncing the account (paging, updates, revocations seen, untracked keys listed,
matching imported keys only when it is unambiguous), linking, revoking, and the store's
v4 schema."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from tests.conftest import ENDPOINT, NOW, make_v2
from tests.fake_account import OPERATOR, OWNER, VIEWER, FakeAccount
from tui.core.keys import inspect_key
from tui.core.model import ExpirySource, KeyRecord, Kind, Lifecycle, Status
from tui.core.policy import GLYPHS, LABELS, status_of
from tui.core.reminders import ReminderKind, ReminderState, message
from tui.core.report import check_exit_code, record_json, worst
from tui.errors import ExitCode
from tui.services.account import AccountError, ErrorKind, client_for
from tui.services.account.http import HttpAccountClient
from tui.services.issuing import Issuer
from tui.services.keeper import Keeper, KeeperError
from tui.services.revoke import RevokeError, revoke
from tui.services.store import SCHEMA_VERSION, Store
from tui.services.store.schema import MIGRATIONS, split
from tui.services.sync import META_SYNCED_AT, SYNC_SOURCE, last_synced, link, match_imported, sync

DAY = 86400


@pytest.fixture
def account(clock) -> Iterator[FakeAccount]:
    with FakeAccount(now=clock.now) as server:
        yield server


@pytest.fixture
def api(account: FakeAccount) -> HttpAccountClient:
    return client_for(account.acting_key(OWNER, "admin key"), acting="admin", base_url=account.url, timeout=2,
                      backoff=0.01)


def generate(keeper: Keeper, api: HttpAccountClient, name: str, *, role_id: str = OPERATOR,
             description: str | None = None, lifetime: int | None = 30 * DAY, role_name: str | None = "Operator"):
    issued = Issuer(keeper).generate_v2(api, name, role_id=role_id, description=description or name,
                                        expiry="never" if lifetime is None else NOW + lifetime, endpoint=ENDPOINT,
                                        role_name=role_name)
    assert issued.stored, issued.problem
    return issued.record


def statuses(keeper: Keeper) -> list[Status]:
    return [keeper.status(r) for r in keeper.store.all() if r.lifecycle is Lifecycle.ACTIVE]


# ---- generating ----------------------------------------------------------------------------------

def test_generate_a_v2_key_with_a_role(keeper: Keeper, api: HttpAccountClient, account: FakeAccount):
    record = generate(keeper, api, "orders-api prod", description="orders service, prod")
    [call] = account.calls("POST", "/api-keys")
    assert call.body == {"role_id": OPERATOR, "description": "orders service, prod", "expiry": NOW + 30 * DAY}
    assert record.kind is Kind.V2 and record.key_id in account.keys
    assert (record.role_id, record.role_name, record.description) == (OPERATOR, "Operator", "orders service, prod")
    assert record.endpoint == ENDPOINT and record.region == "us-west-2"
    assert record.expires_at == NOW + 30 * DAY and record.expiry_source is ExpirySource.V2_METADATA
    assert record.issued_at == NOW and record.secret_stored and not record.has_refresh_token
    stored = keeper.store.get(record.id)
    assert stored.key_id == record.key_id and stored.role_name == "Operator"
    secret = keeper.secret(stored, why="test")
    assert account.secrets[secret] == record.key_id
    assert {r.kind for r in keeper.store.reminders(key_id=record.id)} == {
        ReminderKind.WARNING, ReminderKind.CRITICAL, ReminderKind.EXPIRY}
    never = generate(keeper, api, "forever", lifetime=None)
    assert account.calls("POST")[-1].body["expiry"] == "never"
    assert never.expires_at is None and never.never_expires and keeper.status(never) is Status.NEVER


def test_a_v2_key_that_cannot_be_stored_is_rescued_with_its_key_id(keeper: Keeper, api: HttpAccountClient,
                                                                  account: FakeAccount):
    import json

    generate(keeper, api, "taken")
    issued = Issuer(keeper).generate_v2(api, "taken", role_id=VIEWER, description="d", expiry="never",
                                        endpoint=ENDPOINT)
    assert not issued.stored and issued.rescue_file is not None and "already tracked" in issued.problem
    doc = json.loads(issued.rescue_file.read_text())
    assert doc["keyId"] in account.keys and doc["roleId"] == VIEWER and doc["endpoint"] == ENDPOINT
    assert doc["validUntil"] == 0
    again = Issuer(keeper).retry(issued, "taken 2")
    assert again.stored and again.record.key_id == doc["keyId"] and not issued.rescue_file.exists()


def test_a_refused_create_makes_nothing(keeper: Keeper, api: HttpAccountClient, account: FakeAccount):
    account.fail(403, method="POST")
    with pytest.raises(AccountError) as caught:
        Issuer(keeper).generate_v2(api, "x", role_id=VIEWER, description="x", expiry="never", endpoint=ENDPOINT)
    assert caught.value.kind is ErrorKind.FORBIDDEN and "'admin' lacks auth-management access" in str(caught.value)
    assert keeper.store.count() == 0


# ---- syncing -------------------------------------------------------------------------------------

def test_sync_250_account_keys_over_3_pages(keeper: Keeper, api: HttpAccountClient, account: FakeAccount, clock):
    tracked = generate(keeper, api, "orders prod")                   # made here: exact by key_id
    gone = generate(keeper, api, "billing prod")                     # revoked in the console later
    key, info = account.issue(VIEWER, "imported one", NOW + 10 * DAY, issued_at=NOW - DAY)
    imported = keeper.import_key(inspect_key(key, endpoint=ENDPOINT), "imported").record  # no key_id yet
    assert imported.key_id is None and imported.expiry_source is ExpirySource.JWT_EXP
    account.add_keys(246, prefix="svc")                               # acting + 3 + 246 ...
    account.remove(gone.key_id)                                       # ... the console revokes one
    account.keys[tracked.key_id].update(expires_at_epoch_seconds=NOW + 60 * DAY, description="orders, renamed")
    assert len(account.keys) == 249
    account.add_keys(1, prefix="late")                                # ... - 1 + 1 = 250 listed
    clock.advance(3600)

    pages: list[int] = []
    report = sync(keeper, api, on_page=pages.append)

    assert report.listed == 250 and pages == [100, 200, 250] and len(account.calls("GET", "/api-keys")) == 3
    assert report.roles_known and report.synced_at == NOW + 3600
    assert report.updated == ["orders prod"] and report.revoked == ["billing prod"]
    assert report.matched == ["imported"] and report.unmatched == []
    assert len(report.added) == 248 and "admin key" in report.added  # 246 svc, 1 late, and the acting key
    assert report.counts() == {"listed": 250, "updated": 1, "confirmed": 0, "revoked": 1,
                               "added": len(report.added), "matched": 1, "unmatched": 0}
    assert report.summary().startswith("Synced: 250 account keys read, 1 updated, 1 revoked")

    store = keeper.store
    t = store.get(tracked.id)
    assert t.expires_at == NOW + 60 * DAY and t.description == "orders, renamed" and t.synced_at == NOW + 3600
    assert t.expiry_source is ExpirySource.V2_METADATA and t.role_name == "Operator"
    assert store.events(t.id)[0].action == "synced"
    g = store.get(gone.id)
    assert g.revoked_at == NOW + 3600 and g.lifecycle is Lifecycle.ACTIVE
    assert keeper.status(g) is Status.REVOKED and f"{GLYPHS[Status.REVOKED]} {LABELS[Status.REVOKED]}" == "⊘ REVOKED"
    assert store.reminders(key_id=g.id) == []                         # closed
    assert {r.state for r in store.reminders(key_id=g.id, open_only=False)} == {ReminderState.DONE}
    assert store.events(g.id)[0].action == "reminder done"             # the closing, after the revocation
    assert any(e.action == "revoked" and "revoked elsewhere" in e.detail for e in store.events(g.id))
    assert check_exit_code(statuses(keeper)) == ExitCode.CRITICAL and worst(statuses(keeper)) is Status.REVOKED
    assert record_json(g, clock.now(), keeper.settings.thresholds)["status"] == "revoked"
    i = store.get(imported.id)
    assert i.key_id == info["key_id"] and i.expiry_source is ExpirySource.V2_METADATA and i.role_name == "Viewer"
    assert i.secret_stored and i.description == "imported one"
    # The account's other keys: metadata-only records, with reminders like any other key.
    listed = [r for r in store.all() if r.source == SYNC_SOURCE]
    assert len(listed) == 248 and all(r.kind is Kind.V2 and not r.secret_stored and r.key_id for r in listed)
    svc = store.find("svc 0007")
    assert svc is not None and svc.role_name == "Viewer" and svc.expires_at and svc.issued_at == NOW
    assert {r.kind for r in store.reminders(key_id=svc.id)} >= {ReminderKind.EXPIRY}
    assert store.find("admin key") is not None                        # the acting key, described "admin key"
    assert store.meta(META_SYNCED_AT) == str(NOW + 3600) and last_synced(keeper) == NOW + 3600
    with pytest.raises(KeeperError, match="no secret is stored"):
        keeper.secret(svc, why="test")

    # Again: nothing new; every record confirmed.
    clock.advance(60)
    again = sync(keeper, api)
    assert (again.updated, again.revoked, again.added, again.matched) == ([], [], [], [])
    assert again.confirmed == 250
    assert store.get(svc.id).synced_at == NOW + 3660
    assert [e.action for e in store.events(svc.id)] == ["listed by the account"]  # confirmations log nothing


def test_a_revoked_key_listed_again_and_gone_metadata_records(keeper: Keeper, api: HttpAccountClient,
                                                             account: FakeAccount):
    mine = generate(keeper, api, "mine")
    account.add_keys(1, prefix="theirs")
    sync(keeper, api)
    theirs = keeper.store.find("theirs 0000")
    saved = dict(account.keys[mine.key_id])
    account.remove(mine.key_id)
    account.remove(theirs.key_id)
    report = sync(keeper, api)
    assert sorted(report.revoked) == ["mine", "theirs 0000"]
    assert keeper.store.get(theirs.id).lifecycle is Lifecycle.RETIRED  # no secret held: nothing depends on it
    assert keeper.store.get(mine.id).lifecycle is Lifecycle.ACTIVE     # ours: check says critical until dealt with
    account.keys[mine.key_id] = saved
    report = sync(keeper, api)
    assert report.updated == ["mine"] and keeper.store.get(mine.id).revoked_at is None
    assert keeper.store.events(mine.id)[0].action == "listed again"
    assert keeper.status(keeper.store.get(mine.id)) is Status.OK


def test_an_expired_key_the_account_dropped_is_not_called_revoked(keeper: Keeper, api: HttpAccountClient,
                                                                 account: FakeAccount, clock):
    short = generate(keeper, api, "short", lifetime=3600)
    clock.advance(7200)
    account.remove(short.key_id)
    report = sync(keeper, api)
    assert report.revoked == [] and report.expired_gone == ["short"]
    assert keeper.status(keeper.store.get(short.id)) is Status.EXPIRED


def test_imported_keys_are_matched_only_when_unambiguous(keeper: Keeper, api: HttpAccountClient,
                                                        account: FakeAccount):
    # Two account keys issued in the same second with the same expiry, both imported here.
    twins = [account.issue(VIEWER, f"twin {i}", NOW + DAY, issued_at=NOW - 60) for i in range(2)]
    for i, (key, _) in enumerate(twins):
        keeper.import_key(inspect_key(key, endpoint=ENDPOINT), f"twin here {i}")
    # One whose JWT has no iat: nothing to match on.
    bare = make_v2(issued=None, expires=NOW + 5 * DAY)
    keeper.import_key(inspect_key(bare, endpoint=ENDPOINT), "bare")
    report = sync(keeper, api)
    assert sorted(report.unmatched) == ["bare", "twin here 0", "twin here 1"] and report.matched == []
    assert {r.key_id for r in keeper.store.all() if r.name.startswith("twin here")} == {None}
    # Their account entries are listed as metadata-only records; linking one by hand merges them.
    listed = keeper.store.find("twin 0")
    assert listed is not None and listed.source == SYNC_SOURCE
    here = keeper.store.find("twin here 0")
    linked = link(keeper, here, twins[0][1]["key_id"])
    assert linked.key_id == twins[0][1]["key_id"] and linked.role_id == VIEWER and linked.secret_stored
    assert linked.expiry_source is ExpirySource.V2_METADATA
    assert keeper.store.find("twin 0") is None                        # the metadata-only record made way
    assert keeper.store.events(linked.id)[0].action == "linked"
    # With one twin linked, the other is no longer ambiguous: one account key is left that fits it.
    again = sync(keeper, api)
    assert again.unmatched == ["bare"] and again.matched == ["twin here 1"]
    assert keeper.store.find("twin here 1").key_id == twins[1][1]["key_id"] and keeper.store.find("twin 1") is None
    with pytest.raises(KeeperError, match="already linked to 'twin here 0'"):
        link(keeper, keeper.store.find("bare"), twins[0][1]["key_id"])
    with pytest.raises(KeeperError, match="one word"):
        link(keeper, keeper.store.find("bare"), "two words")
    with pytest.raises(KeeperError, match="already linked"):
        link(keeper, linked, "another-id")


def test_an_imported_key_takes_the_place_of_its_listed_record(keeper: Keeper, api: HttpAccountClient,
                                                              account: FakeAccount):
    key, info = account.issue(VIEWER, "made in the console", NOW + 10 * DAY, issued_at=NOW - DAY)
    sync(keeper, api)
    listed = keeper.store.find("made in the console")
    assert listed is not None and listed.key_id == info["key_id"] and not listed.secret_stored
    imported = keeper.import_key(inspect_key(key, endpoint=ENDPOINT), "console key").record
    report = sync(keeper, api)
    assert report.matched == ["console key"] and report.added == [] and report.unmatched == []
    assert keeper.store.find("made in the console") is None
    here = keeper.store.get(imported.id)
    assert here.key_id == info["key_id"] and here.secret_stored and here.description == "made in the console"
    assert "took the place of 'made in the console'" in keeper.store.events(here.id)[0].detail
    assert keeper.store.events(listed.id)[0].action == "merged"
    assert sync(keeper, api).confirmed == 2  # the acting key's record and this one


def test_match_rule_is_one_to_one():
    from tui.services.account import KeyInfo

    def rec(rid: int, iat: int | None, exp: int | None) -> KeyRecord:
        claims = {k: v for k, v in (("iat", iat), ("exp", exp)) if v is not None}
        return KeyRecord(name=f"r{rid}", kind=Kind.V2, id=rid, claims=claims)

    a, b, c = KeyInfo("a", "r", issued_at=10, expires_at=20), KeyInfo("b", "r", issued_at=10, expires_at=30), \
        KeyInfo("c", "r", issued_at=50)
    assert match_imported([rec(1, 10, 20), rec(2, 10, 30), rec(3, 50, None)], [a, b, c]) == {1: a, 2: b, 3: c}
    assert match_imported([rec(1, 10, None)], [a, b]) == {}           # iat alone fits two
    assert match_imported([rec(1, 10, 20), rec(2, 10, 20)], [a]) == {}  # two records fit one key
    assert match_imported([rec(1, None, 20)], [a]) == {}              # no iat: never


def test_sync_failures_change_nothing(keeper: Keeper, api: HttpAccountClient, account: FakeAccount):
    mine = generate(keeper, api, "mine")
    account.fail(401, path="/api-keys")
    with pytest.raises(AccountError, match="rejected 'admin'"):
        sync(keeper, api)
    account.fail(500, path="/api-keys", method="GET")
    with pytest.raises(AccountError):
        sync(keeper, api)
    account.garbage(path="/api-keys", method="GET")
    with pytest.raises(AccountError, match="unexpected answer"):
        sync(keeper, api)
    assert keeper.store.get(mine.id).synced_at is None and last_synced(keeper) is None
    # Roles refused, keys readable: the sync goes on without role names, and says so.
    account.fail(403, path="/roles")
    report = sync(keeper, api)
    assert not report.roles_known and "role names are not known" in report.warnings[0]
    assert report.confirmed == 1 and keeper.store.find("admin key").role_name is None


# ---- revoking ------------------------------------------------------------------------------------

def test_revoke_sends_one_delete_and_retires_the_record(keeper: Keeper, api: HttpAccountClient,
                                                       account: FakeAccount):
    record = generate(keeper, api, "orders prod")
    outcome = revoke(keeper, api, record, "admin")
    assert [c.path for c in account.calls("DELETE")] == [f"/api-keys/{record.key_id}"]
    assert record.key_id not in account.keys and not outcome.already_gone
    r = outcome.record
    assert r.lifecycle is Lifecycle.RETIRED and r.revoked_at == NOW
    assert keeper.store.reminders(key_id=r.id) == []
    event = keeper.store.events(r.id)
    assert any(e.action == "revoked" and "by 'admin'" in e.detail for e in event)
    assert outcome.summary() == "Revoked 'orders prod' (role Operator) with 'admin': it no longer works; retired here."
    with pytest.raises(RevokeError, match="was revoked on"):
        revoke(keeper, api, r, "admin")
    assert len(account.calls("DELETE")) == 1


def test_revoking_a_key_already_gone_retires_it_and_says_so(keeper: Keeper, api: HttpAccountClient,
                                                           account: FakeAccount):
    record = generate(keeper, api, "gone")
    account.remove(record.key_id)
    sync(keeper, api)
    record = keeper.store.get(record.id)
    assert keeper.status(record) is Status.REVOKED and record.lifecycle is Lifecycle.ACTIVE
    outcome = revoke(keeper, api, record)
    assert outcome.already_gone and outcome.record.lifecycle is Lifecycle.RETIRED
    assert "already gone from the account" in outcome.summary()
    assert outcome.record.revoked_at == record.revoked_at  # when it was first found revoked


def test_a_refused_revoke_changes_nothing(keeper: Keeper, api: HttpAccountClient, account: FakeAccount):
    record = generate(keeper, api, "kept")
    for status, words in ((403, "'admin' lacks auth-management access"), (401, "invalid or expired")):
        account.fail(status, method="DELETE")
        with pytest.raises(AccountError, match=words):
            revoke(keeper, api, record)
        assert keeper.store.get(record.id).lifecycle is Lifecycle.ACTIVE
    assert record.key_id in account.keys


def test_what_cannot_be_revoked_from_here(keeper: Keeper, api: HttpAccountClient, account: FakeAccount):
    from tests.conftest import make_v1

    v1 = keeper.import_key(inspect_key(make_v1()), "v1 key").record
    with pytest.raises(RevokeError, match="revoke it in the Momento console"):
        revoke(keeper, api, v1)
    v2 = keeper.import_key(inspect_key(make_v2(), endpoint=ENDPOINT), "unlinked").record
    with pytest.raises(RevokeError, match="link 'unlinked' KEY_ID"):
        revoke(keeper, api, v2)
    assert account.calls("DELETE") == []


def test_revoked_status_in_check(keeper: Keeper):
    record = KeyRecord(name="r", kind=Kind.V2, expires_at=NOW + 100 * DAY, issued_at=NOW,
                       expiry_source=ExpirySource.V2_METADATA, revoked_at=NOW)
    assert status_of(record, NOW, keeper.settings.thresholds) is Status.REVOKED
    assert check_exit_code([Status.OK, Status.REVOKED]) == ExitCode.CRITICAL
    assert check_exit_code([Status.NEVER, Status.REVOKED], never_is_ok=True) == ExitCode.CRITICAL
    assert worst([Status.EXPIRED, Status.REVOKED]) is Status.REVOKED


def test_v2_reminder_messages_say_to_revoke(keeper: Keeper):
    from tui.core.reminders import Reminder

    old = KeyRecord(name="old", kind=Kind.V2, key_id="k1", expires_at=NOW + DAY)
    assert "momento-keys revoke 'old'" in message(Reminder(1, ReminderKind.SWITCH, NOW), old, NOW)
    assert "momento-keys revoke 'old'" in message(Reminder(1, ReminderKind.REVOKE, NOW), old, NOW)


# ---- the store -------------------------------------------------------------------------------------

def test_schema_v4_upgrades_a_v3_database(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for version in (1, 2, 3):
        for statement in split(MIGRATIONS[version]):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    conn.execute("INSERT INTO keys (name, kind, fingerprint, created_at, updated_at) VALUES ('old', 'v2', 'fp', 1, 1)")
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION == 4
    old = store.find("old")
    assert old is not None and (old.key_id, old.role_id, old.revoked_at) == (None, None, None)
    store.update(old.id, now=5, key_id="k-1", role_id="r", role_name="Viewer", description="d", synced_at=5,
                 revoked_at=6)
    again = store.get(old.id)
    assert (again.key_id, again.role_name, again.description, again.synced_at, again.revoked_at) == (
        "k-1", "Viewer", "d", 5, 6)
    [lean] = store.all(lean=True)
    assert (lean.key_id, lean.role_name, lean.revoked_at) == ("k-1", "Viewer", 6)
    other = store.add(KeyRecord(name="other", kind=Kind.V2, fingerprint="fp2"), now=7)
    from tui.services.store import DuplicateKeyId

    with pytest.raises(DuplicateKeyId, match="k-1"):
        store.update(other.id, now=8, key_id="k-1")
    store.close()
