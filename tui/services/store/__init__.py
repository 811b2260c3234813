"""SQLite store for key metadata, behind one façade: `Store`. Never holds a secret.

The parts, each over the same connection and transactions (`schema.Database`):
`keys` (records, their events and lineage), `reminders`, `journal` (the secret
journal, rotations in progress, meta) and `account` (v2 keys: account sync, links,
a v2 rotation's hand-over). Callers import from here only.
"""

from __future__ import annotations

from .account import Account, AppliedSync, RecordChange
from .errors import (
    CorruptStore,
    DuplicateKey,
    DuplicateKeyId,
    DuplicateName,
    NotOurs,
    ReadOnlyStore,
    StoreError,
    backup_corrupt,
)
from .journal import Journal
from .keys import Keys
from .reminders import Reminders
from .schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION", "AppliedSync", "CorruptStore", "DuplicateKey", "DuplicateKeyId", "DuplicateName", "NotOurs",
    "ReadOnlyStore", "RecordChange", "Store", "StoreError", "backup_corrupt",
]


class Store(Keys, Reminders, Journal, Account):
    """One connection to the key database, shared by the UI thread and its workers
    (a lock keeps each transaction whole)."""
