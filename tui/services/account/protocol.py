"""The seam between momento-keys and Momento's account API: the calls it makes and
what they answer. Sync, revocation, v2 rotation and their tests depend on
:class:`AccountClient`, not on the HTTP client, so a test can hand in a stub.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ...core.model import V2Fields
from ...core.roles import Role

__all__ = ["AccountClient", "CreatedKey", "Expiry", "GeneratedV2Key", "KeyInfo", "Revoked", "Role"]

# What create_key's expiry is: "never", or the instant (epoch seconds) the key expires.
Expiry = int | Literal["never"]
# What revoke_key did: revoked it now, or the account had no such key (already gone).
Revoked = Literal["revoked", "gone"]


@dataclass(frozen=True)
class KeyInfo:
    """An API key as the account lists it (``key_info``); never holds key material."""

    key_id: str
    role_id: str
    description: str = ""
    account_id: str | None = None
    issued_at: int | None = None     # issued_at_epoch_seconds
    expires_at: int | None = None    # expires_at_epoch_seconds; None: never expires


@dataclass(frozen=True)
class CreatedKey:
    """A v2 key the account just made. ``api_key`` is shown once: the caller must keep it.

    ``key_info`` is None when the answer's ``key_info`` was missing or did not fit the
    documented shape; ``oddities`` then says so in sentences. An odd answer is still
    returned, never dropped (as ``GeneratedKey.oddities`` for v1 keys).
    """

    api_key: str = field(repr=False)
    key_info: KeyInfo | None
    oddities: tuple[str, ...] = ()


@dataclass(frozen=True)
class GeneratedV2Key:
    """A created v2 key in the shape the issuing path takes (that of ``momento.GeneratedKey``,
    without loading gRPC for it): the key, the endpoint chosen for it, its expiry."""

    api_key: str = field(repr=False)
    endpoint: str
    valid_until: int | None          # None: never, or unknown when not ``expiry_known``
    oddities: tuple[str, ...] = ()
    expiry_known: bool = True
    refresh_token: None = None       # v2 keys have none


def for_issuing(created: CreatedKey, endpoint: str, *, role_id: str | None = None, role_name: str | None = None,
                description: str | None = None) -> tuple[GeneratedV2Key, V2Fields]:
    """What ``Issuer.keep`` stores for a created v2 key: the key with the endpoint chosen for
    it, and its account metadata. Without ``key_info`` the expiry is unknown (the key's own
    ``exp`` claim, if any, stands in until a sync) and the role and description are the
    ones asked for."""
    info = created.key_info
    generated = GeneratedV2Key(api_key=created.api_key, endpoint=endpoint,
                               valid_until=info.expires_at if info else None, oddities=created.oddities,
                               expiry_known=info is not None)
    if info is None:
        return generated, V2Fields(role_id=role_id, role_name=role_name, description=description)
    return generated, V2Fields(key_id=info.key_id, role_id=info.role_id,
                               role_name=role_name, description=info.description, issued_at=info.issued_at)


class AccountClient(Protocol):
    """The account-API calls momento-keys makes. Blocking: run them off the UI thread.
    Failures are :class:`~tui.services.account.errors.AccountError`."""

    @property
    def acting(self) -> str:
        """The name of the key that authenticates the calls (for messages and the event log)."""
        ...

    @property
    def base_url(self) -> str:
        ...

    def list_roles(self, type: Literal["system", "custom"] | None = None) -> list[Role]:
        """Every role (every page), or only system or custom ones."""
        ...

    def list_keys(self, on_page: Callable[[int], None] | None = None) -> list[KeyInfo]:
        """Every API key of the account (every page; ``on_page(count so far)`` after each)."""
        ...

    def create_key(self, role_id: str, description: str, expiry: Expiry) -> CreatedKey:
        """A new v2 key with this role, description and expiry ("never" or epoch seconds)."""
        ...

    def revoke_key(self, key_id: str) -> Revoked:
        """Revoke a key: "revoked", or "gone" when the account has no such key (404)."""
        ...
