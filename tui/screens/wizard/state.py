"""What the wizard knows so far, and the rules each step applies before it lets the user on.

Pure Python (no Textual): tests build a :class:`WizardState` and call the rules directly.
A rule named ``choose_*`` reads what the user entered, writes it into the state and
returns ``None``, or returns one sentence saying what to fix (and changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from ...core.expiry import ExpiryError, parse_expiry
from ...core.keys import Inspection, KeyFormatError, inspect_text, normalise_endpoint, region_of
from ...core.limits import DISPOSABLE_MAX_SECONDS
from ...core.model import KeyRecord, KeyType, Kind, Lifecycle
from ...core.permissions import Grant, PermissionSpecError, describe, from_json, to_json, validate_grants
from ...core.policy import DAY, HOUR, countdown
from ...core.report import local_time

if TYPE_CHECKING:
    from ...core.roles import Role
    from ...services.issuing import GeneratedKey, Issued

V2 = "v2"             # a v2 API key: all regions, bound to a role (the console's default today)
FINE_GRAINED = "fine-grained"
TOKEN = "token"
SUPER_USER = "super-user"
PASTE = "-1"          # the sign-in choice "paste a super-user key"
CUSTOM = "custom"     # the region or expiry choice "type it"
NEVER = "never"

KEY_PRESETS = [("1 day", DAY), ("7 days", 7 * DAY), ("30 days", 30 * DAY), ("90 days", 90 * DAY),
               ("365 days", 365 * DAY)]
TOKEN_PRESETS = [("1 hour", HOUR), ("6 hours", 6 * HOUR), ("12 hours", 12 * HOUR), ("24 hours", 24 * HOUR)]
DEFAULT_KEY_EXPIRY = 30 * DAY
DEFAULT_TOKEN_EXPIRY = 12 * HOUR


class Problem(ValueError):
    """What the user entered cannot be used; the message says what would be."""


@dataclass
class WizardState:
    replaces: KeyRecord | None = None     # a manual rotation: the new key replaces this one
    # sign in: the super-user key that makes the new key
    acting_secret: str | None = None      # a pasted key (None: a tracked key, read from the keyring when used)
    acting_name: str | None = None        # a tracked key's name
    acting_endpoint: str | None = None
    acting_v2: bool = False               # the acting key is a v2 key (it makes only v2 keys)
    verified: str | None = None           # valid / restricted / invalid / unknown (None: not asked)
    caches: list[str] | None = None       # the caches Verify listed (None: not listed yet)
    track: tuple[Inspection, str] | None = None  # a pasted key to track, and its name
    # what to make
    endpoint: str | None = None
    key_kind: str = V2                    # v2 | fine-grained | token
    valid_for: int | None = DEFAULT_KEY_EXPIRY  # seconds; None: never
    grants: list[Grant] = field(default_factory=list)
    role: Role | None = None              # a v2 key's role
    description: str = ""                 # a v2 key's description in the account
    name: str = ""
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    # what came of it
    issued: Issued | None = None          # Momento's answer, stored or rescued
    download_path: str | None = None      # where the user saved its Download JSON

    @classmethod
    def replacing(cls, record: KeyRecord | None) -> WizardState:
        """The state of a wizard that makes the replacement of ``record`` (same cell, kind and
        permissions, where known)."""
        state = cls(replaces=record)
        if record is None:
            return state
        state.endpoint = record.endpoint
        state.key_kind = FINE_GRAINED
        if record.kind is Kind.DISPOSABLE:
            state.key_kind = TOKEN
            state.valid_for = DEFAULT_TOKEN_EXPIRY
        elif record.kind is Kind.V2:
            state.key_kind = V2
            state.description = record.description or ""
        if record.permissions:
            try:
                state.grants = from_json(record.permissions)
            except PermissionSpecError:
                state.grants = []
        return state

    @property
    def token(self) -> bool:
        return self.key_kind == TOKEN

    @property
    def v2(self) -> bool:
        return self.key_kind == V2

    @property
    def generated(self) -> GeneratedKey | None:
        return None if self.issued is None else self.issued.generated

    @property
    def record(self) -> KeyRecord | None:
        """The new key's record, once stored."""
        return None if self.issued is None else self.issued.record

    @property
    def unsaved(self) -> bool:
        """Momento made a key that is neither stored nor saved by the user."""
        return self.issued is not None and not self.issued.stored and self.download_path is None


# ---- 0 sign in -------------------------------------------------------------------------------

def acting_candidates(records: Iterable[KeyRecord]) -> list[KeyRecord]:
    """The tracked keys that may make keys, secret in the keyring, in service: super-user keys
    (v1 and v2 keys), and v2 keys (v2 keys only, if their role manages API keys)."""
    found = [r for r in records if (r.key_type is KeyType.SUPER_USER or r.kind is Kind.V2)
             and r.secret_stored and r.lifecycle is Lifecycle.ACTIVE]
    return sorted(found, key=lambda r: r.key_type is not KeyType.SUPER_USER)  # super-user keys first


def read_pasted(text: str, endpoint: str) -> Inspection:
    """A pasted super-user key (and the endpoint typed beside it). Raises ``Problem``."""
    if not text.strip():
        raise Problem("paste the super-user key, or choose one you track")
    try:
        inspection = inspect_text(text, endpoint=endpoint.strip() or None)
    except KeyFormatError as exc:
        raise Problem(str(exc)) from None
    if inspection.endpoint is None:
        raise Problem("this key carries no endpoint: type the cell endpoint it belongs to")
    return inspection


def choose_acting(state: WizardState, *, record: KeyRecord | None, inspection: Inspection | None,
                  track_name: str | None = None) -> str | None:
    """The key to act with: a tracked ``record``, or a pasted key (``inspection``), which is
    tracked under ``track_name`` when one is given."""
    from ...services.keeper import KeeperError, validate_name

    if record is None and inspection is None:
        return "choose a super-user key, or paste one"
    if state.verified == "invalid":
        return "Momento rejected this key: choose another one"
    track = None
    if inspection is not None and track_name is not None:
        try:
            track = (inspection, validate_name(track_name))
        except KeeperError as exc:
            return f"name for the super-user key: {exc}"
    if record is not None:
        state.acting_secret, state.acting_name, state.acting_endpoint = None, record.name, record.endpoint
        state.acting_v2 = record.kind is Kind.V2 and record.key_type is not KeyType.SUPER_USER
    else:
        assert inspection is not None
        state.acting_secret, state.acting_name, state.acting_endpoint = inspection.secret, None, inspection.endpoint
        state.acting_v2 = inspection.kind is Kind.V2
    state.track = track
    if state.endpoint is None:
        state.endpoint = state.acting_endpoint
    return None


# ---- 1 region --------------------------------------------------------------------------------

def endpoint_of(choice: str, custom: str) -> str | None:
    """The chosen cell: a public one, or the custom endpoint typed (None if none yet). Raises ``Problem``."""
    if choice != CUSTOM:
        return choice
    text = custom.strip()
    if not text:
        return None
    try:
        return normalise_endpoint(text)
    except KeyFormatError as exc:
        raise Problem(str(exc)) from None


def choose_endpoint(state: WizardState, choice: str, custom: str) -> str | None:
    try:
        endpoint = endpoint_of(choice, custom)
    except Problem as exc:
        return str(exc)
    if not endpoint:
        return "type the custom endpoint"
    state.endpoint = endpoint
    return None


def region_note(endpoint: str | None, acting_endpoint: str | None) -> tuple[str, str]:
    """A sentence about the chosen cell, and its kind (good / warn)."""
    if not endpoint:
        return "", ""
    region, provider = region_of(endpoint)
    note = f"Endpoint {endpoint}: {region or 'unknown region'} ({provider or 'private or unknown cell'})."
    if acting_endpoint and endpoint != acting_endpoint:
        return (note + f"\n⚠ Your super-user key belongs to {acting_endpoint}; Momento will most likely refuse "
                "it in another cell.", "warn")
    return note, "good"


# ---- 2 key type ------------------------------------------------------------------------------

def choose_kind(state: WizardState, choice: str) -> str | None:
    if choice == SUPER_USER:
        return "super-user keys come from the console: use the import button, or choose another type"
    if choice not in (V2, FINE_GRAINED, TOKEN):
        return "choose a key type"
    if choice != V2 and state.acting_v2:
        return ("a v2 key makes only v2 keys: choose the v2 API key, or go back and sign in with a v1 "
                "super-user key")
    if choice != state.key_kind:
        state.valid_for = DEFAULT_TOKEN_EXPIRY if choice == TOKEN else DEFAULT_KEY_EXPIRY
    state.key_kind = choice
    return None


# ---- 3 expiration ----------------------------------------------------------------------------

def expiry_seconds(choice: str | None, custom: str, now: float, *, token: bool) -> int | None:
    """Seconds the new key will live (None: never) from a preset, ``never`` or the custom
    text. Raises ``ExpiryError`` with a sentence."""
    if choice is None:
        raise ExpiryError("choose when the key expires")
    if choice == NEVER:
        if token:
            raise ExpiryError("a short-lived token must expire: at most 25 hours")
        return None
    if choice == CUSTOM:
        if not custom.strip():
            raise ExpiryError("type a date (2027-03-01) or a duration (45d, 12h)")
        return parse_expiry(custom, now, disposable=token)
    seconds = int(choice)
    if token and seconds > DISPOSABLE_MAX_SECONDS:
        raise ExpiryError("a short-lived token may live at most 25 hours (the service's limit)")
    return seconds


def choose_expiry(state: WizardState, choice: str | None, custom: str, never_ok: bool, now: float) -> str | None:
    try:
        seconds = expiry_seconds(choice, custom, now, token=state.token)
    except ExpiryError as exc:
        return str(exc)
    if seconds is None and not never_ok:
        return "tick the box to confirm a key that never expires, or choose an expiry"
    state.valid_for = seconds
    return None


def expiry_sentence(seconds: int | None, now: float, *, v2: bool = False) -> str:
    if seconds is None:
        return ("⚠ The key will NEVER expire. Momento advises against it: such a key works until someone "
                "revokes it" + ("." if v2 else " in the console, and gets no refresh token."))
    return f"The key will expire on {local_time(int(now + seconds))} ({countdown(seconds)} from now)."


def v2_expiry(state: WizardState, now: float) -> int | Literal["never"]:
    """What ``POST /api-keys`` takes: "never", or the instant (epoch seconds) the key expires."""
    return "never" if state.valid_for is None else int(now) + state.valid_for


# ---- a v2 key's role and description -----------------------------------------------------------

def choose_role(state: WizardState, role: Role | None, description: str) -> str | None:
    from ...core.limits import NAME_MAX_CHARS

    if role is None:
        return "choose the role the new key acts as"
    text = " ".join(description.split())
    if len(text) > 4 * NAME_MAX_CHARS:
        return f"a description may be at most {4 * NAME_MAX_CHARS} characters"
    if not text.isprintable():
        return "a description may not contain control or invisible characters"
    state.role, state.description = role, text
    return None


# ---- permissions (v1 keys and tokens) -----------------------------------------------------------

def choose_grants(state: WizardState, grants: Iterable[Grant]) -> str | None:
    try:
        state.grants = validate_grants(grants)
    except PermissionSpecError as exc:
        return str(exc)
    return None


# ---- 5 review --------------------------------------------------------------------------------

def review_lines(state: WizardState, now: float) -> list[str]:
    """Everything that will be asked of Momento, in words (plain text)."""
    region, provider = region_of(state.endpoint)
    what = "a short-lived (disposable) token" if state.token else "a fine-grained API key"
    if state.valid_for is None:
        expiry = "never expires (not recommended)"
    else:
        expiry = f"expires on {local_time(int(now + state.valid_for))} ({countdown(state.valid_for)} from now)"
    if state.v2:
        role = state.role
        return [
            "You are about to ask Momento's account API for a v2 API key:",
            "",
            f"  • made with the key: {state.acting_name or 'the pasted key'}",
            f"  • role: {role.role_name if role else '?'} — {role.summary() if role else '?'}",
            f"  • description: {state.description or '(none)'}",
            f"  • {expiry}",
            f"  • used with the endpoint {state.endpoint or '?'} (stored with the key; v2 keys work in every "
            "region)",
            "",
            "The key is shown once. It goes to your OS keyring the moment Momento answers.",
        ]
    return [
        f"You are about to ask Momento for {what}:",
        "",
        f"  • made with the key: {state.acting_name or 'the pasted super-user key'}",
        f"  • in the cell {state.endpoint or '?'} — {region or 'unknown region'} ({provider or '?'})",
        f"  • {expiry}",
        "  • allowed to:",
        *[f"      – {describe(g)}" for g in state.grants],
        "",
        "The key is shown once. It goes to your OS keyring the moment Momento answers.",
    ]


def default_name(state: WizardState, taken: Callable[[str], bool]) -> str:
    """A name for the new key, from what it grants (``orders-readonly``), that no tracked key has."""
    from .naming import base_name, unique, v2_base_name

    if state.v2:
        return unique(v2_base_name(state.role.role_name if state.role else None, state.description), taken)
    return unique(base_name(state.grants, token=state.token), taken)


def choose_name(state: WizardState, name: str, notes: str, tags: str, taken: Callable[[str], bool]) -> str | None:
    from ...services.keeper import KeeperError, parse_tags, validate_name

    try:
        clean = validate_name(name)
    except KeeperError as exc:
        return str(exc)
    if taken(clean):
        return f"a key named {clean!r} is already tracked; choose another name"
    state.name, state.notes, state.tags = clean, notes.strip(), parse_tags(tags)
    return None


class KeepFields(TypedDict):
    kind: Kind
    key_type: KeyType
    permissions: list[dict[str, Any]]
    notes: str
    tags: list[str]


def keep_fields(state: WizardState) -> KeepFields:
    """How the issuer records the new key (besides its name)."""
    return {"kind": Kind.DISPOSABLE if state.token else Kind.V1, "key_type": KeyType.FINE_GRAINED,
            "permissions": to_json(state.grants), "notes": state.notes, "tags": list(state.tags)}


# ---- 7 result --------------------------------------------------------------------------------

def result_problem(state: WizardState) -> str | None:
    """Going on from the result: only once the key is stored, or saved by the user."""
    if state.unsaved:
        return ("the key is not stored: retry storing, or download its JSON before going on "
                "(Esc lets you leave anyway)")
    return None
