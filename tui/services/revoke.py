"""Revoking a v2 key through Momento's account API (``DELETE /api-keys/{key_id}``).

The call first; only once the account has answered does the record change: it retires,
``revoked_at`` is set, its open reminders close, and the event log says which key
revoked it. A 404 means the account has no such key any more (revoked elsewhere, or by
an earlier attempt whose answer was lost): the record retires all the same, and the
outcome says so. Any other failure (``AccountError``: 401, 403, throttled, timeout...)
changes nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core.model import KeyRecord, Kind, Lifecycle
from ..core.report import local_time
from .keeper import Keeper, KeeperError
from .store import StoreError

if TYPE_CHECKING:
    from .account import AccountClient


class RevokeError(KeeperError):
    """This key cannot be revoked from here; nothing was sent. The message says why and what to do."""


@dataclass
class RevokeOutcome:
    record: KeyRecord              # as stored after the revocation (retired)
    already_gone: bool             # the account had no such key (404)
    acting: str                    # the name of the key that acted
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        r = self.record
        role = f" (role {r.role_name or r.role_id})" if (r.role_name or r.role_id) else ""
        if self.already_gone:
            return (f"{r.name!r}{role} was already gone from the account (no key {r.key_id!r} there): it no "
                    "longer works; retired here.")
        return f"Revoked {r.name!r}{role} with {self.acting!r}: it no longer works; retired here."


def revoke_blocker(record: KeyRecord) -> str | None:
    """Why this record cannot be revoked through the account API (None: it can)."""
    if record.kind is not Kind.V2:
        return (f"{record.name!r} is a {record.kind.value} key: only v2 keys are revoked through the account API; "
                "revoke it in the Momento console")
    if record.key_id is None:
        return (f"{record.name!r} is not linked to an account key yet: run a sync, or link it "
                f"(momento-keys link {record.name!r} KEY_ID)")
    if record.revoked_at is not None and record.lifecycle is Lifecycle.RETIRED:
        return f"{record.name!r} was revoked on {local_time(record.revoked_at)}; nothing to do"
    return None


def revoke(keeper: Keeper, client: AccountClient, record: KeyRecord, acting_name: str | None = None) -> RevokeOutcome:
    """Revoke ``record``'s key through the account API, then retire the record (see the module
    docstring). Raises ``RevokeError`` before any call when it cannot be revoked from here,
    ``AccountError`` when the account refused (nothing changed here), and ``KeeperError``
    when the key was revoked but the database refused to record it."""
    blocker = revoke_blocker(record)
    if blocker:
        raise RevokeError(blocker)
    acting = acting_name or client.acting
    assert record.key_id is not None and record.id is not None
    result = client.revoke_key(record.key_id)
    gone = result == "gone"
    now = keeper.now()
    detail = (f"the account had no key {record.key_id} any more (revoked elsewhere); retired here"
              if gone else f"account key {record.key_id} revoked through the account API by {acting!r}")
    try:
        updated = keeper.store.update(record.id, now=now, action="revoked", detail=detail,
                                      lifecycle=Lifecycle.RETIRED, revoked_at=record.revoked_at or now)
        keeper._close_reminders(record.id)
    except StoreError as exc:
        raise KeeperError(f"{record.name!r} was revoked in the account, but the database refused to record it "
                          f"({exc}); the next sync marks it revoked") from None
    outcome = RevokeOutcome(updated, gone, acting)
    if acting == record.name:
        outcome.warnings.append(f"{record.name!r} was also the key acting for the account API: act with another "
                                "key from now on")
    return outcome
