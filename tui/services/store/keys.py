"""Key records: adding, editing and reading them, their event log, and the lineage a
rotation leaves (the old record steps aside, the new one points back at it).

Never holds a secret: the keyring does. Instants are INTEGER epoch seconds; a NULL
expiry means never (or unknown, as expiry_source says).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from functools import cache

from ...core.model import Event, ExpirySource, KeyRecord, KeyType, Kind, Lifecycle, Thresholds
from .errors import DuplicateKey, DuplicateKeyId, DuplicateName, StoreError
from .schema import Database

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ...core.roster import Roster

COLUMNS = (
    "id, name, kind, key_type, endpoint, region, provider, issued_at, expires_at, expiry_source, "
    "fingerprint, has_refresh_token, secret_stored, permissions, notes, tags, lifecycle, source, "
    "claims, warning_seconds, critical_seconds, created_at, updated_at, predecessor_id, "
    "key_id, role_id, role_name, description, synced_at, revoked_at"
)

_EDITABLE = {
    "name", "key_type", "endpoint", "region", "provider", "issued_at", "expires_at", "expiry_source",
    "has_refresh_token", "secret_stored", "permissions", "notes", "tags", "lifecycle", "warning_seconds",
    "critical_seconds", "kind", "source", "predecessor_id",
    "key_id", "role_id", "role_name", "description", "synced_at", "revoked_at",
}

# What a list shows: without the JSON columns (claims, permissions) only `get` needs.
_LEAN_COLUMNS = (
    "id, name, kind, key_type, endpoint, region, provider, issued_at, expires_at, expiry_source, "
    "fingerprint, has_refresh_token, secret_stored, notes, tags, lifecycle, source, warning_seconds, "
    "critical_seconds, created_at, updated_at, predecessor_id, key_id, role_id, role_name, description, "
    "synced_at, revoked_at"
)

# Dictionary lookups: cheaper than calling the enum for each of 100k rows.
_KINDS = {k.value: k for k in Kind}
_KEY_TYPES = {k.value: k for k in KeyType}
_SOURCES = {s.value: s for s in ExpirySource}
_LIFECYCLES = {lc.value: lc for lc in Lifecycle}
_NO_CLAIMS: dict = {}


def to_record(row: tuple) -> KeyRecord:
    (rid, name, kind, key_type, endpoint, region, provider, issued_at, expires_at, expiry_source,
     fingerprint, has_rt, stored, permissions, notes, tags, lifecycle, source, claims, warn, crit,
     created, updated, predecessor, key_id, role_id, role_name, description, synced_at, revoked_at) = row
    return KeyRecord(
        id=rid, name=name, kind=Kind(kind), key_type=KeyType(key_type), endpoint=endpoint,
        region=region, provider=provider, issued_at=issued_at, expires_at=expires_at,
        expiry_source=ExpirySource(expiry_source), fingerprint=fingerprint,
        has_refresh_token=bool(has_rt), secret_stored=bool(stored),
        permissions=json.loads(permissions) if permissions else None, notes=notes,
        tags=json.loads(tags), lifecycle=Lifecycle(lifecycle), source=source,
        claims=json.loads(claims), warning_seconds=warn, critical_seconds=crit,
        created_at=created, updated_at=updated, predecessor_id=predecessor, key_id=key_id, role_id=role_id,
        role_name=role_name, description=description, synced_at=synced_at, revoked_at=revoked_at,
    )


def _to_lean_record(row: tuple) -> KeyRecord:
    (rid, name, kind, key_type, endpoint, region, provider, issued_at, expires_at, expiry_source,
     fingerprint, has_rt, stored, notes, tags, lifecycle, source, warn, crit, created, updated, predecessor,
     key_id, role_id, role_name, description, synced_at, revoked_at) = row
    # Endpoints, regions, providers and sources repeat across thousands of keys:
    # one shared string each instead of one per row.
    intern = sys.intern
    return KeyRecord(
        id=rid, name=name, kind=_KINDS[kind], key_type=_KEY_TYPES[key_type],
        endpoint=intern(endpoint) if endpoint else endpoint, region=intern(region) if region else region,
        provider=intern(provider) if provider else provider, issued_at=issued_at, expires_at=expires_at,
        expiry_source=_SOURCES[expiry_source], fingerprint=fingerprint, has_refresh_token=bool(has_rt),
        secret_stored=bool(stored), permissions=None, notes=notes,
        tags=json.loads(tags) if tags != "[]" else [], lifecycle=_LIFECYCLES[lifecycle], source=intern(source),
        claims=_NO_CLAIMS, warning_seconds=warn, critical_seconds=crit, created_at=created, updated_at=updated,
        predecessor_id=predecessor, key_id=key_id, role_id=role_id,
        role_name=intern(role_name) if role_name else role_name, description=description, synced_at=synced_at,
        revoked_at=revoked_at,
    )


@cache
def _roster_select() -> str:
    """core.roster.COLUMNS as SQL, with small integers for the enumerations (cheaper to fetch than strings)."""
    from ...core.roster import COLUMNS as ROSTER_COLUMNS
    from ...core.roster import KEY_TYPES, KINDS, LIFECYCLES

    def index_of(column: str, values: tuple) -> str:
        return f"CASE {column} " + " ".join(f"WHEN '{v.value}' THEN {n}" for n, v in enumerate(values)) + " END"

    expressions = {"kind": index_of("kind", KINDS), "key_type": index_of("key_type", KEY_TYPES),
                   "lifecycle": index_of("lifecycle", LIFECYCLES), "expiry_unknown": "expiry_source = 'unknown'"}
    return f"SELECT {', '.join(expressions.get(c, c) for c in ROSTER_COLUMNS)} FROM keys ORDER BY id"


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


def _insert(conn: sqlite3.Connection, record: KeyRecord) -> int:
    values = {f: _value(f, getattr(record, f)) for f in COLUMNS.split(", ") if f != "id"}
    cur = conn.execute(
        f"INSERT INTO keys ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        tuple(values.values()),
    )
    return int(cur.lastrowid)  # type: ignore[arg-type]


def add_event(conn: sqlite3.Connection, record_id: int, name: str, now: int, action: str, detail: str) -> None:
    conn.execute(
        "INSERT INTO events (key_id, key_name, at, action, detail) VALUES (?, ?, ?, ?, ?)",
        (record_id, name, now, action, detail),
    )


class Keys(Database):
    def add(self, record: KeyRecord, *, now: int, action: str = "imported", detail: str = "") -> KeyRecord:
        """Insert a record and its first event in one transaction."""
        record.created_at = record.updated_at = now
        with self._write() as conn:
            dup = conn.execute(
                "SELECT name FROM keys WHERE fingerprint = ? AND lifecycle != 'retired'", (record.fingerprint,)
            ).fetchone()
            if dup and record.fingerprint:
                raise DuplicateKey(dup[0])
            try:
                record.id = _insert(conn, record)
            except sqlite3.IntegrityError as exc:
                if "key_id" in str(exc):
                    raise DuplicateKeyId(record.key_id) from None
                raise DuplicateName(f"a key named {record.name!r} is already tracked; choose another name") from None
            # The record now holds the secret's fingerprint: it is no orphan.
            conn.execute("DELETE FROM secret_journal WHERE fingerprint = ?", (record.fingerprint,))
            add_event(conn, record.id, record.name, now, action, detail)
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
                except sqlite3.IntegrityError as exc:
                    if "key_id" in str(exc):
                        raise DuplicateKeyId(fields.get("key_id")) from None  # type: ignore[arg-type]
                    raise DuplicateName(f"a key named {fields.get('name')!r} is already tracked; choose another name") from None
            name = str(fields.get("name", row[0]))
            add_event(conn, record_id, name, now, action, detail)
        return self.get(record_id)

    def delete(self, record_id: int, *, now: int, detail: str = "") -> None:
        with self._write() as conn:
            row = conn.execute("SELECT name FROM keys WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                return
            conn.execute("DELETE FROM keys WHERE id = ?", (record_id,))
            add_event(conn, record_id, row[0], now, "deleted", detail)

    def log(self, record_id: int, action: str, *, now: int, detail: str = "") -> None:
        """Append an event (revealed, copied, exported, ...)."""
        with self._write() as conn:
            row = conn.execute("SELECT name FROM keys WHERE id = ?", (record_id,)).fetchone()
            add_event(conn, record_id, row[0] if row else "?", now, action, detail)

    def get(self, record_id: int) -> KeyRecord:
        rows = self._read(f"SELECT {COLUMNS} FROM keys WHERE id = ?", (record_id,))
        if not rows:
            raise StoreError("that key is no longer tracked (deleted elsewhere?)")
        return to_record(rows[0])

    def find(self, name: str) -> KeyRecord | None:
        rows = self._read(f"SELECT {COLUMNS} FROM keys WHERE name = ?", (name,))
        return to_record(rows[0]) if rows else None

    def all(self, *, lean: bool = False) -> list[KeyRecord]:
        """Every record, soonest expiry first, never/unknown last.

        ``lean`` is for listing many keys (the dashboard, `check`, `list`): the
        JSON columns a list never shows (claims, permissions) are not decoded,
        repeated strings are shared, and the sort happens in Python (SQLite
        would sort 100k rows without an index it can use). `get` gives the
        whole record.
        """
        if not lean:
            rows = self._read(f"SELECT {COLUMNS} FROM keys ORDER BY expires_at IS NULL, expires_at, name")
            return [to_record(r) for r in rows]
        records = [_to_lean_record(r) for r in self._read(f"SELECT {_LEAN_COLUMNS} FROM keys")]
        records.sort(key=lambda r: (r.expires_at is None, r.expires_at or 0, r.name))
        return records

    def roster(self, thresholds: Thresholds) -> Roster:
        """Every key as the dashboard lists it (compact columns; see core.roster),
        read in chunks, never all as tuples at once. (The roster sorts them itself:
        SQLite would carry every column through its sorter.)"""
        # Only the dashboard needs the roster: `check` and `list` never load it.
        from ...core.roster import Roster

        return self._chunked(_roster_select(), lambda chunks: Roster(chunks, thresholds))

    def add_search_text(self, roster: Roster) -> bool:
        """Give the roster its filter text (notes, tags, provider): after the rows are on screen."""
        from ...core.roster import SEARCH_COLUMNS

        return self._chunked(f"SELECT {', '.join(SEARCH_COLUMNS)} FROM keys ORDER BY id", roster.add_search_text)

    def retire_candidates(self, now: int) -> list[KeyRecord]:
        """Previous keys whose grace window has ended."""
        rows = self._read(f"SELECT {COLUMNS} FROM keys WHERE lifecycle = 'previous' AND expires_at IS NOT NULL "
                          "AND expires_at <= ?", (now,))
        return [to_record(r) for r in rows]

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
            add_event(conn, old_id, old_new_name, now, "rotated", f"replaced by a new key; was {row[0]!r}")
            new.created_at = new.updated_at = now
            new.predecessor_id = old_id
            new.id = new_id = _insert(conn, new)
            conn.execute("DELETE FROM secret_journal WHERE fingerprint = ?", (new.fingerprint,))
            add_event(conn, new_id, new.name, now, "created by rotation", detail)
        return new

    def link(self, old_id: int, new_id: int, *, now: int) -> None:
        """Record a manual rotation: `new_id` replaces `old_id`."""
        with self._write() as conn:
            names = dict(conn.execute("SELECT id, name FROM keys WHERE id IN (?, ?)", (old_id, new_id)).fetchall())
            if len(names) != 2:
                raise StoreError("both keys must be tracked to link them")
            conn.execute("UPDATE keys SET predecessor_id = ?, updated_at = ? WHERE id = ?", (old_id, now, new_id))
            conn.execute("UPDATE keys SET lifecycle = 'previous', updated_at = ? WHERE id = ?", (now, old_id))
            add_event(conn, old_id, names[old_id], now, "rotated", f"replaced by {names[new_id]!r} (manual)")
            add_event(conn, new_id, names[new_id], now, "linked", f"replaces {names[old_id]!r}")

    def lineage(self, record_id: int) -> tuple[list[KeyRecord], list[KeyRecord]]:
        """(predecessors oldest first, successors newest last) of a record."""
        before: list[KeyRecord] = []
        seen = {record_id}  # a link loop (edited by hand) must not loop forever
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
            rows = self._read(f"SELECT {COLUMNS} FROM keys WHERE predecessor_id = ? ORDER BY id", (current_id,))
            nxt = [r for r in (to_record(row) for row in rows) if r.id not in seen]
            if not nxt:
                break
            after.append(nxt[0])
            seen.add(nxt[0].id)  # type: ignore[arg-type]
            current_id = nxt[0].id  # type: ignore[assignment]
        return before, after
