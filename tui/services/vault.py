"""Secrets in the OS keyring, through `keyring`, and nowhere else.

The backend is whatever keyring's own configuration picks
(PYTHON_KEYRING_BACKEND, keyringrc.cfg, entry points): this module only
classifies it and probes a round trip before trusting it. Secure: Secret
Service, macOS Keychain, Windows Credential Locker, KWallet. Not secure or not
working: `fail` (every call raises), `null` (drops writes), keyrings.alt's
files, a locked Secret Service. Never a silent fallback to plaintext: an
insecure backend is used only when the caller says the user opted in.
"""

from __future__ import annotations

import enum
import secrets as _secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# `keyring` itself is imported only when a secret is touched: `list`, `check`
# and `metrics` never load it.

SERVICE = "momento-keys"
WINDOWS_MAX_SECRET = 1280  # characters; Windows Credential Locker's limit

_SECURE_BACKENDS = {
    "keyring.backends.SecretService.Keyring": "Secret Service (GNOME Keyring / KeePassXC)",
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Locker",
    "keyring.backends.kwallet.DBusKeyring": "KWallet",
    "keyring.backends.kwallet.DBusKeyringKWallet4": "KWallet 4",
    "keyring.backends.libsecret.Keyring": "libsecret",
    "tui.services.memory_keyring.MemoryKeyring": "in-memory (demo; forgotten on exit)",
}
_INSECURE_BACKENDS = {
    "keyring.backends.null.Keyring": "null backend: silently drops every secret",
    "keyring.backends.fail.Keyring": "no keyring backend available",
    "keyrings.alt.file.PlaintextKeyring": "plaintext file (keyrings.alt): anyone who can read the file has the key",
    "keyrings.alt.file.EncryptedKeyring": "encrypted file (keyrings.alt): protected only by its own password prompt",
    "keyrings.alt.Gnome.Keyring": "legacy GNOME keyring (keyrings.alt)",
}


class VaultError(Exception):
    """The keyring failed; the message says what and what to do."""


class SecretMissing(VaultError):
    pass


class Health(str, enum.Enum):
    SECURE = "secure"          # a secure backend that passed the round trip
    INSECURE = "insecure"      # works, but stores secrets unsafely: needs opt-in
    BROKEN = "broken"          # no backend, locked, or the round trip failed
    UNCHECKED = "unchecked"    # not probed (read-only mode never touches the keyring)


@dataclass(frozen=True)
class VaultStatus:
    backend: str          # dotted class name
    description: str      # in words
    health: Health
    detail: str = ""      # why, when not secure

    @property
    def can_store(self) -> bool:
        return self.health is Health.SECURE

    def summary(self) -> str:
        if self.health is Health.SECURE:
            return f"secrets in {self.description}"
        if self.health is Health.UNCHECKED:
            return "keyring not used (read-only)"
        if self.health is Health.INSECURE:
            return f"keyring is not secure ({self.description}): tracking metadata only"
        return f"no working keyring ({self.detail or self.description}): tracking metadata only"


def _dotted(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def classify(backend: Any) -> tuple[str, str, bool | None]:
    """(dotted name, description, secure?) for a backend; secure None = unknown."""
    from keyring.backends.chainer import ChainerBackend

    name = _dotted(backend)
    if isinstance(backend, ChainerBackend):
        inner = list(getattr(backend, "backends", []))
        if not inner:
            return name, "no keyring backend available", False
        # The chainer tries backends by priority; the first one decides where writes go.
        dotted, desc, secure = classify(inner[0])
        return dotted, desc, secure
    if name in _SECURE_BACKENDS:
        return name, _SECURE_BACKENDS[name], True
    if name in _INSECURE_BACKENDS:
        return name, _INSECURE_BACKENDS[name], False
    if name.startswith("keyrings.alt."):
        return name, f"{name} (keyrings.alt stores secrets in files)", False
    return name, f"third-party backend {name}", None


class Vault:
    """Stores a record's secret and refresh token under its fingerprint."""

    def __init__(self, backend: Any | None = None, *, allow_insecure: bool = False,
                 backend_factory: Callable[[], Any] | None = None) -> None:
        """`backend`: a keyring backend; None for the system's (keyring.get_keyring()).
        `backend_factory` makes the backend on first use instead: as for the system's,
        nothing of the keyring package loads until a secret or the probe needs it."""
        self._backend = backend
        self._factory = backend_factory
        self.allow_insecure = allow_insecure
        self.status = VaultStatus("", "not checked yet", Health.UNCHECKED)

    @property
    def backend(self) -> Any:
        if self._backend is None:
            if self._factory is not None:
                self._backend = self._factory()
            else:
                import keyring

                self._backend = keyring.get_keyring()
        return self._backend

    def probe(self) -> VaultStatus:
        """Classify the backend and prove a write, read and delete work."""
        try:
            dotted, description, secure = classify(self.backend)
        except Exception as exc:  # keyring's own import/config errors
            self.status = VaultStatus("?", "keyring could not start", Health.BROKEN,
                                      f"the keyring could not start ({_oneline(exc)})")
            return self.status
        if dotted == "keyring.backends.fail.Keyring" or description == "no keyring backend available":
            self.status = VaultStatus(
                dotted, description, Health.BROKEN,
                "no keyring backend found (on headless Linux install and unlock gnome-keyring, "
                "or set PYTHON_KEYRING_BACKEND)",
            )
            return self.status
        if dotted == "keyring.backends.null.Keyring":
            self.status = VaultStatus(dotted, description, Health.BROKEN, "the null backend drops every secret")
            return self.status
        token = _secrets.token_hex(8)
        user = f"__probe__{token}"
        try:
            self.backend.set_password(SERVICE, user, token)
            got = self.backend.get_password(SERVICE, user)
            try:
                self.backend.delete_password(SERVICE, user)
            except Exception:
                pass
        except Exception as exc:
            self.status = VaultStatus(dotted, description, Health.BROKEN, _explain(exc))
            return self.status
        if got != token:
            self.status = VaultStatus(dotted, description, Health.BROKEN, "the keyring did not return what was written")
            return self.status
        if secure is False:
            self.status = VaultStatus(dotted, description, Health.INSECURE, description)
        elif secure is None:
            self.status = VaultStatus(
                dotted, description, Health.INSECURE,
                "an unrecognised backend: momento-keys cannot tell whether it encrypts secrets",
            )
        else:
            self.status = VaultStatus(dotted, description, Health.SECURE)
        return self.status

    def writable(self) -> bool:
        """May secrets be written now (secure, or insecure with the user's opt-in)?"""
        if self.status.health is Health.SECURE:
            return True
        return self.status.health is Health.INSECURE and self.allow_insecure

    # ---- secrets ---------------------------------------------------------
    @staticmethod
    def _user(fingerprint: str, part: str) -> str:
        return f"{part}:{fingerprint}"

    def put(self, fingerprint: str, secret: str, refresh_token: str | None = None) -> None:
        """Write the key and its refresh token together; undo the key if the token fails."""
        if not self.writable():
            raise VaultError(f"not storing the secret: {self.status.summary()}")
        if self._size_limited():
            for what, value in (("key", secret), ("refresh token", refresh_token)):
                if value and len(value) > WINDOWS_MAX_SECRET:
                    # Checked before anything is written: a half-stored pair is worse than none.
                    raise VaultError(
                        f"the {what} is {len(value)} characters; Windows Credential Locker holds at most "
                        f"{WINDOWS_MAX_SECRET}, so it was not stored"
                    )
        # The refresh token first, the key last: the key's entry is what says "stored" (has(),
        # doctor's orphan scan), so a crash between the two writes can leave a stray refresh
        # token (doctor removes it) but never a key without its refresh token.
        if refresh_token:
            try:
                self.backend.set_password(SERVICE, self._user(fingerprint, "refresh"), refresh_token)
            except Exception as exc:
                raise VaultError(f"the keyring refused the refresh token: {_explain(exc)}") from None
        try:
            self.backend.set_password(SERVICE, self._user(fingerprint, "key"), secret)
        except Exception as exc:
            if refresh_token:
                self._quiet_delete(self._user(fingerprint, "refresh"))
            raise VaultError(f"the keyring refused the key: {_explain(exc)}") from None

    def put_pending(self, old_fingerprint: str, secret: str, refresh_token: str | None) -> None:
        """Park a rotation's new pair under a name derived from the OLD key, so an
        interrupted rotation can always find it again (keyrings cannot be listed)."""
        self.put(f"pending:{old_fingerprint}", secret, refresh_token)

    def get_pending(self, old_fingerprint: str) -> tuple[str, str | None] | None:
        try:
            secret = self.backend.get_password(SERVICE, self._user(f"pending:{old_fingerprint}", "key"))
            if secret is None:
                return None
            refresh = self.backend.get_password(SERVICE, self._user(f"pending:{old_fingerprint}", "refresh"))
        except Exception as exc:
            raise VaultError(f"could not read the keyring: {_explain(exc)}") from None
        return secret, refresh

    def delete_pending(self, old_fingerprint: str) -> None:
        self.delete(f"pending:{old_fingerprint}")

    def _size_limited(self) -> bool:
        """Does the backend cap a secret at WINDOWS_MAX_SECRET characters (Windows Credential Locker)?"""
        if sys.platform == "win32":
            return True
        try:
            return classify(self.backend)[0] == "keyring.backends.Windows.WinVaultKeyring"
        except Exception:
            return False

    def get(self, fingerprint: str) -> str:
        try:
            value = self.backend.get_password(SERVICE, self._user(fingerprint, "key"))
        except Exception as exc:
            raise VaultError(f"could not read the keyring: {_explain(exc)}") from None
        if value is None:
            try:
                dotted = classify(self.backend)[0]
            except Exception:
                dotted = ""
            if dotted == "keyring.backends.null.Keyring":
                raise VaultError("the keyring backend is 'null', which stores nothing: set PYTHON_KEYRING_BACKEND "
                                 "(or keyringrc.cfg) to your real keyring")
            raise SecretMissing("the secret is missing from the keyring (deleted outside momento-keys?); import the "
                                "key again, or run `momento-keys doctor`")
        return value

    def get_refresh_token(self, fingerprint: str) -> str | None:
        try:
            return self.backend.get_password(SERVICE, self._user(fingerprint, "refresh"))
        except Exception as exc:
            raise VaultError(f"could not read the keyring: {_explain(exc)}") from None

    def has(self, fingerprint: str) -> bool:
        try:
            return self.backend.get_password(SERVICE, self._user(fingerprint, "key")) is not None
        except Exception:
            return False

    def presence(self, fingerprint: str) -> bool | None:
        """Is the key's entry in the keyring? None when the keyring cannot say (locked, no
        backend): unlike :meth:`has`, a failure is not reported as "missing". The value read
        is dropped at once; it never leaves this method."""
        try:
            return self.backend.get_password(SERVICE, self._user(fingerprint, "key")) is not None
        except Exception:
            return None

    def delete(self, fingerprint: str) -> None:
        for part in ("key", "refresh"):
            self._quiet_delete(self._user(fingerprint, part))

    def _quiet_delete(self, user: str) -> None:
        try:
            self.backend.delete_password(SERVICE, user)
        except Exception:
            pass


def _oneline(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _explain(exc: BaseException) -> str:
    name = type(exc).__name__
    text = _oneline(exc)
    if name == "KeyringLocked" or "locked" in text.lower():
        return "the keyring is locked (unlock it, or the unlock prompt was dismissed)"
    if name == "NoKeyringError":
        return "no keyring backend available"
    if name == "InitError":
        return f"the keyring could not start ({text})"
    return f"{name}: {text}" if text != name else name


def __getattr__(name: str) -> Any:
    # The in-memory backend lives in its own module (it subclasses keyring's
    # base class, which this module does not import eagerly).
    if name == "MemoryKeyring":
        from .memory_keyring import MemoryKeyring

        return MemoryKeyring
    raise AttributeError(name)
