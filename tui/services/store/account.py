"""v2 keys and Momento's account: the records an account sync reads and writes, in
as few transactions as the work allows (a sync of a thousand keys is one write for
the records and their events, and one for their reminders), the link between a
record and an account key, and the hand-over of a v2 rotation.

The account's ``key_id`` is unique among records (a partial unique index): one
record per account key, whatever its lifecycle.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from ...core.model import KeyRecord, Lifecycle
from .errors import DuplicateKeyId, DuplicateName, StoreError
from .keys import COLUMNS, _insert, _value, add_event, to_record
from .schema import Database

# Fields an account sync (or a link) may set on a record.
SYNCED_FIELDS = frozenset({
    "key_id", "role_id", "role_name", "description", "synced_at", "revoked_at", "issued_at", "expires_at",
    "expiry_source", "lifecycle",
})


@dataclass
class RecordChange:
    """One record's new field values; ``action`` (with ``detail``) is logged as an event,
    or nothing is logged when ``action`` is empty (a sync that only confirms a record)."""

    record_id: int
    fields: dict[str, object]
    action: str = ""
    detail: str = ""


@dataclass
class AppliedSync:
    changed: list[int] = field(default_factory=list)   # ids of the records changed
    added: list[KeyRecord] = field(default_factory=list)


class Account(Database):
    def v2_records(self) -> list[KeyRecord]:
        """Every record that is a v2 key or is linked to an account key (any lifecycle)."""
        rows = self._read(f"SELECT {COLUMNS} FROM keys WHERE kind = 'v2' OR key_id IS NOT NULL ORDER BY id")
        return [to_record(r) for r in rows]

    def find_key_id(self, key_id: str) -> KeyRecord | None:
        rows = self._read(f"SELECT {COLUMNS} FROM keys WHERE key_id = ?", (key_id,))
        return to_record(rows[0]) if rows else None

    def names(self) -> set[str]:
        return {name for (name,) in self._read("SELECT name FROM keys")}

    def apply_sync(self, changes: list[RecordChange], added: list[KeyRecord], *, now: int,
                   meta: dict[str, str] | None = None, absorbed: Sequence[tuple[int, str]] = ()) -> AppliedSync:
        """An account sync's writes in ONE transaction: ``absorbed`` records removed first
        ((id, why): metadata-only records whose account key a record holding its secret now
        links), then the changed records (and their events), the new metadata-only records
        (and their first event), and ``meta`` (such as the sync time). Nothing is written if
        any of it fails."""
        applied = AppliedSync()
        with self._write() as conn:
            for record_id, why in absorbed:
                row = conn.execute("SELECT name FROM keys WHERE id = ?", (record_id,)).fetchone()
                if row is not None:
                    conn.execute("DELETE FROM keys WHERE id = ?", (record_id,))
                    add_event(conn, record_id, row[0], now, "merged", why)
            for change in changes:
                unknown = set(change.fields) - SYNCED_FIELDS
                if unknown:
                    raise ValueError(f"not set by a sync: {sorted(unknown)}")
                row = conn.execute("SELECT name FROM keys WHERE id = ?", (change.record_id,)).fetchone()
                if row is None:
                    continue  # deleted meanwhile by another process: nothing to update
                if change.fields:
                    sets = ", ".join(f"{f} = ?" for f in change.fields)
                    try:
                        conn.execute(f"UPDATE keys SET {sets}, updated_at = ? WHERE id = ?",
                                     (*(_value(f, v) for f, v in change.fields.items()), now, change.record_id))
                    except sqlite3.IntegrityError as exc:
                        if "key_id" in str(exc):
                            raise DuplicateKeyId(str(change.fields.get("key_id"))) from None
                        raise
                if change.action:
                    add_event(conn, change.record_id, row[0], now, change.action, change.detail)
                applied.changed.append(change.record_id)
            for record in added:
                record.created_at = record.updated_at = now
                try:
                    record.id = _insert(conn, record)
                except sqlite3.IntegrityError as exc:
                    if "key_id" in str(exc):
                        raise DuplicateKeyId(record.key_id) from None
                    raise DuplicateName(f"a key named {record.name!r} is already tracked") from None
                add_event(conn, record.id, record.name, now, "listed by the account",
                          f"account key {record.key_id}; no secret held here")
                applied.added.append(record)
            for key, value in (meta or {}).items():
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
        return applied

    def link_key_id(self, record_id: int, key_id: str, fields: dict[str, object], *, now: int,
                    absorb_id: int | None = None, detail: str = "") -> KeyRecord:
        """Link a record to an account key, in one transaction. ``absorb_id``: the metadata-only
        record a sync made for that key, removed as the record takes its place."""
        unknown = set(fields) - SYNCED_FIELDS
        if unknown:
            raise ValueError(f"not set by a link: {sorted(unknown)}")
        with self._write() as conn:
            row = conn.execute("SELECT name FROM keys WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                raise StoreError("that key is no longer tracked (deleted elsewhere?)")
            if absorb_id is not None:
                other = conn.execute("SELECT name, key_id FROM keys WHERE id = ?", (absorb_id,)).fetchone()
                if other is not None and other[1] == key_id:
                    conn.execute("DELETE FROM keys WHERE id = ?", (absorb_id,))
                    add_event(conn, absorb_id, other[0], now, "merged",
                              f"account key {key_id} is tracked as {row[0]!r}, which holds its secret")
            values = {"key_id": key_id, **fields}
            try:
                conn.execute(f"UPDATE keys SET {', '.join(f'{f} = ?' for f in values)}, updated_at = ? WHERE id = ?",
                             (*(_value(f, v) for f, v in values.items()), now, record_id))
            except sqlite3.IntegrityError:
                raise DuplicateKeyId(key_id) from None
            add_event(conn, record_id, row[0], now, "linked", detail or f"account key {key_id}")
        return self.get(record_id)  # type: ignore[attr-defined]

    def take_over(self, old_id: int, new_id: int, *, old_new_name: str, now: int, detail: str = "") -> KeyRecord:
        """A v2 rotation's hand-over in one transaction: the new record (stored under a
        temporary name by the issuing path) takes the old one's name, thresholds and place in
        the lineage; the old record steps aside (renamed, lifecycle previous)."""
        with self._write() as conn:
            old = conn.execute("SELECT name, warning_seconds, critical_seconds, lifecycle FROM keys WHERE id = ?",
                               (old_id,)).fetchone()
            new = conn.execute("SELECT name FROM keys WHERE id = ?", (new_id,)).fetchone()
            if old is None or new is None:
                raise StoreError("the key being rotated, or its new key, is no longer tracked")
            name, warn, crit, lifecycle = old
            if lifecycle == Lifecycle.ACTIVE.value:
                conn.execute("UPDATE keys SET name = ?, lifecycle = 'previous', updated_at = ? WHERE id = ?",
                             (old_new_name, now, old_id))
                add_event(conn, old_id, old_new_name, now, "rotated", f"replaced by a new key; was {name!r}")
                new_name = name
            else:
                new_name = new[0]  # handed over already (a resumed rotation): names stay as they are
            conn.execute("UPDATE keys SET name = ?, predecessor_id = ?, warning_seconds = ?, critical_seconds = ?, "
                         "updated_at = ? WHERE id = ?", (new_name, old_id, warn, crit, now, new_id))
            add_event(conn, new_id, new_name, now, "created by rotation", detail)
        return self.get(new_id)  # type: ignore[attr-defined]
