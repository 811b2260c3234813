"""Reminder schedules: minutes to years, never-expiring keys, overrides, snooze, dismiss."""

from __future__ import annotations

import pytest

from tests.conftest import NOW, make_v1
from tui.core.keys import inspect_text
from tui.core.model import KeyRecord, Lifecycle
from tui.core.reminders import ReminderKind, ReminderState
from tui.services.keeper import Keeper

DAY = 86400
HOUR = 3600


def add(keeper: Keeper, name: str, *, life: int | None, age: int = 0) -> KeyRecord:
    issued = NOW - age
    key = make_v1(issued=issued, expires=None if life is None else issued + life)
    return keeper.import_key(inspect_text(key), name).record


def plan(keeper: Keeper, record: KeyRecord) -> dict[str, int]:
    return {r.kind.value: r.due_at for r in keeper.store.reminders(key_id=record.id)}


def test_thirty_day_key(keeper: Keeper):
    r = add(keeper, "month", life=30 * DAY)
    p = plan(keeper, r)
    assert p["expiry"] == NOW + 30 * DAY
    assert p["critical"] == NOW + 27 * DAY                     # 3 days left beats 90 % (27 days)
    assert p["warning"] == NOW + 16 * DAY                      # 14 days left beats 2/3 (20 days)


def test_one_hour_token_uses_the_share_of_its_life(keeper: Keeper):
    r = add(keeper, "token", life=HOUR)
    p = plan(keeper, r)
    # 3 days / 14 days absolute are longer than the whole life: the share of
    # the life decides (2/3 and 90 %), not "critical from birth".
    assert p == {"warning": NOW + 40 * 60, "critical": NOW + 54 * 60, "expiry": NOW + HOUR}


def test_two_year_key(keeper: Keeper):
    r = add(keeper, "long", life=730 * DAY)
    p = plan(keeper, r)
    assert p["warning"] == NOW + int(730 * DAY * 2 / 3)         # 2/3 of the life comes before 14 days left
    assert p["critical"] == NOW + int(730 * DAY * 0.9)
    assert p["expiry"] == NOW + 730 * DAY


def test_never_expiring_key_gets_a_review(keeper: Keeper, clock):
    r = add(keeper, "forever", life=None)
    assert plan(keeper, r) == {"review": NOW + 90 * DAY}
    clock.advance(91 * DAY)
    due = keeper.due()
    assert [d.kind for d in due] == [ReminderKind.REVIEW]
    keeper.close(due[0])
    assert keeper.due() == []
    assert plan(keeper, r)["review"] == NOW + 91 * DAY + 90 * DAY


def test_per_key_override_moves_the_schedule(keeper: Keeper):
    r = add(keeper, "month", life=30 * DAY)
    updated = keeper.edit(r, warning_seconds=20 * DAY, critical_seconds=10 * DAY)
    p = plan(keeper, updated)
    assert p["warning"] == NOW + 10 * DAY and p["critical"] == NOW + 20 * DAY


def test_recompute_does_not_duplicate_and_keeps_states(keeper: Keeper, clock):
    r = add(keeper, "month", life=30 * DAY)
    clock.advance(17 * DAY)
    [warning] = keeper.due()
    keeper.snooze(warning, DAY)
    for _ in range(3):
        keeper.schedule(r)
        keeper.schedule_all(force=True)
    rows = keeper.store.reminders(key_id=r.id, open_only=False)
    assert sorted(x.kind.value for x in rows) == ["critical", "expiry", "warning"]
    assert next(x for x in rows if x.kind is ReminderKind.WARNING).state is ReminderState.SNOOZED
    count = keeper.store._read("SELECT count(*) FROM reminders")[0][0]
    assert count == 3


def test_snooze_then_due_again(keeper: Keeper, clock):
    r = add(keeper, "month", life=30 * DAY)
    clock.advance(17 * DAY)
    [warning] = keeper.due()
    assert warning.key_name == "month"
    keeper.snooze(warning, 7 * DAY)
    assert keeper.due() == []
    clock.advance(7 * DAY + 1)  # now day 24: still before critical (day 27)
    [again] = keeper.due()
    assert again.kind is ReminderKind.WARNING and again.effective_state(clock.now()) is ReminderState.DUE
    keeper.close(again)
    assert keeper.due() == []
    events = [e.action for e in keeper.store.events(r.id)]
    assert "reminder snoozed" in events and "reminder dismissed" in events


def test_notifications_are_claimed_once(keeper: Keeper, clock):
    add(keeper, "a", life=30 * DAY)
    add(keeper, "b", life=2 * DAY)
    clock.advance(17 * DAY)
    first = keeper.store.claim_notifications(keeper.now())
    assert {(x.key_name, x.kind.value) for x in first} >= {("a", "warning"), ("b", "expiry")}
    assert keeper.store.claim_notifications(keeper.now()) == []


def test_global_threshold_change_recomputes_everything(keeper: Keeper):
    from dataclasses import replace

    r = add(keeper, "month", life=30 * DAY)
    keeper.schedule_all()
    assert keeper.schedule_all() == 0  # unchanged settings: nothing to do
    keeper.settings = replace(keeper.settings, thresholds=replace(keeper.settings.thresholds,
                                                                  warning_seconds=21 * DAY))
    assert keeper.schedule_all() > 0
    assert plan(keeper, r)["warning"] == NOW + 9 * DAY


def test_retired_keys_have_no_open_reminders(keeper: Keeper, clock):
    r = add(keeper, "old", life=5 * DAY)
    keeper.edit(r, lifecycle=Lifecycle.PREVIOUS)
    assert set(plan(keeper, r)) == {"expiry"}
    clock.advance(6 * DAY)
    keeper.retire_expired_previous()
    assert keeper.store.get(r.id).lifecycle is Lifecycle.RETIRED
    assert keeper.store.reminders(key_id=r.id) == []


@pytest.mark.parametrize("life", [60, 15 * 60, HOUR, DAY, 7 * DAY, 90 * DAY, 365 * DAY, 5 * 365 * DAY])
def test_every_lifetime_orders_its_reminders(keeper: Keeper, life: int):
    r = add(keeper, f"k{life}", life=life)
    p = plan(keeper, r)
    assert p.get("warning", -1) < p["critical"] <= p["expiry"]
    assert p["expiry"] == NOW + life


def test_an_overtaken_stage_is_closed(keeper: Keeper, clock):
    r = add(keeper, "month", life=30 * DAY)
    clock.advance(17 * DAY)
    keeper.schedule(r)
    assert [d.kind for d in keeper.due()] == [ReminderKind.WARNING]
    clock.advance(11 * DAY)          # day 28: critical is due too; the warning is overtaken
    keeper.schedule_all()            # what the dashboard, notify and reminders run
    assert [d.kind for d in keeper.due()] == [ReminderKind.CRITICAL]
    clock.advance(3 * DAY)           # expired
    keeper.schedule_all()
    assert [d.kind for d in keeper.due()] == [ReminderKind.EXPIRY]
