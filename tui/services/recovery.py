"""Where keys go when the normal path fails, and how they come back.

* **Rescue files**: a key Momento made that could not be stored is written, as the
  console's Download JSON (0600), to the one rescue folder next to the database
  (0700, never through a symlink). ``doctor`` lists every file there.
* **Download JSON**: one writer for rescue files, the wizard's "Download JSON" and
  ``export``: the console's fields plus ``endpoint``.
* **Secret files** are only ever created new, or replace a regular file (never a
  symlink, device or FIFO), through a temporary file and a rename.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

from ..core.text import slug
from ..errors import UserError

RESCUE_FOLDER = "rescue"


class SecretFileError(UserError):
    """A secret file could not be written; the message says where and why."""


def rescue_dir(db_path: Path | str) -> Path:
    """The one rescue folder: beside the database."""
    return Path(db_path).expanduser().absolute().parent / RESCUE_FOLDER


def download_json(api_key: str, refresh_token: str | None, valid_until: int | None, endpoint: str | None,
                  *, expiry_known: bool = True) -> str:
    """The console's Download JSON plus ``endpoint``: ``validUntil`` is 0 for a key that never
    expires and is left out when the expiry is unknown."""
    doc: dict[str, object] = {"apiKey": api_key}
    if refresh_token:
        doc["refreshToken"] = refresh_token
    if expiry_known:
        doc["validUntil"] = int(valid_until or 0)
    if endpoint:
        doc["endpoint"] = endpoint
    return json.dumps(doc, indent=2) + "\n"


def lambda_json(api_key: str, refresh_token: str | None, valid_until: int | None) -> str:
    """What Momento's api-key-refresh-lambda reads from Secrets Manager (``validUntil`` a string)."""
    doc = {"authToken": api_key, "refreshToken": refresh_token or "", "validUntil": str(int(valid_until or 0))}
    return json.dumps(doc, indent=2) + "\n"


def private_dir(folder: Path) -> Path:
    """Create ``folder`` (0700) if need be and check it: a real directory of ours, not a symlink.
    Raises ``SecretFileError``."""
    folder = Path(folder)
    try:
        folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        info = os.lstat(folder)
    except OSError as exc:
        raise SecretFileError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        raise SecretFileError(f"{folder} is a symbolic link; refusing to write a secret through it")
    if not stat.S_ISDIR(info.st_mode):
        raise SecretFileError(f"{folder} is not a folder")
    if os.name == "posix" and stat.S_IMODE(info.st_mode) & 0o077:
        try:
            os.chmod(folder, 0o700, follow_symlinks=False)
        except (OSError, NotImplementedError):
            pass
    return folder


def write_new_secret_file(folder: Path, stem: str, text: str) -> Path:
    """Create ``folder/stem.json`` (or ``stem-N.json``), 0600, never replacing anything."""
    folder = private_dir(folder)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for n in range(1000):
        path = folder / (f"{stem}.json" if n == 0 else f"{stem}-{n}.json")
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise SecretFileError(f"cannot write in {folder}: {exc.strerror or exc}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            try:
                path.unlink()
            except OSError:
                pass
            raise SecretFileError(f"cannot write {path}: {exc.strerror or exc}") from None
        return path
    raise SecretFileError(f"too many files named {stem} in {folder}")


def write_secret_file(path: Path, text: str, *, force: bool = False) -> Path:
    """Write ``text`` to ``path`` (0600) atomically: a temporary file in the same folder, then a
    rename. Without ``force`` an existing file is never replaced; with it, only a regular file is."""
    path = Path(path).expanduser()
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise SecretFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    if info is not None:
        if not force:
            raise SecretFileError(f"{path} already exists; add --force to replace it")
        if not stat.S_ISREG(info.st_mode):
            raise SecretFileError(f"{path} is not a regular file (a link, folder, device or pipe); "
                                  "refusing to replace it")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise SecretFileError(f"cannot write in {path.parent}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if a file appeared meanwhile: never replaces one
            except FileExistsError:
                raise SecretFileError(f"{path} already exists; add --force to replace it") from None
            except OSError:  # a filesystem without hard links
                if os.path.lexists(path):
                    raise SecretFileError(f"{path} already exists; add --force to replace it") from None
                os.replace(tmp, path)
    except OSError as exc:
        raise SecretFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.lexists(tmp):
            try:
                tmp.unlink()
            except OSError:
                pass
    return path


def rescue_file_stem(name: str, now: float) -> str:
    from datetime import datetime, timezone

    return f"{slug(name)}-{datetime.fromtimestamp(int(now), timezone.utc).strftime('%Y%m%dT%H%M%SZ')}"


def rescue_files(db_path: Path | str) -> list[Path]:
    """Every file in the rescue folder (each holds a key Momento made that was not stored)."""
    folder = rescue_dir(db_path)
    try:
        if os.path.islink(folder):
            return []
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink())
    except OSError:
        return []


def in_git_work_tree(path: Path) -> Path | None:
    """The top of the git work tree holding ``path``, if any (a secret there is one `git add`
    away from a commit)."""
    try:
        here = Path(path).expanduser().absolute()
    except (RuntimeError, OSError):  # "~nosuchuser/...": not a place we can judge
        return None
    for folder in [here, *here.parents]:
        try:
            if (folder / ".git").exists():
                return folder
        except OSError:
            return None
    return None
