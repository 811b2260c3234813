"""The roster (compact columns behind the dashboard's table) against the plain
record-based rules it replaces: the same statuses, orders, filter results and
band counts, on random records and on a real SQLite file."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.model import ExpirySource, KeyRecord, KeyType, Kind, Lifecycle, Status, Thresholds
from tui.core.policy import SEVERITY, status_of
from tui.core.roster import Roster, RosterBands
from tui.services.store import Store

NOW = 1_800_000_000
DEFAULT = Thresholds()

names = st.text(alphabet=st.sampled_from("abcXYZ -_0é İß"), min_size=1, max_size=12)


@st.composite
def records(draw, n_max: int = 40) -> list[KeyRecord]:
    n = draw(st.integers(0, n_max))
    used: set[str] = set()
    out = []
    for i in range(n):
        name = draw(names.filter(lambda x: x not in used))
        used.add(name)
        issued = draw(st.one_of(st.none(), st.integers(NOW - 400 * 86400, NOW + 3600)))
        expires = draw(st.one_of(st.none(), st.integers(NOW - 90 * 86400, NOW + 400 * 86400),
                                 st.sampled_from([NOW + 5, NOW + 3600, NOW - 1])))
        source = draw(st.sampled_from(list(ExpirySource)))
        out.append(KeyRecord(
            id=i * 3 + 1, name=name, kind=draw(st.sampled_from(list(Kind))),
            key_type=draw(st.sampled_from(list(KeyType))),
            region=draw(st.one_of(st.none(), st.sampled_from(["us-west-2", "eu-west-1", "ap-south-1"]))),
            provider=draw(st.one_of(st.none(), st.sampled_from(["aws", "gcp"]))),
            issued_at=issued, expires_at=expires, expiry_source=source,
            notes=draw(st.sampled_from(["", "Lambda env", "k8s Secret ÉTÉ", "owner: team-x"])),
            tags=draw(st.lists(st.sampled_from(["prod", "staging", "zürich", "ci"]), max_size=2, unique=True)),
            lifecycle=draw(st.sampled_from(list(Lifecycle))),
            warning_seconds=draw(st.one_of(st.none(), st.sampled_from([60, 86400, 400 * 86400]))),
            critical_seconds=draw(st.one_of(st.none(), st.sampled_from([30, 3600]))),
            # v2 keys: a role, and revoked ones (REVOKED whatever their expiry, as policy.band says)
            role_name=draw(st.one_of(st.none(), st.sampled_from(["Owner", "Operator", "ops-ré"]))),
            revoked_at=draw(st.one_of(st.none(), st.integers(NOW - 86400, NOW + 86400))),
        ))
    return out


def hay(r: KeyRecord) -> str:
    """The filter's text of a record, as the table documented it before the roster."""
    return " ".join(filter(None, [r.name, r.kind.value, r.key_type.value, r.region or "", r.provider or "",
                                  r.notes, " ".join(r.tags), r.lifecycle.value, r.role_name or ""])).lower()


@settings(max_examples=60, deadline=None)
@given(records(), st.integers(-86400, 86400 * 30))
def test_status_is_the_policy_status(recs, offset):
    roster = Roster.of(recs, DEFAULT)
    now = NOW + offset
    by_id = {r.id: r for r in recs}
    for i in range(len(roster)):
        assert roster.status(i, now) is status_of(by_id[roster.ids[i]], now, DEFAULT)
        record = by_id[roster.ids[i]]
        assert roster.row(i).role_name == record.role_name == roster.role_name(i)
        assert roster.row(i).revoked is (record.revoked_at is not None)


@settings(max_examples=60, deadline=None)
@given(records())
def test_rows_and_orders(recs):
    roster = Roster.of(recs, DEFAULT)
    assert len(roster) == len(recs)
    expected = sorted(recs, key=lambda r: (r.expires_at is None, r.expires_at or 0, r.name))
    assert [roster.row(i).id for i in roster.order("expiry", NOW)] == [r.id for r in expected]
    by_name = sorted(expected, key=lambda r: r.name.lower())
    assert [roster.name(i) for i in roster.order("name", NOW)] == [r.name for r in by_name]
    worst = sorted(expected, key=lambda r: -SEVERITY[status_of(r, NOW, DEFAULT)])
    assert [roster.ids[i] for i in roster.order("status", NOW)] == [r.id for r in worst]
    for r in recs:
        row = roster.row(roster.index_of(r.id))
        assert (row.name, row.kind, row.key_type, row.region, row.expires_at, row.lifecycle, row.never_expires) == \
            (r.name, r.kind, r.key_type, r.region, r.expires_at, r.lifecycle, r.never_expires)
    assert roster.index_of(10**9) is None


@settings(max_examples=60, deadline=None)
@given(records(), st.lists(st.sampled_from(["a", "x", "é", "i̇", "ss", "prod", "eu", "zü", "lambda", "team-x",
                                            "retired", "fine", "v2", "-", "ß"]), max_size=3))
def test_filter_matches_every_word_anywhere_in_the_text(recs, words):
    roster = Roster.of(recs, DEFAULT)
    expected = {r.id for r in recs if all(w.lower() in hay(r) for w in words)} if words else None
    found = roster.matching(words)
    assert (None if found is None else {roster.ids[i] for i in found}) == expected


def test_filter_before_the_search_text_is_built_uses_each_rows_own_words():
    recs = [KeyRecord(id=1, name="orders prod", kind=Kind.V1, region="eu-west-1", notes="Lambda"),
            KeyRecord(id=2, name="billing", kind=Kind.V2, notes="orders")]
    roster = Roster([[(r.id, r.name, 0 if r.kind is Kind.V1 else 2, 2, r.region, None, None, True, 0, None, None,
                      None, None)
                      for r in recs]], DEFAULT)
    assert not roster.searchable
    assert {roster.ids[i] for i in roster.matching(["orders"])} == {1}   # notes not searched yet
    assert {roster.ids[i] for i in roster.matching(["EU"])} == {1}
    assert roster.add_search_text([[(1, None, "Lambda", "[]"), (2, None, "orders", json.dumps(["ci"]))]])
    assert roster.searchable
    assert {roster.ids[i] for i in roster.matching(["orders"])} == {1, 2}
    assert {roster.ids[i] for i in roster.matching(["ci"])} == {2}


def test_search_text_of_other_keys_is_refused():
    roster = Roster.of([KeyRecord(id=1, name="a", kind=Kind.V1), KeyRecord(id=2, name="b", kind=Kind.V1)], DEFAULT)
    fresh = Roster([[(1, "a", 0, 2, None, None, None, True, 0, None, None, None, None),
                     (2, "b", 0, 2, None, None, None, True, 0, None, None, None, None)]], DEFAULT)
    assert not fresh.add_search_text([[(1, None, "", "[]"), (3, None, "", "[]")]])  # a key deleted, one added
    assert not fresh.add_search_text([[(1, None, "", "[]")]])                       # one missing
    assert not fresh.searchable
    assert roster.searchable


@settings(max_examples=60, deadline=None)
@given(records(), st.lists(st.integers(1, 4000), min_size=1, max_size=8))
def test_band_counts_follow_the_clock(recs, steps):
    roster = Roster.of(recs, DEFAULT)
    now = NOW
    bands = RosterBands(roster, now)

    def recount(at: float) -> dict[Status, int]:
        counts = {s: 0 for s in Status}
        for r in recs:
            if r.lifecycle is not Lifecycle.RETIRED:
                counts[status_of(r, at, DEFAULT)] += 1
        return counts

    assert bands.counts == recount(now)
    assert bands.total == sum(r.lifecycle is not Lifecycle.RETIRED for r in recs)
    for step in steps:
        now += step
        if bands.stale(now):
            bands = RosterBands(roster, now)
        else:
            bands.advance(now)
        assert bands.counts == recount(now)
    assert bands.stale(now - 10)  # the clock went back: build again


def test_band_counts_keep_only_the_next_hour(tmp_path):
    recs = [KeyRecord(id=i + 1, name=f"k{i}", kind=Kind.V1, issued_at=NOW - 86400, expires_at=NOW + i * 600,
                      expiry_source=ExpirySource.JWT_EXP) for i in range(1, 200)]
    bands = RosterBands(Roster.of(recs, DEFAULT), NOW)
    assert 0 < len(bands._times) < 40  # keys expiring months away cost nothing until their hour comes
    assert not bands.stale(NOW + 3599) and bands.stale(NOW + 3600)


def test_store_roster_matches_its_records(tmp_path):
    store = Store(tmp_path / "keys.db")
    recs = [
        KeyRecord(name="orders prod", kind=Kind.V1, key_type=KeyType.FINE_GRAINED, region="eu-west-1",
                  provider="aws", issued_at=NOW - 86400, expires_at=NOW + 3600, expiry_source=ExpirySource.JWT_EXP,
                  notes="Lambda", tags=["prod", "zürich"], warning_seconds=7200),
        KeyRecord(name="legacy", kind=Kind.LEGACY, expiry_source=ExpirySource.JWT_NO_EXP,
                  lifecycle=Lifecycle.PREVIOUS),
        KeyRecord(name="mystery", kind=Kind.V2, expiry_source=ExpirySource.UNKNOWN, lifecycle=Lifecycle.RETIRED),
        KeyRecord(name="svc v2", kind=Kind.V2, issued_at=NOW - 86400, expires_at=NOW + 30 * 86400,
                  expiry_source=ExpirySource.V2_METADATA, key_id="key-1", role_id="role-operator",
                  role_name="Operator", revoked_at=NOW - 60),
    ]
    for r in recs:
        store.add(r, now=NOW)
    roster = store.roster(DEFAULT)
    assert store.add_search_text(roster)
    expected = Roster.of(store.all(), DEFAULT)
    assert [roster.row(i) for i in roster.order("expiry", NOW)] == [expected.row(i) for i in
                                                                     expected.order("expiry", NOW)]
    assert [roster.status(i, NOW) for i in range(4)] == [expected.status(i, NOW) for i in range(4)]
    v2 = roster.index_of(store.find("svc v2").id)
    assert roster.status(v2, NOW) is Status.REVOKED and roster.role_name(v2) == "Operator"
    assert {roster.name(i) for i in roster.matching(["operator"])} == {"svc v2"}
    assert {roster.name(i) for i in roster.matching(["ZÜRICH"])} == {"orders prod"}
    assert {roster.name(i) for i in roster.matching(["retired"])} == {"mystery"}
    store.close()
