"""Every key the dashboard lists, held as compact columns.

A `KeyRecord` is a dataclass of some 25 Python objects: at 100,000 keys a
list of them costs well over 200 MB and seconds to build. The dashboard
needs far less: for each key its id, name, a few small enumerations, three
instants (expiry, and when it enters warning and critical, computed once by
`policy.band_changes`) and a lower-case text to filter on. The roster keeps
those in typed arrays and two joined strings, about 150 bytes a key, and
hands out a small `RosterRow` for the few rows on screen.

Rows are kept in the order the store gave them; each sort (expiry, name,
status, kind, type, region, lifecycle) is a permutation of row indices
(`array('l')`), and so is the filtered view.

What the table shows of a key's tags and notes (where the key is used) comes
with the filter's text, after the rows are on screen: one string per chunk of
rows (so a wide character makes only its chunk's string wider per character),
each row's part cut to what a column can show (`notes`).

Status bands come from the precomputed instants (`status`), so they agree
with `policy.band`, the single source of the rule; `RosterBands` counts keys
per band and moves only the keys whose band changes, in O(changes) a tick.
"""

from __future__ import annotations

import json
import re
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress, repeat
from operator import is_not

from .model import KeyRecord, KeyType, Kind, Lifecycle, Status, Thresholds
from .policy import SEVERITY, band_changes, with_overrides
from .text import terminal_safe

NAN = float("nan")

# What the roster is built from, in this order, by id (the store selects them):
# kind, key_type and lifecycle as their index in KINDS, KEY_TYPES, LIFECYCLES,
# and whether expiry_source is "unknown"; then what only the filter needs.
COLUMNS = ("id", "name", "kind", "key_type", "region", "issued_at", "expires_at", "expiry_unknown", "lifecycle",
           "warning_seconds", "critical_seconds", "role_name", "revoked_at")
SEARCH_COLUMNS = ("id", "provider", "notes", "tags")

KINDS = tuple(Kind)
KEY_TYPES = tuple(KeyType)
LIFECYCLES = tuple(Lifecycle)
STATUSES = tuple(Status)
_RETIRED = LIFECYCLES.index(Lifecycle.RETIRED)
_ACTIVE = LIFECYCLES.index(Lifecycle.ACTIVE)

# What a key without an expiry is: no expiry at all, or nothing tells.
_HAS_EXPIRY, _NEVER, _UNKNOWN = 0, 1, 2

# The sorts the roster gives (`Roster.order`), as the dashboard cycles them.
SORTS = ("expiry", "status", "name", "kind", "type", "region", "lifecycle")
NOTES_KEPT = 120  # characters of a key's tags and notes kept for the table (a column is never wider)
# What a terminal would obey rather than show (controls, escapes, line separators, bidi overrides).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One listed key, as the table shows it (the store's `get` gives the whole record)."""

    id: int
    name: str
    kind: Kind
    key_type: KeyType
    region: str | None
    expires_at: int | None
    never_expires: bool
    lifecycle: Lifecycle
    role_name: str | None = None   # v2 keys: the role, when the account's roles were read
    revoked: bool = False          # v2 keys: the account no longer has it


def _ends(lengths: Iterable[int], start: int) -> Iterator[int]:
    """Where each of consecutive pieces of these lengths ends, the first starting at `start`."""
    ends = accumulate(lengths, initial=start)
    next(ends)
    return ends


def _tags_text(tags: str) -> str:
    """The tags column (a JSON list of strings) as words, without decoding it when it is plain."""
    if len(tags) <= 2:
        return ""
    if "\\" in tags:
        try:
            return " ".join(str(t) for t in json.loads(tags))
        except ValueError:
            return tags
    return tags.strip("[]").replace('"', "").replace(",", " ")


def _tags_shown(tags: str) -> str:
    """The tags column (a JSON list of strings) as the table shows it: "eu, prod"."""
    if len(tags) <= 2:
        return ""
    if "\\" in tags or not (tags.startswith('["') and tags.endswith('"]')):
        try:
            return ", ".join(str(t) for t in json.loads(tags))
        except (ValueError, TypeError):
            return tags
    return tags[2:-2].replace('", "', ", ").replace('","', ", ")  # (a quote inside a tag is escaped: above)


def _one_safe_line(text: str) -> str:
    """Text as one line a terminal shows as it is: escapes and controls gone, whitespace folded."""
    return " ".join(_UNSAFE.sub(" ", terminal_safe(text)).split())


def _notes_chunk(notes: Sequence[str | None], tags: Sequence[str]) -> list[str]:
    """Rows' tags and notes as the table shows them. (The common case is done a chunk at a
    time where it can: tags as json.dumps writes them, printable text.)"""
    if "\\" in "".join(tags):  # an escaped character in some tag: decode those rows
        shown_tags = [_tags_shown(g) for g in tags]
    else:
        shown_tags = [g[2:-2].replace('", "', ", ").replace('","', ", ") if len(g) > 2 else "" for g in tags]
    texts = [(f"{t} · {o}" if o else t) if t else (o or "") for t, o in zip(shown_tags, notes)]
    if not "".join(texts).isprintable():  # (rare: a control character, an escape, a line separator)
        texts = [_one_safe_line(t) for t in texts]
    if texts and max(map(len, texts)) > NOTES_KEPT:
        texts = [t[:NOTES_KEPT] for t in texts]
    return texts


class Roster:
    """The listed keys, in expiry order, as columns."""

    def __init__(self, chunks: Iterable[Sequence[tuple]], thresholds: Thresholds) -> None:
        """`chunks`: lists of row tuples in `COLUMNS` order, by id (see `Store.roster`).

        The work is done a column at a time (C loops over a chunk's columns);
        only the band instants take a Python step per row. The filter's text
        comes later (`add_search_text`): the table can show the rows without it.
        """
        self.thresholds = thresholds
        self.ids = array("q")
        self.expires = array("d")
        self.warn_at = array("d")
        self.crit_at = array("d")
        self.kind = bytearray()
        self.key_type = bytearray()
        self.life = bytearray()
        self.noexp = bytearray()
        self.region = array("H")
        self.regions: list[str | None] = [None]
        self._region_index: dict[str | None, int] = {None: 0}
        # v2 keys: the role's name (an index into `roles`, as regions) and whether the key
        # was revoked (1: its status is REVOKED whatever its expiry, as `policy.band` says).
        self.role = array("H")
        self.roles: list[str | None] = [None]
        self.revoked = bytearray()
        self._name_end = array("l")
        self._hay_end = array("l")
        self._hay: str | None = None
        # Tags and notes as the table shows them (see `notes`): a string per chunk of rows,
        # the first row of each, and where each row's text ends in its chunk's string.
        self._notes: list[str] = []
        self._notes_rows = array("l")
        self._notes_end = array("I")
        names: list[str] = []  # one joined string per chunk: the rows' own strings are freed as we go
        name_end = 0
        default = thresholds
        t_cache: dict[tuple, Thresholds] = {}
        regions, region_index = self.regions, self._region_index
        roles = self.roles
        role_index: dict[str | None, int] = {None: 0}

        def region_of(region: str | None) -> int:
            r = region_index.get(region)
            if r is None:
                r = region_index[region] = len(regions)
                regions.append(region)
            return r

        def role_of(role: str | None) -> int:
            r = role_index.get(role)
            if r is None:
                r = role_index[role] = len(roles)
                roles.append(role)
            return r

        for chunk in chunks:
            if not chunk:
                continue
            (ids, chunk_names, kinds, key_types, chunk_regions, issued, expires, unknown, lives, warns, crits,
             role_names, revoked_at) = zip(*chunk)
            self.ids.extend(ids)
            self._name_end.extend(_ends(map(len, chunk_names), name_end))
            name_end = self._name_end[-1]
            names.append("".join(chunk_names))
            self.kind.extend(kinds)
            self.key_type.extend(key_types)
            self.life.extend(lives)
            self.region.extend(map(region_of, chunk_regions))
            if any(role_names):  # (most keys have none: no Python step per row for them)
                self.role.extend(map(role_of, role_names))
            else:
                self.role.extend(repeat(0, len(role_names)))
            self.revoked.extend(map(is_not, revoked_at, repeat(None)))
            add_exp, add_warn, add_crit, add_noexp = (self.expires.append, self.warn_at.append,
                                                      self.crit_at.append, self.noexp.append)
            for e, i, no_source, w, c in zip(expires, issued, unknown, warns, crits):
                if e is None:
                    add_exp(NAN)
                    add_warn(NAN)
                    add_crit(NAN)
                    add_noexp(_UNKNOWN if no_source else _NEVER)
                    continue
                if w is None and c is None:
                    th = default
                else:
                    cached = t_cache.get((w, c))
                    if cached is None:
                        cached = t_cache[(w, c)] = with_overrides(default, w, c)
                    th = cached
                w, c = band_changes(e, i, th)
                add_exp(e)
                add_warn(w)
                add_crit(c)
                add_noexp(_HAS_EXPIRY)
        self._names = "".join(names)
        del names
        self._orders: dict[str, array] = {"expiry": self._expiry_order()}

    def add_search_text(self, chunks: Iterable[Sequence[tuple]]) -> bool:
        """Build the filter's text from rows in `SEARCH_COLUMNS` order, by id (see
        `Store.search_rows`). False, and nothing built, if they are not this
        roster's keys (the database changed in between: a reload follows)."""
        ids = array("q")
        hay: list[str] = []
        ends = array("l")
        end = 0
        shown: list[str] = []
        shown_rows = array("l")
        shown_ends = array("I")
        for chunk in chunks:
            if not chunk:
                continue
            chunk_ids, providers, notes, tags = zip(*chunk)
            start = len(ids)
            ids.extend(chunk_ids)
            if ids[start:] != self.ids[start:len(ids)]:
                return False
            # Each row's text ends with a newline, so no word spans two rows. (Its kind, type,
            # region, lifecycle and role are not in it: `_enum_matches` matches those few values.)
            name = self.name
            texts = [f"{name(i)} {p or ''} {o} {_tags_text(g)}\n"
                     for i, p, o, g in zip(range(start, len(ids)), providers, notes, tags)]
            blob = "".join(texts)
            lowered = blob.lower()  # one call for the chunk...
            if len(lowered) != len(blob):  # ...unless some character lower-cases to two ("İ")
                texts = [h.lower() for h in texts]
                lowered = "".join(texts)
            hay.append(lowered)
            ends.extend(_ends(map(len, texts), end))
            end = ends[-1] if ends else 0
            notes_texts = _notes_chunk(notes, tags)
            shown.append("".join(notes_texts))
            shown_rows.append(start)
            shown_ends.extend(_ends(map(len, notes_texts), 0))
        if ids != self.ids:
            return False
        self._hay, self._hay_end = "".join(hay), ends
        self._notes, self._notes_rows, self._notes_end = shown, shown_rows, shown_ends
        return True

    @property
    def searchable(self) -> bool:
        """Whether the filter's whole text is built (notes, tags and provider too)."""
        return self._hay is not None or not len(self)

    def _base_text(self, i: int) -> str:
        """Row `i`'s own words: name, kind, type, region, lifecycle (and a v2 key's role)."""
        text = (f"{self.name(i)} {KINDS[self.kind[i]].value} {KEY_TYPES[self.key_type[i]].value} "
                f"{self.regions[self.region[i]] or ''} {LIFECYCLES[self.life[i]].value}")
        role = self.roles[self.role[i]]
        return f"{text} {role}" if role else text

    @classmethod
    def of(cls, records: Iterable[KeyRecord], thresholds: Thresholds) -> Roster:
        """A roster of these records (which must have ids), filter text included: for tests."""
        records = sorted(records, key=lambda r: r.id or 0)
        roster = cls([[(r.id, r.name, KINDS.index(r.kind), KEY_TYPES.index(r.key_type), r.region, r.issued_at,
                        r.expires_at, r.expiry_source.value == "unknown", LIFECYCLES.index(r.lifecycle),
                        r.warning_seconds, r.critical_seconds, r.role_name, r.revoked_at) for r in records]],
                     thresholds)
        roster.add_search_text([[(r.id, r.provider, r.notes, json.dumps(r.tags)) for r in records]])
        return roster

    def __len__(self) -> int:
        return len(self.ids)

    def _expiry_order(self) -> array:
        """Soonest expiry first, never/unknown last; equal expiries by name."""
        inf = float("inf")
        soon = [inf if e != e else e for e in self.expires]
        order = sorted(range(len(soon)), key=soon.__getitem__)
        start = 0
        for end in range(1, len(order) + 1):  # runs of equal expiry (all the never/unknown keys are one)
            if end == len(order) or soon[order[end]] != soon[order[start]]:
                if end - start > 1:
                    order[start:end] = sorted(order[start:end], key=self.name)
                start = end
        return array("l", order)

    # ---- one row -------------------------------------------------------------------
    def name(self, i: int) -> str:
        return self._names[self._name_end[i - 1] if i else 0: self._name_end[i]]

    def expires_at(self, i: int) -> int | None:
        e = self.expires[i]
        return None if e != e else int(e)

    def lifecycle(self, i: int) -> Lifecycle:
        return LIFECYCLES[self.life[i]]

    def active(self, i: int) -> bool:
        return self.life[i] == _ACTIVE

    def never_expires(self, i: int) -> bool:
        return self.noexp[i] == _NEVER

    def notes(self, i: int) -> str:
        """Row `i`'s tags and notes, as the table shows them ("" until the filter's text is built)."""
        ends = self._notes_end
        if i >= len(ends):
            return ""
        piece = bisect_right(self._notes_rows, i) - 1
        first = self._notes_rows[piece]
        return self._notes[piece][ends[i - 1] if i > first else 0: ends[i]]

    def type_text(self, i: int) -> str:
        """The TYPE column: a v2 key's role ("role: Operator"), else its key type."""
        role = self.roles[self.role[i]]
        return f"role: {role}" if role is not None else KEY_TYPES[self.key_type[i]].value

    def role_name(self, i: int) -> str | None:
        """A v2 key's role, when known."""
        return self.roles[self.role[i]]

    def row(self, i: int) -> RosterRow:
        return RosterRow(id=self.ids[i], name=self.name(i), kind=KINDS[self.kind[i]],
                         key_type=KEY_TYPES[self.key_type[i]], region=self.regions[self.region[i]],
                         expires_at=self.expires_at(i), never_expires=self.noexp[i] == _NEVER,
                         lifecycle=LIFECYCLES[self.life[i]], role_name=self.roles[self.role[i]],
                         revoked=bool(self.revoked[i]))

    def index_of(self, record_id: int) -> int | None:
        try:
            return self.ids.index(record_id)
        except ValueError:
            return None

    def status(self, i: int, now: float) -> Status:
        """The band of row `i` at `now`: the same answer as `policy.status_of` on its record."""
        if self.revoked[i]:
            return Status.REVOKED
        e = self.expires[i]
        if e != e:
            return Status.NEVER if self.noexp[i] == _NEVER else Status.UNKNOWN
        if now >= e:
            return Status.EXPIRED
        if now >= self.crit_at[i]:
            return Status.CRITICAL
        if now >= self.warn_at[i]:
            return Status.WARNING
        return Status.OK

    # ---- many rows ------------------------------------------------------------------
    def order(self, sort: str, now: float) -> array:
        """Row indices sorted by "expiry" (the roster's own order: soonest first), "name",
        "status" (worst first), "kind", "type" (a v2 key's role, else its key type),
        "region" (unknown last) or "lifecycle" (active, previous, retired); keys alike
        by the sort stay in expiry order. All but the status order are computed once;
        the status order depends on the instant, so it is computed each time."""
        if sort == "status":
            severity = [-SEVERITY[s] for s in STATUSES]
            index = {s: n for n, s in enumerate(STATUSES)}
            status = self.status
            return array("l", sorted(self._orders["expiry"], key=lambda i: severity[index[status(i, now)]]))
        cached = self._orders.get(sort)
        if cached is None:
            cached = self._orders[sort] = self._order(sort)
        return cached

    def _order(self, sort: str) -> array:
        n = len(self)
        expiry = self._orders["expiry"]
        if sort == "name":
            ends = self._name_end
            names = self._names
            lower = [names[ends[i - 1] if i else 0: ends[i]].lower() for i in range(n)]
            return array("l", sorted(range(n), key=lower.__getitem__))
        # The rest group a few distinct values: each row's rank among them, made by C
        # loops (bytes.translate, map) where it can, then one stable sort of the expiry order.
        if sort == "kind":
            ranks = _ranks([k.value for k in KINDS])
            keys: Sequence[int] = self.kind.translate(bytes(ranks) + bytes(256 - len(ranks)))
        elif sort == "lifecycle":
            keys = self.life  # (in their order: active, previous, retired)
        elif sort == "region":
            ranks = _ranks(self.regions)
            keys = array("H", map(ranks.__getitem__, self.region))
        elif sort == "type":
            types = len(KEY_TYPES)
            texts = [f"role: {role}" if role is not None else key_type.value  # (as the column shows it)
                     for role in self.roles for key_type in KEY_TYPES]
            ranks = _ranks(texts)
            role, key_type = self.role, self.key_type
            keys = array("l", [ranks[role[i] * types + key_type[i]] for i in range(n)])
        else:
            raise ValueError(f"no such sort: {sort}")
        return array("l", sorted(expiry, key=keys.__getitem__))

    def matching(self, words: Sequence[str]) -> set[int] | None:
        """Rows whose text holds every word (case-insensitive); None for no words.
        Until the filter's text is built (`searchable`), only each row's own words
        (name, kind, type, region, lifecycle) are searched."""
        if not words:
            return None
        if self._hay is None:
            lowered = [w.lower() for w in words]
            base = self._base_text
            return {i for i in range(len(self)) if all(w in base(i).lower() for w in lowered)}
        found: set[int] | None = None
        hay, ends = self._hay, self._hay_end
        for word in words:
            word = word.lower()
            search = re.compile(re.escape(word)).search
            rows = self._enum_matches(word)
            pos = 0
            while (m := search(hay, pos)) is not None:
                i = bisect_right(ends, m.start())
                rows.add(i)
                pos = ends[i]
            found = rows if found is None else found & rows
            if not found:
                break
        return found

    def _enum_matches(self, word: str) -> set[int]:
        """Rows whose kind, key type, lifecycle, region or role holds `word` (lower case):
        each of these few values is matched once, not once a row (and none is in the
        filter's text, which they would make a third longer)."""
        n = len(self)
        rows: set[int] = set()
        columns: tuple[tuple[Sequence[int], Sequence[str | None]], ...] = (
            (self.kind, [k.value for k in KINDS]), (self.key_type, [t.value for t in KEY_TYPES]),
            (self.life, [v.value for v in LIFECYCLES]), (self.region, self.regions), (self.role, self.roles))
        for column, values in columns:
            codes = {c for c, v in enumerate(values) if v is not None and word in v.lower()}
            if codes:
                rows.update(compress(range(n), map(codes.__contains__, column)))  # (C loops)
        return rows


def _ranks(values: Sequence[str | None]) -> list[int]:
    """Each value's place in alphabetical order, case-insensitive (None last)."""
    order = sorted(range(len(values)), key=lambda n: (values[n] is None, (values[n] or "").lower()))
    ranks = [0] * len(values)
    for rank, n in enumerate(order):
        ranks[n] = rank
    return ranks


class RowsView(Sequence):
    """Rows of a roster in a given order, as `RosterRow`s made on demand."""

    def __init__(self, roster: Roster, order: Sequence[int]) -> None:
        self.roster = roster
        self.order = order

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.roster.row(j) for j in self.order[i]]
        return self.roster.row(self.order[i])

    def __iter__(self) -> Iterator[RosterRow]:
        row = self.roster.row
        return (row(j) for j in self.order)


# How far ahead RosterBands keeps band changes; past it, it asks for a rebuild.
HORIZON = 3600


class RosterBands:
    """Keys per status band (retired keys not counted), kept current in O(changes).

    Building it is O(n) (a worker does it). It keeps only the band changes due
    within `HORIZON`, as two sorted arrays (instant, row), so it stays small at
    any number of keys. Past the horizon, or if the clock goes back, `stale`
    says to build it again.
    """

    def __init__(self, roster: Roster, now: float) -> None:
        self.roster = roster
        self.now = now
        self.horizon = now + HORIZON
        self.counts: dict[Status, int] = {s: 0 for s in Status}
        status, counts, horizon = roster.status, self.counts, self.horizon
        life, expires, warn_at, crit_at = roster.life, roster.expires, roster.warn_at, roster.crit_at
        revoked = roster.revoked
        events: list[tuple[float, int]] = []
        for i in range(len(roster)):
            if life[i] == _RETIRED:
                continue
            counts[status(i, now)] += 1
            e = expires[i]
            if e == e and now < e and not revoked[i]:  # (a revoked key's band never changes)
                for t in (warn_at[i], crit_at[i], e):
                    if now < t <= horizon:
                        events.append((t, i))
        events.sort()
        self._times = array("d", [t for t, _ in events])
        self._rows = array("l", [i for _, i in events])
        self._next = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def stale(self, now: float) -> bool:
        return now >= self.horizon or now < self.now

    def advance(self, now: float) -> bool:
        """Move the keys whose band changed by `now`; True if any count changed."""
        times, rows, n = self._times, self._rows, self._next
        moved: set[int] = set()
        while n < len(times) and times[n] <= now:
            moved.add(rows[n])
            n += 1
        self._next = n
        changed = False
        status, counts, before = self.roster.status, self.counts, self.now
        for i in moved:  # every band instant of a key is listed, so its band before is its band at `before`
            old, new = status(i, before), status(i, now)
            if old is not new:
                counts[old] -= 1
                counts[new] += 1
                changed = True
        self.now = max(before, now)
        return changed
