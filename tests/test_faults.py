"""Faults: Momento, the keyring and the database failing in every way we know of.

Each fault must give a clear one-line message, transient ones are retried within
bounds (counted at the fake server), and nothing is stored half-way: the keys
table and the keyring are compared before and after every failure.

Everything runs in-process through ``tui.cli.main`` (and ``MomentoApi`` for the
service-level matrix) against the fake Momento server, a real gRPC server on
127.0.0.1; retry back-off sleeps are recorded instead of slept.
"""

from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import stat
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.errors import InitError, KeyringLocked, PasswordSetError

from tests.cli_support import cli_env, run_cli
from tests.conftest import SecretScanner, console_json, make_v1, test_secrets
from tests.fake_momento import FakeMomento
from tui import cli
from tui.core.keys import inspect_text
from tui.core.model import KeyType
from tui.core.permissions import ALL_DATA_READ_WRITE
from tui.services import vault as vault_mod
from tui.services.config import Settings
from tui.services.keeper import Keeper
from tui.services.momento import ErrorCode, MomentoApi, MomentoError, VerifyResult
from tui.services.store import SCHEMA_VERSION, Store
from tui.services.store import schema as store_schema
from tui.services.vault import SERVICE, MemoryKeyring, Vault, VaultError

TIMEOUT = 0.3          # seconds per attempt, for the hang cases
HANG = TIMEOUT + 0.4   # how long the fake sleeps before answering
ERROR = "momento-keys: error: "
DAY = 86400


# ---- helpers ----------------------------------------------------------------------------


class Sleeps(list[float]):
    """An injected ``sleep``: records the back-off instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float

    def error_lines(self) -> list[str]:
        return [x for x in self.err.splitlines() if not x.startswith(("momento-keys: note:", "momento-keys: warning:"))]

    def one_error(self, code: int | None = None) -> str:
        """Assert a clean failure: the exit code, no traceback, exactly one error line; return it."""
        if code is not None:
            assert self.code == code, (self.code, self.out, self.err)
        assert "Traceback" not in self.err and "Traceback" not in self.out
        lines = self.error_lines()
        assert len(lines) == 1 and lines[0].startswith(ERROR), self.err
        return lines[0]


class Cli:
    """Runs ``tui.cli.main`` in-process against one database and an injectable keyring."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
        self.db = tmp_path / "data" / "keys.db"
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.keyring: Any = MemoryKeyring()
        monkeypatch.setattr(keyring, "get_keyring", lambda: self.keyring)
        monkeypatch.setenv("HOME", str(tmp_path / "home"))

    def use(self, backend: Any) -> None:
        self.keyring = backend

    def __call__(self, *argv: str, stdin: str | None = None) -> Run:
        self.capsys.readouterr()
        data = (stdin or "").encode()
        self.monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        start = time.monotonic()
        try:
            code = cli.main(["--db", str(self.db), *argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        seconds = time.monotonic() - start
        out, err = self.capsys.readouterr()
        return Run(code, out, err, seconds)

    def keeper(self) -> Keeper:
        vault = Vault(self.keyring)
        vault.probe()
        return Keeper(Store(self.db), vault, Settings())

    def state(self) -> tuple[list[tuple], dict]:
        """What must not change on a failure: the key records and the keyring's entries."""
        entries = dict(getattr(self.keyring, "entries", {}))
        if not self.db.exists():
            return [], entries
        s = Store(self.db, readonly=True)
        try:
            rows = [(r.name, r.fingerprint, r.secret_stored, r.lifecycle.value, r.has_refresh_token, r.expires_at)
                    for r in s.all()]
        finally:
            s.close()
        return rows, entries

    def journal(self) -> list[dict]:
        s = Store(self.db, readonly=True)
        try:
            return s.journal()
        finally:
            s.close()


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> Cli:
    return Cli(tmp_path, monkeypatch, capsys)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    """Every MomentoApi the CLI builds records its back-off here instead of sleeping."""
    recorded = Sleeps()
    original = MomentoApi.__init__

    def init(self, override=None, timeout=15.0, retries=3, backoff=0.25, sleep=None):
        original(self, override, timeout, retries, backoff, recorded)

    monkeypatch.setattr(MomentoApi, "__init__", init)
    return recorded


def assert_no_secret_in(*texts: str) -> None:
    scanner = SecretScanner(test_secrets())
    for text in texts:
        assert not scanner.find(text), "a secret reached the output"


def seed_admin(run: Cli, server: FakeMomento) -> None:
    keeper = run.keeper()
    keeper.import_key(inspect_text(server.superuser_key()), "admin", key_type=KeyType.SUPER_USER)
    keeper.store.close()


def seed_worker(run: Cli, server: FakeMomento, *, days: int = 30) -> tuple[str, str]:
    """A fine-grained key with a refresh token, as the console's Download JSON gives it."""
    key, refresh = server.issue_key(valid_for_seconds=days * DAY)
    assert refresh
    expires = inspect_text(key).expires_at
    keeper = run.keeper()
    keeper.import_key(inspect_text(console_json(key, expires, refresh)), "worker", key_type=KeyType.FINE_GRAINED)
    keeper.store.close()
    return key, refresh


# ---- Momento faults: the service-level matrix (MomentoApi) -------------------------------

CALLS = ("generate", "refresh", "token", "verify")
METHOD = {"generate": "GenerateApiToken", "refresh": "RefreshApiToken", "token": "GenerateDisposableToken",
          "verify": "ListCaches"}
FAULTS = ("refused", "UNAVAILABLE", "DEADLINE_EXCEEDED", "UNAUTHENTICATED", "PERMISSION_DENIED",
          "INVALID_ARGUMENT", "RESOURCE_EXHAUSTED", "missing_fields", "hang")
# A sent request is repeated only when that cannot do harm (momento.py's retry policy).
IDEMPOTENT = {"generate": False, "refresh": False, "token": True, "verify": True}
CODE = {"refused": ErrorCode.UNAVAILABLE, "UNAVAILABLE": ErrorCode.UNAVAILABLE,
        "DEADLINE_EXCEEDED": ErrorCode.TIMEOUT, "hang": ErrorCode.TIMEOUT,
        "UNAUTHENTICATED": ErrorCode.AUTHENTICATION, "PERMISSION_DENIED": ErrorCode.PERMISSION,
        "INVALID_ARGUMENT": ErrorCode.INVALID_ARGUMENT, "RESOURCE_EXHAUSTED": ErrorCode.RESOURCE_EXHAUSTED,
        "missing_fields": ErrorCode.BAD_RESPONSE}
TRANSIENT = {"refused", "UNAVAILABLE", "DEADLINE_EXCEEDED", "hang", "RESOURCE_EXHAUSTED"}
RETRYABLE = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "hang"}
VERIFY_STATUS = {"UNAUTHENTICATED": "invalid", "PERMISSION_DENIED": "restricted"}
FRAGMENT = {
    "refused": "could not be reached at 127.0.0.1:",
    "UNAVAILABLE": "could not be reached at 127.0.0.1:",
    "DEADLINE_EXCEEDED": "did not answer within",
    "hang": f"did not answer within {TIMEOUT:g} s",
    "UNAUTHENTICATED": "rejected",
    "PERMISSION_DENIED": "PERMISSION_DENIED",
    "INVALID_ARGUMENT": "refused the request as invalid",
    "RESOURCE_EXHAUSTED": "a limit was reached",
    "missing_fields": "had no api_key, endpoint",
}
SERVICE_RETRIES = 2


def inject(server: FakeMomento, method: str, fault: str) -> None:
    if fault == "missing_fields":
        server.bad_response(method)
    elif fault == "hang":
        server.delay(method, HANG)
    elif fault != "refused":
        server.fail_next(method, getattr(grpc.StatusCode, fault), count=20, details=f"injected {fault}")


def expected_requests(call: str, fault: str, retries: int) -> int:
    if fault == "refused":
        return 0
    if fault in RETRYABLE and IDEMPOTENT[call]:
        return retries + 1
    return 1


def expected_sleeps(call: str, fault: str, retries: int) -> int:
    if fault == "refused" or (fault in RETRYABLE and IDEMPOTENT[call]):
        return retries
    return 0


SERVICE_MATRIX = [(c, f) for c in CALLS for f in FAULTS if not (c == "verify" and f == "missing_fields")]


@pytest.mark.parametrize("call, fault", SERVICE_MATRIX, ids=[f"{c}-{f}" for c, f in SERVICE_MATRIX])
def test_service_fault_matrix(fake_momento: FakeMomento, call: str, fault: str) -> None:
    """Each call x each fault: the error class, retry count, bounded time, no secret in the message."""
    server = fake_momento
    recorded = Sleeps()
    address = f"127.0.0.1:{closed_port()}" if fault == "refused" else server.override
    api = MomentoApi(address, timeout=TIMEOUT if fault == "hang" else 2.0, retries=SERVICE_RETRIES, backoff=0.05,
                     sleep=recorded)
    su = server.superuser_key()
    fine, refresh = server.issue_key()
    assert refresh
    inject(server, METHOD[call], fault)
    action: dict[str, Callable[[], Any]] = {
        "generate": lambda: api.generate_api_key(su, None, ALL_DATA_READ_WRITE, 3600),
        "refresh": lambda: api.refresh_api_key(fine, refresh, None),
        "token": lambda: api.generate_disposable_token(su, None, ALL_DATA_READ_WRITE, 600),
        "verify": lambda: api.verify(su, None),
    }
    start = time.monotonic()
    error: MomentoError
    if call == "verify":
        result = action[call]()
        assert isinstance(result, VerifyResult)
        assert result.status == VERIFY_STATUS.get(fault, "unknown"), result
        assert result.error is not None
        error = result.error
        message = result.message
    else:
        with pytest.raises(MomentoError) as info:
            action[call]()
        error = info.value
        message = str(error)
    elapsed = time.monotonic() - start

    assert error.code is CODE[fault], (error, message)
    assert error.transient is (fault in TRANSIENT)
    # A generate/refresh that reached Momento may have taken effect: the message must say so.
    sent_and_unsure = not IDEMPOTENT[call] and fault not in ("refused",) and CODE[fault] in (
        ErrorCode.UNAVAILABLE, ErrorCode.TIMEOUT, ErrorCode.BAD_RESPONSE)
    assert error.outcome_unknown is sent_and_unsure
    if sent_and_unsure:
        assert ("used up the refresh token" if call == "refresh" else "check the Momento console") in message
    if call == "refresh" and fault == "UNAUTHENTICATED":
        assert "refresh was rejected" in message
    elif call == "verify" and fault == "PERMISSION_DENIED":
        assert "Momento accepted the key, but it may not list caches" in message
    else:
        assert FRAGMENT[fault] in message, message
    assert "\n" not in message and len(message) < 500
    for secret in (su, server.superuser_jwt, fine, refresh):
        assert secret not in message and secret not in repr(error)
    assert len(server.calls(METHOD[call])) == expected_requests(call, fault, SERVICE_RETRIES)
    assert len(recorded) == expected_sleeps(call, fault, SERVICE_RETRIES)
    assert recorded == [0.05 * 2**n for n in range(len(recorded))]  # exponential back-off
    attempts = max(1, expected_requests(call, fault, SERVICE_RETRIES))
    per_attempt = TIMEOUT if fault == "hang" else 0.0
    assert elapsed < attempts * per_attempt + 3.0, elapsed


# ---- Momento faults through the user paths (CLI) -----------------------------------------

PATHS = ("generate", "disposable", "verify", "rotate")
PATH_METHOD = {"generate": "GenerateApiToken", "disposable": "GenerateDisposableToken", "verify": "ListCaches",
               "rotate": "RefreshApiToken"}
PATH_IDEMPOTENT = {"generate": False, "disposable": True, "verify": True, "rotate": False}
CLI_RETRIES = 3  # MomentoApi's default


def cli_expectation(path: str, fault: str) -> tuple[int, list[str]]:
    """(exit code, needles in the message) for a fault on a path."""
    unsure = {"generate": "may have been created anyway", "rotate": "used up the refresh token"}
    if path == "verify":
        code = {"UNAUTHENTICATED": 2, "PERMISSION_DENIED": 0}.get(fault, 3)
        word = {"UNAUTHENTICATED": "INVALID", "PERMISSION_DENIED": "valid, restricted"}.get(fault, "UNKNOWN")
        return code, [word]
    if fault == "refused":
        return 3, ["could not be reached at 127.0.0.1:"]
    if fault in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "hang"):
        needles = ["did not answer within" if fault != "UNAVAILABLE" else "could not be reached"]
        if path in unsure:
            needles.append(unsure[path])
        return 3, needles
    if fault == "RESOURCE_EXHAUSTED":
        return 3, ["a limit was reached"]
    if fault == "UNAUTHENTICATED":
        return 1, ["refresh was rejected" if path == "rotate" else "rejected 'admin'"]
    if fault == "PERMISSION_DENIED":
        return 1, {"generate": ["may not create API keys"], "disposable": ["may not create disposable tokens"],
                   "rotate": ["not allowed"]}[path]
    if fault == "INVALID_ARGUMENT":
        return 1, ["refused the request as invalid"]
    assert fault == "missing_fields"
    if path == "generate":
        return 3, ["had no api_key", "check the Momento console", "Nothing was stored"]
    if path == "rotate":
        return 1, ["had no api_key", "used up the refresh token"]
    return 1, ["had no api_key", "Nothing was generated"]


CLI_MATRIX = [(p, f) for p in PATHS for f in FAULTS if not (p == "verify" and f == "missing_fields")]


@pytest.mark.parametrize("path, fault", CLI_MATRIX, ids=[f"{p}-{f}" for p, f in CLI_MATRIX])
def test_cli_fault_matrix(run: Cli, fake_momento: FakeMomento, sleeps: Sleeps, path: str, fault: str) -> None:
    """generate / generate --disposable / verify / rotate x each fault: exit code, one clear line,
    bounded retries and time, and the records and keyring exactly as before."""
    server = fake_momento
    seed_admin(run, server)
    seed_worker(run, server)
    before = run.state()
    override = f"127.0.0.1:{closed_port()}" if fault == "refused" else server.override
    timeout = ["--timeout", str(TIMEOUT)] if fault == "hang" else ["--timeout", "5"]
    argv = {
        "generate": ["generate", "--using", "admin", "--name", "new", "--expires", "1d", "--all-data"],
        "disposable": ["generate", "--using", "admin", "--name", "new", "--expires", "1h", "--all-data",
                       "--disposable"],
        "verify": ["verify", "admin"],
        "rotate": ["rotate", "worker"],
    }[path]
    inject(server, PATH_METHOD[path], fault)

    result = run(*argv, *timeout, "--endpoint-override", override)

    code, needles = cli_expectation(path, fault)
    assert result.code == code, (result.code, result.out, result.err)
    if path == "verify":
        assert "Traceback" not in result.err and result.error_lines() == []
        [line] = result.out.splitlines()
    else:
        line = result.one_error(code)
    for needle in needles:
        assert needle in line, line
    retried = fault in RETRYABLE and PATH_IDEMPOTENT[path]
    requests = 0 if fault == "refused" else (CLI_RETRIES + 1 if retried else 1)
    assert len(server.calls(PATH_METHOD[path])) == requests
    assert len(sleeps) == (CLI_RETRIES if fault == "refused" or retried else 0)
    attempts = max(requests, 1)
    assert result.seconds < attempts * (TIMEOUT if fault == "hang" else 0.0) + 4.0, result.seconds
    # Nothing stored half-way: same records, same keyring entries, no rescue file, no journal row.
    assert run.state() == before
    assert not (run.db.parent / "rescue").exists()
    assert run.journal() == []
    assert_no_secret_in(result.out, result.err)


def test_a_failed_rotation_leaves_a_key_that_still_verifies(run: Cli, fake_momento: FakeMomento, sleeps: Sleeps):
    """After RefreshApiToken failed before reaching Momento, the old key is untouched and works."""
    seed_admin(run, fake_momento)
    seed_worker(run, fake_momento)
    fake_momento.fail_next("RefreshApiToken", grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert run("rotate", "worker", "--endpoint-override", fake_momento.override).code == 3
    again = run("rotate", "worker", "--endpoint-override", fake_momento.override)
    assert again.code == 0, again.err
    assert "Rotated 'worker'" in again.out


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (not even HTTP/2's SETTINGS):
    the kernel completes the handshakes into the backlog, and nobody ever reads."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


def test_verify_against_a_server_that_never_answers_prints_only_its_message(tmp_path: Path, silent_port: int):
    """Issue 11, item 17: every attempt used to leave gRPC events for a closed asyncio loop,
    printed as "Event loop is closed" tracebacks before the message. A real process, so that
    stderr is exactly what a person would see."""
    env = cli_env(tmp_path, HOME=str(tmp_path / "home"))
    key = FakeMomento().superuser_key()
    imported = run_cli(env, "import", "--name", "admin", "--allow-insecure-keyring", stdin=key)
    assert imported.returncode == 0, imported.stderr

    p = run_cli(env, "verify", "admin", "--endpoint-override", f"127.0.0.1:{silent_port}", "--timeout", "0.5")

    assert p.returncode == 3, (p.stdout, p.stderr)
    assert "Event loop is closed" not in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert [x for x in p.stderr.splitlines() if not x.startswith("momento-keys: note:")] == [], p.stderr
    [line] = p.stdout.splitlines()
    assert line.startswith("admin: UNKNOWN") and f"127.0.0.1:{silent_port}" in line, line


# ---- keyring faults ---------------------------------------------------------------------


class _TestKeyring(MemoryKeyring):
    """Never chosen automatically (MemoryKeyring's priority raises)."""


class LockedKeyring(_TestKeyring):
    """A locked collection whose unlock prompt was dismissed: every call raises."""

    def get_password(self, service, username):
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service, username, password):
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service, username):
        raise KeyringLocked("Failed to unlock the collection!")


class RefusingKeyring(_TestKeyring):
    """Looks healthy (a Secret Service that passes the probe) but refuses to store real secrets,
    as a collection locked between the probe and the write does."""

    error: type[Exception] = KeyringLocked

    def set_password(self, service, username, password):
        if username.startswith("__probe__"):
            return super().set_password(service, username, password)
        raise self.error("the collection is locked (test)")


# Classified as the real Secret Service / Windows backends (classify() reads the class's dotted name).
RefusingKeyring.__module__, RefusingKeyring.__qualname__ = "keyring.backends.SecretService", "Keyring"


class WindowsLikeKeyring(_TestKeyring):
    """Classified as Windows Credential Locker, so its 1280-character limit applies."""


WindowsLikeKeyring.__module__, WindowsLikeKeyring.__qualname__ = "keyring.backends.Windows", "WinVaultKeyring"


def _plaintext(tmp_path: Path):
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "plain" / "keyring_pass.cfg")
    return backend


BROKEN_KEYRINGS: dict[str, tuple[Callable[[Path], Any], str, str]] = {
    # name: (backend factory, words in the import/generate message, words in doctor's fix)
    "fail": (lambda tmp: keyring.backends.fail.Keyring(), "no keyring backend", "install and unlock a Secret Service"),
    "null": (lambda tmp: keyring.backends.null.Keyring(), "null backend", "'null' backend is configured"),
    "plaintext": (_plaintext, "--allow-insecure-keyring", "opt in with --allow-insecure-keyring"),
    "locked": (lambda tmp: LockedKeyring(), "the keyring is locked", "unlock the keyring"),
}


@pytest.mark.parametrize("kind", [*BROKEN_KEYRINGS, "init-error"])
def test_unusable_keyring_import_generate_doctor(run: Cli, fake_momento: FakeMomento, sleeps: Sleeps, tmp_path,
                                                 kind: str) -> None:
    """No backend, null, plaintext without opt-in, locked, or keyring failing to start: import
    tracks metadata only and says why; generate refuses before calling Momento; doctor says how
    to fix it."""
    seed_admin(run, fake_momento)  # stored while a keyring worked
    if kind == "init-error":
        def boom():
            raise InitError("No recommended backend was available (test)")

        run.monkeypatch.setattr(keyring, "get_keyring", boom)
        words, fix = "could not start", "failed to start"
    else:
        factory, words, fix = BROKEN_KEYRINGS[kind]
        run.use(factory(tmp_path))
    rows_before = run.state()[0]

    result = run("import", "--name", "plain", stdin=make_v1())
    assert result.code == 5, result.err  # tracked, secret not stored: a code of its own
    assert "secret NOT stored" in result.err and words in result.err, result.err
    assert "Traceback" not in result.err
    [row] = [r for r in json.loads(run("list", "--json").out) if r["name"] == "plain"]
    assert row["secret_stored"] is False

    result = run("generate", "--using", "admin", "--name", "new", "--expires", "1d", "--all-data",
                 "--endpoint-override", fake_momento.override)
    line = result.one_error(1)
    assert "nothing was generated" in line and words in line, line
    assert fake_momento.requests == []
    assert {r[0] for r in run.state()[0]} == {*(r[0] for r in rows_before), "plain"}

    result = run("doctor", "--json")
    assert result.code == 1 and "Traceback" not in result.err
    doc = json.loads(result.out)
    assert doc["keyring"]["secure"] is False
    assert any(p.startswith("keyring:") and fix in p for p in doc["problems"]), doc["problems"]

    # Reading a secret fails in one line too (verify and export need the secret), saying why.
    why = {"fail": "no keyring backend", "null": "backend is 'null'", "plaintext": "missing from the keyring",
           "locked": "the keyring is locked", "init-error": "could not start"}[kind]
    for argv, code in ((["export", "admin", "--stdout"], 1), (["verify", "admin"], 3)):
        result = run(*argv, "--endpoint-override", fake_momento.override) if argv[0] == "verify" else run(*argv)
        assert why in result.one_error(code), result.err
    assert fake_momento.requests == []


@pytest.mark.parametrize("path, error", [("generate", KeyringLocked), ("disposable", KeyringLocked),
                                         ("generate", PasswordSetError), ("rotate", KeyringLocked)])
def test_keyring_write_fails_after_momento_made_the_key(run: Cli, fake_momento: FakeMomento, sleeps: Sleeps,
                                                       path: str, error: type[Exception]) -> None:
    """The key exists only in memory: it is rescued to a 0600 file (exit 4), nothing is tracked
    half-way, and doctor points at the file."""
    seed_admin(run, fake_momento)
    seed_worker(run, fake_momento)
    refusing = RefusingKeyring()
    refusing.entries = dict(run.keyring.entries)
    refusing.error = error
    run.use(refusing)
    before = run.state()
    argv = {
        "generate": ["generate", "--using", "admin", "--name", "new", "--expires", "7d", "--cache", "orders=readonly"],
        "disposable": ["generate", "--using", "admin", "--name", "new", "--expires", "2h", "--all-data",
                       "--disposable"],
        "rotate": ["rotate", "worker"],
    }[path]
    result = run(*argv, "--endpoint-override", fake_momento.override)

    assert result.code == 4, (result.out, result.err)
    assert "Traceback" not in result.err and result.out == ""
    name = "worker" if path == "rotate" else "new"
    assert any(x.startswith(ERROR) and f"Momento made {name!r} but it could not be stored" in x
               for x in result.err.splitlines()), result.err
    [rescue] = list((run.db.parent / "rescue").iterdir())
    assert str(rescue) in result.err and "import --name" in result.err
    assert stat.S_IMODE(rescue.stat().st_mode) == 0o600
    assert stat.S_IMODE(rescue.parent.stat().st_mode) == 0o700
    doc = json.loads(rescue.read_text())
    issued = fake_momento.token_info(json.loads(__import__("base64").b64decode(doc["apiKey"]))["api_key"])
    assert issued is not None  # the very key Momento made
    if path != "disposable":
        assert doc["refreshToken"] == issued.refresh_token
    assert run.state() == before  # nothing tracked half-way: same records, same keyring
    assert run.journal() == []
    assert_no_secret_in(result.out, result.err)

    report = json.loads(run("doctor", "--json").out)
    assert report["rescue_files"] == [str(rescue)]
    assert any("rescue file" in p and str(rescue) in p for p in report["problems"])
    if path == "rotate":
        assert any("rotation of 'worker' made a new key that could not be stored" in p and "--replaces worker" in p
                   for p in report["problems"]), report["problems"]

    # The command the error printed works, once the keyring does: the key is tracked again.
    import shlex

    [hint] = [x for x in result.err.splitlines() if "to track it:" in x]
    command = shlex.split(hint.split("to track it: ", 1)[1].split("   then delete the file")[0])
    assert command[:2] == ["momento-keys", "import"]
    run.use(MemoryKeyring())
    run.keyring.entries = dict(refusing.entries)
    imported = run(*command[1:], "--json")
    assert imported.code == 0, imported.err
    row = json.loads(imported.out)
    assert row["secret_stored"] and row["has_refresh_token"] is (path != "disposable")
    if path == "rotate":
        assert row["name"] == "worker (new)" and "replaces 'worker'" in imported.err


def test_vault_refuses_a_secret_over_the_windows_limit_before_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = MemoryKeyring()
    v = Vault(backend)
    v.probe()
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(VaultError) as info:
        v.put("sha256:big", "k" * (vault_mod.WINDOWS_MAX_SECRET + 1))
    assert "Windows Credential Locker holds at most 1280" in str(info.value) and "not stored" in str(info.value)
    assert "k" * 20 not in str(info.value)
    # A refresh token over the limit stops the key from being written too: never half a pair.
    with pytest.raises(VaultError, match="refresh token is 1281 characters"):
        v.put("sha256:pair", "short-key", "r" * 1281)
    assert backend.entries == {}
    v.put("sha256:edge", "k" * vault_mod.WINDOWS_MAX_SECRET)  # exactly the limit is fine
    assert backend.entries == {(SERVICE, "key:sha256:edge"): "k" * 1280}


@pytest.mark.parametrize("path", ["generate", "rotate"])
@pytest.mark.parametrize("fault", ["the reply fails our checks", "interrupted while storing"])
def test_a_key_momento_made_is_kept_whatever_fails_after(run: Cli, fake_momento: FakeMomento, sleeps: Sleeps,
                                                          monkeypatch: pytest.MonkeyPatch, path: str,
                                                          fault: str) -> None:
    """Once Momento has answered, the key is stored or rescued, and the message is true: it never
    says "nothing was generated", it says what went wrong, where the key is and how to track it."""
    from tui.core.keys import KeyFormatError
    from tui.services import keeper as keeper_mod
    from tui.services import rotation as rotation_mod

    seed_admin(run, fake_momento)
    seed_worker(run, fake_momento)
    before = run.state()
    if fault == "the reply fails our checks":
        def reject(*args: object, **kwargs: object) -> None:
            raise KeyFormatError("its endpoint 'cell-x.invalid' is not a Momento endpoint (test)")

        monkeypatch.setattr(keeper_mod, "inspect_generated", reject)
        monkeypatch.setattr(rotation_mod, "inspect_generated", reject)
        words = "did not pass our checks"
    else:
        def interrupted(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt  # Ctrl-C, or SIGTERM (the CLI turns it into the same)

        monkeypatch.setattr(Vault, "put", interrupted)
        monkeypatch.setattr(Vault, "put_pending", interrupted)
        words = "interrupted"
    argv = {"generate": ["generate", "--using", "admin", "--name", "new", "--expires", "7d", "--all-data"],
            "rotate": ["rotate", "worker"]}[path]
    result = run(*argv, "--endpoint-override", fake_momento.override)

    assert result.code == 4, (result.out, result.err)
    assert "Traceback" not in result.err and result.out == ""
    name = "worker" if path == "rotate" else "new"
    [line] = [x for x in result.err.splitlines() if x.startswith(ERROR)]
    assert f"Momento made {name!r} but it could not be stored" in line and words in line, line
    assert "nothing was generated" not in result.err.lower()
    if path == "rotate":
        assert "refresh token is spent" in line
    [rescue] = list((run.db.parent / "rescue").iterdir())
    doc = json.loads(rescue.read_text())
    assert fake_momento.token_info(json.loads(__import__("base64").b64decode(doc["apiKey"]))["api_key"]) is not None
    [hint] = [x for x in result.err.splitlines() if "to track it:" in x]
    assert str(rescue) in hint and ("--replaces worker" in hint) == (path == "rotate")
    rows, entries = run.state()
    assert rows == before[0]  # nothing tracked half-way
    assert entries == before[1]
    assert json.loads(run("doctor", "--json").out)["rescue_files"] == [str(rescue)]


def test_generated_key_over_the_windows_limit_is_rescued(run: Cli, fake_momento: FakeMomento, sleeps: Sleeps):
    """Five long cache names make a real key of over 2,000 characters; Windows Credential Locker
    cannot hold it, so it goes to a rescue file instead of half into the keyring."""
    seed_admin(run, fake_momento)
    windows = WindowsLikeKeyring()
    windows.entries = dict(run.keyring.entries)
    run.use(windows)
    before = run.state()
    caches = [f"--cache={'c' * 200}{i}=readwrite" for i in range(5)]
    result = run("generate", "--using", "admin", "--name", "wide", "--expires", "7d", *caches,
                 "--endpoint-override", fake_momento.override)
    assert result.code == 4, result.err
    assert "Windows Credential Locker holds at most 1280" in result.err
    [rescue] = list((run.db.parent / "rescue").iterdir())
    assert len(json.loads(rescue.read_text())["apiKey"]) > 1280
    assert run.state() == before


def test_import_of_an_over_limit_key_on_windows_tracks_metadata_only(run: Cli, monkeypatch):
    run.use(WindowsLikeKeyring())
    key = make_v1(sub="s" * 1200)
    assert len(key) > 1280
    result = run("import", "--name", "long", stdin=key)
    assert result.code == 5 and "secret NOT stored" in result.err and "at most 1280" in result.err
    assert run.keyring.entries == {}


# -- a secret deleted behind the app's back --


def _delete_behind_our_back(run: Cli, name: str) -> None:
    s = Store(run.db, readonly=True)
    record = s.find(name)
    s.close()
    assert record is not None
    for part in ("key", "refresh"):
        run.keyring.entries.pop((SERVICE, f"{part}:{record.fingerprint}"), None)


def test_secret_deleted_outside_the_app(run: Cli, fake_momento: FakeMomento, sleeps: Sleeps) -> None:
    seed_admin(run, fake_momento)
    seed_worker(run, fake_momento)
    _delete_behind_our_back(run, "worker")

    listed = run("list", "--json")
    assert listed.code == 0 and {r["name"] for r in json.loads(listed.out)} == {"admin", "worker"}
    assert run("list").code == 0 and run("check").code in (0, 1, 2)

    doc = json.loads(run("doctor", "--json").out)
    assert doc["secrets"]["missing_from_keyring"] == ["worker"]
    assert any("worker" in p and "delete its record" in p and "import the key again" in p for p in doc["problems"])
    assert "1 MISSING" in run("doctor").out

    for argv, code in ((["export", "worker", "--stdout"], 1), (["env", "worker", "--stdout"], 1),
                       (["verify", "worker", "--endpoint-override", fake_momento.override], 3),
                       (["rotate", "worker", "--endpoint-override", fake_momento.override], 1),
                       (["generate", "--using", "worker", "--name", "n", "--expires", "1d", "--all-data",
                         "--endpoint-override", fake_momento.override], 1)):
        line = run(*argv).one_error(code)
        assert "missing from the keyring" in line, line
    assert fake_momento.requests == []


async def test_detail_view_says_secret_missing(keeper: Keeper, memory_keyring: MemoryKeyring) -> None:
    from textual.widgets import Static

    from tui.app import MomentoKeysApp
    from tui.screens.detail import DetailScreen

    gone = keeper.import_key(inspect_text(make_v1()), "gone").record
    kept = keeper.import_key(inspect_text(make_v1()), "kept").record
    for part in ("key", "refresh"):
        memory_keyring.entries.pop((SERVICE, f"{part}:{gone.fingerprint}"), None)
    reads: list[str] = []
    original = keeper.vault.get
    keeper.vault.get = lambda fp: reads.append(fp) or original(fp)  # type: ignore[method-assign]

    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=(120, 36)) as pilot:
        for record, missing in ((gone, True), (kept, False)):
            app.push_screen(DetailScreen(record))
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, DetailScreen)
            text = str(screen.query_one("#secret", Static).render())
            assert ("secret missing" in text) is missing, text
            assert ("•" * 12 in text) is not missing, text
            assert screen.secret_present is (not missing)
            await pilot.press("escape")
        # The check never read a secret for the UI, and logged no reveal.
        assert reads == []
        assert all(e.action != "revealed" for e in keeper.store.events(gone.id))


async def test_detail_view_with_a_locked_keyring_does_not_claim_missing(keeper: Keeper) -> None:
    from textual.widgets import Static

    from tui.app import MomentoKeysApp
    from tui.screens.detail import DetailScreen

    record = keeper.import_key(inspect_text(make_v1()), "locked").record
    keeper.vault._backend = LockedKeyring()  # locked after the import
    app = MomentoKeysApp(keeper, tick=False, watch_interval=0)
    async with app.run_test(size=(120, 36)) as pilot:
        app.push_screen(DetailScreen(record))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.secret_present is None
        assert "secret missing" not in str(screen.query_one("#secret", Static).render())


# ---- database faults ---------------------------------------------------------------------


def test_database_locked_beyond_the_busy_timeout(run: Cli, fake_momento: FakeMomento, sleeps: Sleeps,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    seed_admin(run, fake_momento)
    monkeypatch.setattr(store_schema, "BUSY_TIMEOUT_MS", 150)
    before = run.state()
    blocker = sqlite3.connect(run.db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        result = run("import", "--name", "blocked", stdin=make_v1())
        line = result.one_error(1)
        assert "busy" in line and "try again" in line
        assert result.seconds < 3
        assert run("list", "--json").code == 0  # readers are not blocked (WAL)
        doc = json.loads(run("doctor", "--json").out)
        assert doc["database"]["writable"] == "busy"
        assert any("locked by another process" in p for p in doc["problems"])
        # Locked before Momento is called: nothing is generated.
        result = run("generate", "--using", "admin", "--name", "made", "--expires", "1d", "--all-data",
                     "--endpoint-override", fake_momento.override)
        assert "busy" in result.one_error(1)
        assert fake_momento.requests == []
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert run.state() == before

    # Locked while Momento was making the key: the key is rescued, not lost.
    real_generate = MomentoApi.generate_api_key

    def generate_then_lock(self, *args, **kwargs):
        made = real_generate(self, *args, **kwargs)
        holder.append(sqlite3.connect(run.db, isolation_level=None))
        holder[-1].execute("BEGIN IMMEDIATE")
        return made

    holder: list[sqlite3.Connection] = []
    monkeypatch.setattr(MomentoApi, "generate_api_key", generate_then_lock)
    try:
        result = run("generate", "--using", "admin", "--name", "made", "--expires", "1d", "--all-data",
                     "--endpoint-override", fake_momento.override)
    finally:
        for conn in holder:
            conn.execute("ROLLBACK")
            conn.close()
    assert result.code == 4 and "busy" in result.err, result.err
    [rescue] = list((run.db.parent / "rescue").iterdir())
    assert stat.S_IMODE(rescue.stat().st_mode) == 0o600
    assert run.state() == before and run.journal() == []


def test_corrupt_database_is_kept_backed_up_and_explained(run: Cli) -> None:
    run.db.parent.mkdir(parents=True)
    junk = b"SQLite format 3\x00" + b"definitely not a readable database " * 500  # an SQLite file, damaged
    run.db.write_bytes(junk)
    for argv, code in ((["list"], 1), (["import", "--name", "x"], 1), (["check"], 3), (["reminders"], 1)):
        line = run(*argv, stdin=make_v1()).one_error(code)
        assert "is damaged" in line and "left untouched" in line and "mv " in line, line
    assert run.db.read_bytes() == junk
    [backup] = list(run.db.parent.glob("keys.db.corrupt-*.bak"))
    assert backup.read_bytes() == junk and stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert run.keyring.entries == {}
    result = run("doctor", "--json")
    doc = json.loads(result.out)
    assert result.code == 1 and doc["database"]["backup"] == str(backup)
    assert any("damaged" in p and str(backup) in p for p in doc["problems"])
    assert any(".recover" in p for p in doc["problems"])  # how to salvage the records
    assert run.db.read_bytes() == junk


def test_damaged_pages_inside_a_valid_database(run: Cli) -> None:
    keeper = run.keeper()
    for i in range(40):
        keeper.import_key(inspect_text(make_v1()), f"key {i:02d}", notes="x" * 500)
    keeper.store.close()
    # Checkpoint the WAL into the file, then scribble over a page in the middle.
    sqlite3.connect(run.db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    data = bytearray(run.db.read_bytes())
    page = 4096
    data[5 * page:5 * page + 300] = b"\xff" * 300
    run.db.write_bytes(bytes(data))
    damaged = bytes(data)
    result = run("doctor", "--json")
    doc = json.loads(result.out)
    assert result.code == 1
    assert any("damaged" in p or "integrity check failed" in p for p in doc["problems"]), doc["problems"]
    assert doc["database"].get("backup")
    result = run("list", "--json")
    assert "Traceback" not in result.err
    if result.code:
        assert "damaged" in result.one_error(1)
    assert run.db.read_bytes() == damaged


def test_database_from_a_newer_version_is_read_only(run: Cli, fake_momento: FakeMomento, sleeps: Sleeps) -> None:
    seed_admin(run, fake_momento)
    seed_worker(run, fake_momento)
    conn = sqlite3.connect(run.db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = run.state()
    assert {r["name"] for r in json.loads(run("list", "--json").out)} == {"admin", "worker"}
    assert run("check").code in (0, 1)
    for argv in (["import", "--name", "x"], ["generate", "--using", "admin", "--name", "n", "--expires", "1d",
                                            "--all-data", "--endpoint-override", fake_momento.override],
                 ["rotate", "worker", "--endpoint-override", fake_momento.override]):
        line = run(*argv, stdin=make_v1()).one_error(1)
        assert "newer momento-keys" in line and "upgrade momento-keys" in line, line
    assert fake_momento.requests == []
    assert run.state() == before
    doc = json.loads(run("doctor", "--json").out)
    assert any("newer momento-keys" in p for p in doc["problems"])


def _force_read_only(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    """Make the database file read-only for SQLite: chmod, and (root ignores file modes) open it
    with mode=ro, which is what SQLite does with a file it may not write."""
    os.chmod(db, 0o400)
    if os.geteuid() != 0:
        return
    real_connect = sqlite3.connect
    target = str(db)

    def connect(database, *args, **kwargs):
        name = str(database)
        if name == target:
            return real_connect(f"file:{target}?mode=ro", *args, **{**kwargs, "uri": True})
        if name.startswith("file:") and target in name and "mode=rw" in name:
            return real_connect(name.replace("mode=rw", "mode=ro"), *args, **kwargs)
        if name.startswith("file://") and db.name in name and "mode=rw" in name:
            return real_connect(name.replace("mode=rw", "mode=ro"), *args, **kwargs)
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)


def test_read_only_database_file(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    keeper = run.keeper()
    keeper.import_key(inspect_text(make_v1()), "existing")
    keeper.store.close()
    before = run.state()
    _force_read_only(monkeypatch, run.db)
    try:
        assert [r["name"] for r in json.loads(run("list", "--json").out)] == ["existing"]
        line = run("import", "--name", "more", stdin=make_v1()).one_error(1)
        assert "read-only" in line and "chmod u+w" in line, line
        assert run.state() == before  # the secret written before the refusal was taken back
        doc = json.loads(run("doctor", "--json").out)
        assert doc["database"]["writable"] == "read-only"
        assert any("cannot be written" in p and "chmod u+w" in p for p in doc["problems"])
    finally:
        os.chmod(run.db, 0o600)


def test_read_only_directory(run: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "locked-folder"
    folder.mkdir()
    os.chmod(folder, 0o500)
    db = folder / "keys.db"
    if os.geteuid() == 0:  # root ignores the folder's mode: refuse as the kernel would for anyone else
        real_open, real_access = os.open, os.access

        def refusing_open(path, flags, *args, **kwargs):
            if Path(path).parent == folder and flags & os.O_CREAT:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == folder else real_access(p, mode))
    try:
        result = run("--db", str(db), "import", "--name", "x", stdin=make_v1())
        line = result.one_error(1)
        assert "cannot create the database" in line and "Permission denied" in line and "--db PATH" in line, line
        assert run.keyring.entries == {}
        assert "no database at" in run("--db", str(db), "list", "--json").one_error(1)  # named, absent: an error
        doc = json.loads(run("--db", str(db), "doctor", "--json").out)
        assert doc["database"]["directory_writable"] is False
        assert any("cannot be created" in p and "not writable" in p for p in doc["problems"])
    finally:
        os.chmod(folder, 0o700)


def _fill_the_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's view of a full disk: no connection may grow the file beyond its current size."""
    original = Store.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
        self._conn.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(Store, "__init__", init)


def test_full_disk(run: Cli, fake_momento: FakeMomento, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_admin(run, fake_momento)
    before = run.state()
    _fill_the_disk(monkeypatch)
    big = "where used: " + "x" * 30_000  # needs new pages
    result = run("import", "--name", "big", "--notes", big, stdin=make_v1())
    line = result.one_error(1)
    assert "disk" in line and "full" in line and "nothing was changed" in line, line
    assert run.state() == before  # the secret written before the refusal was taken back
    # After Momento made a key: rescued, not lost.
    result = run("generate", "--using", "admin", "--name", "made", "--expires", "1d", "--all-data",
                 "--notes", big, "--endpoint-override", fake_momento.override)
    assert result.code == 4 and "full" in result.err, result.err
    assert run.state() == before and run.journal() == []


def test_doctor_warns_when_the_disk_is_nearly_full(run: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 4096, 4096))
    run.keeper().store.close()
    doc = json.loads(run("doctor", "--json").out)
    assert doc["database"]["free_bytes"] == 4096
    assert any("full" in p and "4096 bytes free" in p for p in doc["problems"])


# ---- doctor: the remaining repairs it must explain ----------------------------------------


@pytest.mark.parametrize("value, words", [("localhost", "HOST:PORT"), ("127.0.0.1:443", "port 443")])
def test_doctor_reports_a_bad_endpoint_override(run: Cli, monkeypatch, value: str, words: str) -> None:
    monkeypatch.setenv("MOMENTO_KEYS_ENDPOINT_OVERRIDE", value)
    doc = json.loads(run("doctor", "--json").out)
    assert doc["momento"]["endpoint_override"] == value
    assert any("MOMENTO_KEYS_ENDPOINT_OVERRIDE" in p and words in p for p in doc["problems"])
    assert "grpc" not in doc  # doctor stays offline and light


def test_doctor_all_good_says_so(run: Cli) -> None:
    run.keeper().store.close()
    result = run("doctor")
    assert result.code == 0 and "all good" in result.out, result.out
    doc = json.loads(run("doctor", "--json").out)
    assert doc["database"]["writable"] == "ok" and doc["rescue_files"] == [] and doc["problems"] == []
