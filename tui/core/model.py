"""What a key record is. Plain dataclasses; no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Kind(str, enum.Enum):
    """The credential's format (momento-facts.md §1)."""

    V1 = "v1"                  # base64 JSON {endpoint, api_key}
    DISPOSABLE = "disposable"  # same format as v1; told apart only by where it came from
    V2 = "v2"                  # global JWT (claim t == "g"), endpoint stored beside it
    LEGACY = "legacy"          # JWT with cp/c claims


class KeyType(str, enum.Enum):
    SUPER_USER = "super-user"
    FINE_GRAINED = "fine-grained"
    UNKNOWN = "unknown"


class ExpirySource(str, enum.Enum):
    """Where a record's expiry came from, most authoritative first."""

    VALID_UNTIL = "valid_until"        # generate/refresh response
    CONSOLE_JSON = "console_json"      # validUntil in the console's Download JSON
    V2_METADATA = "v2_metadata"        # expires_at_epoch_seconds of a v2 key
    JWT_EXP = "jwt_exp"                # the token's own exp claim (fallback)
    JWT_NO_EXP = "jwt_no_exp"          # a v1/legacy token without exp: never expires
    USER = "user"                      # typed in by the user
    UNKNOWN = "unknown"                # nothing tells (e.g. a v2 key with no exp)


class Lifecycle(str, enum.Enum):
    ACTIVE = "active"
    PREVIOUS = "previous"   # replaced by a rotation, still valid until its expiry (grace window)
    RETIRED = "retired"


class Status(str, enum.Enum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    EXPIRED = "expired"
    NEVER = "never-expires"
    UNKNOWN = "unknown"
    REVOKED = "revoked"     # the account no longer has the key (v2): it stopped working whatever its expiry


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Warn/critical when either the absolute time left or the fraction of the
    lifetime used crosses its limit, whichever comes first."""

    warning_seconds: int = 14 * 86400
    warning_fraction: float = 2 / 3
    critical_seconds: int = 3 * 86400
    critical_fraction: float = 0.9
    # Set by per-key overrides: an explicit absolute threshold always applies,
    # even when it is longer than the key's whole life.
    warning_explicit: bool = False
    critical_explicit: bool = False


@dataclass(slots=True)
class KeyRecord:
    name: str
    kind: Kind
    key_type: KeyType = KeyType.UNKNOWN
    endpoint: str | None = None
    region: str | None = None
    provider: str | None = None
    issued_at: int | None = None       # when the key was made (iat, or generation time)
    expires_at: int | None = None      # None: never, or unknown (see expiry_source)
    expiry_source: ExpirySource = ExpirySource.UNKNOWN
    fingerprint: str = ""
    has_refresh_token: bool = False
    secret_stored: bool = False        # the keyring holds this record's secret
    permissions: list[dict] | None = None
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    lifecycle: Lifecycle = Lifecycle.ACTIVE
    source: str = ""                   # imported/console-json/momento-cli/generated/...
    claims: dict = field(default_factory=dict)  # non-secret JWT claims
    warning_seconds: int | None = None  # per-key threshold overrides (None: global)
    critical_seconds: int | None = None
    created_at: int = 0                # when the record was made
    updated_at: int = 0
    predecessor_id: int | None = None  # the key this one replaced (rotation lineage)
    # v2 keys: what Momento's account API says about the key (None: not known here).
    key_id: str | None = None          # the account's key_id (exact match for sync and revoke)
    role_id: str | None = None
    role_name: str | None = None       # the role's name when the roles were read
    description: str | None = None     # the key's description in the account
    synced_at: int | None = None       # when the account last confirmed this record
    revoked_at: int | None = None      # when the key was found revoked, or revoked from here
    id: int | None = None

    @property
    def never_expires(self) -> bool:
        return self.expires_at is None and self.expiry_source not in (ExpirySource.UNKNOWN,)


@dataclass(frozen=True, slots=True)
class V2Fields:
    """The account's metadata of a v2 key, as the issuing path stores it with a new key."""

    key_id: str | None = None
    role_id: str | None = None
    role_name: str | None = None
    description: str | None = None
    issued_at: int | None = None       # issued_at_epoch_seconds
    synced_at: int | None = None

    def apply(self, record: KeyRecord) -> KeyRecord:
        """Set these fields on ``record`` (the ones given; None leaves a field as it is)."""
        for name in ("key_id", "role_id", "role_name", "description", "issued_at", "synced_at"):
            value = getattr(self, name)
            if value is not None:
                setattr(record, name, value)
        return record


@dataclass(frozen=True, slots=True)
class Event:
    record_id: int
    at: int
    action: str
    detail: str = ""
    id: int | None = None
