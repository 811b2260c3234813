"""SQLite store for key metadata. Never holds a secret.

Habits (conventions.md): the file is created 0600 before SQLite opens it, in a
0700 directory; WAL; a busy timeout; every transaction that may write starts
with BEGIN IMMEDIATE; schema versions in PRAGMA user_version, each migration
and its bump in one transaction; a database from a newer version is opened
read-only. Instants are INTEGER epoch seconds; NULL expiry means never (or
unknown, as expiry_source says).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import sys
import threading
from functools import cache, partial
from collections.abc import Iterator
from pathlib import Path

from ..core.model import Event, ExpirySource, KeyRecord, KeyType, Kind, Lifecycle, Thresholds
from ..core.reminders import Reminder, ReminderKind, ReminderState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..core.roster import Roster

SCHEMA_VERSION = 3

# The order in which a key's expiry reminders fall due.
_STAGE = {ReminderKind.WARNING: 0, ReminderKind.CRITICAL: 1, ReminderKind.EXPIRY: 2}
BUSY_TIMEOUT_MS = 10_000

_MIGRATIONS: dict[int, str] = {
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
}

_COLUMNS = (
    "id, name, kind, key_type, endpoint, region, provider, issued_at, expires_at, expiry_source, "
    "fingerprint, has_refresh_token, secret_stored, permissions, notes, tags, lifecycle, source, "
    "claims, warning_seconds, critical_seconds, created_at, updated_at, predecessor_id"
)

_EDITABLE = {
    "name", "key_type", "endpoint", "region", "provider", "issued_at", "expires_at", "expiry_source",
    "has_refresh_token", "secret_stored", "permissions", "notes", "tags", "lifecycle", "warning_seconds",
    "critical_seconds", "kind", "source", "predecessor_id",
}


class StoreError(Exception):
    """A problem with the database, in words a user can act on."""


class DuplicateName(StoreError):
    pass


class DuplicateKey(StoreError):
    """The same secret (same fingerprint) is already tracked."""

    def __init__(self, existing: str) -> None:
        super().__init__(f"this key is already tracked as {existing!r}")
        self.existing = existing


class ReadOnlyStore(StoreError):
    pass


class CorruptStore(StoreError):
    def __init__(self, message: str, backup: Path | None) -> None:
        super().__init__(message)
        self.backup = backup


def backup_corrupt(path: Path) -> Path | None:
    """Copy a damaged database aside (once per version of the file); never touch the original."""
    import shutil

    try:
        st = path.stat()
    except OSError:
        return None
    target = path.with_name(f"{path.name}.corrupt-{st.st_mtime_ns}.bak")
    if target.exists():
        return target
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            shutil.copyfileobj(src, out)
    except OSError:
        return None
    return target


def _friendly(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(f"the database {path} is busy (another momento-keys is writing); try again in a moment")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        backup = backup_corrupt(path) if str(path) != ":memory:" else None
        saved = f"a copy is at {backup}; " if backup else ""
        return CorruptStore(
            f"the database {path} is damaged ({text}). It was left untouched; {saved}"
            f"move it aside (mv {path} {path}.damaged) to start a new one, and run `momento-keys doctor`",
            backup,
        )
    if "readonly" in text or "read-only" in text or "attempt to write" in text:
        return ReadOnlyStore(f"the database {path} is read-only ({text})")
    if "disk" in text and "full" in text:
        return StoreError(f"the disk holding {path} is full; nothing was changed")
    if "unable to open" in text:
        return StoreError(f"cannot open the database {path}: {text}")
    return StoreError(f"database error in {path}: {text}")


def _secure_create(path: Path) -> None:
    """Make the directory 0700 and the file 0600 before SQLite touches them."""
    parent = path.parent
    if not parent.exists():
        parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


def _to_record(row: tuple) -> KeyRecord:
    (rid, name, kind, key_type, endpoint, region, provider, issued_at, expires_at, expiry_source,
     fingerprint, has_rt, stored, permissions, notes, tags, lifecycle, source, claims, warn, crit,
     created, updated, predecessor) = row
    return KeyRecord(
        id=rid, name=name, kind=Kind(kind), key_type=KeyType(key_type), endpoint=endpoint,
        region=region, provider=provider, issued_at=issued_at, expires_at=expires_at,
        expiry_source=ExpirySource(expiry_source), fingerprint=fingerprint,
        has_refresh_token=bool(has_rt), secret_stored=bool(stored),
        permissions=json.loads(permissions) if permissions else None, notes=notes,
        tags=json.loads(tags), lifecycle=Lifecycle(lifecycle), source=source,
        claims=json.loads(claims), warning_seconds=warn, critical_seconds=crit,
        created_at=created, updated_at=updated, predecessor_id=predecessor,
    )


_LEAN_COLUMNS = (
    "id, name, kind, key_type, endpoint, region, provider, issued_at, expires_at, expiry_source, "
    "fingerprint, has_refresh_token, secret_stored, notes, tags, lifecycle, source, warning_seconds, "
    "critical_seconds, created_at, updated_at, predecessor_id"
)
@cache
def _roster_select() -> str:
    """core.roster.COLUMNS as SQL, with small integers for the enumerations (cheaper to fetch than strings)."""
    from ..core.roster import COLUMNS, KEY_TYPES, KINDS, LIFECYCLES

    def index_of(column: str, values: tuple) -> str:
        return f"CASE {column} " + " ".join(f"WHEN '{v.value}' THEN {n}" for n, v in enumerate(values)) + " END"

    expressions = {"kind": index_of("kind", KINDS), "key_type": index_of("key_type", KEY_TYPES),
                   "lifecycle": index_of("lifecycle", LIFECYCLES), "expiry_unknown": "expiry_source = 'unknown'"}
    return f"SELECT {', '.join(expressions.get(c, c) for c in COLUMNS)} FROM keys ORDER BY id"


_KINDS = {k.value: k for k in Kind}
_KEY_TYPES = {k.value: k for k in KeyType}
_SOURCES = {s.value: s for s in ExpirySource}
_LIFECYCLES = {lc.value: lc for lc in Lifecycle}
_NO_CLAIMS: dict = {}


def _to_lean_record(row: tuple) -> KeyRecord:
    (rid, name, kind, key_type, endpoint, region, provider, issued_at, expires_at, expiry_source,
     fingerprint, has_rt, stored, notes, tags, lifecycle, source, warn, crit, created, updated, predecessor) = row
    intern = sys.intern
    return KeyRecord(
        id=rid, name=name, kind=_KINDS[kind], key_type=_KEY_TYPES[key_type],
        endpoint=intern(endpoint) if endpoint else endpoint, region=intern(region) if region else region,
        provider=intern(provider) if provider else provider, issued_at=issued_at, expires_at=expires_at,
        expiry_source=_SOURCES[expiry_source], fingerprint=fingerprint, has_refresh_token=bool(has_rt),
        secret_stored=bool(stored), permissions=None, notes=intern(notes) if not notes else notes,
        tags=json.loads(tags) if tags != "[]" else [], lifecycle=_LIFECYCLES[lifecycle], source=intern(source),
        claims=_NO_CLAIMS, warning_seconds=warn, critical_seconds=crit, created_at=created, updated_at=updated,
        predecessor_id=predecessor,
    )


def _value(field: str, value: object) -> object:
    if field in ("permissions",):
        return None if value is None else json.dumps(value, sort_keys=True)
    if field in ("tags", "claims"):
        return json.dumps(value, sort_keys=True)
    if field in ("has_refresh_token", "secret_stored"):
        return int(bool(value))
    if hasattr(value, "value"):
        return value.value  # enums
    return value


class Store:
    """One connection to the key database. Not shared across threads."""

    def __init__(self, path: Path | str, *, readonly: bool = False, create: bool = True) -> None:
        self.path = Path(path)
        self.readonly_reason: str | None = None
        # One connection, shared by the UI thread and workers: the lock keeps
        # each transaction whole.
        self._lock = threading.RLock()
        try:
            if readonly:
                if not self.path.exists():
                    # Nothing tracked yet: an empty in-memory database reads the same.
                    self._conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
                    self._migrate()
                else:
                    uri = f"file:{self.path}?mode=ro"
                    self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
                self.readonly_reason = "opened read-only"
            else:
                if create and str(path) != ":memory:":
                    _secure_create(self.path)
                self._conn = sqlite3.connect(
                    self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
                )
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not readonly:
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":  # pragma: no cover - e.g. network filesystems
                    pass
                self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            version = self.schema_version()
            if version > SCHEMA_VERSION:
                self.readonly_reason = (
                    f"the database was written by a newer momento-keys (schema {version}, "
                    f"this one knows {SCHEMA_VERSION}); opened read-only — upgrade momento-keys to make changes"
                )
            elif not readonly:
                self._migrate()
            elif version < SCHEMA_VERSION and str(path) != ":memory:":
                # An older database opened for reading: upgrade it once (a
                # short write), then read it like any other.
                self._conn.close()
                Store(self.path).close()
                self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None,
                                             check_same_thread=False)
                self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except sqlite3.Error as exc:
            raise _friendly(exc, self.path) from None

    # ---- plumbing -------------------------------------------------------
    @property
    def readonly(self) -> bool:
        return self.readonly_reason is not None

    def close(self) -> None:
        self._conn.close()

    def schema_version(self) -> int:
        return self._read("PRAGMA user_version")[0][0]

    def data_version(self) -> int:
        """Changes whenever another connection commits (cheap change polling)."""
        return self._read("PRAGMA data_version")[0][0]

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.readonly_reason:
            raise ReadOnlyStore(f"no changes can be made: {self.readonly_reason}")
        with self._lock:
            yield from self._transaction()

    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _friendly(exc, self.path) from None
        try:
            yield self._conn
        except sqlite3.IntegrityError:
            self._conn.execute("ROLLBACK")
            raise
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise _friendly(exc, self.path) from None
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
                raise _friendly(exc, self.path) from None

    def _migrate(self) -> None:
        while (version := self.schema_version()) < SCHEMA_VERSION:
            target = version + 1
            with self._write() as conn:
                # Re-read inside the lock: another process may have migrated first.
                if conn.execute("PRAGMA user_version").fetchone()[0] != version:
                    continue
                for statement in _split(_MIGRATIONS[target]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            with self._lock:
                return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _friendly(exc, self.path) from None

    # ---- records --------------------------------------------------------
    def add(self, record: KeyRecord, *, now: int, action: str = "imported", detail: str = "") -> KeyRecord:
        """Insert a record and its first event in one transaction."""
        record.created_at = record.updated_at = now
        values = {f: _value(f, getattr(record, f)) for f in _COLUMNS.split(", ") if f != "id"}
        with self._write() as conn:
            dup = conn.execute(
                "SELECT name FROM keys WHERE fingerprint = ? AND lifecycle != 'retired'", (record.fingerprint,)
            ).fetchone()
            if dup and record.fingerprint:
                raise DuplicateKey(dup[0])
            try:
                cur = conn.execute(
                    f"INSERT INTO keys ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                    tuple(values.values()),
                )
            except sqlite3.IntegrityError:
                raise DuplicateName(f"a key named {record.name!r} is already tracked; choose another name") from None
            record.id = cur.lastrowid
            conn.execute("DELETE FROM secret_journal WHERE fingerprint = ?", (record.fingerprint,))
            self._event(conn, record.id, record.name, now, action, detail)
        return record

    def update(self, record_id: int, *, now: int, action: str = "edited", detail: str = "", **fields: object) -> KeyRecord:
        unknown = set(fields) - _EDITABLE
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        with self._write() as conn:
            row = conn.execute("SELECT name FROM keys WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                raise StoreError("that key is no longer tracked (deleted elsewhere?)")
            if fields:
                sets = ", ".join(f"{f} = ?" for f in fields)
                try:
                    conn.execute(
                        f"UPDATE keys SET {sets}, updated_at = ? WHERE id = ?",
                        (*(_value(f, v) for f, v in fields.items()), now, record_id),
                    )
                except sqlite3.IntegrityError:
                    raise DuplicateName(f"a key named {fields.get('name')!r} is already tracked; choose another name") from None
            name = str(fields.get("name", row[0]))
            self._event(conn, record_id, name, now, action, detail)
        return self.get(record_id)

    def delete(self, record_id: int, *, now: int, detail: str = "") -> None:
        with self._write() as conn:
            row = conn.execute("SELECT name FROM keys WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                return
            conn.execute("DELETE FROM keys WHERE id = ?", (record_id,))
            self._event(conn, record_id, row[0], now, "deleted", detail)

    def log(self, record_id: int, action: str, *, now: int, detail: str = "") -> None:
        """Append an event (revealed, copied, exported, ...)."""
        with self._write() as conn:
            row = conn.execute("SELECT name FROM keys WHERE id = ?", (record_id,)).fetchone()
            self._event(conn, record_id, row[0] if row else "?", now, action, detail)

    @staticmethod
    def _event(conn: sqlite3.Connection, record_id: int, name: str, now: int, action: str, detail: str) -> None:
        conn.execute(
            "INSERT INTO events (key_id, key_name, at, action, detail) VALUES (?, ?, ?, ?, ?)",
            (record_id, name, now, action, detail),
        )

    def get(self, record_id: int) -> KeyRecord:
        rows = self._read(f"SELECT {_COLUMNS} FROM keys WHERE id = ?", (record_id,))
        if not rows:
            raise StoreError("that key is no longer tracked (deleted elsewhere?)")
        return _to_record(rows[0])

    def find(self, name: str) -> KeyRecord | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM keys WHERE name = ?", (name,))
        return _to_record(rows[0]) if rows else None

    def all(self, *, lean: bool = False) -> list[KeyRecord]:
        """Every record, soonest expiry first, never/unknown last.

        ``lean`` is for listing many keys (the dashboard, `check`, `list`): the
        JSON columns a list never shows (claims, permissions) are not decoded,
        repeated strings are shared, and the sort happens in Python (SQLite
        would sort 100k rows without an index it can use). `get` gives the
        whole record.
        """
        if not lean:
            rows = self._read(f"SELECT {_COLUMNS} FROM keys ORDER BY expires_at IS NULL, expires_at, name")
            return [_to_record(r) for r in rows]
        records = [_to_lean_record(r) for r in self._read(f"SELECT {_LEAN_COLUMNS} FROM keys")]
        records.sort(key=lambda r: (r.expires_at is None, r.expires_at or 0, r.name))
        return records

    def roster(self, thresholds: Thresholds) -> Roster:
        """Every key as the dashboard lists it (compact columns; see core.roster),
        read in chunks, never all as tuples at once. (The roster sorts them itself:
        SQLite would carry every column through its sorter.)"""
        from ..core.roster import Roster  # the dashboard's: `check` and `list` never load it

        return self._chunked(_roster_select(), lambda chunks: Roster(chunks, thresholds))

    def add_search_text(self, roster: Roster) -> bool:
        """Give the roster its filter text (notes, tags, provider): after the rows are on screen."""
        from ..core.roster import SEARCH_COLUMNS

        return self._chunked(f"SELECT {', '.join(SEARCH_COLUMNS)} FROM keys ORDER BY id", roster.add_search_text)

    def _chunked(self, sql: str, consume):
        """`consume(chunks)` over the rows of `sql`, a few thousand at a time, under the lock."""
        try:
            with self._lock:
                cursor = self._conn.execute(sql)
                return consume(iter(partial(cursor.fetchmany, 4096), []))
        except sqlite3.Error as exc:
            raise _friendly(exc, self.path) from None

    def retire_candidates(self, now: int) -> list[KeyRecord]:
        """Previous keys whose grace window has ended."""
        rows = self._read(f"SELECT {_COLUMNS} FROM keys WHERE lifecycle = 'previous' AND expires_at IS NOT NULL "
                          "AND expires_at <= ?", (now,))
        return [_to_record(r) for r in rows]

    def due_summary(self, now: int, *, names: int) -> tuple[int, list[str]]:
        """How many reminders are due, and the first few names (alphabetical) of keys
        they are for, without building a Reminder for each."""
        due = ("(r.state = 'pending' AND r.due_at <= ?1) OR (r.state = 'snoozed' AND r.snoozed_until <= ?1)")
        count = self._read(f"SELECT count(*) FROM reminders r WHERE {due}", (now,))[0][0]
        if not count:
            return 0, []
        rows = self._read(f"SELECT DISTINCT k.name FROM reminders r JOIN keys k ON k.id = r.key_id WHERE {due} "
                          "ORDER BY k.name LIMIT ?2", (now, names))
        return count, [name for (name,) in rows]

    def due_count(self, now: int) -> int:
        return self._read(
            "SELECT count(*) FROM reminders WHERE (state = 'pending' AND due_at <= ?) "
            "OR (state = 'snoozed' AND snoozed_until <= ?)", (now, now))[0][0]

    def unscheduled(self) -> list[KeyRecord]:
        """Records, not retired, with no reminder at all (filed by a process that died
        before it scheduled them)."""
        rows = self._read(f"SELECT {_COLUMNS} FROM keys k WHERE k.lifecycle != 'retired' AND NOT EXISTS "
                          "(SELECT 1 FROM reminders r WHERE r.key_id = k.id) ORDER BY k.id")
        return [_to_record(r) for r in rows]

    def holders(self, fingerprint: str) -> int:
        """How many records point at the keyring entry of this fingerprint."""
        return self._read("SELECT count(*) FROM keys WHERE fingerprint = ?", (fingerprint,))[0][0]

    def count(self) -> int:
        return self._read("SELECT count(*) FROM keys")[0][0]

    def events(self, record_id: int, limit: int = 200) -> list[Event]:
        rows = self._read(
            "SELECT id, key_id, at, action, detail FROM events WHERE key_id = ? ORDER BY at DESC, id DESC LIMIT ?",
            (record_id, limit),
        )
        return [Event(id=i, record_id=k, at=a, action=act, detail=d) for i, k, a, act, d in rows]

    def integrity(self) -> str:
        return self._read("PRAGMA integrity_check")[0][0]

    def file_mode(self) -> int | None:
        try:
            return stat.S_IMODE(self.path.stat().st_mode)
        except OSError:
            return None


    # ---- lineage -----------------------------------------------------------------
    def replace(self, old_id: int, new: KeyRecord, *, old_new_name: str, now: int, detail: str = "") -> KeyRecord:
        """A rotation's bookkeeping in one transaction: the old record steps aside
        (renamed, lifecycle previous) and the new one takes its name and points
        back at it."""
        with self._write() as conn:
            row = conn.execute("SELECT name FROM keys WHERE id = ?", (old_id,)).fetchone()
            if row is None:
                raise StoreError("the key being rotated is no longer tracked")
            dup = conn.execute("SELECT name FROM keys WHERE fingerprint = ? AND lifecycle != 'retired'",
                               (new.fingerprint,)).fetchone()
            if dup:
                raise DuplicateKey(dup[0])
            conn.execute("UPDATE keys SET name = ?, lifecycle = 'previous', updated_at = ? WHERE id = ?",
                         (old_new_name, now, old_id))
            self._event(conn, old_id, old_new_name, now, "rotated", f"replaced by a new key; was {row[0]!r}")
            new.created_at = new.updated_at = now
            new.predecessor_id = old_id
            values = {f: _value(f, getattr(new, f)) for f in _COLUMNS.split(", ") if f != "id"}
            cur = conn.execute(
                f"INSERT INTO keys ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                tuple(values.values()),
            )
            new.id = cur.lastrowid
            conn.execute("DELETE FROM secret_journal WHERE fingerprint = ?", (new.fingerprint,))
            self._event(conn, new.id, new.name, now, "created by rotation", detail)  # type: ignore[arg-type]
        return new

    def link(self, old_id: int, new_id: int, *, now: int) -> None:
        """Record a manual rotation: `new_id` replaces `old_id`."""
        with self._write() as conn:
            names = dict(conn.execute("SELECT id, name FROM keys WHERE id IN (?, ?)", (old_id, new_id)).fetchall())
            if len(names) != 2:
                raise StoreError("both keys must be tracked to link them")
            conn.execute("UPDATE keys SET predecessor_id = ?, updated_at = ? WHERE id = ?", (old_id, now, new_id))
            conn.execute("UPDATE keys SET lifecycle = 'previous', updated_at = ? WHERE id = ?", (now, old_id))
            self._event(conn, old_id, names[old_id], now, "rotated", f"replaced by {names[new_id]!r} (manual)")
            self._event(conn, new_id, names[new_id], now, "linked", f"replaces {names[old_id]!r}")

    def lineage(self, record_id: int) -> tuple[list[KeyRecord], list[KeyRecord]]:
        """(predecessors oldest first, successors newest last) of a record."""
        before: list[KeyRecord] = []
        seen = {record_id}
        current = self.get(record_id)
        while current.predecessor_id is not None and current.predecessor_id not in seen:
            seen.add(current.predecessor_id)
            try:
                current = self.get(current.predecessor_id)
            except StoreError:
                break
            before.insert(0, current)
        after: list[KeyRecord] = []
        current_id = record_id
        while True:
            rows = self._read(f"SELECT {_COLUMNS} FROM keys WHERE predecessor_id = ? ORDER BY id", (current_id,))
            nxt = [r for r in (_to_record(row) for row in rows) if r.id not in seen]
            if not nxt:
                break
            after.append(nxt[0])
            seen.add(nxt[0].id)  # type: ignore[arg-type]
            current_id = nxt[0].id  # type: ignore[assignment]
        return before, after

    # ---- reminders -------------------------------------------------------------------
    _REMINDER_SELECT = (
        "SELECT r.id, r.key_id, r.kind, r.due_at, r.state, r.snoozed_until, r.notified_at, k.name, k.notes "
        "FROM reminders r JOIN keys k ON k.id = r.key_id"
    )

    @staticmethod
    def _to_reminder(row: tuple) -> Reminder:
        rid, key_id, kind, due_at, state, snoozed, notified, name, notes = row
        return Reminder(key_id=key_id, kind=ReminderKind(kind), due_at=due_at, state=ReminderState(state),
                        snoozed_until=snoozed, notified_at=notified, id=rid, key_name=name, key_notes=notes)

    def reminders(self, *, key_id: int | None = None, open_only: bool = True) -> list[Reminder]:
        sql = self._REMINDER_SELECT
        where, params = [], []
        if key_id is not None:
            where.append("r.key_id = ?")
            params.append(key_id)
        if open_only:
            where.append("r.state IN ('pending', 'snoozed')")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY coalesce(r.snoozed_until, r.due_at), r.id"
        return [self._to_reminder(row) for row in self._read(sql, tuple(params))]

    def due_reminders(self, now: int, *, limit: int | None = None) -> list[Reminder]:
        """Reminders due at `now`, the longest due first (only the first `limit` if given)."""
        rows = self._read(
            self._REMINDER_SELECT
            + " WHERE (r.state = 'pending' AND r.due_at <= ?) OR (r.state = 'snoozed' AND r.snoozed_until <= ?)"
            " ORDER BY coalesce(r.snoozed_until, r.due_at), r.id" + ("" if limit is None else " LIMIT ?"),
            (now, now) if limit is None else (now, now, limit),
        )
        return [self._to_reminder(row) for row in rows]

    def sync_reminders(self, plans: dict[int, dict[ReminderKind, int]], *, now: int,
                       managed: tuple[ReminderKind, ...]) -> int:
        """Make each record's `managed` reminders match its plan, in one transaction.

        A reminder whose time did not change keeps its state (snoozed, done,
        dismissed); one whose time moved starts over as pending; one no longer
        planned is removed. Returns how many rows changed.
        """
        kinds = tuple(k.value for k in managed)
        changed = 0
        with self._write() as conn:
            for key_id, plan in plans.items():
                existing = {
                    kind: (rid, due) for rid, kind, due in conn.execute(
                        f"SELECT id, kind, due_at FROM reminders WHERE key_id = ? AND kind IN "
                        f"({','.join('?' * len(kinds))})", (key_id, *kinds))
                }
                # A stage already overtaken by a later one that is due (the key is
                # critical, or expired) is not worth a reminder of its own.
                overtaken = {k for k in plan if any(
                    _STAGE.get(later, -1) > _STAGE.get(k, 99) and plan[later] <= now for later in plan)}
                for kind, due in plan.items():
                    have = existing.pop(kind.value, None)
                    state = "done" if kind in overtaken else "pending"
                    if have is None:
                        conn.execute(
                            "INSERT INTO reminders (key_id, kind, due_at, state, updated_at) VALUES (?, ?, ?, ?, ?)",
                            (key_id, kind.value, int(due), state, now))
                        changed += 1
                    elif have[1] != int(due):
                        conn.execute(
                            "UPDATE reminders SET due_at = ?, state = ?, snoozed_until = NULL, "
                            "notified_at = NULL, updated_at = ? WHERE id = ?", (int(due), state, now, have[0]))
                        changed += 1
                    elif kind in overtaken:
                        changed += conn.execute(
                            "UPDATE reminders SET state = 'done', updated_at = ? WHERE id = ? "
                            "AND state IN ('pending', 'snoozed')", (now, have[0])).rowcount
                for rid, _ in existing.values():
                    conn.execute("DELETE FROM reminders WHERE id = ?", (rid,))
                    changed += 1
        return changed

    def close_overtaken(self, now: int) -> int:
        """Close warning (and critical) reminders whose later stage is already due."""
        with self._write() as conn:
            return conn.execute(
                "UPDATE reminders SET state = 'done', updated_at = ? WHERE state IN ('pending', 'snoozed') "
                "AND kind IN ('warning', 'critical') AND EXISTS (SELECT 1 FROM reminders later "
                "WHERE later.key_id = reminders.key_id AND later.due_at <= ? AND later.state != 'dismissed' AND "
                "((reminders.kind = 'warning' AND later.kind IN ('critical', 'expiry')) OR "
                "(reminders.kind = 'critical' AND later.kind = 'expiry')))", (now, now)).rowcount

    def add_reminder(self, key_id: int, kind: ReminderKind, due_at: int, *, now: int) -> None:
        """Create (or re-open) one reminder of a kind for a key."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO reminders (key_id, kind, due_at, state, updated_at) VALUES (?, ?, ?, 'pending', ?) "
                "ON CONFLICT (key_id, kind) DO UPDATE SET due_at = excluded.due_at, state = 'pending', "
                "snoozed_until = NULL, notified_at = NULL, updated_at = excluded.updated_at",
                (key_id, kind.value, due_at, now))

    def set_reminder(self, reminder_id: int, state: ReminderState, *, now: int, snoozed_until: int | None = None,
                     due_at: int | None = None) -> None:
        with self._write() as conn:
            row = conn.execute("SELECT key_id, kind FROM reminders WHERE id = ?", (reminder_id,)).fetchone()
            if row is None:
                raise StoreError("that reminder no longer exists")
            conn.execute(
                "UPDATE reminders SET state = ?, snoozed_until = ?, due_at = coalesce(?, due_at), "
                "notified_at = CASE WHEN ? IS NULL THEN notified_at ELSE NULL END, updated_at = ? WHERE id = ?",
                (state.value, snoozed_until, due_at, snoozed_until, now, reminder_id))
            name = conn.execute("SELECT name FROM keys WHERE id = ?", (row[0],)).fetchone()
            detail = row[1] + (f" until {snoozed_until}" if snoozed_until else "")
            self._event(conn, row[0], name[0] if name else "?", now, f"reminder {state.value}", detail)

    def claim_notifications(self, now: int) -> list[Reminder]:
        """Due reminders not yet notified, marked notified in the same transaction
        (so two `notify` runs at once never send one reminder twice)."""
        with self._write() as conn:
            rows = conn.execute(
                self._REMINDER_SELECT + " WHERE r.notified_at IS NULL AND ((r.state = 'pending' AND r.due_at <= ?) "
                "OR (r.state = 'snoozed' AND r.snoozed_until <= ?)) ORDER BY r.due_at, r.id", (now, now)).fetchall()
            conn.executemany("UPDATE reminders SET notified_at = ? WHERE id = ?", [(now, row[0]) for row in rows])
        return [self._to_reminder(row) for row in rows]

    # ---- the secret journal ---------------------------------------------------------
    def journal_add(self, fingerprint: str, name: str, kind: str, *, now: int) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO secret_journal (fingerprint, name, kind, at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT (fingerprint) DO UPDATE SET name = excluded.name, at = excluded.at",
                         (fingerprint, name, kind, now))

    def journal_remove(self, fingerprint: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM secret_journal WHERE fingerprint = ?", (fingerprint,))

    def journal(self) -> list[dict]:
        """Journal entries with no record holding their fingerprint: possible orphans."""
        rows = self._read("SELECT j.fingerprint, j.name, j.kind, j.at FROM secret_journal j "
                          "WHERE NOT EXISTS (SELECT 1 FROM keys k WHERE k.fingerprint = j.fingerprint) "
                          "ORDER BY j.at")
        return [dict(zip(("fingerprint", "name", "kind", "at"), row)) for row in rows]

    # ---- meta ------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    # ---- rotations --------------------------------------------------------------------
    def start_rotation(self, old: KeyRecord, method: str, *, now: int) -> int:
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO rotations (old_id, old_name, method, state, started_at, updated_at) "
                "VALUES (?, ?, ?, 'started', ?, ?)", (old.id, old.name, method, now, now))
            self._event(conn, old.id, old.name, now, "rotation started", method)  # type: ignore[arg-type]
            return int(cur.lastrowid)  # type: ignore[arg-type]

    def update_rotation(self, rotation_id: int, state: str, *, now: int, detail: str = "",
                        new_id: int | None = None, new_fingerprint: str | None = None,
                        only_from: str | None = None) -> bool:
        """Move a rotation to `state`; with `only_from`, only if it is still in that state
        (another process may have moved it on since it was read). True if it changed."""
        with self._write() as conn:
            return conn.execute(
                "UPDATE rotations SET state = ?, detail = ?, new_id = coalesce(?, new_id), "
                "new_fingerprint = coalesce(?, new_fingerprint), updated_at = ? WHERE id = ? "
                "AND (? IS NULL OR state = ?)",
                (state, detail, new_id, new_fingerprint, now, rotation_id, only_from, only_from)).rowcount > 0

    def open_rotations(self) -> list[dict]:
        rows = self._read("SELECT id, old_id, old_name, new_id, new_fingerprint, method, state, detail, started_at "
                          "FROM rotations WHERE state NOT IN ('done', 'failed', 'abandoned') ORDER BY id")
        cols = ("id", "old_id", "old_name", "new_id", "new_fingerprint", "method", "state", "detail", "started_at")
        return [dict(zip(cols, row)) for row in rows]

    def rotations(self, record_id: int) -> list[dict]:
        rows = self._read("SELECT id, old_id, old_name, new_id, method, state, detail, started_at, updated_at "
                          "FROM rotations WHERE old_id = ? OR new_id = ? ORDER BY id", (record_id, record_id))
        cols = ("id", "old_id", "old_name", "new_id", "method", "state", "detail", "started_at", "updated_at")
        return [dict(zip(cols, row)) for row in rows]

    def conn_for_transaction(self):
        """A write transaction for several changes that must land together."""
        return self._write()


def _split(script: str) -> list[str]:
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
