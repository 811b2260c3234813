"""The fast paths of the CLI give what the slow ones gave.

`check` and `list` read a plain command line without argparse (tui.cli_argv),
`check` reads its columns as JSON arrays and computes statuses without records
(tui.cli_check), and `iso_utc` formats with time.strftime. Each is compared
here with the way it was done before: argparse's namespace, a plain SELECT,
`status_of` on whole records, sorted(), datetime.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui import cli
from tui.cli_argv import parse_argv
from tui.cli_check import active_columns, column_statuses, in_order
from tui.cli_parser import build_parser
from tui.core.model import ExpirySource, KeyRecord, Kind, Lifecycle, Status, Thresholds
from tui.core.policy import DAY, HOUR, LABELS, status_of
from tui.core.report import iso_utc
from tui.services.store import Store

# ---- the command line -----------------------------------------------------------------------

TOKENS = [
    "check", "list", "import", "doctor", "--db", "--db=", "--db=x.db", "x.db", "", "-", "-1", "a b", "--",
    "--config", "--config=c.toml", "--endpoint-override", "--endpoint-override=127.0.0.1:9", "--allow-insecure-keyring",
    "--readonly", "--demo", "--warn", "--warn=5d", "5d", "--critical", "--critical=-1d", "1d", "--allow-never",
    "--json", "--json=1", "--quiet", "-q", "-qq", "--all", "--a", "--js", "--war", "--d", "-h", "--help", "--version",
    "--name", "x\udcff", "check=1",
]


def argparse_namespace(argv: list[str]) -> dict | None:
    """What argparse makes of argv (None when it stops: an error, --help, --version)."""
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            return vars(build_parser().parse_args(argv))
    except SystemExit:
        return None


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=7))
def test_the_fast_reading_is_argparses(argv: list[str]) -> None:
    fast = parse_argv(argv)
    if fast is not None:
        # The same attributes, values and order (the order decides which bad argument is named first).
        assert list(vars(fast).items()) == list((argparse_namespace(argv) or {}).items()), argv


@pytest.mark.parametrize("argv", [
    ["check"], ["--db", "k.db", "check"], ["check", "--db", "k.db", "--json"], ["check", "-q", "--allow-never"],
    ["check", "--warn=14d", "--critical", "3d"], ["--db=a", "check", "--db", "b"], ["--readonly", "check"],
    ["check", "--warn", "x\udcff"], ["list"], ["list", "--json", "--all", "--db", "k.db"], ["--demo", "list", "--json"],
    ["check", "--config", "c.toml", "--endpoint-override", "h:1", "--allow-insecure-keyring"],
])
def test_plain_command_lines_take_the_fast_path(argv: list[str]) -> None:
    fast = parse_argv(argv)
    assert fast is not None
    assert list(vars(fast).items()) == list(argparse_namespace(argv).items())


@pytest.mark.parametrize("argv", [
    [], ["check", "-h"], ["check", "--js"], ["check", "--readonly"], ["--warn", "5d", "check"], ["check", "extra"],
    ["check", "--db"], ["check", "--db", "-x.db"], ["check", "--warn", "-1d"], ["check", "--json=1"], ["check", "--"],
    ["list", "-q"], ["import", "--name", "x"], ["--version"], ["check", "list"],
])
def test_anything_else_goes_to_argparse(argv: list[str]) -> None:
    assert parse_argv(argv) is None


def test_check_and_list_never_build_the_parser(tmp_path: Path) -> None:
    """Nor read a settings file that is not there (tomllib), nor touch Textual, grpc, momento or the keyring."""
    db = tmp_path / "keys.db"
    Store(db).close()
    probe = (
        "import sys\n"
        "from tui.cli import main\n"
        f"for argv in (['--db', {str(db)!r}, 'check'], ['list', '--json', '--db', {str(db)!r}]):\n"
        "    assert main(argv) == 0\n"
        "bad = ('argparse', 'tomllib', 'keyring', 'textual', 'grpc', 'momento', 'tui.services.keeper')\n"
        "print('LOADED=' + ','.join(m for m in bad if m in sys.modules), file=sys.stderr)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "MOMENTO_KEYS_CONFIG": str(tmp_path / "missing.toml"), "TZ": "UTC"}
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60,
                       cwd=Path(__file__).resolve().parent.parent)
    assert p.returncode == 0, p.stderr
    assert "LOADED=\n" in p.stderr, p.stderr


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
    for i, seconds in enumerate(left):
        for issued in (None, NOW - DAY, NOW - 300 * DAY, NOW + seconds + 5):  # the last: issued after it expires
            for warn, crit in ((None, None), (30 * DAY, None), (None, 60), (HOUR, 60)):
                name = f"{NAMES[n % len(NAMES)]} {n}"
                store.add(record(name, expires=NOW + seconds, issued=issued, warn=warn, crit=crit), now=NOW)
                n += 1
    for source in (ExpirySource.UNKNOWN, ExpirySource.JWT_NO_EXP, ExpirySource.USER):
        store.add(record(f"no expiry {source.value}", expires=None, source=source), now=NOW)
    store.add(record("previous", expires=NOW - DAY, lifecycle=Lifecycle.PREVIOUS), now=NOW)
    store.add(record("retired", expires=NOW - DAY, lifecycle=Lifecycle.RETIRED), now=NOW)
    yield store
    store.close()


def test_the_columns_are_those_of_a_plain_select(mixed: Store) -> None:
    columns = active_columns(mixed)
    rows = mixed._read("SELECT expires_at, issued_at, expiry_source, warning_seconds, critical_seconds, name, id "
                       "FROM keys WHERE lifecycle = 'active'")
    assert sorted(zip(*columns), key=lambda row: row[-1]) == sorted(rows, key=lambda row: row[-1])
    assert len(rows) == mixed.count() - 2
    assert active_columns(mixed, ids=False) == columns[:-1]


def test_no_keys_no_columns(tmp_path: Path) -> None:
    store = Store(tmp_path / "empty.db")
    assert active_columns(store) == ([],) * 7
    assert column_statuses(active_columns(store), NOW, Thresholds()) == []


@pytest.mark.parametrize("thresholds", [Thresholds(), Thresholds(warning_seconds=7 * DAY, critical_seconds=DAY,
                                                                 warning_fraction=0.5, critical_fraction=0.75)])
def test_statuses_are_those_of_whole_records(mixed: Store, thresholds: Thresholds) -> None:
    columns = active_columns(mixed)
    by_id = {r.id: r for r in mixed.all()}
    expected = [status_of(by_id[rid], NOW + 0.5, thresholds) for rid in columns[-1]]
    assert column_statuses(columns, NOW + 0.5, thresholds) == expected
    assert set(expected) == set(Status)  # every status was tried


def test_check_thresholds_apply_to_keys_with_their_own(tmp_path: Path) -> None:
    """`check --warn` always applies (README), even to a key that only has its own critical threshold:
    a 1-hour token half used, with 2 hours for --warn, is a warning."""
    store = Store(tmp_path / "k.db")
    store.add(record("token", issued=NOW - 30 * 60, expires=NOW + 30 * 60, crit=60), now=NOW)
    explicit = replace(Thresholds(), warning_seconds=2 * HOUR, warning_explicit=True)
    assert column_statuses(active_columns(store), NOW, explicit) == [Status.WARNING]
    assert column_statuses(active_columns(store), NOW, Thresholds()) == [Status.OK]


EXPIRIES = st.one_of(st.none(), st.integers(NOW - 5, NOW + 5), st.integers(-2**40, 2**40))


@given(st.dictionaries(st.text(max_size=3), EXPIRIES, max_size=80), st.integers(0, 90))
def test_in_order_is_sorted(keys: dict[str, int | None], first: int) -> None:
    names, expires = list(keys), list(keys.values())
    flagged = [i for i in range(len(names)) if i % 3]
    expected = sorted(flagged, key=lambda i: (expires[i] is None, expires[i] or 0, names[i]))
    assert in_order(flagged, expires, names) == expected
    assert in_order(flagged, expires, names, first=first) == expected[:first]


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> float:
    """The CLI's clock (SystemClock: time.time) stopped half a second after NOW."""
    monkeypatch.setattr(time, "time", lambda: NOW + 0.5)
    return NOW + 0.5


def run_main(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue()


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
    return datetime.fromtimestamp(instant, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@given(st.one_of(st.integers(-10**12, 10**12), st.integers(-31_000_000_000, -30_000_000_000),
                 st.integers(253_402_300_000, 253_402_301_000), st.sampled_from([-30610224001, -30610224000,
                                                                                  253402300799, 253402300800, 0, -1]),
                 st.floats(-1e11, 1e11), st.integers(-2**70, 2**70)))
def test_iso_utc_is_what_datetime_writes(instant) -> None:
    try:
        expected = iso_utc_by_datetime(instant)
    except Exception as exc:  # out of datetime's range: the same error
        with pytest.raises(type(exc)):
            iso_utc(instant)
    else:
        assert iso_utc(instant) == expected


def test_check_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    import gc

    Store(tmp_path / "k.db").close()
    assert gc.isenabled()
    run_main("check", "--db", str(tmp_path / "k.db"))
    run_main("list", "--db", str(tmp_path / "k.db"))
    assert gc.isenabled()
