"""What can go wrong with the database, in words a user can act on.

SQLite reports every failure as a bare `sqlite3.Error`; `friendly` turns one into
the `StoreError` that says what happened to which file and what to do next.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


class StoreError(Exception):
    """A problem with the database, in words a user can act on."""


class DuplicateName(StoreError):
    pass


class DuplicateKey(StoreError):
    """The same secret (same fingerprint) is already tracked."""

    def __init__(self, existing: str) -> None:
        super().__init__(f"this key is already tracked as {existing!r}")
        self.existing = existing


class DuplicateKeyId(StoreError):
    """Another record is already linked to this account key (v2 ``key_id``)."""

    def __init__(self, key_id: str | None) -> None:
        super().__init__(f"another tracked key is already linked to the account key {key_id!r}")
        self.key_id = key_id


class ReadOnlyStore(StoreError):
    pass


class NotOurs(StoreError):
    """The file is not a momento-keys database at all: never copied, moved or written."""


class CorruptStore(StoreError):
    def __init__(self, message: str, backup: Path | None) -> None:
        super().__init__(message)
        self.backup = backup


def backup_corrupt(path: Path) -> Path | None:
    """Copy a damaged database aside (once per version of the file); never touch the original."""
    import shutil  # only on this rare path

    try:
        st = path.stat()
    except OSError:
        return None
    target = path.with_name(f"{path.name}.corrupt-{st.st_mtime_ns}.bak")
    if target.exists():
        return target
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            shutil.copyfileobj(src, out)
    except OSError:
        return None
    return target


def _disk_full(path: Path) -> bool:
    """Is the filesystem holding the database (all but) full? SQLite often reports a full disk
    only as "disk I/O error", when the WAL or a temporary file cannot grow."""
    if str(path) == ":memory:":
        return False
    import shutil

    try:
        return shutil.disk_usage(path.parent).free < 64 * 1024
    except OSError:
        return False


def friendly(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(f"the database {path} is busy (another momento-keys is writing); try again in a moment")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        backup = backup_corrupt(path) if str(path) != ":memory:" else None
        saved = f"a copy is at {backup}; " if backup else ""
        return CorruptStore(
            f"the database {path} is damaged ({text}). It was left untouched; {saved}"
            f"move it aside (mv {path} {path}.damaged) to start a new one, and run `momento-keys doctor`",
            backup,
        )
    if "readonly" in text or "read-only" in text or "attempt to write" in text:
        return ReadOnlyStore(f"the database {path} is read-only ({text})")
    if ("disk" in text and "full" in text) or _disk_full(path):
        return StoreError(f"the disk holding {path} is full; nothing was changed. Free some space and try again")
    if "disk I/O error" in text:
        return StoreError(f"the disk holding {path} failed a read or write (SQLite: disk I/O error; is it "
                          "removed, read-only or failing?); nothing was changed")
    if "unable to open" in text:
        return StoreError(f"cannot open the database {path}: {text}")
    return StoreError(f"database error in {path}: {text}")
