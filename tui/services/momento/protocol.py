"""The seam between momento-keys and Momento: the calls it makes and what they answer.

Callers (the issuing path, rotation, the CLI, the wizard) and their tests depend on
:class:`MomentoClient`, not on :class:`~tui.services.momento.client.MomentoApi`, so a
test can hand in a stub and the app never reaches into gRPC details.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from tui.core.permissions import Grant

from .errors import MomentoError

__all__ = ["GeneratedKey", "MomentoClient", "VerifyResult", "VerifyStatus"]


@dataclass(frozen=True)
class GeneratedKey:
    """A key or disposable token the service just made.

    ``api_key`` is the v1 key string (base64 of ``{"endpoint", "api_key"}`` JSON, built
    exactly as the JS SDK does); ``refresh_token`` is None for keys that never expire and
    for disposable tokens; ``valid_until`` is epoch seconds, None for never (or, with an
    oddity saying so, when Momento sent no expiry).

    ``oddities`` are sentences about what was odd in Momento's answer (no endpoint, no
    expiry, a key that does not decode...). An odd answer is still returned, never
    dropped: Momento made the key, and losing it would be worse. The issuing path turns
    these sentences into warnings.
    """

    api_key: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    endpoint: str
    valid_until: int | None
    oddities: tuple[str, ...] = ()
    # False when Momento sent no expiry for a key asked to expire: `valid_until` None then
    # means "unknown", not "never".
    expiry_known: bool = True


VerifyStatus = Literal["valid", "restricted", "invalid", "unknown"]


@dataclass(frozen=True)
class VerifyResult:
    """The answer of :meth:`MomentoClient.verify`.

    * ``valid``: Momento accepted the key and it may list caches;
    * ``restricted``: Momento accepted the key but it may not list caches
      (expected for fine-grained keys and disposable tokens);
    * ``invalid``: Momento rejected the key (expired, revoked, forged), or the
      text is not a Momento key at all;
    * ``unknown``: no answer (network, timeout, server trouble); ``error`` says why.
    """

    status: VerifyStatus
    message: str
    error: MomentoError | None = None
    caches: tuple[str, ...] = ()   # the caches it listed (``valid`` only)


class MomentoClient(Protocol):
    """The Momento calls momento-keys makes. Blocking: run them off the UI thread.

    Failures are :class:`MomentoError`; wrong arguments raise ``ValueError`` before any
    call. ``verify`` never raises for a bad key or a network problem.
    """

    @property
    def override(self) -> tuple[str, int] | None:
        """``(host, port)`` every call goes to in plaintext (a local test server), or None."""
        ...

    def generate_api_key(
        self,
        auth_key: str,
        endpoint: str | None,
        grants: Sequence[Grant] | None,
        valid_for_seconds: int | None,
        description: str | None = None,
    ) -> GeneratedKey:
        """A new v1 API key (grants None: super user; valid_for_seconds None: never expires)."""
        ...

    def refresh_api_key(self, api_key: str, refresh_token: str, endpoint: str | None) -> GeneratedKey:
        """A new key and refresh token for a key that has not expired yet."""
        ...

    def generate_disposable_token(
        self,
        auth_key: str,
        endpoint: str | None,
        grants: Sequence[Grant],
        valid_for_seconds: int | None,
        *,
        token_id: str | None = None,
    ) -> GeneratedKey:
        """A disposable token: data-plane only, must expire, no refresh token; ``token_id``
        (optional, at most 64 characters) is put in the token by the service."""
        ...

    def verify(self, api_key: str, endpoint: str | None) -> VerifyResult:
        """Whether Momento accepts the key (one cheap call)."""
        ...
