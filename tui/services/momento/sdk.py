"""The two calls made through Momento's Python SDK (disposable tokens and the
validity check), driven from blocking code.

The SDK's clients are asyncio-only. They run on **one event loop that lives as long
as the process**, on a daemon thread, and blocking callers wait on it. Why not
``asyncio.run`` per attempt: gRPC's asyncio layer has one completion queue per
process and hands each event to the loop that started its call. An attempt abandoned
at our deadline (a server that accepts the connection and never answers) still has
events in flight after ``asyncio.run`` closed its loop; they then reach the next
loop as "Event loop is closed" tracebacks on stderr, before our own message. One
loop that never closes receives those late events harmlessly.

The SDK is pointed at a host and port by building its public ``CredentialProvider``
dataclass directly (as ``CredentialProvider.for_momento_local`` does); like the SDK,
any port other than 443 means plaintext. Its own retries are switched off (our retry
policy applies) and every attempt is bounded by our deadline: its token client sets
none and its ``list_caches`` has a fixed 60 s one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, TypeVar

import grpc

from .errors import AttemptError, sdk_failure

if TYPE_CHECKING:  # the SDK is imported lazily: most commands never need it
    from momento.auth import CredentialProvider
    from momento.auth.access_control.permission_scope import Permission as SdkPermission

__all__ = ["credentials", "disposable_token", "list_caches", "run"]

T = TypeVar("T")

# How long a blocked caller waits beyond the deadline for the loop to hand back a
# cancelled attempt (the SDK closes its channels on the way out) before giving up on it.
_GRACE: Final = 5.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0


def _shared_loop() -> asyncio.AbstractEventLoop:
    """The process's SDK loop, started on first use (and again in a forked child, which
    inherits the loop object but not the thread running it)."""
    global _loop, _loop_pid
    with _lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="momento-keys-sdk", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def run(make: Callable[[], Coroutine[Any, Any, T]], timeout: float) -> T:
    """Run one SDK attempt on the shared loop and wait for it, at most ``timeout`` seconds
    (``AttemptError(DEADLINE_EXCEEDED)`` after that). Blocks: call it from a worker thread."""

    async def bounded() -> T:
        try:
            return await asyncio.wait_for(make(), timeout)
        except TimeoutError:
            raise AttemptError(
                grpc.StatusCode.DEADLINE_EXCEEDED, f"no answer within {timeout:g} s"
            ) from None

    future = asyncio.run_coroutine_threadsafe(bounded(), _shared_loop())
    try:
        return future.result(timeout + _GRACE)
    except concurrent.futures.TimeoutError:
        # The attempt did not even finish cancelling: leave it to the loop.
        future.cancel()
        raise AttemptError(grpc.StatusCode.DEADLINE_EXCEEDED, f"no answer within {timeout:g} s") from None


def credentials(token: str, endpoint: str, override: tuple[str, int] | None) -> CredentialProvider:
    """The SDK's credentials for ``token``: the override's host and port (plaintext), or
    the cell's service hosts on 443 (TLS)."""
    from momento.auth import CredentialProvider

    if override:
        host, port = override
        return CredentialProvider(token, host, host, host, port)
    return CredentialProvider(
        auth_token=token,
        control_endpoint=f"control.{endpoint}",
        cache_endpoint=f"cache.{endpoint}",
        token_endpoint=f"token.{endpoint}",
        port=443,
    )


async def list_caches(provider: CredentialProvider) -> list[str]:
    """The names of the caches the key may see (one ListCaches call); AttemptError on failure."""
    from momento import CacheClientAsync, Configurations
    from momento.responses import ListCaches
    from momento.retry import FixedCountRetryStrategy

    configuration = Configurations.Laptop.latest().with_retry_strategy(
        FixedCountRetryStrategy(max_attempts=0)  # our retry policy applies
    )
    async with CacheClientAsync(configuration, provider, timedelta(seconds=60)) as client:
        response = await client.list_caches()
    if isinstance(response, ListCaches.Success):
        return [cache.name for cache in response.caches]
    raise sdk_failure(response)


async def disposable_token(
    provider: CredentialProvider, permissions: list[SdkPermission], valid_for: int, timeout: float,
    token_id: str | None = None,
) -> Any:
    """The SDK's ``GenerateDisposableToken.Success``; AttemptError on failure."""
    from momento import AuthClientAsync
    from momento.auth.access_control.disposable_token_scope import DisposableTokenProps, DisposableTokenScope
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
        StaticTransportStrategy(StaticGrpcConfiguration(deadline=timedelta(seconds=timeout))),
        FixedCountRetryStrategy(max_attempts=0),  # our retry policy applies
    )
    async with AuthClientAsync(configuration, provider) as client:
        response = await client.generate_disposable_token(
            DisposableTokenScope(Permissions(permissions)), ExpiresIn.seconds(valid_for),
            DisposableTokenProps(token_id=token_id) if token_id else None,
        )
    if isinstance(response, GenerateDisposableToken.Success):
        return response
    raise sdk_failure(response)
