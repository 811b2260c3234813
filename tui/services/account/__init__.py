"""Momento's account API (momento-facts.md §7): v2 API keys and roles.

Blocking calls: the app runs them in worker threads, the CLI calls them directly.
Depend on :class:`AccountClient` (the seam); build the real client with
:func:`client_for` or :func:`client_for_record` where the app or a command is wired.
Only the commands that talk to the account import this package (``check`` and
``list`` never do); the HTTP machinery loads on the first real client.

* :mod:`.protocol`  the seam: ``AccountClient``, ``KeyInfo``, ``CreatedKey`` (``Role`` is in ``tui.core.roles``)
* :mod:`.errors`    ``AccountError``: HTTP status, kind, one sentence
* :mod:`.wire`      the documented shapes, read strictly
* :mod:`.url`       where calls go (``MOMENTO_KEYS_ACCOUNT_API``, ``--account-api``)
* :mod:`.http`      ``HttpAccountClient`` (standard library ``http.client``)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.roles import Role
from .errors import AccountError, ErrorKind
from .protocol import AccountClient, CreatedKey, Expiry, GeneratedV2Key, KeyInfo, Revoked, for_issuing
from .url import DEFAULT_ACCOUNT_API, ENV_ACCOUNT_API, AccountUrlError, parse_base_url, resolve

if TYPE_CHECKING:
    from ...core.model import KeyRecord
    from ..keeper import Keeper
    from .http import HttpAccountClient

__all__ = [
    "DEFAULT_ACCOUNT_API",
    "ENV_ACCOUNT_API",
    "AccountClient",
    "AccountError",
    "AccountUrlError",
    "CreatedKey",
    "ErrorKind",
    "Expiry",
    "GeneratedV2Key",
    "KeyInfo",
    "Revoked",
    "Role",
    "client_for",
    "client_for_record",
    "for_issuing",
    "parse_base_url",
    "resolve",
]


def client_for(api_key: str, *, acting: str, base_url: str | None = None, **options: object) -> HttpAccountClient:
    """The HTTP client acting with ``api_key`` (named ``acting`` in messages). ``base_url``:
    ``--account-api``. Raises ``AccountUrlError`` for a bad override."""
    from .http import HttpAccountClient

    return HttpAccountClient(api_key, acting=acting, base_url=base_url, **options)  # type: ignore[arg-type]


def client_for_record(keeper: Keeper, record: KeyRecord, *, base_url: str | None = None,
                      **options: object) -> HttpAccountClient:
    """The HTTP client acting with a tracked key (``--using NAME``): its secret is read from
    the keyring (and the read logged). Raises ``KeeperError`` when no secret is held."""
    secret = keeper.secret(record, why="used for the account API")
    return client_for(secret, acting=record.name, base_url=base_url, **options)
