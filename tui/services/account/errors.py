"""What a failed account-API call means: an :class:`AccountError` with the HTTP status,
a kind, and one true sentence a person can act on. No key ever reaches a message:
server text is scrubbed (``tui.core.text.scrub``) with the acting key as a known secret.
"""

from __future__ import annotations

import enum


class ErrorKind(str, enum.Enum):
    BAD_REQUEST = "bad-request"          # 400
    UNAUTHENTICATED = "unauthenticated"  # 401: the acting key is invalid or expired
    FORBIDDEN = "forbidden"              # 403: the acting key's role lacks auth-management access
    NOT_FOUND = "not-found"              # 404
    CONFLICT = "conflict"                # 409
    THROTTLED = "throttled"              # 429, still after the bounded retries
    SERVER = "server"                    # 5xx
    UNREACHABLE = "unreachable"          # connection refused, no such host, TLS failure
    TIMEOUT = "timeout"                  # accepted the connection, never answered in time
    BAD_ANSWER = "bad-answer"            # not JSON, or not the documented shape


_TRANSIENT = frozenset({ErrorKind.THROTTLED, ErrorKind.SERVER, ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT})

KIND_OF_STATUS = {
    400: ErrorKind.BAD_REQUEST,
    401: ErrorKind.UNAUTHENTICATED,
    403: ErrorKind.FORBIDDEN,
    404: ErrorKind.NOT_FOUND,
    409: ErrorKind.CONFLICT,
    429: ErrorKind.THROTTLED,
}


class AccountError(Exception):
    """An account-API call failed. ``str(error)`` is the sentence for the user.

    ``status`` is the HTTP status when there was an answer; ``outcome_unknown`` is set
    when a call that changes something (creating a key) may have taken effect although
    no usable answer came back; ``transient`` says whether trying later may work.
    """

    def __init__(self, kind: ErrorKind, message: str, *, status: int | None = None,
                 outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.outcome_unknown = outcome_unknown

    @property
    def transient(self) -> bool:
        return self.kind in _TRANSIENT

    def __repr__(self) -> str:
        return f"AccountError({self.kind.value}, {self.status}, {self.message!r})"


def kind_of(status: int) -> ErrorKind:
    if status >= 500:
        return ErrorKind.SERVER
    return KIND_OF_STATUS.get(status, ErrorKind.BAD_ANSWER if status < 400 else ErrorKind.BAD_REQUEST)


def sentence(kind: ErrorKind, *, where: str, what: str, acting: str, status: int | None = None,
             server: str = "", tries: int = 1, waited: float = 0.0) -> str:
    """The one sentence for a failed call. ``where`` names the API ("Momento's account API"
    or "the account API at http://127.0.0.1:8080"), ``what`` the call ("listing API keys"),
    ``acting`` the name of the key that authenticated, ``server`` the server's own message
    (already scrubbed)."""
    said = f": {server}" if server else ""
    code = f"HTTP {status}" if status else ""
    if kind is ErrorKind.UNAUTHENTICATED:
        return (f"{where} rejected {acting!r} while {what} ({code}): the key is invalid or expired; "
                "act with a valid key whose role manages API keys")
    if kind is ErrorKind.FORBIDDEN:
        return (f"{acting!r} lacks auth-management access ({code} while {what}): act with a key whose role "
                "grants it, such as Owner")
    if kind is ErrorKind.NOT_FOUND:
        return f"{where} found nothing to act on while {what} ({code}){said}"
    if kind is ErrorKind.CONFLICT:
        return f"{where} refused {what} as a conflict with what exists ({code}){said}"
    if kind is ErrorKind.BAD_REQUEST:
        return f"{where} refused {what} as an invalid request ({code}){said}"
    if kind is ErrorKind.THROTTLED:
        return (f"{where} is throttling requests ({code}) and still was after {tries} tries over {waited:.1f} s "
                f"while {what}; wait a minute, then try again")
    if kind is ErrorKind.SERVER:
        return f"{where} failed with a server error ({code}) while {what}{said}; try again later"
    raise ValueError(kind)  # unreachable / timeout / bad-answer sentences are written where they happen
