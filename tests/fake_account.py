"""A fake Momento account API for the test suite: a real HTTP server on 127.0.0.1.

It speaks the shapes of momento-facts.md §7 (``ThreadingHTTPServer``, HTTP/1.1 with
keep-alive, a free port):

* ``GET /roles?limit&next_token&type`` → ``{"roles": [...], "next_token"?}``
  (system roles Owner, Operator and Viewer, and custom roles added with ``add_role``);
* ``GET /api-keys?limit=1..100&next_token`` → ``{"key_info": [...], "next_token"?}``;
* ``POST /api-keys`` ``{"role_id", "description", "expiry"}`` → ``{"api_key", "key_info"}``;
* ``DELETE /api-keys/{key_id}`` → ``{}``, or 404 when there is no such key.

Every call must carry ``Authorization: <key>`` with a key the fake knows (``acting_key``
makes one; created keys work too): unknown → 401; a key whose role lacks auth
management → 403. Errors carry ``{"code", "message"}``.

Everything received is recorded in ``server.requests`` (method, path, query, headers,
body). Faults are injected with :meth:`FakeAccount.fail` (any status, n times, optionally
for one method or path prefix), :meth:`FakeAccount.hang` (accept, never answer: held at
most ``hang_limit`` seconds, released on stop) and :meth:`FakeAccount.garbage` (a body
that is not JSON, or any body given). Everything is bounded: no test can hang on it.

Use the ``fake_account`` fixture, or ``with FakeAccount() as server: ...``; point a
client at ``server.url``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
import pytest

from tests import fake_momento

__all__ = ["FakeAccount", "Fault", "Recorded", "fake_account"]

OWNER, OPERATOR, VIEWER = "role-owner", "role-operator", "role-viewer"
ACCOUNT_ID = "acct-0001"
_SIGNER = secrets.token_hex(16)


def _rules(*rules: dict) -> dict:
    return {"rules": list(rules)}


SYSTEM_ROLES = [
    {"role_id": OWNER, "role_name": "Owner", "role_type": "system", "description": "Everything",
     "permissions": _rules({"type": "account_management", "actions": ["read", "list"]},
                           {"type": "auth_management", "actions": ["read", "write", "list"], "items": "*"},
                           {"type": "resource_management", "actions": ["read", "write", "list"], "resources": "*"},
                           {"type": "cache", "actions": ["read", "write", "list"], "caches": "*", "items": "*"},
                           {"type": "topic", "actions": ["read", "write", "list"], "caches": "*", "topics": "*"})},
    {"role_id": OPERATOR, "role_name": "Operator", "role_type": "system",
     "permissions": _rules({"type": "resource_management", "actions": ["read", "write", "list"], "resources": "*"},
                           {"type": "cache", "actions": ["read", "write", "list"], "caches": "*", "items": "*"})},
    {"role_id": VIEWER, "role_name": "Viewer", "role_type": "system",
     "permissions": _rules({"type": "cache", "actions": ["read", "list"], "caches": "*", "items": "*"})},
]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Fault:
    kind: str                     # "status", "hang", "garbage"
    times: int
    status: int = 500
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    path: str | None = None       # a path prefix ("/api-keys")

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or path.startswith(self.path))


class FakeAccount:
    def __init__(self, *, now: Callable[[], float] = time.time, hang_limit: float = 5.0,
                 jwt_times: bool = True, latency: float = 0.0) -> None:
        self.now = now
        self.latency = latency  # seconds each answer waits, as a real network's round trip would
        self.hang_limit = hang_limit
        self.jwt_times = jwt_times  # created keys carry iat/exp claims (real v2 keys may not)
        self.roles: list[dict] = [dict(r) for r in SYSTEM_ROLES]
        self.keys: dict[str, dict] = {}           # key_id -> key_info, in creation order
        self.secrets: dict[str, str] = {}         # api key -> key_id
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.deleted: list[str] = []
        self.connections: list[Any] = []          # sockets of the connections served (for drop_connections)
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- life ---------------------------------------------------------------------------
    def start(self) -> FakeAccount:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAccount:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- state ----------------------------------------------------------------------------
    def add_role(self, name: str, *rules: dict, role_id: str | None = None, description: str = "") -> str:
        role_id = role_id or f"role-{secrets.token_hex(4)}"
        self.roles.append({"role_id": role_id, "role_name": name, "role_type": "custom", "description": description,
                           "permissions": _rules(*rules)})
        return role_id

    def issue(self, role_id: str = OWNER, description: str = "", expiry: int | str = "never", *,
              issued_at: int | None = None) -> tuple[str, dict]:
        """Make a key as POST /api-keys would, without a request: (api key, key_info)."""
        with self._lock:
            return self._issue(role_id, description, expiry, issued_at)

    def _issue(self, role_id: str, description: str, expiry: int | str, issued_at: int | None) -> tuple[str, dict]:
        key_id = f"key-{secrets.token_hex(8)}"
        issued = int(self.now()) if issued_at is None else issued_at
        info: dict[str, Any] = {"key_id": key_id, "account_id": ACCOUNT_ID, "description": description,
                                "role_id": role_id, "issued_at_epoch_seconds": issued}
        claims: dict[str, Any] = {"t": "g", "jti": secrets.token_hex(6)}
        if expiry != "never":
            info["expires_at_epoch_seconds"] = int(expiry)
        if self.jwt_times:
            claims["iat"] = issued
            if expiry != "never":
                claims["exp"] = int(expiry)
        api_key = jwt.encode(claims, _SIGNER, algorithm="HS256")
        fake_momento.ISSUED_SECRETS.add(api_key)  # the hygiene scan looks for it everywhere
        self.keys[key_id] = info
        self.secrets[api_key] = key_id
        return api_key, dict(info)

    def acting_key(self, role_id: str = OWNER, description: str = "admin") -> str:
        return self.issue(role_id, description)[0]

    def add_keys(self, count: int, *, role_id: str = VIEWER, prefix: str = "svc", lifetime: int | None = 30 * 86400,
                 issued_at: int | None = None) -> list[dict]:
        """``count`` account keys (no request), lifetimes spread a little; returns their key_info."""
        issued = int(self.now()) if issued_at is None else issued_at
        made = []
        for i in range(count):
            expiry: int | str = "never" if lifetime is None else issued + lifetime + i
            made.append(self.issue(role_id, f"{prefix} {i:04d}", expiry, issued_at=issued)[1])
        return made

    def remove(self, key_id: str) -> None:
        """The key is revoked elsewhere (the console): the account no longer lists it."""
        with self._lock:
            self.keys.pop(key_id, None)
            for secret, kid in list(self.secrets.items()):
                if kid == key_id:
                    del self.secrets[secret]

    # ---- faults --------------------------------------------------------------------------------
    def fail(self, status: int, *, times: int = 1, method: str | None = None, path: str | None = None,
             body: Any = None, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body if body is not None else {"code": str(status), "message": f"injected {status}"})
        self.faults.append(Fault("status", times, status, raw.encode(), dict(headers or {}), method, path))

    def hang(self, *, times: int = 1, method: str | None = None, path: str | None = None) -> None:
        self.faults.append(Fault("hang", times, method=method, path=path))

    def garbage(self, *, times: int = 1, body: bytes | Any = b"<html>oops</html>", status: int = 200,
                method: str | None = None, path: str | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.faults.append(Fault("garbage", times, status, raw, {}, method, path))

    def drop_connections(self) -> None:
        """Close every connection from the server's side, as a server does with idle kept-alive ones."""
        import socket

        for sock in self.connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.connections.clear()

    def _fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method)
                and (path is None or r.path.startswith(path))]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK would add some 40 ms to every kept-alive answer.
    disable_nagle_algorithm = True
    server_fake: FakeAccount

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.server_fake.connections.append(self.connection)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(self, status: int, doc: Any = None, *, raw: bytes | None = None,
              headers: dict[str, str] | None = None) -> None:
        body = raw if raw is not None else json.dumps({} if doc is None else doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if raw is None else "text/html")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"code": str(status), "message": message})

    def _handle(self, method: str) -> None:
        fake = self.server_fake
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        fake.requests.append(Recorded(method, path, query, dict(self.headers.items()), body))
        if fake.latency:
            time.sleep(fake.latency)
        fault = fake._fault(method, path)
        if fault is not None:
            if fault.kind == "hang":
                fake._release.wait(fake.hang_limit)
                self.close_connection = True
                return
            if fault.kind == "garbage":
                self._send(fault.status, raw=fault.body)
                return
            self._send(fault.status, raw=fault.body, headers={"Content-Type": "application/json", **fault.headers})
            return
        with fake._lock:
            caller = fake.secrets.get(self.headers.get("Authorization") or "")
            if caller is None:
                return self._error(401, "invalid or expired API key")
            role_id = fake.keys[caller]["role_id"]
            role = next((r for r in fake.roles if r["role_id"] == role_id), None)
            rules = role["permissions"]["rules"] if role else []
            if not any(r.get("type") == "auth_management" for r in rules):
                return self._error(403, "the API key has no auth management access")
            if method == "GET" and path == "/roles":
                kind = (query.get("type") or [None])[0]
                roles = [r for r in fake.roles if kind is None or r["role_type"] == kind]
                return self._page("roles", roles, query)
            if method == "GET" and path == "/api-keys":
                return self._page("key_info", list(fake.keys.values()), query)
            if method == "POST" and path == "/api-keys":
                if not isinstance(body, dict) or set(body) != {"role_id", "description", "expiry"}:
                    return self._error(400, "role_id, description and expiry are required")
                if not any(r["role_id"] == body["role_id"] for r in fake.roles):
                    return self._error(400, "no such role")
                expiry = body["expiry"]
                if expiry != "never" and (not isinstance(expiry, int) or expiry <= fake.now()):
                    return self._error(400, "expiry must be 'never' or a future epoch second")
                api_key, info = fake._issue(body["role_id"], body["description"], expiry, None)
                return self._send(200, {"api_key": api_key, "key_info": info})
            if method == "DELETE" and path.startswith("/api-keys/"):
                key_id = unquote(path[len("/api-keys/"):])
                if key_id not in fake.keys:
                    return self._error(404, "no such API key")
                del fake.keys[key_id]
                for secret, kid in list(fake.secrets.items()):
                    if kid == key_id:
                        del fake.secrets[secret]
                fake.deleted.append(key_id)
                return self._send(200, {})
        return self._error(404, "no such route")

    def _page(self, field_name: str, items: list, query: dict[str, list[str]]) -> None:
        try:
            limit = int((query.get("limit") or ["100"])[0])
        except ValueError:
            return self._error(400, "limit must be a number")
        if not 1 <= limit <= 100:
            return self._error(400, "limit must be between 1 and 100")
        token = (query.get("next_token") or [None])[0]
        start = 0
        if token is not None:
            if not token.startswith("page:"):
                return self._error(400, "bad next_token")
            start = int(token[5:])
        doc: dict[str, Any] = {field_name: items[start:start + limit]}
        if start + limit < len(items):
            doc["next_token"] = f"page:{start + limit}"
        self._send(200, doc)


@pytest.fixture
def fake_account() -> Iterator[FakeAccount]:
    """A started :class:`FakeAccount`, stopped after the test."""
    with FakeAccount() as server:
        yield server
