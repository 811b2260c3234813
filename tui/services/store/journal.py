"""What lets a crash be repaired: the secret journal, rotations in progress, and
small settings of the database itself (meta).

A secret is written to the keyring before its record is committed; the journal row
written first is how `doctor` finds a secret a crash left behind (keyrings cannot be
listed). A rotation is a row that moves from state to state, so a rotation cut short
can be resumed or abandoned by the next run.
"""

from __future__ import annotations

from ...core.model import KeyRecord
from .keys import add_event
from .schema import Database

_OPEN_ROTATION = ("id", "old_id", "old_name", "new_id", "new_fingerprint", "method", "state", "detail", "started_at")
_ROTATION = ("id", "old_id", "old_name", "new_id", "method", "state", "detail", "started_at", "updated_at")


class Journal(Database):
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
        return [dict(zip(("fingerprint", "name", "kind", "at"), row, strict=True)) for row in rows]

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
            add_event(conn, old.id, old.name, now, "rotation started", method)  # type: ignore[arg-type]
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
        rows = self._read(f"SELECT {', '.join(_OPEN_ROTATION)} FROM rotations "
                          "WHERE state NOT IN ('done', 'failed', 'abandoned') ORDER BY id")
        return [dict(zip(_OPEN_ROTATION, row, strict=True)) for row in rows]

    def rotations(self, record_id: int) -> list[dict]:
        rows = self._read(f"SELECT {', '.join(_ROTATION)} FROM rotations WHERE old_id = ? OR new_id = ? ORDER BY id",
                          (record_id, record_id))
        return [dict(zip(_ROTATION, row, strict=True)) for row in rows]
