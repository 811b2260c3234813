"""The momento-keys benchmark suite.

    .venv/bin/python -m bench            # full run, a few minutes on 2 cores
    .venv/bin/python -m bench --quick    # smoke run: every measurement, fewer repeats

Prints one table (each figure with its target and PASS/FAIL) and writes every
sample to bench/results/latest.json. See bench/README.md for the method.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import gen
from .proc import COLUMNS, LINES, ROOT, AppRun, child_env, imported_modules, run_app, wall_time

RESULTS = ROOT / "bench" / "results" / "latest.json"
MB = 1024 * 1024
STARTUP_SIZES = (0, 1_000, 10_000)
TICK_SIZES = (1_000, 10_000, 100_000)
HEAVY = 100_000
FORBIDDEN_IN_CLI = ("textual", "grpc", "momento")


@dataclass(frozen=True)
class Plan:
    launches: int     # per kind, for start-up (bare app, 0, 1k, 10k records)
    heavy: int        # launches with 100k records (loading, memory)
    ticks: int        # ticks per session (and half as many again, scrolled), 1k and 10k records
    heavy_ticks: int  # the same with 100k records
    keys: int         # filter keystrokes, 10k records
    cli: int          # runs of each command
    syncs: int = 5    # account syncs of 1,000 keys (figure 8)
    sync_ui: int = 3  # dashboard rounds with a sync running (figure 9)


FULL = Plan(launches=7, heavy=3, ticks=20, heavy_ticks=10, keys=14, cli=7, syncs=5)
QUICK = Plan(launches=2, heavy=1, ticks=5, heavy_ticks=3, keys=7, cli=3, syncs=2, sync_ui=1)


# ---- statistics and the table ---------------------------------------------------------

@dataclass
class Stat:
    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, samples: list[float]) -> Stat:
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))

    def scaled(self, factor: float) -> Stat:
        return Stat(self.median * factor, self.low * factor, self.high * factor, self.n)


@dataclass
class Row:
    section: str
    label: str
    stat: Stat | None
    unit: str
    target: str = ""
    passed: bool | None = None
    note: str = ""
    value_text: str = ""  # instead of the stat, for non-numeric results

    @property
    def result(self) -> str:
        return "" if self.passed is None else "PASS" if self.passed else "FAIL"


def fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value * 1000:,.1f} ms" if value < 0.1 else f"{value * 1000:,.0f} ms"
    if unit == "s":
        return f"{value:,.2f} s"
    if unit == "MB":
        return f"{value / MB:,.1f} MB"
    if unit == "B":
        return f"{value:,.0f} B"
    if unit == "x":
        return f"{value:,.2f}×"
    return f"{value:,.1f}"


def render_table(rows: list[Row]) -> str:
    header = ("#", "measurement", "median", "min – max (n)", "target", "result")
    lines = []
    for r in rows:
        if r.stat is None:
            value, spread = r.value_text, ""
        else:
            value = fmt(r.stat.median, r.unit)
            spread = "" if r.stat.n < 2 else \
                f"{fmt(r.stat.low, r.unit)} – {fmt(r.stat.high, r.unit)} ({r.stat.n})"
        lines.append((r.section, r.label, value, spread, r.target, r.result))
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
           "  ".join("-" * w for w in widths)]
    previous = None
    for (section, *rest), r in zip(lines, rows):
        if previous is not None and section != previous:
            out.append("")
        previous = section
        out.append("  ".join(str(x).ljust(w) for x, w in zip((section, *rest), widths)).rstrip())
        if r.note:
            out.append(" " * (widths[0] + 2) + "  " + r.note)
    return "\n".join(out)


# ---- running ----------------------------------------------------------------------------

class Bench:
    def __init__(self, plan: Plan, tmp: Path, log=print) -> None:
        self.plan = plan
        self.tmp = tmp
        self.log = log
        self.started = time.perf_counter()
        self.now = int(time.time())
        self.dbs: dict[int, Path] = {}
        self.raw: dict = {}

    def say(self, text: str) -> None:
        self.log(f"[{time.perf_counter() - self.started:5.0f}s] {text}")

    def launch(self, records: int | None) -> AppRun:
        if records is None:
            return run_app(["bare"], self.tmp)
        return run_app(["dashboard", "--db", str(self.dbs[records]), "--records", str(records)], self.tmp)

    # ---- steps ---------------------------------------------------------------------------
    def make_databases(self) -> None:
        for n in sorted({0, *STARTUP_SIZES, *TICK_SIZES, HEAVY}):
            self.say(f"generating a database of {n:,} keys")
            self.dbs[n] = gen.make_db(self.tmp / f"keys-{n}.db", n, self.now)

    def warm_up(self) -> None:
        """Unmeasured launches: they compile the .pyc files and warm the page
        cache. (The sessions, which run first, have already opened the other
        databases once and so done the app's once-per-database work, such as
        writing reminder schedules, as for any database a user opened before.)"""
        self.say("warm-up launches (not measured)")
        self.launch(None)
        self.launch(0)

    def startup(self) -> None:
        kinds: list[int | None] = [None, *STARTUP_SIZES]
        runs: dict[str, list[dict]] = {str(k): [] for k in kinds}
        for i in range(self.plan.launches):
            self.say(f"start-up round {i + 1}/{self.plan.launches}")
            for kind in kinds:  # interleaved, so drift hits every kind alike
                run = self.launch(kind)
                key = "painted_at" if kind is None else "listed_at"
                runs[str(kind)].append(self.relative(run, {"first_paint": key}))
        self.raw["startup"] = runs

    def heavy(self) -> None:
        runs = []
        for i in range(self.plan.heavy):
            self.say(f"launch with {HEAVY:,} keys {i + 1}/{self.plan.heavy}")
            runs.append(self.relative(self.launch(HEAVY), {"first_paint": "listed_at"}))
        self.raw["heavy"] = runs

    @staticmethod
    def relative(run: AppRun, aliases: dict[str, str]) -> dict:
        """The child's instants as seconds since launch, plus its counters."""
        out = {k: (v - run.launched_at if k.endswith("_at") else v) for k, v in run.result.items()}
        for alias, key in aliases.items():
            out[alias] = out[key]
        out["terminal_bytes"] = run.terminal_bytes
        return out

    def sessions(self) -> None:
        """One long-running dashboard per size: ticks (and, at 10k, the filter)."""
        self.raw["sessions"] = {}
        for n in TICK_SIZES:
            heavy = n == HEAVY
            ticks = self.plan.heavy_ticks if heavy else self.plan.ticks
            views = "top,soon"
            keys = self.plan.keys if n == 10_000 else 0
            self.say(f"session with {n:,} keys: {ticks} ticks per view ({views}), {keys} filter keystrokes")
            run = run_app(["dashboard", "--db", str(self.dbs[n]), "--records", str(n), "--session",
                           "--now", str(self.now), "--ticks", str(ticks), "--warmup", "1" if heavy else "2",
                           "--views", views, "--keys", str(keys)], self.tmp, timeout=900)
            self.raw["sessions"][str(n)] = run.result

    def cli(self) -> None:
        db = str(self.dbs[10_000])
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "check": [sys.executable, "-m", "tui", "check", "--db", db],
            "list --json": [sys.executable, "-m", "tui", "list", "--json", "--db", db],
        }
        # The installed command, the way cron runs it (the target is measured on it).
        script = Path(sys.executable).parent / "momento-keys"
        if script.exists():
            commands["momento-keys check"] = [str(script), "check", "--db", db]
        ok = {"check": (0, 1, 2, 3), "momento-keys check": (0, 1, 2, 3)}  # the exit code is the verdict
        for name, argv in commands.items():  # warm-up
            wall_time(argv, self.tmp, ok_codes=ok.get(name, (0,)))
        times: dict[str, list[float]] = {name: [] for name in commands}
        for i in range(self.plan.cli):
            self.say(f"CLI round {i + 1}/{self.plan.cli}")
            for name, argv in commands.items():
                times[name].append(wall_time(argv, self.tmp, ok_codes=ok.get(name, (0,))))
        imports = {name: sorted(m for m in imported_modules(argv, self.tmp)
                                if m.split(".")[0] in FORBIDDEN_IN_CLI)
                   for name, argv in commands.items() if name != "python -c pass"}
        self.raw["cli"] = {"times": times, "forbidden_imports": imports}

    def account_sync(self) -> None:
        """Figure 8, in its own process (bench/sync.py): the sync and its local account server."""
        self.say(f"account sync of 1,000 keys, {self.plan.syncs} rounds")
        out = self.tmp / "sync.json"
        subprocess.run([sys.executable, "-m", "bench.sync", "--rounds", str(self.plan.syncs), "--json", str(out)],
                       cwd=ROOT, env=child_env(self.tmp), capture_output=True, text=True, timeout=600)
        self.raw["sync"] = json.loads(out.read_text()) if out.exists() else None

    def sync_ui(self) -> None:
        """Figure 9, in its own process (bench/sync_ui.py): key presses while a sync runs."""
        self.say(f"key presses during an account sync, {self.plan.sync_ui} rounds")
        out = self.tmp / "sync_ui.json"
        subprocess.run([sys.executable, "-m", "bench.sync_ui", "--rounds", str(self.plan.sync_ui), "--json",
                        str(out)], cwd=ROOT, env=child_env(self.tmp), capture_output=True, text=True, timeout=600)
        self.raw["sync_ui"] = json.loads(out.read_text()) if out.exists() else None

    # ---- the verdicts -------------------------------------------------------------------
    def rows(self) -> list[Row]:
        rows: list[Row] = []
        raw = self.raw

        # 1. start-up
        st = {k: Stat.of([r["first_paint"] for r in v]) for k, v in raw["startup"].items()}
        floor = st["None"].median
        rows.append(Row("1", "start-up: bare Textual app, one Static (the floor)", st["None"], "ms"))
        for n in STARTUP_SIZES:
            target, passed, note = "", None, ""
            if n == 0:
                imported = raw["startup"]["0"][0].get("optional_imports") or ["none"]
                note = f"a plain launch imports {', '.join(imported)}"
            if n == 10_000:
                target, passed = f"≤ 1.5× floor = {fmt(1.5 * floor, 'ms')}", st[str(n)].median <= 1.5 * floor
                note = f"{st[str(n)].median / floor:.2f}× the floor"
            rows.append(Row("1", f"start-up: dashboard showing {n:,} keys", st[str(n)], "ms", target, passed, note))

        # 2. ticks
        sess = raw["sessions"]

        def ticks(n: int, view: str = "top") -> list[dict]:
            return [t for t in sess[str(n)]["ticks"] if t["view"] == view]

        tick = {n: Stat.of([t["main"] for t in ticks(n)]) for n in TICK_SIZES}
        for n in TICK_SIZES:
            paint = Stat.of([t["main_paint"] for t in ticks(n)])
            proc = Stat.of([t["process"] for t in ticks(n)])
            target, passed = ("≤ 5 ms", tick[n].median <= 0.005) if n == HEAVY else ("", None)
            rows.append(Row("2", f"tick: main thread, {n:,} keys", tick[n], "ms", target, passed,
                            note=f"tick's own frame {fmt(paint.median, 'ms')}; all threads incl. workers "
                                 f"{fmt(proc.median, 'ms')}"))
        soon = ticks(10_000, "soon")
        if soon:
            rows.append(Row("2", "tick: main thread, 10,000 keys, scrolled to keys expiring within a day",
                            Stat.of([t["main"] for t in soon]), "ms",
                            note=f"tick's own frame {fmt(Stat.of([t['main_paint'] for t in soon]).median, 'ms')}"))
        for n in (1_000, HEAVY):
            soon = ticks(n, "soon")
            if soon and n != 10_000:
                rows.append(Row("2", f"tick: main thread, {n:,} keys, scrolled to keys expiring within a day",
                                Stat.of([t["main"] for t in soon]), "ms",
                                note=f"{statistics.median(t['changed_cells'] for t in soon):g} cells changed "
                                     f"on screen (median)"))
        # The cost should follow what is on screen, not the total: compare ticks that
        # change the same screen (every visible countdown). As opened, the top rows
        # expired long ago and rarely change; there the figure also reflects that with
        # more keys some band count in the summary line changes nearly every second.
        opened = tick[HEAVY].median / tick[1_000].median
        rows.append(Row("2", "tick: 100,000 ÷ 1,000, as opened", None, "x", value_text=f"{opened:.2f}×",
                        note=f"cells changed on screen (median): "
                             f"{statistics.median(t['changed_cells'] for t in ticks(1_000)):g} at 1,000, "
                             f"{statistics.median(t['changed_cells'] for t in ticks(HEAVY)):g} at 100,000"))
        soon_1k, soon_heavy = ticks(1_000, "soon"), ticks(HEAVY, "soon")
        if soon_1k and soon_heavy:
            ratio = statistics.median(t["main"] for t in soon_heavy) / statistics.median(t["main"] for t in soon_1k)
            rows.append(Row("2", "tick: 100,000 ÷ 1,000, scrolled to keys expiring within a day", None, "x",
                            "≤ 1.5", ratio <= 1.5, value_text=f"{ratio:.2f}×",
                            note="the same screen at both sizes: every visible countdown changes each second"))

        # 3. loading
        heavy = raw["heavy"]
        answered = Stat.of([r["answered_at"] for r in heavy])
        rows.append(Row("3", f"loading {HEAVY:,} keys: listed and a key press answered", answered, "s",
                        "≤ 1.5 s", answered.median <= 1.5,
                        note=f"from launch; listed at {fmt(Stat.of([r['listed_at'] for r in heavy]).median, 's')}"))

        # 4. memory
        base = statistics.median(r["rss"] for r in raw["startup"]["0"])
        for n, runs in ((10_000, raw["startup"]["10000"]), (HEAVY, heavy)):
            added = Stat.of([r["rss"] - base for r in runs])
            target, passed = ("≤ 40 MB", added.median <= 40 * MB) if n == HEAVY else ("", None)
            peak = statistics.median(r["peak_rss"] - base for r in runs)
            rows.append(Row("4", f"memory added by {n:,} keys (RSS over 0 keys)", added, "MB", target, passed,
                            note=f"peak during loading: +{fmt(peak, 'MB')}"))

        # 5. filter
        keys = sess["10000"]["keystrokes"]
        filt = Stat.of([k["wall"] for k in keys])
        rows.append(Row("5", "filter: keystroke → table repainted, 10,000 keys", filt, "ms", "≤ 50 ms",
                        filt.median <= 0.050,
                        note=f"main-thread CPU {fmt(Stat.of([k['main'] for k in keys]).median, 'ms')}; "
                             f"screen settled after {fmt(Stat.of([k['settled'] for k in keys]).median, 'ms')}"))

        # 6. CLI
        cli = raw["cli"]
        t = {name: Stat.of(v) for name, v in cli["times"].items()}
        floor_cli = t["python -c pass"].median
        rows.append(Row("6", "CLI: python -c pass (the floor)", t["python -c pass"], "ms"))
        rows.append(Row("6", "CLI: check, 10,000 keys", t["check"], "ms", f"≤ 3× floor = {fmt(3 * floor_cli, 'ms')}",
                        t["check"].median <= 3 * floor_cli, note=f"{t['check'].median / floor_cli:.1f}× the floor"))
        if "momento-keys check" in t:
            # Paired: each round runs the floor and the command back to back; the ratio is the
            # median of the rounds' ratios (this machine's speed drifts between rounds).
            pairs = [c / p for c, p in zip(cli["times"]["momento-keys check"], cli["times"]["python -c pass"])]
            ratio = statistics.median(pairs)
            rows.append(Row("6", "CLI: momento-keys check (installed command), 10,000 keys", t["momento-keys check"],
                            "ms", "≤ 2.5× floor (paired)", ratio <= 2.5, note=f"{ratio:.2f}× the floor, paired"))
        rows.append(Row("6", "CLI: list --json, 10,000 keys", t["list --json"], "ms",
                        note=f"{t['list --json'].median / floor_cli:.1f}× the floor"))
        for name, mods in cli["forbidden_imports"].items():
            bad = sorted({m.split(".")[0] for m in mods})
            rows.append(Row("6", f"CLI: {name} imports textual/grpc/momento", None, "", "none", not bad,
                            value_text=", ".join(bad) or "none"))

        # 7. terminal output
        s10 = sess["10000"]
        per_cell = s10["full_repaint_bytes"] / s10["screen_cells"]
        for view, label in (("top", "as opened"), ("soon", "scrolled to keys expiring within a day")):
            samples = ticks(10_000, view)
            if not samples:
                continue
            sent = Stat.of([t["bytes"] for t in samples])
            changed = statistics.median(t["changed_cells"] for t in samples)
            minimal = statistics.median(t["minimal_bytes"] for t in samples)
            budget = 2 * minimal + 512
            rows.append(Row("7", f"terminal bytes per tick, 10,000 keys, {label}", sent, "B",
                            f"≤ 2× minimal update + 512 B = {budget:,.0f} B", sent.median <= budget,
                            note=f"{changed:g} cells changed on screen, {minimal:,.0f} B to write just those "
                                 f"(median); tick's own frame "
                                 f"{fmt(Stat.of([t['bytes_paint'] for t in samples]).median, 'B')}"))
        rows.append(Row("7", "terminal bytes of a full repaint (reference)", None, "B",
                        value_text=fmt(s10["full_repaint_bytes"], "B"),
                        note=f"{s10['screen_cells']:,} cells, {per_cell:.1f} B per cell"))

        # 8. account sync
        sync = raw.get("sync")
        if sync:
            fresh = Stat.of(sync["fresh"])
            rows.append(Row("8", f"account sync: {sync['keys']:,} keys, {sync['pages']} pages, all new", fresh, "s",
                            "≤ 2 s", fresh.median <= 2.0,
                            note="local HTTP server (tests.fake_account) in another process; records, events "
                                 "and reminders written"))
            rows.append(Row("8", f"account sync: {sync['keys']:,} keys again, nothing new", Stat.of(sync["again"]),
                            "s"))
        else:
            rows.append(Row("8", "account sync: 1,000 keys", None, "s", "≤ 2 s", False, value_text="did not run"))

        # 9. the dashboard during a sync
        sync_ui = raw.get("sync_ui")
        if sync_ui:
            from .sync_ui import TARGET_MS, TARGET_RATIO, summary

            s = summary(sync_ui)
            during = Stat.of([t for round_ in sync_ui["during"] for t in round_])
            rows.append(Row("9", "key press answered, during an account sync", during, "ms",
                            f"slowest (max) ≤ {TARGET_MS:.0f} ms", s["during_max_ms"] <= TARGET_MS,
                            note=f"{s['presses']} presses, the slowest {s['during_max_ms']:.1f} ms; without a sync: "
                                 f"median {s['quiet_median_ms']:.1f} ms"))
            rows.append(Row("9", "key press during a sync ÷ without (paired)", Stat.of(s["ratios"]), "x",
                            f"≤ {TARGET_RATIO:.1f}×", s["ratio"] <= TARGET_RATIO))
        else:
            rows.append(Row("9", "key press during an account sync", None, "ms", "≤ 100 ms", False,
                            value_text="did not run"))
        return rows

    def run(self) -> list[Row]:
        self.make_databases()
        self.sessions()
        self.warm_up()
        self.startup()
        self.heavy()
        self.cli()
        self.account_sync()
        self.sync_ui()
        return self.rows()


# ---- entry point ------------------------------------------------------------------------

def cpu_seconds() -> tuple[float, float]:
    """(CPU seconds the whole machine has been busy, CPU seconds used by this
    process and the children it waited for), to tell how much other
    processes competed with the benchmark."""
    import resource

    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    busy = (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait
    ours = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return busy, ours


def environment() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return ""

    import textual

    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git("rev-parse", "--short", "HEAD"),
        "local_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
        "python": platform.python_version(),
        "textual": textual.__version__,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "terminal": f"{COLUMNS}x{LINES}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats: a smoke run of every measurement")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the results (default: {RESULTS})")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    env = environment()

    busy0, ours0 = cpu_seconds()
    with tempfile.TemporaryDirectory(prefix="momento-keys-bench-") as tmp:
        bench = Bench(plan, Path(tmp), log=lambda text: print(text, file=sys.stderr, flush=True))
        rows = bench.run()
        elapsed = time.perf_counter() - bench.started
    busy1, ours1 = cpu_seconds()
    others = max(0.0, (busy1 - busy0) - (ours1 - ours0)) / (elapsed * (os.cpu_count() or 1))
    env["other_processes_cpu_share"] = round(others, 3)

    title = (f"momento-keys benchmarks ({'quick' if args.quick else 'full'} run, {elapsed:.0f} s) — "
             f"{env['when']}, commit {env['commit']}{' + local changes' if env['local_changes'] else ''}, "
             f"Python {env['python']}, Textual {env['textual']}, {env['cpus']} CPUs, terminal {env['terminal']}")
    failed = [r for r in rows if r.passed is False]
    print(title)
    print(f"other processes used {others:.0%} of the machine's CPU time during the run"
          + (": timings are inflated and noisy; compare ratios, or rerun on a quiet machine" if others > 0.1 else ""))
    print()
    print(render_table(rows))
    print()
    print(f"{sum(r.passed is True for r in rows)} passed, {len(failed)} failed"
          + (f": {'; '.join(r.label for r in failed)}" if failed else ""))

    args.json.parent.mkdir(parents=True, exist_ok=True)
    doc = {"environment": env, "mode": "quick" if args.quick else "full", "plan": asdict(plan),
           "elapsed_s": elapsed, "rows": [asdict(r) | {"result": r.result} for r in rows], "raw": bench.raw}
    tmp_path = args.json.with_suffix(".tmp")
    tmp_path.write_text(json.dumps(doc, indent=1, default=str))
    os.replace(tmp_path, args.json)
    print(f"results: {args.json}", file=sys.stderr)
    return 1 if failed else 0
