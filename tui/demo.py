"""Demo data: realistic-looking key records with throwaway secrets.

Used by `momento-keys --demo`, the screenshot script and the benchmarks. The
secrets are JWTs signed with a random, discarded key: they look like Momento
keys to the inspector but authenticate nowhere.
"""

from __future__ import annotations

import random
import secrets

import jwt

from .core.keys import PUBLIC_REGIONS, make_v1_key
from .core.model import KeyType, Kind

HOUR = 3600
DAY = 86400

_SIGNER = secrets.token_hex(32)


def _token(rng: random.Random | None, nbytes: int) -> str:
    """Random text: from `rng` when given (reproducible screenshots), else the OS."""
    if rng is None:
        return secrets.token_urlsafe(nbytes)
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
                   for _ in range(nbytes * 4 // 3))

SERVICES = ["orders-api", "checkout", "session-store", "leaderboard", "chat-fanout", "feature-flags",
            "rate-limiter", "search-cache", "inventory", "notifications", "pricing", "user-profile",
            "cart", "recommendations", "media-thumbs", "auth-gateway"]
ENVS = ["prod", "staging", "dev", "ci", "canary"]


def _signer(rng: random.Random | None) -> str:
    return _SIGNER if rng is None else _token(rng, 32)


def fake_v1_key(endpoint: str, *, issued_at: int, expires_at: int | None, sub: str = "demo",
                rng: random.Random | None = None) -> str:
    claims: dict = {"sub": sub, "ver": 1, "p": _token(rng, 24), "iat": issued_at}
    if expires_at is not None:
        claims["exp"] = expires_at
    return make_v1_key(jwt.encode(claims, _signer(rng), algorithm="HS256"), endpoint)


def fake_v2_key(*, issued_at: int, expires_at: int | None, rng: random.Random | None = None) -> str:
    claims: dict = {"t": "g", "jti": _token(rng, 8), "iat": issued_at}
    if expires_at is not None:
        claims["exp"] = expires_at
    return jwt.encode(claims, _signer(rng), algorithm="HS256")


def console_json(key: str, valid_until: int | None, refresh_token: str | None) -> str:
    """The console's Download JSON for a demo key (the one writer: tui.services.recovery)."""
    from .services.recovery import download_json

    return download_json(key, refresh_token, valid_until, None)


# A small, hand-picked set for screenshots and the --demo dashboard: one of
# every band, kind and key type. Offsets are relative to "now".
SHOWCASE = [
    # name, kind, key type, region index, issued (days ago), lifetime (s) or None, notes, refresh
    ("orders-api prod", Kind.V1, KeyType.FINE_GRAINED, 2, 80, 90 * DAY, "k8s secret orders/momento", True),
    ("checkout prod", Kind.V1, KeyType.FINE_GRAINED, 0, 28, 30 * DAY, "ECS task def checkout-svc", True),
    ("session-store staging", Kind.V1, KeyType.FINE_GRAINED, 3, 5, 30 * DAY, "staging cluster", True),
    ("ops super-user", Kind.V1, KeyType.SUPER_USER, 2, 300, 365 * DAY, "1Password: Platform vault", True),
    ("ci token", Kind.DISPOSABLE, KeyType.FINE_GRAINED, 2, 0, 20 * HOUR, "GitHub Actions, nightly", False),
    ("legacy-batch", Kind.V1, KeyType.SUPER_USER, 0, 400, None, "cron on batch-01 — rotate me", False),
    ("analytics v2", Kind.V2, KeyType.UNKNOWN, 5, 10, 180 * DAY, "Databricks job", False),
    ("leaderboard prod", Kind.V1, KeyType.FINE_GRAINED, 7, 31, 30 * DAY, "expired: replace", True),
    ("chat-fanout prod", Kind.V1, KeyType.FINE_GRAINED, 9, 12, 14 * DAY, "Lambda env var", True),
]


def showcase(now: int, seed: int | None = None) -> list[tuple[dict, str, str | None]]:
    """(record fields, secret, refresh token) for the showcase keys; `seed`
    makes the throwaway secrets (and so the fingerprints) reproducible."""
    rng = random.Random(seed) if seed is not None else None
    out = []
    for name, kind, key_type, region, days_ago, life, notes, refresh in SHOWCASE:
        issued = now - days_ago * DAY - 3 * HOUR - 17 * 60
        expires = None if life is None else issued + life
        endpoint = PUBLIC_REGIONS[region][1]
        if kind is Kind.V2:
            secret = fake_v2_key(issued_at=issued, expires_at=expires, rng=rng)
        else:
            secret = fake_v1_key(endpoint, issued_at=issued, expires_at=expires, rng=rng)
        fields = {"name": name, "kind": kind, "key_type": key_type, "endpoint": endpoint, "notes": notes,
                  "tags": name.split()[-1:]}
        out.append((fields, secret, _token(rng, 32) if refresh else None))
    return out


def bulk(count: int, now: int, seed: int = 7) -> list[dict]:
    """Record fields (no secrets) for `count` realistic keys: for benchmarks."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        region, endpoint = PUBLIC_REGIONS[rng.randrange(len(PUBLIC_REGIONS))]
        life = rng.choice([HOUR, DAY, 7 * DAY, 30 * DAY, 90 * DAY, 365 * DAY, None])
        issued = now - int(rng.random() * (life or 400 * DAY) * 1.1)
        expires = None if life is None else issued + life
        rows.append({
            "name": f"{rng.choice(SERVICES)} {rng.choice(ENVS)} {i:06d}",
            "kind": rng.choice([Kind.V1, Kind.V1, Kind.V1, Kind.V2, Kind.DISPOSABLE]),
            "key_type": rng.choice([KeyType.FINE_GRAINED, KeyType.FINE_GRAINED, KeyType.SUPER_USER, KeyType.UNKNOWN]),
            "endpoint": endpoint,
            "region": region,
            "provider": "aws",
            "issued_at": issued,
            "expires_at": expires,
            "fingerprint": f"sha256:{rng.getrandbits(64):016x}",
        })
    return rows
