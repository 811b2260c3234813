"""Reading a key file the user points at: small, text, with a sentence for every way it can fail."""

from __future__ import annotations

from pathlib import Path

from ..core.limits import MAX_KEY_FILE


class KeyFileError(ValueError):
    """Why the file cannot be used, in one line."""


def read_key_file(path: str | Path) -> str:
    """Read at most MAX_KEY_FILE + 1 bytes, whatever the file claims to be: a device such as
    /dev/zero reports a size of 0 and never ends; a pipe (``--file <(op read …)``) has no size."""
    p = Path(path).expanduser()
    try:
        with open(p, "rb") as f:
            data = f.read(MAX_KEY_FILE + 1)
        if len(data) > MAX_KEY_FILE:
            raise KeyFileError(f"{p} is over 1 MiB: too large to be a key or Download JSON")
    except FileNotFoundError:
        raise KeyFileError(f"no such file: {p}") from None
    except IsADirectoryError:
        raise KeyFileError(f"{p} is a directory, not a key file") from None
    except PermissionError:
        raise KeyFileError(f"cannot read {p}: permission denied") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read {p}: {exc.strerror or exc}") from None
    return decode_key_bytes(data, str(p))


def decode_key_bytes(data: bytes, where: str = "the input") -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KeyFileError(f"{where} is not text (not UTF-8): expected a Momento key or the console's "
                           "Download JSON") from None
