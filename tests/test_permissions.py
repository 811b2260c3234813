"""The permission model: CLI parsing, validation, words and stored JSON."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.core.permissions import (
    ALL_DATA_READ_WRITE,
    CACHE_ROLES,
    MAX_GRANTS,
    TOPIC_ROLES,
    Grant,
    PermissionSpecError,
    describe,
    describe_all,
    from_json,
    parse_cache_arg,
    parse_topic_arg,
    to_json,
    validate_grant,
    validate_grants,
    validate_name,
)

# --- CLI arguments ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("prod=readwrite", Grant("cache", "prod", None, "readwrite")),
        ("*=readonly", Grant("cache", "*", None, "readonly")),
        ("  my-cache = WriteOnly \n", Grant("cache", "my-cache", None, "writeonly")),
        ("a=b=readonly", Grant("cache", "a=b", None, "readonly")),
    ],
)
def test_parse_cache_arg(arg: str, expected: Grant) -> None:
    assert parse_cache_arg(arg) == expected


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("prod/orders=publishsubscribe", Grant("topic", "prod", "orders", "publishsubscribe")),
        ("*/*=subscribeonly", Grant("topic", "*", "*", "subscribeonly")),
        ("prod/*=publishonly", Grant("topic", "prod", "*", "publishonly")),
        ("*/orders=PUBLISHONLY", Grant("topic", "*", "orders", "publishonly")),
    ],
)
def test_parse_topic_arg(arg: str, expected: Grant) -> None:
    assert parse_topic_arg(arg) == expected


@pytest.mark.parametrize(
    ("arg", "fragment"),
    [
        ("prod", "Expected CACHE=ROLE"),
        ("=readwrite", "Expected CACHE=ROLE"),
        ("prod=admin", "Unknown cache role 'admin'"),
        ("prod=publishsubscribe", "Unknown cache role"),
        ("my cache=readonly", "whitespace"),
        ("prod/x=readonly", "'/'"),
        ("café=readonly", "printable ASCII"),
        ("", "Expected CACHE=ROLE"),
    ],
)
def test_parse_cache_arg_errors(arg: str, fragment: str) -> None:
    with pytest.raises(PermissionSpecError) as info:
        parse_cache_arg(arg)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("arg", "fragment"),
    [
        ("prod=publishonly", "Expected CACHE/TOPIC=ROLE"),
        ("prod/=publishonly", "Expected CACHE/TOPIC=ROLE"),
        ("/orders=publishonly", "Expected CACHE/TOPIC=ROLE"),
        ("prod/orders=readwrite", "publishsubscribe, subscribeonly, publishonly"),
        ("prod/a/b=publishonly", "'/'"),
        ("prod/orders", "Expected CACHE/TOPIC=ROLE"),
    ],
)
def test_parse_topic_arg_errors(arg: str, fragment: str) -> None:
    with pytest.raises(PermissionSpecError) as info:
        parse_topic_arg(arg)
    assert fragment in str(info.value)


def test_permission_spec_error_is_a_value_error() -> None:
    assert issubclass(PermissionSpecError, ValueError)


# --- names ---------------------------------------------------------------------------


def test_validate_name_accepts_common_names() -> None:
    for name in ("prod", "my-cache_1", "orders.v2", "A" * 255, "x", "a=b", "*star*"):
        assert validate_name(name, "cache name") == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "is empty"),
        ("A" * 256, "256 characters long; at most 255"),
        ("two words", "whitespace"),
        ("tab\there", "whitespace"),
        ("a/b", "'/'"),
        ("naïve", "printable ASCII"),
        ("bell\x07", "printable ASCII"),
        ("*", "'*' means all"),
    ],
)
def test_validate_name_errors(name: str, fragment: str) -> None:
    with pytest.raises(PermissionSpecError) as info:
        validate_name(name, "topic name")
    assert fragment in str(info.value)
    assert "topic name" in str(info.value)


def test_validate_name_wildcard_only_when_allowed() -> None:
    assert validate_name("*", "cache name", allow_all=True) == "*"


def test_validate_name_rejects_non_text() -> None:
    with pytest.raises(PermissionSpecError, match="must be text"):
        validate_name(42, "cache name")  # type: ignore[arg-type]


# --- grants ----------------------------------------------------------------------------


def test_all_data_read_write_is_the_console_quick_choice() -> None:
    assert [
        Grant("cache", "*", None, "readwrite"),
        Grant("topic", "*", "*", "publishsubscribe"),
    ] == ALL_DATA_READ_WRITE
    assert validate_grants(ALL_DATA_READ_WRITE) == ALL_DATA_READ_WRITE


def test_constructors() -> None:
    assert Grant.for_cache("prod", "readonly") == Grant("cache", "prod", None, "readonly")
    assert Grant.for_topic("*", "t", "publishonly") == Grant("topic", "*", "t", "publishonly")
    assert Grant.for_cache("*", "readonly").all_caches
    assert Grant.for_topic("c", "*", "publishonly").all_topics
    assert not Grant.for_cache("c", "readonly").all_topics


def test_validate_grants_counts() -> None:
    with pytest.raises(PermissionSpecError, match="at least one"):
        validate_grants([])
    many = [Grant.for_cache(f"c{i}", "readonly") for i in range(MAX_GRANTS)]
    assert validate_grants(many) == many
    with pytest.raises(
        PermissionSpecError, match="11 permissions given; a key can have at most 10"
    ):
        validate_grants([*many, Grant.for_cache("extra", "readonly")])


def test_validate_grants_duplicates() -> None:
    grant = Grant.for_topic("prod", "orders", "publishonly")
    with pytest.raises(PermissionSpecError, match="listed twice"):
        validate_grants([grant, Grant.for_cache("x", "readonly"), grant])
    # Same target, different roles: Momento refuses them (INVALID_ARGUMENT), so they are
    # refused here, before sending, with a message naming both.
    with pytest.raises(PermissionSpecError, match=r"Two roles on the same cache: read-only on cache 'x', and "
                                                  r"write-only on cache 'x'.*refuses"):
        validate_grants([Grant.for_cache("x", "readonly"), Grant.for_cache("x", "writeonly")])
    with pytest.raises(PermissionSpecError, match="Two roles on the same topic"):
        validate_grants([Grant.for_topic("c", "t", "publishonly"), Grant.for_topic("c", "t", "subscribeonly")])
    with pytest.raises(PermissionSpecError, match="Two roles on the same cache"):
        validate_grants([Grant.for_cache("*", "readonly"), Grant.for_cache("*", "readwrite")])
    # Different targets (another cache, another topic, a cache and a topic in it) are fine.
    validate_grants([Grant.for_cache("x", "readonly"), Grant.for_cache("y", "writeonly"),
                     Grant.for_topic("x", "t", "publishonly"), Grant.for_topic("x", "u", "subscribeonly"),
                     Grant.for_topic("*", "t", "publishsubscribe")])


@pytest.mark.parametrize(
    ("grant", "fragment"),
    [
        (Grant("cache", "prod", "orders", "readwrite"), "cannot name a topic"),
        (Grant("topic", "prod", None, "publishonly"), "needs a topic"),
        (Grant("topic", "prod", "t", "readonly"), "Unknown topic role"),
        (Grant("cache", "prod", None, "publishonly"), "Unknown cache role"),
        (Grant("queue", "prod", None, "readwrite"), "Unknown permission type"),  # type: ignore[arg-type]
        (Grant("cache", "", None, "readwrite"), "cache name is empty"),
        (Grant("topic", "prod", "a b", "publishonly"), "topic name"),
    ],
)
def test_validate_grant_errors(grant: Grant, fragment: str) -> None:
    with pytest.raises(PermissionSpecError) as info:
        validate_grant(grant)
    assert fragment in str(info.value)


def test_grants_are_immutable_and_hashable() -> None:
    grant = Grant.for_cache("prod", "readonly")
    with pytest.raises(AttributeError):
        grant.role = "readwrite"  # type: ignore[misc]
    assert len({grant, Grant.for_cache("prod", "readonly")}) == 1


# --- words -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grant", "words"),
    [
        (Grant.for_cache("*", "readwrite"), "read-write on all caches (includes future caches)"),
        (Grant.for_cache("prod", "readonly"), "read-only on cache 'prod'"),
        (Grant.for_cache("prod", "writeonly"), "write-only on cache 'prod'"),
        (
            Grant.for_topic("prod", "orders", "publishsubscribe"),
            "publish and subscribe on topic 'orders' in cache 'prod'",
        ),
        (
            Grant.for_topic("*", "*", "subscribeonly"),
            "subscribe only on all topics in all caches (includes future caches)",
        ),
        (Grant.for_topic("prod", "*", "publishonly"), "publish only on all topics in cache 'prod'"),
    ],
)
def test_describe(grant: Grant, words: str) -> None:
    assert describe(grant) == words


def test_describe_all() -> None:
    assert describe_all(None).startswith("super user")
    assert describe_all(ALL_DATA_READ_WRITE).startswith("all data, read-write")
    assert describe_all([Grant.for_cache("a", "readonly"), Grant.for_cache("b", "writeonly")]) == (
        "read-only on cache 'a'; write-only on cache 'b'"
    )


# --- JSON ------------------------------------------------------------------------------------


def test_json_round_trip_is_stable() -> None:
    grants = [Grant.for_cache("prod", "readonly"), Grant.for_topic("*", "orders", "publishonly")]
    data = to_json(grants)
    assert data == [
        {"kind": "cache", "cache": "prod", "topic": None, "role": "readonly"},
        {"kind": "topic", "cache": "*", "topic": "orders", "role": "publishonly"},
    ]
    text = json.dumps(data)
    assert text == json.dumps(to_json(from_json(json.loads(text))))
    assert from_json(json.loads(text)) == grants


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("not a list", "must be a list"),
        (42, "must be a list"),
        ([1], "#1 is not an object"),
        ([{"kind": "function", "cache": "a", "role": "x"}], "unknown kind"),
        ([{"kind": "cache", "role": "readonly"}], "lacks a cache or role"),
        ([{"kind": "topic", "cache": "a", "topic": 5, "role": "publishonly"}], "non-text topic"),
        ([{"kind": "cache", "cache": "a", "topic": None, "role": "owner"}], "Unknown cache role"),
    ],
)
def test_from_json_errors(data: object, fragment: str) -> None:
    with pytest.raises(PermissionSpecError) as info:
        from_json(data)  # type: ignore[arg-type]
    assert fragment in str(info.value)


# --- properties ------------------------------------------------------------------------------

_NAME_ALPHABET = "".join(c for c in string.printable if c not in string.whitespace and c != "/")
names = st.text(alphabet=_NAME_ALPHABET, min_size=1, max_size=255).filter(lambda n: n != "*")
selectors = st.one_of(st.just("*"), names)
cache_grants = st.builds(Grant.for_cache, selectors, st.sampled_from(CACHE_ROLES))
topic_grants = st.builds(Grant.for_topic, selectors, selectors, st.sampled_from(TOPIC_ROLES))
grant_sets = st.lists(
    st.one_of(cache_grants, topic_grants), min_size=1, max_size=MAX_GRANTS,
    unique_by=lambda g: (g.kind, g.cache, g.topic),  # one role per target: Momento refuses two
)


@given(selectors, st.sampled_from(CACHE_ROLES))
def test_cache_arg_round_trip(name: str, role: str) -> None:
    assert parse_cache_arg(f"{name}={role}") == Grant("cache", name, None, role)


@given(selectors, selectors, st.sampled_from(TOPIC_ROLES))
def test_topic_arg_round_trip(cache: str, topic: str, role: str) -> None:
    assert parse_topic_arg(f"{cache}/{topic}={role}") == Grant("topic", cache, topic, role)


@given(grant_sets)
def test_valid_grant_sets_survive_json(grants: list[Grant]) -> None:
    assert validate_grants(grants) == grants
    assert from_json(json.loads(json.dumps(to_json(grants)))) == grants
    for grant in grants:
        assert describe(grant)


@given(st.text(max_size=300))
def test_validate_name_matches_the_rule(text: str) -> None:
    expected = (
        0 < len(text) <= 255
        and text != "*"
        and all(0x21 <= ord(c) <= 0x7E and c != "/" for c in text)
    )
    try:
        validate_name(text, "cache name")
    except PermissionSpecError as error:
        assert not expected
        assert "\n" not in str(error)
    else:
        assert expected
