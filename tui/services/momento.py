"""Calls to the Momento service: generate, refresh, disposable tokens, verify.

Synchronous and blocking: the app runs these in worker threads, the CLI calls
them directly. No Textual here.

Which client makes which call (momento-facts.md §4, §5):

* ``GenerateApiToken`` and ``RefreshApiToken`` (``auth.Auth`` on
  ``control.<endpoint>``) go through the generated stubs in
  ``momento_wire_types``: the Python SDK has no API for them.
* ``GenerateDisposableToken`` goes through the SDK's
  ``AuthClientAsync.generate_disposable_token`` and the validity check through
  the SDK's ``CacheClientAsync.list_caches``, each run with ``asyncio.run`` in
  the calling thread. The SDK is pointed at a host and port by building its
  public ``CredentialProvider`` dataclass directly (as
  ``CredentialProvider.for_momento_local`` does); like the SDK, any port other
  than 443 means plaintext. Two SDK gaps are covered here: its token client
  sets no deadline and its ``list_caches`` has a fixed 60 s one, so each SDK
  call is wrapped in ``asyncio.wait_for(..., timeout)``; and the SDK's retry
  strategy is switched off so that the one retry policy below applies. SDK
  calls carry the SDK's own ``agent`` header (``python:token:<sdk version>``),
  not ours: the SDK offers no way to change it and it describes who really
  made the call.

Every stub call sends ``authorization`` (the raw token, no "Bearer"),
``agent`` (``python:momento-keys:<version>``, shaped like the SDKs'
``<language>:<client>:<version>``) and ``runtime-version`` (``python:3.x.y``,
as the JS SDK sends ``nodejs:<version>``), with a deadline of ``timeout``
seconds per attempt. Each attempt opens its own channel and closes it.

Retry policy: at most ``retries`` more attempts, sleeping ``backoff * 2**n``
between them, only for UNAVAILABLE and DEADLINE_EXCEEDED, and only when a
repeat cannot do harm:

* ListCaches is read-only, and a duplicate disposable token is harmless (it is
  never delivered, and expires on its own), so both retry on either code.
* GenerateApiToken and RefreshApiToken are not idempotent. If a first attempt
  reached the server and the answer was lost, a repeat would make a second,
  unseen key, or (for refresh) spend the already-used refresh token and fail
  as if the key were bad, losing the new key pair. So these wait until the
  channel is connected before sending, retry only when the connection could
  not be made (the request was certainly never sent), and report any failure
  after sending as a MomentoError with ``outcome_unknown=True``.

Errors are :class:`MomentoError` with a :class:`ErrorCode` and a sentence a
person can act on. Messages never contain a secret: server details are
scrubbed of the tokens involved and of anything shaped like a JWT. Wrong
arguments (no grants, bad expiry, a string that is not a Momento key) raise
``ValueError`` (``PermissionSpecError``, ``KeyFormatError``) before any call.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import json
import os
import platform
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import grpc
from momento_wire_types.generated import (
    auth_pb2,
    auth_pb2_grpc,
)
from momento_wire_types.generated import (
    permissionmessages_pb2 as perm_pb2,
)

from tui import __version__
from tui.core.keys import KeyFormatError, inspect_key, make_v1_key, normalise_endpoint
from tui.core.permissions import ALL, Grant, validate_grants

if TYPE_CHECKING:  # the SDK is imported lazily: it is only needed by two calls
    from momento.auth import CredentialProvider
    from momento.auth.access_control.permission_scope import Permission as SdkPermission

__all__ = [
    "AGENT",
    "ENV_OVERRIDE",
    "RUNTIME_VERSION",
    "ErrorCode",
    "GeneratedKey",
    "MomentoApi",
    "MomentoError",
    "VerifyResult",
    "permissions_message",
    "wrap_v1_key",
]

ENV_OVERRIDE: Final = "MOMENTO_KEYS_ENDPOINT_OVERRIDE"
AGENT: Final = f"python:momento-keys:{__version__}"
RUNTIME_VERSION: Final = f"python:{platform.python_version()}"
UINT32_MAX: Final = 2**32 - 1

T = TypeVar("T")


# --- results and errors ---------------------------------------------------------


class ErrorCode(str, enum.Enum):
    """What kind of failure a :class:`MomentoError` is."""

    AUTHENTICATION = "authentication"  # UNAUTHENTICATED: the key is bad
    PERMISSION = "permission"  # PERMISSION_DENIED: key fine, not allowed
    INVALID_ARGUMENT = "invalid_argument"  # the request was refused as invalid
    UNAVAILABLE = "unavailable"  # could not reach Momento
    TIMEOUT = "timeout"  # no answer within the deadline
    RESOURCE_EXHAUSTED = "resource_exhausted"  # a rate or account limit
    BAD_RESPONSE = "bad_response"  # an answer without required fields
    INTERNAL = "internal"  # Momento's own error
    UNKNOWN = "unknown"  # anything else


_TRANSIENT: Final = frozenset(
    {ErrorCode.UNAVAILABLE, ErrorCode.TIMEOUT, ErrorCode.RESOURCE_EXHAUSTED, ErrorCode.INTERNAL}
)


class MomentoError(Exception):
    """A Momento call failed.

    ``str(error)`` is a sentence for the user. ``transient`` says whether the
    same call may work later (network, timeout, limits, server errors).
    ``outcome_unknown`` is set when a non-idempotent call (generate, refresh)
    may have taken effect although no usable answer came back. ``status`` is
    the gRPC status name when there was one.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        transient: bool | None = None,
        status: str | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.transient = code in _TRANSIENT if transient is None else transient
        self.status = status
        self.outcome_unknown = outcome_unknown

    def __repr__(self) -> str:
        return f"MomentoError({self.code.name}, {self.message!r})"


@dataclass(frozen=True)
class GeneratedKey:
    """A key or disposable token the service just made.

    ``api_key`` is the v1 key string (base64 of ``{"endpoint", "api_key"}``
    JSON, built exactly as the JS SDK does); ``refresh_token`` is None for
    keys that never expire and for disposable tokens; ``valid_until`` is epoch
    seconds, None for never.
    """

    api_key: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    endpoint: str
    valid_until: int | None


VerifyStatus = Literal["valid", "restricted", "invalid", "unknown"]


@dataclass(frozen=True)
class VerifyResult:
    """The answer of :meth:`MomentoApi.verify`.

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


# --- helpers ----------------------------------------------------------------------


def wrap_v1_key(raw_jwt: str, endpoint: str) -> str:
    """The v1 key string for a raw JWT and its endpoint, as the JS SDK wraps it
    (one implementation: :func:`tui.core.keys.make_v1_key`)."""
    return make_v1_key(raw_jwt, endpoint)


_CACHE_ROLE: Final[Mapping[str, perm_pb2.CacheRole]] = {
    "readwrite": perm_pb2.CacheReadWrite,
    "readonly": perm_pb2.CacheReadOnly,
    "writeonly": perm_pb2.CacheWriteOnly,
}
_TOPIC_ROLE: Final[Mapping[str, perm_pb2.TopicRole]] = {
    "publishsubscribe": perm_pb2.TopicReadWrite,
    "subscribeonly": perm_pb2.TopicReadOnly,
    "publishonly": perm_pb2.TopicWriteOnly,
}


def permissions_message(grants: Sequence[Grant] | None) -> perm_pb2.Permissions:
    """The ``permission_messages.Permissions`` for grants (None: super user).

    Grants are validated first (``PermissionSpecError`` on a bad set).
    """
    if grants is None:
        return perm_pb2.Permissions(super_user=perm_pb2.SuperUser)
    rows: list[perm_pb2.PermissionsType] = []
    for grant in validate_grants(grants):
        if grant.kind == "cache":
            cache_perm = perm_pb2.PermissionsType.CachePermissions(role=_CACHE_ROLE[grant.role])
            _select_cache(cache_perm, grant.cache)
            rows.append(perm_pb2.PermissionsType(cache_permissions=cache_perm))
        else:
            topic_perm = perm_pb2.PermissionsType.TopicPermissions(role=_TOPIC_ROLE[grant.role])
            _select_cache(topic_perm, grant.cache)
            if grant.topic == ALL:
                topic_perm.all_topics.SetInParent()
            else:
                topic_perm.topic_selector.topic_name = grant.topic or ""
            rows.append(perm_pb2.PermissionsType(topic_permissions=topic_perm))
    return perm_pb2.Permissions(explicit=perm_pb2.ExplicitPermissions(permissions=rows))


def _select_cache(message: Any, cache: str) -> None:
    if cache == ALL:
        message.all_caches.SetInParent()
    else:
        message.cache_selector.cache_name = cache


def _sdk_permissions(grants: Sequence[Grant]) -> list[SdkPermission]:
    """The same grants as the SDK's ``momento.auth.access_control`` classes."""
    from momento.auth.access_control.permission_scope import (
        AllCaches,
        AllTopics,
        CacheName,
        CachePermission,
        CacheRole,
        CacheSelector,
        TopicName,
        TopicPermission,
        TopicRole,
        TopicSelector,
    )

    cache_roles = {
        "readwrite": CacheRole.READ_WRITE,
        "readonly": CacheRole.READ_ONLY,
        "writeonly": CacheRole.WRITE_ONLY,
    }
    topic_roles = {
        "publishsubscribe": TopicRole.PUBLISH_SUBSCRIBE,
        "subscribeonly": TopicRole.SUBSCRIBE_ONLY,
        "publishonly": TopicRole.PUBLISH_ONLY,
    }
    result: list[SdkPermission] = []
    for grant in grants:
        caches = CacheSelector(AllCaches() if grant.cache == ALL else CacheName(grant.cache))
        if grant.kind == "cache":
            result.append(CachePermission(caches, cache_roles[grant.role]))
        else:
            topics = TopicSelector(
                AllTopics() if grant.topic == ALL else TopicName(grant.topic or "")
            )
            result.append(TopicPermission(topic_roles[grant.role], caches, topics))
    return result


_HOST: Final = re.compile(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.%A-Za-z]+\]")


def _parse_override(value: str) -> tuple[str, int]:
    host, sep, port_text = value.strip().rpartition(":")
    if (
        not sep
        or not _HOST.fullmatch(host)
        or not port_text.isascii()
        or not port_text.isdigit()
        or not 0 < int(port_text) < 65536
    ):
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:76] + "...'"
        raise ValueError(
            f"The endpoint override must look like HOST:PORT (a host name, IPv4 address or [IPv6] "
            f"address, and a port), not {shown}."
        )
    port = int(port_text)
    if port == 443:
        # The SDK (and so half of our calls) uses TLS on 443 whatever we ask;
        # the override is for plaintext local servers, so refuse the mix.
        raise ValueError("The endpoint override is plaintext; use a port other than 443.")
    return host, port


def _check_valid_for(seconds: int) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ValueError("valid_for_seconds must be a whole number of seconds.")
    if not 0 < seconds <= UINT32_MAX:
        raise ValueError(f"valid_for_seconds must be between 1 and {UINT32_MAX}, not {seconds}.")
    return seconds


_JWT_SHAPE: Final = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_OPAQUE_TOKEN: Final = re.compile(r"[A-Za-z0-9_+/=-]{32,}")


def _scrub(text: str, secrets: Iterable[str]) -> str:
    """Server or transport text made safe to show: no secrets, one line, short.

    The known secrets are replaced, then anything shaped like a JWT, then any
    long unbroken run of base64 or token characters (a secret we did not know
    about, such as another key's refresh token).
    """
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, "[secret]")
    text = _JWT_SHAPE.sub("[token]", text)
    text = _OPAQUE_TOKEN.sub("[redacted]", text)
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


# --- the call machinery ------------------------------------------------------------


@dataclass(frozen=True)
class _Op:
    rpc: str
    service: Literal["control", "token"]
    idempotent: bool
    what: str  # "create the API key", used in messages


_GENERATE = _Op("GenerateApiToken", "control", False, "create the API key")
_REFRESH = _Op("RefreshApiToken", "control", False, "refresh the key")
_DISPOSABLE = _Op("GenerateDisposableToken", "token", True, "create the disposable token")
_LIST_CACHES = _Op("ListCaches", "control", True, "check the key")


@dataclass(frozen=True)
class _Target:
    address: str  # what gRPC connects to
    secure: bool

    @property
    def display(self) -> str:
        return self.address


class _AttemptError(Exception):
    """One attempt failed, in gRPC terms. ``sent=False``: certainly never sent."""

    def __init__(self, status: grpc.StatusCode, details: str, *, sent: bool = True) -> None:
        super().__init__(details)
        self.status = status
        self.details = details
        self.sent = sent


_RETRYABLE: Final = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


class MomentoApi:
    """The Momento calls momento-keys makes. Thread-safe; one per app is enough.

    ``override`` ("HOST:PORT", from ``MOMENTO_KEYS_ENDPOINT_OVERRIDE``) sends
    every call, whatever its service, to that address in plaintext (local
    test servers). Without it, calls use TLS to ``control.<endpoint>:443``
    and ``token.<endpoint>:443``.

    ``timeout`` is the deadline of each attempt in seconds; ``retries`` the
    number of extra attempts allowed; ``backoff`` the first pause (doubled
    each time); ``sleep`` is injectable for tests.
    """

    def __init__(
        self,
        override: str | None = None,
        timeout: float = 15.0,
        retries: int = 3,
        backoff: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0 or backoff < 0:
            raise ValueError("retries and backoff must not be negative")
        self.override: tuple[str, int] | None = _parse_override(override) if override else None
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self._sleep = sleep

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> MomentoApi:
        """Build from the environment (``MOMENTO_KEYS_ENDPOINT_OVERRIDE``)."""
        env = os.environ if environ is None else environ
        return cls(override=(env.get(ENV_OVERRIDE) or "").strip() or None, **kwargs)

    def __repr__(self) -> str:
        where = f"{self.override[0]}:{self.override[1]}" if self.override else "momento"
        return f"MomentoApi({where}, timeout={self.timeout:g}, retries={self.retries})"

    # --- public calls -------------------------------------------------------------

    def generate_api_key(
        self,
        auth_key: str,
        endpoint: str | None,
        grants: Sequence[Grant] | None,
        valid_for_seconds: int | None,
        description: str | None = None,
    ) -> GeneratedKey:
        """Make a new v1 API key with ``auth.Auth/GenerateApiToken``.

        ``auth_key`` is the caller's key (a super-user key; any format),
        ``endpoint`` the cell host (None: the one inside a v1 key),
        ``grants`` the permissions (None: super user, which the service
        allows only from the console), ``valid_for_seconds`` the lifetime
        (None: never expires, and no refresh token).
        """
        token, endpoint = self._caller(auth_key, endpoint)
        request = auth_pb2._GenerateApiTokenRequest(
            auth_token=token,
            permissions=permissions_message(grants),
            description=description or "",
        )
        if valid_for_seconds is None:
            request.never.SetInParent()
        else:
            request.expires.valid_for_seconds = _check_valid_for(valid_for_seconds)
        target = self._target(_GENERATE.service, endpoint)
        secrets = (auth_key, token)

        def call(channel: grpc.Channel, metadata: list[tuple[str, str]]) -> Any:
            stub = auth_pb2_grpc.AuthStub(channel)  # type: ignore[no-untyped-call]
            return stub.GenerateApiToken(request, metadata=metadata, timeout=self.timeout)

        response = self._with_retries(
            _GENERATE, target, secrets, lambda: self._stub_attempt(_GENERATE, target, token, call)
        )
        return self._key_from_response(
            _GENERATE, response, expect_expiry=valid_for_seconds is not None
        )

    def refresh_api_key(
        self, api_key: str, refresh_token: str, endpoint: str | None
    ) -> GeneratedKey:
        """Swap a key and its refresh token for a new pair (``RefreshApiToken``).

        Works only before the key expires; the refresh token works once. The
        old key stays valid until its own expiry. Store both new values
        together.
        """
        if not refresh_token or not refresh_token.strip():
            raise ValueError("A refresh token is needed to refresh a key.")
        refresh_token = refresh_token.strip()
        token, endpoint = self._caller(api_key, endpoint)
        request = auth_pb2._RefreshApiTokenRequest(api_key=token, refresh_token=refresh_token)
        target = self._target(_REFRESH.service, endpoint)
        secrets = (api_key, token, refresh_token)

        def call(channel: grpc.Channel, metadata: list[tuple[str, str]]) -> Any:
            stub = auth_pb2_grpc.AuthStub(channel)  # type: ignore[no-untyped-call]
            return stub.RefreshApiToken(request, metadata=metadata, timeout=self.timeout)

        response = self._with_retries(
            _REFRESH, target, secrets, lambda: self._stub_attempt(_REFRESH, target, token, call)
        )
        return self._key_from_response(_REFRESH, response, expect_expiry=False)

    def generate_disposable_token(
        self,
        auth_key: str,
        endpoint: str | None,
        grants: Sequence[Grant],
        valid_for_seconds: int | None,
    ) -> GeneratedKey:
        """Make a disposable token with the SDK's ``generate_disposable_token``.

        Disposable tokens are data-plane only (``grants`` is required), must
        expire (the service caps the lifetime; 25 hours in 2026) and have no
        refresh token. Must not be called from a thread running an event loop.
        """
        if grants is None:
            raise ValueError(
                "A disposable token needs explicit permissions; it cannot be super user."
            )
        grants = validate_grants(grants)
        if valid_for_seconds is None:
            raise ValueError("A disposable token must expire.")
        valid_for = _check_valid_for(valid_for_seconds)
        token, endpoint = self._caller(auth_key, endpoint)
        target = self._target(_DISPOSABLE.service, endpoint)
        credentials = self._sdk_credentials(token, endpoint)
        sdk_permissions = _sdk_permissions(grants)

        async def attempt() -> Any:
            from momento import AuthClientAsync
            from momento.auth.access_control.disposable_token_scope import DisposableTokenScope
            from momento.auth.access_control.permission_scope import Permissions
            from momento.config.auth_configuration import AuthConfiguration
            from momento.config.transport.transport_strategy import (
                StaticGrpcConfiguration,
                StaticTransportStrategy,
            )
            from momento.responses.auth.generate_disposable_token import GenerateDisposableToken
            from momento.retry import FixedCountRetryStrategy
            from momento.utilities import ExpiresIn

            configuration = AuthConfiguration(
                StaticTransportStrategy(
                    StaticGrpcConfiguration(deadline=timedelta(seconds=self.timeout))
                ),
                FixedCountRetryStrategy(max_attempts=0),  # our retry policy applies
            )
            async with AuthClientAsync(configuration, credentials) as client:
                response = await client.generate_disposable_token(
                    DisposableTokenScope(Permissions(sdk_permissions)),
                    ExpiresIn.seconds(valid_for),
                )
            if isinstance(response, GenerateDisposableToken.Success):
                return response
            raise _sdk_failure(response)

        success = self._with_retries(
            _DISPOSABLE, target, (auth_key, token), lambda: self._run_sdk(attempt)
        )
        # The SDK wrapped the token with Python's json.dumps; unwrap it to
        # check it and wrap it the same way as our other keys.
        raw_jwt, sdk_endpoint = _unwrap_sdk_token(success.auth_token)
        valid_until = success.expires_at.epoch() if success.expires_at.does_expire() else 0
        fields = _Fields(
            api_key=raw_jwt,
            endpoint=success.endpoint or sdk_endpoint,
            refresh_token="",
            valid_until=valid_until,
        )
        return self._key_from_response(_DISPOSABLE, fields, expect_expiry=True)

    def verify(self, api_key: str, endpoint: str | None) -> VerifyResult:
        """Ask Momento whether a key works, with one ListCaches call via the SDK.

        Never raises for a bad key or a network problem: the outcome is in
        the result.
        """
        try:
            token, endpoint = self._caller(api_key, endpoint)
        except KeyFormatError as exc:
            return VerifyResult("invalid", f"This is not a usable Momento key: {exc}.")
        except ValueError as exc:
            return VerifyResult("unknown", f"Could not check the key. {exc}")
        target = self._target(_LIST_CACHES.service, endpoint)
        credentials = self._sdk_credentials(token, endpoint)

        async def attempt() -> int:
            from momento import CacheClientAsync, Configurations
            from momento.responses import ListCaches
            from momento.retry import FixedCountRetryStrategy

            configuration = Configurations.Laptop.latest().with_retry_strategy(
                FixedCountRetryStrategy(max_attempts=0)  # our retry policy applies
            )
            async with CacheClientAsync(
                configuration, credentials, timedelta(seconds=60)
            ) as client:
                response = await client.list_caches()
            if isinstance(response, ListCaches.Success):
                return len(response.caches)
            raise _sdk_failure(response)

        try:
            count = self._with_retries(
                _LIST_CACHES, target, (api_key, token), lambda: self._run_sdk(attempt)
            )
        except MomentoError as error:
            if error.code is ErrorCode.AUTHENTICATION:
                return VerifyResult(
                    "invalid",
                    "Momento rejected the key: it is expired, revoked or not a real Momento key.",
                    error,
                )
            if error.code is ErrorCode.PERMISSION:
                return VerifyResult(
                    "restricted",
                    "Momento accepted the key, but it may not list caches: it is a fine-grained "
                    "key or a disposable token, which is expected.",
                    error,
                )
            return VerifyResult("unknown", f"Could not check the key. {error.message}", error)
        plural = "cache" if count == 1 else "caches"
        return VerifyResult(
            "valid", f"Momento accepted the key; it can list caches ({count} {plural})."
        )

    # --- internals ------------------------------------------------------------------

    def _caller(self, key: str, endpoint: str | None) -> tuple[str, str]:
        """The token to send for a key (its inner JWT), and the bare endpoint.

        ``endpoint`` wins over the one inside a v1 or legacy key; a v2 key
        needs it, unless an override is set. Raises ``KeyFormatError`` when
        ``key`` is not a Momento key, and a plain ``ValueError`` when the
        endpoint is wrong or missing (the key itself may be fine).
        """
        given: str | None = None
        if endpoint is not None and endpoint.strip():
            try:
                given = normalise_endpoint(endpoint)
            except KeyFormatError as exc:
                raise ValueError(f"Bad endpoint: {exc}.") from None
        inspection = inspect_key(key, given)
        token = inspection.inner_jwt()
        if inspection.endpoint:
            return token, inspection.endpoint
        if self.override:
            return token, ""  # the override is the whole address
        raise ValueError(
            "This key does not carry an endpoint: give one, such as "
            "cell-4-us-west-2-1.prod.a.momentohq.com."
        )

    def _target(self, service: str, endpoint: str) -> _Target:
        if self.override:
            host, port = self.override
            return _Target(f"{host}:{port}", secure=False)
        return _Target(f"{service}.{endpoint}:443", secure=True)

    def _sdk_credentials(self, token: str, endpoint: str) -> CredentialProvider:
        from momento.auth import CredentialProvider

        if self.override:
            host, port = self.override
            return CredentialProvider(token, host, host, host, port)
        return CredentialProvider(
            auth_token=token,
            control_endpoint=f"control.{endpoint}",
            cache_endpoint=f"cache.{endpoint}",
            token_endpoint=f"token.{endpoint}",
            port=443,
        )

    def _metadata(self, token: str) -> list[tuple[str, str]]:
        return [("authorization", token), ("agent", AGENT), ("runtime-version", RUNTIME_VERSION)]

    def _with_retries(
        self, op: _Op, target: _Target, secrets: Sequence[str], attempt: Callable[[], T]
    ) -> T:
        tries = 0
        while True:
            try:
                return attempt()
            except _AttemptError as failure:
                retry = failure.status in _RETRYABLE and (op.idempotent or not failure.sent)
                if not retry or tries >= self.retries:
                    raise self._error(op, target, failure, secrets, tries + 1) from None
            self._sleep(self.backoff * (2**tries))
            tries += 1

    def _stub_attempt(
        self,
        op: _Op,
        target: _Target,
        token: str,
        call: Callable[[grpc.Channel, list[tuple[str, str]]], T],
    ) -> T:
        channel = (
            grpc.secure_channel(target.address, grpc.ssl_channel_credentials())
            if target.secure
            else grpc.insecure_channel(target.address)
        )
        try:
            if not op.idempotent:
                self._wait_connected(channel)
            try:
                return call(channel, self._metadata(token))
            except grpc.RpcError as exc:
                raise _AttemptError(exc.code(), exc.details() or "") from None
        finally:
            if op.idempotent:
                channel.close()
            else:
                # After a connectivity subscription, close() waits for gRPC's
                # watcher to finish its current 0.2 s poll; nobody needs to
                # wait for that, so close on a short-lived thread.
                threading.Thread(
                    target=channel.close, name="momento-keys-close-channel", daemon=True
                ).start()

    def _wait_connected(self, channel: grpc.Channel) -> None:
        """Connect before sending, so that a failure here means "never sent"."""
        event = threading.Event()
        seen: list[grpc.ChannelConnectivity] = []
        final = {
            grpc.ChannelConnectivity.READY,
            grpc.ChannelConnectivity.TRANSIENT_FAILURE,
            grpc.ChannelConnectivity.SHUTDOWN,
        }

        def on_change(state: grpc.ChannelConnectivity) -> None:
            if state in final and not event.is_set():
                seen.append(state)
                event.set()

        channel.subscribe(on_change, try_to_connect=True)
        try:
            if not event.wait(self.timeout):
                raise _AttemptError(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"could not connect within {self.timeout:g} s",
                    sent=False,
                )
            if seen[0] is not grpc.ChannelConnectivity.READY:
                raise _AttemptError(
                    grpc.StatusCode.UNAVAILABLE,
                    "could not connect (the host name did not resolve, the connection was "
                    "refused, or the TLS handshake failed)",
                    sent=False,
                )
        finally:
            channel.unsubscribe(on_change)

    def _run_sdk(self, attempt: Callable[[], Any]) -> Any:
        """Run one SDK coroutine in this thread with our deadline."""

        async def bounded() -> Any:
            try:
                return await asyncio.wait_for(attempt(), self.timeout)
            except TimeoutError:
                raise _AttemptError(
                    grpc.StatusCode.DEADLINE_EXCEEDED, f"no answer within {self.timeout:g} s"
                ) from None

        return asyncio.run(bounded())

    def _key_from_response(self, op: _Op, response: Any, *, expect_expiry: bool) -> GeneratedKey:
        missing = [name for name in ("api_key", "endpoint") if not getattr(response, name)]
        if expect_expiry and not response.valid_until:
            missing.append("valid_until")
        if missing:
            if op is _REFRESH:
                # The service did refresh (it answered OK): the old refresh token is spent.
                after = (
                    " The refresh probably went through and used up the refresh token; if a retry "
                    "is rejected, generate a new key (the current key stays valid until it expires)."
                )
            elif not op.idempotent:
                after = " The key may have been made anyway; check the Momento console."
            else:
                after = ""
            raise MomentoError(
                ErrorCode.BAD_RESPONSE,
                f"Momento's answer to {op.rpc} had no {', '.join(missing)}, so the result "
                f"cannot be used.{after}",
                transient=False,
                outcome_unknown=not op.idempotent,
            )
        return GeneratedKey(
            api_key=wrap_v1_key(response.api_key, response.endpoint),
            refresh_token=response.refresh_token or None,
            endpoint=response.endpoint,
            valid_until=response.valid_until or None,
        )

    def _error(
        self,
        op: _Op,
        target: _Target,
        failure: _AttemptError,
        secrets: Sequence[str],
        attempts: int,
    ) -> MomentoError:
        status = failure.status
        details = _scrub(failure.details, secrets)
        said = f" Momento said: {details}" if details else ""
        tried = f" (tried {attempts} times)" if attempts > 1 else ""
        unsure = not op.idempotent and failure.sent
        if unsure and op is _REFRESH:
            maybe = (
                " The refresh may have gone through and used up the refresh token; if a retry "
                "is rejected, generate a new key (the current key stays valid until it expires)."
            )
        elif unsure:
            maybe = (
                " The key may have been created anyway; check the Momento console before retrying."
            )
        else:
            maybe = ""

        def error(code: ErrorCode, message: str, *, unknown: bool = False) -> MomentoError:
            return MomentoError(
                code, message, status=status.name, outcome_unknown=unknown and unsure
            )

        if status is grpc.StatusCode.UNAUTHENTICATED:
            if op is _REFRESH:
                return error(
                    ErrorCode.AUTHENTICATION,
                    "The refresh was rejected: the key has expired, or the refresh token was "
                    "already used or does not belong to this key. Generate a new key instead.",
                )
            return error(
                ErrorCode.AUTHENTICATION,
                "The key was rejected: it is expired, revoked or not a real Momento key.",
            )
        if status is grpc.StatusCode.PERMISSION_DENIED:
            if op is _GENERATE or op is _DISPOSABLE:
                return error(
                    ErrorCode.PERMISSION,
                    f"This key is not allowed to {op.what} (Momento answered PERMISSION_DENIED); "
                    f"use a super-user key.{said}",
                )
            return error(
                ErrorCode.PERMISSION,
                f"This key is not allowed to do that (Momento answered PERMISSION_DENIED).{said}",
            )
        if status in (
            grpc.StatusCode.INVALID_ARGUMENT,
            grpc.StatusCode.OUT_OF_RANGE,
            grpc.StatusCode.FAILED_PRECONDITION,
        ):
            return error(
                ErrorCode.INVALID_ARGUMENT,
                f"Momento refused the request as invalid ({status.name}).{said}",
            )
        if status is grpc.StatusCode.UNAVAILABLE:
            return error(
                ErrorCode.UNAVAILABLE,
                f"Momento could not be reached at {target.display}{tried}: "
                f"{details or 'service unavailable'}.{maybe}",
                unknown=True,
            )
        if status is grpc.StatusCode.DEADLINE_EXCEEDED:
            return error(
                ErrorCode.TIMEOUT,
                f"Momento did not answer within {self.timeout:g} s at {target.display}{tried}."
                f"{maybe}",
                unknown=True,
            )
        if status is grpc.StatusCode.RESOURCE_EXHAUSTED:
            return error(
                ErrorCode.RESOURCE_EXHAUSTED,
                f"Momento refused the request because a limit was reached "
                f"(RESOURCE_EXHAUSTED); wait a while and try again.{said}",
            )
        if status is grpc.StatusCode.UNIMPLEMENTED:
            return error(
                ErrorCode.UNKNOWN,
                f"The server at {target.display} does not offer {op.rpc} (UNIMPLEMENTED); "
                f"is the endpoint right?",
            )
        if status in (
            grpc.StatusCode.INTERNAL,
            grpc.StatusCode.DATA_LOSS,
            grpc.StatusCode.ABORTED,
        ):
            return error(
                ErrorCode.INTERNAL,
                f"Momento had an internal error ({status.name}).{said}{maybe}",
                unknown=True,
            )
        return error(
            ErrorCode.UNKNOWN,
            f"Momento answered {status.name} when asked to {op.what}.{said}{maybe}",
            unknown=True,
        )


@dataclass(frozen=True)
class _Fields:
    """The response fields shared by generate, refresh and disposable answers."""

    api_key: str
    endpoint: str
    refresh_token: str
    valid_until: int


_SDK_CODE_TO_STATUS: Final[Mapping[str, grpc.StatusCode]] = {
    "AUTHENTICATION_ERROR": grpc.StatusCode.UNAUTHENTICATED,
    "PERMISSION_ERROR": grpc.StatusCode.PERMISSION_DENIED,
    "INVALID_ARGUMENT_ERROR": grpc.StatusCode.INVALID_ARGUMENT,
    "BAD_REQUEST_ERROR": grpc.StatusCode.INVALID_ARGUMENT,
    "FAILED_PRECONDITION_ERROR": grpc.StatusCode.FAILED_PRECONDITION,
    "SERVER_UNAVAILABLE": grpc.StatusCode.UNAVAILABLE,
    "CONNECTION_ERROR": grpc.StatusCode.UNAVAILABLE,
    "TIMEOUT_ERROR": grpc.StatusCode.DEADLINE_EXCEEDED,
    "LIMIT_EXCEEDED_ERROR": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "INTERNAL_SERVER_ERROR": grpc.StatusCode.INTERNAL,
    "CANCELLED_ERROR": grpc.StatusCode.CANCELLED,
}


def _sdk_failure(response: Any) -> _AttemptError:
    """An SDK ``*.Error`` response as a :class:`_AttemptError` (gRPC status and details)."""
    inner = response.inner_exception
    transport = getattr(inner, "transport_details", None)
    grpc_details = getattr(transport, "grpc", None)
    if grpc_details is not None and isinstance(grpc_details.code, grpc.StatusCode):
        return _AttemptError(grpc_details.code, grpc_details.details or "")
    status = _SDK_CODE_TO_STATUS.get(response.error_code.name, grpc.StatusCode.UNKNOWN)
    return _AttemptError(status, getattr(inner, "message", "") or "")


def _unwrap_sdk_token(wrapped: str) -> tuple[str, str]:
    """``(api_key, endpoint)`` from the SDK's base64 JSON token (empty if absent)."""
    try:
        data = json.loads(base64.b64decode(wrapped, validate=True))
    except (binascii.Error, ValueError):
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    api_key, endpoint = data.get("api_key"), data.get("endpoint")
    return (
        api_key if isinstance(api_key, str) else "",
        endpoint if isinstance(endpoint, str) else "",
    )
