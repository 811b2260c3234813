"""Limits set by Momento, by the platforms and by us: each number written once."""

from __future__ import annotations

HOUR = 3600

UINT32_MAX = 2**32 - 1                   # the widest `valid_for_seconds` Momento's auth RPCs take
DISPOSABLE_MAX_SECONDS = 25 * HOUR       # the token service's limit for disposable tokens (2026)
TOKEN_ID_MAX_CHARS = 64                  # a disposable token's optional token_id
MAX_KEY_FILE = 1 << 20                   # a key or a Download JSON is far smaller than 1 MiB
DURATION_MAX_CHARS = 64                  # longer text is not a duration (and a regex on it is slow)
WINDOWS_MAX_SECRET = 1280                # Windows Credential Locker refuses longer secrets
NAME_MAX_CHARS = 100                     # a key's name
