"""Roles of v2 API keys (momento-facts.md §7): what a role is, a one-line summary of
its rules, the order a picker shows them in, and finding one by id or name. Pure.

The rule shapes are documented only loosely ("unlisted" docs): a rule names its type
(``cache``, ``topic``, ``auth_management``...), its actions (read, write, list,
invoke) and its selectors (``"*"``, ``{"name": ...}``, ``{"prefix": ...}``,
``{"key": ...}``, ``{"key_prefix": ...}``). The summary reads the spellings seen
(``{"type": "cache", "actions": [...], "caches": ...}`` or ``{"cache": {...}}``)
and falls back to the rule's type alone: a summary is for reading, never for
deciding access.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .text import terminal_safe

SYSTEM_ORDER = ("owner", "operator", "viewer")  # Momento's system roles, most powerful first

# Rule types, in the order a summary lists them, and the short word it uses.
_RULE_WORDS = {
    "account_management": "account",
    "auth_management": "auth",
    "resource_management": "resources",
    "cache": "caches",
    "topic": "topics",
    "store": "stores",
    "database": "databases",
    "function": "functions",
}
# Where a rule's selectors are, by field name, in the order they read best.
_SELECTOR_FIELDS = ("caches", "topics", "stores", "databases", "functions", "resources", "items")
_PRIMARY = {"cache": "caches", "topic": "topics", "store": "stores", "database": "databases", "function": "functions",
            "resource_management": "resources", "auth_management": "items"}
_ACTION_FIELDS = ("actions", "permissions", "operations", "access", "verbs")
_TYPE_FIELDS = ("type", "rule_type", "resource_type", "kind")
_ACTION_ORDER = ("read", "write", "list", "invoke")


@dataclass(frozen=True)
class Role:
    """A role as ``GET /roles`` describes it."""

    role_id: str
    role_name: str
    role_type: str                      # "system" or "custom"
    description: str = ""
    permissions: Mapping[str, Any] = field(default_factory=dict)  # {"rules": [...], "conditions"?: [...]}

    @property
    def system(self) -> bool:
        return self.role_type == "system"

    @property
    def rules(self) -> list[Any]:
        rules = self.permissions.get("rules") if isinstance(self.permissions, Mapping) else None
        return list(rules) if isinstance(rules, list) else []

    def summary(self) -> str:
        return summarize(self)


def ordered(roles: Iterable[Role]) -> list[Role]:
    """System roles first (Owner, Operator, Viewer, then any other system role by name),
    then custom roles by name."""

    def key(role: Role) -> tuple:
        name = role.role_name.casefold()
        if role.system:
            rank = SYSTEM_ORDER.index(name) if name in SYSTEM_ORDER else len(SYSTEM_ORDER)
            return (0, rank, name, role.role_id)
        return (1, 0, name, role.role_id)

    return sorted(roles, key=key)


class RoleLookupError(LookupError):
    """No role, or more than one, answers to what was asked; the message says which."""


def find(roles: Iterable[Role], wanted: str) -> Role:
    """The role whose id is ``wanted`` exactly, else whose name is ``wanted`` ignoring case
    (and surrounding spaces). Raises ``RoleLookupError`` naming the choices when there is
    none, or when a name is shared by several roles (use the id then)."""
    roles = list(roles)
    text = wanted.strip()
    for role in roles:
        if role.role_id == text:
            return role
    # Names are read as text to show (terminal-safe): what is typed is compared the same way.
    folded = terminal_safe(text).strip().casefold()
    matches = [r for r in roles if terminal_safe(r.role_name).strip().casefold() == folded]
    if len(matches) == 1:
        return matches[0]
    if matches:
        ids = ", ".join(r.role_id for r in matches)
        raise RoleLookupError(f"{len(matches)} roles are named {text!r}; give its id instead ({ids})")
    names = ", ".join(r.role_name for r in ordered(roles)) or "none"
    shown = text if len(text) <= 60 else text[:57] + "..."
    raise RoleLookupError(f"no role has the id or name {shown!r}; the account's roles: {names}")


def summarize(role: Role, *, limit: int = 160) -> str:
    """One line for a role's rules: "caches: read, write on *; topics: read on orders/*; auth: read, write".

    Rules of the same type and actions are joined; conditions (IP filters) are named at
    the end. An empty rule list says so.
    """
    parts: list[str] = []
    for rule in role.rules:
        text = _rule_text(rule)
        if text and text not in parts:
            parts.append(text)
    conditions = role.permissions.get("conditions") if isinstance(role.permissions, Mapping) else None
    if isinstance(conditions, list) and conditions:
        parts.append(_conditions_text(conditions))
    line = "; ".join(parts) if parts else "no rules"
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _rule_text(rule: Any) -> str:
    if not isinstance(rule, Mapping):
        return ""
    kind = next((str(rule[f]) for f in _TYPE_FIELDS if isinstance(rule.get(f), str)), None)
    body: Mapping[str, Any] = rule
    if kind is None and len(rule) == 1:
        # {"cache": {...}}: the type is the only key.
        (only, inner), = rule.items()
        kind = str(only)
        body = inner if isinstance(inner, Mapping) else {}
    if kind is None:
        return ""
    word = _RULE_WORDS.get(kind, kind.replace("_", " "))
    actions = _actions(body)
    selectors = _selectors(kind, body)
    text = word
    if actions:
        text += ": " + ", ".join(actions)
    if selectors:
        text += (" on " if actions else ": on ") + selectors
    return text


def _actions(body: Mapping[str, Any]) -> list[str]:
    raw = next((body[f] for f in _ACTION_FIELDS if f in body), None)
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(raw, Mapping):  # {"read": true, "write": false}
        raw = [k for k, v in raw.items() if v]
    if not isinstance(raw, list):
        return []
    names = [str(a).lower() for a in raw if isinstance(a, (str, int))]
    known = [a for a in _ACTION_ORDER if a in names]
    return known + sorted(a for a in set(names) if a not in _ACTION_ORDER)


def _selectors(kind: str, body: Mapping[str, Any]) -> str:
    """The rule's own selector ("orders/*"), then what narrows it: the caches a topic or
    function rule applies in, and the items of a cache or store rule ("*" narrows nothing)."""
    primary = _PRIMARY.get(kind)
    text = _selector_text(body.get(primary)) if primary else ""
    if not text:  # an unknown rule type: its first selector
        text = next((t for f in _SELECTOR_FIELDS if f in body and (t := _selector_text(body[f]))), "")
        primary = next((f for f in _SELECTOR_FIELDS if f in body and _selector_text(body[f])), None)
    extras = []
    for name, label in (("caches", "in caches"), ("items", "items")):
        if name != primary and name in body:
            narrow = _selector_text(body[name])
            if narrow and narrow != "*":
                extras.append(f"{label} {narrow}")
    return " ".join([text, *extras]).strip()


def _selector_text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(t for t in (_selector_text(v) for v in value) if t)
    if value == "*" or value == {"all": True} or value == {"all": {}}:
        return "*"
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for key, fmt in (("name", "{}"), ("key", "{}"), ("prefix", "{}*"), ("key_prefix", "{}*")):
            if isinstance(value.get(key), str):
                return fmt.format(value[key])
    return ""


def _conditions_text(conditions: list[Any]) -> str:
    ranges: list[str] = []
    for condition in conditions:
        if isinstance(condition, Mapping) and isinstance(condition.get("ip_filter"), Mapping):
            cidrs = condition["ip_filter"].get("allowed_cidr_ranges")
            if isinstance(cidrs, list):
                ranges += [str(c) for c in cidrs]
    if ranges:
        shown = ", ".join(ranges[:3]) + (f" +{len(ranges) - 3}" if len(ranges) > 3 else "")
        return f"only from {shown}"
    return "with conditions"
