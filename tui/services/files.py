"""Reading a key file the user points at: small, text, with a sentence for every way it can fail."""

from __future__ import annotations

from pathlib import Path

MAX_KEY_FILE = 1 << 20  # a key or Download JSON is a few KB; refuse to read a huge file into memory


class KeyFileError(ValueError):
    """Why the file cannot be used, in one line."""


def read_key_file(path: str | Path) -> str:
    p = Path(path).expanduser()
    try:
        size = p.stat().st_size
        if size > MAX_KEY_FILE:
            raise KeyFileError(f"{p} is {size} bytes: too large to be a key or Download JSON")
        data = p.read_bytes()
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
