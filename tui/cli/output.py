"""How the CLI writes: one-line errors on stderr, tables padded by display width,
JSON, and nothing that drives the terminal.

Every line goes through `tui.core.text.terminal_safe`: a key's name, a note, a JWT
claim or a server message may hold escape sequences (a `sub` claim with ``ESC[2J``
or an OSC 52 clipboard write), and none of them may reach the terminal.
"""

from __future__ import annotations

import sys

PROG = "momento-keys"


def safe(text: object) -> str:
    """``text`` without escape sequences or control characters (tabs and newlines stay), and
    without lone surrogates (undecodable bytes from argv), which no terminal can show."""
    text = str(text)
    if text.isprintable():  # every escape sequence starts with a character that is not
        return text
    from ..core.text import terminal_safe

    clean = terminal_safe(text)
    try:
        clean.encode("utf-8")
    except UnicodeEncodeError:
        clean = clean.encode("utf-8", "backslashreplace").decode("utf-8")
    return clean


def out(text: object = "") -> None:
    """One or more lines on stdout."""
    sys.stdout.write("\n".join(safe(line) for line in str(text).split("\n")) + "\n")


def _err(line: str) -> None:
    sys.stderr.write(f"{PROG}: {line}\n")
    sys.stderr.flush()


def error(message: object) -> None:
    """The one line of an error: ``momento-keys: error: ...``."""
    _err("error: " + _one_line(message))


def warning(message: object) -> None:
    _err("warning: " + _one_line(message))


def note(message: object) -> None:
    _err("note: " + _one_line(message))


def aside(text: object) -> None:
    """A line on stderr as it is (what was done, beside output that goes to a pipe)."""
    sys.stderr.write(safe(text) + "\n")
    sys.stderr.flush()


def say(message: object) -> None:
    """A line for the user on stderr (``momento-keys: ...``), such as where a rescue file is."""
    _err(safe(message))


def _one_line(message: object) -> str:
    return safe(message).replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")


def print_json(value: object) -> None:
    """``value`` as indented JSON on stdout. ``ensure_ascii`` (json's default) escapes every
    control character, so the text is terminal-safe as it is."""
    import json

    # One write: json.dump writes piece by piece, a system call each when stdout is
    # unbuffered (PYTHONUNBUFFERED): 700,000 of them for `list --json` of 10,000 keys.
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def cell(value: object) -> str:
    """A table cell: terminal-safe, on one line."""
    return _one_line(value)


def table(rows: list[list[str]], header: list[str]) -> str:
    """Columns padded by display width (a CJK character or an emoji takes two cells)."""
    from rich.cells import cell_len

    cells = [[cell(c) for c in row] for row in [header, *rows]]
    widths = [max(cell_len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c + " " * (w - cell_len(c)) for c, w in zip(r, widths)).rstrip() for r in cells)
