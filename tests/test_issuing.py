"""The one never-lose path (tui.services.issuing): every answer Momento gives ends stored or
rescued, whatever our checks think of it and whatever refuses to store it."""

from __future__ import annotations

import json
import stat
import time

import pytest

from tests.fake_momento import FakeMomento
from tui.core.clock import ManualClock
from tui.core.keys import inspect_text
from tui.core.model import ExpirySource, KeyType
from tui.core.permissions import ALL_DATA_READ_WRITE
from tui.services.config import Settings
from tui.services.issuing import Issuer
from tui.services.keeper import Keeper
from tui.services.momento import MomentoApi
from tui.services.recovery import rescue_dir, rescue_files
from tui.services.store import Store
from tui.services.vault import MemoryKeyring, Vault, VaultError

DAY = 86400


@pytest.fixture
def ikeeper(db_path) -> Keeper:
    vault = Vault(MemoryKeyring())
    vault.probe()
    return Keeper(Store(db_path), vault, Settings(), ManualClock(time.time()))


def admin_key(server: FakeMomento) -> str:
    from momento_wire_types import permissionmessages_pb2 as perm_pb2

    key, _ = server.issue_key(perm_pb2.Permissions(super_user=perm_pb2.SuperUser), valid_for_seconds=30 * DAY)
    return key


def generate(server: FakeMomento, valid_for: int | None = 7 * DAY):
    api = MomentoApi(override=server.override, timeout=5, retries=1, backoff=0.01)
    key = admin_key(server)
    return api.generate_api_key(key, inspect_text(key).endpoint, list(ALL_DATA_READ_WRITE), valid_for)


@pytest.mark.parametrize("spoil, words", [
    ({"omit": ("endpoint",)}, "had no endpoint"),
    ({"omit": ("valid_until",)}, "sent no expiry"),
    ({"omit": ("refresh_token",)}, "sent no refresh token"),
    ({"omit": (), "endpoint": "not a host!/x"}, "not usable"),
])
def test_an_odd_answer_is_stored_with_a_true_warning(ikeeper, fake_momento, spoil, words):
    fake_momento.bad_response("GenerateApiToken", **spoil)
    generated = generate(fake_momento)
    issued = Issuer(ikeeper).keep(generated, "odd", key_type=KeyType.FINE_GRAINED)
    assert issued.stored, issued.problem
    assert any(words in w for w in issued.warnings), issued.warnings
    assert ikeeper.vault.get(issued.record.fingerprint) == generated.api_key
    if "valid_until" in spoil.get("omit", ()):
        # Unknown is not "never": the key's own exp claim stands in, never a silent "never expires".
        assert issued.record.expiry_source is not ExpirySource.VALID_UNTIL
        assert not issued.record.never_expires


def test_an_answer_that_fails_our_checks_is_rescued_not_dropped(ikeeper, fake_momento):
    fake_momento.bad_response("GenerateApiToken", omit=(), garble_key=True)
    generated = generate(fake_momento)
    issued = Issuer(ikeeper).keep(generated, "garbled")
    assert issued.kept and not issued.stored
    assert issued.rescue_file is not None and issued.rescue_file.parent == rescue_dir(ikeeper.store.path)
    assert "did not pass our checks" in (issued.problem or "") or issued.warnings
    assert json.loads(issued.rescue_file.read_text())["apiKey"] == generated.api_key
    assert stat.S_IMODE(issued.rescue_file.stat().st_mode) == 0o600
    assert rescue_files(ikeeper.store.path) == [issued.rescue_file]


def test_an_expiry_already_past_is_kept_and_said(ikeeper, fake_momento):
    generated = generate(fake_momento)
    ikeeper.clock.advance(30 * DAY)  # this machine's clock is far ahead of Momento's
    issued = Issuer(ikeeper).keep(generated, "past")
    assert issued.stored and any("already past" in w for w in issued.warnings)


@pytest.mark.parametrize("refuser", ["keyring", "database", "interrupt"])
def test_every_refusal_ends_in_the_one_rescue_folder(ikeeper, fake_momento, monkeypatch, refuser):
    generated = generate(fake_momento)
    if refuser == "keyring":
        def refuse(*a, **k):
            raise VaultError("the keyring is locked")
        monkeypatch.setattr(ikeeper.vault, "put", refuse)
    elif refuser == "database":
        from tui.services.store import StoreError

        def refuse(*a, **k):
            raise StoreError("the database is busy")
        monkeypatch.setattr(ikeeper.store, "add", refuse)
    else:
        def refuse(*a, **k):
            raise KeyboardInterrupt
        monkeypatch.setattr(ikeeper.store, "add", refuse)
    issuer = Issuer(ikeeper)
    issued = issuer.keep(generated, "orders")
    assert not issued.stored and issued.rescue_file is not None
    assert issued.rescue_file.parent == rescue_dir(ikeeper.store.path)
    assert stat.S_IMODE(issued.rescue_file.parent.stat().st_mode) == 0o700
    fingerprint = inspect_text(generated.api_key).fingerprint
    assert ikeeper.store.find("orders") is None and not ikeeper.vault.has(fingerprint)  # nothing half-stored
    monkeypatch.undo()
    again = issuer.retry(issued)
    assert again.stored and not issued.rescue_file.exists()  # stored now: the secret file is gone
    assert rescue_files(ikeeper.store.path) == []


def test_a_planted_symlink_is_never_followed(ikeeper, fake_momento, monkeypatch, tmp_path):
    folder = rescue_dir(ikeeper.store.path)
    elsewhere = tmp_path / "attacker"
    elsewhere.mkdir()
    folder.symlink_to(elsewhere)
    monkeypatch.setattr(ikeeper.vault, "put", lambda *a, **k: (_ for _ in ()).throw(VaultError("locked")))
    issued = Issuer(ikeeper).keep(generate(fake_momento), "orders")
    assert not issued.kept and "symbolic link" in (issued.problem or "")
    assert list(elsewhere.iterdir()) == []
