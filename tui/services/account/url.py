"""Where account-API calls go: Momento's global host, or an explicit override
(``MOMENTO_KEYS_ACCOUNT_API=http://HOST:PORT``, or ``--account-api``) such as a local
test server. Plain text (``http``) only ever comes from an explicit override; the
default is HTTPS. Pure: no network library is imported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

ENV_ACCOUNT_API = "MOMENTO_KEYS_ACCOUNT_API"
DEFAULT_ACCOUNT_API = "https://mga.registry.prod.a.momentohq.com"


class AccountUrlError(ValueError):
    """The override is not a usable base URL; the message says why."""


@dataclass(frozen=True)
class BaseUrl:
    scheme: str     # "https" or "http"
    host: str       # without brackets for IPv6
    port: int
    overridden: bool

    @property
    def text(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")

    @property
    def where(self) -> str:
        """How messages name it."""
        return f"the account API at {self.text}" if self.overridden else "Momento's account API"

    @property
    def where_with_url(self) -> str:
        """How messages about the connection name it: always with its URL."""
        return self.where if self.overridden else f"{self.where} ({self.text})"


def parse_base_url(text: str, *, overridden: bool = True) -> BaseUrl:
    """``http(s)://HOST[:PORT]`` (a trailing ``/`` is fine) as a :class:`BaseUrl`; raises
    ``AccountUrlError`` with a sentence otherwise."""
    raw = text.strip()
    shown = repr(raw) if len(repr(raw)) <= 80 else repr(raw)[:76] + "...'"
    usage = f"the account API must look like http://HOST:PORT or https://HOST, not {shown}"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise AccountUrlError(usage) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AccountUrlError(usage)
    if parts.username is not None or parts.password is not None:
        raise AccountUrlError(f"{usage} (no user name or password in it: the API key is sent as a header)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise AccountUrlError(f"{usage} (no path, query or fragment)")
    if not overridden and parts.scheme != "https":
        raise AccountUrlError("Momento's account API is only reached over HTTPS")
    return BaseUrl(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), overridden)


def resolve(base_url: str | None = None, env: Mapping[str, str] | None = None) -> BaseUrl:
    """The argument (``--account-api``) if given, else the environment's override, else Momento's host."""
    if base_url:
        return parse_base_url(base_url)
    import os

    value = (env if env is not None else os.environ).get(ENV_ACCOUNT_API, "").strip()
    if value:
        try:
            return parse_base_url(value)
        except AccountUrlError as exc:
            raise AccountUrlError(f"{ENV_ACCOUNT_API}: {exc}") from None
    return parse_base_url(DEFAULT_ACCOUNT_API, overridden=False)
