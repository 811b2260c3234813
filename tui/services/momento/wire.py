"""What goes on the wire and what comes off it: grants as protobuf messages and as the
SDK's classes, the v1 key wrapping, and Momento's answer read into a
:class:`GeneratedKey`.

Reading the answer follows the project's first rule: a key Momento made is never
lost. Only an answer without the key itself is refused (there is nothing to keep);
anything else that looks odd (no endpoint, an endpoint we cannot read, no expiry, no
refresh token, a key that does not decode) is kept and described in
``GeneratedKey.oddities``, for the issuing path to show as warnings.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from momento_wire_types.generated import permissionmessages_pb2 as perm_pb2

from tui.core.keys import KeyFormatError, inspect_key, make_v1_key, normalise_endpoint
from tui.core.limits import UINT32_MAX
from tui.core.permissions import ALL, Grant, validate_grants
from tui.core.text import shown

from .errors import REFRESH, ErrorCode, MomentoError, Op
from .protocol import GeneratedKey

if TYPE_CHECKING:  # the SDK is imported lazily: only two calls need it
    from momento.auth.access_control.permission_scope import Permission as SdkPermission

__all__ = [
    "Answer",
    "check_valid_for",
    "key_from_answer",
    "permissions_message",
    "sdk_permissions",
    "unwrap_sdk_token",
    "wrap_v1_key",
]


def wrap_v1_key(raw_jwt: str, endpoint: str) -> str:
    """The v1 key string for a raw JWT and its endpoint, as the JS SDK wraps it
    (one implementation: :func:`tui.core.keys.make_v1_key`)."""
    return make_v1_key(raw_jwt, endpoint)


_CACHE_ROLE: Final[Mapping[str, perm_pb2.CacheRole]] = {
    "readwrite": perm_pb2.CacheReadWrite,
    "readonly": perm_pb2.CacheReadOnly,
    "writeonly": perm_pb2.CacheWriteOnly,
}
_TOPIC_ROLE: Final[Mapping[str, perm_pb2.TopicRole]] = {
    "publishsubscribe": perm_pb2.TopicReadWrite,
    "subscribeonly": perm_pb2.TopicReadOnly,
    "publishonly": perm_pb2.TopicWriteOnly,
}


def permissions_message(grants: Sequence[Grant] | None) -> perm_pb2.Permissions:
    """The ``permission_messages.Permissions`` for grants (None: super user).

    Grants are validated first (``PermissionSpecError`` on a bad set).
    """
    if grants is None:
        return perm_pb2.Permissions(super_user=perm_pb2.SuperUser)
    rows: list[perm_pb2.PermissionsType] = []
    for grant in validate_grants(grants):
        if grant.kind == "cache":
            cache_perm = perm_pb2.PermissionsType.CachePermissions(role=_CACHE_ROLE[grant.role])
            _select_cache(cache_perm, grant.cache)
            rows.append(perm_pb2.PermissionsType(cache_permissions=cache_perm))
        else:
            topic_perm = perm_pb2.PermissionsType.TopicPermissions(role=_TOPIC_ROLE[grant.role])
            _select_cache(topic_perm, grant.cache)
            if grant.topic == ALL:
                topic_perm.all_topics.SetInParent()
            else:
                topic_perm.topic_selector.topic_name = grant.topic or ""
            rows.append(perm_pb2.PermissionsType(topic_permissions=topic_perm))
    return perm_pb2.Permissions(explicit=perm_pb2.ExplicitPermissions(permissions=rows))


def _select_cache(message: Any, cache: str) -> None:
    if cache == ALL:
        message.all_caches.SetInParent()
    else:
        message.cache_selector.cache_name = cache


def sdk_permissions(grants: Sequence[Grant]) -> list[SdkPermission]:
    """The same grants as the SDK's ``momento.auth.access_control`` classes."""
    from momento.auth.access_control.permission_scope import (
        AllCaches,
        AllTopics,
        CacheName,
        CachePermission,
        CacheRole,
        CacheSelector,
        TopicName,
        TopicPermission,
        TopicRole,
        TopicSelector,
    )

    cache_roles = {
        "readwrite": CacheRole.READ_WRITE,
        "readonly": CacheRole.READ_ONLY,
        "writeonly": CacheRole.WRITE_ONLY,
    }
    topic_roles = {
        "publishsubscribe": TopicRole.PUBLISH_SUBSCRIBE,
        "subscribeonly": TopicRole.SUBSCRIBE_ONLY,
        "publishonly": TopicRole.PUBLISH_ONLY,
    }
    result: list[SdkPermission] = []
    for grant in grants:
        caches = CacheSelector(AllCaches() if grant.cache == ALL else CacheName(grant.cache))
        if grant.kind == "cache":
            result.append(CachePermission(caches, cache_roles[grant.role]))
        else:
            topics = TopicSelector(AllTopics() if grant.topic == ALL else TopicName(grant.topic or ""))
            result.append(TopicPermission(topic_roles[grant.role], caches, topics))
    return result


def check_valid_for(seconds: int) -> int:
    """``seconds`` if Momento's ``valid_for_seconds`` (a uint32) can carry it."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        # ValueError, not TypeError: callers report every bad argument through ValueError.
        raise ValueError("valid_for_seconds must be a whole number of seconds.")
    if not 0 < seconds <= UINT32_MAX:
        raise ValueError(f"valid_for_seconds must be between 1 and {UINT32_MAX}, not {seconds}.")
    return seconds


def unwrap_sdk_token(wrapped: str) -> tuple[str, str]:
    """``(api_key, endpoint)`` from the SDK's base64 JSON token (empty if absent)."""
    try:
        data = json.loads(base64.b64decode(wrapped, validate=True))
    except (binascii.Error, ValueError):
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    api_key, endpoint = data.get("api_key"), data.get("endpoint")
    return (
        api_key if isinstance(api_key, str) else "",
        endpoint if isinstance(endpoint, str) else "",
    )


@dataclass(frozen=True)
class Answer:
    """The fields generate, refresh and disposable answers share (protobuf responses
    have them too, so either can be read by :func:`key_from_answer`)."""

    api_key: str
    endpoint: str
    refresh_token: str
    valid_until: int


def key_from_answer(
    op: Op,
    answer: Answer | Any,
    *,
    asked_at: str,
    expect_expiry: bool,
    expect_refresh: bool,
) -> GeneratedKey:
    """The key in Momento's answer to ``op``, with what was odd about it.

    ``asked_at`` is the bare endpoint the call was made against ("" when an override
    was the whole address and the caller's key named none): a key whose answer names
    no usable endpoint is paired with it, since Momento made the key in that cell.
    Raises ``MomentoError(BAD_RESPONSE)`` only when the answer has no key at all.
    """
    raw: str = answer.api_key or ""
    sent_endpoint: str = answer.endpoint or ""
    if not raw.strip():
        missing = ["api_key"]
        if not sent_endpoint:
            missing.append("endpoint")
        if expect_expiry and not answer.valid_until:
            missing.append("valid_until")
        if op is REFRESH:
            # The service answered OK, so it did refresh: the old refresh token is spent.
            after = (
                " The refresh probably went through and used up the refresh token; if a retry "
                "is rejected, generate a new key (the current key stays valid until it expires)."
            )
        elif not op.idempotent:
            after = " The key may have been made anyway; check the Momento console."
        else:
            after = ""
        raise MomentoError(
            ErrorCode.BAD_RESPONSE,
            f"Momento's answer to {op.rpc} had no {', '.join(missing)}, so the result "
            f"cannot be used.{after}",
            transient=False,
            outcome_unknown=not op.idempotent,
        )

    oddities: list[str] = []
    endpoint = _endpoint(sent_endpoint, asked_at, oddities)
    try:
        api_key = wrap_v1_key(raw, endpoint)
    except KeyFormatError:
        # No usable endpoint at all: keep the key in the same JSON shape, with what we
        # have, rather than drop it; importing it later asks for the endpoint.
        api_key = _wrap_as_is(raw, endpoint)
    else:
        try:
            inspect_key(api_key)
        except KeyFormatError as exc:
            oddities.append(
                f"the key in Momento's answer does not read as a Momento key ({exc}); it is "
                "kept exactly as Momento sent it"
            )
        except Exception:
            oddities.append("the key in Momento's answer could not be read; it is kept as Momento sent it")
    valid_until = answer.valid_until or None
    if expect_expiry and valid_until is None:
        oddities.append(
            "Momento sent no expiry (valid_until) for a key that was asked to expire, so when "
            "it expires is unknown here: check it in the Momento console"
        )
    refresh_token = answer.refresh_token or None
    if expect_refresh and refresh_token is None:
        oddities.append(
            "Momento sent no refresh token, so this key cannot be refreshed: make a new key "
            "before it expires"
        )
    return GeneratedKey(
        api_key=api_key,
        refresh_token=refresh_token,
        endpoint=endpoint,
        valid_until=valid_until,
        oddities=tuple(oddities),
        expiry_known=not (expect_expiry and valid_until is None),
    )


def _endpoint(sent: str, asked_at: str, oddities: list[str]) -> str:
    """The endpoint to pair the key with; notes in ``oddities`` when it is not Momento's own."""
    if sent:
        try:
            return normalise_endpoint(sent)
        except KeyFormatError as exc:
            problem = f"Momento's answer named the endpoint {shown(sent)}, which is not usable ({exc})"
    else:
        problem = "Momento's answer had no endpoint"
    if asked_at:
        oddities.append(f"{problem}; the key is paired with {asked_at}, the endpoint it was asked at")
        return asked_at
    oddities.append(f"{problem}, and none is known here: give the endpoint when you import the key")
    return sent.strip()


def _wrap_as_is(raw_jwt: str, endpoint: str) -> str:
    """:func:`wrap_v1_key` without checking the endpoint (the same compact JSON)."""
    payload = json.dumps({"endpoint": endpoint, "api_key": raw_jwt.strip()}, separators=(",", ":"))
    return base64.b64encode(payload.encode("utf-8")).decode("ascii")
