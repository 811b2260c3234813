"""The new key's default name, derived from what it grants (``orders-readonly``), never one a
tracked key already has. Pure Python."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...core.limits import NAME_MAX_CHARS
from ...core.permissions import ALL, ALL_DATA_READ_WRITE, Grant
from ...core.text import slug

# The roles, in a word each (the grant's own role names are long for a key name).
ROLE_WORDS = {"readwrite": "readwrite", "readonly": "readonly", "writeonly": "writeonly",
              "publishsubscribe": "pubsub", "subscribeonly": "subscribe", "publishonly": "publish"}


def _target(name: str | None) -> str:
    return "all" if name in (None, ALL) else slug(name)


def grant_words(grant: Grant) -> str:
    """``orders-readonly``, ``all-caches-readwrite``, ``orders-events-subscribe``."""
    role = ROLE_WORDS.get(grant.role, slug(grant.role))
    if grant.kind == "cache":
        where = "all-caches" if grant.cache == ALL else _target(grant.cache)
    else:
        topic = "all-topics" if grant.topic == ALL else _target(grant.topic)
        where = topic if grant.cache == ALL else f"{_target(grant.cache)}-{topic}"
    return f"{where}-{role}"


def base_name(grants: Sequence[Grant], *, token: bool = False) -> str:
    """What the grants allow, as a name: the first two grants, and how many more."""
    if list(grants) == ALL_DATA_READ_WRITE:
        words = "all-data-readwrite"
    elif not grants:
        words = "key"
    else:
        words = "-".join(grant_words(g) for g in grants[:2])
        if len(grants) > 2:
            words += f"-and-{len(grants) - 2}-more"
    return f"{words}-token" if token else words


def v2_base_name(role_name: str | None, description: str) -> str:
    """A v2 key's name: its description (``orders api``), else its role (``viewer-key``)."""
    if description.strip():
        return slug(description)
    return f"{slug(role_name or 'v2')}-key"


def unique(base: str, taken: Callable[[str], bool]) -> str:
    """``base``, or ``base-2``, ``base-3``… the first no tracked key has."""
    base = (base.strip("-") or "key")[:NAME_MAX_CHARS - 4]
    name, n = base, 2
    while taken(name) and n < 1000:
        name, n = f"{base}-{n}", n + 1
    return name
