"""The Momento client: :class:`MomentoApi`, and the machinery of its calls (targets,
headers, deadlines, retries, channels).

Which client makes which call (momento-facts.md §4, §5):

* ``GenerateApiToken`` and ``RefreshApiToken`` (``auth.Auth`` on
  ``control.<endpoint>``) go through the generated stubs in ``momento_wire_types``:
  the Python SDK has no API for them.
* ``GenerateDisposableToken`` and the validity check (``ListCaches``) go through the
  SDK (:mod:`.sdk`). SDK calls carry the SDK's own ``agent`` header
  (``python:token:<sdk version>``), not ours: the SDK offers no way to change it and
  it describes who really made the call.

Every stub call sends ``authorization`` (the raw token, no "Bearer"), ``agent``
(``python:momento-keys:<version>``, shaped like the SDKs'
``<language>:<client>:<version>``) and ``runtime-version`` (``python:3.x.y``, as the
JS SDK sends ``nodejs:<version>``), with a deadline of ``timeout`` seconds per
attempt. Each attempt opens its own channel and closes it.

Retry policy: at most ``retries`` more attempts, sleeping ``backoff * 2**n`` between
them, only for UNAVAILABLE and DEADLINE_EXCEEDED, and only when a repeat cannot do
harm:

* ListCaches is read-only, and a duplicate disposable token is harmless (it is never
  delivered, and expires on its own), so both retry on either code.
* GenerateApiToken and RefreshApiToken are not idempotent. If a first attempt reached
  the server and the answer was lost, a repeat would make a second, unseen key, or
  (for refresh) spend the already-used refresh token and fail as if the key were bad,
  losing the new key pair. So these wait until the channel is connected before
  sending, retry only when the connection could not be made (the request was
  certainly never sent), and report any failure after sending as a MomentoError with
  ``outcome_unknown=True``.

Errors are :class:`MomentoError` (see :mod:`.errors`). Wrong arguments (no grants, bad
expiry, a string that is not a Momento key) raise ``ValueError``
(``PermissionSpecError``, ``KeyFormatError``) before any call.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, NamedTuple, TypeVar

import grpc
from momento_wire_types.generated import auth_pb2, auth_pb2_grpc

from tui import __version__
from tui.core.keys import KeyFormatError, inspect_key, normalise_endpoint
from tui.core.limits import TOKEN_ID_MAX_CHARS
from tui.core.override import ENV_OVERRIDE, parse_override
from tui.core.permissions import Grant, validate_grants

from ..log import get as _get_log
from . import sdk
from .errors import (
    DISPOSABLE,
    GENERATE,
    LIST_CACHES,
    REFRESH,
    AttemptError,
    ErrorCode,
    MomentoError,
    Op,
    call_error,
)
from .protocol import GeneratedKey, VerifyResult
from .wire import (
    Answer,
    check_valid_for,
    key_from_answer,
    permissions_message,
    sdk_permissions,
    unwrap_sdk_token,
)

__all__ = ["AGENT", "RUNTIME_VERSION", "MomentoApi"]

AGENT: Final = f"python:momento-keys:{__version__}"
RUNTIME_VERSION: Final = f"python:{platform.python_version()}"

T = TypeVar("T")

_RETRYABLE: Final = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})

_log = _get_log("momento")


class _Target(NamedTuple):
    """Where one call goes: the address gRPC connects to, and whether over TLS."""

    address: str
    secure: bool


class MomentoApi:
    """The Momento calls momento-keys makes (a :class:`~.protocol.MomentoClient`).
    Thread-safe; one per app is enough.

    ``override`` ("HOST:PORT", from ``MOMENTO_KEYS_ENDPOINT_OVERRIDE``) sends every
    call, whatever its service, to that address in plaintext (local test servers); a
    bad one raises ``OverrideError`` (a ``ValueError``). Without it, calls use TLS to
    ``control.<endpoint>:443`` and ``token.<endpoint>:443``.

    ``timeout`` is the deadline of each attempt in seconds; ``retries`` the number of
    extra attempts allowed; ``backoff`` the first pause (doubled each time); ``sleep``
    is injectable for tests.
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
        self.override: tuple[str, int] | None = parse_override(override) if override else None
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

        ``auth_key`` is the caller's key (a super-user key; any format), ``endpoint``
        the cell host (None: the one inside a v1 key), ``grants`` the permissions
        (None: super user, which the service allows only from the console),
        ``valid_for_seconds`` the lifetime (None: never expires, and no refresh token).
        """
        token, endpoint = self._caller(auth_key, endpoint)
        request = auth_pb2._GenerateApiTokenRequest(
            auth_token=token, permissions=permissions_message(grants), description=description or ""
        )
        if valid_for_seconds is None:
            request.never.SetInParent()
        else:
            request.expires.valid_for_seconds = check_valid_for(valid_for_seconds)

        def call(channel: grpc.Channel, metadata: list[tuple[str, str]]) -> Any:
            stub = auth_pb2_grpc.AuthStub(channel)
            return stub.GenerateApiToken(request, metadata=metadata, timeout=self.timeout)

        response = self._stub_call(GENERATE, endpoint, token, (auth_key, token), call)
        expires = valid_for_seconds is not None
        return key_from_answer(
            GENERATE, response, asked_at=endpoint, expect_expiry=expires, expect_refresh=expires
        )

    def refresh_api_key(self, api_key: str, refresh_token: str, endpoint: str | None) -> GeneratedKey:
        """Swap a key and its refresh token for a new pair (``RefreshApiToken``).

        Works only before the key expires; the refresh token works once. The old key
        stays valid until its own expiry. Store both new values together.
        """
        if not refresh_token or not refresh_token.strip():
            raise ValueError("A refresh token is needed to refresh a key.")
        refresh_token = refresh_token.strip()
        token, endpoint = self._caller(api_key, endpoint)
        request = auth_pb2._RefreshApiTokenRequest(api_key=token, refresh_token=refresh_token)

        def call(channel: grpc.Channel, metadata: list[tuple[str, str]]) -> Any:
            stub = auth_pb2_grpc.AuthStub(channel)
            return stub.RefreshApiToken(request, metadata=metadata, timeout=self.timeout)

        response = self._stub_call(REFRESH, endpoint, token, (api_key, token, refresh_token), call)
        # Only keys that expire have refresh tokens, and the new key keeps the old one's
        # duration: an answer without an expiry or a new refresh token is odd.
        return key_from_answer(
            REFRESH, response, asked_at=endpoint, expect_expiry=True, expect_refresh=True
        )

    def generate_disposable_token(
        self,
        auth_key: str,
        endpoint: str | None,
        grants: Sequence[Grant],
        valid_for_seconds: int | None,
        *,
        token_id: str | None = None,
    ) -> GeneratedKey:
        """Make a disposable token with the SDK's ``generate_disposable_token``.

        Disposable tokens are data-plane only (``grants`` is required), must expire
        (the service caps the lifetime; 25 hours in 2026) and have no refresh token.
        ``token_id`` (at most 64 characters) is passed through to the token service,
        which puts it in the token (to tell where a token came from).
        """
        if grants is None:
            raise ValueError("A disposable token needs explicit permissions; it cannot be super user.")
        grants = validate_grants(grants)
        if valid_for_seconds is None:
            raise ValueError("A disposable token must expire.")
        valid_for = check_valid_for(valid_for_seconds)
        if token_id is not None and not 0 < len(token_id) <= TOKEN_ID_MAX_CHARS:
            raise ValueError(f"A token id is 1 to {TOKEN_ID_MAX_CHARS} characters.")
        token, endpoint = self._caller(auth_key, endpoint)
        target = self._target(DISPOSABLE.service, endpoint)
        provider = self._sdk_credentials(token, endpoint)
        permissions = sdk_permissions(grants)

        success = self._with_retries(
            DISPOSABLE,
            target,
            (auth_key, token),
            lambda: sdk.run(
                lambda: sdk.disposable_token(provider, permissions, valid_for, self.timeout, token_id),
                self.timeout,
            ),
        )
        # The SDK wrapped the token with Python's json.dumps; unwrap it to check it
        # and wrap it the same way as our other keys.
        raw_jwt, sdk_endpoint = unwrap_sdk_token(success.auth_token)
        valid_until = success.expires_at.epoch() if success.expires_at.does_expire() else 0
        answer = Answer(
            api_key=raw_jwt,
            endpoint=success.endpoint or sdk_endpoint,
            refresh_token="",
            valid_until=valid_until,
        )
        return key_from_answer(
            DISPOSABLE, answer, asked_at=endpoint, expect_expiry=True, expect_refresh=False
        )

    def verify(self, api_key: str, endpoint: str | None) -> VerifyResult:
        """Ask Momento whether a key works, with one ListCaches call via the SDK.

        Never raises for a bad key or a network problem: the outcome is in the result.
        """
        try:
            token, endpoint = self._caller(api_key, endpoint)
        except KeyFormatError as exc:
            return VerifyResult("invalid", f"This is not a usable Momento key: {exc}.")
        except ValueError as exc:
            return VerifyResult("unknown", f"Could not check the key. {exc}")
        target = self._target(LIST_CACHES.service, endpoint)
        provider = self._sdk_credentials(token, endpoint)
        try:
            names = self._with_retries(
                LIST_CACHES,
                target,
                (api_key, token),
                lambda: sdk.run(lambda: sdk.list_caches(provider), self.timeout),
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
        count = len(names)
        plural = "cache" if count == 1 else "caches"
        return VerifyResult("valid", f"Momento accepted the key; it can list caches ({count} {plural}).",
                            caches=tuple(names))

    # --- internals ------------------------------------------------------------------

    def _caller(self, key: str, endpoint: str | None) -> tuple[str, str]:
        """The token to send for a key (its inner JWT), and the bare endpoint.

        A v1 or legacy key goes only to the endpoint it carries (or the override): a stored
        endpoint that differs (edited, or imported wrongly) never sends the key elsewhere. A
        v2 key carries none: ``endpoint`` is needed, unless an override is set. Raises
        ``KeyFormatError`` when ``key`` is not a Momento key, and a plain ``ValueError`` when
        the endpoint is wrong or missing (the key itself may be fine).
        """
        given: str | None = None
        if endpoint is not None and endpoint.strip():
            try:
                given = normalise_endpoint(endpoint)
            except KeyFormatError as exc:
                raise ValueError(f"Bad endpoint: {exc}.") from None
        own = inspect_key(key)
        if own.endpoint:
            if given and given != own.endpoint:
                _log.debug("the key carries the endpoint %s; the given one (%s) is not used", own.endpoint, given)
            return own.inner_jwt(), own.endpoint
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

    def _sdk_credentials(self, token: str, endpoint: str) -> Any:
        return sdk.credentials(token, endpoint, self.override)

    def _metadata(self, token: str) -> list[tuple[str, str]]:
        return [("authorization", token), ("agent", AGENT), ("runtime-version", RUNTIME_VERSION)]

    def _stub_call(
        self,
        op: Op,
        endpoint: str,
        token: str,
        secrets: Sequence[str],
        call: Callable[[grpc.Channel, list[tuple[str, str]]], T],
    ) -> T:
        target = self._target(op.service, endpoint)
        return self._with_retries(op, target, secrets, lambda: self._stub_attempt(op, target, token, call))

    def _with_retries(self, op: Op, target: _Target, secrets: Sequence[str], attempt: Callable[[], T]) -> T:
        tries = 0
        while True:
            start = time.perf_counter()
            try:
                result = attempt()
                _log.debug("%s at %s: ok in %.0f ms (attempt %d)", op.rpc, target.address,
                           (time.perf_counter() - start) * 1000, tries + 1)
                return result
            except AttemptError as failure:
                retry = failure.status in _RETRYABLE and (op.idempotent or not failure.sent)
                _log.debug("%s at %s: %s after %.0f ms (attempt %d)%s", op.rpc, target.address, failure.status.name,
                           (time.perf_counter() - start) * 1000, tries + 1,
                           "; retrying" if retry and tries < self.retries else "")
                if not retry or tries >= self.retries:
                    raise call_error(op, target.address, failure, secrets, tries + 1, self.timeout) from None
            self._sleep(self.backoff * (2**tries))
            tries += 1

    def _stub_attempt(
        self,
        op: Op,
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
                raise AttemptError(exc.code(), exc.details() or "") from None
        finally:
            if op.idempotent:
                channel.close()
            else:
                # After a connectivity subscription, close() waits for gRPC's watcher
                # to finish its current 0.2 s poll; nobody needs to wait for that, so
                # close on a short-lived thread.
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
                raise AttemptError(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"could not connect within {self.timeout:g} s",
                    sent=False,
                )
            if seen[0] is not grpc.ChannelConnectivity.READY:
                raise AttemptError(
                    grpc.StatusCode.UNAVAILABLE,
                    "could not connect (the host name did not resolve, the connection was "
                    "refused, or the TLS handshake failed)",
                    sent=False,
                )
        finally:
            channel.unsubscribe(on_change)
