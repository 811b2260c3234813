"""Which reminders a key should have, and when they fall due. Pure functions.

One reminder per key and kind (the store enforces it), so recomputing a
schedule never duplicates anything:

* ``warning`` / ``critical``: when the key enters that band (the status
  policy's thresholds, global or per key, relative or absolute);
* ``expiry``: when it expires;
* ``review``: keys that never expire, every ``review_days`` (default 90),
  because Momento advises against such keys;
* ``switch``: after a rotation, on the previous key: move its consumers to
  the new key before the old one expires;
* ``revoke``: after a manual rotation: revoke the old key in the console.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .model import KeyRecord, Lifecycle, Thresholds
from .policy import DAY, band_changes, thresholds_for
from .report import local_when

REVIEW_EVERY = 90 * DAY


class ReminderKind(str, enum.Enum):
    WARNING = "warning"
    CRITICAL = "critical"
    EXPIRY = "expiry"
    REVIEW = "review"
    SWITCH = "switch"
    REVOKE = "revoke"


class ReminderState(str, enum.Enum):
    PENDING = "pending"
    DUE = "due"            # derived: pending (or snoozed) and its time has come
    SNOOZED = "snoozed"
    DONE = "done"
    DISMISSED = "dismissed"


# One vocabulary for a reminder's state, in the dashboard's panel and the CLI's table: an
# open reminder whose time has not come is "upcoming". (JSON keeps the stored values:
# `reminders --json` says "pending" for it.)
STATE_WORDS: dict[ReminderState, str] = {
    ReminderState.PENDING: "upcoming",
    ReminderState.DUE: "due",
    ReminderState.SNOOZED: "snoozed",
    ReminderState.DONE: "done",
    ReminderState.DISMISSED: "dismissed",
}


@dataclass(slots=True)
class Reminder:
    key_id: int
    kind: ReminderKind
    due_at: int
    state: ReminderState = ReminderState.PENDING
    snoozed_until: int | None = None
    notified_at: int | None = None
    id: int | None = None
    key_name: str = ""
    key_notes: str = ""

    def effective_state(self, now: float) -> ReminderState:
        if self.state is ReminderState.PENDING and self.due_at <= now:
            return ReminderState.DUE
        if self.state is ReminderState.SNOOZED and (self.snoozed_until or 0) <= now:
            return ReminderState.DUE
        return self.state

    def is_due(self, now: float) -> bool:
        return self.effective_state(now) is ReminderState.DUE

    def when(self) -> int:
        """The instant it falls (or fell) due, counting a snooze."""
        if self.state is ReminderState.SNOOZED and self.snoozed_until is not None:
            return self.snoozed_until
        return self.due_at


def planned(record: KeyRecord, default: Thresholds, *, review_every: int = REVIEW_EVERY) -> dict[ReminderKind, int]:
    """The expiry-driven reminders a record should have: kind → due instant.

    Lifetimes of minutes and of years both work: the band thresholds already
    mix absolute and relative rules. Retired records get none.
    """
    if record.id is None or record.lifecycle is Lifecycle.RETIRED:
        return {}
    if record.expires_at is not None:
        warn, crit = band_changes(record.expires_at, record.issued_at, thresholds_for(record, default))
        plan = {ReminderKind.EXPIRY: record.expires_at}
        if record.lifecycle is Lifecycle.ACTIVE:
            # A warning time after the critical one (very short lives) would be noise.
            plan[ReminderKind.CRITICAL] = crit
            if warn < crit:
                plan[ReminderKind.WARNING] = warn
        return plan
    if record.never_expires and record.lifecycle is Lifecycle.ACTIVE:
        start = record.issued_at or record.created_at
        return {ReminderKind.REVIEW: start + review_every}
    return {}


def message(reminder: Reminder, record: KeyRecord | None, now: float) -> str:
    """The sentence a user reads for a reminder."""
    name = record.name if record else reminder.key_name
    kind = reminder.kind
    if kind is ReminderKind.WARNING:
        return f"{name!r} enters the warning band: plan its rotation (expires {local_when(record, now)})."
    if kind is ReminderKind.CRITICAL:
        return f"{name!r} is critical: rotate it now (expires {local_when(record, now)})."
    if kind is ReminderKind.EXPIRY:
        if record is not None and record.expires_at is not None and record.expires_at > now:
            return f"{name!r} expires {local_when(record, now)}."
        return f"{name!r} has expired: anything still using it is failing. Replace it."
    if kind is ReminderKind.REVIEW:
        return (f"{name!r} never expires. Momento advises against such keys: a leaked one works until someone "
                "revokes it. Replace it with an expiring key, or review where it is used.")
    v2 = record is not None and record.key_id is not None
    if kind is ReminderKind.SWITCH:
        if v2:
            return (f"{name!r} was rotated: switch its consumers to the new key, then revoke this old one "
                    f"(momento-keys revoke {name!r}); it works until {local_when(record, now)} or until revoked.")
        return (f"{name!r} was rotated: switch its consumers to the new key before the old one stops working "
                f"({local_when(record, now)}), then mark this done to retire it.")
    if kind is ReminderKind.REVOKE:
        if v2:
            return f"{name!r} was replaced: revoke it (momento-keys revoke {name!r}) so it cannot be used."
        return f"{name!r} was replaced: revoke the old key in the Momento console so it cannot be used."
    return f"{name!r}: {kind.value}"
