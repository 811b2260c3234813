"""Account sync for v2 keys: what Momento's account says about the keys tracked here,
and the account's keys that are not tracked here yet.

``sync`` reads every page of ``GET /api-keys`` (and the roles, for their names), then:

* **tracked keys linked to an account key** (a stored ``key_id``: keys made here, keys
  linked before) get the account's expiry (``expiry_source`` ``v2_metadata``), issue
  time, role, description and ``synced_at``;
* **tracked keys the account no longer lists** are marked revoked (``revoked_at``, an
  event, their reminders closed): a status of their own, which ``check`` counts as
  critical while the record is active. A key that had already expired is not called
  revoked (accounts may drop expired keys). A metadata-only record (see below) whose key
  is gone also retires: nothing here depends on it;
* **imported v2 keys without a key id** are matched only when the match is
  unambiguous (see :func:`match_imported`); the rest are reported as unmatched, for the
  user to ``link`` — never guessed. A matched key takes the place of the metadata-only
  record an earlier sync made for it;
* **the account's keys not tracked here** become metadata-only records (kind v2, no
  secret held, ``source`` "account"), named from their description, so their expiries
  show, tick and get reminders like any other key.

All record writes of one sync are one transaction; their reminders a second one.
The sync time is kept in the database's meta (``account_synced_at``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..core.limits import NAME_MAX_CHARS
from ..core.model import ExpirySource, KeyRecord, Kind, Lifecycle
from ..core.reminders import planned
from ..core.text import normalize_name, terminal_safe
from .account import AccountError, ErrorKind, KeyInfo
from .keeper import Keeper, KeeperError
from .store import DuplicateName, RecordChange, StoreError

if TYPE_CHECKING:
    from ..core.roles import Role
    from .account import AccountClient

SYNC_SOURCE = "account"              # record.source of a metadata-only record a sync made
META_SYNCED_AT = "account_synced_at"
KEY_ID_MAX = 256


@dataclass
class SyncReport:
    synced_at: int
    listed: int = 0                                       # keys the account listed
    updated: list[str] = field(default_factory=list)      # tracked keys whose metadata changed
    confirmed: int = 0                                    # tracked keys the account confirmed, unchanged
    revoked: list[str] = field(default_factory=list)      # tracked keys found revoked by this sync
    added: list[str] = field(default_factory=list)        # metadata-only records made for untracked keys
    matched: list[str] = field(default_factory=list)      # imported keys linked by an unambiguous match
    unmatched: list[str] = field(default_factory=list)    # imported v2 keys left for `link NAME KEY_ID`
    expired_gone: list[str] = field(default_factory=list)  # expired keys the account no longer lists
    retired_but_live: list[str] = field(default_factory=list)  # retired here, still listed by the account
    roles_known: bool = False
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"listed": self.listed, "updated": len(self.updated), "confirmed": self.confirmed,
                "revoked": len(self.revoked), "added": len(self.added), "matched": len(self.matched),
                "unmatched": len(self.unmatched)}

    def summary(self) -> str:
        parts = [f"{self.listed} account key{'s' if self.listed != 1 else ''} read",
                 f"{len(self.updated)} updated", f"{len(self.revoked)} revoked", f"{len(self.added)} added"]
        if self.matched:
            parts.append(f"{len(self.matched)} linked by issue time")
        if self.unmatched:
            parts.append(f"{len(self.unmatched)} unmatched (link them: momento-keys link NAME KEY_ID)")
        return "Synced: " + ", ".join(parts) + "."


# ---- naming and matching (pure) ------------------------------------------------------------

def name_for(info: KeyInfo, taken: Callable[[str], bool]) -> str:
    """A free name for an account key's record: its description (printable, folded), else
    "account key <id>"; the key id is added when the description is taken."""
    text = "".join(ch for ch in terminal_safe(info.description) if ch.isprintable() or ch == " ")
    base = normalize_name(text)[:NAME_MAX_CHARS - 30].strip() or f"account key {info.key_id[:24]}"
    candidates = [base, f"{base} ({info.key_id[:12]})", f"{base} ({info.key_id[:60]})"]
    for name in candidates:
        if not taken(name):
            return name
    n = 2
    while taken(f"{candidates[-1]} #{n}"):
        n += 1
    return f"{candidates[-1]} #{n}"


def _claim(record: KeyRecord, name: str) -> int | None:
    value = record.claims.get(name) if record.claims else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def match_imported(records: Iterable[KeyRecord], free: Iterable[KeyInfo]) -> dict[int, KeyInfo]:
    """Which imported v2 keys (no ``key_id``) are, beyond doubt, which account keys.

    The rule: the key's own JWT carries an ``iat`` claim equal to the account key's
    ``issued_at_epoch_seconds`` and, when the JWT carries ``exp``, that equals
    ``expires_at_epoch_seconds`` too (a JWT without ``exp`` matches on ``iat`` alone);
    and the pair is one-to-one: exactly one unclaimed account key fits the record, and
    that account key fits no other record. Anything less is left unmatched, for the user
    to link (``link NAME KEY_ID``). The JWT's ``jti`` is not used: whether it equals the
    account's ``key_id`` is not documented (momento-facts.md §7).

    Returns ``{record id: account key}``.
    """
    free = list(free)
    fits: dict[int, list[KeyInfo]] = {}
    for record in records:
        iat = _claim(record, "iat")
        if record.id is None or iat is None:
            continue
        exp = _claim(record, "exp")
        has_exp = record.claims.get("exp") is not None
        fits[record.id] = [info for info in free if info.issued_at == iat
                           and (not has_exp or (exp is not None and info.expires_at == exp))]
    fitted_by: dict[str, int] = {}
    for candidates in fits.values():
        for info in candidates:
            fitted_by[info.key_id] = fitted_by.get(info.key_id, 0) + 1
    return {rid: candidates[0] for rid, candidates in fits.items()
            if len(candidates) == 1 and fitted_by[candidates[0].key_id] == 1}


def _metadata(info: KeyInfo, role_names: dict[str, str], record: KeyRecord | None, now: int) -> dict[str, object]:
    """The fields a record takes from its account key (a role name only when the roles are known)."""
    fields: dict[str, object] = {
        "expires_at": info.expires_at, "expiry_source": ExpirySource.V2_METADATA, "role_id": info.role_id,
        "description": info.description, "synced_at": now,
    }
    if info.issued_at is not None:
        fields["issued_at"] = info.issued_at
    if info.role_id in role_names:
        fields["role_name"] = role_names[info.role_id]
    elif record is not None and record.role_id != info.role_id:
        fields["role_name"] = None  # the role changed and its name is not known
    return fields


def _changed(record: KeyRecord, fields: dict[str, object]) -> list[str]:
    return sorted(f for f, v in fields.items() if f != "synced_at" and getattr(record, f) != v)


# ---- the sync --------------------------------------------------------------------------------

def sync(keeper: Keeper, client: AccountClient, *, now: int | None = None, roles: list[Role] | None = None,
         on_page: Callable[[int], None] | None = None) -> SyncReport:
    """Read the account's keys (every page) and bring the records here in line; see the module
    docstring. Raises ``AccountError`` when the keys cannot be read (nothing is changed then),
    and ``StoreError`` when the database refuses the result."""
    now = keeper.now() if now is None else now
    listed: dict[str, KeyInfo] = {}
    for info in client.list_keys(on_page):
        listed[info.key_id] = info
    report = SyncReport(synced_at=now, listed=len(listed))
    role_names: dict[str, str] = {}
    if roles is None:
        try:
            roles = client.list_roles()
        except AccountError as exc:
            if exc.kind is ErrorKind.UNAUTHENTICATED:
                raise
            report.warnings.append(f"role names are not known ({exc}); role ids are shown instead")
    if roles is not None:
        role_names = {r.role_id: r.role_name for r in roles}
        report.roles_known = True

    store = keeper.store
    for attempt in (1, 2):
        changes, added, revoked_ids, touched, absorbed = _plan(store.v2_records(), listed, role_names,
                                                               store.names(), now, report)
        try:
            applied = store.apply_sync(changes, added, now=now, meta={META_SYNCED_AT: str(now)}, absorbed=absorbed)
            break
        except DuplicateName:
            if attempt == 2:
                raise StoreError("another momento-keys process kept adding keys with the same names during the "
                                 "sync; run it again") from None
            report = SyncReport(synced_at=now, listed=len(listed), roles_known=report.roles_known,
                                warnings=report.warnings)
    # Reminders: the keys added, and those whose expiry, issue time or state changed.
    plans = {r.id: planned(r, keeper.settings.thresholds) for r in [*applied.added, *touched] if r.id is not None}
    if plans:
        store.sync_reminders(plans, now=now, managed=Keeper.MANAGED)
    for record_id in revoked_ids:
        keeper._close_reminders(record_id)
    return report


def _metadata_only(record: KeyRecord) -> bool:
    """A record a sync made for an account key, holding no secret."""
    return not record.secret_stored and record.source == SYNC_SOURCE


def _plan(records: list[KeyRecord], listed: dict[str, KeyInfo], role_names: dict[str, str], names: set[str],
          now: int, report: SyncReport) -> tuple[list[RecordChange], list[KeyRecord], list[int], list[KeyRecord],
                                                 list[tuple[int, str]]]:
    """What a sync writes: (changes, new records, ids of records found revoked, records whose
    reminders must be recomputed, metadata-only records an imported key takes the place of).
    Fills ``report``."""
    changes: list[RecordChange] = []
    touched: list[KeyRecord] = []
    revoked_ids: list[int] = []
    absorbed: list[tuple[int, str]] = []
    # Keys held by a record with a secret (or made by hand) are taken; a metadata-only record's
    # key may still turn out to be an imported key's own (it then takes that record's place).
    placeholders = {r.key_id: r for r in records if r.key_id and _metadata_only(r)}
    claimed = {r.key_id for r in records if r.key_id and not _metadata_only(r)}

    free = [info for key_id, info in listed.items() if key_id not in claimed]
    imported = [r for r in records if r.key_id is None and r.kind is Kind.V2 and r.lifecycle is not Lifecycle.RETIRED
                and r.revoked_at is None]
    matches = match_imported(imported, free)
    for record in imported:
        info = matches.get(record.id)  # type: ignore[arg-type]
        if info is None:
            report.unmatched.append(record.name)
            continue
        fields = {"key_id": info.key_id, **_metadata(info, role_names, None, now)}
        detail = f"matched to account key {info.key_id} by its issue time and expiry"
        placeholder = placeholders.pop(info.key_id, None)
        if placeholder is not None and placeholder.id is not None:
            absorbed.append((placeholder.id, f"account key {info.key_id} is tracked as {record.name!r}, which holds "
                                             "its secret"))
            detail += f" (took the place of {placeholder.name!r}, listed by an earlier sync)"
        changes.append(RecordChange(record.id, fields, "linked", detail))  # type: ignore[arg-type]
        touched.append(_applied(record, fields))
        claimed.add(info.key_id)
        report.matched.append(record.name)

    for record in records:
        if record.key_id is None or record.id is None:
            continue
        if _metadata_only(record) and record.key_id not in placeholders:
            continue  # absorbed above
        info = listed.get(record.key_id)
        claimed.add(record.key_id)
        if info is not None:
            fields = _metadata(info, role_names, record, now)
            changed = _changed(record, fields)
            if record.revoked_at is not None:
                fields["revoked_at"] = None
                changes.append(RecordChange(record.id, fields, "listed again",
                                            "the account lists this key again: not revoked"))
                touched.append(_applied(record, fields))
                report.updated.append(record.name)
            elif changed:
                changes.append(RecordChange(record.id, fields, "synced", "from the account: " + ", ".join(changed)))
                report.updated.append(record.name)
                if {"expires_at", "issued_at"} & set(changed):
                    touched.append(_applied(record, fields))
            else:
                changes.append(RecordChange(record.id, {"synced_at": now}))
                report.confirmed += 1
            if record.lifecycle is Lifecycle.RETIRED:
                report.retired_but_live.append(record.name)
            continue
        # Not listed.
        if record.revoked_at is not None or record.lifecycle is Lifecycle.RETIRED:
            continue
        if record.expires_at is not None and record.expires_at <= now:
            report.expired_gone.append(record.name)
            continue
        revoked: dict[str, object] = {"revoked_at": now}
        why = "the account no longer lists this key: it was revoked elsewhere (the console, or another tool)"
        if _metadata_only(record):
            revoked["lifecycle"] = Lifecycle.RETIRED
            why += "; retired, as no secret of it is held here"
        changes.append(RecordChange(record.id, revoked, "revoked", why))
        revoked_ids.append(record.id)  # its reminders are closed, not planned
        report.revoked.append(record.name)

    added: list[KeyRecord] = []
    taken = set(names)
    for key_id, info in listed.items():
        if key_id in claimed:
            continue
        name = name_for(info, taken.__contains__)
        taken.add(name)
        added.append(KeyRecord(
            name=name, kind=Kind.V2, issued_at=info.issued_at, expires_at=info.expires_at,
            expiry_source=ExpirySource.V2_METADATA, fingerprint="", secret_stored=False, source=SYNC_SOURCE,
            key_id=key_id, role_id=info.role_id, role_name=role_names.get(info.role_id),
            description=info.description, synced_at=now,
        ))
        report.added.append(name)
    return changes, added, revoked_ids, touched, absorbed


def _applied(record: KeyRecord, fields: dict[str, object]) -> KeyRecord:
    """A copy of ``record`` with ``fields`` set (to plan its reminders)."""
    return replace(record, **fields)  # type: ignore[arg-type]


def last_synced(keeper: Keeper) -> int | None:
    """When the account was last synced into this database (None: never)."""
    value = keeper.store.meta(META_SYNCED_AT)
    return int(value) if value and value.isdigit() else None


# ---- linking by hand ----------------------------------------------------------------------------

def link(keeper: Keeper, record: KeyRecord, key_id: str, *, info: KeyInfo | None = None,
         role_names: dict[str, str] | None = None) -> KeyRecord:
    """Link a tracked v2 key to its account key (``link NAME KEY_ID``): from then on syncs
    match it exactly and ``revoke`` can revoke it. If a sync made a metadata-only record for
    that account key, the record takes its metadata and that record is removed. ``info``
    (the account's entry, if the caller read it) fills the metadata now; otherwise the next
    sync does."""
    key_id = key_id.strip()
    if not key_id or len(key_id) > KEY_ID_MAX or not key_id.isprintable() or " " in key_id:
        raise KeeperError("a key id is one word, as `momento-keys sync` or the Momento console shows it")
    if record.id is None:
        raise KeeperError("that key is not tracked")
    if record.kind is not Kind.V2:
        raise KeeperError(f"{record.name!r} is a {record.kind.value} key: only v2 keys have an account key id")
    if record.key_id == key_id:
        return record
    if record.key_id is not None:
        raise KeeperError(f"{record.name!r} is already linked to the account key {record.key_id!r}")
    store = keeper.store
    holder = store.find_key_id(key_id)
    absorb = None
    fields: dict[str, object] = {}
    if holder is not None:
        if holder.secret_stored or holder.source != SYNC_SOURCE:
            raise KeeperError(f"the account key {key_id!r} is already linked to {holder.name!r}")
        absorb = holder.id
        fields = {"role_id": holder.role_id, "role_name": holder.role_name, "description": holder.description,
                  "expires_at": holder.expires_at, "expiry_source": holder.expiry_source,
                  "synced_at": holder.synced_at}
        if holder.issued_at is not None:
            fields["issued_at"] = holder.issued_at
    if info is not None:
        if info.key_id != key_id:
            raise ValueError("info is for another key")
        fields = _metadata(info, role_names or {}, record, keeper.now())
    detail = f"account key {key_id}" + (f" (took the place of {holder.name!r}, listed by a sync)" if holder else "")
    updated = store.link_key_id(record.id, key_id, fields, now=keeper.now(), absorb_id=absorb, detail=detail)
    keeper.schedule(updated)
    return updated
