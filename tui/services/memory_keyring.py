"""An in-memory keyring backend: demo mode, tests and benchmarks."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """A keyring backend that lives in memory: demo mode, tests and benchmarks."""

    @properties.classproperty
    def priority(cls) -> float:
        # Never viable for keyring's automatic choice: only used when passed in
        # explicitly (demo mode, tests), so it can never shadow a real keyring.
        raise RuntimeError("the in-memory keyring is only used when chosen explicitly")

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise PasswordDeleteError("not found") from None
