"""Benchmark data: SQLite key databases with N realistic records, no secrets.

The schema comes from the app itself (opening a `Store` creates the file
0600, switches on WAL and runs the migrations); the rows are then written
with one bulk INSERT: a few seconds for 100,000 records, where
`Store.add` (one transaction per key) would take minutes.

The base fields (names like "orders-api prod 000123", public regions,
issue/expiry instants spread over hours to years, some keys that never
expire) come from `tui.demo.bulk`, the project's own generator; this module
adds what a real database also holds: notes, tags, grants, claims, the
lifecycle of rotated keys, per-key thresholds and one event per key.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

from tui.core.model import KeyType, Kind
from tui.demo import bulk
from tui.services.store import Store

COLUMNS = (
    "name", "kind", "key_type", "endpoint", "region", "provider", "issued_at", "expires_at",
    "expiry_source", "fingerprint", "has_refresh_token", "secret_stored", "permissions", "notes", "tags",
    "lifecycle", "source", "claims", "warning_seconds", "critical_seconds", "created_at", "updated_at",
)

NOTES = [
    "k8s secret {svc}/momento", "Lambda env var", "ECS task def {svc}-svc", "GitHub Actions, nightly",
    "1Password: Platform vault", "Vault path secret/{svc}/momento", "Databricks job", "cron on batch-01",
    "owner: team-{svc}", "", "", "",
]
SOURCES = ["imported", "console-json", "generated", "momento-cli"]
ROLES = ["readwrite", "readonly", "writeonly"]


def records(count: int, now: int, seed: int = 7) -> list[tuple]:
    """`count` rows in COLUMNS order."""
    rng = random.Random(seed * 7919 + count)
    rows = []
    for fields in bulk(count, now, seed=seed):
        name: str = fields["name"]
        svc, env = name.split()[:2]
        kind: Kind = fields["kind"]
        key_type: KeyType = fields["key_type"]
        issued, expires = fields["issued_at"], fields["expires_at"]
        if expires is None:
            expiry_source = "jwt_no_exp" if rng.random() < 0.6 else "unknown"
        elif kind is Kind.V2:
            expiry_source = "v2_metadata"
        else:
            expiry_source = rng.choice(["valid_until", "console_json", "jwt_exp"])
        grants = None
        if key_type is KeyType.FINE_GRAINED:
            grants = [{"kind": "cache", "cache": rng.choice([svc, f"{svc}-{env}", "*"]), "topic": None,
                       "role": rng.choice(ROLES)} for _ in range(rng.randint(1, 3))]
        claims: dict = {"iat": issued}
        if expires is not None:
            claims["exp"] = expires
        claims.update({"t": "g"} if kind is Kind.V2 else {"sub": f"{svc}@example.com", "ver": 1})
        roll = rng.random()
        lifecycle = "active" if roll < 0.92 else "previous" if roll < 0.98 else "retired"
        if lifecycle == "previous" and (expires is None or expires <= now):
            lifecycle = "retired"  # the app retires a replaced key when its grace window ends
        warning = rng.choice([7 * 86400, 30 * 86400]) if rng.random() < 0.02 else None
        rows.append((
            name, kind.value, key_type.value, fields["endpoint"], fields["region"], fields["provider"],
            issued, expires, expiry_source, fields["fingerprint"], int(rng.random() < 0.5),
            int(rng.random() < 0.95), None if grants is None else json.dumps(grants, sort_keys=True),
            rng.choice(NOTES).format(svc=svc), json.dumps(sorted({env, svc})), lifecycle, rng.choice(SOURCES),
            json.dumps(claims, sort_keys=True), warning, None, issued, issued,
        ))
    return rows


def make_db(path: Path, count: int, now: int, seed: int = 7) -> Path:
    """Create a key database at `path` holding `count` records."""
    Store(path).close()  # the app's own schema, file mode and journal mode
    rows = records(count, now, seed)
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executemany(
                f"INSERT INTO keys ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", rows
            )
            conn.executemany(
                "INSERT INTO events (key_id, key_name, at, action, detail) "
                "SELECT id, name, created_at, 'imported', '' FROM keys WHERE id = ?",
                ((i,) for i in range(1, count + 1)),
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return path
