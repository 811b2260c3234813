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


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the user's config, database or momento-cli credentials."""
    monkeypatch.setenv("MOMENTO_KEYS_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("MOMENTO_KEYS_DB", str(tmp_path / "env-default.db"))
    monkeypatch.setenv("MOMENTO_CONFIG_DIR", str(tmp_path / "momento-cli"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
