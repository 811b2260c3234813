"""The operations on tracked keys, shared by the CLI and the dashboard.

A Keeper holds the store, the vault, the clock and the settings. Its methods
are blocking (SQLite, keyring): the dashboard calls them from thread workers.
Secrets go to the keyring first and the record second, so a record never
claims a secret that is not there; if the record cannot be written, the
secret written for it is taken back out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core.clock import Clock, SystemClock
from ..core.limits import NAME_MAX_CHARS
from ..core.model import ExpirySource, KeyRecord, KeyType, Kind, Lifecycle, Status, V2Fields
from ..core.policy import DAY, status_of
from ..core.reminders import REVIEW_EVERY, Reminder, ReminderKind, ReminderState, planned
from ..core.report import local_time
from ..core.text import normalize_name
from .config import Settings
from .store import DuplicateKey, DuplicateName, Store, StoreError
from .vault import Health, SecretMissing, Vault, VaultError

if TYPE_CHECKING:
    from typing import TypeAlias

    from ..core.keys import Inspection  # (key parsing loads only for imports: not for the dashboard's start)
    from .account.protocol import GeneratedV2Key
    from .momento import GeneratedKey as _V1Key

    GeneratedKey: TypeAlias = _V1Key | GeneratedV2Key  # a v1 key (gRPC) or a v2 key (account API)

NAME_MAX = NAME_MAX_CHARS


def carries_endpoint(record: KeyRecord) -> bool:
    """The key holds its own endpoint (a v1 key or token, as read at import): the record's is
    that one, and no other is ever used for it (see MomentoApi._caller)."""
    return record.kind in (Kind.V1, Kind.DISPOSABLE) and record.endpoint is not None


class KeeperError(Exception):
    """A user-facing failure of an operation: nothing was changed."""


def validate_name(name: str) -> str:
    """A name as stored and compared: NFC (so "café" typed two ways is one name), whitespace folded."""
    clean = normalize_name(name)
    if not clean:
        raise KeeperError("a key needs a name (such as 'orders-api prod')")
    if len(clean) > NAME_MAX:
        raise KeeperError(f"a name may be at most {NAME_MAX} characters")
    if not clean.isprintable():  # C0 and C1 controls, DEL, and other invisible characters
        raise KeeperError("a name may not contain control or invisible characters")
    return clean


def parse_tags(text: str) -> list[str]:
    seen: list[str] = []
    for part in text.replace(",", " ").split():
        if part not in seen:
            seen.append(part)
    return seen


@dataclass(frozen=True)
class ReminderChange:
    """What a snooze, dismiss or done changed, so that :meth:`Keeper.undo` can put it back."""

    what: str                          # "snooze", "dismiss" or "done"
    before: Reminder                   # the reminder as it was
    also: tuple[Reminder, ...] = ()    # other reminders it changed, as they were
    record: KeyRecord | None = None    # the key as it was, when the change retired it
    added: tuple[int, ...] = ()        # reminders it created (removed by the undo)


@dataclass
class ImportResult:
    record: KeyRecord
    warnings: list[str] = field(default_factory=list)


def record_from(
    inspection: Inspection,
    name: str,
    *,
    key_type: KeyType = KeyType.UNKNOWN,
    kind: Kind | None = None,
    notes: str = "",
    tags: list[str] | None = None,
) -> KeyRecord:
    return KeyRecord(
        name=validate_name(name),
        kind=kind or inspection.kind,
        key_type=key_type,
        endpoint=inspection.endpoint,
        region=inspection.region,
        provider=inspection.provider,
        issued_at=inspection.issued_at,
        expires_at=inspection.expires_at,
        expiry_source=inspection.expiry_source,
        fingerprint=inspection.fingerprint,
        has_refresh_token=bool(inspection.refresh_token),
        claims=dict(inspection.claims),
        notes=notes,
        tags=list(tags or []),
        source=inspection.source,
    )


def inspect_generated(generated: GeneratedKey, *, source: str) -> Inspection:
    """What Momento's answer says about a key it just made: the response's
    valid_until is the authoritative expiry, and the refresh token comes with it."""
    from dataclasses import replace

    from ..core.keys import inspect_key
    from ..core.model import ExpirySource

    inspection = inspect_key(generated.api_key, endpoint=generated.endpoint)
    if not generated.expiry_known:  # Momento sent no expiry: the key's own exp claim, if any
        return replace(inspection, refresh_token=generated.refresh_token, source=source)
    return replace(
        inspection,
        expires_at=generated.valid_until,
        expiry_source=ExpirySource.VALID_UNTIL,
        refresh_token=generated.refresh_token,
        source=source,
    )


class Keeper:
    def __init__(self, store: Store, vault: Vault, settings: Settings | None = None, clock: Clock | None = None) -> None:
        self.store = store
        self.vault = vault
        self.settings = settings or Settings()
        self.clock = clock or SystemClock()

    def now(self) -> int:
        return int(self.clock.now())

    def status(self, record: KeyRecord) -> Status:
        return status_of(record, self.clock.now(), self.settings.thresholds)

    # ---- import -----------------------------------------------------------
    def import_key(
        self,
        inspection: Inspection,
        name: str,
        *,
        key_type: KeyType = KeyType.UNKNOWN,
        kind: Kind | None = None,
        notes: str = "",
        tags: list[str] | None = None,
        action: str = "imported",
        permissions: list[dict] | None = None,
        require_secret: bool = False,
        v2: V2Fields | None = None,
    ) -> ImportResult:
        """Track a key: its secret in the keyring (when one is usable), its metadata in SQLite.

        With ``require_secret`` (a key that exists nowhere else yet, such as a
        freshly generated one) nothing is written unless the secret can be
        stored: the caller keeps the key and offers another way to save it.
        """
        record = record_from(inspection, name, key_type=key_type, kind=kind, notes=notes, tags=tags)
        record.permissions = permissions
        if v2 is not None:  # what the account says about a v2 key (its id, role, description)
            v2.apply(record)
        warnings: list[str] = []
        if record.endpoint is None:
            warnings.append("no endpoint known for this key: set one with the editor or --endpoint")
        # Every check before the first write: a refused import leaves keyring and database as they were.
        same_key = self._tracked(record.fingerprint)
        if same_key is not None:
            return self._restore_secret(same_key, inspection, record.name)
        existing = self.store.find(record.name)
        if existing is not None:
            raise KeeperError(f"a key named {record.name!r} is already tracked; choose another name")
        if self.vault.status.health is Health.UNCHECKED:
            self.vault.probe()
        stored = False
        if require_secret and not self.vault.writable():
            raise KeeperError(f"the key was not stored: {self.vault.status.summary()}")
        if self.vault.writable():
            try:
                # Journal first: if we die between the keyring write and the
                # record, `doctor` finds the secret and can adopt it.
                self.store.journal_add(record.fingerprint, record.name, record.kind.value, now=self.now())
                self.vault.put(record.fingerprint, inspection.secret, inspection.refresh_token)
                stored = True
            except VaultError as exc:
                self.store.journal_remove(record.fingerprint)
                if require_secret:
                    raise KeeperError(f"the key was not stored: {exc}") from None
                warnings.append(f"secret NOT stored: {exc}; tracking metadata only")
        else:
            hint = ""
            if self.vault.status.health is Health.INSECURE:
                hint = " (allow it with --allow-insecure-keyring or [keyring] allow_insecure = true)"
            warnings.append(f"secret NOT stored: {self.vault.status.summary()}{hint}")
        record.secret_stored = stored
        detail = f"kind={record.kind.value} source={record.source or 'raw'}"
        try:
            self.store.add(record, now=self.now(), action=action, detail=detail)
        except (DuplicateKey, DuplicateName) as exc:
            if stored:
                self._take_back(record.fingerprint)
            raise KeeperError(str(exc)) from None
        except (Exception, KeyboardInterrupt):  # StoreError, or an interrupt: nothing half-stored stays
            if stored:
                self._take_back(record.fingerprint)
            raise
        self.schedule(record)
        return ImportResult(record, warnings)

    def store_generated(
        self,
        generated: GeneratedKey,
        name: str,
        *,
        key_type: KeyType = KeyType.FINE_GRAINED,
        kind: Kind = Kind.V1,
        permissions: list[dict] | None = None,
        notes: str = "",
        tags: list[str] | None = None,
        action: str = "generated",
        v2: V2Fields | None = None,
    ) -> ImportResult:
        """Store a key Momento just made: secret and refresh token in the keyring,
        record in SQLite, or nothing at all (KeeperError/StoreError) so the
        caller can keep the key on screen and retry.

        ``v2``: a v2 key's account metadata (key id, role, description, issue time); its
        expiry then came from the account's ``key_info`` (``v2_metadata``)."""
        from dataclasses import replace

        inspection = inspect_generated(generated, source="generated")
        if kind is Kind.V2 and v2 is not None and generated.expiry_known:
            inspection = replace(inspection, expiry_source=ExpirySource.V2_METADATA)
        if inspection.issued_at is None:
            inspection = replace(inspection, issued_at=self.now())
        return self.import_key(
            inspection, name, key_type=key_type, kind=kind, notes=notes, tags=tags, action=action,
            permissions=permissions, require_secret=True, v2=v2,
        )

    def _tracked(self, fingerprint: str) -> KeyRecord | None:
        """The active record holding this key, if any (rare: only then is the table scanned)."""
        if not fingerprint or not self.store.holders(fingerprint):
            return None
        return next((r for r in self.store.all() if r.fingerprint == fingerprint
                     and r.lifecycle is not Lifecycle.RETIRED), None)

    def _restore_secret(self, record: KeyRecord, inspection: Inspection, asked_name: str) -> ImportResult:
        """The key is tracked already: if its secret went missing from the keyring, put it back
        (with the refresh token the import brought, else none); otherwise refuse without writing."""
        where = "" if asked_name == record.name else f" (you asked for the name {asked_name!r})"
        if record.secret_stored and self.vault.has(record.fingerprint):
            raise KeeperError(f"this key is already tracked as {record.name!r}{where}; nothing was changed")
        if self.vault.status.health is Health.UNCHECKED:
            self.vault.probe()
        if not self.vault.writable():
            raise KeeperError(f"this key is already tracked as {record.name!r}{where}, without its secret (the "
                              f"keyring cannot take it: {self.vault.status.summary()}); nothing was changed")
        try:
            self.vault.put(record.fingerprint, inspection.secret, inspection.refresh_token)
        except VaultError as exc:
            raise KeeperError(f"this key is tracked as {record.name!r} but its secret could not be put back: "
                              f"{exc}") from None
        assert record.id is not None
        updated = self.store.update(record.id, now=self.now(), action="secret restored",
                                    detail="re-imported while its secret was missing from the keyring",
                                    secret_stored=True, has_refresh_token=bool(inspection.refresh_token))
        return ImportResult(updated, [f"{record.name!r} was tracked already, but its secret was missing from the "
                                      f"keyring: it is back{where}"])

    def _take_back(self, fingerprint: str) -> None:
        # Only remove the secret if no other record holds the same key.
        if not self.store.holders(fingerprint):
            self.vault.delete(fingerprint)
        try:
            self.store.journal_remove(fingerprint)
        except StoreError:
            pass  # the journal entry stays; doctor will find the secret gone and drop it

    # ---- secrets ------------------------------------------------------------
    def secret(self, record: KeyRecord, *, why: str) -> str:
        """Read a record's secret from the keyring and log why (revealed, copied, ...)."""
        if not record.secret_stored:
            raise KeeperError(f"no secret is stored for {record.name!r}: momento-keys tracks only its metadata")
        try:
            value = self.vault.get(record.fingerprint)
        except SecretMissing as exc:
            raise KeeperError(f"{record.name}: {exc}") from None
        except VaultError as exc:
            raise KeeperError(f"{record.name}: {exc}") from None
        assert record.id is not None
        self.store.log(record.id, why, now=self.now())
        return value

    def refresh_token(self, record: KeyRecord) -> str | None:
        return self.vault.get_refresh_token(record.fingerprint) if record.secret_stored else None

    def secret_present(self, record: KeyRecord) -> bool:
        return record.secret_stored and self.vault.has(record.fingerprint)

    # ---- edits ----------------------------------------------------------------
    def edit(self, record: KeyRecord, **fields: object) -> KeyRecord:
        if "name" in fields:
            fields["name"] = validate_name(str(fields["name"]))
            other = self.store.find(str(fields["name"]))
            if other is not None and other.id != record.id:
                raise KeeperError(f"a key named {fields['name']!r} is already tracked; choose another name")
        if carries_endpoint(record) and fields.get("endpoint", record.endpoint) != record.endpoint:
            raise KeeperError(f"a {record.kind.value} key carries its endpoint ({record.endpoint}) and is only ever "
                              "sent there: it cannot be changed (v2 keys are the ones whose endpoint you choose)")
        changed = sorted(k for k, v in fields.items() if getattr(record, k) != v)
        if not changed:
            return record
        assert record.id is not None
        try:
            updated = self.store.update(record.id, now=self.now(), action="edited", detail=", ".join(changed),
                                        **fields)
        except DuplicateName as exc:
            raise KeeperError(str(exc)) from None
        if set(changed) & {"expires_at", "issued_at", "warning_seconds", "critical_seconds", "lifecycle"}:
            self.schedule(updated)
        return updated

    def delete(self, record: KeyRecord) -> None:
        """Forget a key: its record and (unless another record shares it) its keyring entry.
        Refused while a rotation of it holds a new pair parked in the keyring: deleting the
        record would orphan the only copy of the new key."""
        assert record.id is not None
        if record.secret_stored and self.vault.has(f"pending:{record.fingerprint}"):
            raise KeeperError(f"{record.name!r} has a rotation in progress whose new key is parked in the keyring; "
                              f"complete it first (`momento-keys rotate {record.name}` or open the dashboard), "
                              "then delete the key")
        self.store.delete(record.id, now=self.now())
        if record.secret_stored and not self.store.holders(record.fingerprint):
            self.vault.delete(record.fingerprint)

    # ---- reminders --------------------------------------------------------------
    MANAGED = (ReminderKind.WARNING, ReminderKind.CRITICAL, ReminderKind.EXPIRY, ReminderKind.REVIEW)

    def _schedule_signature(self) -> str:
        t = self.settings.thresholds
        return f"v1:{t.warning_seconds}:{t.warning_fraction:.6f}:{t.critical_seconds}:{t.critical_fraction:.6f}:{REVIEW_EVERY}"

    def schedule(self, record: KeyRecord) -> None:
        """(Re)compute one key's expiry-driven reminders; idempotent."""
        if record.id is None or self.store.readonly:
            return
        self.store.sync_reminders({record.id: planned(record, self.settings.thresholds)}, now=self.now(),
                                  managed=self.MANAGED)

    def schedule_all(self, *, force: bool = False) -> int:
        """Recompute every schedule when the global thresholds changed since the
        last time (or on first use of a database); otherwise schedule only the
        records that have no reminder at all (one cheap query when there are none)."""
        if self.store.readonly:
            return 0
        signature = self._schedule_signature()
        changed = 0
        if force or self.store.meta("schedule") != signature:
            plans = {r.id: planned(r, self.settings.thresholds) for r in self.store.all(lean=True) if r.id is not None}
            changed = self.store.sync_reminders(plans, now=self.now(), managed=self.MANAGED)
            self.store.set_meta("schedule", signature)
        else:
            # Records a crash left without their reminders (killed between the record
            # and its schedule): schedule those few.
            plans = {r.id: plan for r in self.store.unscheduled() if r.id is not None
                     and (plan := planned(r, self.settings.thresholds))}
            if plans:
                changed = self.store.sync_reminders(plans, now=self.now(), managed=self.MANAGED)
        return changed + self.store.close_overtaken(self.now())

    def retire_expired_previous(self) -> list[KeyRecord]:
        """Previous keys (replaced by a rotation) retire once their grace window ends."""
        if self.store.readonly:
            return []
        now = self.now()
        retired = []
        for r in self.store.retire_candidates(now):
            assert r.id is not None  # read from the store
            retired.append(self.store.update(r.id, now=now, action="retired", detail="grace window ended",
                                             lifecycle=Lifecycle.RETIRED))
            self._close_reminders(r.id)
        return retired

    def _close_reminders(self, key_id: int) -> None:
        for rem in self.store.reminders(key_id=key_id):
            self.store.set_reminder(rem.id, ReminderState.DONE, now=self.now())  # type: ignore[arg-type]

    def due(self) -> list[Reminder]:
        return self.store.due_reminders(self.now())

    def _saved(self, reminder: Reminder) -> Reminder:
        """The reminder as the store has it now (what an undo puts back)."""
        assert reminder.id is not None  # read from the store
        saved = self.store.reminder(reminder.id)
        if saved is None:
            raise KeeperError(f"the {reminder.kind.value} reminder of {reminder.key_name!r} no longer exists")
        return saved

    def snooze(self, reminder: Reminder, seconds: int) -> ReminderChange:
        if seconds <= 0:
            raise KeeperError("snooze for a positive time, such as 1d")
        before = self._saved(reminder)
        self.store.set_reminder(reminder.id, ReminderState.SNOOZED, now=self.now(),  # type: ignore[arg-type]
                                snoozed_until=self.now() + seconds)
        return ReminderChange("snooze", before)

    def close(self, reminder: Reminder, state: ReminderState = ReminderState.DISMISSED) -> ReminderChange:
        """Dismiss (or mark done) a reminder. A never-expiring key's review comes
        back after the review period; a done 'switch' retires the old key (a v2 key, which
        works until it is revoked, gets a 'revoke' reminder instead). Returns what changed,
        for :meth:`undo`."""
        now = self.now()
        what = "done" if state is ReminderState.DONE else "dismiss"
        before = self._saved(reminder)
        if reminder.kind is ReminderKind.REVIEW:
            self.store.set_reminder(reminder.id, ReminderState.PENDING, now=now,  # type: ignore[arg-type]
                                    due_at=now + REVIEW_EVERY)
            self.store.log(reminder.key_id, f"review {state.value}", now=now,
                           detail=f"next review in {REVIEW_EVERY // DAY} days")
            return ReminderChange(what, before)
        self.store.set_reminder(reminder.id, state, now=now)  # type: ignore[arg-type]
        if reminder.kind is ReminderKind.SWITCH and state is ReminderState.DONE:
            record = self.store.get(reminder.key_id)
            if record.lifecycle is Lifecycle.PREVIOUS and record.key_id is not None and record.revoked_at is None:
                # A v2 key still works until it is revoked: switching is half the job.
                had = [r for r in self.store.reminders(key_id=record.id, open_only=False)
                       if r.kind is ReminderKind.REVOKE]
                self.store.add_reminder(record.id, ReminderKind.REVOKE, now, now=now)  # type: ignore[arg-type]
                if had:
                    return ReminderChange(what, before, also=tuple(had))
                made = [r.id for r in self.store.reminders(key_id=record.id, open_only=False)
                        if r.kind is ReminderKind.REVOKE and r.id is not None]
                return ReminderChange(what, before, added=tuple(made))
            elif record.lifecycle is Lifecycle.PREVIOUS:
                closing = [r for r in self.store.reminders(key_id=record.id) if r.id != reminder.id]
                self.store.update(record.id, now=now, action="retired",  # type: ignore[arg-type]
                                  detail="consumers switched (confirmed)", lifecycle=Lifecycle.RETIRED)
                self._close_reminders(record.id)  # type: ignore[arg-type]
                return ReminderChange(what, before, also=tuple(closing), record=record)
        return ReminderChange(what, before)

    def undo(self, change: ReminderChange) -> str:
        """Put back what a snooze, dismiss or done changed: the reminder as it was, a key that
        a done switch retired (and its other reminders), a revoke reminder it added. Returns
        where the reminder stands now, as a sentence's end ("is due again")."""
        now = self.now()
        before = change.before
        if change.record is not None:
            record = change.record
            self.store.update(record.id, now=now, action="restored",  # type: ignore[arg-type]
                              detail=f"undo: its {before.kind.value} reminder is open again",
                              lifecycle=record.lifecycle)
        self.store.restore_reminders([before, *change.also], now=now, remove=change.added,
                                     why=f"undo of {change.what}")
        state = before.effective_state(now)
        if state is ReminderState.DUE:
            where = "is due again"
        elif state is ReminderState.SNOOZED:
            where = f"is snoozed again, until {local_time(before.when())}"
        else:
            where = f"is upcoming again, due {local_time(before.when())}"
        if change.record is not None:
            where += f", and {change.record.name!r} is no longer retired"
        return where
