"""Figure 8: an account sync of 1,000 v2 keys (10 pages) against a local account server.

    .venv/bin/python -m bench.sync             # prints the figures (and exits 1 if the target fails)
    .venv/bin/python -m bench.sync --json F    # also writes every sample to F (python -m bench does)

The server is `tests.fake_account.FakeAccount`, a real HTTP server, run in a child process
(``--serve``) so that its work does not share this process's interpreter lock. Each sample
is the wall time of `tui.services.sync.sync` on a fresh database (every key new: 10 pages
read, 1,000 metadata-only records and their events written in one transaction, their
reminders in a second), then of a sync that finds nothing new (1,000 confirmations). The
database is a `Store` in a temporary directory, the keyring in memory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = 1_000
TARGET_S = 2.0


def serve(count: int, latency: float = 0.0) -> None:
    """Child: start the fake account with ``count`` keys (answering after ``latency`` seconds
    once set up), print its address and an Owner key, serve until stdin closes."""
    sys.path.insert(0, str(ROOT))
    from tests.fake_account import OWNER, FakeAccount

    with FakeAccount(hang_limit=1) as server:
        acting = server.acting_key(OWNER, "bench admin")
        server.add_keys(count - 1, prefix="svc")
        server.latency = latency
        print(json.dumps({"url": server.url, "key": acting}), flush=True)
        sys.stdin.read()


@contextlib.contextmanager
def account_server(module: str, count: int) -> Iterator[dict]:
    """The fake account served by ``python -m <module> --serve COUNT`` in a child process (its
    work then does not share this process's interpreter lock): yields {"url", "key"}."""
    child = subprocess.Popen([sys.executable, "-m", module, "--serve", str(count)], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        yield json.loads(child.stdout.readline())
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=10)


def arguments(prog: str, doc: str, rounds: int, argv: list[str] | None) -> argparse.Namespace:
    """The options both sync benchmarks take."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--json", type=Path, help="write the samples here")
    return parser.parse_args(argv)


def measure(rounds: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from tui.core.clock import ManualClock
    from tui.services.account import client_for
    from tui.services.config import Settings
    from tui.services.keeper import Keeper
    from tui.services.store import Store
    from tui.services.sync import sync
    from tui.services.vault import MemoryKeyring, Vault

    with account_server("bench.sync", KEYS) as hello:
        fresh: list[float] = []
        again: list[float] = []
        pages: list[int] = []
        with tempfile.TemporaryDirectory(prefix="momento-keys-bench-sync-") as tmp:
            for i in range(rounds + 1):  # the first round warms up (imports, the server's first answers)
                vault = Vault(MemoryKeyring())
                vault.probe()
                store = Store(Path(tmp) / f"keys-{i}.db")
                keeper = Keeper(store, vault, Settings(), ManualClock(time.time()))
                client = client_for(hello["key"], acting="bench admin", base_url=hello["url"], timeout=10)
                seen: list[int] = []
                started = time.perf_counter()
                report = sync(keeper, client, on_page=seen.append)
                first = time.perf_counter() - started
                assert report.listed == KEYS and len(report.added) == KEYS, report.counts()
                started = time.perf_counter()
                report = sync(keeper, client)
                second = time.perf_counter() - started
                assert report.confirmed == KEYS, report.counts()
                client.close()
                store.close()
                if i:
                    fresh.append(first)
                    again.append(second)
                    pages.append(len(seen))
    return {"keys": KEYS, "pages": pages[0] if pages else 0, "fresh": fresh, "again": again}


def main(argv: list[str] | None = None) -> int:
    args = arguments("python -m bench.sync", __doc__ or "", 5, argv)
    if args.serve:
        serve(args.serve)
        return 0
    result = measure(args.rounds)
    if args.json:
        args.json.write_text(json.dumps(result))
    fresh, again = statistics.median(result["fresh"]), statistics.median(result["again"])
    verdict = "PASS" if fresh <= TARGET_S else "FAIL"
    print(f"account sync, {KEYS:,} keys over {result['pages']} pages, fresh database: {fresh:.2f} s "
          f"(min {min(result['fresh']):.2f}, max {max(result['fresh']):.2f}, n={len(result['fresh'])}); "
          f"target ≤ {TARGET_S:.0f} s: {verdict}")
    print(f"account sync again, nothing new: {again:.2f} s "
          f"(min {min(result['again']):.2f}, max {max(result['again']):.2f})")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
