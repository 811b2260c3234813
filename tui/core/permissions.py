"""The permission model of a fine-grained Momento key.

A fine-grained key (momento-facts.md §3, §4) carries 1 to 10 *grants*. A grant
gives one role either on caches or on topics:

* a cache grant names one cache, or ``"*"`` for all caches (including caches
  made later), and one of :data:`CACHE_ROLES`;
* a topic grant names a cache (or ``"*"``) and a topic in it (or ``"*"`` for
  all topics), and one of :data:`TOPIC_ROLES`.

A super-user key has no grants at all; callers represent it with ``None``
rather than with an empty list, which is never a valid set of grants.

This module is pure Python (no gRPC, no Momento SDK): the wizard, the CLI and
the store use it, and ``tui.services.momento`` turns grants into protobuf
messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "ALL",
    "ALL_DATA_READ_WRITE",
    "CACHE_ROLES",
    "MAX_GRANTS",
    "MAX_NAME_LENGTH",
    "TOPIC_ROLES",
    "Grant",
    "GrantKind",
    "PermissionSpecError",
    "describe",
    "describe_all",
    "from_json",
    "parse_cache_arg",
    "parse_topic_arg",
    "to_json",
    "validate_grant",
    "validate_grants",
    "validate_name",
]

GrantKind = Literal["cache", "topic"]

ALL: Final = "*"
"""Selector meaning "all caches" (including future ones) or "all topics"."""

CACHE_ROLES: Final = ("readwrite", "readonly", "writeonly")
TOPIC_ROLES: Final = ("publishsubscribe", "subscribeonly", "publishonly")
MAX_GRANTS: Final = 10
MAX_NAME_LENGTH: Final = 255

_ROLE_WORDS: Final[Mapping[str, str]] = {
    "readwrite": "read-write",
    "readonly": "read-only",
    "writeonly": "write-only",
    "publishsubscribe": "publish and subscribe",
    "subscribeonly": "subscribe only",
    "publishonly": "publish only",
}


class PermissionSpecError(ValueError):
    """A grant, a CLI permission argument or stored permission JSON is invalid.

    The message is one line, written for the person who typed the value.
    """


@dataclass(frozen=True, slots=True)
class Grant:
    """One permission row of a fine-grained key.

    ``cache`` is a cache name or ``"*"``; ``topic`` is a topic name or ``"*"``
    for topic grants and ``None`` for cache grants. Construction does not
    validate (the wizard builds grants field by field); call
    :func:`validate_grant` or :func:`validate_grants`.
    """

    kind: GrantKind
    cache: str
    topic: str | None
    role: str

    @classmethod
    def for_cache(cls, cache: str, role: str) -> Grant:
        """A cache grant (``cache`` may be ``"*"``)."""
        return cls("cache", cache, None, role)

    @classmethod
    def for_topic(cls, cache: str, topic: str, role: str) -> Grant:
        """A topic grant (``cache`` and ``topic`` may be ``"*"``)."""
        return cls("topic", cache, topic, role)

    @property
    def all_caches(self) -> bool:
        return self.cache == ALL

    @property
    def all_topics(self) -> bool:
        return self.kind == "topic" and self.topic == ALL


ALL_DATA_READ_WRITE: Final[list[Grant]] = [
    Grant("cache", ALL, None, "readwrite"),
    Grant("topic", ALL, ALL, "publishsubscribe"),
]
"""The console's quick choice: every data operation on every cache and topic.

Shared: copy it (``list(ALL_DATA_READ_WRITE)``) before changing it.
"""


# --- validation -------------------------------------------------------------


def validate_name(name: str, what: str = "cache name", *, allow_all: bool = False) -> str:
    """Check a cache or topic name and return it.

    Momento does not publish a full grammar for names, so this applies a safe
    rule that every real name we know of satisfies: 1 to 255 characters,
    printable ASCII only, no spaces and no ``/`` (which the CLI uses to
    separate cache and topic). ``"*"`` means "all" and is accepted only with
    ``allow_all=True``. ``what`` ("cache name", "topic name") is used in the
    error message.
    """
    if not isinstance(name, str):
        raise PermissionSpecError(f"The {what} must be text, not {type(name).__name__}.")
    if name == ALL:
        if allow_all:
            return name
        raise PermissionSpecError(f"'*' means all; it cannot be used as a {what}.")
    if not name:
        raise PermissionSpecError(f"The {what} is empty: type one" + (", or * for all." if allow_all else "."))
    if len(name) > MAX_NAME_LENGTH:
        raise PermissionSpecError(
            f"The {what} is {len(name)} characters long; at most {MAX_NAME_LENGTH} are allowed."
        )
    for char in name:
        if char == "/":
            raise PermissionSpecError(f"The {what} {name!r} contains '/', which is not allowed.")
        if char.isspace():
            raise PermissionSpecError(
                f"The {what} {name!r} contains whitespace; "
                "use letters, digits and punctuation only."
            )
        if not (0x21 <= ord(char) <= 0x7E):
            raise PermissionSpecError(
                f"The {what} {name!r} contains {char!r}; "
                "only printable ASCII characters are allowed."
            )
    return name


def validate_grant(grant: Grant) -> Grant:
    """Check one grant (kind, names, role) and return it."""
    if not isinstance(grant, Grant):
        raise PermissionSpecError(f"Expected a Grant, got {type(grant).__name__}.")
    if grant.kind == "cache":
        validate_name(grant.cache, "cache name", allow_all=True)
        if grant.topic is not None:
            raise PermissionSpecError("A cache permission cannot name a topic.")
        if grant.role not in CACHE_ROLES:
            raise PermissionSpecError(
                f"Unknown cache role {grant.role!r}; use one of {', '.join(CACHE_ROLES)}."
            )
    elif grant.kind == "topic":
        validate_name(grant.cache, "cache name", allow_all=True)
        if grant.topic is None:
            raise PermissionSpecError("A topic permission needs a topic name or '*'.")
        validate_name(grant.topic, "topic name", allow_all=True)
        if grant.role not in TOPIC_ROLES:
            raise PermissionSpecError(
                f"Unknown topic role {grant.role!r}; use one of {', '.join(TOPIC_ROLES)}."
            )
    else:
        raise PermissionSpecError(
            f"Unknown permission type {grant.kind!r}; use 'cache' or 'topic'."
        )
    return grant


def validate_grants(grants: Iterable[Grant]) -> list[Grant]:
    """Check a whole set of grants and return it as a list.

    A fine-grained key needs 1 to :data:`MAX_GRANTS` grants, each valid; no grant
    may appear twice, and no two grants may give different roles on the same cache
    (or the same topic of the same cache): Momento refuses such a set with
    INVALID_ARGUMENT (momento-facts.md §8), so it is refused here, before sending.
    """
    result = list(grants)
    if not result:
        raise PermissionSpecError("A fine-grained key needs at least one permission.")
    if len(result) > MAX_GRANTS:
        raise PermissionSpecError(
            f"{len(result)} permissions given; a key can have at most {MAX_GRANTS}."
        )
    seen: set[Grant] = set()
    targets: dict[tuple[str, str, str | None], Grant] = {}
    for grant in result:
        validate_grant(grant)
        if grant in seen:
            raise PermissionSpecError(f"The permission '{describe(grant)}' is listed twice.")
        seen.add(grant)
        target = (grant.kind, grant.cache, grant.topic)
        other = targets.get(target)
        if other is not None:
            raise PermissionSpecError(
                f"Two roles on the same {grant.kind}: {describe(other)}, and {describe(grant)}. "
                "Momento refuses that (INVALID_ARGUMENT); keep one of them."
            )
        targets[target] = grant
    return result


# --- CLI arguments ------------------------------------------------------------


def _split_role(arg: str, form: str) -> tuple[str, str]:
    target, sep, role = arg.strip().rpartition("=")
    target = target.strip()
    if not sep or not target:
        raise PermissionSpecError(f"Expected {form}, got {arg!r}.")
    return target, role.strip().lower()


def parse_cache_arg(arg: str) -> Grant:
    """Parse ``NAME=ROLE`` (e.g. ``prod=readonly`` or ``*=readwrite``)."""
    target, role = _split_role(arg, "CACHE=ROLE (e.g. prod=readwrite or '*=readonly')")
    grant = Grant("cache", target, None, role)
    return validate_grant(grant)


def parse_topic_arg(arg: str) -> Grant:
    """Parse ``CACHE/TOPIC=ROLE`` (e.g. ``prod/orders=publishonly``, ``*/*=subscribeonly``)."""
    form = "CACHE/TOPIC=ROLE (e.g. prod/orders=publishsubscribe or '*/*=subscribeonly')"
    target, role = _split_role(arg, form)
    cache, slash, topic = (part.strip() for part in target.partition("/"))
    if not slash or not cache or not topic:
        raise PermissionSpecError(f"Expected {form}, got {arg!r}.")
    return validate_grant(Grant("topic", cache, topic, role))


# --- words ----------------------------------------------------------------------


def _cache_words(cache: str) -> str:
    return "all caches (includes future caches)" if cache == ALL else f"cache {cache!r}"


def describe(grant: Grant) -> str:
    """The grant in words, e.g. "read-only on cache 'prod'"."""
    role = _ROLE_WORDS.get(grant.role, grant.role)
    if grant.kind == "cache":
        return f"{role} on {_cache_words(grant.cache)}"
    topic = "all topics" if grant.topic == ALL else f"topic {grant.topic!r}"
    return f"{role} on {topic} in {_cache_words(grant.cache)}"


def describe_all(grants: Sequence[Grant] | None) -> str:
    """A one-line summary of a key's permissions (``None`` = super user)."""
    if grants is None:
        return "super user (everything, including cache and key management)"
    if list(grants) == ALL_DATA_READ_WRITE:
        return "all data, read-write (every cache and topic, including future ones)"
    return "; ".join(describe(g) for g in grants)


# --- JSON (SQLite) ------------------------------------------------------------------


def to_json(grants: Iterable[Grant]) -> list[dict[str, Any]]:
    """Grants as plain JSON objects with a fixed key order.

    ``{"kind": "cache", "cache": "prod", "topic": null, "role": "readonly"}``;
    the order of the grants is kept (it is the order the user chose).
    """
    return [{"kind": g.kind, "cache": g.cache, "topic": g.topic, "role": g.role} for g in grants]


def from_json(data: Iterable[Mapping[str, Any]]) -> list[Grant]:
    """The inverse of :func:`to_json`; every grant is validated.

    Does not apply :func:`validate_grants` (a stored record is shown as it
    is, even if it would not be accepted for a new key).
    """
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise PermissionSpecError("Stored permissions must be a list of objects.")
    grants: list[Grant] = []
    for index, item in enumerate(data):
        if not isinstance(item, Mapping):
            raise PermissionSpecError(f"Stored permission #{index + 1} is not an object.")
        kind, cache, topic, role = (item.get(k) for k in ("kind", "cache", "topic", "role"))
        if kind not in ("cache", "topic"):
            raise PermissionSpecError(f"Stored permission #{index + 1} has unknown kind {kind!r}.")
        if not isinstance(cache, str) or not isinstance(role, str):
            raise PermissionSpecError(f"Stored permission #{index + 1} lacks a cache or role.")
        if topic is not None and not isinstance(topic, str):
            raise PermissionSpecError(f"Stored permission #{index + 1} has a non-text topic.")
        grants.append(validate_grant(Grant(kind, cache, topic, role)))
    return grants
