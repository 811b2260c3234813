"""Offline inspection of Momento credentials.

Tells what a pasted string (or file) is, without any network call: a v1 API
key (or disposable token: same format), a v2 key, a legacy JWT, the console's
Download JSON, or a momento-cli ``credentials`` file. See momento-facts.md §1,
§2, §3 and §6.

Rules this module keeps:

* Pure: the standard library, PyJWT (unverified decode only) and
  :mod:`tui.core.model`. No I/O except :func:`cli_credentials_path`, which only
  builds a path.
* Secrets never appear in an exception message, a ``repr`` or an exception's
  printed chain. :class:`KeyFormatError` messages are one fixed line that says
  what was expected; they never quote the input.

Input handling, decided once here:

* Surrounding whitespace (and a UTF-8 byte-order mark) is stripped. Whitespace
  *inside* a bare key is removed too: neither base64 nor a JWT can contain any,
  so it can only come from a wrapped paste.
* v1 keys must be strict base64 (decode, re-encode, compare, as the SDKs do),
  but missing ``=`` padding is tolerated; the stored secret is then the
  canonical padded form the SDKs accept, so the same key always has the same
  fingerprint.
"""

from __future__ import annotations

import base64
import binascii
import configparser
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .model import ExpirySource, Kind

__all__ = [
    "CONSOLE_URL",
    "MAX_INPUT_CHARS",
    "PUBLIC_REGIONS",
    "Inspection",
    "KeyFormatError",
    "cli_credentials_path",
    "fingerprint",
    "inspect_key",
    "inspect_text",
    "make_v1_key",
    "mask",
    "normalise_endpoint",
    "parse_cli_credentials",
    "region_of",
]


class KeyFormatError(ValueError):
    """One-line, user-facing explanation of what was expected.

    The message never contains the input (or any part of it).
    """


# ---------------------------------------------------------------------------
# Constants

#: Longer input is refused outright: real keys are a few hundred to a couple of
#: thousand characters, and a console JSON file is not much more.
MAX_INPUT_CHARS = 65_536

#: Latest epoch second accepted as an expiry (9999-12-31T23:59:59Z), so callers
#: can always turn one into a datetime.
_MAX_EPOCH = 253_402_300_799

_PUBLIC_CELL_SUFFIX = ".prod.a.momentohq.com"

#: Where the Momento console makes keys (super-user keys are made only there).
CONSOLE_URL = "https://console.gomomento.com/api-keys"

#: Public AWS regions and their cells (momento-facts.md §2), in the docs' order.
PUBLIC_REGIONS: list[tuple[str, str]] = [
    (region, f"{cell}{_PUBLIC_CELL_SUFFIX}")
    for region, cell in (
        ("us-east-1", "cell-us-east-1-1"),
        ("us-east-2", "cell-1-us-east-2-1"),
        ("us-west-2", "cell-4-us-west-2-1"),
        ("eu-west-1", "cell-1-eu-west-1-1"),
        ("eu-west-2", "cell-1-eu-west-2-1"),
        ("eu-central-1", "cell-1-eu-central-1-1"),
        ("eu-north-1", "cell-1-eu-north-1-1"),
        ("ap-south-1", "cell-1-ap-south-1-1"),
        ("ap-northeast-1", "cell-ap-northeast-1-1"),
        ("ap-southeast-1", "cell-1-ap-southeast-1-1"),
        ("ap-southeast-2", "cell-1-ap-southeast-2-1"),
    )
]

# AWS region names end in "-<digit>" (us-west-2); GCP ones glue the digit to
# the last word (us-east4, europe-west1). The two patterns cannot both match.
_AWS_CELL_RE = re.compile(
    r"^cell-(?:\d+-)?(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)-\d+\.prod\.a\.momentohq\.com$"
)
_GCP_CELL_RE = re.compile(r"^cell-(?:\d+-)?(?P<region>[a-z]+-[a-z]+\d+)-\d+\.prod\.a\.momentohq\.com$")

#: Service prefixes that may be put in front of a cell host (facts §2).
_HOST_PREFIXES = ("api.cache.", "control.", "cache.", "token.")
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*://")
_HOST_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

_BASE64_RE = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_JWT_SHAPE_RE = re.compile(r"^[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*$")

#: JWT claims that are safe to keep and show. Everything else is dropped,
#: notably ``p`` (an opaque permission blob) and anything unknown.
_SAFE_CLAIMS = frozenset({"sub", "ver", "iat", "exp", "t", "jti", "cp", "c", "id"})

# Console Download JSON field spellings (facts §3), in order of preference.
_JSON_KEY_FIELDS = ("apiKey", "authToken", "api_key")
_JSON_REFRESH_FIELDS = ("refreshToken", "refresh_token")
_JSON_EXPIRY_FIELDS = ("validUntil", "valid_until")
_EPOCH_STRING_RE = re.compile(r"^\d{1,15}(?:\.\d*)?$")

# A section name no INI file will use, so that "[DEFAULT]" is a profile too.
_NO_DEFAULT_SECTION = "\x00momento-keys: no default section\x00"

_EXPECTED = (
    "not a Momento API key: expected a v1 key (base64 JSON with endpoint and api_key), "
    "a v2 key (a JWT) or the console's Download JSON"
)


# ---------------------------------------------------------------------------
# Small public helpers


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible label for a secret: ``sha256:<16 hex>``."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def mask(secret: str) -> str:
    """The secret with all but its first 6 and last 4 characters hidden.

    Secrets shorter than 20 characters are hidden completely, since showing 10
    of them would give most of it away.
    """
    if len(secret) < 20:
        return "••••••"
    return f"{secret[:6]}…{secret[-4:]}"


def normalise_endpoint(text: str) -> str:
    """The bare cell host for an endpoint as a user may type or paste it.

    Accepts ``cell-4-us-west-2-1.prod.a.momentohq.com`` and also the same with a
    scheme (``https://``), a service prefix (``control.``, ``cache.``,
    ``token.``, ``api.cache.``), a trailing ``/`` or ``.``, a ``:443`` port or
    upper case. Raises :class:`KeyFormatError` for anything that is not a plain
    host name (paths, queries, other ports, spaces, empty labels).
    """
    host = text.strip().lower()
    if not host:
        raise KeyFormatError("no endpoint given (it was empty)")
    host = _SCHEME_RE.sub("", host, count=1)
    if host.endswith("/"):
        host = host[:-1]
    if host.endswith(":443"):
        host = host[: -len(":443")]
    if host.endswith("."):
        host = host[:-1]
    if any(ch in host for ch in "/?#@"):
        raise KeyFormatError(
            "the endpoint must be a bare host name such as cell-4-us-west-2-1.prod.a.momentohq.com, without a path"
        )
    if ":" in host:
        raise KeyFormatError("the endpoint must be a bare host name without a port (443 is the only one supported)")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and "." in host[len(prefix) :]:
            host = host[len(prefix) :]
            break
    labels = host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL_RE.match(label) for label in labels):
        raise KeyFormatError(
            "the endpoint is not a valid host name: expected something like cell-4-us-west-2-1.prod.a.momentohq.com"
        )
    return host


def region_of(endpoint: str | None) -> tuple[str | None, str | None]:
    """``(region, provider)`` for a public cell host; ``(None, None)`` if unknown.

    Private cells and hosts this module doesn't know are normal, so this never
    raises. The provider is ``"aws"`` or ``"gcp"``.
    """
    if not endpoint:
        return None, None
    try:
        host = normalise_endpoint(endpoint)
    except KeyFormatError:
        return None, None
    if m := _AWS_CELL_RE.match(host):
        return m["region"], "aws"
    if m := _GCP_CELL_RE.match(host):
        return m["region"], "gcp"
    return None, None


def make_v1_key(api_key: str, endpoint: str) -> str:
    """Wrap a raw JWT and its endpoint as a v1 key (base64 of JSON).

    This is how the JS SDK turns a GenerateApiToken/RefreshApiToken response
    (whose ``api_key`` is a bare JWT) into the key users handle.
    """
    # Compact JSON, endpoint first: byte for byte what the JS SDK's
    # JSON.stringify makes, so one key always has one string (and fingerprint).
    payload = json.dumps(
        {"endpoint": normalise_endpoint(endpoint), "api_key": api_key.strip()}, separators=(",", ":")
    )
    return base64.b64encode(payload.encode("utf-8")).decode("ascii")


def cli_credentials_path(env: Mapping[str, str] | None = None) -> Path:
    """Where momento-cli keeps its credentials file.

    ``$MOMENTO_CONFIG_DIR/credentials`` if that variable is set and non-empty,
    else ``~/.momento/credentials``. ``env`` defaults to :data:`os.environ`.
    The file is not read or checked.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    config_dir = environ.get("MOMENTO_CONFIG_DIR", "").strip()
    base = Path(config_dir).expanduser() if config_dir else Path.home() / ".momento"
    return base / "credentials"


# ---------------------------------------------------------------------------
# The result


@dataclass(frozen=True, slots=True)
class Inspection:
    """What a credential is, as far as can be told offline.

    Nothing here says whether the key is *valid* (only the service knows), nor
    whether it is super-user or fine-grained (no key string tells that reliably).
    """

    #: ``Kind.V1`` for base64-JSON keys (a disposable token looks the same; the
    #: caller may relabel it), ``Kind.V2`` or ``Kind.LEGACY``.
    kind: Kind
    #: The credential itself, whitespace removed (for v1: the padded base64 form).
    secret: str = field(repr=False)
    #: Bare cell host, e.g. ``cell-4-us-west-2-1.prod.a.momentohq.com``; None for
    #: a v2 key whose endpoint was not given.
    endpoint: str | None
    region: str | None
    provider: str | None
    #: The ``iat`` claim, if any.
    issued_at: int | None
    #: Epoch seconds; None means never or unknown, as ``expiry_source`` tells.
    expires_at: int | None
    expiry_source: ExpirySource
    #: Non-secret JWT claims only (a fixed whitelist).
    claims: dict[str, Any]
    #: ``sha256:`` and the first 16 hex digits of the secret's SHA-256.
    fingerprint: str
    #: From the console's Download JSON, when it had one.
    refresh_token: str | None = field(default=None, repr=False)
    #: ``"raw"``, ``"console_json"`` or ``"momento_cli:<profile>"``.
    source: str = "raw"

    @property
    def control_host(self) -> str | None:
        """Control plane and auth service host (``control.<endpoint>``)."""
        return None if self.endpoint is None else f"control.{self.endpoint}"

    @property
    def cache_host(self) -> str | None:
        """Data plane and topics host (``cache.<endpoint>``)."""
        return None if self.endpoint is None else f"cache.{self.endpoint}"

    @property
    def token_host(self) -> str | None:
        """Token service host, for disposable tokens (``token.<endpoint>``)."""
        return None if self.endpoint is None else f"token.{self.endpoint}"

    @property
    def http_endpoint(self) -> str | None:
        """Base URL of the HTTP API (``https://api.cache.<endpoint>``)."""
        return None if self.endpoint is None else f"https://api.cache.{self.endpoint}"

    @property
    def masked(self) -> str:
        """The secret, masked for display (see :func:`mask`)."""
        return mask(self.secret)

    def inner_jwt(self) -> str:
        """The JWT the auth RPCs want: for v1 (and disposable) keys the
        ``api_key`` inside the base64 JSON, otherwise the secret itself."""
        if self.kind in (Kind.V1, Kind.DISPOSABLE):
            payload = json.loads(base64.b64decode(self.secret))
            return str(payload["api_key"]).strip()
        return self.secret


# ---------------------------------------------------------------------------
# Raw keys


def inspect_key(text: str, endpoint: str | None = None) -> Inspection:
    """Inspect a bare credential string (not JSON; see :func:`inspect_text`).

    Detection follows the SDKs (facts §1): strict base64 of JSON with
    ``endpoint`` and ``api_key`` is a v1 key; otherwise a JWT with ``t == "g"``
    is a v2 key and one with ``cp``/``c`` claims a legacy key.

    ``endpoint``, when given (and not blank), overrides the endpoint carried by
    a v1 or legacy key and supplies the one a v2 key lacks. It is normalised
    with :func:`normalise_endpoint`.

    Raises :class:`KeyFormatError` with a one-line explanation otherwise.
    """
    override = _optional_endpoint(endpoint)
    compact = "".join(_prepare(text).split())
    if not compact.isascii():
        raise KeyFormatError(f"{_EXPECTED} (it contains characters no key has)")

    decoded = _strict_base64(compact)
    if decoded is not None:
        return _inspect_v1(*decoded, override=override)

    claims = _decode_jwt(compact)
    if claims is None:
        if _JWT_SHAPE_RE.match(compact):
            raise KeyFormatError("this looks like a JWT but could not be decoded: was the whole key pasted?")
        raise KeyFormatError(_EXPECTED)

    if claims.get("t") == "g":
        return _build(Kind.V2, override, compact, claims)
    if "cp" in claims or "c" in claims:
        return _build(Kind.LEGACY, override or _legacy_endpoint(claims), compact, claims)
    raise KeyFormatError(
        'a JWT, but not a Momento key: it has neither t="g" (v2 key) nor cp/c claims (legacy key); '
        "a v1 key is the whole base64 text, not the JWT inside it"
    )


def _inspect_v1(canonical: str, raw: bytes, *, override: str | None) -> Inspection:
    """The v1 branch of :func:`inspect_key`: ``raw`` is the decoded base64."""
    payload = _json_object(raw)
    if payload is None:
        raise KeyFormatError(_EXPECTED)
    missing = [name for name in ("endpoint", "api_key") if name not in payload]
    if missing:
        raise KeyFormatError(f"base64 JSON, but not a Momento v1 key: the {' and '.join(missing)} field is missing")
    api_key, embedded = payload["api_key"], payload["endpoint"]
    if not isinstance(api_key, str) or not isinstance(embedded, str):
        raise KeyFormatError("base64 JSON, but not a Momento v1 key: endpoint and api_key must be strings")
    claims = _decode_jwt(api_key.strip())
    if claims is None:
        raise KeyFormatError("a v1 key whose api_key is not a JWT: the key is damaged or not a Momento key")
    return _build(Kind.V1, override or normalise_endpoint(embedded), canonical, claims)


def _build(kind: Kind, endpoint: str | None, secret: str, claims: Mapping[str, Any]) -> Inspection:
    """Assemble an :class:`Inspection` from a decoded key."""
    has_exp = claims.get("exp") is not None
    expires_at = _claim_epoch(claims.get("exp"))
    if expires_at is not None:
        source = ExpirySource.JWT_EXP
    elif has_exp or kind is Kind.V2:
        source = ExpirySource.UNKNOWN  # an unreadable exp, or a v2 key (which may not carry one)
    else:
        source = ExpirySource.JWT_NO_EXP
    region, provider = region_of(endpoint)
    return Inspection(
        kind=kind,
        secret=secret,
        endpoint=endpoint,
        region=region,
        provider=provider,
        issued_at=_claim_epoch(claims.get("iat")),
        expires_at=expires_at,
        expiry_source=source,
        claims={name: value for name, value in claims.items() if name in _SAFE_CLAIMS},
        fingerprint=fingerprint(secret),
    )


# ---------------------------------------------------------------------------
# Keys or console JSON


def inspect_text(text: str, endpoint: str | None = None) -> Inspection:
    """Inspect what a user pasted or loaded: a bare key or the console's Download JSON.

    Text starting with ``{`` is read as JSON with the key in ``apiKey``,
    ``authToken`` or ``api_key``; an optional refresh token in ``refreshToken``
    or ``refresh_token``; an optional expiry in ``validUntil`` or
    ``valid_until`` (epoch seconds as a number or numeric string, 0 = never),
    which overrides the key's own ``exp``; and an optional ``endpoint``.

    The endpoint is, by priority: the ``endpoint`` argument, the JSON's
    ``endpoint``, the key's own. If the key field holds a bare JWT that is
    neither v2 nor legacy (as in a dumped GenerateApiToken response) and an
    endpoint is known, it is wrapped as a v1 key (see :func:`make_v1_key`).

    Anything else is handed to :func:`inspect_key`.
    """
    body = _prepare(text)
    if not body.startswith("{"):
        return inspect_key(body, endpoint)

    document = _parse_json_document(body)
    key_field = next((name for name in _JSON_KEY_FIELDS if document.get(name) is not None), None)
    if key_field is None:
        raise KeyFormatError("the JSON has no API key: expected a field apiKey, authToken or api_key")
    key = _json_string(document, key_field)

    json_endpoint = None
    if document.get("endpoint") is not None:
        json_endpoint = normalise_endpoint(_json_string(document, "endpoint"))
    chosen_endpoint = _optional_endpoint(endpoint) or json_endpoint

    try:
        inspection = inspect_key(key, chosen_endpoint)
    except KeyFormatError as exc:
        compact = "".join(key.split())
        claims = _decode_jwt(compact)
        if chosen_endpoint is None or claims is None or not _is_bare_v1_jwt(claims):
            raise KeyFormatError(f"the JSON field {key_field}: {exc}") from None
        inspection = inspect_key(make_v1_key(compact, chosen_endpoint), chosen_endpoint)

    refresh_token = None
    refresh_field = next((name for name in _JSON_REFRESH_FIELDS if document.get(name) is not None), None)
    if refresh_field is not None:
        refresh_token = _json_string(document, refresh_field).strip() or None

    changes: dict[str, Any] = {"source": "console_json", "refresh_token": refresh_token}
    expiry_field = next((name for name in _JSON_EXPIRY_FIELDS if document.get(name) is not None), None)
    if expiry_field is not None:
        valid_until = _valid_until(document[expiry_field], expiry_field)
        changes["expires_at"] = valid_until or None
        changes["expiry_source"] = ExpirySource.CONSOLE_JSON
    return replace(inspection, **changes)


def _parse_json_document(body: str) -> dict[str, Any]:
    """Parse the console JSON, with errors that give a position but no content."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise KeyFormatError(
            f"the file is JSON but could not be parsed: line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise KeyFormatError("the file is JSON but could not be parsed: it is nested too deeply") from None
    except ValueError:  # e.g. an integer longer than Python will convert
        raise KeyFormatError("the file is JSON but could not be parsed: it holds a value out of range") from None
    if not isinstance(document, dict):
        raise KeyFormatError("the file is JSON but not an object: expected {\"apiKey\": ..., ...}")
    return document


def _json_string(document: Mapping[str, Any], name: str) -> str:
    value = document[name]
    if not isinstance(value, str):
        raise KeyFormatError(f"the JSON field {name} must be a string")
    return value


def _valid_until(value: Any, name: str) -> int:
    """``validUntil`` as epoch seconds (0 = never); a number or numeric string."""
    if isinstance(value, str) and _EPOCH_STRING_RE.match(value.strip()):
        value = float(value.strip()) if "." in value else int(value.strip())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise KeyFormatError(f"the JSON field {name} must be epoch seconds (a number, 0 for never)")
    if not (math.isfinite(value) and 0 <= value <= _MAX_EPOCH):
        raise KeyFormatError(f"the JSON field {name} is out of range: expected epoch seconds, 0 for never")
    return int(value)


# ---------------------------------------------------------------------------
# momento-cli


def parse_cli_credentials(text: str) -> list[tuple[str, Inspection | KeyFormatError]]:
    """Read a momento-cli ``credentials`` INI file (facts §6).

    Each ``[profile]`` holds either ``api_key_v2`` and ``endpoint`` or ``token``
    (a v1 key or disposable token). Returns ``(profile, result)`` in file order,
    where ``result`` is the :class:`Inspection` (``source`` set to
    ``"momento_cli:<profile>"``) or the :class:`KeyFormatError` explaining why
    that profile could not be read; one bad profile does not stop the others.

    Raises :class:`KeyFormatError` if the file as a whole is not valid INI.
    """
    parser = configparser.ConfigParser(interpolation=None, default_section=_NO_DEFAULT_SECTION)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise KeyFormatError(_ini_error(exc)) from None

    results: list[tuple[str, Inspection | KeyFormatError]] = []
    for name in parser.sections():
        section = parser[name]
        key = (section.get("api_key_v2") or "").strip() or (section.get("token") or "").strip()
        try:
            if not key:
                raise KeyFormatError("this profile has no token or api_key_v2")
            inspection = inspect_key(key, section.get("endpoint"))
        except KeyFormatError as exc:
            results.append((name, exc))
        else:
            results.append((name, replace(inspection, source=f"momento_cli:{name}")))
    return results


def _ini_error(exc: configparser.Error) -> str:
    """A message for an INI parse error, with its line number but no content."""
    lineno = getattr(exc, "lineno", None)
    if lineno is None and isinstance(exc, configparser.ParsingError) and exc.errors:
        lineno = exc.errors[0][0]
    where = f" (line {lineno})" if isinstance(lineno, int) else ""
    return f"not a valid momento-cli credentials file: expected [profile] sections with name=value lines{where}"


# ---------------------------------------------------------------------------
# Internals


def _prepare(text: str) -> str:
    """Strip surrounding whitespace and a byte-order mark; refuse empty or huge input."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    if len(text) > MAX_INPUT_CHARS:
        raise KeyFormatError(
            f"the input is too long to be a Momento key ({len(text)} characters, the limit is {MAX_INPUT_CHARS})"
        )
    body = text.strip().lstrip("\ufeff").strip()
    if not body:
        raise KeyFormatError("no key given (input was empty)")
    return body


def _optional_endpoint(endpoint: str | None) -> str | None:
    """A normalised endpoint argument; None or blank means none was given."""
    if endpoint is None or not endpoint.strip():
        return None
    return normalise_endpoint(endpoint)


def _strict_base64(text: str) -> tuple[str, bytes] | None:
    """``(canonical text, bytes)`` if ``text`` is strict base64, else None.

    Strict as in the SDKs (decoding and re-encoding gives the same text), except
    that missing ``=`` padding is accepted; the canonical text is padded.
    """
    if not _BASE64_RE.match(text):
        return None
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
    except binascii.Error:
        return None
    if base64.b64encode(raw).decode("ascii") != padded:
        return None
    return padded, raw


def _json_object(raw: bytes) -> dict[str, Any] | None:
    """``raw`` as a JSON object, or None if it is not UTF-8 JSON of an object."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # includes UnicodeDecodeError and JSONDecodeError
        return None
    return value if isinstance(value, dict) else None


def _decode_jwt(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, without verifying its signature; None if not a JWT."""
    if not _JWT_SHAPE_RE.match(token):
        return None
    # Unverified by design (only Momento can verify), so no JWT library is
    # needed: a JWT is header.payload.signature, each base64url; header and
    # payload are JSON objects. Decoding by hand keeps PyJWT and cryptography
    # (~55 ms of imports) off the path of `check` and `list`.
    header_part, payload_part, signature = token.split(".")
    if signature and _b64url(signature) == b"":
        return None  # a signature that is not base64url: a damaged (e.g. truncated) token
    header = _json_object(_b64url(header_part))
    claims = _json_object(_b64url(payload_part))
    if header is None or claims is None:
        return None
    return claims


def _b64url(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return b""


def _is_bare_v1_jwt(claims: Mapping[str, Any]) -> bool:
    """True for the claims of the JWT inside a v1 key: neither v2 nor legacy."""
    return claims.get("t") != "g" and "cp" not in claims and "c" not in claims


def _claim_epoch(value: Any) -> int | None:
    """A numeric date claim as int epoch seconds; None if absent or unusable."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if not 0 <= value <= _MAX_EPOCH:
        return None
    return int(value)


def _legacy_endpoint(claims: Mapping[str, Any]) -> str:
    """The cell host of a legacy JWT, from ``cp`` (control host) or ``c`` (cache host)."""
    host = claims.get("cp") or claims.get("c")
    if not isinstance(host, str):
        raise KeyFormatError("a legacy Momento key whose cp/c claims are not host names")
    try:
        return normalise_endpoint(host)
    except KeyFormatError:
        raise KeyFormatError("a legacy Momento key whose cp/c claims are not host names") from None
