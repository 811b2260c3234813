"""The one typed object through which the UI reaches the services.

The App builds it (tui.factory) and every screen reads it as ``self.app.services``
(see ``tui.app.MomentoKeysApp.services``): no duck typing, no reaching into the
App's attributes. Tests build it with a temporary store, an in-memory keyring
and a Momento factory pointed at a local fake server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from .keeper import Keeper

if TYPE_CHECKING:
    from ..core.clock import Clock
    from .account import AccountClient
    from .config import Settings
    from .issuing import Issuer
    from .momento import MomentoClient
    from .rotation import Rotator
    from .store import Store
    from .vault import Vault


@dataclass
class Services:
    keeper: Keeper
    # Builds the Momento client; None: the default client (real Momento, or the
    # endpoint override from the environment).
    api_factory: Callable[[], MomentoClient] | None = None
    readonly: bool = False
    extras: dict[str, object] = field(default_factory=dict)
    # Builds the account-API client (v2 keys: roles, sync, revoke, v2 rotation), acting with
    # a key whose role manages API keys; None: not wired (v2 rotations then say so).
    account_factory: Callable[[], AccountClient] | None = None

    @property
    def store(self) -> Store:
        return self.keeper.store

    @property
    def vault(self) -> Vault:
        return self.keeper.vault

    @property
    def settings(self) -> Settings:
        return self.keeper.settings

    @property
    def clock(self) -> Clock:
        return self.keeper.clock

    def momento(self) -> MomentoClient:
        """A Momento client (imports grpc on first use). Raises ``UserError`` for a bad
        endpoint override, so callers show it instead of dying."""
        if self.api_factory is not None:
            return self.api_factory()
        from ..errors import UserError
        from .momento import ENV_OVERRIDE, MomentoApi

        try:
            return MomentoApi.from_env()
        except ValueError as exc:
            raise UserError(f"{ENV_OVERRIDE}: {str(exc).rstrip('.')}") from None

    @cached_property
    def rotator(self) -> Rotator:
        from .rotation import Rotator

        return Rotator(self.keeper, self.momento, self.account_factory)

    @cached_property
    def issuer(self) -> Issuer:
        from .issuing import Issuer

        return Issuer(self.keeper)
