"""What a failed Momento call means, in one place: gRPC statuses and SDK errors become a
:class:`MomentoError` with an :class:`ErrorCode` and a sentence a person can act on.

Kept apart from the call machinery so that the wording (and the rule that no secret
ever reaches it) can be read and tested without following retries and channels.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import grpc

from tui.core.text import scrub

__all__ = [
    "DISPOSABLE",
    "GENERATE",
    "LIST_CACHES",
    "REFRESH",
    "AttemptError",
    "ErrorCode",
    "MomentoError",
    "Op",
    "call_error",
    "sdk_failure",
    "spent_warning",
]


class ErrorCode(str, enum.Enum):
    """What kind of failure a :class:`MomentoError` is."""

    AUTHENTICATION = "authentication"  # UNAUTHENTICATED: the key is bad
    PERMISSION = "permission"  # PERMISSION_DENIED: key fine, not allowed
    INVALID_ARGUMENT = "invalid_argument"  # the request was refused as invalid
    UNAVAILABLE = "unavailable"  # could not reach Momento
    TIMEOUT = "timeout"  # no answer within the deadline
    RESOURCE_EXHAUSTED = "resource_exhausted"  # a rate or account limit
    BAD_RESPONSE = "bad_response"  # an answer without the key itself
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
class Op:
    """One kind of call: which RPC, on which service, whether a repeat is harmless, and
    how messages name it ("create the API key")."""

    rpc: str
    service: Literal["control", "token"]
    idempotent: bool
    what: str


GENERATE: Final = Op("GenerateApiToken", "control", False, "create the API key")
REFRESH: Final = Op("RefreshApiToken", "control", False, "refresh the key")
DISPOSABLE: Final = Op("GenerateDisposableToken", "token", True, "create the disposable token")
LIST_CACHES: Final = Op("ListCaches", "control", True, "check the key")


class AttemptError(Exception):
    """One attempt failed, in gRPC terms. ``sent=False``: the request was certainly never
    sent (the connection could not be made), so even a non-idempotent call may repeat."""

    def __init__(self, status: grpc.StatusCode, details: str, *, sent: bool = True) -> None:
        super().__init__(details)
        self.status = status
        self.details = details
        self.sent = sent


def spent_warning(op: Op) -> str:
    """What a non-idempotent call may have done although its answer was lost ("" for others)."""
    if op is REFRESH:
        # The service refreshes before it answers: the old refresh token may be spent.
        return (
            " The refresh may have gone through and used up the refresh token; if a retry "
            "is rejected, generate a new key (the current key stays valid until it expires)."
        )
    if not op.idempotent:
        return " The key may have been created anyway; check the Momento console before retrying."
    return ""


def call_error(
    op: Op,
    where: str,
    failure: AttemptError,
    secrets: Sequence[str],
    attempts: int,
    timeout: float,
) -> MomentoError:
    """The :class:`MomentoError` for the last failed attempt of ``op`` at ``where``.

    Server text is scrubbed of ``secrets`` and of anything token-shaped: a careless
    server (or proxy) may echo the request back.
    """
    status = failure.status
    details = scrub(failure.details, list(secrets))
    said = f" Momento said: {details}" if details else ""
    tried = f" (tried {attempts} times)" if attempts > 1 else ""
    unsure = not op.idempotent and failure.sent
    maybe = spent_warning(op) if unsure else ""

    def error(code: ErrorCode, message: str, *, unknown: bool = False) -> MomentoError:
        return MomentoError(code, message, status=status.name, outcome_unknown=unknown and unsure)

    if status is grpc.StatusCode.UNAUTHENTICATED:
        if op is REFRESH:
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
        if op is GENERATE or op is DISPOSABLE:
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
            f"Momento could not be reached at {where}{tried}: "
            f"{details or 'service unavailable'}.{maybe}",
            unknown=True,
        )
    if status is grpc.StatusCode.DEADLINE_EXCEEDED:
        return error(
            ErrorCode.TIMEOUT,
            f"Momento did not answer within {timeout:g} s at {where}{tried}.{maybe}",
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
            f"The server at {where} does not offer {op.rpc} (UNIMPLEMENTED); is the endpoint right?",
        )
    if status in (grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS, grpc.StatusCode.ABORTED):
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


# The SDK reports failures as its own error codes; when it kept no gRPC status (it
# failed before or around the call), these map them back so one table applies.
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


def sdk_failure(response: Any) -> AttemptError:
    """An SDK ``*.Error`` response as an :class:`AttemptError` (gRPC status and details)."""
    inner = response.inner_exception
    transport = getattr(inner, "transport_details", None)
    grpc_details = getattr(transport, "grpc", None)
    if grpc_details is not None and isinstance(grpc_details.code, grpc.StatusCode):
        return AttemptError(grpc_details.code, grpc_details.details or "")
    status = _SDK_CODE_TO_STATUS.get(response.error_code.name, grpc.StatusCode.UNKNOWN)
    return AttemptError(status, getattr(inner, "message", "") or "")
