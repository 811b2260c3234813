"""The account API over HTTP: :class:`HttpAccountClient`.

Built on the standard library's ``http.client``: one persistent connection per client
(a sync of ten pages pays for one TLS handshake, not ten), explicit timeouts on every
socket operation, no redirects followed (the ``Authorization`` header never goes to a
host it was not meant for), and no new dependency. A third-party client (httpx,
urllib3) would bring HTTP/2 and pooling, which a handful of sequential calls does
not need, and would cost import time on the commands that use it.

Retries are bounded and only where they are safe: 429 (throttled: the request was
not served) a few times with a short backoff (``Retry-After`` when it is short); a
connection that a server closed while idle, once, for calls that change nothing;
502/503/504 once for the same calls. A call that creates a key is never repeated after
it may have reached the server: its error then says the key may exist anyway.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import quote, urlencode

from ... import __version__
from ...core.roles import Role
from ...core.text import scrub
from ..log import get as _get_log
from . import wire
from .errors import AccountError, ErrorKind, kind_of, sentence
from .protocol import CreatedKey, Expiry, KeyInfo, Revoked
from .url import BaseUrl, resolve

USER_AGENT = f"momento-keys/{__version__}"
PAGE_LIMIT = 100           # the most GET /api-keys gives per page
MAX_BODY = 32 * 2**20      # an answer larger than this is not one of ours
MAX_PAGES = 10_000
_GATEWAY = frozenset({502, 503, 504})
_log = _get_log("account")
_MAYBE_CREATED = "; the key may have been created anyway: sync to see it (and revoke it if it has no use)"


class HttpAccountClient:
    """The :class:`~tui.services.account.protocol.AccountClient` that speaks HTTP.

    ``api_key`` authenticates every call (``Authorization: <key>``); ``acting`` names that
    key in messages. ``base_url`` (``--account-api``) overrides ``MOMENTO_KEYS_ACCOUNT_API``,
    which overrides Momento's host. ``timeout`` bounds each connect and each wait for data.
    Thread-safe: calls are serialised on the one connection.
    """

    def __init__(self, api_key: str, *, acting: str = "the acting key", base_url: str | None = None,
                 timeout: float = 10.0, retries: int = 3, backoff: float = 0.5, max_wait: float = 5.0,
                 env: Mapping[str, str] | None = None) -> None:
        if not api_key or not api_key.strip():
            raise ValueError("the account API needs an API key to act with")
        self._api_key = api_key.strip()
        self._acting = acting
        self._url: BaseUrl = resolve(base_url, env)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HttpAccountClient(acting={self._acting!r}, base_url={self._url.text!r})"

    @property
    def acting(self) -> str:
        return self._acting

    @property
    def base_url(self) -> str:
        return self._url.text

    def close(self) -> None:
        with self._lock:
            self._drop()

    def __enter__(self) -> HttpAccountClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the calls --------------------------------------------------------------------
    def list_roles(self, type: Literal["system", "custom"] | None = None) -> list[Role]:
        if type not in (None, "system", "custom"):
            raise ValueError("a role type is 'system' or 'custom'")
        params = {"limit": str(PAGE_LIMIT), **({"type": type} if type else {})}
        return self._pages("/roles", params, wire.roles_page, "listing roles")

    def list_keys(self, on_page: Callable[[int], None] | None = None) -> list[KeyInfo]:
        return self._pages("/api-keys", {"limit": str(PAGE_LIMIT)}, wire.keys_page, "listing API keys", on_page)

    def create_key(self, role_id: str, description: str, expiry: Expiry) -> CreatedKey:
        if not isinstance(role_id, str) or not role_id.strip():
            raise ValueError("a new key needs a role")
        if not isinstance(description, str):
            raise ValueError("a key's description is text")
        if expiry != "never" and (isinstance(expiry, bool) or not isinstance(expiry, int) or expiry <= 0):
            raise ValueError("a key's expiry is 'never' or an instant in epoch seconds")
        what = "creating an API key"
        body = {"role_id": role_id, "description": description, "expiry": expiry}
        _status, doc = self._request("POST", "/api-keys", what, body=body, idempotent=False)
        try:
            return wire.created(doc)
        except wire.ShapeError as exc:
            raise self._bad_answer(what, str(exc), created=True) from None

    def revoke_key(self, key_id: str) -> Revoked:
        if not isinstance(key_id, str) or not key_id.strip():
            raise ValueError("which key? a key id is needed to revoke it")
        status, _doc = self._request("DELETE", f"/api-keys/{quote(key_id, safe='')}",
                                     f"revoking the API key {key_id!r}", accept=(404,))
        return "gone" if status == 404 else "revoked"

    # ---- paging ----------------------------------------------------------------------------
    def _pages(self, path: str, params: dict[str, str], read: Callable[[Any], tuple[list, str | None]],
               what: str, on_page: Callable[[int], None] | None = None) -> list:
        items: list = []
        seen: set[str] = set()
        token: str | None = None
        for _ in range(MAX_PAGES):
            query = dict(params, **({"next_token": token} if token else {}))
            _status, doc = self._request("GET", f"{path}?{urlencode(query)}", what)
            try:
                page, token = read(doc)
            except wire.ShapeError as exc:
                raise self._bad_answer(what, str(exc)) from None
            items += page
            if on_page is not None:
                on_page(len(items))
            if token is None:
                return items
            if token in seen:
                raise self._bad_answer(what, "the same next_token came back twice (the listing would never end)")
            seen.add(token)
        raise self._bad_answer(what, f"more than {MAX_PAGES} pages")

    # ---- one call, with its bounded retries ------------------------------------------------
    def _request(self, method: str, path: str, what: str, *, body: dict | None = None, idempotent: bool = True,
                 accept: tuple[int, ...] = ()) -> tuple[int, Any]:
        payload = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Authorization": self._api_key, "Accept": "application/json", "User-Agent": USER_AGENT}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        throttled = 0
        gateway_retried = False
        waited = 0.0
        with self._lock:
            while True:
                started = time.perf_counter()
                try:
                    status, raw, response_headers = self._exchange(method, path, payload, headers, what, idempotent)
                except AccountError as exc:
                    _log.debug("%s %s at %s: %s after %.0f ms", method, path.partition("?")[0], self._url.text,
                               exc.kind.value, (time.perf_counter() - started) * 1000)
                    raise
                _log.debug("%s %s at %s: HTTP %d in %.0f ms", method, path.partition("?")[0], self._url.text,
                           status, (time.perf_counter() - started) * 1000)
                if 200 <= status < 300 or status in accept:
                    if 200 <= status < 300:
                        return status, self._json(raw, response_headers, what, created=not idempotent)
                    return status, None
                if status == 429 and throttled < self.retries:
                    throttled += 1
                    delay = _retry_after(response_headers.get("Retry-After"))
                    if delay is None:
                        delay = self.backoff * 2 ** (throttled - 1)
                    delay = min(delay, self.max_wait)
                    time.sleep(delay)
                    waited += delay
                    continue
                if status in _GATEWAY and idempotent and not gateway_retried:
                    gateway_retried = True
                    time.sleep(min(self.backoff, self.max_wait))
                    continue
                raise self._status_error(status, raw, what, tries=throttled + 1, waited=waited,
                                         created=not idempotent)

    def _exchange(self, method: str, path: str, payload: bytes | None, headers: dict[str, str], what: str,
                  idempotent: bool) -> tuple[int, bytes, Mapping[str, str]]:
        """One request and its whole answer: (status, body, headers). A call that changes
        something always gets a fresh connection; a kept-alive one the server closed
        meanwhile is retried once on a new one (only for calls that change nothing)."""
        for attempt in (1, 2):
            reused = self._conn is not None and idempotent
            if not idempotent:
                self._drop()
            conn = self._connection()
            sent = False
            try:
                conn.request(method, path, body=payload, headers=headers)
                sent = True
                response = conn.getresponse()
                raw = response.read(MAX_BODY + 1)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._drop()
                if reused and attempt == 1:
                    continue  # a kept-alive connection closed while idle: once more, on a new one
                raise self._unreachable(what, "the server closed the connection without answering",
                                        maybe_created=not idempotent and sent) from exc
            except TimeoutError:
                self._drop()
                raise AccountError(
                    ErrorKind.TIMEOUT,
                    f"{self._url.where_with_url} did not answer within {self.timeout:g} s while {what}"
                    + (_MAYBE_CREATED if not idempotent and sent else ""),
                    outcome_unknown=not idempotent and sent) from None
            except ConnectionRefusedError:
                self._drop()
                raise self._unreachable(what, "connection refused") from None
            except socket.gaierror:
                self._drop()
                raise self._unreachable(what, f"the host name {self._url.host!r} could not be resolved") from None
            except ssl.SSLError as exc:
                self._drop()
                reason = scrub(getattr(exc, "reason", None) or str(exc), [self._api_key])
                raise self._unreachable(what, f"the secure connection failed ({reason})",
                                        maybe_created=not idempotent and sent) from None
            except http.client.HTTPException as exc:
                self._drop()
                raise self._bad_answer(what, f"not an HTTP answer ({type(exc).__name__})",
                                       created=not idempotent) from None
            except OSError as exc:
                self._drop()
                reason = scrub(exc.strerror or type(exc).__name__, [self._api_key])
                raise self._unreachable(what, reason, maybe_created=not idempotent and sent) from None
            if len(raw) > MAX_BODY:
                self._drop()
                raise self._bad_answer(what, f"an answer larger than {MAX_BODY // 2**20} MB", created=not idempotent)
            if response.will_close:
                self._drop()
            return response.status, raw, {k.title(): v for k, v in response.getheaders()}
        raise AssertionError("unreachable")

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            url = self._url
            if url.scheme == "https":
                self._conn = http.client.HTTPSConnection(url.host, url.port, timeout=self.timeout,
                                                         context=ssl.create_default_context())
            else:
                self._conn = http.client.HTTPConnection(url.host, url.port, timeout=self.timeout)
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None

    # ---- answers and errors ------------------------------------------------------------------
    def _json(self, raw: bytes, headers: Mapping[str, str], what: str, *, created: bool = False) -> Any:
        try:
            return json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, ValueError):
            kind = scrub(headers.get("Content-Type", "no content type"), [self._api_key])[:60]
            raise self._bad_answer(what, f"not JSON ({kind}, {len(raw)} bytes)", created=created) from None

    def _status_error(self, status: int, raw: bytes, what: str, *, tries: int, waited: float,
                      created: bool) -> AccountError:
        try:
            server = wire.error_message(json.loads(raw.decode("utf-8"))) if raw.strip() else ""
        except (UnicodeDecodeError, ValueError):
            server = ""
        server = scrub(server, [self._api_key])[:200]
        kind = kind_of(status)
        if kind is ErrorKind.BAD_ANSWER:  # 1xx/3xx: a redirect is never followed
            return self._bad_answer(what, f"HTTP {status}, which is not one of its answers", created=created)
        message = sentence(kind, where=self._url.where, what=what, acting=self._acting, status=status,
                           server=server, tries=tries, waited=waited)
        maybe = created and kind is ErrorKind.SERVER
        return AccountError(kind, message + (_MAYBE_CREATED if maybe else ""), status=status, outcome_unknown=maybe)

    def _unreachable(self, what: str, reason: str, *, maybe_created: bool = False) -> AccountError:
        return AccountError(ErrorKind.UNREACHABLE,
                            f"cannot reach {self._url.where_with_url} while {what}: {reason}"
                            + (_MAYBE_CREATED if maybe_created else ""), outcome_unknown=maybe_created)

    def _bad_answer(self, what: str, detail: str, *, created: bool = False) -> AccountError:
        detail = scrub(detail, [self._api_key])
        return AccountError(ErrorKind.BAD_ANSWER,
                            f"unexpected answer from {self._url.where} while {what}: {detail}; its format may have "
                            "changed (a newer momento-keys may read it)" + (_MAYBE_CREATED if created else ""),
                            outcome_unknown=created)


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (its date form is not worth reading for a short wait)."""
    if value and value.strip().isdigit():
        return float(value.strip())
    return None
