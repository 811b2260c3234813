"""SQLite store for key metadata, behind one façade: `Store`. Never holds a secret.

The parts, each over the same connection and transactions (`schema.Database`):
`keys` (records, their events and lineage), `reminders`, and `journal` (the secret
journal, rotations in progress, meta). Callers import from here only.
"""

from __future__ import annotations

from .errors import CorruptStore, DuplicateKey, DuplicateName, NotOurs, ReadOnlyStore, StoreError, backup_corrupt
from .journal import Journal
from .keys import Keys
from .reminders import Reminders
from .schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION", "CorruptStore", "DuplicateKey", "DuplicateName", "NotOurs", "ReadOnlyStore",
    "Store", "StoreError", "backup_corrupt",
]


class Store(Keys, Reminders, Journal):
    """One connection to the key database, shared by the UI thread and its workers
    (a lock keeps each transaction whole)."""
