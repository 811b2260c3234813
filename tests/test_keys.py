"""Tests for tui.core.keys: offline inspection of Momento credentials.

Every key here is made by the test itself (HS256 with a throwaway secret), so
nothing resembles a real credential.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import warnings
from pathlib import Path
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.warnings import InsecureKeyLengthWarning

from tui.core.keys import (
    MAX_INPUT_CHARS,
    PUBLIC_REGIONS,
    Inspection,
    KeyFormatError,
    cli_credentials_path,
    fingerprint,
    inspect_key,
    inspect_text,
    make_v1_key,
    mask,
    normalise_endpoint,
    parse_cli_credentials,
    region_of,
)
from tui.core.model import ExpirySource, Kind

ENDPOINT = "cell-4-us-west-2-1.prod.a.momentohq.com"
EU_ENDPOINT = "cell-1-eu-west-1-1.prod.a.momentohq.com"
IAT = 1_800_000_000
EXP = 1_802_592_000
REFRESH = "refresh-token-that-must-never-leak-0123456789"


# ---------------------------------------------------------------------------
# Key factories


def sign(claims: dict[str, Any]) -> str:
    with warnings.catch_warnings():  # the short HMAC secret is deliberate
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, "test-secret", algorithm="HS256")


def v1_inner(*, exp: int | None = EXP, **extra: Any) -> str:
    claims: dict[str, Any] = {"sub": "dev@example.com", "ver": 1, "p": "CgQKAggBEgA=", "iat": IAT, **extra}
    if exp is not None:
        claims["exp"] = exp
    return sign(claims)


def wrap_v1(api_key: str, endpoint: str = ENDPOINT) -> str:
    return base64.b64encode(json.dumps({"endpoint": endpoint, "api_key": api_key}).encode()).decode()


def v1_key(*, exp: int | None = EXP, endpoint: str = ENDPOINT, **extra: Any) -> str:
    return wrap_v1(v1_inner(exp=exp, **extra), endpoint)


def v2_key(**extra: Any) -> str:
    return sign({"t": "g", "jti": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", **extra})


def legacy_key(*, exp: int | None = None, **claims: Any) -> str:
    base: dict[str, Any] = {"sub": "dev@example.com", "cp": f"control.{ENDPOINT}", "c": f"cache.{ENDPOINT}"}
    base.update(claims)
    if exp is not None:
        base["exp"] = exp
    return sign({k: v for k, v in base.items() if v is not None})


def padded_v1_key() -> str:
    """A v1 key whose base64 ends in '=' padding."""
    for n in range(3):
        key = v1_key(jti="x" * n)
        if key.endswith("="):
            return key
    raise AssertionError("unreachable: one of three lengths needs padding")


def assert_clean_error(exc: KeyFormatError, *secrets: str) -> None:
    """The message is one non-empty line and quotes none of the secrets."""
    message = str(exc)
    assert message and "\n" not in message and "\r" not in message
    for secret in secrets:
        for chunk in {secret.strip(), secret.strip()[:24], secret.strip()[-24:]}:
            if len(chunk) >= 12:
                assert chunk not in message
    # The chain that a traceback prints must not drag the input along either.
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__


# ---------------------------------------------------------------------------
# v1 keys


def test_v1_key_with_exp() -> None:
    key = v1_key(foo="bar")
    ins = inspect_key(key)
    assert ins.kind is Kind.V1
    assert ins.secret == key
    assert ins.endpoint == ENDPOINT
    assert (ins.region, ins.provider) == ("us-west-2", "aws")
    assert ins.issued_at == IAT
    assert ins.expires_at == EXP
    assert ins.expiry_source is ExpirySource.JWT_EXP
    assert ins.claims == {"sub": "dev@example.com", "ver": 1, "iat": IAT, "exp": EXP}  # no p, no foo
    assert ins.fingerprint == fingerprint(key)
    assert ins.refresh_token is None
    assert ins.source == "raw"


def test_v1_key_without_exp_never_expires() -> None:
    ins = inspect_key(v1_key(exp=None))
    assert ins.kind is Kind.V1
    assert ins.expires_at is None
    assert ins.expiry_source is ExpirySource.JWT_NO_EXP


def test_v1_hosts_and_inner_jwt() -> None:
    inner = v1_inner()
    ins = inspect_key(wrap_v1(inner))
    assert ins.inner_jwt() == inner
    assert ins.control_host == f"control.{ENDPOINT}"
    assert ins.cache_host == f"cache.{ENDPOINT}"
    assert ins.token_host == f"token.{ENDPOINT}"
    assert ins.http_endpoint == f"https://api.cache.{ENDPOINT}"


def test_disposable_relabel_keeps_inner_jwt() -> None:
    inner = v1_inner()
    ins = dataclasses.replace(inspect_key(wrap_v1(inner)), kind=Kind.DISPOSABLE)
    assert ins.inner_jwt() == inner


def test_v1_missing_padding_is_tolerated_and_canonicalised() -> None:
    key = padded_v1_key()
    ins = inspect_key(key.rstrip("="))
    assert ins.kind is Kind.V1
    assert ins.secret == key
    assert ins.fingerprint == fingerprint(key)


def test_v1_explicit_endpoint_overrides_embedded_one() -> None:
    ins = inspect_key(v1_key(), endpoint=f"https://control.{EU_ENDPOINT}/")
    assert ins.endpoint == EU_ENDPOINT
    assert ins.region == "eu-west-1"


def test_v1_blank_endpoint_argument_means_none() -> None:
    assert inspect_key(v1_key(), endpoint="   ").endpoint == ENDPOINT


def test_v1_embedded_endpoint_is_normalised() -> None:
    assert inspect_key(v1_key(endpoint=f"https://cache.{ENDPOINT.upper()}")).endpoint == ENDPOINT


def test_v1_wins_over_inner_claims() -> None:
    """A base64-JSON key is v1 even if its inner JWT looks like a v2 key."""
    assert inspect_key(wrap_v1(v2_key())).kind is Kind.V1


def test_v1_unreadable_exp_is_unknown_not_never() -> None:
    ins = inspect_key(wrap_v1(sign({"sub": "dev@example.com", "exp": "tomorrow"})))
    assert ins.expires_at is None
    assert ins.expiry_source is ExpirySource.UNKNOWN


def test_make_v1_key_round_trip() -> None:
    inner = v1_inner()
    key = make_v1_key(inner, f"https://{ENDPOINT}")
    ins = inspect_key(key)
    assert ins.kind is Kind.V1 and ins.endpoint == ENDPOINT and ins.inner_jwt() == inner


# ---------------------------------------------------------------------------
# v2 and legacy keys


def test_v2_key_without_endpoint() -> None:
    key = v2_key()
    ins = inspect_key(key)
    assert ins.kind is Kind.V2
    assert ins.secret == key
    assert ins.endpoint is None and ins.region is None and ins.provider is None
    assert ins.control_host is None and ins.cache_host is None
    assert ins.token_host is None and ins.http_endpoint is None
    assert ins.expires_at is None
    assert ins.expiry_source is ExpirySource.UNKNOWN
    assert ins.claims == {"t": "g", "jti": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}
    assert ins.inner_jwt() == key


def test_v2_key_with_endpoint() -> None:
    ins = inspect_key(v2_key(), endpoint=f"  https://cache.{EU_ENDPOINT}:443/ ")
    assert ins.endpoint == EU_ENDPOINT
    assert (ins.region, ins.provider) == ("eu-west-1", "aws")
    assert ins.control_host == f"control.{EU_ENDPOINT}"


def test_v2_key_with_exp_and_iat() -> None:
    ins = inspect_key(v2_key(exp=EXP, iat=IAT))
    assert ins.expires_at == EXP
    assert ins.expiry_source is ExpirySource.JWT_EXP
    assert ins.issued_at == IAT


def test_v2_key_with_bad_endpoint() -> None:
    with pytest.raises(KeyFormatError) as info:
        inspect_key(v2_key(), endpoint="https://example.com/some/path")
    assert_clean_error(info.value)


def test_legacy_key() -> None:
    key = legacy_key()
    ins = inspect_key(key)
    assert ins.kind is Kind.LEGACY
    assert ins.secret == key
    assert ins.endpoint == ENDPOINT
    assert ins.expires_at is None
    assert ins.expiry_source is ExpirySource.JWT_NO_EXP
    assert ins.claims["cp"] == f"control.{ENDPOINT}"
    assert ins.inner_jwt() == key


def test_legacy_key_with_exp() -> None:
    ins = inspect_key(legacy_key(exp=EXP))
    assert (ins.expires_at, ins.expiry_source) == (EXP, ExpirySource.JWT_EXP)


def test_legacy_key_with_only_cache_claim() -> None:
    ins = inspect_key(legacy_key(cp=None))
    assert ins.kind is Kind.LEGACY and ins.endpoint == ENDPOINT


def test_legacy_key_endpoint_override() -> None:
    assert inspect_key(legacy_key(), endpoint=EU_ENDPOINT).endpoint == EU_ENDPOINT


@pytest.mark.parametrize("cp", [42, "not a host", ""])
def test_legacy_key_with_bad_control_claim(cp: Any) -> None:
    key = legacy_key(cp=cp, c=None)
    with pytest.raises(KeyFormatError) as info:
        inspect_key(key)
    assert_clean_error(info.value, key)


# ---------------------------------------------------------------------------
# Pastes


WRAPPINGS = [
    pytest.param(lambda k: f"  {k}  ", id="spaces"),
    pytest.param(lambda k: f"\n{k}\r\n", id="newlines"),
    pytest.param(lambda k: "\n".join(k[i : i + 64] for i in range(0, len(k), 64)), id="wrapped-64"),
    pytest.param(lambda k: "\r\n\t".join(k[i : i + 40] for i in range(0, len(k), 40)) + "\n", id="wrapped-crlf-tab"),
    pytest.param(lambda k: f"\ufeff{k}\n", id="bom"),
    pytest.param(lambda k: f"\u00a0{k}\u2003", id="unicode-spaces"),
]


@pytest.mark.parametrize("wrap", WRAPPINGS)
@pytest.mark.parametrize("make", [v1_key, v2_key, legacy_key], ids=["v1", "v2", "legacy"])
def test_whitespace_and_wrapped_pastes(wrap: Any, make: Any) -> None:
    key = make()
    ins = inspect_text(wrap(key))
    assert ins.secret == key
    assert ins.fingerprint == fingerprint(key)
    assert inspect_key(wrap(key)).secret == key


# ---------------------------------------------------------------------------
# Console Download JSON


@pytest.mark.parametrize("key_field", ["apiKey", "authToken", "api_key"])
@pytest.mark.parametrize("refresh_field", ["refreshToken", "refresh_token"])
@pytest.mark.parametrize("expiry_field", ["validUntil", "valid_until"])
def test_console_json_field_spellings(key_field: str, refresh_field: str, expiry_field: str) -> None:
    key = v1_key()
    text = json.dumps({key_field: key, refresh_field: REFRESH, expiry_field: EXP + 5})
    ins = inspect_text(text)
    assert ins.kind is Kind.V1
    assert ins.secret == key
    assert ins.source == "console_json"
    assert ins.refresh_token == REFRESH
    assert ins.expires_at == EXP + 5  # validUntil beats the JWT's exp
    assert ins.expiry_source is ExpirySource.CONSOLE_JSON
    assert ins.endpoint == ENDPOINT  # from the key


@pytest.mark.parametrize(
    ("valid_until", "expected"),
    [
        (EXP + 7, EXP + 7),
        (str(EXP + 7), EXP + 7),
        (f" {EXP + 7} ", EXP + 7),
        (float(EXP + 7), EXP + 7),
        (f"{EXP + 7}.0", EXP + 7),
        (0, None),
        ("0", None),
    ],
)
def test_console_json_valid_until_forms(valid_until: Any, expected: int | None) -> None:
    ins = inspect_text(json.dumps({"apiKey": v1_key(), "refreshToken": REFRESH, "validUntil": valid_until}))
    assert ins.expires_at == expected
    assert ins.expiry_source is ExpirySource.CONSOLE_JSON


def test_console_json_without_valid_until_falls_back_to_key() -> None:
    ins = inspect_text(json.dumps({"apiKey": v1_key(), "validUntil": None}))
    assert (ins.expires_at, ins.expiry_source) == (EXP, ExpirySource.JWT_EXP)
    assert ins.refresh_token is None
    assert ins.source == "console_json"


def test_console_json_empty_refresh_token_is_none() -> None:
    assert inspect_text(json.dumps({"apiKey": v1_key(), "refreshToken": "  "})).refresh_token is None


def test_console_json_pretty_printed_with_whitespace() -> None:
    text = "\n\n" + json.dumps({"apiKey": v1_key(), "refreshToken": REFRESH}, indent=4) + "\n\n"
    assert inspect_text(text).refresh_token == REFRESH


def test_console_json_endpoint_field_and_argument_priority() -> None:
    text = json.dumps({"apiKey": v1_key(), "endpoint": f"https://api.cache.{EU_ENDPOINT}"})
    assert inspect_text(text).endpoint == EU_ENDPOINT
    other = "cell-1-ap-south-1-1.prod.a.momentohq.com"
    assert inspect_text(text, endpoint=other).endpoint == other


def test_console_json_prefers_api_key_spelling_order() -> None:
    first, second = v1_key(), v1_key(endpoint=EU_ENDPOINT)
    ins = inspect_text(json.dumps({"authToken": second, "apiKey": first}))
    assert ins.secret == first


def test_console_json_with_v2_key() -> None:
    key = v2_key()
    ins = inspect_text(json.dumps({"apiKey": key, "endpoint": EU_ENDPOINT}))
    assert ins.kind is Kind.V2
    assert ins.endpoint == EU_ENDPOINT
    assert ins.expiry_source is ExpirySource.UNKNOWN
    assert inspect_text(json.dumps({"apiKey": key})).endpoint is None


def test_console_json_with_bare_inner_jwt_is_wrapped_as_v1() -> None:
    """A dumped GenerateApiToken response: raw JWT plus endpoint."""
    inner = v1_inner()
    text = json.dumps({"api_key": inner, "refresh_token": REFRESH, "endpoint": ENDPOINT, "valid_until": EXP})
    ins = inspect_text(text)
    assert ins.kind is Kind.V1
    assert ins.inner_jwt() == inner
    assert ins.secret == make_v1_key(inner, ENDPOINT)
    assert (ins.refresh_token, ins.expires_at) == (REFRESH, EXP)


def test_console_json_with_bare_inner_jwt_and_no_endpoint_is_refused() -> None:
    inner = v1_inner()
    with pytest.raises(KeyFormatError) as info:
        inspect_text(json.dumps({"apiKey": inner}))
    assert_clean_error(info.value, inner)
    assert "apiKey" in str(info.value)


# ---------------------------------------------------------------------------
# momento-cli credentials


def test_cli_credentials_mixed_profiles() -> None:
    good_v1, disposable, v2 = v1_key(), v1_key(exp=IAT + 3600, endpoint=EU_ENDPOINT), v2_key()
    text = "\n".join(
        [
            "# momento-cli credentials",
            "[default]",
            f"token={good_v1}",
            "",
            "[v2-profile]",
            f"api_key_v2 = {v2}",
            f"endpoint = {EU_ENDPOINT}",
            "",
            "[broken]",
            "token=definitely-not-a-key",
            "",
            "[empty]",
            "",
            "[bad-endpoint]",
            f"api_key_v2={v2}",
            "endpoint=https://example.com/a/path",
            "",
            "[disposable]",
            f"token={disposable}",
            "",
            "[v2-no-endpoint]",
            f"api_key_v2={v2}",
            "",
            "[DEFAULT]",
            f"token={good_v1}",
        ]
    )
    results = dict(parse_cli_credentials(text))
    assert list(results) == [
        "default",
        "v2-profile",
        "broken",
        "empty",
        "bad-endpoint",
        "disposable",
        "v2-no-endpoint",
        "DEFAULT",
    ]

    default = results["default"]
    assert isinstance(default, Inspection)
    assert (default.kind, default.secret, default.source) == (Kind.V1, good_v1, "momento_cli:default")

    v2_profile = results["v2-profile"]
    assert isinstance(v2_profile, Inspection)
    assert (v2_profile.kind, v2_profile.endpoint) == (Kind.V2, EU_ENDPOINT)
    assert v2_profile.source == "momento_cli:v2-profile"

    disposable_profile = results["disposable"]
    assert isinstance(disposable_profile, Inspection)
    assert (disposable_profile.kind, disposable_profile.expires_at) == (Kind.V1, IAT + 3600)

    no_endpoint = results["v2-no-endpoint"]
    assert isinstance(no_endpoint, Inspection) and no_endpoint.endpoint is None

    assert isinstance(results["DEFAULT"], Inspection)

    for name in ("broken", "empty", "bad-endpoint"):
        error = results[name]
        assert isinstance(error, KeyFormatError), name
        assert_clean_error(error, v2, "definitely-not-a-key")


def test_cli_credentials_continuation_lines_are_joined() -> None:
    key = v1_key()
    text = "[default]\ntoken=" + "\n    ".join(key[i : i + 50] for i in range(0, len(key), 50)) + "\n"
    [(name, ins)] = parse_cli_credentials(text)
    assert name == "default" and isinstance(ins, Inspection) and ins.secret == key


def test_cli_credentials_empty_file() -> None:
    assert parse_cli_credentials("") == []
    assert parse_cli_credentials("# nothing here\n") == []


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("token={key}\n", id="no-section-header"),
        pytest.param("[a]\ntoken={key}\n[a]\ntoken={key}\n", id="duplicate-section"),
        pytest.param("[a]\ntoken={key}\ntoken={key}\n", id="duplicate-option"),
        pytest.param("[a]\n{jwt}\n", id="line-without-equals"),
        pytest.param("[a\ntoken={key}\n", id="unclosed-header"),
    ],
)
def test_cli_credentials_malformed_file(text: str) -> None:
    key, jwt_key = v1_key(), v2_key()
    with pytest.raises(KeyFormatError) as info:
        parse_cli_credentials(text.format(key=key, jwt=jwt_key))
    assert_clean_error(info.value, key, jwt_key)


def test_cli_credentials_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert cli_credentials_path({"MOMENTO_CONFIG_DIR": str(tmp_path)}) == tmp_path / "credentials"
    assert cli_credentials_path({}) == Path.home() / ".momento" / "credentials"
    assert cli_credentials_path({"MOMENTO_CONFIG_DIR": ""}) == Path.home() / ".momento" / "credentials"
    monkeypatch.setenv("MOMENTO_CONFIG_DIR", str(tmp_path / "env"))
    assert cli_credentials_path() == tmp_path / "env" / "credentials"
    monkeypatch.delenv("MOMENTO_CONFIG_DIR")
    assert cli_credentials_path() == Path.home() / ".momento" / "credentials"


# ---------------------------------------------------------------------------
# Regions and endpoints


def test_public_regions_list() -> None:
    assert len(PUBLIC_REGIONS) == 11
    assert PUBLIC_REGIONS[0] == ("us-east-1", "cell-us-east-1-1.prod.a.momentohq.com")
    assert PUBLIC_REGIONS[2] == ("us-west-2", ENDPOINT)
    assert PUBLIC_REGIONS[-1] == ("ap-southeast-2", "cell-1-ap-southeast-2-1.prod.a.momentohq.com")
    assert len({region for region, _ in PUBLIC_REGIONS}) == 11


@pytest.mark.parametrize(("region", "host"), PUBLIC_REGIONS)
def test_every_public_region_maps_to_aws(region: str, host: str) -> None:
    assert region_of(host) == (region, "aws")
    assert normalise_endpoint(host) == host


@pytest.mark.parametrize(("region", "host"), PUBLIC_REGIONS)
def test_public_region_via_v2_key(region: str, host: str) -> None:
    ins = inspect_key(v2_key(), endpoint=host)
    assert (ins.region, ins.provider) == (region, "aws")


@pytest.mark.parametrize(
    ("host", "region"),
    [
        ("cell-us-east4-1.prod.a.momentohq.com", "us-east4"),
        ("cell-1-us-central1-1.prod.a.momentohq.com", "us-central1"),
        ("cell-europe-west1-2.prod.a.momentohq.com", "europe-west1"),
    ],
)
def test_gcp_regions(host: str, region: str) -> None:
    assert region_of(host) == (region, "gcp")


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        "localhost",
        "127.0.0.1",
        "cache.example.internal",
        "cell-acme-private-1.prod.a.momentohq.com",
        "cell-4-us-west-2-1.preprod.a.momentohq.com",
        "cell-4-us-west-2-1.prod.a.momentohq.com.evil.example",
        "not a host at all!",
        "https://example.com/path",
    ],
)
def test_unknown_hosts_have_no_region(host: str | None) -> None:
    assert region_of(host) == (None, None)


def test_region_of_tolerates_prefixes_and_case() -> None:
    assert region_of(f"https://control.{ENDPOINT.upper()}/") == ("us-west-2", "aws")


@pytest.mark.parametrize(
    "text",
    [
        ENDPOINT,
        f"  {ENDPOINT}\n",
        ENDPOINT.upper(),
        f"https://{ENDPOINT}",
        f"https://{ENDPOINT}/",
        f"grpc://{ENDPOINT}:443",
        f"{ENDPOINT}.",
        f"control.{ENDPOINT}",
        f"cache.{ENDPOINT}",
        f"token.{ENDPOINT}",
        f"api.cache.{ENDPOINT}",
        f"https://api.cache.{ENDPOINT}/",
    ],
)
def test_normalise_endpoint(text: str) -> None:
    assert normalise_endpoint(text) == ENDPOINT


def test_normalise_endpoint_keeps_other_hosts() -> None:
    assert normalise_endpoint("localhost") == "localhost"
    assert normalise_endpoint("momento.internal.example") == "momento.internal.example"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "https://", f"https://{ENDPOINT}/v1/cache", f"{ENDPOINT}:8443", "bad host.com",
     "a..b", "-leading.example", "user@host.example", "host.example?x=1", "höst.example", "x" * 300],
)
def test_normalise_endpoint_rejects(text: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        normalise_endpoint(text)
    assert_clean_error(info.value)


# ---------------------------------------------------------------------------
# fingerprint and mask


def test_fingerprint() -> None:
    key = v1_key()
    fp = fingerprint(key)
    assert re.fullmatch(r"sha256:[0-9a-f]{16}", fp)
    assert fp == fingerprint(key)
    assert fp != fingerprint(v2_key())
    assert key not in fp


def test_mask() -> None:
    key = v1_key()
    assert mask(key) == f"{key[:6]}…{key[-4:]}"
    assert mask("x" * 20) == "xxxxxx…xxxx"
    assert mask("x" * 19) == "••••••"
    assert mask("") == "••••••"
    assert inspect_key(key).masked == mask(key)


# ---------------------------------------------------------------------------
# Malformed input


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


MALFORMED_KEYS = [
    pytest.param("", id="empty"),
    pytest.param(" \n\t\r\n ", id="whitespace-only"),
    pytest.param("hello, this is not a key", id="random-text"),
    pytest.param("test", id="short-word-that-is-base64"),
    pytest.param(_b64(b"just some bytes, not JSON at all"), id="base64-non-json"),
    pytest.param(_b64(bytes(range(256))), id="base64-binary"),
    pytest.param(_b64(b'["endpoint", "api_key"]'), id="base64-json-array"),
    pytest.param(_b64(json.dumps({"endpoint": ENDPOINT}).encode()), id="base64-json-missing-api-key"),
    pytest.param(_b64(json.dumps({"api_key": v1_inner()}).encode()), id="base64-json-missing-endpoint"),
    pytest.param(_b64(json.dumps({"endpoint": ENDPOINT, "api_key": 12}).encode()), id="api-key-not-string"),
    pytest.param(_b64(json.dumps({"endpoint": ["x"], "api_key": v1_inner()}).encode()), id="endpoint-not-string"),
    pytest.param(wrap_v1("not-a-jwt-at-all-but-long-enough"), id="api-key-not-jwt"),
    pytest.param(wrap_v1(v1_inner(), endpoint="https://example.com/with/a/path"), id="v1-bad-endpoint"),
    pytest.param(v1_inner(), id="jwt-without-momento-claims"),
    pytest.param(sign({"sub": "someone", "t": "x"}), id="jwt-other-t"),
    pytest.param(v2_key()[:-30], id="truncated-jwt"),
    pytest.param(v2_key().rsplit(".", 1)[0], id="jwt-two-segments"),
    pytest.param(v1_key()[:-25], id="truncated-v1"),
    pytest.param(v1_key() + "Zm9v", id="v1-with-trailing-garbage"),
    pytest.param(v1_key() + v1_key(), id="two-keys-concatenated"),
    pytest.param(v1_key()[:40] + "\x00" + v1_key()[40:], id="embedded-nul"),
    pytest.param(v2_key()[:40] + "\x00" + v2_key()[40:], id="embedded-nul-v2"),
    pytest.param(v1_key()[:40] + "é" + v1_key()[40:], id="non-ascii"),
    pytest.param(bytes(range(256)).decode("latin-1"), id="binary-junk"),
    pytest.param("\x00" * 100, id="all-nul"),
    pytest.param("\udcff\ud800" + v2_key(), id="lone-surrogates"),
    pytest.param("A" * (MAX_INPUT_CHARS + 1), id="huge-input"),
    pytest.param("eyJ" * 5_000_000, id="very-huge-input"),
    pytest.param("Bearer " + v2_key(), id="bearer-prefix"),
    pytest.param("[" * 50_000, id="deep-brackets"),
    pytest.param(_b64(b"[" * 40_000), id="base64-deep-json"),
]


@pytest.mark.parametrize("text", MALFORMED_KEYS)
def test_malformed_keys_are_refused_cleanly(text: str) -> None:
    for function in (inspect_key, inspect_text):
        with pytest.raises(KeyFormatError) as info:
            function(text)
        assert_clean_error(info.value, text)


def test_empty_input_message() -> None:
    with pytest.raises(KeyFormatError, match=r"^no key given \(input was empty\)$"):
        inspect_text("  \n ")


def test_random_text_message_says_what_was_expected() -> None:
    with pytest.raises(KeyFormatError, match=r"^not a Momento API key: expected .*v1.*v2.*Download JSON"):
        inspect_text("hello, this is not a key")


def test_jwt_without_momento_claims_message() -> None:
    with pytest.raises(KeyFormatError, match=r"^a JWT, but not a Momento key"):
        inspect_key(v1_inner())


def test_huge_input_message() -> None:
    with pytest.raises(KeyFormatError, match="too long"):
        inspect_text("A" * (MAX_INPUT_CHARS + 1))


def test_non_string_input_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        inspect_text(b"bytes are not text")  # type: ignore[arg-type]


MALFORMED_JSON = [
    pytest.param('{"apiKey": "{key}", ', id="truncated"),
    pytest.param('{"apiKey": {key}}', id="unquoted-key"),
    pytest.param("{'apiKey': '{key}'}", id="single-quotes"),
    pytest.param('{"apiKey": "{key}", "refreshToken": "' + REFRESH + '",}', id="trailing-comma"),
    pytest.param('{"apiKey": "{key}\\x"}', id="bad-escape"),
    pytest.param('{"apiKey": "{key}", "validUntil": 1' + "0" * 5000 + "}", id="giant-integer"),
    pytest.param('{"apiKey": "{key}", "x": ' + "[" * 10_000 + "]" * 10_000 + "}", id="deep"),
    pytest.param("{" * 60_000, id="deep-braces"),
    pytest.param('{"refreshToken": "' + REFRESH + '", "validUntil": 1}', id="no-key-field"),
    pytest.param('{"apiKey": null, "token": "{key}"}', id="null-key-field"),
    pytest.param('{"apiKey": 42}', id="key-not-string"),
    pytest.param('{"apiKey": ["{key}"]}', id="key-is-list"),
    pytest.param('{"apiKey": "{key}", "refreshToken": 7}', id="refresh-not-string"),
    pytest.param('{"apiKey": "{key}", "validUntil": "soon"}', id="valid-until-soon"),
    pytest.param('{"apiKey": "{key}", "validUntil": true}', id="valid-until-bool"),
    pytest.param('{"apiKey": "{key}", "validUntil": -1}', id="valid-until-negative"),
    pytest.param('{"apiKey": "{key}", "validUntil": "-5"}', id="valid-until-negative-string"),
    pytest.param('{"apiKey": "{key}", "validUntil": 1e300}', id="valid-until-huge"),
    pytest.param('{"apiKey": "{key}", "validUntil": NaN}', id="valid-until-nan"),
    pytest.param('{"apiKey": "{key}", "validUntil": Infinity}', id="valid-until-inf"),
    pytest.param('{"apiKey": "{key}", "validUntil": [1]}', id="valid-until-list"),
    pytest.param('{"apiKey": "{key}", "validUntil": "' + "9" * 5000 + '"}', id="valid-until-giant-string"),
    pytest.param('{"apiKey": "{key}", "endpoint": "https://example.com/a/path"}', id="bad-endpoint"),
    pytest.param('{"apiKey": "{key}", "endpoint": 3}', id="endpoint-not-string"),
    pytest.param('{"apiKey": "not a key at all, sorry"}', id="key-not-a-key"),
    pytest.param('{"apiKey": ""}', id="key-empty"),
]


@pytest.mark.parametrize("template", MALFORMED_JSON)
def test_malformed_console_json(template: str) -> None:
    key = v1_key()
    text = template.replace("{key}", key)
    with pytest.raises(KeyFormatError) as info:
        inspect_text(text)
    assert_clean_error(info.value, key, REFRESH)


def test_broken_json_message_gives_position_only() -> None:
    key = v1_key()
    with pytest.raises(KeyFormatError) as info:
        inspect_text('{\n  "apiKey": "' + key + '",\n  "refreshToken": oops\n}')
    assert str(info.value) == "the file is JSON but could not be parsed: line 3 column 19"


def test_json_without_key_field_names_the_accepted_fields() -> None:
    with pytest.raises(KeyFormatError) as info:
        inspect_text(json.dumps({"refreshToken": REFRESH}))
    for name in ("apiKey", "authToken", "api_key"):
        assert name in str(info.value)


def test_valid_until_soon_message() -> None:
    with pytest.raises(KeyFormatError, match=r"^the JSON field validUntil must be epoch seconds"):
        inspect_text(json.dumps({"apiKey": v1_key(), "validUntil": "soon"}))


# ---------------------------------------------------------------------------
# No secret in repr


def test_repr_hides_secret_and_refresh_token() -> None:
    inner = v1_inner()
    key = wrap_v1(inner)
    ins = inspect_text(json.dumps({"apiKey": key, "refreshToken": REFRESH, "validUntil": EXP}))
    for text in (repr(ins), str(ins)):
        assert key not in text
        assert key[:24] not in text
        assert inner not in text
        assert inner.split(".")[2] not in text  # the signature
        assert REFRESH not in text
        assert "CgQKAggBEgA=" not in text  # the permission blob 'p'
        assert ins.fingerprint in text


@pytest.mark.parametrize("make", [v1_key, v2_key, legacy_key], ids=["v1", "v2", "legacy"])
def test_repr_hides_secret_for_every_kind(make: Any) -> None:
    key = make()
    assert key not in repr(inspect_key(key, endpoint=ENDPOINT))


def test_inspection_is_frozen() -> None:
    ins = inspect_key(v1_key())
    with pytest.raises(dataclasses.FrozenInstanceError):
        ins.secret = "other"  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Properties


def _check_outcome(text: str) -> None:
    try:
        result = inspect_text(text)
    except KeyFormatError as exc:
        message = str(exc)
        assert message and "\n" not in message and "\r" not in message
        stripped = text.strip()
        if len(stripped) >= 16:
            assert stripped not in message
    else:
        assert isinstance(result, Inspection)
        assert result.secret not in repr(result)


@given(st.text(max_size=400))
def test_inspect_text_arbitrary_text(text: str) -> None:
    _check_outcome(text)


@given(st.binary(max_size=300))
def test_inspect_text_arbitrary_bytes_as_text(data: bytes) -> None:
    _check_outcome(data.decode("latin-1"))
    _check_outcome(data.decode("utf-8", "replace"))
    _check_outcome(_b64(data))


KEYS = [v1_key(), v1_key(exp=None), v2_key(), legacy_key(), v1_inner()]
_json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30), st.sampled_from(KEYS)
)
_json_values = st.recursive(
    _json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_field_names = st.sampled_from(
    ["apiKey", "authToken", "api_key", "refreshToken", "refresh_token", "validUntil", "valid_until", "endpoint", "x"]
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_field_names, _json_values, max_size=6))
def test_inspect_text_arbitrary_console_json(document: dict[str, Any]) -> None:
    _check_outcome(json.dumps(document))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["endpoint", "api_key", "x"]), _json_values, max_size=3))
def test_inspect_text_arbitrary_base64_json(document: dict[str, Any]) -> None:
    _check_outcome(_b64(json.dumps(document).encode()))


@given(
    st.sampled_from(KEYS),
    st.integers(min_value=0, max_value=2000),
    st.integers(min_value=0, max_value=5),
    st.text(max_size=4),
)
def test_inspect_text_mutated_keys(key: str, position: int, delete: int, insert: str) -> None:
    position %= len(key)
    _check_outcome(key[:position] + insert + key[position + delete :])


@given(st.text(max_size=300))
def test_parse_cli_credentials_arbitrary_text(text: str) -> None:
    try:
        results = parse_cli_credentials(text)
    except KeyFormatError as exc:
        assert "\n" not in str(exc)
    else:
        for _name, outcome in results:
            assert isinstance(outcome, (Inspection, KeyFormatError))
