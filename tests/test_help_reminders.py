"""The help screen built from the live bindings and settings, the remembered theme, unknown
binding ids, `--demo` with the user's settings, the endpoint override in the header, the
reminders panel's undo and vocabulary, and start-up notices that leave when a screen opens
(Pilot, a real SQLite file, the real CLI where it is the CLI's behaviour)."""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
from dataclasses import replace
from pathlib import Path

import pytest
from textual.binding import BindingsMap
from textual.dom import DOMNode
from textual.widgets import DataTable, Input, Static

import tui
from tests.cli_support import cli_env, run_cli
from tests.conftest import NOW, make_v1, make_v2
from tests.test_app_reminders import seed, settle
from tui.app import MomentoKeysApp
from tui.core.clock import ManualClock
from tui.core.keymap import BINDING_IDS, unknown_ids_message
from tui.core.keys import inspect_text
from tui.core.model import Lifecycle, Thresholds
from tui.core.reminders import ReminderKind, ReminderState
from tui.factory import build_app, build_demo_app
from tui.screens.help import HelpScreen
from tui.screens.reminders import RemindersScreen
from tui.services.config import ConfigError, Settings, UiState, load_settings, starting_theme
from tui.services.keeper import Keeper

DAY = 86400
SIZE = (120, 36)




def with_settings(keeper: Keeper, **fields) -> Keeper:
    keeper.settings = replace(keeper.settings, **fields)
    return keeper


def help_text(app: MomentoKeysApp) -> str:
    """What the help shows, as text with whitespace folded."""
    from rich.console import Console

    screen = app.screen
    assert isinstance(screen, HelpScreen) and screen.shown is not None
    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    console.print(screen.shown)
    return " ".join(console.export_text().split())


def toasts(app: MomentoKeysApp) -> list[str]:
    return [n.message for n in app._notifications]


# ---- 1. the help screen: live bindings, configured thresholds --------------------------------

def test_every_binding_id_is_in_the_registry_and_every_registered_id_exists():
    """tui.core.keymap lists exactly the ids the app's screens and widgets bind: the settings
    loader and the help screen read it, so a binding added without it would be reported as
    unknown when remapped (and left out of the help)."""
    for module in pkgutil.walk_packages(tui.__path__, "tui."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    live: set[str] = set()
    seen: set[type] = set()
    stack = [DOMNode]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
    for cls in seen:
        if cls.__module__.startswith("tui.") and "BINDINGS" in vars(cls):
            live |= {b.id for _, b in BindingsMap(cls.BINDINGS) if b.id}
    from tui.app import MomentoKeysApp as App

    live |= {b.id for _, b in BindingsMap(App.BINDINGS) if b.id}
    assert live - BINDING_IDS == set(), "bindings missing from tui.core.keymap.SECTIONS"
    assert BINDING_IDS - live == set(), "ids in tui.core.keymap that no binding has"


async def test_help_shows_remapped_keys_and_the_configured_thresholds(keeper: Keeper, tmp_path: Path):
    thresholds = Thresholds(warning_seconds=10 * DAY, warning_fraction=0.5, critical_seconds=36 * 3600,
                            critical_fraction=0.8)
    with_settings(keeper, bindings={"filter": "f", "reminders": "m", "help": "f1"}, thresholds=thresholds,
                  clipboard_clear_seconds=20, source=tmp_path / "config.toml")
    seed(keeper, "orders", issued=NOW - DAY, expires=NOW + 30 * DAY)
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")  # remapped away: ? no longer opens the help
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        await settle(pilot)
        text = help_text(app)
        assert "f filter: name, region" in text and "/ filter" not in text
        assert "m reminders: due first" in text and "f1 this help" in text
        assert "10 days left, or 50 % of its lifetime used" in text
        assert "36 hours left, or 80 % of its lifetime used" in text
        assert "cleared after 20 seconds" in text
        assert "from the settings file" in text and str(tmp_path / "config.toml") in text
        assert "table.up table.down" in text  # each row names the id [bindings] remaps it by
        await pilot.press("escape")
        await settle(pilot)
        # The remapped keys are the live ones: f filters, m opens the reminders.
        await pilot.press("f")
        await settle(pilot)
        assert app.focused is app.dashboard.query_one("#filter", Input)


async def test_help_with_the_defaults_names_the_default_keys(keeper: Keeper):
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        text = help_text(app)
        assert "/ filter: name" in text and "r reminders" in text and "? this help" in text
        assert "14 days left, or 67 % of its lifetime used" in text and "3 days left, or 90 %" in text
        assert "Thresholds: defaults" in text
        for section in ("Dashboard", "Key details", "Reminders", "Timeline", "Wizard", "Status bands",
                        "Where things live", "Headless"):
            assert section in text


async def test_help_reads_at_60_by_20_and_scrolls(keeper: Keeper):
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        body = app.screen.query_one("#help-body")
        assert body.region.right <= 60 and body.region.bottom <= 20  # the whole dialog is on screen
        assert app.focused is body and body.max_scroll_y > 0
        await pilot.press("end")
        await settle(pilot)
        assert body.scroll_y == body.max_scroll_y > 0
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.dashboard


# ---- 2. the theme: remembered, with a documented precedence -------------------------------------

def test_starting_theme_precedence():
    assert starting_theme(None, {}).source == "default"
    assert starting_theme("nord", {}) == starting_theme("nord", {"theme": "x", "theme_over": "gruvbox"})
    assert starting_theme("nord", {}).name == "nord"
    # The last pick wins over [ui] theme while that setting is what it was when the pick was made.
    assert starting_theme("nord", {"theme": "dracula", "theme_over": "nord"}).name == "dracula"
    assert starting_theme(None, {"theme": "dracula", "theme_over": None}).source == "last pick"
    # [ui] theme edited since the pick: the file wins.
    assert starting_theme("gruvbox", {"theme": "dracula", "theme_over": "nord"}).name == "gruvbox"


async def test_a_picked_theme_is_remembered_for_the_next_start(keeper: Keeper, tmp_path: Path):
    state = UiState(tmp_path / "state" / "ui.json")
    app = build_app(keeper, ui_state=state, watch_interval=0, tick=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not state.path.exists()  # the start writes nothing
        app.theme = "nord"
        await settle(pilot)
    assert json.loads(state.path.read_text()) == {"theme": "nord", "theme_over": None}
    assert state.path.stat().st_mode & 0o777 == 0o600
    again = build_app(keeper, ui_state=state, watch_interval=0, tick=False)
    assert again.theme == "nord"
    # [ui] theme set since that pick: the settings file wins, and a new pick is remembered over it.
    with_settings(keeper, theme="gruvbox")
    third = build_app(keeper, ui_state=state, watch_interval=0, tick=False)
    assert third.theme == "gruvbox"
    async with third.run_test(size=SIZE) as pilot:
        await settle(pilot)
        third.theme = "dracula"
        await settle(pilot)
    assert json.loads(state.path.read_text()) == {"theme": "dracula", "theme_over": "gruvbox"}
    assert build_app(keeper, ui_state=state, watch_interval=0, tick=False).theme == "dracula"


async def test_read_only_mode_and_the_demo_never_write_the_theme(keeper: Keeper, tmp_path: Path):
    path = tmp_path / "ui.json"
    path.write_text(json.dumps({"theme": "nord", "theme_over": None}))
    before = path.read_text()
    for app in (build_app(keeper, readonly=True, ui_state=UiState(path), watch_interval=0, tick=False),
                build_demo_app(ManualClock(NOW), seed=1, ui_state=UiState(path), watch_interval=0, tick=False)):
        assert app.theme == "nord"  # read: the last pick applies
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.theme = "dracula"
            await settle(pilot)
        assert path.read_text() == before


async def test_a_theme_that_does_not_exist_is_reported(keeper: Keeper):
    with_settings(keeper, theme="no-such-theme")
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    assert app.theme == "textual-dark"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        [warning] = [t for t in toasts(app) if "no-such-theme" in t]
        assert "[ui] theme in the settings" in warning and "nord" in warning


def test_ui_theme_in_the_settings_file_is_typed(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[ui]\ntheme = "nord"\n')
    assert load_settings(path).theme == "nord"
    path.write_text('[ui]\ntheme = 3\n')
    with pytest.raises(ConfigError, match=r"ui\.theme must be the name of a theme"):
        load_settings(path)
    path.write_text('[ui]\ncolour = "red"\n')
    with pytest.raises(ConfigError, match=r"unknown setting ui\.colour"):
        load_settings(path)


# ---- 3. unknown binding ids are reported --------------------------------------------------------

def test_unknown_binding_ids_are_kept_aside_with_a_suggestion(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[bindings]\nfilter = "f"\nfitler = "g"\nnope = "h"\n')
    settings = load_settings(path)
    assert settings.bindings == {"filter": "f", "fitler": "g", "nope": "h"}  # the known ones still apply
    assert settings.unknown_bindings == ("fitler", "nope")
    [warning] = settings.warnings()
    assert str(path) in warning and "'fitler' (did you mean 'filter'?)" in warning and "'nope'" in warning
    assert "the valid ids are" in warning and "reminders.undo" in warning and "table.open" in warning
    path.write_text('[bindings]\nfilter = "f"\n')
    assert load_settings(path).warnings() == []


async def test_unknown_binding_ids_are_a_notification_at_start(keeper: Keeper):
    with_settings(keeper, bindings={"fitler": "f"}, unknown_bindings=("fitler",))
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        [note] = [n for n in app._notifications if n.title == "Settings"]
        assert "'fitler' (did you mean 'filter'?)" in note.message and "help screen lists every id" in note.message
        assert "new_key" not in note.message  # (a toast: the valid ids are in the help, config show, doctor)
        assert note.severity == "warning"
        # The help names it too, above the keys.
        await pilot.press("question_mark")
        await settle(pilot)
        assert "unknown binding id 'fitler'" in help_text(app)


def test_config_show_and_doctor_report_unknown_binding_ids(tmp_path: Path):
    env = cli_env(tmp_path, XDG_STATE_HOME=str(tmp_path / "state"), HOME=str(tmp_path / "home"))
    Path(env["MOMENTO_KEYS_CONFIG"]).write_text('[bindings]\nfitler = "f"\n[ui]\ntheme = "nord"\n')
    p = run_cli(env, "config", "show")
    assert p.returncode == 0, p.stderr
    assert "warning: " in p.stderr and "'fitler' (did you mean 'filter'?)" in p.stderr and "table.up" in p.stderr
    assert any(line.startswith("ui.theme") and "nord" in line and "file (" in line for line in p.stdout.splitlines())
    doc = json.loads(run_cli(env, "config", "show", "--json").stdout)
    assert doc["warnings"] == [f"{env['MOMENTO_KEYS_CONFIG']}: {unknown_ids_message(['fitler'])}"]
    assert doc["settings"]["ui.theme"]["value"] == "nord"
    assert doc["paths"]["ui_state"]["path"] == str(tmp_path / "state" / "momento-keys" / "ui.json")
    p = run_cli(env, "doctor", "--allow-insecure-keyring")
    assert p.returncode == 1 and "'fitler' (did you mean 'filter'?)" in p.stdout, p.stdout + p.stderr
    doctor = json.loads(run_cli(env, "doctor", "--json", "--allow-insecure-keyring").stdout)
    assert any("fitler" in problem for problem in doctor["problems"])
    # A remembered pick shows in config show, with the state file it comes from.
    state = tmp_path / "state" / "momento-keys" / "ui.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"theme": "dracula", "theme_over": "nord"}))
    theme = json.loads(run_cli(env, "config", "show", "--json").stdout)["settings"]["ui.theme"]
    assert theme == {"value": "dracula", "shown": "dracula", "source": "state", "from": str(state)}


# ---- 4. --demo honours the settings, and writes nothing of the user's ---------------------------

def test_demo_uses_the_settings_file_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from tui.cli import main

    config = tmp_path / "config.toml"
    config.write_text('[thresholds]\nwarning = "20d"\n[bindings]\nfilter = "f"\n[ui]\ntheme = "nord"\n')
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    db = tmp_path / "real.db"
    monkeypatch.setenv("MOMENTO_KEYS_DB", str(db))
    monkeypatch.setenv("MOMENTO_KEYS_ENDPOINT_OVERRIDE", "127.0.0.1:9090")
    built: list[MomentoKeysApp] = []
    monkeypatch.setattr(MomentoKeysApp, "run", lambda self, *a, **k: built.append(self))
    assert main(["--demo", "--config", str(config)]) == 0
    [app] = built
    assert app.services.settings.thresholds.warning_seconds == 20 * DAY
    assert app.services.settings.bindings == {"filter": "f"} and app.theme == "nord"
    assert app.services.store.path == ":memory:" or str(app.services.store.path) == ":memory:"
    assert app.ui_state is not None and app.ui_state.readonly
    assert app.endpoint_override == "127.0.0.1:9090"
    assert not db.exists()  # the user's database was never opened


async def test_demo_applies_thresholds_and_bindings(tmp_path: Path):
    settings = Settings(thresholds=Thresholds(warning_seconds=26 * DAY, warning_fraction=0.99,
                                              critical_seconds=DAY, critical_fraction=0.995),
                        bindings={"filter": "f"}, theme="gruvbox")
    app = build_demo_app(ManualClock(NOW), seed=1, settings=settings, watch_interval=0, tick=False)
    assert app.theme == "gruvbox"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # 26 days of warning: the showcase's 30-day staging key, 25 days from expiry, is in the
        # warning band (with the defaults, 14 days, it is not).
        roster = app.roster
        i = roster.index_of(app.services.store.find("session-store staging").id)
        assert roster.status(i, NOW).value == "warning"
        default = build_demo_app(ManualClock(NOW), seed=1, watch_interval=0, tick=False).services.store
        assert default.roster(Thresholds()).status(i, NOW).value == "ok"
        await pilot.press("f")
        await settle(pilot)
        assert app.focused is app.dashboard.query_one("#filter", Input)


# ---- 5. the endpoint override in the header -------------------------------------------------------

async def test_the_header_says_when_the_endpoint_override_is_on(keeper: Keeper):
    seed(keeper, "orders", issued=NOW - DAY, expires=NOW + 30 * DAY)
    app = build_app(keeper, endpoint_override="127.0.0.1:9090", watch_interval=0, tick=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        title = app.dashboard.sub_title
        assert title.startswith("⚠ endpoint override 127.0.0.1:9090 · 1 key · ")
        app.dashboard.refresh_title()  # (every refresh keeps it)
        assert "127.0.0.1:9090" in app.dashboard.sub_title
    plain = build_app(keeper, watch_interval=0, tick=False)
    async with plain.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "override" not in plain.dashboard.sub_title and plain.dashboard.sub_title.startswith("1 key")


def test_the_dashboard_command_passes_the_override_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from tui.cli import main

    built: list[MomentoKeysApp] = []
    monkeypatch.setattr(MomentoKeysApp, "run", lambda self, *a, **k: built.append(self))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert main(["--db", str(tmp_path / "k.db"), "--endpoint-override", "localhost:8080"]) == 0
    monkeypatch.setenv("MOMENTO_KEYS_ENDPOINT_OVERRIDE", "10.0.0.1:7\x1b[31m")
    assert main(["--db", str(tmp_path / "k.db")]) == 0
    assert main(["--db", str(tmp_path / "k.db"), "--readonly"]) == 0
    assert built[0].endpoint_override == "localhost:8080" and not built[0].ui_state.readonly
    assert built[1].endpoint_override == "10.0.0.1:7"  # (no escape sequence reaches the header)
    assert built[2].ui_state.readonly


# ---- 6. the reminders panel: dismiss vs done explained, undo, one vocabulary ---------------------

async def open_panel(pilot) -> RemindersScreen:
    await pilot.press("r")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RemindersScreen)
    return screen


def row_of(screen: RemindersScreen, name: str, kind: str) -> int:
    return next(i for i, r in enumerate(screen.reminders) if r.key_name == name and r.kind.value == kind)


async def test_panel_explains_dismiss_and_done_and_undoes_a_dismiss(keeper: Keeper, clock: ManualClock):
    seed(keeper, "due soon", issued=NOW - 20 * DAY, expires=NOW + 10 * DAY)
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_panel(pilot)
        line = str(screen.query_one("#reminders-keys", Static).render())
        assert "x dismiss: not needed, hide it" in line and "D done: handled" in line and "u undo" in line
        summary = str(screen.query_one("#reminders-summary", Static).render())
        assert "1 due" in summary and "upcoming" in summary and "pending" not in summary
        labels = [str(screen.query_one(DataTable).get_row_at(i)[0]).strip() for i in range(len(screen.reminders))]
        assert labels[0] == "● DUE" and set(labels[1:]) == {"upcoming"}
        [warning] = [r for r in keeper.store.reminders() if r.kind is ReminderKind.WARNING]
        keeper.store.claim_notifications(NOW)  # notified by cron: an undo keeps that mark
        screen.query_one(DataTable).move_cursor(row=row_of(screen, "due soon", "warning"))
        await pilot.press("x")
        await settle(pilot)
        assert keeper.store.reminder(warning.id).state is ReminderState.DISMISSED
        assert any("Dismissed the warning reminder of 'due soon' (u undoes)" in t for t in toasts(app))
        await pilot.press("u")
        await settle(pilot)
        back = keeper.store.reminder(warning.id)
        assert back.state is ReminderState.PENDING and back.notified_at == NOW and back.due_at == warning.due_at
        assert any(t.startswith("Undid the dismissal of the warning reminder of 'due soon': it is due again")
                   for t in toasts(app))
        assert [r.key_name for r in screen.reminders if r.is_due(NOW)] == ["due soon"]  # the panel shows it again
        await pilot.press("u")
        await settle(pilot)
        assert any(t.startswith("Nothing to undo here") for t in toasts(app))


async def test_undo_a_snooze_and_several_in_turn(keeper: Keeper):
    seed(keeper, "due soon", issued=NOW - 20 * DAY, expires=NOW + 10 * DAY)
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_panel(pilot)
        screen.query_one(DataTable).move_cursor(row=row_of(screen, "due soon", "warning"))
        [warning] = [r for r in keeper.store.reminders() if r.kind is ReminderKind.WARNING]
        await pilot.press("z")
        await settle(pilot)
        assert keeper.store.reminder(warning.id).state is ReminderState.SNOOZED
        screen.query_one(DataTable).move_cursor(row=row_of(screen, "due soon", "expiry"))
        [expiry] = [r for r in keeper.store.reminders() if r.kind is ReminderKind.EXPIRY]
        await pilot.press("x")
        await settle(pilot)
        assert keeper.store.reminder(expiry.id).state is ReminderState.DISMISSED
        await pilot.press("u")  # the last first: the dismissal
        await settle(pilot)
        assert keeper.store.reminder(expiry.id).state is ReminderState.PENDING
        assert keeper.store.reminder(warning.id).state is ReminderState.SNOOZED
        assert any("it is upcoming again, due 2027-" in t for t in toasts(app))
        await pilot.press("u")  # then the snooze
        await settle(pilot)
        back = keeper.store.reminder(warning.id)
        assert back.state is ReminderState.PENDING and back.snoozed_until is None
        assert any(t.startswith("Undid the snooze of the warning reminder of 'due soon': it is due again")
                   for t in toasts(app))


async def test_undo_a_done_switch_brings_the_old_key_back(keeper: Keeper):
    old = seed(keeper, "orders old", issued=NOW - 20 * DAY, expires=NOW + 10 * DAY)
    seed(keeper, "orders", issued=NOW - DAY, expires=NOW + 60 * DAY)
    old = keeper.edit(old, lifecycle=Lifecycle.PREVIOUS)
    keeper.store.add_reminder(old.id, ReminderKind.SWITCH, NOW - 60, now=NOW)
    open_before = {r.kind for r in keeper.store.reminders(key_id=old.id)}
    assert open_before == {ReminderKind.SWITCH, ReminderKind.EXPIRY}
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_panel(pilot)
        screen.query_one(DataTable).move_cursor(row=row_of(screen, "orders old", "switch"))
        await pilot.press("D")
        await settle(pilot)
        assert keeper.store.get(old.id).lifecycle is Lifecycle.RETIRED
        assert keeper.store.reminders(key_id=old.id) == []
        assert any("done: 'orders old' is retired (u undoes)" in t for t in toasts(app))
        await pilot.press("u")
        await settle(pilot)
        assert keeper.store.get(old.id).lifecycle is Lifecycle.PREVIOUS
        assert {r.kind for r in keeper.store.reminders(key_id=old.id)} == open_before
        assert any("and 'orders old' is no longer retired" in t for t in toasts(app))
        assert ("restored", "undo: its switch reminder is open again") in [
            (e.action, e.detail) for e in keeper.store.events(old.id)]


def test_undo_a_done_v2_switch_removes_the_revoke_reminder(keeper: Keeper):
    old = keeper.import_key(inspect_text(make_v2(expires=NOW + 10 * DAY)), "v2 old").record
    old = keeper.store.update(old.id, now=NOW, key_id="key-1", lifecycle=Lifecycle.PREVIOUS)
    keeper.store.add_reminder(old.id, ReminderKind.SWITCH, NOW - 60, now=NOW)
    [switch] = [r for r in keeper.store.reminders(key_id=old.id) if r.kind is ReminderKind.SWITCH]
    change = keeper.close(switch, ReminderState.DONE)
    assert ReminderKind.REVOKE in {r.kind for r in keeper.store.reminders(key_id=old.id)}
    assert keeper.undo(change) == "is due again"
    kinds = {r.kind for r in keeper.store.reminders(key_id=old.id, open_only=False)}
    assert ReminderKind.REVOKE not in kinds and keeper.store.reminder(switch.id).state is ReminderState.PENDING


def test_undo_of_a_reminder_whose_key_is_gone_says_so(keeper: Keeper):
    record = seed(keeper, "gone", issued=NOW - 20 * DAY, expires=NOW + 10 * DAY)
    [warning] = [r for r in keeper.store.reminders() if r.kind is ReminderKind.WARNING]
    change = keeper.close(warning)
    keeper.delete(record)
    with pytest.raises(Exception, match="no longer exists"):
        keeper.undo(change)


async def test_read_only_panel_cannot_undo(keeper: Keeper):
    seed(keeper, "due soon", issued=NOW - 20 * DAY, expires=NOW + 10 * DAY)
    keeper.schedule_all()
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0, readonly=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_panel(pilot)
        assert screen.check_action("undo", ()) is False and screen.check_action("done", ()) is False
        hint = str(screen.query_one("#reminders-keys").render())
        assert "read-only" in hint and "dismiss" not in hint  # no keys offered that do nothing


def test_cli_reminders_say_upcoming_as_the_panel_does_and_json_stays(tmp_path: Path):
    env = cli_env(tmp_path)
    key = tmp_path / "key.txt"
    key.write_text(make_v1(issued=NOW - 20 * DAY, expires=NOW + 400 * DAY))
    assert run_cli(env, "import", "--name", "later", "--file", str(key), "--allow-insecure-keyring").returncode == 0
    p = run_cli(env, "reminders")
    assert p.returncode == 0, p.stderr
    states = {line.split()[0] for line in p.stdout.splitlines()[1:] if line.strip()}
    assert states == {"UPCOMING"} and "PENDING" not in p.stdout
    assert {r["state"] for r in json.loads(run_cli(env, "reminders", "--json").stdout)} == {"pending"}
    assert "UPCOMING" in run_cli(env, "reminders", "--help").stdout


# ---- 7. start-up notices never cover a screen opened over the dashboard --------------------------

async def test_the_start_up_reminders_toast_leaves_when_a_screen_opens(keeper: Keeper):
    seed(keeper, "due soon", issued=NOW - 20 * DAY, expires=NOW + 10 * DAY)
    with_settings(keeper, bindings={"fitler": "f"}, unknown_bindings=("fitler",))
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert any("1 reminder due: due soon" in t for t in toasts(app))
        assert any("fitler" in t for t in toasts(app))
        app.notify("Copied 'orders'", timeout=30)  # not a start-up notice: it stays
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert not any("reminder due" in t or "fitler" in t for t in toasts(app))
        assert "Copied 'orders'" in toasts(app)
        shown = [str(t.render()) for t in app.screen.query("Toast")]
        assert not any("reminder due" in s for s in shown)
        await pilot.press("escape")
        await settle(pilot)
        # Back on the dashboard, the count stays in the summary line.
        assert "1 reminder due" in str(app.dashboard.query_one("#summary").render())
        assert not any("reminder due" in t for t in toasts(app))


async def test_no_reminders_toast_over_a_screen_already_open(keeper: Keeper):
    seed(keeper, "due soon", issued=NOW - 20 * DAY, expires=NOW + 10 * DAY)
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen) and not any("reminder due" in t for t in toasts(app))
        app.maintain()  # the upkeep at start, finishing while the help is open: no toast over it
        await settle(pilot)
        assert app.reminders_due == 1
        assert not any("reminder due" in t for t in toasts(app))


async def test_start_up_checks_run_even_when_a_screen_covers_the_dashboard_at_once(keeper: Keeper):
    """The rows arrive and, before the dashboard paints them, the user has opened the help: the
    reminders count, the upkeep and the keyring probe do not wait for the user to come back
    (they were queued on the dashboard's next refresh, which a covered screen never has)."""
    from tui.services.vault import Health

    seed(keeper, "due soon", issued=NOW - 20 * DAY, expires=NOW + 10 * DAY)
    keeper.vault.status = replace(keeper.vault.status, health=Health.UNCHECKED)

    class Quick(MomentoKeysApp):
        CSS_PATH = str(Path(tui.__file__).parent / "app.tcss")  # (a subclass's path is read beside its file)

        def on_records_loaded(self, message) -> None:
            super().on_records_loaded(message)
            if self.screen is self.dashboard:
                self.push_screen(HelpScreen())  # in the same turn: before the dashboard refreshes

    app = Quick(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert app.reminders_due == 1
        assert keeper.vault.status.health is not Health.UNCHECKED


def test_a_remap_to_something_that_is_no_key_is_reported_and_keeps_the_default(tmp_path: Path):
    config = tmp_path / "settings.toml"
    config.write_text('[bindings]\nfilter = "[/]"\nsort = "[@click=app.quit]"\nreload = "ctrl+r, f5"\n'
                      'timeline = ""\n')
    settings = load_settings(config)
    assert dict(settings.not_keys) == {"filter": "[/]", "sort": "[@click=app.quit]", "timeline": ""}
    assert settings.bindings == {"reload": "ctrl+r, f5"}  # only the real keys are applied
    warnings = " ".join(settings.warnings())
    assert "filter = '[/]' is not a key" in warnings and "its default key stays" in warnings


async def test_a_key_that_is_no_key_leaves_the_default_working(keeper: Keeper, tmp_path: Path):
    config = tmp_path / "settings.toml"
    config.write_text('[bindings]\nfilter = "[/]"\n')
    with_settings(keeper, **{f: getattr(load_settings(config), f) for f in ("bindings", "not_keys", "source")})
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert any("is not a key" in t for t in toasts(app))
        await pilot.press("slash")
        await settle(pilot)
        assert app.focused is app.dashboard.query_one("#filter", Input)
