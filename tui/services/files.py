"""Reading a key file the user points at: small, text, with a sentence for every way it can fail."""

from __future__ import annotations

import os
import stat
import tempfile
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


def open_to_others(st_mode: int, platform: str | None = None) -> bool | None:
    """Can users other than the owner read a file of this mode? None where POSIX modes say
    nothing (Windows: ``os.stat`` reports 0o666 for every file; its ACLs decide)."""
    import sys

    if (platform or sys.platform) == "win32":
        return None
    return bool(stat.S_IMODE(st_mode) & 0o077)


class WriteError(OSError):
    """A file could not be written; the message says where and why."""


def write_atomically(path: Path, text: str, *, mode: int, replace: bool) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    The file gets ``mode`` (0600 for secrets) before it holds anything. Without ``replace``
    an existing file is never replaced (not even one that appears meanwhile); with it, only
    a regular file is: never a symlink, folder, device or pipe. Raises ``WriteError``.
    """
    path = Path(path).expanduser()
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise WriteError(f"{path} is a folder: give a file name")
        if not replace:
            raise WriteError(f"{path} already exists; add --force to replace it")
        if not stat.S_ISREG(info.st_mode):
            raise WriteError(f"{path} is not a regular file (a link, device or pipe); refusing to replace it")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except FileNotFoundError:
        raise WriteError(f"cannot write in {path.parent}: no such directory") from None
    except OSError as exc:
        raise WriteError(f"cannot write in {path.parent}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if a file appeared meanwhile: never replaces one
            except FileExistsError:
                raise WriteError(f"{path} already exists; add --force to replace it") from None
            except OSError:  # a filesystem without hard links
                if os.path.lexists(path):
                    raise WriteError(f"{path} already exists; add --force to replace it") from None
                os.replace(tmp, path)
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.lexists(tmp):
            try:
                tmp.unlink()
            except OSError:
                pass
    return path
