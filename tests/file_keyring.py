"""A file keyring that several processes can share and that survives SIGKILL.

keyrings.alt's PlaintextKeyring rewrites its whole INI file in place on every
change (``open(path, "w")`` truncates it, then ``configparser`` writes it back)
and takes no lock. Two consequences, both measured while writing the crash and
concurrency tests:

* a process killed between the truncation and the last write leaves an empty or
  half-written file: every secret of every key is gone;
* two processes that change it at once each write back what they read, so one
  of the two changes is lost (a read-modify-write race), and a reader that
  comes in mid-write sees an empty file.

Real OS keyrings (Secret Service, Keychain, Credential Locker) store each item
on its own, transactionally. The tests want to exercise momento-keys' own
ordering (journal, keyring, record), not keyrings.alt's file writer, so they
use this subclass: the same file format (so the tests can read the file
directly), written to a temporary file and renamed over the old one, under an
exclusive ``flock`` for the read-modify-write. Reads need no lock: a rename is
atomic, so a reader sees the old or the new file, never a torn one.

Point a subprocess at it with ``PYTHON_KEYRING_BACKEND=tests.file_keyring.LockedPlaintextKeyring``
(and ``PYTHONPATH`` holding the repository root); by default the file lives
where PlaintextKeyring puts it, under ``$XDG_DATA_HOME/python_keyring``.
"""

from __future__ import annotations

import base64
import configparser
import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from keyring.errors import PasswordDeleteError
from keyrings.alt.escape import escape as escape_for_ini
from keyrings.alt.escape import unescape as unescape_for_ini
from keyrings.alt.file import PlaintextKeyring

SERVICE = "momento-keys"


class LockedPlaintextKeyring(PlaintextKeyring):
    """PlaintextKeyring with atomic, locked writes (see the module docstring)."""

    def __init__(self, file_path: str | os.PathLike | None = None) -> None:
        super().__init__()
        if file_path is not None:
            self.file_path = str(file_path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_file_path()
        fd = os.open(self.file_path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock (so does dying)

    def _replace(self, config: configparser.RawConfigParser) -> None:
        folder = os.path.dirname(self.file_path) or "."
        fd, tmp = tempfile.mkstemp(prefix=".keyring-", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                config.write(out)  # no fsync: a killed process's writes survive; only power loss needs it
            os.replace(tmp, self.file_path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _read(self) -> configparser.RawConfigParser:
        config = configparser.RawConfigParser()
        if os.path.exists(self.file_path):
            config.read(self.file_path, encoding="utf-8")
        return config

    def _write_config_value(self, service, key, value):
        with self._locked():
            config = self._read()
            service = escape_for_ini(service)
            key = escape_for_ini(key)
            if not config.has_section(service):
                config.add_section(service)
            config.set(service, key, value)
            self._replace(config)

    def delete_password(self, service, username):
        with self._locked():
            config = self._read()
            try:
                if not config.remove_option(escape_for_ini(service), escape_for_ini(username)):
                    raise PasswordDeleteError("Password not found")
            except configparser.NoSectionError:
                raise PasswordDeleteError("Password not found") from None
            self._replace(config)


def default_path(xdg_data_home: Path) -> Path:
    """Where (Locked)PlaintextKeyring keeps its file for a given XDG_DATA_HOME."""
    return xdg_data_home / "python_keyring" / "keyring_pass.cfg"


def read_entries(path: Path, service: str = SERVICE) -> dict[str, str]:
    """Every ``username -> secret`` of one service, read straight from the file
    (PlaintextKeyring stores each secret base64-encoded, its names INI-escaped)."""
    config = configparser.RawConfigParser()
    if path.exists():
        config.read(path, encoding="utf-8")
    section = escape_for_ini(service)
    if not config.has_section(section):
        return {}
    return {
        unescape_for_ini(user): base64.decodebytes(value.encode()).decode("utf-8")
        for user, value in config.items(section)
    }
