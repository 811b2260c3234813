"""Rotation: replace a key before it expires without ever leaving its users
without a working key, and without losing the old or the new key.

Refresh path (v1 keys with a refresh token, before expiry):

1. a `rotations` row records the start;
2. RefreshApiToken returns a new key and a new refresh token (the old refresh
   token is spent from here on, so the pair must not be lost);
3. the pair is parked in the keyring under a name derived from the OLD key
   (`pending:<old fingerprint>`), which an interrupted rotation can always find;
4. it is stored under its own fingerprint, and in one SQLite transaction the
   old record steps aside (renamed, lifecycle "previous") while the new one
   takes the name and points back at it;
5. the parked copy is removed, the new key verified, reminders set: the old
   key keeps working until its own expiry (the grace window), and a "switch"
   reminder asks the user to move its consumers.

A crash or fault between any two steps leaves a state that `resume` completes.
Keys that cannot be refreshed get a manual rotation: make the replacement
(wizard or console), then link it as the successor.

v2 path (v2 keys linked to their account key, through Momento's account API):

1. a `rotations` row records the start (method "v2");
2. `POST /api-keys` makes a new key with the old one's role, description and
   lifetime (the old key is untouched: nothing is spent, unlike a refresh);
3. the new key goes through the one never-lose path (`tui.services.issuing`): it is
   stored under a temporary name with its key id, role and endpoint (the old
   record's), or rescued to a file; the rotation row holds its fingerprint, then its id;
4. in one SQLite transaction the new record takes the old one's name and place in
   the lineage, and the old one steps aside (lifecycle "previous");
5. reminders: a "switch consumers, then revoke" reminder on the old key. The old key
   keeps working until it is revoked: `finish_v2` revokes it through the account API.

An interruption after step 2 leaves a row `resume` completes from the stored record;
one during step 2 may have made a key that never reached us: resume says so (a sync
shows it, without its secret, to revoke).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core.keys import inspect_key
from ..core.model import ExpirySource, KeyRecord, Kind, Lifecycle
from ..core.reminders import ReminderKind
from ..core.report import local_time
from .keeper import Keeper, KeeperError, inspect_generated
from .recovery import pack_parked, pending_name, unpark
from .store import DuplicateKey, StoreError
from .vault import WINDOWS_MAX_SECRET, Health, VaultError

if TYPE_CHECKING:
    from .account import AccountClient
    from .issuing import Issued
    from .momento import GeneratedKey, MomentoClient
    from .revoke import RevokeOutcome


class RotationError(Exception):
    """A rotation step failed; the message says what and what to do.

    ``issued`` is set when Momento made the new key but it could not be stored: it
    went through the one never-lose path (tui.services.issuing) and is in a rescue
    file, or (``issued.kept`` False) must be shown to the user now.
    """

    def __init__(self, message: str, *, issued: Issued | None = None, resumable: bool = False,
                 transient: bool = False) -> None:
        super().__init__(message)
        self.issued = issued
        self.resumable = resumable
        self.transient = transient  # Momento unreachable or timed out: try again later


@dataclass
class RotationOutcome:
    old: KeyRecord
    new: KeyRecord
    verify: str                    # valid / restricted / invalid / unknown
    verify_message: str
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        grace = local_time(self.old.expires_at, never="never")
        if self.old.kind is Kind.V2 and self.old.key_id is not None:
            return (f"Rotated {self.new.name!r}: the new key is stored (role {self.new.role_name or self.new.role_id}, "
                    f"expires {local_time(self.new.expires_at, never='never')}). The old key keeps working until it "
                    f"is revoked (or {grace}): switch its consumers, then revoke it.")
        return (f"Rotated {self.new.name!r}: the new key is stored{VERIFIED.get(self.verify, '')} "
                f"(expires {local_time(self.new.expires_at, never='never')}). The old key keeps working until "
                f"{grace}: switch its consumers before then.")


# What Momento's check of the new key said, in words (`restricted` is verify's word for a key
# that works but may not list caches: a fine-grained key, as it should be).
VERIFIED = {"valid": " and works", "restricted": " and works (Momento accepted it)",
            "invalid": ", but Momento REFUSED it: check it before switching",
            "unknown": " (Momento could not be asked whether it works)"}


def refresh_blocker(record: KeyRecord, now: float) -> str | None:
    """Why this key cannot be rotated by refreshing it (None: it can)."""
    if record.lifecycle is not Lifecycle.ACTIVE:
        return f"{record.name!r} is {record.lifecycle.value}: rotate the current key of its lineage instead"
    if record.kind is Kind.V2:
        return ("v2 keys have no refresh token: they are rotated through the account API (a new key with the "
                "same role), see v2_blocker")
    if record.kind is Kind.DISPOSABLE:
        return "disposable tokens cannot be refreshed: generate a new token"
    if record.kind is Kind.LEGACY:
        return "legacy keys cannot be refreshed: make a new key and import it as the replacement"
    if record.expires_at is None:
        return ("keys that never expire come without a refresh token: make an expiring replacement "
                "(the wizard for fine-grained keys, the console for super-user keys)")
    if record.expires_at <= now:
        return (f"{record.name!r} expired on {local_time(record.expires_at)}; Momento refreshes a key only "
                "before it expires. Make a new key and import it as the replacement")
    if not record.has_refresh_token:
        return ("this key came without a refresh token (the console shows it once, in Download JSON): "
                "make a replacement and import it")
    if not record.secret_stored:
        return "its secret and refresh token are not in the keyring, so momento-keys cannot refresh it"
    return None


_ENDED = ("failed", "interrupted", "abandoned", "unsaved")


def v2_blocker(record: KeyRecord, now: float) -> str | None:
    """Why this v2 key cannot be rotated through the account API (None: it can)."""
    if record.lifecycle is not Lifecycle.ACTIVE:
        return f"{record.name!r} is {record.lifecycle.value}: rotate the current key of its lineage instead"
    if record.key_id is None:
        return (f"v2 keys are rotated through the account API, which needs the key's account id: run a sync "
                f"(or link it: momento-keys link {record.name!r} KEY_ID), then rotate")
    if record.revoked_at is not None:
        return (f"{record.name!r} was revoked on {local_time(record.revoked_at)}: make a new key with its role "
                "instead (generate --role)")
    if record.role_id is None:
        return f"the role of {record.name!r} is not known: run a sync, then rotate"
    if record.expires_at is not None and record.expires_at <= (record.issued_at or record.created_at):
        return f"the lifetime of {record.name!r} is not known: run a sync, then rotate"
    if record.expires_at is None and record.expiry_source is ExpirySource.UNKNOWN:
        return f"the expiry of {record.name!r} is not known: run a sync, then rotate"
    return None


def v2_expiry(record: KeyRecord, now: int) -> int | str:
    """The new key's expiry: the old key's lifetime from now, or "never"."""
    if record.expires_at is None:
        return "never"
    return now + (record.expires_at - (record.issued_at or record.created_at))


def previous_name(old: KeyRecord, taken: Callable[[str], bool]) -> str:
    base = f"{old.name} (until {local_time(old.expires_at)[:10]})" if old.expires_at else f"{old.name} (old)"
    name = base
    n = 2
    while taken(name):
        name = f"{base} #{n}"
        n += 1
    return name


class Rotator:
    def __init__(self, keeper: Keeper, api_factory: Callable[[], MomentoClient],
                 account_factory: Callable[[], AccountClient] | None = None) -> None:
        self.keeper = keeper
        self.api_factory = api_factory
        # Builds the account-API client (acting with a key that manages API keys): v2 rotations.
        self.account_factory = account_factory

    @property
    def store(self):
        return self.keeper.store

    @property
    def vault(self):
        return self.keeper.vault

    def rotate(self, record: KeyRecord) -> RotationOutcome:
        from .momento import MomentoError

        if record.kind is Kind.V2:
            return self._rotate_v2(record)
        keeper = self.keeper
        now = keeper.now()
        blocker = refresh_blocker(record, now)
        if blocker:
            raise RotationError(blocker)
        if self.vault.status.health is Health.UNCHECKED:
            self.vault.probe()
        if not self.vault.writable():
            raise RotationError(f"cannot rotate now: {self.vault.status.summary()} — the new key could not be "
                                "stored. Fix the keyring first (momento-keys doctor)")
        rotation_id = self.store.start_rotation(record, "refresh", now=now)
        try:
            old_key = keeper.secret(record, why="read for rotation")
            refresh_token = self.vault.get_refresh_token(record.fingerprint)
        except (KeeperError, VaultError) as exc:
            self.store.update_rotation(rotation_id, "failed", now=keeper.now(), detail=str(exc))
            raise RotationError(f"nothing changed: {exc}") from None
        if not refresh_token:
            self.store.update_rotation(rotation_id, "failed", now=keeper.now(), detail="refresh token missing")
            raise RotationError("nothing changed: the refresh token is missing from the keyring")
        try:
            generated = self.api_factory().refresh_api_key(old_key, refresh_token, record.endpoint)
        except KeyboardInterrupt:
            self.store.update_rotation(rotation_id, "interrupted", now=keeper.now(),
                                       detail="interrupted while waiting for Momento's answer")
            raise RotationError(
                f"interrupted while Momento was refreshing {record.name!r}: if the request reached Momento, the old "
                "refresh token is spent and the new key was never received. The old key keeps working until "
                f"{local_time(record.expires_at)}. Rotate again; if Momento then refuses the refresh token, make a "
                "new key and import it as the replacement (--replaces)") from None
        except MomentoError as exc:
            detail = str(exc)
            self.store.update_rotation(rotation_id, "failed", now=keeper.now(), detail=detail)
            if self._rotated_elsewhere(record, rotation_id, now):
                raise RotationError(f"not rotated here: another momento-keys process was rotating {record.name!r} at "
                                    "the same time and spent its refresh token first (`momento-keys list` shows its "
                                    "new key). Nothing changed here.") from None
            if self._interrupted_before(record):
                raise RotationError(
                    f"not rotated: {detail} An earlier rotation of {record.name!r} was interrupted after its request "
                    "was sent, so Momento has probably spent this refresh token then. The old key keeps working until "
                    f"{local_time(record.expires_at)}: make a new key and import it as the replacement "
                    "(--replaces)", transient=exc.transient) from None
            raise RotationError(f"not rotated: {detail} The old key is unchanged and still works.",
                                transient=exc.transient) from None
        except ValueError as exc:
            self.store.update_rotation(rotation_id, "failed", now=keeper.now(), detail=str(exc))
            raise RotationError(f"not rotated: {exc}") from None
        # From here the old refresh token is spent: the new pair must survive.
        try:
            self._park(record.fingerprint, generated)
        except (Exception, KeyboardInterrupt) as exc:
            reason = str(exc) if isinstance(exc, VaultError) else f"interrupted or failed: {type(exc).__name__}"
            raise self._rescued(rotation_id, record, generated, f"the keyring refused it ({reason})") from None
        try:
            try:
                new_fp = inspect_key(generated.api_key, endpoint=generated.endpoint).fingerprint
            except ValueError:
                new_fp = None  # _finish rescues an answer that fails our checks
            self.store.update_rotation(rotation_id, "generated", now=keeper.now(), new_fingerprint=new_fp)
            return self._finish(rotation_id, record, generated)
        except (KeyboardInterrupt, StoreError) as exc:
            why = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"the database refused a step ({exc})"
            raise RotationError(f"{why} after Momento made the new key of {record.name!r}: the new pair is parked "
                                "safely in the keyring, and the next `momento-keys rotate` (or the dashboard, or "
                                "`doctor --adopt`) completes the rotation", resumable=True) from None

    def _rescued(self, rotation_id: int, old: KeyRecord, generated: GeneratedKey, why: str) -> RotationError:
        """The new pair could not be kept in the keyring: it goes to a rescue file (the one
        never-lose path) and the rotation is recorded as "unsaved"."""
        from .issuing import Issuer

        issued = Issuer(self.keeper).rescue(generated, f"{old.name} (new)", why)
        where = (f"it is saved in {issued.rescue_file} (Download JSON, 0600): import it with --replaces"
                 if issued.rescue_file else "no rescue file could be written either: save it now, it is shown once")
        try:
            self.store.update_rotation(rotation_id, "unsaved", now=self.keeper.now(),
                                       detail=f"{why}; rescue file: {issued.rescue_file or 'none'}")
        except StoreError:
            pass
        return RotationError(f"Momento made {old.name!r} but it could not be stored: {why}; {where}. The old "
                             "refresh token is spent; the old key keeps working until it expires", issued=issued)

    def _finish(self, rotation_id: int, old: KeyRecord, generated: GeneratedKey) -> RotationOutcome:
        keeper = self.keeper
        from ..core.keys import KeyFormatError

        try:
            inspection = inspect_generated(generated, source="rotation")
        except (KeyFormatError, ValueError) as exc:
            # Momento's answer fails our checks: keep it anyway (rescue file), never drop it.
            error = self._rescued(rotation_id, old, generated, f"Momento's answer did not pass our checks ({exc})")
            if error.issued is not None and error.issued.rescue_file is not None:
                self.vault.delete_pending(old.fingerprint)  # else it stays parked, where doctor finds it
            raise error from None
        try:
            self.store.journal_add(inspection.fingerprint, old.name, old.kind.value, now=keeper.now())
            self.vault.put(inspection.fingerprint, inspection.secret, inspection.refresh_token)
        except VaultError as exc:
            self.store.update_rotation(rotation_id, "generated", now=keeper.now(), detail=str(exc))
            raise RotationError(f"the new key is parked in the keyring but could not be filed ({exc}); "
                                "run the rotation again to resume", resumable=True) from None
        new = KeyRecord(
            name=old.name, kind=old.kind, key_type=old.key_type, endpoint=inspection.endpoint,
            region=inspection.region, provider=inspection.provider,
            issued_at=inspection.issued_at or keeper.now(), expires_at=inspection.expires_at,
            expiry_source=inspection.expiry_source, fingerprint=inspection.fingerprint,
            has_refresh_token=bool(inspection.refresh_token), secret_stored=True,
            permissions=old.permissions, notes=old.notes, tags=list(old.tags), source="rotation",
            claims=dict(inspection.claims), warning_seconds=old.warning_seconds,
            critical_seconds=old.critical_seconds,
        )
        try:
            new = self.store.replace(
                old.id, new, old_new_name=previous_name(old, lambda n: self.store.find(n) is not None),
                now=keeper.now(), detail=f"refreshed from {old.fingerprint}",
            )
        except DuplicateKey:
            # Already filed by an earlier, interrupted run: pick it up.
            existing = next(r for r in self.store.all() if r.fingerprint == inspection.fingerprint)
            new = existing
        except StoreError as exc:
            self.store.update_rotation(rotation_id, "generated", now=keeper.now(), detail=str(exc))
            raise RotationError(f"the new key is safe in the keyring but the database refused the change ({exc}); "
                                "run the rotation again to resume", resumable=True) from None
        self.vault.delete_pending(old.fingerprint)
        self.store.journal_remove(pending_name(old.fingerprint))
        return self._wrap_up(rotation_id, old, new, generated.api_key, generated.endpoint)

    def _wrap_up(self, rotation_id: int, old: KeyRecord, new: KeyRecord, api_key: str,
                 endpoint: str | None) -> RotationOutcome:
        """The steps after the new record is filed: verify, reminders, done."""
        keeper = self.keeper
        self.store.update_rotation(rotation_id, "stored", now=keeper.now(), new_id=new.id)
        warnings: list[str] = []
        try:
            result = self.api_factory().verify(api_key, endpoint)
            status, message = result.status, result.message
        except Exception as exc:  # verification is advice, never a reason to lose the rotation
            status, message = "unknown", str(exc)
        if status == "invalid":
            warnings.append(f"Momento rejected the new key when checked: {message}")
        elif status == "unknown":
            warnings.append(f"the new key could not be checked now: {message}")
        old = self.store.get(old.id)
        keeper.schedule(new)
        keeper.schedule(old)
        self.store.add_reminder(old.id, ReminderKind.SWITCH, keeper.now(), now=keeper.now())
        self.store.log(new.id, "verified", now=keeper.now(), detail=status)
        self.store.update_rotation(rotation_id, "done", now=keeper.now(), detail=f"verify: {status}")
        return RotationOutcome(old, new, status, message, warnings)

    # ---- v2 keys: the account API ----------------------------------------------------------
    def _rotate_v2(self, record: KeyRecord) -> RotationOutcome:
        from .account import AccountError, for_issuing
        from .issuing import Issuer

        keeper = self.keeper
        now = keeper.now()
        blocker = v2_blocker(record, now)
        if blocker:
            raise RotationError(blocker)
        if self.account_factory is None:
            raise RotationError("rotating a v2 key needs the account API: act with a key whose role manages API "
                                "keys (such as Owner)")
        if self.vault.status.health is Health.UNCHECKED:
            self.vault.probe()
        if not self.vault.writable():
            raise RotationError(f"cannot rotate now: {self.vault.status.summary()} — the new key could not be "
                                "stored. Fix the keyring first (momento-keys doctor)")
        expiry = v2_expiry(record, now)
        rotation_id = self.store.start_rotation(record, "v2", now=now)
        try:
            client = self.account_factory()
            created = client.create_key(record.role_id, record.description or "", expiry)  # type: ignore[arg-type]
        except KeyboardInterrupt:
            self.store.update_rotation(rotation_id, "interrupted", now=keeper.now(),
                                       detail="interrupted while waiting for the account's answer")
            raise RotationError(
                f"interrupted while the account was making the new key of {record.name!r}: if the request reached "
                "it, a new key exists that never reached here (a sync lists it, without its secret: revoke it). "
                "The old key is unchanged and still works") from None
        except AccountError as exc:
            self.store.update_rotation(rotation_id, "interrupted" if exc.outcome_unknown else "failed",
                                       now=keeper.now(), detail=str(exc))
            raise RotationError(f"not rotated: {exc}. The old key is unchanged and still works.",
                                transient=exc.transient) from None
        except (ValueError, KeeperError) as exc:
            self.store.update_rotation(rotation_id, "failed", now=keeper.now(), detail=str(exc))
            raise RotationError(f"not rotated: {exc}") from None
        # From here the new key exists in the account and is shown once: it must be kept.
        generated, v2 = for_issuing(created, record.endpoint or "", role_id=record.role_id,
                                    role_name=record.role_name, description=record.description)
        try:
            new_fp: str | None = inspect_key(generated.api_key, endpoint=generated.endpoint or None).fingerprint
        except ValueError:
            new_fp = None  # the issuing path rescues an answer that fails our checks
        try:
            self.store.update_rotation(rotation_id, "generated", now=keeper.now(), new_fingerprint=new_fp,
                                       detail=f"account key {v2.key_id or 'unknown'}")
        except StoreError:
            pass  # the issuing path below stores or rescues the key all the same
        issued = Issuer(keeper).keep(
            generated, self._new_name(record), kind=Kind.V2, key_type=record.key_type,
            permissions=record.permissions, notes=record.notes, tags=list(record.tags),
            action="created by rotation", v2=v2)
        if issued.record is None:
            where = (f"it is saved in {issued.rescue_file} (Download JSON, 0600): import it with --replaces"
                     if issued.rescue_file else "no rescue file could be written either: save it now, it is "
                                                "shown once")
            try:
                self.store.update_rotation(rotation_id, "unsaved", now=keeper.now(),
                                           detail=f"{issued.problem}; rescue file: {issued.rescue_file or 'none'}")
            except StoreError:
                pass
            raise RotationError(f"the account made the new key of {record.name!r} but it could not be stored: "
                                f"{issued.problem}; {where}. The old key is unchanged and still works",
                                issued=issued)
        try:
            self.store.update_rotation(rotation_id, "filed", now=keeper.now(), new_id=issued.record.id)
            new = self._take_over(record, issued.record)
        except (KeyboardInterrupt, StoreError) as exc:
            why = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"the database refused a step ({exc})"
            raise RotationError(f"{why} after the new key of {record.name!r} was stored as {issued.record.name!r}: "
                                "the next `momento-keys rotate` (or the dashboard) completes the rotation",
                                resumable=True) from None
        outcome = self._wrap_up(rotation_id, record, new, generated.api_key, new.endpoint)
        outcome.warnings[:0] = issued.warnings
        return outcome

    def _new_name(self, old: KeyRecord) -> str:
        """A free temporary name for a v2 rotation's new key (it takes the old name in step 4)."""
        base = f"{old.name} (new)"
        name, n = base, 2
        while self.store.find(name) is not None:
            name = f"{base} #{n}"
            n += 1
        return name

    def _take_over(self, old: KeyRecord, new: KeyRecord) -> KeyRecord:
        taken = lambda n: self.store.find(n) is not None  # noqa: E731
        return self.store.take_over(old.id, new.id, old_new_name=previous_name(old, taken),
                                    now=self.keeper.now(), detail=f"replaces account key {old.key_id}")

    def _resume_v2(self, rot: dict, old: KeyRecord) -> RotationOutcome | str | None:
        """Complete an interrupted v2 rotation from what was stored (None: nothing to report)."""
        new = None
        if rot["new_id"]:
            try:
                new = self.store.get(rot["new_id"])
            except StoreError:
                new = None
        if new is None and rot["new_fingerprint"]:
            new = self._record_holding(rot["new_fingerprint"])
        if new is not None and new.secret_stored and self.vault.has(new.fingerprint):
            if rot["state"] != "filed" or not rot["new_id"]:
                self.store.update_rotation(rot["id"], "filed", now=self.keeper.now(), new_id=new.id)
            if old.lifecycle is Lifecycle.ACTIVE or new.predecessor_id != old.id:
                new = self._take_over(old, new)
            return self._wrap_up(rot["id"], old, new, self.vault.get(new.fingerprint), new.endpoint)
        if rot["state"] == "unsaved":
            if self.store.update_rotation(rot["id"], "abandoned", now=self.keeper.now(),
                                          detail=f"rescued: {rot['detail']}", only_from="unsaved"):
                return (f"{rot['old_name']!r}: the new key of an earlier rotation could not be stored and went to a "
                        f"rescue file ({rot['detail']}); import it with --replaces")
            return None
        if self.store.update_rotation(rot["id"], "abandoned", now=self.keeper.now(),
                                      detail="no new key was stored", only_from=rot["state"]):
            return (f"{rot['old_name']!r}: an interrupted v2 rotation stored no new key; the old key is unchanged. "
                    "If the request reached the account, a new key exists there without its secret here: a sync "
                    "lists it, to revoke")
        return None

    def finish_v2(self, old: KeyRecord, acting_name: str | None = None) -> RevokeOutcome:
        """The end of a v2 rotation, once consumers have switched: revoke the old key through
        the account API (the record retires, its reminders close). Raises ``RotationError``
        when there is nothing to finish, ``AccountError`` when the account refused."""
        from .revoke import RevokeError, revoke

        if old.kind is not Kind.V2 or old.lifecycle is not Lifecycle.PREVIOUS:
            raise RotationError(f"{old.name!r} is not the previous key of a v2 rotation; revoke it directly if that "
                                "is what you mean")
        if self.account_factory is None:
            raise RotationError("revoking needs the account API: act with a key whose role manages API keys")
        try:
            return revoke(self.keeper, self.account_factory(), old, acting_name)
        except RevokeError as exc:
            raise RotationError(str(exc)) from None

    def resume(self) -> list[RotationOutcome | str]:
        """Complete rotations a crash or fault interrupted. Returns what happened."""
        results: list[RotationOutcome | str] = []
        rotations = self.store.open_rotations()
        if rotations and self.vault.status.health is Health.UNCHECKED:
            # Filing a parked pair writes to the keyring, which refuses every write
            # until probed (`rotate` and the dashboard call resume() before probing).
            self.vault.probe()
        for rot in rotations:
            try:
                old = self.store.get(rot["old_id"])
            except StoreError:
                self.store.update_rotation(rot["id"], "abandoned", now=self.keeper.now(), detail="old key deleted")
                continue
            if rot["method"] == "v2":
                done = self._resume_v2(rot, old)
                if done is not None:
                    results.append(done)
                continue
            pending = self.vault.get_pending(old.fingerprint)
            filed = self._record_holding(rot["new_fingerprint"]) if rot["new_fingerprint"] else None
            if pending is not None:
                results.append(self._finish(rot["id"], old, unpark(pending, old)))
            elif filed is not None and filed.secret_stored and self.vault.has(filed.fingerprint):
                # Filed, and the parked copy removed, before the interruption: only
                # the bookkeeping after it (verify, reminders, done) is left.
                results.append(self._wrap_up(rot["id"], old, filed, self.vault.get(filed.fingerprint),
                                             filed.endpoint))
            elif rot["state"] == "unsaved":
                if self.store.update_rotation(rot["id"], "abandoned", now=self.keeper.now(),
                                              detail=f"rescued: {rot['detail']}", only_from="unsaved"):
                    results.append(f"{rot['old_name']!r}: the new key of an earlier rotation could not be stored and "
                                   f"went to a rescue file ({rot['detail']}); import it with --replaces")
            elif rot["state"] == "stored" and rot["new_id"]:
                if self.store.update_rotation(rot["id"], "done", now=self.keeper.now(), detail="resumed",
                                              only_from="stored"):
                    results.append(f"{rot['old_name']!r}: rotation was already stored; marked done")
            # Only if nobody moved it on since it was read: a rotation still running in another
            # process (waiting for Momento) looks interrupted too, and must not be marked
            # abandoned after it has finished. (If it is still running, its next step sets its
            # state again.)
            elif self.store.update_rotation(rot["id"], "abandoned", now=self.keeper.now(),
                                            detail="no new key was received", only_from=rot["state"]):
                results.append(f"{rot['old_name']!r}: the interrupted rotation never received a new key; "
                               "the old key is unchanged (rotate again)")
        return results

    def _rotated_elsewhere(self, record: KeyRecord, rotation_id: int, since: int) -> bool:
        """Was `record` rotated (or is it being rotated) by another process meanwhile?
        (Its refresh being refused is then no sign that anything is wrong with the key.)
        Rotations that ended (failed, interrupted, abandoned) are no other process."""
        try:
            if self.store.get(record.id).lifecycle is not Lifecycle.ACTIVE:
                return True
            return any(r["old_id"] == record.id and r["id"] != rotation_id and r["state"] not in _ENDED
                       and r["started_at"] >= since - 60 for r in self.store.rotations(record.id))
        except StoreError:
            return False

    def _interrupted_before(self, record: KeyRecord) -> bool:
        """Did an earlier rotation of `record` stop after its request may have reached Momento?"""
        try:
            return any(r["old_id"] == record.id and (r["state"] == "interrupted" or (
                r["state"] == "abandoned" and "no new key" in r["detail"]))
                for r in self.store.rotations(record.id))
        except StoreError:
            return False

    def _record_holding(self, fingerprint: str) -> KeyRecord | None:
        return next((r for r in self.store.all() if r.fingerprint == fingerprint
                     and r.lifecycle is not Lifecycle.RETIRED), None)

    def _park(self, old_fingerprint: str, generated: GeneratedKey) -> None:
        """Park the new pair under the OLD key's name in ONE keyring entry.

        Two entries (key, then refresh token) leave a window in which a crash
        keeps the new key but loses the new refresh token, after the old one was
        spent: the key could never be refreshed again. One write is all or
        nothing. (Windows caps an entry at 1280 characters; a pair too long for
        that is parked as two entries, as before.)
        """
        # Journalled first, as every keyring write is: doctor finds a parked pair whose rotation
        # record was lost (deleted key, damaged database) and `doctor --adopt` files it.
        self.store.journal_add(pending_name(old_fingerprint), self._parked_name(old_fingerprint), "v1", now=self.keeper.now())
        packed = pack_parked(generated)
        try:
            if sys.platform == "win32" and len(packed) > WINDOWS_MAX_SECRET:
                self.vault.put_pending(old_fingerprint, generated.api_key, generated.refresh_token)
            else:
                self.vault.put_pending(old_fingerprint, packed, None)
        except (Exception, KeyboardInterrupt):
            if not self.vault.has(pending_name(old_fingerprint)):
                self.store.journal_remove(pending_name(old_fingerprint))
            raise

    def _parked_name(self, old_fingerprint: str) -> str:
        holder = self._record_holding(old_fingerprint)
        return f"{holder.name} (new)" if holder is not None else "rotated key (new)"

    def link_replacement(self, old: KeyRecord, new: KeyRecord) -> None:
        """A manual rotation: `new` (made in the wizard or the console) replaces `old`."""
        if old.id == new.id:
            raise KeeperError("a key cannot replace itself")
        now = self.keeper.now()
        rid = self.store.start_rotation(old, "manual", now=now)
        self.store.link(old.id, new.id, now=now)
        self.store.update_rotation(rid, "done", now=now, new_id=new.id, detail="linked")
        old = self.store.get(old.id)
        self.keeper.schedule(old)
        self.store.add_reminder(old.id, ReminderKind.SWITCH, now, now=now)
        self.store.add_reminder(old.id, ReminderKind.REVOKE, now, now=now)
