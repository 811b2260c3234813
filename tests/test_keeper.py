from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import NOW, console_json, make_v1, make_v2
from tui.core.keys import inspect_text
from tui.core.model import KeyType, Kind, Status
from tui.services import recovery
from tui.services.keeper import Keeper, KeeperError
from tui.services.store import Store, StoreError
from tui.services.vault import SERVICE, MemoryKeyring, Vault


def db_bytes(path: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            data += p.read_bytes()
    return data


def test_import_puts_secret_in_keyring_and_only_metadata_in_sqlite(keeper: Keeper, db_path: Path,
                                                                   memory_keyring: MemoryKeyring):
    key = make_v1(issued=NOW - 20 * 86400, expires=NOW + 10 * 86400)
    refresh = "rt-" + "x" * 40
    result = keeper.import_key(inspect_text(console_json(key, NOW + 10 * 86400, refresh)), "orders prod",
                               key_type=KeyType.FINE_GRAINED, notes="k8s")
    r = result.record
    assert r.secret_stored and r.has_refresh_token
    assert (r.region, r.provider) == ("us-west-2", "aws")
    assert r.expires_at == NOW + 10 * 86400 and r.expiry_source.value == "console_json"
    assert keeper.status(r) is Status.WARNING
    assert memory_keyring.entries[(SERVICE, f"key:{r.fingerprint}")] == key
    assert memory_keyring.entries[(SERVICE, f"refresh:{r.fingerprint}")] == refresh
    keeper.store.close()
    raw = db_bytes(db_path)
    inner = key.encode()
    assert inner not in raw and refresh.encode() not in raw
    # Nor any long piece of the key (the JWT inside it).
    import base64
    import json

    jwt_part = json.loads(base64.b64decode(key))["api_key"]
    for piece in jwt_part.split("."):
        assert piece.encode() not in raw


def test_reading_a_secret_is_logged(keeper: Keeper):
    r = keeper.import_key(inspect_text(make_v1()), "a").record
    assert keeper.secret(r, why="revealed").startswith("eyJ")
    assert keeper.store.events(r.id)[0].action == "revealed"


def test_no_keyring_means_metadata_only_with_a_warning(store: Store, clock):
    import keyring.backends.fail

    keeper = Keeper(store, Vault(keyring.backends.fail.Keyring()), clock=clock)
    result = keeper.import_key(inspect_text(make_v1()), "a")
    assert not result.record.secret_stored
    assert any("NOT stored" in w for w in result.warnings)
    with pytest.raises(KeeperError, match="metadata"):
        keeper.secret(result.record, why="revealed")


def test_duplicate_name_and_key_rejected_and_nothing_changes(keeper: Keeper, memory_keyring: MemoryKeyring):
    key = make_v1()
    keeper.import_key(inspect_text(key), "a")
    before = dict(memory_keyring.entries)
    with pytest.raises(KeeperError, match="already tracked"):
        keeper.import_key(inspect_text(make_v1()), "a")
    with pytest.raises(KeeperError, match="already tracked as 'a'"):
        keeper.import_key(inspect_text(key), "b")
    assert memory_keyring.entries == before
    assert keeper.store.count() == 1


def test_store_failure_takes_the_secret_back(keeper: Keeper, memory_keyring: MemoryKeyring, monkeypatch):
    def broken(*a, **k):
        raise StoreError("the disk holding x is full; nothing was changed")

    monkeypatch.setattr(keeper.store, "add", broken)
    with pytest.raises(StoreError):
        keeper.import_key(inspect_text(make_v1()), "a")
    assert memory_keyring.entries == {}


def test_v2_key_without_endpoint_warns(keeper: Keeper):
    result = keeper.import_key(inspect_text(make_v2()), "v2")
    assert result.record.kind is Kind.V2
    assert any("endpoint" in w for w in result.warnings)


def test_delete_removes_keyring_entry(keeper: Keeper, memory_keyring: MemoryKeyring):
    r = keeper.import_key(inspect_text(console_json(make_v1(), None, "rt-abc")), "a").record
    assert memory_keyring.entries
    keeper.delete(r)
    assert memory_keyring.entries == {}
    assert keeper.store.find("a") is None


def test_edit_rename_and_clash(keeper: Keeper):
    a = keeper.import_key(inspect_text(make_v1()), "a").record
    keeper.import_key(inspect_text(make_v1()), "b")
    with pytest.raises(KeeperError, match="already tracked"):
        keeper.edit(a, name="b")
    renamed = keeper.edit(a, name="  c  ", notes="used by x")
    assert renamed.name == "c" and renamed.notes == "used by x"
    assert keeper.store.events(a.id)[0].detail == "name, notes"


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\x07name"])
def test_bad_names(keeper: Keeper, name: str):
    with pytest.raises(KeeperError):
        keeper.import_key(inspect_text(make_v1()), name)
    assert keeper.store.count() == 0


def test_a_secret_left_without_its_record_is_found_and_adopted(keeper: Keeper, memory_keyring: MemoryKeyring,
                                                              monkeypatch):
    key = make_v1()
    refresh = "rt-orphan-123456"

    class Killed(BaseException):
        """SIGKILL between the keyring write and the record (no handler runs; Ctrl-C cleans up)."""

    def crash(*a, **k):
        raise Killed()

    monkeypatch.setattr(keeper.store, "add", crash)
    with pytest.raises(Killed):
        keeper.import_key(inspect_text(console_json(key, None, refresh)), "orders prod")
    monkeypatch.undo()
    assert keeper.store.count() == 0
    [orphan] = recovery.orphans(keeper)
    assert orphan["name"] == "orders prod"
    adopted, dropped = recovery.adopt(keeper)
    assert [r.name for r in adopted] == ["orders prod"] and dropped == 0
    record = keeper.store.find("orders prod")
    assert record.secret_stored and record.has_refresh_token and record.source == "adopted"
    assert keeper.vault.get(record.fingerprint) == key
    assert recovery.orphans(keeper) == [] and keeper.store.journal() == []


def test_journal_row_without_a_secret_is_dropped(keeper: Keeper):
    keeper.store.journal_add("sha256:gone", "ghost", "v1", now=NOW)
    assert recovery.orphans(keeper) == []
    assert recovery.adopt(keeper) == ([], 1)
    assert keeper.store.journal() == []


def test_a_refused_import_leaves_the_keyring_as_it_was(keeper: Keeper, memory_keyring: MemoryKeyring):
    """Importing a tracked key again, from a file with another refresh token, is refused before
    anything is written: the stored refresh token stays (it once was overwritten)."""
    key = make_v1()
    first = keeper.import_key(inspect_text(console_json(key, NOW + 30 * 86400, "rt-first-" + "a" * 30)), "a").record
    before = dict(memory_keyring.entries)
    with pytest.raises(KeeperError, match="already tracked as 'a'"):
        keeper.import_key(inspect_text(console_json(key, NOW + 30 * 86400, "rt-second-" + "b" * 30)), "b")
    assert memory_keyring.entries == before
    assert keeper.vault.get_refresh_token(first.fingerprint) == "rt-first-" + "a" * 30
    assert [r.name for r in keeper.store.all()] == ["a"]


def test_reimporting_a_key_whose_secret_went_missing_puts_it_back(keeper: Keeper, memory_keyring: MemoryKeyring):
    key = make_v1()
    record = keeper.import_key(inspect_text(console_json(key, NOW + 30 * 86400, "rt-" + "c" * 30)), "a").record
    memory_keyring.entries.clear()  # the user's keyring lost it (reset, other machine, cleanup)
    result = keeper.import_key(inspect_text(console_json(key, NOW + 30 * 86400, "rt-" + "c" * 30)), "a")
    assert result.record.id == record.id and "it is back" in result.warnings[0]
    assert keeper.vault.get(record.fingerprint) == key
    assert keeper.vault.get_refresh_token(record.fingerprint) == "rt-" + "c" * 30
    assert keeper.store.events(record.id)[0].action == "secret restored"


def test_names_equal_after_unicode_normalisation_are_one_name(keeper: Keeper):
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    keeper.import_key(inspect_text(make_v1()), nfc)
    with pytest.raises(KeeperError, match="already tracked"):
        keeper.import_key(inspect_text(make_v1(expires=NOW + 9 * 86400)), nfd)
    assert keeper.store.find(nfc) is not None
