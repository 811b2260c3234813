"""The account API's documented shapes (momento-facts.md §7), read strictly enough to
notice when they change: each reader returns typed values or raises ``ShapeError``
saying what did not fit. The one exception is a created key: an answer that carries
``api_key`` is never refused, whatever else is odd about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.roles import Role
from ...core.text import terminal_safe
from .protocol import CreatedKey, KeyInfo

MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z: beyond it an instant is nonsense


class ShapeError(ValueError):
    """An answer that does not fit the documented shape; the message says where."""


def _text(doc: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> str | None:
    value = doc.get(name)
    if value is None:
        if required:
            raise ShapeError(f"{where} has no {name}")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ShapeError(f"{where}: {name} is not a non-empty string")
    return value


def _epoch(doc: Mapping[str, Any], name: str, where: str) -> int | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ShapeError(f"{where}: {name} is not a number of seconds")
    if not 0 <= value <= MAX_EPOCH:
        raise ShapeError(f"{where}: {name} is out of range ({value})")
    return int(value)


def key_info(doc: Any, where: str = "a key_info") -> KeyInfo:
    if not isinstance(doc, Mapping):
        raise ShapeError(f"{where} is not an object")
    key_id = _text(doc, "key_id", where)
    role_id = _text(doc, "role_id", where)
    description = _text(doc, "description", where, required=False) or ""
    account_id = _text(doc, "account_id", where, required=False)
    return KeyInfo(key_id=key_id, role_id=role_id, description=description,  # type: ignore[arg-type]
                   account_id=account_id, issued_at=_epoch(doc, "issued_at_epoch_seconds", where),
                   expires_at=_epoch(doc, "expires_at_epoch_seconds", where))


def _next_token(doc: Mapping[str, Any]) -> str | None:
    token = doc.get("next_token")
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise ShapeError("next_token is not a string")
    return token


def keys_page(doc: Any) -> tuple[list[KeyInfo], str | None]:
    """``{"key_info": [...], "next_token"?}``"""
    if not isinstance(doc, Mapping):
        raise ShapeError("the answer is not a JSON object")
    items = doc.get("key_info")
    if items is None and not doc.get("next_token"):
        items = []  # an empty account may leave the list out
    if not isinstance(items, list):
        raise ShapeError("key_info is not a list")
    return [key_info(item, f"key_info[{i}]") for i, item in enumerate(items)], _next_token(doc)


def role(doc: Any, where: str) -> Role:
    if not isinstance(doc, Mapping):
        raise ShapeError(f"{where} is not an object")
    permissions = doc.get("permissions")
    if permissions is None:
        permissions = {}
    if not isinstance(permissions, Mapping):
        raise ShapeError(f"{where}: permissions is not an object")
    rules = permissions.get("rules")
    if rules is not None and not isinstance(rules, list):
        raise ShapeError(f"{where}: permissions.rules is not a list")
    return Role(role_id=_text(doc, "role_id", where),  # type: ignore[arg-type]
                # A name to show (the wizard, the table, the detail view): never terminal escapes.
                role_name=terminal_safe(_text(doc, "role_name", where) or ""),
                role_type=_text(doc, "role_type", where),  # type: ignore[arg-type]
                description=_text(doc, "description", where, required=False) or "",
                permissions=dict(permissions))


def roles_page(doc: Any) -> tuple[list[Role], str | None]:
    """``{"roles": [...], "next_token"?}``"""
    if not isinstance(doc, Mapping):
        raise ShapeError("the answer is not a JSON object")
    items = doc.get("roles")
    if not isinstance(items, list):
        raise ShapeError("roles is not a list")
    return [role(item, f"roles[{i}]") for i, item in enumerate(items)], _next_token(doc)


def created(doc: Any) -> CreatedKey:
    """``{"api_key", "key_info"}``. Raises ``ShapeError`` only when there is no key at all;
    a key with an odd or missing ``key_info`` comes back with ``oddities``."""
    if not isinstance(doc, Mapping):
        raise ShapeError("the answer is not a JSON object")
    api_key = doc.get("api_key")
    if not isinstance(api_key, str) or not api_key.strip():
        raise ShapeError("the answer carries no api_key")
    info = doc.get("key_info")
    if info is None:
        return CreatedKey(api_key.strip(), None, ("the account's answer had no key_info: the key's id, role and expiry "
                                                  "are not known here until a sync",))
    try:
        return CreatedKey(api_key.strip(), key_info(info, "key_info"))
    except ShapeError as exc:
        return CreatedKey(api_key.strip(), None, (f"the account's answer had an odd key_info ({exc}): the key's id, "
                                                  "role and expiry are not known here until a sync",))


def error_message(doc: Any) -> str:
    """The server's own words from an error body ``{"code", "message", "err"?}`` ("" if none)."""
    if not isinstance(doc, Mapping):
        return ""
    parts = [str(doc[f]) for f in ("message", "err") if isinstance(doc.get(f), str) and doc[f].strip()]
    if not parts and isinstance(doc.get("code"), (str, int)):
        parts.append(str(doc["code"]))
    return " — ".join(parts)
