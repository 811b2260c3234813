"""The fast paths of the CLI give what the slow ones gave.

`check` and `list` build the parser of their own sub-command only (tui.cli.parser),
`check` lets SQLite compute every key's status (`core.policy.band_sql`) and reads only
the keys it shows, and `iso_utc` formats with time.strftime. Each is compared here with
the way it was done before: the whole parser, `status_of` on whole records, sorted(),
datetime.
"""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cli_support import run_main
from tui import cli
from tui.cli.check import flagged, status_counts
from tui.cli.parser import SUBCOMMANDS, build_parser, plain_command
from tui.core.model import ExpirySource, KeyRecord, Kind, Lifecycle, Status, Thresholds
from tui.core.policy import DAY, HOUR, LABELS, band_sql, status_of
from tui.core.report import iso_utc
from tui.services.store import Store

# ---- the command line -----------------------------------------------------------------------

TOKENS = [
    "check", "list", "import", "doctor", "verify", "--db", "--db=", "--db=x.db", "x.db", "", "-", "-1", "a b", "--",
    "--config", "--config=c.toml", "--endpoint-override", "--endpoint-override=127.0.0.1:9", "--allow-insecure-keyring",
    "--readonly", "--demo", "--warn", "--warn=5d", "5d", "--critical", "--critical=-1d", "1d", "--allow-never",
    "--json", "--json=1", "--quiet", "-q", "-qq", "--all", "--a", "--js", "--war", "--d", "-h", "--help", "--version",
    "--name", "x\udcff", "check=1", "--timeout", "snooze", "--he",
]


def outcome(parser_for, argv: list[str]) -> tuple:
    """What a parser makes of argv: its namespace (in order) or exit code, and all it printed."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            result: object = list(vars(parser_for(argv).parse_args(argv)).items())
        except SystemExit as exc:
            result = exc.code
    return result, out.getvalue(), err.getvalue()


def fast(argv: list[str]):
    return build_parser(plain_command(argv))


def whole(argv: list[str]):
    return build_parser()


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=7))
def test_the_fast_parser_reads_as_the_whole_one(argv: list[str]) -> None:
    """The same namespace (attributes, values and order: the order decides which bad argument
    is named first), or the same exit code, usage and error, and the same help."""
    assert outcome(fast, argv) == outcome(whole, argv), argv


@pytest.mark.parametrize("argv, command", [
    (["check"], "check"), (["--db", "k.db", "check"], "check"), (["check", "--db", "k.db", "--json"], "check"),
    (["--db=a", "check", "--db", "b"], "check"), (["--readonly", "check"], "check"), (["list"], "list"),
    (["--demo", "list", "--json"], "list"), (["--endpoint-override", "h:1", "verify", "x"], "verify"),
    (["check", "-h"], "check"), (["check", "--js"], "check"), (["check", "extra"], "check"),
])
def test_plain_command_lines_build_one_sub_command(argv: list[str], command: str) -> None:
    assert plain_command(argv) == command
    assert outcome(fast, argv) == outcome(whole, argv)


@pytest.mark.parametrize("argv", [
    [], ["-h", "check"], ["--help"], ["--version"], ["--d", "x", "check"], ["--warn", "5d", "check"], ["--", "check"],
    ["nothing"], ["--db"], ["--db", "k.db"],
])
def test_anything_else_builds_every_sub_command(argv: list[str]) -> None:
    assert plain_command(argv) is None


def test_every_sub_command_has_a_handler() -> None:
    """The parser and the dispatch name the same commands, and each handler exists."""
    assert set(cli.COMMANDS) - {None} == set(SUBCOMMANDS)
    for command in cli.COMMANDS:
        assert callable(cli.handler(command))


def test_check_and_list_build_only_their_own_parser(tmp_path: Path) -> None:
    """Nor read a settings file that is not there (tomllib), nor touch Textual, grpc, momento or the keyring."""
    db = tmp_path / "keys.db"
    Store(db).close()
    probe = (
        "import sys\n"
        "from tui.cli import main, parser\n"
        "built = []\n"
        "for name, add in list(parser.SUBCOMMANDS.items()):\n"
        "    parser.SUBCOMMANDS[name] = lambda sub, common, _add=add, _name=name: (built.append(_name), _add(sub, common))\n"
        f"for argv in (['--db', {str(db)!r}, 'check'], ['list', '--json', '--db', {str(db)!r}]):\n"
        "    assert main(argv) == 0\n"
        "print('BUILT=' + ','.join(built), file=sys.stderr)\n"
        "bad = ('tomllib', 'keyring', 'textual', 'grpc', 'momento', 'tui.services.keeper', 'typing', 'shutil',\n"
        "       'logging', 'tui.services.log')\n"
        "print('LOADED=' + ','.join(m for m in bad if m in sys.modules), file=sys.stderr)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "MOMENTO_KEYS_CONFIG": str(tmp_path / "missing.toml"), "TZ": "UTC"}
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60,
                       cwd=Path(__file__).resolve().parent.parent)
    assert p.returncode == 0, p.stderr
    assert "BUILT=check,list\n" in p.stderr, p.stderr
    assert "LOADED=\n" in p.stderr, p.stderr
    assert set(SUBCOMMANDS) >= {"check", "list"}


# ---- the columns and statuses of `check` ----------------------------------------------------

NOW = int(time.time())
NAMES = ["plain", "with 'quotes' and \"doubles\"", "back\\slash", "名前 ünïcode", "tab\there", "emoji 🔑", "a,b",
         "null", "[1]", "x" * 100]


def record(name: str, *, expires: int | None, issued: int | None = None, source: ExpirySource = ExpirySource.JWT_EXP,
           warn: int | None = None, crit: int | None = None, lifecycle: Lifecycle = Lifecycle.ACTIVE) -> KeyRecord:
    return KeyRecord(name=name, kind=Kind.V1, expires_at=expires, issued_at=issued, expiry_source=source,
                     warning_seconds=warn, critical_seconds=crit, lifecycle=lifecycle, fingerprint=f"fp-{name}")


@pytest.fixture
def mixed(tmp_path: Path) -> Store:
    """Keys in every state, with and without their own thresholds, and some not active."""
    store = Store(tmp_path / "mixed.db")
    left = [-30 * DAY, -1, 0, 1, HOUR, 2 * DAY, 3 * DAY, 3 * DAY + 1, 10 * DAY, 14 * DAY, 20 * DAY, 400 * DAY, 2**40]
    n = 0
    for seconds in left:
        for issued in (None, NOW - DAY, NOW - 300 * DAY, NOW + seconds + 5):  # the last: issued after it expires
            for warn, crit in ((None, None), (30 * DAY, None), (None, 60), (HOUR, 60)):
                name = f"{NAMES[n % len(NAMES)]} {n}"
                store.add(record(name, expires=NOW + seconds, issued=issued, warn=warn, crit=crit), now=NOW)
                n += 1
    for source in (ExpirySource.UNKNOWN, ExpirySource.JWT_NO_EXP, ExpirySource.USER):
        store.add(record(f"no expiry {source.value}", expires=None, source=source), now=NOW)
    store.add(record("previous", expires=NOW - DAY, lifecycle=Lifecycle.PREVIOUS), now=NOW)
    store.add(record("retired", expires=NOW - DAY, lifecycle=Lifecycle.RETIRED), now=NOW)
    # v2 keys the account no longer lists: revoked, whatever their expiry says.
    for name, expires in (("revoked soon", NOW + HOUR), ("revoked later", NOW + 400 * DAY), ("revoked never", None)):
        store.add(replace(record(name, expires=expires, source=ExpirySource.V2_METADATA), kind=Kind.V2,
                          revoked_at=NOW - DAY), now=NOW)
    yield store
    store.close()


def sql_statuses(store: Store, thresholds: Thresholds, now: float) -> dict[int, Status]:
    """Every active key's status as `band_sql` computes it, by id."""
    status, params = band_sql(thresholds, now)
    rows = store._read(f"SELECT id, {status} FROM keys WHERE lifecycle = 'active'", params)  # type: ignore[arg-type]
    return {i: Status(s) for i, s in rows}


THRESHOLDS = [
    Thresholds(),
    Thresholds(warning_seconds=7 * DAY, critical_seconds=DAY, warning_fraction=0.5, critical_fraction=0.75),
    replace(Thresholds(), warning_seconds=400 * DAY, warning_explicit=True),
    replace(Thresholds(), warning_seconds=2 * HOUR, critical_seconds=HOUR, warning_explicit=True, critical_explicit=True),
    # `check --warn 5d --critical 1d`: the command line's times are the whole policy (fractions off).
    replace(Thresholds(), warning_seconds=5 * DAY, critical_seconds=DAY, warning_fraction=1.0, critical_fraction=1.0,
            warning_explicit=True, critical_explicit=True),
]


@pytest.mark.parametrize("thresholds", THRESHOLDS)
@pytest.mark.parametrize("at", [NOW, NOW + 0.5, NOW - 1.25])
def test_statuses_are_those_of_whole_records(mixed: Store, thresholds: Thresholds, at: float) -> None:
    records = [r for r in mixed.all() if r.lifecycle is Lifecycle.ACTIVE]
    expected = {r.id: status_of(r, at, thresholds) for r in records}
    assert sql_statuses(mixed, thresholds, at) == expected
    assert set(expected.values()) == set(Status)  # every status was tried
    counts = {s: list(expected.values()).count(s) for s in Status}
    assert status_counts(mixed, thresholds, at) == {s: n for s, n in counts.items() if n}


def test_no_keys_no_statuses(tmp_path: Path) -> None:
    store = Store(tmp_path / "empty.db")
    assert status_counts(store, Thresholds(), NOW) == {}
    assert flagged(store, Thresholds(), NOW, (Status.OK,)) == []


def test_check_thresholds_apply_to_keys_with_their_own(tmp_path: Path) -> None:
    """`check --warn` always applies (README), even to a key that only has its own critical threshold:
    a 1-hour token half used, with 2 hours for --warn, is a warning."""
    store = Store(tmp_path / "k.db")
    store.add(record("token", issued=NOW - 30 * 60, expires=NOW + 30 * 60, crit=60), now=NOW)
    explicit = replace(Thresholds(), warning_seconds=2 * HOUR, warning_explicit=True)
    assert list(sql_statuses(store, explicit, NOW).values()) == [Status.WARNING]
    assert list(sql_statuses(store, Thresholds(), NOW).values()) == [Status.OK]


INSTANTS = st.one_of(st.none(), st.integers(NOW - 10 * DAY, NOW + 400 * DAY), st.integers(NOW - 5, NOW + 5),
                     st.integers(-2**40, 2**40))
OWN = st.one_of(st.none(), st.integers(1, 400 * DAY))
ROWS = st.lists(st.tuples(INSTANTS, INSTANTS, st.sampled_from([e.value for e in ExpirySource]), OWN, OWN,
                          st.one_of(st.none(), st.none(), st.integers(NOW - 10 * DAY, NOW))),  # revoked_at
                min_size=1, max_size=30)


FRACTIONS = st.one_of(st.floats(0.01, 0.99), st.just(1.0))  # 1.0: off (`check --warn/--critical`)


@settings(max_examples=300, deadline=None)
@given(ROWS, st.integers(1, 400 * DAY), st.integers(1, 400 * DAY), FRACTIONS, FRACTIONS,
       st.booleans(), st.booleans(), st.one_of(st.integers(NOW - 10, NOW + 10), st.floats(NOW - 10, NOW + 10)))
def test_band_sql_is_band(rows, warn, crit, warn_f, crit_f, warn_x, crit_x, now) -> None:
    """Any key, any thresholds, any instant: SQLite's status is `status_of`'s."""
    thresholds = Thresholds(warning_seconds=warn, critical_seconds=crit, warning_fraction=warn_f,
                            critical_fraction=crit_f, warning_explicit=warn_x, critical_explicit=crit_x)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE keys (expires_at INTEGER, issued_at INTEGER, expiry_source TEXT, "
               "warning_seconds INTEGER, critical_seconds INTEGER, revoked_at INTEGER)")
    db.executemany("INSERT INTO keys VALUES (?, ?, ?, ?, ?, ?)", rows)
    status, params = band_sql(thresholds, now)
    got = [Status(s) for (s,) in db.execute(f"SELECT {status} FROM keys ORDER BY rowid", params)]
    expected = [status_of(KeyRecord(name="k", kind=Kind.V1, expires_at=e, issued_at=i, expiry_source=ExpirySource(src),
                                    warning_seconds=w, critical_seconds=c, revoked_at=r), now, thresholds)
                for e, i, src, w, c, r in rows]
    assert got == expected


@pytest.mark.parametrize("hidden", [(Status.OK,), (Status.OK, Status.NEVER)])
@pytest.mark.parametrize("limit", [None, 0, 1, 7, 50, 10_000])
def test_flagged_keys_come_in_report_order(mixed: Store, hidden: tuple[Status, ...], limit: int | None) -> None:
    """Soonest expiry first, never/unknown last, then by name; the first ``limit`` of them."""
    at = NOW + 0.5
    records = [r for r in mixed.all() if r.lifecycle is Lifecycle.ACTIVE]
    shown = sorted((r for r in records if status_of(r, at, Thresholds()) not in hidden),
                   key=lambda r: (r.expires_at is None, r.expires_at or 0, r.name))
    expected = [(status_of(r, at, Thresholds()), r.expires_at, r.name, r.id) for r in shown]
    assert flagged(mixed, Thresholds(), at, hidden, limit) == (expected if limit is None else expected[:limit])


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> float:
    """The CLI's clock (SystemClock: time.time) stopped half a second after NOW."""
    monkeypatch.setattr(time, "time", lambda: NOW + 0.5)
    return NOW + 0.5




@pytest.mark.parametrize("allow_never", [False, True])
def test_check_reports_the_keys_of_whole_records(mixed: Store, allow_never: bool, frozen: float) -> None:
    """The report names the first 50 keys needing attention (soonest expiry first, never/unknown last,
    then by name) with their status and time; --json gives them all, as records."""
    db = str(mixed.path)
    extra = ["--allow-never"] if allow_never else []
    code, out = run_main("--db", db, "check", *extra)
    records = [r for r in mixed.all() if r.lifecycle is Lifecycle.ACTIVE]
    statuses = {r.name: status_of(r, frozen, Thresholds()) for r in records}
    attention = sorted((r for r in records if statuses[r.name] is not Status.OK
                        and not (allow_never and statuses[r.name] is Status.NEVER)),
                       key=lambda r: (r.expires_at is None, r.expires_at or 0, r.name))
    lines = out.splitlines()
    assert code == 2 and lines[0] == f"CRITICAL: {len(records)} keys checked, {len(attention)} need attention"
    shown = lines[1:51]
    assert [line[2:15].rstrip() for line in shown] == [LABELS[statuses[r.name]] for r in attention[:50]]
    assert [line[16:].rsplit(": ", 1)[0] for line in shown] == [r.name for r in attention[:50]]
    assert lines[51] == f"  … and {len(attention) - 50} more (use --json for all)"

    code, out = run_main("--db", db, "check", "--json", *extra)
    doc = json.loads(out)
    assert [k["name"] for k in doc["keys"]] == [r.name for r in attention]
    assert doc["counts"] == {s.value: n for s in Status if (n := list(statuses.values()).count(s))}
    assert doc["checked"] == len(records) and doc["exit_code"] == code == 2


def test_check_report_with_few_keys_lists_undated_ones_by_name(tmp_path: Path, frozen: float) -> None:
    store = Store(tmp_path / "few.db")
    for name, expires, source in (("b", None, ExpirySource.UNKNOWN), ("a", None, ExpirySource.JWT_NO_EXP),
                                  ("late", NOW + 2 * DAY, ExpirySource.JWT_EXP), ("ok", NOW + 90 * DAY, ExpirySource.JWT_EXP),
                                  ("gone", NOW - 3 * HOUR, ExpirySource.JWT_EXP)):
        store.add(record(name, expires=expires, source=source), now=NOW)
    code, out = run_main("--db", str(store.path), "check")
    assert code == 2
    assert out.splitlines() == [
        "CRITICAL: 5 keys checked, 4 need attention",
        "  EXPIRED       gone: expired 3h ago",
        "  CRITICAL      late: 1d 23h left",
        "  NEVER EXPIRES a: never expires (Momento advises against it)",
        "  UNKNOWN       b: expiry unknown",
    ]


# ---- report.iso_utc -------------------------------------------------------------------------

def iso_utc_by_datetime(instant):
    """What datetime writes, with four-digit years; beyond datetime's range, its edge (any
    instant a key can carry must display: issue 11, dates at the edge)."""
    try:
        d = datetime.fromtimestamp(instant, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return "9999-12-31T23:59:59Z" if instant > 0 else "0001-01-01T00:00:00Z"
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}Z"


@given(st.one_of(st.integers(-10**12, 10**12), st.integers(-31_000_000_000, -30_000_000_000),
                 st.integers(253_402_300_000, 253_402_301_000), st.sampled_from([-30610224001, -30610224000,
                                                                                  253402300799, 253402300800, 0, -1]),
                 st.floats(-1e11, 1e11), st.integers(-2**70, 2**70)))
def test_iso_utc_is_what_datetime_writes(instant) -> None:
    assert iso_utc(instant) == iso_utc_by_datetime(instant)


def test_check_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    import gc

    Store(tmp_path / "k.db").close()
    assert gc.isenabled()
    run_main("check", "--db", str(tmp_path / "k.db"))
    run_main("list", "--db", str(tmp_path / "k.db"))
    assert gc.isenabled()
