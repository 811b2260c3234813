"""A fake Momento service for the test suite: a real gRPC server on 127.0.0.1.

It serves, in plaintext on one port, the four RPCs momento-keys uses, with the
servicer base classes generated in ``momento_wire_types``:

* ``auth.Auth/GenerateApiToken`` and ``auth.Auth/RefreshApiToken``
* ``token.Token/GenerateDisposableToken``
* ``control_client.ScsControl/ListCaches``

It behaves like the real service as far as momento-facts.md describes it: it
issues HS256 JWTs (claims ``sub``, ``ver``, ``p``, ``iat``, ``jti`` and ``exp``
when the key expires) and answers v1-style (``api_key`` is the raw JWT,
``endpoint`` a cell host, ``valid_until`` epoch seconds or 0). It checks the
caller's token on every call (it must be one it issued, or the seeded super-user
key, unexpired, and the ``authorization`` header must carry it), tracks refresh
tokens (each works once, and only before the key expires, by an injectable
clock), and answers ListCaches with PERMISSION_DENIED for anything but a
super-user key.

Everything it receives is recorded in ``server.requests`` as
``(method, request, metadata)`` tuples. Faults can be injected with
:meth:`FakeMomento.fail_next`, :meth:`FakeMomento.delay` and
:meth:`FakeMomento.bad_response`.

Use the ``fake_momento`` fixture (import it into a test module or conftest), or
``with FakeMomento() as server: ...``. Point the client at ``server.override``
("127.0.0.1:PORT").
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Literal

import grpc
import jwt
import pytest
from momento_wire_types.generated import (
    auth_pb2,
    auth_pb2_grpc,
    controlclient_pb2,
    controlclient_pb2_grpc,
    token_pb2,
    token_pb2_grpc,
)
from momento_wire_types.generated import (
    permissionmessages_pb2 as perm_pb2,
)

__all__ = [
    "DEFAULT_CELL",
    "METHODS",
    "FakeMomento",
    "IssuedToken",
    "fake_momento",
    "wrap_v1",
]

DEFAULT_CELL = "cell-4-us-west-2-1.prod.a.momentohq.com"
METHODS = ("GenerateApiToken", "RefreshApiToken", "GenerateDisposableToken", "ListCaches")

TokenKind = Literal["superuser", "api_key", "disposable"]


def wrap_v1(raw_jwt: str, endpoint: str) -> str:
    """A v1 key string as the JS SDK builds it: base64 of compact JSON."""
    payload = json.dumps({"endpoint": endpoint, "api_key": raw_jwt}, separators=(",", ":"))
    return base64.b64encode(payload.encode()).decode()


@dataclass
class IssuedToken:
    """What the fake knows about a token it issued (or was seeded with)."""

    token: str
    kind: TokenKind
    permissions: perm_pb2.Permissions | None
    issued_at: int
    valid_for_seconds: int | None  # None: never expires
    description: str = ""
    refresh_token: str | None = None

    @property
    def expires_at(self) -> int | None:
        if self.valid_for_seconds is None:
            return None
        return self.issued_at + self.valid_for_seconds

    @property
    def super_user(self) -> bool:
        return self.kind == "superuser" or (
            self.permissions is not None and self.permissions.WhichOneof("kind") == "super_user"
        )


@dataclass
class _Fault:
    code: grpc.StatusCode
    details: str
    remaining: int


@dataclass
class _State:
    lock: threading.RLock = field(default_factory=threading.RLock)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> api key
    used_refresh_tokens: set[str] = field(default_factory=set)
    faults: dict[str, list[_Fault]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    bad: dict[str, _Bad] = field(default_factory=dict)


@dataclass
class _Bad:
    """How to spoil the answers of one method (see :meth:`FakeMomento.bad_response`)."""

    remaining: int | None  # None: every call
    omit: frozenset[str]
    endpoint: str | None
    garble_key: bool


class _AbortError(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class FakeMomento:
    """The fake service. See the module docstring."""

    def __init__(
        self,
        *,
        cell: str = DEFAULT_CELL,
        clock: Callable[[], float] = time.time,
        caches: tuple[str, ...] = ("default-cache",),
        max_disposable_seconds: int = 25 * 3600,
        allow_superuser_generation: bool = False,
    ) -> None:
        self.cell = cell
        self.clock = clock
        """Seconds since the epoch; replace it to move the fake's time."""
        self.caches = caches
        self.max_disposable_seconds = max_disposable_seconds
        self.allow_superuser_generation = allow_superuser_generation
        """The real service makes super-user keys only in the console (facts §3)."""
        self.requests: list[tuple[str, Any, dict[str, str]]] = []
        self._signing_secret = secrets.token_bytes(32)
        self._state = _State()
        self._server: grpc.Server | None = None
        self.port = 0
        seed = self._issue("superuser", perm_pb2.Permissions(super_user=perm_pb2.SuperUser), None)
        self.superuser_jwt = seed.token
        """The raw JWT of the seeded super-user key."""

    # --- lifecycle ----------------------------------------------------------------

    def start(self) -> FakeMomento:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        auth_pb2_grpc.add_AuthServicer_to_server(_AuthServicer(self), server)
        token_pb2_grpc.add_TokenServicer_to_server(_TokenServicer(self), server)
        controlclient_pb2_grpc.add_ScsControlServicer_to_server(_ControlServicer(self), server)
        self.port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None).wait()
            self._server = None

    def __enter__(self) -> FakeMomento:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def override(self) -> str:
        """``"127.0.0.1:PORT"``, for MOMENTO_KEYS_ENDPOINT_OVERRIDE."""
        return f"127.0.0.1:{self.port}"

    # --- keys for tests -----------------------------------------------------------

    def superuser_key(self) -> str:
        """The seeded super-user key as a v1 key string."""
        return wrap_v1(self.superuser_jwt, self.cell)

    def superuser_v2_key(self) -> str:
        """A super-user v2 ("global") key: a bare JWT with ``t == "g"`` and no endpoint."""
        issued = self._issue(
            "superuser",
            perm_pb2.Permissions(super_user=perm_pb2.SuperUser),
            None,
            extra_claims={"t": "g"},
        )
        return issued.token

    def issue_key(
        self,
        permissions: perm_pb2.Permissions | None = None,
        valid_for_seconds: int | None = 3600,
        *,
        kind: TokenKind = "api_key",
    ) -> tuple[str, str | None]:
        """Issue a key directly (no RPC): ``(v1 key string, refresh token)``.

        ``permissions`` defaults to all-caches read-write (a fine-grained key).
        """
        if permissions is None:
            permissions = perm_pb2.Permissions(
                explicit=perm_pb2.ExplicitPermissions(
                    permissions=[
                        perm_pb2.PermissionsType(
                            cache_permissions=perm_pb2.PermissionsType.CachePermissions(
                                role=perm_pb2.CacheReadWrite,
                                all_caches=perm_pb2.PermissionsType.All(),
                            )
                        )
                    ]
                )
            )
        issued = self._issue(kind, permissions, valid_for_seconds)
        return wrap_v1(issued.token, self.cell), issued.refresh_token

    def token_info(self, token: str) -> IssuedToken | None:
        """What the fake knows about a raw JWT (None if it never issued it)."""
        with self._state.lock:
            return self._state.tokens.get(token)

    def refresh_token_used(self, refresh_token: str) -> bool:
        with self._state.lock:
            return refresh_token in self._state.used_refresh_tokens

    def calls(self, method: str) -> list[tuple[Any, dict[str, str]]]:
        """The recorded ``(request, metadata)`` pairs of one method."""
        return [(req, md) for name, req, md in list(self.requests) if name == method]

    # --- fault injection ----------------------------------------------------------

    def fail_next(
        self,
        method: str = "*",
        code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE,
        count: int = 1,
        details: str = "injected failure",
    ) -> None:
        """Answer the next ``count`` calls of ``method`` ("*" = any) with ``code``."""
        self._check_method(method)
        with self._state.lock:
            self._state.faults.setdefault(method, []).append(_Fault(code, details, count))

    def delay(self, method: str, seconds: float) -> None:
        """Sleep ``seconds`` before answering every call of ``method`` ("*" = any); 0 clears."""
        self._check_method(method)
        with self._state.lock:
            if seconds > 0:
                self._state.delays[method] = seconds
            else:
                self._state.delays.pop(method, None)

    def bad_response(
        self,
        method: str,
        count: int | None = 1,
        *,
        omit: tuple[str, ...] = ("api_key", "endpoint", "refresh_token"),
        endpoint: str | None = None,
        garble_key: bool = False,
    ) -> None:
        """Spoil the answers of the next ``count`` calls (None: all) of ``method``.

        The request is still processed (a key is issued), as a buggy proxy
        would do; only the answer changes: the fields named in ``omit`` (any of
        ``api_key``, ``endpoint``, ``refresh_token``, ``valid_until``) are left
        empty, ``endpoint`` replaces the cell in the answer, and ``garble_key``
        answers with a JWT whose claims do not decode.
        """
        self._check_method(method)
        unknown = set(omit) - {"api_key", "endpoint", "refresh_token", "valid_until"}
        if unknown:
            raise ValueError(f"cannot omit {sorted(unknown)}")
        with self._state.lock:
            self._state.bad[method] = _Bad(count, frozenset(omit), endpoint, garble_key)

    def reset_faults(self) -> None:
        with self._state.lock:
            self._state.faults.clear()
            self._state.delays.clear()
            self._state.bad.clear()

    @staticmethod
    def _check_method(method: str) -> None:
        if method != "*" and method not in METHODS:
            raise ValueError(f"unknown method {method!r}; one of {METHODS} or '*'")

    # --- internals used by the servicers -------------------------------------------

    def _now(self) -> int:
        return int(self.clock())

    def _issue(
        self,
        kind: TokenKind,
        permissions: perm_pb2.Permissions | None,
        valid_for_seconds: int | None,
        description: str = "",
        *,
        extra_claims: dict[str, Any] | None = None,
    ) -> IssuedToken:
        now = self._now()
        claims: dict[str, Any] = {
            "sub": "fake-user@example.com",
            "ver": 1,
            "p": base64.b64encode(permissions.SerializeToString()).decode() if permissions else "",
            "iat": now,
            "jti": secrets.token_hex(8),
            **(extra_claims or {}),
        }
        if valid_for_seconds is not None:
            claims["exp"] = now + valid_for_seconds
        token = jwt.encode(claims, self._signing_secret, algorithm="HS256")
        refresh = None
        if kind == "api_key" and valid_for_seconds is not None:
            refresh = secrets.token_urlsafe(24)
        issued = IssuedToken(token, kind, permissions, now, valid_for_seconds, description, refresh)
        with self._state.lock:
            self._state.tokens[token] = issued
            if refresh:
                self._state.refresh_tokens[refresh] = token
        return issued

    def _enter(self, method: str, request: Any, context: grpc.ServicerContext) -> dict[str, str]:
        """Record the call, then apply injected delay and failure."""
        metadata = {k.lower(): v for k, v in context.invocation_metadata() if isinstance(v, str)}
        copy = type(request)()
        copy.CopyFrom(request)
        self.requests.append((method, copy, metadata))
        with self._state.lock:
            pause = self._state.delays.get(method, self._state.delays.get("*", 0.0))
            fault = None
            for key in (method, "*"):
                queue = self._state.faults.get(key, [])
                if queue:
                    fault = queue[0]
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.pop(0)
                    break
        if pause:
            time.sleep(pause)
        if fault is not None:
            raise _AbortError(fault.code, fault.details)
        return metadata

    def _answer(self, method: str, fields: dict[str, Any]) -> dict[str, Any]:
        """The fields of an answer, spoiled as :meth:`bad_response` asked (once per call)."""
        with self._state.lock:
            bad = self._state.bad.get(method)
            if bad is None:
                return fields
            if bad.remaining is not None:
                bad.remaining -= 1
                if bad.remaining <= 0:
                    del self._state.bad[method]
        fields = dict(fields)
        if bad.endpoint is not None:
            fields["endpoint"] = bad.endpoint
        if bad.garble_key:
            header, _claims, signature = fields["api_key"].split(".")
            garbled = f"{header}.{base64.urlsafe_b64encode(b'not json').decode().rstrip('=')}.{signature}"
            fields["api_key"] = garbled
            _register(garbled, self.cell)
        return {name: value for name, value in fields.items() if name not in bad.omit}

    def _authenticate(self, metadata: dict[str, str], body_token: str | None) -> IssuedToken:
        header = metadata.get("authorization", "")
        if not header:
            raise _AbortError(grpc.StatusCode.UNAUTHENTICATED, "missing authorization header")
        if body_token is not None and header != body_token:
            raise _AbortError(
                grpc.StatusCode.UNAUTHENTICATED, "authorization header does not match the request"
            )
        with self._state.lock:
            issued = self._state.tokens.get(header)
        if issued is None:
            raise _AbortError(grpc.StatusCode.UNAUTHENTICATED, "Invalid signature")
        if issued.expires_at is not None and self._now() >= issued.expires_at:
            raise _AbortError(grpc.StatusCode.UNAUTHENTICATED, "token has expired")
        return issued

    @staticmethod
    def _check_permissions(permissions: perm_pb2.Permissions, *, disposable: bool) -> None:
        which = permissions.WhichOneof("kind")
        if which is None:
            raise _AbortError(grpc.StatusCode.INVALID_ARGUMENT, "permissions are required")
        if which == "super_user":
            if disposable:
                raise _AbortError(
                    grpc.StatusCode.INVALID_ARGUMENT, "disposable tokens cannot be super user"
                )
            return
        rows = permissions.explicit.permissions
        if not 1 <= len(rows) <= 10:
            raise _AbortError(
                grpc.StatusCode.INVALID_ARGUMENT, "between 1 and 10 permissions allowed"
            )
        for row in rows:
            kind = row.WhichOneof("kind")
            if kind == "cache_permissions":
                p = row.cache_permissions
                if p.role == perm_pb2.CachePermitNone or p.WhichOneof("cache") is None:
                    raise _AbortError(
                        grpc.StatusCode.INVALID_ARGUMENT, "incomplete cache permission"
                    )
            elif kind == "topic_permissions":
                t = row.topic_permissions
                if (
                    t.role == perm_pb2.TopicPermitNone
                    or t.WhichOneof("cache") is None
                    or t.WhichOneof("topic") is None
                ):
                    raise _AbortError(
                        grpc.StatusCode.INVALID_ARGUMENT, "incomplete topic permission"
                    )
            else:
                raise _AbortError(grpc.StatusCode.INVALID_ARGUMENT, "unsupported permission type")


def _guarded(method: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn :class:`_AbortError` into a gRPC status and record the call first."""

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        def run(self: _Servicer, request: Any, context: grpc.ServicerContext) -> Any:
            try:
                metadata = self.fake._enter(method, request, context)
                return handler(self, request, context, metadata)
            except _AbortError as abort:
                context.abort(abort.code, abort.details)

        run.__name__ = handler.__name__
        return run

    return decorate


class _Servicer:
    def __init__(self, fake: FakeMomento) -> None:
        self.fake = fake


class _AuthServicer(_Servicer, auth_pb2_grpc.AuthServicer):
    @_guarded("GenerateApiToken")
    def GenerateApiToken(self, request, context, metadata):
        fake = self.fake
        caller = fake._authenticate(metadata, request.auth_token)
        if not caller.super_user:
            raise _AbortError(
                grpc.StatusCode.PERMISSION_DENIED, "only super-user keys can make keys"
            )
        fake._check_permissions(request.permissions, disposable=False)
        if (
            request.permissions.WhichOneof("kind") == "super_user"
            and not fake.allow_superuser_generation
        ):
            raise _AbortError(
                grpc.StatusCode.PERMISSION_DENIED,
                "super-user keys can only be created in the Momento console",
            )
        expiry = request.WhichOneof("expiry")
        if expiry is None:
            raise _AbortError(grpc.StatusCode.INVALID_ARGUMENT, "expiry is required")
        valid_for = None
        if expiry == "expires":
            valid_for = request.expires.valid_for_seconds
            if valid_for <= 0:
                raise _AbortError(grpc.StatusCode.INVALID_ARGUMENT, "valid_for_seconds must be > 0")
        issued = fake._issue("api_key", request.permissions, valid_for, request.description)
        return auth_pb2._GenerateApiTokenResponse(
            **fake._answer(
                "GenerateApiToken",
                {
                    "api_key": issued.token,
                    "refresh_token": issued.refresh_token or "",
                    "endpoint": fake.cell,
                    "valid_until": issued.expires_at or 0,
                },
            )
        )

    @_guarded("RefreshApiToken")
    def RefreshApiToken(self, request, context, metadata):
        fake = self.fake
        caller = fake._authenticate(metadata, request.api_key)
        if caller.kind != "api_key":
            raise _AbortError(grpc.StatusCode.PERMISSION_DENIED, "this token cannot be refreshed")
        with fake._state.lock:
            owner = fake._state.refresh_tokens.get(request.refresh_token)
            if owner != request.api_key or caller.valid_for_seconds is None:
                raise _AbortError(grpc.StatusCode.UNAUTHENTICATED, "invalid refresh token")
            del fake._state.refresh_tokens[request.refresh_token]
            fake._state.used_refresh_tokens.add(request.refresh_token)
        issued = fake._issue(
            "api_key", caller.permissions, caller.valid_for_seconds, caller.description
        )
        return auth_pb2._RefreshApiTokenResponse(
            **fake._answer(
                "RefreshApiToken",
                {
                    "api_key": issued.token,
                    "refresh_token": issued.refresh_token or "",
                    "endpoint": fake.cell,
                    "valid_until": issued.expires_at or 0,
                },
            )
        )


class _TokenServicer(_Servicer, token_pb2_grpc.TokenServicer):
    @_guarded("GenerateDisposableToken")
    def GenerateDisposableToken(self, request, context, metadata):
        fake = self.fake
        caller = fake._authenticate(metadata, request.auth_token)
        if not caller.super_user:
            raise _AbortError(
                grpc.StatusCode.PERMISSION_DENIED, "only super-user keys can make disposable tokens"
            )
        fake._check_permissions(request.permissions, disposable=True)
        valid_for = request.expires.valid_for_seconds
        if not request.HasField("expires") or valid_for <= 0:
            raise _AbortError(grpc.StatusCode.INVALID_ARGUMENT, "disposable tokens must expire")
        if valid_for > fake.max_disposable_seconds:
            raise _AbortError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"disposable tokens can be valid for at most {fake.max_disposable_seconds} seconds",
            )
        issued = fake._issue("disposable", request.permissions, valid_for)
        return token_pb2._GenerateDisposableTokenResponse(
            **fake._answer(
                "GenerateDisposableToken",
                {"api_key": issued.token, "endpoint": fake.cell, "valid_until": issued.expires_at or 0},
            )
        )


class _ControlServicer(_Servicer, controlclient_pb2_grpc.ScsControlServicer):
    @_guarded("ListCaches")
    def ListCaches(self, request, context, metadata):
        fake = self.fake
        caller = fake._authenticate(metadata, None)
        if not caller.super_user:
            raise _AbortError(
                grpc.StatusCode.PERMISSION_DENIED,
                "Insufficient permissions to perform an operation on a cache",
            )
        return controlclient_pb2._ListCachesResponse(
            cache=[controlclient_pb2._Cache(cache_name=name) for name in fake.caches]
        )


@pytest.fixture
def fake_momento() -> Iterator[FakeMomento]:
    """A started :class:`FakeMomento`, stopped after the test."""
    with FakeMomento() as server:
        yield server


# ---- Secret registry for the hygiene scan (appended; append-only) -------------------------
# Every secret the fake issues, in every form a client may hold it: the raw JWT, its v1
# wrappings (ours/the JS SDK's compact JSON, and the Python SDK's json.dumps with spaces) and
# the refresh token. tests/conftest.py scans the run's files and output for all of them.

ISSUED_SECRETS: set[str] = set()
_unregistered_issue = FakeMomento._issue


def _register(token: str, cell: str) -> None:
    sdk_style = json.dumps({"endpoint": cell, "api_key": token})
    ISSUED_SECRETS.update({
        token,
        wrap_v1(token, cell),
        base64.b64encode(sdk_style.encode()).decode(),
    })


def _issue_and_register(self: FakeMomento, *args: Any, **kwargs: Any) -> IssuedToken:
    issued = _unregistered_issue(self, *args, **kwargs)
    _register(issued.token, self.cell)
    if issued.refresh_token:
        ISSUED_SECRETS.add(issued.refresh_token)
    return issued


FakeMomento._issue = _issue_and_register  # type: ignore[method-assign]
