"""tui.services.momento against the fake Momento server (a real gRPC server)."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Callable
from typing import Any

import grpc
import jwt
import pytest
from momento_wire_types.generated import permissionmessages_pb2 as perm_pb2

from tests.fake_momento import DEFAULT_CELL, FakeMomento, wrap_v1
from tui.core.keys import KeyFormatError
from tui.core.permissions import ALL_DATA_READ_WRITE, Grant, PermissionSpecError
from tui.services.momento import (
    AGENT,
    RUNTIME_VERSION,
    ErrorCode,
    GeneratedKey,
    MomentoApi,
    MomentoError,
    permissions_message,
    wrap_v1_key,
)

PT = perm_pb2.PermissionsType

# Short deadlines keep the whole file to a few seconds.
TIMEOUT = 2.0
SHORT_TIMEOUT = 0.3


class Sleeps(list[float]):
    """An injected ``sleep`` that records the backoff instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def api(fake_momento: FakeMomento, sleeps: Sleeps) -> MomentoApi:
    return MomentoApi(fake_momento.override, timeout=TIMEOUT, retries=2, backoff=0.1, sleep=sleeps)


def inner_jwt(v1_key: str) -> str:
    return json.loads(base64.b64decode(v1_key))["api_key"]


def assert_no_secret(error: BaseException, *secrets: str) -> None:
    for text in (str(error), repr(error)):
        for secret in secrets:
            assert secret not in text


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- generate ---------------------------------------------------------------------


def test_generate_sends_exact_permissions_expiry_and_headers(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    grants = [
        Grant.for_cache("prod", "readonly"),
        Grant.for_cache("*", "writeonly"),
        Grant.for_topic("prod", "orders", "publishsubscribe"),
        Grant.for_topic("*", "*", "subscribeonly"),
        Grant.for_topic("prod", "*", "publishonly"),
    ]
    key = api.generate_api_key(fake_momento.superuser_key(), None, grants, 3600, "ci deploys")

    [(request, metadata)] = fake_momento.calls("GenerateApiToken")
    assert request.auth_token == fake_momento.superuser_jwt
    assert request.WhichOneof("expiry") == "expires"
    assert request.expires.valid_for_seconds == 3600
    assert request.description == "ci deploys"
    expected = perm_pb2.Permissions(
        explicit=perm_pb2.ExplicitPermissions(
            permissions=[
                PT(
                    cache_permissions=PT.CachePermissions(
                        role=perm_pb2.CacheReadOnly,
                        cache_selector=PT.CacheSelector(cache_name="prod"),
                    )
                ),
                PT(
                    cache_permissions=PT.CachePermissions(
                        role=perm_pb2.CacheWriteOnly, all_caches=PT.All()
                    )
                ),
                PT(
                    topic_permissions=PT.TopicPermissions(
                        role=perm_pb2.TopicReadWrite,
                        cache_selector=PT.CacheSelector(cache_name="prod"),
                        topic_selector=PT.TopicSelector(topic_name="orders"),
                    )
                ),
                PT(
                    topic_permissions=PT.TopicPermissions(
                        role=perm_pb2.TopicReadOnly, all_caches=PT.All(), all_topics=PT.All()
                    )
                ),
                PT(
                    topic_permissions=PT.TopicPermissions(
                        role=perm_pb2.TopicWriteOnly,
                        cache_selector=PT.CacheSelector(cache_name="prod"),
                        all_topics=PT.All(),
                    )
                ),
            ]
        )
    )
    assert request.permissions == expected
    assert metadata["authorization"] == fake_momento.superuser_jwt  # raw token, no "Bearer"
    assert metadata["agent"] == AGENT
    assert AGENT.startswith("python:momento-keys:")
    assert metadata["runtime-version"] == RUNTIME_VERSION
    assert RUNTIME_VERSION.startswith("python:3.")

    issued = fake_momento.token_info(inner_jwt(key.api_key))
    assert issued is not None and issued.expires_at is not None
    assert key.valid_until == issued.expires_at
    assert key.endpoint == DEFAULT_CELL
    assert key.refresh_token == issued.refresh_token and key.refresh_token
    assert issued.permissions == expected


def test_generated_key_is_wrapped_like_the_js_sdk(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    key = api.generate_api_key(fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, 60)
    decoded = base64.b64decode(key.api_key, validate=True).decode()
    raw = inner_jwt(key.api_key)
    # JSON.stringify({endpoint, api_key}): compact, endpoint first.
    assert decoded == f'{{"endpoint":"{DEFAULT_CELL}","api_key":"{raw}"}}'
    assert key.api_key == wrap_v1_key(raw, DEFAULT_CELL) == wrap_v1(raw, DEFAULT_CELL)
    claims = jwt.decode(raw, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60


def test_generated_key_repr_hides_secrets(fake_momento: FakeMomento, api: MomentoApi) -> None:
    key = api.generate_api_key(fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, 60)
    assert key.refresh_token
    text = repr(key)
    assert key.api_key not in text and key.refresh_token not in text
    assert "valid_until" in text


def test_generate_never_expiring_has_no_refresh_token(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    key = api.generate_api_key(fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, None)
    [(request, _)] = fake_momento.calls("GenerateApiToken")
    assert request.WhichOneof("expiry") == "never"
    assert key.refresh_token is None
    assert key.valid_until is None
    assert "exp" not in jwt.decode(inner_jwt(key.api_key), options={"verify_signature": False})


def test_generate_super_user_request(fake_momento: FakeMomento, api: MomentoApi) -> None:
    # The service makes super-user keys only in the console: PERMISSION_DENIED.
    with pytest.raises(MomentoError) as info:
        api.generate_api_key(fake_momento.superuser_key(), None, None, 3600)
    assert info.value.code is ErrorCode.PERMISSION
    assert "console" in str(info.value)
    [(request, _)] = fake_momento.calls("GenerateApiToken")
    assert request.permissions == perm_pb2.Permissions(super_user=perm_pb2.SuperUser)

    fake_momento.allow_superuser_generation = True
    key = api.generate_api_key(fake_momento.superuser_key(), None, None, 3600)
    assert key.refresh_token


def test_generate_with_v2_key_sends_the_key_itself(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    v2 = fake_momento.superuser_v2_key()
    api.generate_api_key(v2, DEFAULT_CELL, ALL_DATA_READ_WRITE, 60)
    [(request, metadata)] = fake_momento.calls("GenerateApiToken")
    assert request.auth_token == v2
    assert metadata["authorization"] == v2


def test_generate_from_a_fine_grained_key_is_refused(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    fine, _ = fake_momento.issue_key()
    with pytest.raises(MomentoError) as info:
        api.generate_api_key(fine, None, ALL_DATA_READ_WRITE, 60)
    assert info.value.code is ErrorCode.PERMISSION
    assert str(info.value).startswith(
        "This key is not allowed to create the API key (Momento answered PERMISSION_DENIED)"
    )
    assert not info.value.transient
    assert_no_secret(info.value, fine, inner_jwt(fine))


def test_local_argument_errors_need_no_network(fake_momento: FakeMomento, api: MomentoApi) -> None:
    su = fake_momento.superuser_key()
    with pytest.raises(PermissionSpecError):
        api.generate_api_key(su, None, [], 60)
    with pytest.raises(PermissionSpecError):
        api.generate_api_key(su, None, [Grant.for_cache("prod", "owner")], 60)
    with pytest.raises(ValueError, match="valid_for_seconds"):
        api.generate_api_key(su, None, ALL_DATA_READ_WRITE, 0)
    with pytest.raises(ValueError, match="valid_for_seconds"):
        api.generate_api_key(su, None, ALL_DATA_READ_WRITE, 2**32)
    with pytest.raises(KeyFormatError):
        api.generate_api_key("not a key", None, ALL_DATA_READ_WRITE, 60)
    with pytest.raises(ValueError, match="refresh token"):
        api.refresh_api_key(su, "  ", None)
    with pytest.raises(ValueError, match="must expire"):
        api.generate_disposable_token(su, None, ALL_DATA_READ_WRITE, None)
    with pytest.raises(ValueError, match="cannot be super user"):
        api.generate_disposable_token(su, None, None, 60)  # type: ignore[arg-type]
    assert fake_momento.requests == []


def test_v2_key_without_endpoint_is_refused_without_override(fake_momento: FakeMomento) -> None:
    api = MomentoApi(timeout=TIMEOUT)
    v2 = fake_momento.superuser_v2_key()
    with pytest.raises(ValueError, match="does not carry an endpoint") as info:
        api.generate_api_key(v2, None, ALL_DATA_READ_WRITE, 60)
    assert not isinstance(info.value, KeyFormatError)  # the key itself is fine
    result = api.verify(v2, None)
    assert result.status == "unknown"
    assert "does not carry an endpoint" in result.message


def test_bad_endpoint_is_not_a_bad_key(fake_momento: FakeMomento, api: MomentoApi) -> None:
    su = fake_momento.superuser_key()
    with pytest.raises(ValueError, match="Bad endpoint") as info:
        api.generate_api_key(su, "https://example.com/path", ALL_DATA_READ_WRITE, 60)
    assert not isinstance(info.value, KeyFormatError)
    assert api.verify(su, "bad host:8080").status == "unknown"
    assert fake_momento.requests == []


def test_endpoint_argument_is_normalised_and_wins(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    other_cell = "cell-1-eu-west-1-1.prod.a.momentohq.com"
    v2 = fake_momento.superuser_v2_key()
    # The fake answers with its own cell; the request went to the override.
    key = api.generate_api_key(v2, f"https://control.{other_cell}/", ALL_DATA_READ_WRITE, 60)
    assert key.endpoint == DEFAULT_CELL
    assert MomentoApi()._caller(v2, f"https://control.{other_cell}/")[1] == other_cell
    assert MomentoApi()._caller(fake_momento.superuser_key(), None)[1] == DEFAULT_CELL
    # A v1 key goes only to the endpoint it carries, whatever endpoint is stored beside it
    # (issue 11: a stored endpoint once decided where a v1 key was sent).
    assert MomentoApi()._caller(fake_momento.superuser_key(), other_cell)[1] == DEFAULT_CELL


# --- refresh --------------------------------------------------------------------------


def test_refresh_returns_a_new_pair_and_spends_the_old_token(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    first = api.generate_api_key(fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, 3600)
    assert first.refresh_token is not None

    second = api.refresh_api_key(first.api_key, first.refresh_token, None)

    [(request, metadata)] = fake_momento.calls("RefreshApiToken")
    assert request.api_key == inner_jwt(first.api_key)
    assert request.refresh_token == first.refresh_token
    assert metadata["authorization"] == inner_jwt(first.api_key)
    assert metadata["agent"] == AGENT
    assert second.api_key != first.api_key
    assert second.refresh_token and second.refresh_token != first.refresh_token
    assert second.valid_until is not None and second.valid_until >= first.valid_until  # type: ignore[operator]
    assert fake_momento.refresh_token_used(first.refresh_token)
    new_info = fake_momento.token_info(inner_jwt(second.api_key))
    assert new_info is not None and new_info.valid_for_seconds == 3600

    # The used refresh token fails, and is not retried.
    with pytest.raises(MomentoError) as info:
        api.refresh_api_key(first.api_key, first.refresh_token, None)
    assert info.value.code is ErrorCode.AUTHENTICATION
    assert "refresh token was already used" in str(info.value)
    assert len(fake_momento.calls("RefreshApiToken")) == 2
    assert_no_secret(info.value, first.refresh_token, first.api_key, inner_jwt(first.api_key))

    # The new pair works.
    third = api.refresh_api_key(second.api_key, second.refresh_token, None)
    assert third.refresh_token


def test_refresh_after_expiry_fails(fake_momento: FakeMomento, api: MomentoApi) -> None:
    key = api.generate_api_key(fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, 60)
    assert key.refresh_token and key.valid_until
    expiry = key.valid_until
    fake_momento.clock = lambda: expiry + 1.0
    with pytest.raises(MomentoError) as info:
        api.refresh_api_key(key.api_key, key.refresh_token, None)
    assert info.value.code is ErrorCode.AUTHENTICATION
    assert not info.value.transient


def test_refresh_with_someone_elses_refresh_token_fails(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    key_a, _ = fake_momento.issue_key()
    _, token_b = fake_momento.issue_key()
    assert token_b
    with pytest.raises(MomentoError) as info:
        api.refresh_api_key(key_a, token_b, None)
    assert info.value.code is ErrorCode.AUTHENTICATION
    assert not fake_momento.refresh_token_used(token_b)


# --- disposable tokens ----------------------------------------------------------------------


def test_disposable_token(fake_momento: FakeMomento, api: MomentoApi) -> None:
    grants = [Grant.for_cache("prod", "readonly"), Grant.for_topic("*", "*", "publishsubscribe")]
    token = api.generate_disposable_token(fake_momento.superuser_key(), None, grants, 900)

    [(request, metadata)] = fake_momento.calls("GenerateDisposableToken")
    assert request.auth_token == fake_momento.superuser_jwt
    assert request.expires.valid_for_seconds == 900
    assert request.permissions == permissions_message(grants)
    assert metadata["authorization"] == fake_momento.superuser_jwt
    # Made by the SDK, which sends its own agent header.
    assert metadata["agent"].startswith("python:token:")
    assert "runtime-version" in metadata

    assert token.refresh_token is None
    issued = fake_momento.token_info(inner_jwt(token.api_key))
    assert issued is not None and issued.kind == "disposable"
    assert token.valid_until == issued.expires_at
    assert token.endpoint == DEFAULT_CELL
    assert token.api_key == wrap_v1_key(issued.token, DEFAULT_CELL)


def test_disposable_token_longer_than_the_service_allows(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    with pytest.raises(MomentoError) as info:
        api.generate_disposable_token(
            fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, 26 * 3600
        )
    assert info.value.code is ErrorCode.INVALID_ARGUMENT
    assert "at most 90000 seconds" in str(info.value)


def test_disposable_token_from_fine_grained_key(fake_momento: FakeMomento, api: MomentoApi) -> None:
    fine, _ = fake_momento.issue_key()
    with pytest.raises(MomentoError) as info:
        api.generate_disposable_token(fine, None, ALL_DATA_READ_WRITE, 60)
    assert info.value.code is ErrorCode.PERMISSION


# --- verify ----------------------------------------------------------------------------------


def test_verify_valid(fake_momento: FakeMomento, api: MomentoApi) -> None:
    result = api.verify(fake_momento.superuser_key(), None)
    assert result.status == "valid"
    assert result.error is None
    [(_, metadata)] = fake_momento.calls("ListCaches")
    assert metadata["authorization"] == fake_momento.superuser_jwt


def test_verify_restricted_for_fine_grained_keys_and_disposable_tokens(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    fine = api.generate_api_key(fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, 60)
    disposable = api.generate_disposable_token(
        fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, 60
    )
    for key in (fine.api_key, disposable.api_key):
        result = api.verify(key, None)
        assert result.status == "restricted", result
        assert "expected" in result.message
    assert len(fake_momento.calls("ListCaches")) == 2  # PERMISSION_DENIED is not retried


def test_verify_invalid(fake_momento: FakeMomento, api: MomentoApi) -> None:
    forged = wrap_v1(
        jwt.encode(
            {"sub": "x", "ver": 1, "p": ""}, "other-secret-0123456789abcdef0123", algorithm="HS256"
        ),
        DEFAULT_CELL,
    )
    result = api.verify(forged, None)
    assert result.status == "invalid"
    assert result.message == (
        "Momento rejected the key: it is expired, revoked or not a real Momento key."
    )
    assert result.error is not None and result.error.code is ErrorCode.AUTHENTICATION
    assert_no_secret(result.error, forged, inner_jwt(forged))


def test_verify_expired_key_is_invalid(fake_momento: FakeMomento, api: MomentoApi) -> None:
    key, _ = fake_momento.issue_key(valid_for_seconds=60)
    start = fake_momento.clock()
    fake_momento.clock = lambda: start + 61
    assert api.verify(key, None).status == "invalid"


def test_verify_not_a_key_is_invalid_without_a_call(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    result = api.verify("hello world", None)
    assert result.status == "invalid"
    assert result.message.startswith("This is not a usable Momento key: ")
    assert fake_momento.requests == []


def test_verify_unknown_when_unreachable(sleeps: Sleeps) -> None:
    api = MomentoApi(
        f"127.0.0.1:{closed_port()}", timeout=TIMEOUT, retries=1, backoff=0.1, sleep=sleeps
    )
    with FakeMomento() as other:  # only to mint a key string
        key = other.superuser_key()
    result = api.verify(key, None)
    assert result.status == "unknown"
    assert result.error is not None and result.error.code is ErrorCode.UNAVAILABLE
    assert result.error.transient
    assert "could not be reached at 127.0.0.1:" in result.message
    assert sleeps == [0.1]


def test_verify_unknown_on_timeout(fake_momento: FakeMomento, sleeps: Sleeps) -> None:
    api = MomentoApi(
        fake_momento.override, timeout=SHORT_TIMEOUT, retries=1, backoff=0.0, sleep=sleeps
    )
    fake_momento.delay("ListCaches", SHORT_TIMEOUT + 0.5)
    result = api.verify(fake_momento.superuser_key(), None)
    assert result.status == "unknown"
    assert result.error is not None and result.error.code is ErrorCode.TIMEOUT
    assert f"did not answer within {SHORT_TIMEOUT:g} s" in result.message
    assert len(fake_momento.calls("ListCaches")) == 2  # read-only: retried


def test_verify_from_many_threads(fake_momento: FakeMomento, api: MomentoApi) -> None:
    key = fake_momento.superuser_key()
    results: list[str] = []

    def work() -> None:
        results.append(api.verify(key, None).status)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == ["valid"] * 6


# --- retries and faults -------------------------------------------------------------------


def test_unavailable_then_success_is_retried_with_backoff(
    fake_momento: FakeMomento, api: MomentoApi, sleeps: Sleeps
) -> None:
    fake_momento.fail_next("ListCaches", grpc.StatusCode.UNAVAILABLE, count=2)
    assert api.verify(fake_momento.superuser_key(), None).status == "valid"
    assert len(fake_momento.calls("ListCaches")) == 3
    assert sleeps == [0.1, 0.2]


def test_disposable_unavailable_then_success(
    fake_momento: FakeMomento, api: MomentoApi, sleeps: Sleeps
) -> None:
    fake_momento.fail_next("GenerateDisposableToken", grpc.StatusCode.UNAVAILABLE, count=1)
    token = api.generate_disposable_token(
        fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, 60
    )
    assert token.api_key
    assert len(fake_momento.calls("GenerateDisposableToken")) == 2
    assert sleeps == [0.1]


def test_retry_bound(fake_momento: FakeMomento, api: MomentoApi, sleeps: Sleeps) -> None:
    fake_momento.fail_next("*", grpc.StatusCode.UNAVAILABLE, count=10, details="overloaded")
    with pytest.raises(MomentoError) as info:
        api.generate_disposable_token(fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, 60)
    assert info.value.code is ErrorCode.UNAVAILABLE
    assert info.value.transient
    assert str(info.value) == (
        f"Momento could not be reached at {fake_momento.override} (tried 3 times): overloaded."
    )
    assert len(fake_momento.calls("GenerateDisposableToken")) == 3  # 1 + retries
    assert sleeps == [0.1, 0.2]


def test_generate_is_not_retried_once_sent(
    fake_momento: FakeMomento, api: MomentoApi, sleeps: Sleeps
) -> None:
    fake_momento.fail_next("GenerateApiToken", grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(MomentoError) as info:
        api.generate_api_key(fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, 60)
    assert info.value.code is ErrorCode.UNAVAILABLE
    assert info.value.outcome_unknown
    assert "check the Momento console" in str(info.value)
    assert len(fake_momento.calls("GenerateApiToken")) == 1
    assert sleeps == []


def test_generate_timeout_is_not_retried(fake_momento: FakeMomento, sleeps: Sleeps) -> None:
    api = MomentoApi(
        fake_momento.override, timeout=SHORT_TIMEOUT, retries=2, backoff=0.1, sleep=sleeps
    )
    fake_momento.delay("GenerateApiToken", SHORT_TIMEOUT + 0.5)
    with pytest.raises(MomentoError) as info:
        api.generate_api_key(fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, 60)
    assert info.value.code is ErrorCode.TIMEOUT
    assert info.value.transient and info.value.outcome_unknown
    assert len(fake_momento.calls("GenerateApiToken")) == 1
    assert sleeps == []


def test_refresh_timeout_warns_about_the_spent_refresh_token(
    fake_momento: FakeMomento, sleeps: Sleeps
) -> None:
    key, refresh = fake_momento.issue_key()
    assert refresh
    api = MomentoApi(
        fake_momento.override, timeout=SHORT_TIMEOUT, retries=2, backoff=0.1, sleep=sleeps
    )
    fake_momento.delay("RefreshApiToken", SHORT_TIMEOUT + 0.5)
    with pytest.raises(MomentoError) as info:
        api.refresh_api_key(key, refresh, None)
    assert info.value.code is ErrorCode.TIMEOUT
    assert "used up the refresh token" in str(info.value)
    assert len(fake_momento.calls("RefreshApiToken")) == 1
    assert_no_secret(info.value, key, refresh, inner_jwt(key))


def test_generate_connection_refused_is_retried(sleeps: Sleeps) -> None:
    port = closed_port()
    api = MomentoApi(f"127.0.0.1:{port}", timeout=TIMEOUT, retries=2, backoff=0.1, sleep=sleeps)
    with FakeMomento() as other:
        key = other.superuser_key()
    with pytest.raises(MomentoError) as info:
        api.generate_api_key(key, None, ALL_DATA_READ_WRITE, 60)
    assert info.value.code is ErrorCode.UNAVAILABLE
    assert not info.value.outcome_unknown  # never sent
    assert f"could not be reached at 127.0.0.1:{port} (tried 3 times)" in str(info.value)
    assert sleeps == [0.1, 0.2]
    assert_no_secret(info.value, key, inner_jwt(key))


@pytest.mark.parametrize(
    ("status", "code", "transient", "fragment"),
    [
        (
            grpc.StatusCode.UNAUTHENTICATED,
            ErrorCode.AUTHENTICATION,
            False,
            "The key was rejected: it is expired, revoked or not a real Momento key.",
        ),
        (grpc.StatusCode.PERMISSION_DENIED, ErrorCode.PERMISSION, False, "PERMISSION_DENIED"),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            ErrorCode.INVALID_ARGUMENT,
            False,
            "refused the request as invalid",
        ),
        (
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            ErrorCode.RESOURCE_EXHAUSTED,
            True,
            "a limit was reached",
        ),
        (grpc.StatusCode.INTERNAL, ErrorCode.INTERNAL, True, "internal error"),
        (grpc.StatusCode.NOT_FOUND, ErrorCode.UNKNOWN, False, "Momento answered NOT_FOUND"),
        (grpc.StatusCode.UNIMPLEMENTED, ErrorCode.UNKNOWN, False, "does not offer"),
    ],
)
@pytest.mark.parametrize(
    "method", ["GenerateApiToken", "RefreshApiToken", "GenerateDisposableToken"]
)
def test_status_mapping_without_secrets(
    fake_momento: FakeMomento,
    api: MomentoApi,
    sleeps: Sleeps,
    method: str,
    status: grpc.StatusCode,
    code: ErrorCode,
    transient: bool,
    fragment: str,
) -> None:
    su = fake_momento.superuser_key()
    fine, refresh = fake_momento.issue_key()
    assert refresh
    calls: dict[str, Callable[[], Any]] = {
        "GenerateApiToken": lambda: api.generate_api_key(su, None, ALL_DATA_READ_WRITE, 60),
        "RefreshApiToken": lambda: api.refresh_api_key(fine, refresh, None),
        "GenerateDisposableToken": lambda: api.generate_disposable_token(
            su, None, ALL_DATA_READ_WRITE, 60
        ),
    }
    secrets = (su, fake_momento.superuser_jwt, fine, inner_jwt(fine), refresh)
    # A careless server might echo the token back: it must not reach the message.
    fake_momento.fail_next(
        method,
        status,
        details=f"bad request for {inner_jwt(fine)} / {fake_momento.superuser_jwt} / {refresh}",
    )
    with pytest.raises(MomentoError) as info:
        calls[method]()
    error = info.value
    assert error.code is code
    assert error.transient is transient
    assert error.status == status.name
    if status is grpc.StatusCode.UNAUTHENTICATED and method == "RefreshApiToken":
        assert "refresh was rejected" in str(error)
    else:
        assert fragment in str(error)
    assert "\n" not in str(error)
    assert_no_secret(error, *secrets)
    assert len(fake_momento.calls(method)) == 1  # none of these is retried
    assert sleeps == []


@pytest.mark.parametrize(
    "method", ["GenerateApiToken", "RefreshApiToken", "GenerateDisposableToken"]
)
def test_missing_fields_are_a_bad_response(
    fake_momento: FakeMomento, api: MomentoApi, method: str
) -> None:
    su = fake_momento.superuser_key()
    fine, refresh = fake_momento.issue_key()
    assert refresh
    fake_momento.bad_response(method)
    with pytest.raises(MomentoError) as info:
        if method == "GenerateApiToken":
            api.generate_api_key(su, None, ALL_DATA_READ_WRITE, 60)
        elif method == "RefreshApiToken":
            api.refresh_api_key(fine, refresh, None)
        else:
            api.generate_disposable_token(su, None, ALL_DATA_READ_WRITE, 60)
    error = info.value
    assert error.code is ErrorCode.BAD_RESPONSE
    assert not error.transient
    assert f"Momento's answer to {method} had no api_key, endpoint" in str(error)
    assert error.outcome_unknown is (method != "GenerateDisposableToken")


# --- odd answers are kept, with what was odd (never lost) ------------------------------

CALL_OF = {
    "GenerateApiToken": lambda api, fake, key, refresh: api.generate_api_key(
        fake.superuser_key(), None, ALL_DATA_READ_WRITE, 3600
    ),
    "RefreshApiToken": lambda api, fake, key, refresh: api.refresh_api_key(key, refresh, None),
    "GenerateDisposableToken": lambda api, fake, key, refresh: api.generate_disposable_token(
        fake.superuser_key(), None, ALL_DATA_READ_WRITE, 600
    ),
}


def odd_call(fake: FakeMomento, api: MomentoApi, method: str, **spoil: Any) -> GeneratedKey:
    fine, refresh = fake.issue_key()
    fake.bad_response(method, **spoil)
    return CALL_OF[method](api, fake, fine, refresh)


def issued_by_fake(fake: FakeMomento, key: GeneratedKey) -> None:
    """The key handed back is the one the fake made (nothing was swapped or dropped)."""
    assert fake.token_info(inner_jwt(key.api_key)) is not None


@pytest.mark.parametrize("method", list(CALL_OF))
def test_an_answer_without_endpoint_is_paired_with_the_endpoint_asked(
    fake_momento: FakeMomento, api: MomentoApi, method: str
) -> None:
    key = odd_call(fake_momento, api, method, omit=("endpoint",))
    issued_by_fake(fake_momento, key)
    assert key.endpoint == DEFAULT_CELL  # the caller's key names this cell
    assert json.loads(base64.b64decode(key.api_key))["endpoint"] == DEFAULT_CELL
    [oddity] = key.oddities
    assert "had no endpoint" in oddity and DEFAULT_CELL in oddity
    assert key.valid_until is not None


@pytest.mark.parametrize("method", list(CALL_OF))
def test_an_answer_with_an_unusable_endpoint_is_kept(
    fake_momento: FakeMomento, api: MomentoApi, method: str
) -> None:
    key = odd_call(fake_momento, api, method, omit=(), endpoint="cell-9.example.com:8443/x")
    issued_by_fake(fake_momento, key)
    assert key.endpoint == DEFAULT_CELL
    [oddity] = key.oddities
    assert "'cell-9.example.com:8443/x'" in oddity and "not usable" in oddity


@pytest.mark.parametrize("method", list(CALL_OF))
def test_an_answer_without_expiry_is_kept_with_no_expiry(
    fake_momento: FakeMomento, api: MomentoApi, method: str
) -> None:
    key = odd_call(fake_momento, api, method, omit=("valid_until",))
    issued_by_fake(fake_momento, key)
    assert key.valid_until is None
    [oddity] = key.oddities
    assert "Momento sent no expiry" in oddity
    assert (key.refresh_token is not None) is (method != "GenerateDisposableToken")


@pytest.mark.parametrize("method", ["GenerateApiToken", "RefreshApiToken"])
def test_an_answer_without_refresh_token_is_kept(
    fake_momento: FakeMomento, api: MomentoApi, method: str
) -> None:
    key = odd_call(fake_momento, api, method, omit=("refresh_token",))
    issued_by_fake(fake_momento, key)
    assert key.refresh_token is None and key.valid_until is not None
    [oddity] = key.oddities
    assert "no refresh token" in oddity


def test_a_never_expiring_key_needs_no_refresh_token(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    key = api.generate_api_key(fake_momento.superuser_key(), None, ALL_DATA_READ_WRITE, None)
    assert key.oddities == ()


@pytest.mark.parametrize("method", list(CALL_OF))
def test_a_key_that_does_not_decode_is_kept_as_sent(
    fake_momento: FakeMomento, api: MomentoApi, method: str
) -> None:
    key = odd_call(fake_momento, api, method, omit=(), garble_key=True)
    raw = inner_jwt(key.api_key)
    assert raw.count(".") == 2 and fake_momento.token_info(raw) is None  # the garbled one
    assert key.endpoint == DEFAULT_CELL
    [oddity] = key.oddities
    assert "does not read as a Momento key" in oddity
    assert raw not in oddity


def test_several_oddities_at_once(fake_momento: FakeMomento, api: MomentoApi) -> None:
    key = odd_call(
        fake_momento, api, "RefreshApiToken", omit=("endpoint", "valid_until", "refresh_token")
    )
    issued_by_fake(fake_momento, key)
    assert (key.endpoint, key.valid_until, key.refresh_token) == (DEFAULT_CELL, None, None)
    assert len(key.oddities) == 3


def test_no_endpoint_anywhere_still_keeps_the_key(
    fake_momento: FakeMomento, api: MomentoApi
) -> None:
    # A v2 caller key names no endpoint, and the override is the whole address.
    fake_momento.bad_response("GenerateApiToken", omit=("endpoint",))
    key = api.generate_api_key(fake_momento.superuser_v2_key(), None, ALL_DATA_READ_WRITE, 60)
    assert key.endpoint == ""
    issued_by_fake(fake_momento, key)
    [oddity] = key.oddities
    assert "none is known here" in oddity


def test_odd_answers_hide_their_secrets(fake_momento: FakeMomento, api: MomentoApi) -> None:
    key = odd_call(
        fake_momento, api, "GenerateApiToken", omit=("valid_until",), endpoint="x/" + "A" * 40
    )
    text = " ".join(key.oddities) + repr(key)
    assert key.api_key not in text and inner_jwt(key.api_key) not in text
    assert key.refresh_token is not None and key.refresh_token not in text
    assert "A" * 40 not in text  # token-shaped text from the server is redacted


def test_verify_maps_injected_faults(fake_momento: FakeMomento, api: MomentoApi) -> None:
    su = fake_momento.superuser_key()
    expectations = {
        grpc.StatusCode.UNAUTHENTICATED: "invalid",
        grpc.StatusCode.PERMISSION_DENIED: "restricted",
        grpc.StatusCode.RESOURCE_EXHAUSTED: "unknown",
        grpc.StatusCode.INTERNAL: "unknown",
    }
    for status, expected in expectations.items():
        fake_momento.fail_next("ListCaches", status)
        assert api.verify(su, None).status == expected, status


# --- construction ----------------------------------------------------------------------------


def test_from_env() -> None:
    api = MomentoApi.from_env({"MOMENTO_KEYS_ENDPOINT_OVERRIDE": " 127.0.0.1:9000 "}, timeout=3)
    assert api.override == ("127.0.0.1", 9000)
    assert api.timeout == 3
    assert MomentoApi.from_env({}).override is None
    assert MomentoApi.from_env({"MOMENTO_KEYS_ENDPOINT_OVERRIDE": ""}).override is None
    for bad in ("localhost", "localhost:http", ":9000", "host:0", "host:70000"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            MomentoApi(bad)
    with pytest.raises(ValueError, match="443"):
        MomentoApi("localhost:443")


def test_targets_without_override() -> None:
    api = MomentoApi()
    control = api._target("control", DEFAULT_CELL)
    assert control.address == f"control.{DEFAULT_CELL}:443" and control.secure
    assert api._target("token", DEFAULT_CELL).address == f"token.{DEFAULT_CELL}:443"
    credentials = api._sdk_credentials("tok", DEFAULT_CELL)
    assert credentials.control_endpoint == f"control.{DEFAULT_CELL}"
    assert credentials.token_endpoint == f"token.{DEFAULT_CELL}"
    assert credentials.port == 443
    assert "tok" not in repr(api)


def test_error_objects() -> None:
    error = MomentoError(ErrorCode.TIMEOUT, "slow")
    assert error.transient and str(error) == "slow" and not error.outcome_unknown
    assert not MomentoError(ErrorCode.AUTHENTICATION, "bad").transient
    assert isinstance(
        GeneratedKey(api_key="a", refresh_token=None, endpoint="e", valid_until=None), GeneratedKey
    )
