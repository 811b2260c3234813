"""The database file, its schema and its transactions: what every part of the store builds on.

The file is created 0600 (in a 0700 directory) before SQLite opens it, so no other
user can read it even for an instant. WAL lets readers (the dashboard, cron's
`check`) go on while one process writes. Every transaction that may write starts
with BEGIN IMMEDIATE: a deferred transaction that reads and then writes fails at
once with "database is locked" under concurrency, whatever the busy timeout.
Schema versions live in PRAGMA user_version, each migration and its bump in one
transaction; a database from a newer version is opened read-only.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from .errors import NotOurs, ReadOnlyStore, StoreError, friendly

SCHEMA_VERSION = 4
BUSY_TIMEOUT_MS = 10_000

TYPE_CHECKING = False
if TYPE_CHECKING:  # importing typing would cost `check`, which cron runs every minute
    from typing import TypeVar

    T = TypeVar("T")

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE keys (
        id                INTEGER PRIMARY KEY,
        name              TEXT NOT NULL UNIQUE,
        kind              TEXT NOT NULL,
        key_type          TEXT NOT NULL DEFAULT 'unknown',
        endpoint          TEXT,
        region            TEXT,
        provider          TEXT,
        issued_at         INTEGER,
        expires_at        INTEGER,
        expiry_source     TEXT NOT NULL DEFAULT 'unknown',
        fingerprint       TEXT NOT NULL,
        has_refresh_token INTEGER NOT NULL DEFAULT 0,
        secret_stored     INTEGER NOT NULL DEFAULT 0,
        permissions       TEXT,
        notes             TEXT NOT NULL DEFAULT '',
        tags              TEXT NOT NULL DEFAULT '[]',
        lifecycle         TEXT NOT NULL DEFAULT 'active',
        source            TEXT NOT NULL DEFAULT '',
        claims            TEXT NOT NULL DEFAULT '{}',
        warning_seconds   INTEGER,
        critical_seconds  INTEGER,
        created_at        INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL
    );
    CREATE INDEX keys_expires_at ON keys (expires_at);
    CREATE INDEX keys_fingerprint ON keys (fingerprint);
    CREATE TABLE events (
        id       INTEGER PRIMARY KEY,
        key_id   INTEGER NOT NULL,
        key_name TEXT NOT NULL,
        at       INTEGER NOT NULL,
        action   TEXT NOT NULL,
        detail   TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX events_key ON events (key_id, at);
    -- The event log is append-only.
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    """,
    2: """
    ALTER TABLE keys ADD COLUMN predecessor_id INTEGER REFERENCES keys (id) ON DELETE SET NULL;
    CREATE INDEX keys_predecessor ON keys (predecessor_id);
    CREATE TABLE reminders (
        id            INTEGER PRIMARY KEY,
        key_id        INTEGER NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
        kind          TEXT NOT NULL,
        due_at        INTEGER NOT NULL,
        state         TEXT NOT NULL DEFAULT 'pending',
        snoozed_until INTEGER,
        notified_at   INTEGER,
        updated_at    INTEGER NOT NULL,
        UNIQUE (key_id, kind)
    );
    CREATE INDEX reminders_due ON reminders (state, due_at);
    CREATE TABLE rotations (
        id              INTEGER PRIMARY KEY,
        old_id          INTEGER NOT NULL,
        old_name        TEXT NOT NULL,
        new_id          INTEGER,
        new_fingerprint TEXT,
        method          TEXT NOT NULL,
        state           TEXT NOT NULL,
        detail          TEXT NOT NULL DEFAULT '',
        started_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    );
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    3: """
    -- Secrets written to the keyring whose record is not committed yet. A row
    -- left behind by a crash points `doctor` at a secret to adopt (keyrings
    -- cannot be listed, so this is how an orphan is found).
    CREATE TABLE secret_journal (
        fingerprint TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        kind        TEXT NOT NULL,
        at          INTEGER NOT NULL
    );
    """,
    4: """
    -- v2 keys: what Momento's account API says about each key. key_id is the
    -- account's id of the key (one record per account key); revoked_at is set when
    -- the account no longer lists a key, or when it was revoked from here.
    ALTER TABLE keys ADD COLUMN key_id TEXT;
    ALTER TABLE keys ADD COLUMN role_id TEXT;
    ALTER TABLE keys ADD COLUMN role_name TEXT;
    ALTER TABLE keys ADD COLUMN description TEXT;
    ALTER TABLE keys ADD COLUMN synced_at INTEGER;
    ALTER TABLE keys ADD COLUMN revoked_at INTEGER;
    CREATE UNIQUE INDEX keys_key_id ON keys (key_id) WHERE key_id IS NOT NULL;
    """,
}


def split(script: str) -> list[str]:
    """Split a migration script into statements, keeping trigger bodies whole."""
    statements: list[str] = []
    buf = ""
    for line in script.splitlines():
        if line.strip().startswith("--"):
            continue
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements


def secure_create(path: Path) -> None:
    """Make the directory 0700 and the file 0600 before SQLite touches them."""
    parent = path.parent
    if not parent.exists():
        parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


SQLITE_HEADER = b"SQLite format 3\x00"


def check_is_sqlite(path: Path) -> None:
    """Refuse, before SQLite opens it, a file that is not an SQLite database at all (``--db
    /etc/passwd``): it is nobody's damaged database, so nothing is copied or written beside it."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise NotOurs(f"{path} is a folder, not a momento-keys database; give a file path with --db") from None
    except OSError:
        return  # SQLite reports it with the right words (permission denied, ...)
    if head and head != SQLITE_HEADER:
        raise NotOurs(f"{path} is not a momento-keys database (not an SQLite file); nothing was written. Give the "
                      "path of your key database with --db or MOMENTO_KEYS_DB, or a new file name to start one")


def _connect_readonly(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)


class Database:
    """One connection to the key database, and the only code that opens, migrates or
    commits; the record, reminder and journal parts of `Store` go through `_read`,
    `_write` and `_chunked`."""

    def __init__(self, path: Path | str, *, readonly: bool = False, create: bool = True) -> None:
        self.path = Path(path)
        self.readonly_reason: str | None = None
        # One connection, shared by the UI thread and workers: the lock keeps
        # each transaction whole.
        self._lock = threading.RLock()
        self._checked = False  # damage check done before this connection's first write
        if str(path) != ":memory:":
            check_is_sqlite(self.path)
        try:
            if readonly:
                if not self.path.exists():
                    # Nothing tracked yet: an empty in-memory database reads the same.
                    self._conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
                    self._migrate()
                else:
                    self._conn = _connect_readonly(self.path)
                self.readonly_reason = "opened read-only"
            else:
                if create and str(path) != ":memory:":
                    secure_create(self.path)
                self._conn = sqlite3.connect(
                    self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
                )
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = self.schema_version()
            if version > SCHEMA_VERSION:
                # Not ours to change in any way (not even its journal mode): read it as it is.
                self.readonly_reason = (
                    f"the database was written by a newer momento-keys (schema {version}, "
                    f"this one knows {SCHEMA_VERSION}); opened read-only — upgrade momento-keys to make changes"
                )
                if not readonly and str(path) != ":memory:":
                    self._conn.close()
                    self._conn = _connect_readonly(self.path)
                    self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            elif not readonly:
                # A filesystem that refuses WAL (some network mounts) keeps its own
                # journal mode: slower under concurrency, still correct.
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            if version > SCHEMA_VERSION:
                pass
            elif not readonly:
                self._migrate()
            elif version < SCHEMA_VERSION and str(path) != ":memory:":
                # An older database opened for reading: upgrade it once (a
                # short write), then read it like any other.
                self._conn.close()
                type(self)(self.path).close()
                self._conn = _connect_readonly(self.path)
                self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except sqlite3.Error as exc:
            raise friendly(exc, self.path) from None

    @property
    def readonly(self) -> bool:
        return self.readonly_reason is not None

    def close(self) -> None:
        # Under the lock: a connection closed while another thread's statement runs on it
        # crashes the interpreter (a worker still reading as the app closes the store did,
        # in the benchmark). A read after this fails as a closed database, in words.
        with self._lock:
            self._conn.close()

    def schema_version(self) -> int:
        return self._read("PRAGMA user_version")[0][0]

    def data_version(self) -> int:
        """Changes whenever another connection commits (cheap change polling)."""
        return self._read("PRAGMA data_version")[0][0]

    def integrity(self) -> str:
        return self._read("PRAGMA integrity_check")[0][0]

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.readonly_reason:
            raise ReadOnlyStore(f"no changes can be made: {self.readonly_reason}")
        with self._lock:
            if not self._checked:
                self._check_damage()
            yield from self._transaction()

    def _check_damage(self) -> None:
        """Before this connection's first write: a database with a damaged page is never written
        (SQLite may otherwise write around the damage, then fail half-way)."""
        result = self._read("PRAGMA quick_check(1)")
        if result and result[0][0] != "ok":
            raise friendly(sqlite3.DatabaseError(f"database disk image is malformed ({result[0][0]})"), self.path)
        self._checked = True

    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise friendly(exc, self.path) from None
        try:
            yield self._conn
        except sqlite3.IntegrityError as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            if str(exc).startswith("UNIQUE constraint failed"):
                raise  # callers turn a UNIQUE violation into DuplicateName
            # Any other constraint failing on our own schema means damage (or a bug): never raw.
            self._checked = False
            self._check_damage()
            raise StoreError(f"database error in {self.path}: {exc}") from None
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise friendly(exc, self.path) from None
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        else:
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise friendly(exc, self.path) from None

    def _migrate(self) -> None:
        while (version := self.schema_version()) < SCHEMA_VERSION:
            target = version + 1
            with self._write() as conn:
                # Re-read inside the lock: another process may have migrated first.
                if conn.execute("PRAGMA user_version").fetchone()[0] != version:
                    continue
                for statement in split(MIGRATIONS[target]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            with self._lock:
                return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise friendly(exc, self.path) from None

    def _chunked(self, sql: str, consume: Callable[[Iterator[list[tuple]]], T]) -> T:
        """`consume(chunks)` over the rows of `sql`, a few thousand at a time, under the lock."""
        try:
            with self._lock:
                cursor = self._conn.execute(sql)
                return consume(iter(partial(cursor.fetchmany, 4096), []))
        except sqlite3.Error as exc:
            raise friendly(exc, self.path) from None
