"""Fixtures that isolate every test from the user's machine.

A temporary data directory and settings file, an in-memory keyring, a
manual clock, and keys made here (JWTs signed with a throwaway secret).
Every secret a test makes is remembered in SECRETS_MADE so the hygiene test
can scan the artifacts for them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from pathlib import Path

import jwt
import pytest

# Local time is UTC in tests, so rendered dates and snapshots are stable.
os.environ["TZ"] = "UTC"
time.tzset()
os.environ.pop("MOMENTO_KEYS_DB", None)
os.environ.pop("MOMENTO_KEYS_ENDPOINT_OVERRIDE", None)

from tests.fake_momento import fake_momento  # noqa: E402,F401  (fixture)
from tui.core.clock import ManualClock  # noqa: E402
from tui.services.config import Settings  # noqa: E402
from tui.services.keeper import Keeper  # noqa: E402
from tui.services.store import Store  # noqa: E402
from tui.services.vault import MemoryKeyring, Vault  # noqa: E402

NOW = 1_800_000_000  # 2027-01-15T08:00:00Z
ENDPOINT = "cell-4-us-west-2-1.prod.a.momentohq.com"
SIGNER = secrets.token_hex(16)
SECRETS_MADE: set[str] = set()


def make_jwt(claims: dict) -> str:
    token = jwt.encode(claims, SIGNER, algorithm="HS256")
    SECRETS_MADE.add(token)
    return token


def make_v1(*, endpoint: str = ENDPOINT, issued: int | None = NOW - 86400, expires: int | None = NOW + 30 * 86400,
            sub: str = "test") -> str:
    claims: dict = {"sub": sub, "ver": 1, "p": secrets.token_urlsafe(12)}
    if issued is not None:
        claims["iat"] = issued
    if expires is not None:
        claims["exp"] = expires
    raw = make_jwt(claims)
    key = base64.b64encode(json.dumps({"endpoint": endpoint, "api_key": raw}).encode()).decode()
    SECRETS_MADE.add(key)
    return key


def make_v2(*, issued: int | None = NOW - 86400, expires: int | None = NOW + 30 * 86400) -> str:
    claims: dict = {"t": "g", "jti": secrets.token_hex(6)}
    if issued is not None:
        claims["iat"] = issued
    if expires is not None:
        claims["exp"] = expires
    return make_jwt(claims)


def console_json(key: str, valid_until: int | str | None = None, refresh: str | None = None,
                 key_field: str = "apiKey") -> str:
    doc: dict = {key_field: key}
    if valid_until is not None:
        doc["validUntil"] = valid_until
    if refresh:
        SECRETS_MADE.add(refresh)
        doc["refreshToken"] = refresh
    return json.dumps(doc)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "keys.db"


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def vault(memory_keyring: MemoryKeyring) -> Vault:
    v = Vault(memory_keyring)
    v.probe()
    return v


@pytest.fixture
def store(db_path: Path):
    s = Store(db_path)
    yield s
    s.close()


@pytest.fixture
def keeper(store: Store, vault: Vault, clock: ManualClock) -> Keeper:
    return Keeper(store, vault, Settings(), clock)


@pytest.fixture
def real_clock() -> ManualClock:
    """A clock at the real time (for tests that talk to the fake Momento, which reads it)."""
    return ManualClock(time.time())


@pytest.fixture
def wkeeper(db_path: Path, real_clock: ManualClock) -> Keeper:
    """A keeper on a real SQLite file and an in-memory keyring, at the real time (the wizard's tests)."""
    vault = Vault(MemoryKeyring())
    vault.probe()
    return Keeper(Store(db_path), vault, Settings(), real_clock)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the user's config, database or momento-cli credentials."""
    monkeypatch.setenv("MOMENTO_KEYS_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("MOMENTO_KEYS_DB", str(tmp_path / "env-default.db"))
    monkeypatch.setenv("MOMENTO_CONFIG_DIR", str(tmp_path / "momento-cli"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


# =====================================================================================
# Secret hygiene plugin (appended by the faults/hygiene work; append-only section).
#
# After the whole run, every secret the tests made (SECRETS_MADE) or the fake Momento
# server issued (tests.fake_momento.ISSUED_SECRETS) is searched for in:
#   * every file under this run's pytest temporary directory (databases and their
#     -wal/-shm/.bak files, settings, metrics, logs, anything a test or the app wrote),
#   * the snapshot and screenshot directories,
#   * the output pytest captured for each test, and the stdout/stderr of every CLI
#     subprocess run through tests.cli_support.run_cli.
# Legitimate holders of secrets are skipped: keyring storage files, explicit secret
# exports (Download JSON from `export`, the wizard, rescue files; these must be 0600
# when momento-keys wrote them), key files the tests wrote as input, and the stdout of
# `export` / `env`. A hit fails the run (exit status 1) with the file and a masked hint.
# The scanner itself is tested in tests/test_hygiene.py.
# =====================================================================================

import re as _re  # noqa: E402
import stat as _stat  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402
from dataclasses import field as _field  # noqa: E402

from tests import cli_support as _cli_support  # noqa: E402
from tests import fake_momento as _fake_momento  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT_DIR = REPO / "tests" / "__snapshots__"
SCREENSHOT_DIR = REPO / "screenshots"
HYGIENE_CAPTURED: list[tuple[str, str]] = []          # (where, text) of captured test output
HYGIENE_CLI_RUNS: list[tuple[tuple[str, ...], str, str]] = []  # (argv, stdout, stderr)
_HYGIENE_STATE: dict[str, Path] = {}

_ANCHOR = 16
_TOKEN_RUN = _re.compile(rb"[A-Za-z0-9_\-.+/=]{%d,}" % _ANCHOR)
_TOKEN_CHARS = _re.compile(r"[A-Za-z0-9_\-.+/=]+")
# Shapes of a credential, for files that must hold none at all (screenshots, snapshots):
# a JWT, or base64 of JSON long enough to be a v1 key.
_JWT_SHAPE = _re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")
_V1_SHAPE = _re.compile(rb"eyJ[A-Za-z0-9+/]{100,}={0,2}")
_SECRET_FIELDS = ("apiKey", "authToken", "api_key", "refreshToken", "refresh_token")
_KEYRING_FILES = {"keyring_pass.cfg", "crypted_pass.cfg"}


def expand_secrets(secrets) -> set[str]:
    """Each secret plus the parts of it that are secret on their own: the inner JWT of a
    v1 key (base64 of JSON) and the signature of a JWT."""
    out: set[str] = set()
    for secret in secrets:
        s = secret.strip()
        if len(s) < _ANCHOR:
            continue
        out.add(s)
        try:
            doc = json.loads(base64.b64decode(s, validate=True))
        except Exception:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("api_key"), str):
            out |= expand_secrets([doc["api_key"]])
        parts = s.split(".")
        if len(parts) == 3 and len(parts[2]) >= _ANCHOR:
            out.add(parts[2])
    return out


def test_secrets() -> set[str]:
    """Every secret made so far in this run, expanded."""
    return expand_secrets(set(SECRETS_MADE) | set(_fake_momento.ISSUED_SECRETS))


test_secrets.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name


class SecretScanner:
    """Finds any of a set of secrets in bytes or text, fast enough for thousands of each.

    Secrets are made of token characters (base64, base64url, JWT dots), so only maximal
    runs of those characters can hold one; each run is checked at every offset against
    a table of the secrets' first 16 characters. Secrets with other characters are
    searched for plainly.
    """

    def __init__(self, secrets) -> None:
        self.secrets = {s for s in secrets if len(s) >= _ANCHOR}
        self._by_anchor: dict[bytes, list[bytes]] = {}
        self._odd: list[bytes] = []
        for s in self.secrets:
            b = s.encode("utf-8", "surrogatepass")
            if _TOKEN_CHARS.fullmatch(s):
                self._by_anchor.setdefault(b[:_ANCHOR], []).append(b)
            else:
                self._odd.append(b)

    def find(self, data: bytes | str) -> set[str]:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        hits: set[str] = set()
        table = self._by_anchor
        for match in _TOKEN_RUN.finditer(data):
            run = match.group()
            for i in range(len(run) - _ANCHOR + 1):
                candidates = table.get(run[i:i + _ANCHOR])
                if candidates:
                    for c in candidates:
                        if run.startswith(c, i):
                            hits.add(c.decode())
        for b in self._odd:
            if b in data:
                hits.add(b.decode("utf-8", "surrogatepass"))
        return hits


def mask(secret: str) -> str:
    return f"{secret[:6]}…{secret[-4:]} ({len(secret)} chars)"


def classify_file(path: Path, data: bytes, secrets: set[str]) -> str:
    """What a file is, for the scan:

    ``keyring`` (a keyring backend's storage: skipped), ``export`` (an explicit secret
    export momento-keys wrote: Download JSON or a rescue file; must be 0600), ``input``
    (a key file or Download JSON a test wrote to feed the app, or momento-cli's
    credentials file: skipped) or ``scan`` (must hold no secret).
    """
    parts = set(path.parts)
    if path.name in _KEYRING_FILES or path.suffix == ".keyring" or {"python_keyring", "keyrings"} & parts:
        return "keyring"
    if path.parent.name == "rescue" or path.parent.name.startswith("momento-keys-rescue"):
        return "export"
    text = data.decode("utf-8", "replace")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            doc = json.loads(stripped)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and any(isinstance(doc.get(f), str) for f in _SECRET_FIELDS):
            # momento-keys writes Download JSON pretty-printed (export, wizard, rescue);
            # the tests' console_json() inputs are compact.
            return "export" if stripped.startswith('{\n  "') else "input"
    if stripped in secrets:
        return "input"  # a raw key file a test wrote for --file
    if path.name == "credentials" and "[" in text:
        return "input"  # momento-cli's credentials file, written by a test
    return "scan"


@_dataclass
class HygieneResult:
    secrets: int = 0
    files: int = 0
    skipped: int = 0
    exports: int = 0
    outputs: int = 0
    leaks: list[str] = _field(default_factory=list)
    bad_modes: list[str] = _field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.leaks and not self.bad_modes


def scan_for_secrets(
    roots,
    secrets,
    *,
    captured=(),
    cli_runs=(),
    shape_roots=(),
) -> HygieneResult:
    """Search files under ``roots`` (and texts) for ``secrets``; see the section comment.

    ``shape_roots`` (screenshots, snapshots) must not even hold something shaped like a
    credential (a JWT, a v1 key), whoever made it.
    """
    from tui.cli.parser import command_of as _command_of

    secrets = set(secrets)
    result = HygieneResult(secrets=len(secrets))
    scanner = SecretScanner(secrets)

    def report(where: str, hits: set[str]) -> None:
        for h in sorted(hits):
            result.leaks.append(f"{where}: {mask(h)}")

    seen: set[Path] = set()
    for root, shapes in [*((r, False) for r in roots), *((r, True) for r in shape_roots)]:
        root = Path(root)
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            try:
                st = path.lstat()
            except OSError:
                continue
            if not _stat.S_ISREG(st.st_mode) or path in seen or st.st_size > 64 * 2**20:
                continue
            seen.add(path)
            try:
                data = path.read_bytes()
            except OSError:
                continue
            result.files += 1
            kind = classify_file(path, data, secrets)
            if kind in ("keyring", "input"):
                result.skipped += 1
                continue
            if kind == "export":
                result.exports += 1
                if _stat.S_IMODE(st.st_mode) & 0o077:
                    result.bad_modes.append(f"{path}: a secret export with mode {oct(_stat.S_IMODE(st.st_mode))}")
                continue
            report(str(path), scanner.find(data))
            if shapes:
                for pattern in (_JWT_SHAPE, _V1_SHAPE):
                    for m in pattern.finditer(data):
                        result.leaks.append(f"{path}: something shaped like a credential: "
                                            f"{mask(m.group().decode())}")
    for where, text in captured:
        result.outputs += 1
        report(f"captured output of {where}", scanner.find(text))
    for argv, stdout, stderr in cli_runs:
        result.outputs += 2
        command = _command_of(list(argv))
        shown = " ".join(mask(a) if scanner.find(a) else a for a in argv)
        report(f"stderr of `momento-keys {shown}`", scanner.find(stderr))
        if command not in ("export", "env"):  # the two commands whose job is to print the secret
            report(f"stdout of `momento-keys {shown}`", scanner.find(stdout))
    return result


_unrecorded_run_cli = _cli_support.run_cli


def _recording_run_cli(env, *args, **kwargs):
    proc = _unrecorded_run_cli(env, *args, **kwargs)
    HYGIENE_CLI_RUNS.append((tuple(args), proc.stdout or "", proc.stderr or ""))
    return proc


_cli_support.run_cli = _recording_run_cli


@pytest.fixture(scope="session", autouse=True)
def _hygiene_basetemp(tmp_path_factory: pytest.TempPathFactory) -> None:
    _HYGIENE_STATE["base"] = tmp_path_factory.getbasetemp()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, content in report.sections:
        if content and "Captured" in name:
            HYGIENE_CAPTURED.append((f"{report.nodeid} ({name})", content))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    base = _HYGIENE_STATE.get("base")
    roots = [base] if base is not None else []
    result = scan_for_secrets(roots, test_secrets(), captured=HYGIENE_CAPTURED, cli_runs=HYGIENE_CLI_RUNS,
                              shape_roots=[SNAPSHOT_DIR, SCREENSHOT_DIR])
    _HYGIENE_STATE["result"] = result  # type: ignore[assignment]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    summary = (f"secret hygiene: {result.secrets} secrets searched in {result.files} files "
               f"({result.skipped} keyring/input files skipped, {result.exports} secret exports checked for 0600) "
               f"and {result.outputs} captured outputs")
    lines = [summary + (": clean" if result.clean else ": FAILED")]
    lines += [f"  LEAK {x}" for x in result.leaks[:50]] + [f"  MODE {x}" for x in result.bad_modes[:50]]
    if reporter is not None:
        reporter.write_sep("-", "secret hygiene")
        for line in lines:
            reporter.write_line(line)
    if not result.clean:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
