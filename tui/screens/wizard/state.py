"""What the wizard knows so far, and the rules each step applies before it lets the user on.

Pure Python (no Textual): tests build a :class:`WizardState` and call the rules directly.
A rule named ``choose_*`` reads what the user entered, writes it into the state and
returns ``None``, or returns one sentence saying what to fix (and changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from ...core.expiry import ExpiryError, parse_expiry
from ...core.keys import Inspection, KeyFormatError, inspect_text, normalise_endpoint, region_of
from ...core.limits import DISPOSABLE_MAX_SECONDS
from ...core.model import KeyRecord, KeyType, Kind, Lifecycle
from ...core.permissions import Grant, PermissionSpecError, describe, from_json, to_json, validate_grants
from ...core.policy import DAY, HOUR, countdown
from ...core.report import local_time

if TYPE_CHECKING:
    from ...services.issuing import GeneratedKey, Issued

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
    verified: str | None = None           # valid / restricted / invalid / unknown (None: not asked)
    track: tuple[Inspection, str] | None = None  # a pasted key to track, and its name
    # what to make
    endpoint: str | None = None
    key_kind: str = FINE_GRAINED          # fine-grained | token
    valid_for: int | None = DEFAULT_KEY_EXPIRY  # seconds; None: never
    grants: list[Grant] = field(default_factory=list)
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
        if record.kind is Kind.DISPOSABLE:
            state.key_kind = TOKEN
            state.valid_for = DEFAULT_TOKEN_EXPIRY
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
    """The tracked keys that may make keys: super-user, secret in the keyring, in service."""
    return [r for r in records
            if r.key_type is KeyType.SUPER_USER and r.secret_stored and r.lifecycle is Lifecycle.ACTIVE]


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
    else:
        assert inspection is not None
        state.acting_secret, state.acting_name, state.acting_endpoint = inspection.secret, None, inspection.endpoint
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
    if choice not in (FINE_GRAINED, TOKEN):
        return "choose a key type"
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


def expiry_sentence(seconds: int | None, now: float) -> str:
    if seconds is None:
        return ("⚠ The key will NEVER expire. Momento advises against it: such a key works until someone "
                "revokes it in the console, and gets no refresh token.")
    return f"The key will expire on {local_time(int(now + seconds))} ({countdown(seconds)} from now)."


# ---- 4 permissions ---------------------------------------------------------------------------

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


def default_name(state: WizardState, now: float, taken: Callable[[str], bool]) -> str:
    """A name for the new key that no tracked key has."""
    region, _ = region_of(state.endpoint)
    base = f"{'token' if state.token else 'key'} {region or 'custom'} {local_time(int(now))[:10]}"
    name, n = base, 2
    while taken(name) and n < 100:
        name, n = f"{base} {n}", n + 1
    return name


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
