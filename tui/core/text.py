"""Small text rules used everywhere, each written once: shell quoting, slugs,
redaction of secrets, quoting a user's value in a message, and text made safe
for a terminal."""

from __future__ import annotations

import re
import unicodedata

# Anything shaped like a key or token: a JWT, or a long unbroken run of base64/token characters.
_JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_OPAQUE_TOKEN = re.compile(r"[A-Za-z0-9_+/=-]{32,}")
# C0/C1 controls and DEL, and the escape sequences they start (CSI, OSC, DCS... up to their end).
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|.)?"
                      r"|\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07\x9c]*[\x07\x9c]?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")  # and bidi overrides


def shell_quote(text: str) -> str:
    """``text`` as one word for a POSIX shell."""
    import shlex

    return shlex.quote(text)


def slug(name: str, *, limit: int = 60) -> str:
    """A file-name-safe form of a key's name (for rescue files and downloads): letters,
    digits, ``-`` and ``_``; never empty."""
    out = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in unicodedata.normalize("NFC", name))
    out = re.sub(r"-{2,}", "-", out).strip("-_")[:limit].strip("-_")
    return out.lower() or "key"


def redact(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """Text made safe to show or log: the known ``secrets`` replaced, then anything shaped
    like a JWT, then any long run of token characters (a secret we did not know about)."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, "[secret]")
    text = _JWT_SHAPE.sub("[token]", text)
    return _OPAQUE_TOKEN.sub("[redacted]", text)


def one_line(text: str, limit: int = 300) -> str:
    """Whitespace folded to single spaces, cut at ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def scrub(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """Server or transport text made safe to show: no secrets, no control characters, one short line."""
    return one_line(terminal_safe(redact(text, secrets)))


def shown(value: str, limit: int = 60) -> str:
    """A user's value quoted for an error message: escaped (no control character reaches the
    terminal), anything secret-shaped redacted, and cut short to keep the message one line."""
    text = repr(redact(value))
    return text if len(text) <= limit else text[:limit - 4] + "...'"


def terminal_safe(text: str) -> str:
    """``text`` without escape sequences, control characters or bidi overrides (tabs and
    newlines stay): what may reach a terminal from anything a user or a server wrote."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def first_invisible(text: str) -> str | None:
    """The first character of ``text`` that is invisible or moves the cursor (controls, C1, DEL,
    line and paragraph separators, format characters), or None."""
    return next((ch for ch in text if not ch.isprintable() and ch != " "), None)


def normalize_name(name: str) -> str:
    """A key's name as it is stored and compared: NFC, whitespace runs folded to one space."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def user_text(text: str) -> str:
    """A free-text field a user or a server gave (notes, a tag, a description), as it is kept:
    terminal-safe, on one line (tabs and newlines become spaces), trimmed."""
    return " ".join(terminal_safe(text).split()) if text else ""
