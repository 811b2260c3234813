from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.conftest import NOW
from tui.core.model import ExpirySource, KeyRecord, KeyType, Kind, Lifecycle
from tui.services.store import SCHEMA_VERSION, DuplicateKey, DuplicateName, ReadOnlyStore, Store, StoreError


def rec(name: str, fp: str | None = None, expires: int | None = NOW + 86400) -> KeyRecord:
    return KeyRecord(name=name, kind=Kind.V1, key_type=KeyType.FINE_GRAINED, endpoint="cell-x.prod.a.momentohq.com",
                     expires_at=expires, expiry_source=ExpirySource.JWT_EXP, fingerprint=fp or f"sha256:{name}",
                     permissions=[{"kind": "cache", "cache": "*", "topic": None, "role": "readonly"}],
                     tags=["prod"], claims={"sub": "x"})


def test_file_and_directory_are_private(tmp_path: Path):
    path = tmp_path / "new" / "deeper" / "keys.db"
    Store(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_schema_wal_and_version(store: Store):
    assert store.schema_version() == SCHEMA_VERSION
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.integrity() == "ok"


def test_round_trip(store: Store):
    r = store.add(rec("orders"), now=NOW)
    assert r.id is not None
    got = store.get(r.id)
    assert got.name == "orders" and got.kind is Kind.V1 and got.key_type is KeyType.FINE_GRAINED
    assert got.permissions == [{"kind": "cache", "cache": "*", "topic": None, "role": "readonly"}]
    assert got.tags == ["prod"] and got.claims == {"sub": "x"} and got.created_at == NOW
    assert store.find("orders").id == r.id and store.find("nope") is None


def test_listing_is_soonest_expiry_first(store: Store):
    store.add(rec("late", expires=NOW + 900), now=NOW)
    store.add(rec("never", expires=None), now=NOW)
    store.add(rec("soon", expires=NOW + 10), now=NOW)
    assert [r.name for r in store.all()] == ["soon", "late", "never"]


def test_duplicates_rejected(store: Store):
    store.add(rec("a", fp="sha256:1"), now=NOW)
    with pytest.raises(DuplicateName):
        store.add(rec("a", fp="sha256:2"), now=NOW)
    with pytest.raises(DuplicateKey) as info:
        store.add(rec("b", fp="sha256:1"), now=NOW)
    assert info.value.existing == "a"
    assert store.count() == 1


def test_update_and_events(store: Store):
    r = store.add(rec("a"), now=NOW)
    store.update(r.id, now=NOW + 5, name="b", notes="k8s", lifecycle=Lifecycle.PREVIOUS)
    got = store.get(r.id)
    assert (got.name, got.notes, got.lifecycle, got.updated_at) == ("b", "k8s", Lifecycle.PREVIOUS, NOW + 5)
    store.log(r.id, "revealed", now=NOW + 6)
    assert [e.action for e in store.events(r.id)] == ["revealed", "edited", "imported"]


def test_event_log_is_append_only(store: Store):
    r = store.add(rec("a"), now=NOW)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store._conn.execute("DELETE FROM events")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store._conn.execute("UPDATE events SET action = 'x'")
    store.delete(r.id, now=NOW + 1)
    assert [e.action for e in store.events(r.id)] == ["deleted", "imported"]


def test_newer_schema_opens_read_only(db_path: Path):
    Store(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    s = Store(db_path)
    assert s.readonly and "newer" in (s.readonly_reason or "")
    with pytest.raises(ReadOnlyStore):
        s.add(rec("x"), now=NOW)
    assert s.all() == []


def test_migration_from_empty_file_is_one_transaction(tmp_path: Path):
    path = tmp_path / "k.db"
    path.touch(mode=0o600)
    s = Store(path)
    assert s.schema_version() == SCHEMA_VERSION
    tables = {r[0] for r in s._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"keys", "events"} <= tables


def test_corrupt_file_gives_clear_message_and_is_untouched(tmp_path: Path):
    path = tmp_path / "k.db"
    junk = b"SQLite format 3\x00" + b"this page is damaged beyond repair" * 100  # an SQLite file, damaged
    path.write_bytes(junk)
    with pytest.raises(StoreError) as info:
        Store(path)
    assert "damaged" in str(info.value) and "left untouched" in str(info.value)
    assert path.read_bytes() == junk
    backups = list(tmp_path.glob("k.db.corrupt-*.bak"))
    assert len(backups) == 1 and backups[0].read_bytes() == junk and str(backups[0]) in str(info.value)
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    with pytest.raises(StoreError):
        Store(path)          # a second attempt does not pile up copies
    assert len(list(tmp_path.glob("k.db.corrupt-*.bak"))) == 1


def test_readonly_open_of_missing_file_does_not_create_it(tmp_path: Path):
    path = tmp_path / "absent.db"
    s = Store(path, readonly=True)
    assert s.all() == []
    assert not path.exists()


def _writer(path: str, prefix: str, count: int) -> None:
    s = Store(path)
    for i in range(count):
        s.add(rec(f"{prefix}-{i}", fp=f"sha256:{prefix}{i}"), now=NOW + i)
    s.close()


def test_two_processes_writing_at_once(db_path: Path):
    Store(db_path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(db_path), p, 60)) for p in ("a", "b", "c")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    s = Store(db_path)
    assert s.count() == 180
    assert s.integrity() == "ok"


def test_data_version_sees_other_connections(db_path: Path):
    a = Store(db_path)
    b = Store(db_path)
    before = a.data_version()
    b.add(rec("x"), now=NOW)
    assert a.data_version() != before
    assert [r.name for r in a.all()] == ["x"]


def test_busy_database_gives_a_sentence(db_path: Path, monkeypatch):
    s = Store(db_path)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    s._conn.execute("PRAGMA busy_timeout = 50")
    try:
        with pytest.raises(StoreError) as info:
            s.add(rec("x"), now=NOW)
        assert "busy" in str(info.value)
    finally:
        blocker.execute("ROLLBACK")
    assert s.count() == 0
    assert os.path.exists(db_path)


def test_v1_database_is_upgraded_with_its_data(tmp_path: Path):
    """A database written by schema 1 gains the reminder tables and keeps every record."""
    from tui.services.store import schema

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in schema.split(schema.MIGRATIONS[1]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO keys (name, kind, fingerprint, created_at, updated_at) "
                 "VALUES ('legacy', 'v1', 'sha256:1', 1, 1)")
    conn.close()
    reader = Store(path, readonly=True)   # `list` and `check` open read-only: they upgrade once, then read
    assert [r.name for r in reader.all()] == ["legacy"]
    assert reader.schema_version() == SCHEMA_VERSION
    assert reader.due_reminders(NOW) == []


def test_a_file_that_is_not_sqlite_is_refused_and_nothing_is_written_beside_it(tmp_path: Path):
    """`--db /etc/passwd`: not a damaged database of ours, so no copy is made next to it."""
    from tui.services.store import NotOurs

    path = tmp_path / "passwd"
    text = b"root:x:0:0:root:/root:/bin/bash\n" * 20
    path.write_bytes(text)
    for readonly in (False, True):
        with pytest.raises(NotOurs, match="not a momento-keys database"):
            Store(path, readonly=readonly)
    assert path.read_bytes() == text and sorted(p.name for p in tmp_path.iterdir()) == ["passwd"]
    (tmp_path / "folder.db").mkdir()
    with pytest.raises(NotOurs, match="is a folder"):
        Store(tmp_path / "folder.db")


def test_a_database_from_a_newer_version_is_not_changed_at_all(db_path: Path):
    """Not even switched to WAL by an ordinary (read-write) open, as `list` and `check` do."""
    Store(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = db_path.read_bytes()
    store = Store(db_path)
    assert store.readonly and "newer momento-keys" in (store.readonly_reason or "")
    assert store.all() == []
    store.close()
    assert db_path.read_bytes() == before
    assert not Path(f"{db_path}-wal").exists() and not Path(f"{db_path}-shm").exists()


def test_a_damaged_page_is_found_before_the_first_write(tmp_path: Path):
    """A write to a database with a damaged page is refused with the damaged-database message
    (it once wrote around the damage, then died with a raw IntegrityError)."""
    from tests.conftest import make_v1
    from tui.core.keys import inspect_text
    from tui.services.keeper import record_from

    path = tmp_path / "k.db"
    store = Store(path)
    for i in range(300):
        store.add(record_from(inspect_text(make_v1(expires=2_000_000_000 + i)), f"key {i:03d}"), now=1)
    store.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 6 * page
    data[3 * page + 200: 3 * page + 1200] = b"\xff" * 1000  # one interior page scribbled over
    path.write_bytes(bytes(data))
    Path(f"{path}-wal").unlink(missing_ok=True)
    from tui.services.keeper import Keeper
    from tui.services.vault import MemoryKeyring, Vault

    vault = Vault(MemoryKeyring())
    vault.probe()
    keeper = Keeper(Store(path), vault)
    with pytest.raises(StoreError) as info:
        keeper.import_key(inspect_text(make_v1()), "new key")
    assert "damaged" in str(info.value)
    assert vault.backend.entries == {}  # refused before the keyring was written


def test_closing_while_another_thread_reads_waits_for_it_and_later_reads_fail_in_words(tmp_path):
    """A store closed while a worker reads (the app shutting down under a running recount)
    must neither crash the interpreter nor hand back a half-closed connection."""
    import threading

    from tui.services.store import Store, StoreError

    store = Store(tmp_path / "keys.db")
    started, release = threading.Event(), threading.Event()
    original = store._conn

    class Slow:
        """The connection, with an execute that holds until told (as a long read does)."""

        def execute(self, *args):
            started.set()
            release.wait(5)
            return original.execute(*args)

        def __getattr__(self, name):
            return getattr(original, name)

    store._conn = Slow()  # type: ignore[assignment]
    result: list = []
    reader = threading.Thread(target=lambda: result.append(store.data_version()))
    reader.start()
    assert started.wait(5)
    closer = threading.Thread(target=store.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive()  # the close waits for the read in flight
    release.set()
    reader.join(5)
    closer.join(5)
    assert result and isinstance(result[0], int)
    with pytest.raises(StoreError):
        store.data_version()
