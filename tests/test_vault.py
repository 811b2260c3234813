from __future__ import annotations

import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordSetError
from keyring.testing.backend import BackendBasicTests

from tui.services import recovery
from tui.services.vault import SERVICE, Health, MemoryKeyring, Vault, VaultError, classify


class TestMemoryKeyringConformance(BackendBasicTests):
    """keyring's own conformance suite, run against the in-memory backend."""

    def init_keyring(self):
        return MemoryKeyring()


class LockedKeyring(KeyringBackend):
    """Looks like a healthy backend; every write fails as a locked collection does."""

    priority = 0  # type: ignore[assignment]

    def get_password(self, service, username):
        return None

    def set_password(self, service, username, password):
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service, username):
        raise KeyringLocked("locked")


class FlakyKeyring(MemoryKeyring):
    """Accepts the key, refuses the refresh token."""

    def set_password(self, service, username, password):
        if username.startswith("refresh:"):
            raise PasswordSetError("disk quota exceeded")
        super().set_password(service, username, password)


def test_memory_backend_is_secure_and_round_trips():
    v = Vault(MemoryKeyring())
    assert v.probe().health is Health.SECURE
    v.put("sha256:ab", "the-secret", "the-refresh")
    assert v.get("sha256:ab") == "the-secret"
    assert v.get_refresh_token("sha256:ab") == "the-refresh"
    v.delete("sha256:ab")
    assert not v.has("sha256:ab")


def test_probe_leaves_nothing_behind():
    kr = MemoryKeyring()
    Vault(kr).probe()
    assert kr.entries == {}


def test_memory_backend_is_never_chosen_automatically():
    import keyring

    assert not isinstance(keyring.get_keyring(), MemoryKeyring)
    assert MemoryKeyring not in [type(b) for b in keyring.backend.get_all_keyring()]


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring(), keyring.backends.null.Keyring()])
def test_fail_and_null_backends_are_broken(backend):
    v = Vault(backend)
    status = v.probe()
    assert status.health is Health.BROKEN
    assert not v.writable()
    with pytest.raises(VaultError):
        v.put("sha256:x", "s")


def test_locked_keyring_is_broken_with_a_reason():
    v = Vault(LockedKeyring())
    status = v.probe()
    assert status.health is Health.BROKEN
    assert "locked" in status.detail


def test_plaintext_backend_needs_opt_in(tmp_path, monkeypatch):
    from keyrings.alt.file import PlaintextKeyring

    kr = PlaintextKeyring()
    kr.file_path = str(tmp_path / "plain.cfg")
    v = Vault(kr)
    status = v.probe()
    assert status.health is Health.INSECURE
    assert "plaintext" in status.description
    assert not v.writable()
    with pytest.raises(VaultError, match="not storing"):
        v.put("sha256:x", "s")
    v.allow_insecure = True
    v.put("sha256:x", "s")
    assert v.get("sha256:x") == "s"


def test_unknown_third_party_backend_is_not_trusted():
    class Odd(MemoryKeyring):
        pass

    Odd.__module__ = "somevendor.keyring"
    assert classify(Odd())[2] is None
    assert Vault(Odd()).probe().health is Health.INSECURE


def test_chainer_is_classified_by_its_first_backend():
    from keyring.backends.chainer import ChainerBackend

    class OneChain(ChainerBackend):
        backends = [keyring.backends.null.Keyring(), MemoryKeyring()]

    assert classify(OneChain())[0] == "keyring.backends.null.Keyring"


def test_refresh_token_failure_takes_the_key_back():
    kr = FlakyKeyring()
    v = Vault(kr, allow_insecure=True)  # a test class: "unknown" backend, so opt in
    v.probe()
    with pytest.raises(VaultError, match="refresh token"):
        v.put("sha256:x", "key", "refresh")
    assert (SERVICE, "key:sha256:x") not in kr.entries


def test_secret_deleted_behind_our_back():
    from tui.services.vault import SecretMissing

    kr = MemoryKeyring()
    v = Vault(kr)
    v.probe()
    v.put("sha256:x", "key")
    kr.entries.clear()
    with pytest.raises(SecretMissing):
        v.get("sha256:x")


def test_errors_never_contain_the_secret():
    v = Vault(LockedKeyring(), allow_insecure=True)
    v.status = v.status.__class__("x", "x", Health.SECURE)
    with pytest.raises(VaultError) as info:
        v.put("sha256:x", "SUPER-SECRET-VALUE")
    assert "SUPER-SECRET-VALUE" not in str(info.value)


def test_backend_factory_makes_the_backend_on_first_use():
    made = []

    def factory():
        made.append(MemoryKeyring())
        return made[-1]

    v = Vault(backend_factory=factory)
    assert made == [] and v.status.health is Health.UNCHECKED
    assert v.probe().health is Health.SECURE
    v.put("sha256:ab", "the-secret")
    assert len(made) == 1 and made[0].entries and v.get("sha256:ab") == "the-secret"


def test_a_crash_between_the_two_writes_never_leaves_a_key_without_its_refresh_token(
        memory_keyring: MemoryKeyring, keeper) -> None:
    """The refresh token is written first and the key last: if the process dies in between,
    the key's entry is absent (nothing half-stored is adopted) and doctor's adopt removes the
    stray refresh token."""
    from tests.conftest import NOW, console_json, make_v1
    from tui.core.keys import inspect_text

    class Dies(BaseException):
        pass

    inspection = inspect_text(console_json(make_v1(), NOW + 30 * 86400, "rt-" + "z" * 40))
    real = memory_keyring.set_password
    writes = []

    def set_password(service: str, user: str, value: str) -> None:
        writes.append(user)
        if len(writes) == 2:
            raise Dies()  # SIGKILL between the two writes, whichever comes first
        real(service, user, value)

    memory_keyring.set_password = set_password  # type: ignore[method-assign]
    with pytest.raises(Dies):
        keeper.import_key(inspection, "orders", require_secret=True)
    memory_keyring.set_password = real  # type: ignore[method-assign]
    assert not keeper.vault.has(inspection.fingerprint)
    assert keeper.store.find("orders") is None
    adopted, dropped = recovery.adopt(keeper)
    assert adopted == [] and dropped == 1
    assert memory_keyring.entries == {}
