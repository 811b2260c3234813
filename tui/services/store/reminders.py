"""Reminders: one row per key and kind (warning, critical, expiry, or one set by hand),
with its state (pending, snoozed, done, dismissed) and whether it was notified.

`core.reminders` decides what a key's reminders should be; this part stores them
and answers "what is due".
"""

from __future__ import annotations

from ...core.model import KeyRecord
from ...core.reminders import Reminder, ReminderKind, ReminderState
from .errors import StoreError
from .keys import COLUMNS, add_event, to_record
from .schema import Database

# The order in which a key's expiry reminders fall due.
_STAGE = {ReminderKind.WARNING: 0, ReminderKind.CRITICAL: 1, ReminderKind.EXPIRY: 2}

_SELECT = (
    "SELECT r.id, r.key_id, r.kind, r.due_at, r.state, r.snoozed_until, r.notified_at, k.name, k.notes "
    "FROM reminders r JOIN keys k ON k.id = r.key_id"
)
_DUE = "(r.state = 'pending' AND r.due_at <= ?1) OR (r.state = 'snoozed' AND r.snoozed_until <= ?1)"


def _to_reminder(row: tuple) -> Reminder:
    rid, key_id, kind, due_at, state, snoozed, notified, name, notes = row
    return Reminder(key_id=key_id, kind=ReminderKind(kind), due_at=due_at, state=ReminderState(state),
                    snoozed_until=snoozed, notified_at=notified, id=rid, key_name=name, key_notes=notes)


class Reminders(Database):
    def reminders(self, *, key_id: int | None = None, open_only: bool = True) -> list[Reminder]:
        sql = _SELECT
        where, params = [], []
        if key_id is not None:
            where.append("r.key_id = ?")
            params.append(key_id)
        if open_only:
            where.append("r.state IN ('pending', 'snoozed')")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY coalesce(r.snoozed_until, r.due_at), r.id"
        return [_to_reminder(row) for row in self._read(sql, tuple(params))]

    def due_reminders(self, now: int, *, limit: int | None = None) -> list[Reminder]:
        """Reminders due at `now`, the longest due first (only the first `limit` if given)."""
        rows = self._read(
            _SELECT + f" WHERE {_DUE} ORDER BY coalesce(r.snoozed_until, r.due_at), r.id"
            + ("" if limit is None else " LIMIT ?2"),
            (now,) if limit is None else (now, limit),
        )
        return [_to_reminder(row) for row in rows]

    def due_summary(self, now: int, *, names: int) -> tuple[int, list[str]]:
        """How many reminders are due, and the first few names (alphabetical) of keys
        they are for, without building a Reminder for each."""
        count = self._read(f"SELECT count(*) FROM reminders r WHERE {_DUE}", (now,))[0][0]
        if not count:
            return 0, []
        rows = self._read(f"SELECT DISTINCT k.name FROM reminders r JOIN keys k ON k.id = r.key_id WHERE {_DUE} "
                          "ORDER BY k.name LIMIT ?2", (now, names))
        return count, [name for (name,) in rows]

    def due_count(self, now: int) -> int:
        return self._read(f"SELECT count(*) FROM reminders r WHERE {_DUE}", (now,))[0][0]

    def unscheduled(self) -> list[KeyRecord]:
        """Records, not retired, with no reminder at all (filed by a process that died
        before it scheduled them)."""
        rows = self._read(f"SELECT {COLUMNS} FROM keys k WHERE k.lifecycle != 'retired' AND NOT EXISTS "
                          "(SELECT 1 FROM reminders r WHERE r.key_id = k.id) ORDER BY k.id")
        return [to_record(r) for r in rows]

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
            # A new snooze is a new moment to notify at.
            conn.execute(
                "UPDATE reminders SET state = ?, snoozed_until = ?, due_at = coalesce(?, due_at), "
                "notified_at = CASE WHEN ? IS NULL THEN notified_at ELSE NULL END, updated_at = ? WHERE id = ?",
                (state.value, snoozed_until, due_at, snoozed_until, now, reminder_id))
            name = conn.execute("SELECT name FROM keys WHERE id = ?", (row[0],)).fetchone()
            detail = row[1] + (f" until {snoozed_until}" if snoozed_until else "")
            add_event(conn, row[0], name[0] if name else "?", now, f"reminder {state.value}", detail)

    def reminder(self, reminder_id: int) -> Reminder | None:
        """One reminder, whatever its state (None: gone)."""
        rows = self._read(_SELECT + " WHERE r.id = ?", (reminder_id,))
        return _to_reminder(rows[0]) if rows else None

    def restore_reminders(self, saved: list[Reminder], *, now: int, remove: tuple[int, ...] = (),
                          why: str = "undone") -> None:
        """Put reminders back exactly as they were (state, due time, snooze, whether notified)
        and delete the reminders ``remove`` (ones a change made), in one transaction: an undo."""
        with self._write() as conn:
            for r in saved:
                row = conn.execute("SELECT k.name FROM reminders r JOIN keys k ON k.id = r.key_id WHERE r.id = ?",
                                   (r.id,)).fetchone()
                if row is None:
                    raise StoreError(f"the {r.kind.value} reminder of {r.key_name!r} no longer exists (its key "
                                     "was deleted?): nothing to undo")
                conn.execute("UPDATE reminders SET state = ?, due_at = ?, snoozed_until = ?, notified_at = ?, "
                             "updated_at = ? WHERE id = ?",
                             (r.state.value, r.due_at, r.snoozed_until, r.notified_at, now, r.id))
                add_event(conn, r.key_id, row[0], now, "reminder restored", f"{r.kind.value}: {why}")
            for rid in remove:
                conn.execute("DELETE FROM reminders WHERE id = ?", (rid,))

    def claim_notifications(self, now: int) -> list[Reminder]:
        """Due reminders not yet notified, marked notified in the same transaction
        (so two `notify` runs at once never send one reminder twice)."""
        with self._write() as conn:
            rows = conn.execute(
                _SELECT + f" WHERE r.notified_at IS NULL AND ({_DUE}) ORDER BY r.due_at, r.id", (now,)).fetchall()
            conn.executemany("UPDATE reminders SET notified_at = ? WHERE id = ?", [(now, row[0]) for row in rows])
        return [_to_reminder(row) for row in rows]
