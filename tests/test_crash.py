"""SIGKILL at random points of import, generate and rotate: no key is ever lost.

A driver process (tests/crash_driver.py) loops over one real operation through
the CLI's ``main()``: a shared SQLite file, a shared file keyring
(tests/file_keyring.py: keyrings.alt's PlaintextKeyring format, written
atomically) and the fake Momento server running in this process. The test
kills it with SIGKILL after a random delay (seeded: the seed is printed;
``CRASH_SEED=N`` replays a run), restarts it, and after every kill checks:

* ``PRAGMA integrity_check`` is ``ok``;
* every ``key:<fingerprint>`` entry in the keyring file has a record with that
  fingerprint, or ``recovery.orphans(keeper)`` (what ``doctor`` lists) reports it;
* every ``key:pending:<old fingerprint>`` (a rotation's parked new pair)
  belongs to an open rotation of the key with that fingerprint;
* every record that says its secret is stored has it in the keyring, and no
  record, once seen, ever disappears or loses its secret (so a rotated key's
  old secret stays until it is retired);
* every operation the driver finished returned 0, and a finished import is a
  record;
* every key the fake server issued (generate) or refreshed (rotate) is in the
  keyring with its refresh token, except the one in flight when the kill came
  (see UNAVOIDABLE below), and every spent refresh token has its new pair saved.

Now and then (and at the end) it recovers as a user would, in a random order:
``doctor --adopt`` (``recovery.adopt``) and ``Rotator.resume`` (what ``rotate``
and the dashboard do when they start); afterwards every key in the keyring has
its record, nothing is parked, no rotation is open, and every rotation that
produced a record links it to its predecessor.

A second test does the same systematically: the driver kills itself right
after its 1st, 2nd, ... durable change (SQLite commit, keyring write, Momento's
answer) until the operation completes, so every state a crash can leave is
visited once and recovered from (rotations in both orders).

UNAVOIDABLE: a key Momento has made (GenerateApiToken) or refreshed
(RefreshApiToken, which spends the old refresh token) exists only in the
memory of the process that asked for it until that process writes it to the
keyring. A SIGKILL in between loses it; no ordering of local writes can close
that window (only the server could, by letting a request be replayed). The
test allows one such loss per kill, only when the kill interrupted an
operation of that kind and the key is the last one the server issued to that
run, and counts how often it happened. For a rotation that loss leaves the old
key working until its own expiry (the grace window) but no longer refreshable.

NOT YET CLOSED (see PAIR_WRITE_IS_ATOMIC): Vault.put writes a key and its
refresh token as two keyring entries, so a kill between them keeps a generated
key without its refresh token. A rotation's new pair is parked in one entry
first, so it is immune; a generated key is not. Counted, allowed only for the
generate the kill interrupted.

Reproduce a run with CRASH_SEED; read the counts with ``pytest -s``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli_support import cli_env, run_cli
from tests.fake_momento import FakeMomento
from tests.file_keyring import LockedPlaintextKeyring, default_path, read_entries
from tui.core.keys import KeyFormatError, inspect_key, inspect_text
from tui.core.model import KeyType, Lifecycle
from tui.core.reminders import planned
from tui.services import recovery
from tui.services.config import Settings
from tui.services.keeper import Keeper
from tui.services.momento import MomentoApi
from tui.services.rotation import Rotator
from tui.services.store import Store
from tui.services.vault import Vault

pytestmark = pytest.mark.slow  # seconds each: kill campaigns and concurrent processes

ROOT = Path(__file__).resolve().parent.parent
KILLS = {"import": 18, "generate": 16, "rotate": 18}
# Kill delays after the driver is warmed up: a few operations' worth, so that
# the kill lands at a uniformly random point of some operation.
MAX_DELAY = {"import": 0.35, "generate": 0.6, "rotate": 0.8}
# Whether Vault.put stores a key and its refresh token in one keyring write (see
# account_for_server_keys). False today: set it True when vault.py does, and the test
# then demands every generated key keep its refresh token.
PAIR_WRITE_IS_ATOMIC = False
RECOVER_EVERY = 0.3  # chance of recovering (adopt/resume) after a kill; else the driver carries on
ORDERS = ("adopt, then resume", "resume, then adopt")


def seed_value() -> int:
    given = os.environ.get("CRASH_SEED")
    return int(given) if given else random.SystemRandom().randrange(1 << 30)


# ---- what the fake server issued ------------------------------------------------------

@dataclass
class Issued:
    method: str
    token: str                 # raw JWT
    refresh_token: str | None
    spent: str | None          # RefreshApiToken: the refresh token it used up


class IssueTracker:
    """Records which RPC issued which token, and which refresh token each refresh spent
    (wraps two of the fake's internals on the instance; the fake itself is unchanged)."""

    def __init__(self, server: FakeMomento) -> None:
        self.issued: list[Issued] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        enter, issue = server._enter, server._issue

        def tracked_enter(method, request, context):
            self._local.call = (method, request)
            return enter(method, request, context)

        def tracked_issue(*args, **kwargs):
            made = issue(*args, **kwargs)
            call = getattr(self._local, "call", None)
            if call is not None:
                method, request = call
                spent = request.refresh_token if method == "RefreshApiToken" else None
                with self._lock:
                    self.issued.append(Issued(method, made.token, made.refresh_token, spent))
            return made

        server._enter = tracked_enter  # type: ignore[method-assign]
        server._issue = tracked_issue  # type: ignore[method-assign]

    def snapshot(self) -> list[Issued]:
        with self._lock:
            return list(self.issued)


def inner(secret: str) -> str | None:
    try:
        return inspect_key(secret).inner_jwt()
    except (KeyFormatError, ValueError):
        return None


def held_keys(entries: dict[str, str]) -> dict[str, str | None]:
    """raw JWT -> the refresh token stored with it, for every key in the keyring: under its
    own fingerprint (``key:`` + ``refresh:``) or parked by a rotation (``key:pending:``,
    either one JSON entry holding the pair or, from older versions, two entries)."""
    held: dict[str, str | None] = {}
    for user, secret in entries.items():
        if not user.startswith("key:"):
            continue
        where = user.removeprefix("key:")
        refresh = entries.get(f"refresh:{where}")
        if secret.startswith("{"):
            doc = json.loads(secret)
            secret, refresh = doc["api_key"], doc.get("refresh_token") or refresh
        if (jwt := inner(secret)) is not None:
            # A key filed under its fingerprint while its refresh token is not written yet
            # still has its pair in the parked copy (which resume files again).
            held[jwt] = refresh or held.get(jwt)
    return held


# ---- one campaign of kills -------------------------------------------------------------

@dataclass
class Run:
    number: int
    completed: list[tuple[str, int, str]] = field(default_factory=list)   # (name, rc, message)
    interrupted: tuple[str, str] | None = None                            # (name, fingerprint or "-")
    died_at: str | None = None                                            # --die-after: "N what"


class Campaign:
    def __init__(self, op: str, tmp_path: Path, server: FakeMomento, seed: int) -> None:
        self.op = op
        self.server = server
        self.seed = seed
        self.rng = random.Random(seed)
        self.tracker = IssueTracker(server)
        self.env = cli_env(tmp_path, PYTHON_KEYRING_BACKEND="tests.file_keyring.LockedPlaintextKeyring",
                           PYTHONPATH=str(ROOT))
        self.db = Path(self.env["MOMENTO_KEYS_DB"])
        self.keyring_file = default_path(Path(self.env["XDG_DATA_HOME"]))
        self.work = tmp_path / "work"
        self.work.mkdir()
        self.log = tmp_path / "driver.log"
        self.log.touch()
        self.stderr = tmp_path / "driver.err"
        self.stats: Counter[str] = Counter()
        self.ever: dict[str, str] = {}          # fingerprint -> name of every record ever seen
        self.excused: set[str] = set()          # raw JWTs lost in flight (UNAVOIDABLE)
        self.unpaired: set[str] = set()         # raw JWTs kept without their refresh token
        self.orphans_seen: set[str] = set()
        self.checked = 0                        # how many tracker entries were already accounted for
        self.rot_names: list[str] = []

    # -- plumbing
    def keeper(self) -> Keeper:
        vault = Vault(LockedPlaintextKeyring(self.keyring_file), allow_insecure=True)
        vault.probe()
        return Keeper(Store(self.db), vault, Settings())

    def api(self) -> MomentoApi:
        return MomentoApi(override=self.server.override, timeout=5, retries=1, backoff=0.01)

    def entries(self) -> dict[str, str]:
        return read_entries(self.keyring_file)

    # -- set-up
    def seed_keys(self) -> None:
        k = self.keeper()
        try:
            if self.op == "generate":
                k.import_key(inspect_text(self.server.superuser_key()), "su", key_type=KeyType.SUPER_USER)
            if self.op == "rotate":
                for _ in range(4):
                    self.add_rotatable(k)
        finally:
            k.store.close()

    def add_rotatable(self, k: Keeper) -> None:
        name = f"rot-{len(self.rot_names)}"
        key, refresh = self.server.issue_key(valid_for_seconds=3600)
        text = json.dumps({"apiKey": key, "refreshToken": refresh, "validUntil": inspect_text(key).expires_at})
        k.import_key(inspect_text(text), name, key_type=KeyType.FINE_GRAINED)
        self.rot_names.append(name)
        self.stats["rotatable keys seeded"] += 1

    def rotatable(self) -> list[str]:
        """Names whose current key can still be refreshed (or whose parked pair resume will file)."""
        k = self.keeper()
        try:
            alive = []
            for name in self.rot_names:
                r = k.store.find(name)
                if r is None or r.lifecycle is not Lifecycle.ACTIVE:
                    continue
                pending = k.vault.get_pending(r.fingerprint)
                if pending is not None:  # resume files the parked pair first, then rotates that
                    secret, rt = pending
                    if secret.startswith("{"):
                        rt = json.loads(secret).get("refresh_token")
                else:
                    rt = k.vault.get_refresh_token(r.fingerprint)
                if rt and not self.server.refresh_token_used(rt):
                    alive.append(name)
            while len(alive) < 2:
                self.add_rotatable(k)
                alive.append(self.rot_names[-1])
            return alive
        finally:
            k.store.close()

    # -- one run of the driver, killed
    def _launch(self, number: int, *extra: str) -> tuple[subprocess.Popen, int]:
        names = self.rotatable() if self.op == "rotate" else []
        offset = self.log.stat().st_size
        cmd = [sys.executable, "-m", "tests.crash_driver", self.op, str(number), "--log", str(self.log),
               "--workdir", str(self.work), "--override", self.server.override, "--names", ",".join(names),
               "--seed", str(self.seed), *extra]
        with open(self.stderr, "ab") as err:
            proc = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        return proc, offset

    def _parse(self, number: int, offset: int) -> Run:
        run = Run(number)
        for line in self.log.read_text()[offset:].splitlines():
            words = line.split(" ", 4)
            if words[0] == "begin":
                run.interrupted = (words[2], words[3])
            elif words[0] == "end":
                run.completed.append((words[2], int(words[3]), words[4] if len(words) > 4 else ""))
                run.interrupted = None
            elif words[0] == "die":
                run.died_at = line.split(" ", 1)[1]
        self.stats["operations completed"] += len(run.completed)
        return run

    def run_and_kill(self, number: int) -> Run:
        """Start the driver, wait until it is warmed up, SIGKILL it after a random delay."""
        proc, offset = self._launch(number)
        try:
            deadline = time.monotonic() + 30
            while f"ready {number}\n" not in self.log.read_text()[offset:]:
                assert proc.poll() is None, f"the driver died before it was ready:\n{self.stderr.read_text()[-3000:]}"
                assert time.monotonic() < deadline, "the driver never became ready"
                time.sleep(0.01)
            time.sleep(self.rng.uniform(0.0, MAX_DELAY[self.op]))
            assert proc.poll() is None, f"the driver exited on its own:\n{self.stderr.read_text()[-3000:]}"
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        self.stats["kills"] += 1
        run = self._parse(number, offset)
        self.stats["kills during an operation" if run.interrupted else "kills between operations"] += 1
        return run

    def run_until_point(self, number: int, n: int) -> Run:
        """One operation that kills itself right after its n-th durable change (or finishes)."""
        proc, offset = self._launch(number, "--iterations", "1", "--die-after", str(n))
        proc.wait(timeout=60)
        run = self._parse(number, offset)
        if proc.returncode == -signal.SIGKILL:
            assert run.died_at, "killed, but not by its own --die-after"
            self.stats["kills"] += 1
        else:
            assert proc.returncode == 0, f"the driver failed:\n{self.stderr.read_text()[-3000:]}"
            assert run.died_at is None and len(run.completed) == 1
        return run

    # -- the invariants after a kill
    def check(self, run: Run) -> None:
        with sqlite3.connect(self.db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.close()
        entries = self.entries()
        k = self.keeper()
        try:
            records = k.store.all()
            by_fp = {r.fingerprint: r for r in records}
            orphans = {o["fingerprint"] for o in recovery.orphans(k)}
            self.stats["orphans found"] += len(orphans - self.orphans_seen)
            self.orphans_seen |= orphans
            open_old = {k.store.get(rot["old_id"]).fingerprint for rot in k.store.open_rotations()}

            # Every secret in the keyring has its record, is reported for adoption, or is parked
            # by an open rotation.
            for user in entries:
                if user.startswith("key:pending:"):
                    assert user.removeprefix("key:pending:") in open_old, f"parked pair of no open rotation: {user}"
                elif user.startswith("key:"):
                    fp = user.removeprefix("key:")
                    assert fp in by_fp or fp in orphans, f"{user}: in the keyring, no record, not reported"
            # No record claims a secret that is not there; no record ever disappears.
            for r in records:
                if r.secret_stored:
                    assert f"key:{r.fingerprint}" in entries, f"{r.name}: its secret is gone"
                self.ever.setdefault(r.fingerprint, r.name)
            for fp, name in self.ever.items():
                assert fp in by_fp, f"the record of {name} ({fp}) disappeared"
                assert f"key:{fp}" in entries, f"the secret of {name} ({fp}) disappeared"

            # Finished operations succeeded and stuck.
            for name, rc, message in run.completed:
                assert rc == 0, f"{self.op} {name} exited {rc}: {message}"
                if self.op in ("import", "generate"):
                    assert k.store.find(name) is not None, f"{name} finished but has no record"

            self.account_for_server_keys(run, entries)
        finally:
            k.store.close()

    def account_for_server_keys(self, run: Run, entries: dict[str, str]) -> None:
        """Every key the fake issued to the driver is in the keyring with its refresh token,
        except at most one lost in flight by this kill (UNAVOIDABLE)."""
        held = held_keys(entries)
        issued = self.tracker.snapshot()
        fresh = range(self.checked, len(issued))
        self.checked = len(issued)
        lost_now = []
        for i, item in enumerate(issued):
            if item.token in self.excused:
                continue
            if item.token not in held:
                assert i in fresh, f"a key issued by {item.method} earlier was in the keyring and is gone"
                lost_now.append(item)
                continue
            if item.refresh_token and held[item.token] != item.refresh_token:
                if item.token in self.unpaired:
                    continue
                # Vault.put writes the key, then its refresh token, as two keyring entries: a kill
                # in between keeps the generated key (it works until it expires) without its
                # refresh token. Only an atomic pair write (one entry) in vault.py closes that;
                # until then it is allowed for the generate this kill interrupted, and counted.
                # A rotation's new pair is parked in one entry, so it must never happen there.
                assert not PAIR_WRITE_IS_ATOMIC and item.method == "GenerateApiToken" and i in fresh \
                    and run.interrupted is not None and item is issued[-1], (
                        f"the key from {item.method} is in the keyring without its refresh token"
                        + (" (a refresh token was spent and the new one lost)" if item.spent else ""))
                self.unpaired.add(item.token)
                self.stats["generated keys kept without their refresh token"] += 1
        if lost_now:
            method = {"generate": "GenerateApiToken", "rotate": "RefreshApiToken"}.get(self.op)
            assert len(lost_now) == 1, f"{len(lost_now)} keys lost by one kill"
            [item] = lost_now
            assert run.interrupted is not None and item.method == method, "a key was lost outside the window"
            assert item is issued[-1], "only the last key the server issued can still be in flight"
            self.excused.add(item.token)
            self.stats["keys lost in flight (UNAVOIDABLE)"] += 1

    # -- recovery, as a user would do it
    def recover(self, order: str | None = None) -> None:
        order = order or self.rng.choice(ORDERS)
        self.stats[f"recoveries ({order})"] += 1
        k = self.keeper()
        try:
            for step in order.split(", then "):
                if step == "adopt":
                    adopted, dropped = recovery.adopt(k, resume=Rotator(k, self.api).resume)
                    self.stats["orphans adopted"] += sum(r.source == "adopted" for r in adopted)
                    self.stats["rotations completed by adopt"] += sum(r.source == "rotation" for r in adopted)
                    self.stats["stale journal rows dropped"] += dropped
                else:
                    self.resume(k)
            self.check_recovered(k)
        finally:
            k.store.close()

    def resume(self, k) -> None:
        """Resume interrupted rotations, counting how each ended."""
        for outcome in Rotator(k, self.api).resume():
            self.stats["rotations resumed" if not isinstance(outcome, str)
                       else "rotations closed without a new key"] += 1

    def parked(self) -> bool:
        return any(user.startswith("key:pending:") for user in self.entries())

    def resume_with_cli(self) -> None:
        """The user's next `rotate` (of any key) first completes the interrupted rotation,
        in a process whose keyring is not probed yet."""
        name = self.rotatable()[0]
        p = run_cli(self.env, "rotate", name, "--allow-insecure-keyring", "--endpoint-override",
                    self.server.override, "--timeout", "10", timeout=60)
        assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
        assert "note: Rotated" in p.stderr, p.stderr
        self.stats["rotations resumed by the next `rotate`"] += 1

    def check_recovered(self, k: Keeper) -> None:
        entries = self.entries()
        records = k.store.all()
        by_fp = {r.fingerprint: r for r in records}
        by_id = {r.id: r for r in records}
        for user in entries:
            assert not user.startswith("key:pending:"), f"still parked after resume: {user}"
            if user.startswith("key:"):
                assert user.removeprefix("key:") in by_fp, f"{user}: still without a record after recovery"
        assert recovery.orphans(k) == []
        assert k.store.open_rotations() == []
        with sqlite3.connect(self.db) as conn:
            rotations = conn.execute("SELECT id, old_id, new_fingerprint, state FROM rotations").fetchall()
        conn.close()
        # Every key has the reminders its expiry calls for, once the reminder schedule is
        # brought up to date (as the dashboard, `reminders` and `notify` do when they start).
        k.schedule_all()
        for r in records:
            have = {rem.kind for rem in k.store.reminders(key_id=r.id, open_only=False)}
            missing = set(planned(r, k.settings.thresholds)) - have
            assert not missing, f"{r.name}: no {sorted(m.value for m in missing)} reminder"
        for rid, old_id, new_fp, state in rotations:
            new = by_fp.get(new_fp) if new_fp else None
            if new is None:
                continue
            # A rotation whose new key is tracked is complete and linked, whoever filed the record.
            assert state == "done", f"rotation {rid}: its new key is tracked but the rotation is {state}"
            assert new.predecessor_id == old_id, f"rotation {rid}: {new.name!r} is not linked to its old key"
            assert by_id[old_id].lifecycle is Lifecycle.PREVIOUS
            assert "(adopted" not in new.name

    def finish(self) -> dict:
        """The user's way out: `doctor --adopt` (the real CLI), resume, then `doctor --json`."""
        p = run_cli(self.env, "doctor", "--json", "--allow-insecure-keyring", timeout=60)
        doc = json.loads(p.stdout)
        k = self.keeper()
        try:
            reported = {o["fingerprint"] for o in doc["orphans"]}
            assert reported == {o["fingerprint"] for o in recovery.orphans(k)}
        finally:
            k.store.close()
        p = run_cli(self.env, "doctor", "--adopt", "--allow-insecure-keyring", timeout=60)
        assert "Traceback" not in p.stderr, p.stderr
        self.stats["orphans adopted"] += p.stdout.count("adopted '")
        k = self.keeper()
        try:
            self.resume(k)
            self.check_recovered(k)
        finally:
            k.store.close()
        doc = json.loads(run_cli(self.env, "doctor", "--json", "--allow-insecure-keyring", timeout=60).stdout)
        assert doc["database"]["integrity"] == "ok"
        assert doc["orphans"] == [] and doc["secrets"]["missing_from_keyring"] == []
        assert [p for p in doc["problems"] if not p.startswith("keyring:")] == []
        assert "Traceback" not in self.stderr.read_text()
        return doc


@pytest.mark.parametrize("op", ["import", "generate", "rotate"])
def test_sigkill_never_loses_a_key(op: str, tmp_path: Path, fake_momento: FakeMomento) -> None:
    seed = seed_value()
    print(f"\n[crash {op}] seed {seed} (replay with CRASH_SEED={seed})")
    campaign = Campaign(op, tmp_path, fake_momento, seed)
    campaign.seed_keys()
    started = time.monotonic()
    for number in range(KILLS[op]):
        run = campaign.run_and_kill(number)
        campaign.check(run)
        if campaign.rng.random() < RECOVER_EVERY:
            campaign.recover()
    doc = campaign.finish()
    stats = dict(campaign.stats)
    stats["records at the end"] = doc["database"]["records"]
    stats["seconds"] = round(time.monotonic() - started, 1)
    print(f"[crash {op}] " + ", ".join(f"{k}: {v}" for k, v in sorted(stats.items())))
    assert campaign.stats["kills"] == KILLS[op]
    assert campaign.stats["operations completed"] > 0


@pytest.mark.parametrize("op", ["import", "generate", "rotate"])
def test_sigkill_after_every_durable_change(op: str, tmp_path: Path, fake_momento: FakeMomento) -> None:
    """The same checks, systematically: one operation is killed right after its 1st, 2nd, ...
    durable change (SQLite commit, keyring write, Momento's answer) until it finishes, so
    every state a crash can leave is visited, and recovered from in both orders."""
    campaign = Campaign(op, tmp_path, fake_momento, seed=0)
    campaign.seed_keys()
    number = 0
    points: list[str] = []
    # Rotations are recovered from each state in both orders (adopt first, resume first);
    # the other operations open no rotation, so one pass alternating the order will do.
    passes = [[order] for order in ORDERS] if op == "rotate" else [list(ORDERS)]
    for orders in passes:
        n = 1
        while True:
            run = campaign.run_until_point(number, n)
            number += 1
            campaign.check(run)
            order = orders[n % len(orders)]
            if order.startswith("resume") and campaign.parked():
                campaign.resume_with_cli()
            campaign.recover(order)
            if run.died_at is None:
                break
            points.append(run.died_at)
            n += 1
    per_op = len(points) // len(passes)
    print(f"\n[crash points {op}] {per_op} per operation: "
          + "; ".join(p.split(" ", 1)[1] for p in points[:per_op]))
    print(f"[crash points {op}] " + ", ".join(f"{k}: {v}" for k, v in sorted(campaign.stats.items())))
    kinds = {p.split(" ", 1)[1] for p in points}
    assert {"sqlite commit", "keyring write"} <= kinds
    if op != "import":
        assert any(k.startswith("Momento answered") for k in kinds)
    campaign.finish()


# ---- the checks themselves can fail ------------------------------------------------------

def test_the_checks_catch_a_lost_or_unreported_key(tmp_path: Path, fake_momento: FakeMomento) -> None:
    """Each invariant above fails on the damage it is there to find (so a green run means
    something): a secret left without record or journal row, a record that disappears, a
    record whose secret is gone, a refresh whose new pair was dropped outside any kill, a
    rotated key cut off from its predecessor."""
    from tests.conftest import make_v1

    def fresh(name: str, op: str = "import") -> tuple[Campaign, Keeper]:
        folder = tmp_path / name
        folder.mkdir()
        campaign = Campaign(op, folder, fake_momento, seed=0)
        campaign.seed_keys()
        keeper = campaign.keeper()
        keeper.import_key(inspect_text(make_v1(expires=int(time.time()) + 30 * 86400)), "victim")
        campaign.check(Run(0))                     # sound so far
        return campaign, keeper

    # A record lost after its secret was written, with no journal row to point doctor at it.
    campaign, keeper = fresh("dropped-record")
    victim = keeper.store.find("victim")
    keeper.store.delete(victim.id, now=keeper.now())
    with pytest.raises(AssertionError, match="no record, not reported"):
        campaign.check(Run(1))
    # ... whereas a journal row (what import_key writes first) makes it a reported orphan.
    keeper.store.journal_add(victim.fingerprint, "victim", "v1", now=keeper.now())
    with pytest.raises(AssertionError, match="disappeared"):  # still: a record once seen is gone
        campaign.check(Run(2))
    campaign.ever.clear()
    campaign.check(Run(3))
    assert campaign.stats["orphans found"] == 1

    # A record that says its secret is stored, and the secret is gone.
    campaign, keeper = fresh("secret-gone")
    keeper.vault.delete(keeper.store.find("victim").fingerprint)
    with pytest.raises(AssertionError, match="its secret is gone"):
        campaign.check(Run(1))

    # A refresh token spent and its new pair never saved, while no kill interrupted anything.
    campaign, keeper = fresh("refresh-dropped", "rotate")
    record = keeper.store.find("rot-0")
    campaign.api().refresh_api_key(keeper.vault.get(record.fingerprint),
                                   keeper.vault.get_refresh_token(record.fingerprint), record.endpoint)
    with pytest.raises(AssertionError, match="lost outside the window"):
        campaign.check(Run(1))

    # A rotation whose new key is tracked but not linked to the key it replaced.
    campaign, keeper = fresh("unlinked", "rotate")
    outcome = Rotator(keeper, campaign.api).rotate(keeper.store.find("rot-0"))
    campaign.recover()
    with sqlite3.connect(campaign.db) as conn:
        conn.execute("UPDATE keys SET predecessor_id = NULL WHERE id = ?", (outcome.new.id,))
    conn.close()
    with pytest.raises(AssertionError, match="not linked"):
        campaign.recover()
