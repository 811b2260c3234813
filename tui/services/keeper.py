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
from ..core.keys import Inspection
from ..core.model import KeyRecord, KeyType, Kind, Status
from ..core.policy import status_of
from .config import Settings
from .store import DuplicateKey, DuplicateName, Store, StoreError
from .vault import Health, SecretMissing, Vault, VaultError

if TYPE_CHECKING:
    from .momento import GeneratedKey

NAME_MAX = 100


class KeeperError(Exception):
    """A user-facing failure of an operation: nothing was changed."""


def validate_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean:
        raise KeeperError("a key needs a name (such as 'orders-api prod')")
    if len(clean) > NAME_MAX:
        raise KeeperError(f"a name may be at most {NAME_MAX} characters")
    if any(ord(ch) < 32 for ch in clean):
        raise KeeperError("a name may not contain control characters")
    return clean


def parse_tags(text: str) -> list[str]:
    seen: list[str] = []
    for part in text.replace(",", " ").split():
        if part not in seen:
            seen.append(part)
    return seen


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
    ) -> ImportResult:
        """Track a key: its secret in the keyring (when one is usable), its metadata in SQLite.

        With ``require_secret`` (a key that exists nowhere else yet, such as a
        freshly generated one) nothing is written unless the secret can be
        stored: the caller keeps the key and offers another way to save it.
        """
        record = record_from(inspection, name, key_type=key_type, kind=kind, notes=notes, tags=tags)
        record.permissions = permissions
        warnings: list[str] = []
        if record.endpoint is None:
            warnings.append("no endpoint known for this key: set one with the editor or --endpoint")
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
                self.vault.put(record.fingerprint, inspection.secret, inspection.refresh_token)
                stored = True
            except VaultError as exc:
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
        except StoreError:
            if stored:
                self._take_back(record.fingerprint)
            raise
        return ImportResult(record, warnings)

    def store_generated(
        self,
        generated: "GeneratedKey",
        name: str,
        *,
        key_type: KeyType = KeyType.FINE_GRAINED,
        kind: Kind = Kind.V1,
        permissions: list[dict] | None = None,
        notes: str = "",
        tags: list[str] | None = None,
        action: str = "generated",
    ) -> ImportResult:
        """Store a key Momento just made: secret and refresh token in the keyring,
        record in SQLite, or nothing at all (KeeperError/StoreError) so the
        caller can keep the key on screen and retry."""
        from dataclasses import replace

        from ..core.keys import inspect_key
        from ..core.model import ExpirySource

        inspection = replace(
            inspect_key(generated.api_key, endpoint=generated.endpoint),
            expires_at=generated.valid_until,
            expiry_source=ExpirySource.VALID_UNTIL,
            refresh_token=generated.refresh_token,
            source="generated",
        )
        if inspection.issued_at is None:
            inspection = replace(inspection, issued_at=self.now())
        return self.import_key(
            inspection, name, key_type=key_type, kind=kind, notes=notes, tags=tags, action=action,
            permissions=permissions, require_secret=True,
        )

    def _take_back(self, fingerprint: str) -> None:
        # Only remove the secret if no other record holds the same key.
        if not self.store.holders(fingerprint):
            self.vault.delete(fingerprint)

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
        changed = sorted(k for k, v in fields.items() if getattr(record, k) != v)
        if not changed:
            return record
        assert record.id is not None
        try:
            return self.store.update(record.id, now=self.now(), action="edited", detail=", ".join(changed), **fields)
        except DuplicateName as exc:
            raise KeeperError(str(exc)) from None

    def delete(self, record: KeyRecord) -> None:
        """Forget a key: its record and (unless another record shares it) its keyring entry."""
        assert record.id is not None
        self.store.delete(record.id, now=self.now())
        if record.secret_stored and not self.store.holders(record.fingerprint):
            self.vault.delete(record.fingerprint)
