"""Where keys go when the normal path fails, and how they come back.

* **Rescue files**: a key Momento made that could not be stored is written, as the
  console's Download JSON (0600), to the one rescue folder next to the database
  (0700, never through a symlink). ``doctor`` lists every file there.
* **Download JSON**: one writer for rescue files, the wizard's "Download JSON" and
  ``export``: the console's fields plus ``endpoint``.
* **Secret files** are only ever created new, or replace a regular file (never a
  symlink, device or FIFO), through a temporary file and a rename.
* **Orphans**: secrets the keyring holds without a record (a crash between the keyring
  write and the record, or a rotation's parked pair whose rotation record was lost),
  found through the journal; ``adopt`` tracks them again.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC
from pathlib import Path

from ..core.model import KeyRecord, Kind
from ..core.text import slug
from ..errors import UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ..core.keys import Inspection
    from .keeper import Keeper
    from .momento.protocol import GeneratedKey

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
    """Write a secret to ``path`` (0600) atomically. Without ``force`` an existing file is never
    replaced; with it, only a regular file is."""
    from .files import WriteError, write_atomically

    try:
        return write_atomically(path, text, mode=0o600, replace=force)
    except WriteError as exc:
        raise SecretFileError(str(exc)) from None


def rescue_file_stem(name: str, now: float) -> str:
    from datetime import datetime

    return f"{slug(name)}-{datetime.fromtimestamp(int(now), UTC).strftime('%Y%m%dT%H%M%SZ')}"


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


def orphans(keeper: Keeper) -> list[dict]:
    """Secrets the keyring holds for which no record exists (a crash between
    the keyring write and the record). Stale journal rows are left for adopt()."""
    found = []
    for entry in keeper.store.journal():
        if keeper.vault.has(entry["fingerprint"]):
            found.append(entry)
    return found


def adopt(keeper: Keeper, resume: Callable[[], Iterable[object]] | None = None) -> tuple[list[KeyRecord], int]:
    """Re-create the records of orphaned secrets; drop journal rows whose secret is gone.

    ``resume`` (``Rotator.resume``) completes interrupted rotations first, as `rotate` and
    the dashboard do: the new key of a rotation is in the journal too, and adopting it as a
    stand-alone record would cut it off from the key it replaces. Passed in by the caller,
    so that recovery never imports the rotation (which imports the issuing path, which
    imports recovery).
    """
    from ..core.keys import KeyFormatError, inspect_key

    adopted: list[KeyRecord] = []
    dropped = 0
    if resume is not None and keeper.store.open_rotations():
        try:
            for outcome in resume():
                new = getattr(outcome, "new", None)
                if isinstance(new, KeyRecord):
                    adopted.append(new)
        except Exception:
            pass
    open_rotations = keeper.store.open_rotations()
    rotating = {r["new_fingerprint"] for r in open_rotations if r["new_fingerprint"]}
    for entry in keeper.store.journal():
        fp = entry["fingerprint"]
        if fp in rotating:
            continue  # belongs to a rotation that could not be completed now; never split it off
        if fp.startswith("pending:"):
            record = _adopt_parked(keeper, entry, open_rotations)
            if record is not None:
                adopted.append(record)
            continue
        if keeper.store.holders(fp):
            keeper.store.journal_remove(fp)  # filed meanwhile (a parked pair adopted above)
            continue
        if not keeper.vault.has(fp):
            keeper.vault.delete(fp)  # a refresh token written before a crash took the key's write
            keeper.store.journal_remove(fp)
            dropped += 1
            continue
        try:
            inspection = inspect_key(keeper.vault.get(fp))
        except KeyFormatError:
            keeper.store.journal_remove(fp)
            dropped += 1
            continue
        from dataclasses import replace

        inspection = replace(inspection, refresh_token=keeper.vault.get_refresh_token(fp), source="adopted")
        name = entry["name"]
        if keeper.store.find(name) is not None:
            name = f"{name} (adopted {fp[7:15]})"
        from .keeper import record_from

        record = record_from(inspection, name, kind=Kind(entry["kind"]))
        record.secret_stored = True
        keeper.store.add(record, now=keeper.now(), action="adopted", detail="secret found in the keyring")
        keeper.schedule(record)
        adopted.append(record)
    return adopted, dropped


def _adopt_parked(keeper: Keeper, entry: dict, open_rotations: list[dict]) -> KeyRecord | None:
    """A rotation's parked pair (journal ``pending:<old fingerprint>``): left alone while its
    rotation can still complete it; filed as a key of its own once nothing else will."""
    fp = entry["fingerprint"]
    old_fp = fp.removeprefix("pending:")
    if not keeper.vault.has(fp):
        keeper.store.journal_remove(fp)
        return None
    holders = [r for r in keeper.store.all() if r.fingerprint == old_fp]
    if any(rot["old_id"] in {r.id for r in holders} for rot in open_rotations):
        return None  # its rotation is still open: resume (run above, or next time) completes it
    from dataclasses import replace

    from ..core.keys import inspect_key

    pending = keeper.vault.get_pending(old_fp)
    if pending is None:
        return None
    generated = unpark(pending, holders[0] if holders else None)
    inspection = replace(inspect_key(generated.api_key, endpoint=generated.endpoint or None),
                         refresh_token=generated.refresh_token, source="adopted")
    if generated.valid_until:
        inspection = replace(inspection, expires_at=generated.valid_until)
    name = entry["name"]
    if keeper.store.find(name) is not None:
        name = f"{name} (adopted {inspection.fingerprint[7:15]})"
    _journal_and_put(keeper, inspection, name)
    from .keeper import record_from

    record = record_from(inspection, name, kind=Kind.V1)
    record.secret_stored = True
    keeper.store.add(record, now=keeper.now(), action="adopted", detail="a rotation's parked pair found in the keyring")
    keeper.vault.delete_pending(old_fp)
    keeper.store.journal_remove(fp)
    keeper.schedule(record)
    return record


def _journal_and_put(keeper: Keeper, inspection: Inspection, name: str) -> None:
    """Journal, then write the keyring: a crash in between leaves a secret doctor can adopt."""
    keeper.store.journal_add(inspection.fingerprint, name, inspection.kind.value, now=keeper.now())
    keeper.vault.put(inspection.fingerprint, inspection.secret, inspection.refresh_token)


# ---- a rotation's parked pair ---------------------------------------------------------------

PARKED = "momento-keys parked pair v1"


def pending_name(old_fingerprint: str) -> str:
    """The keyring name (and journal entry) of a rotation's parked pair."""
    return f"pending:{old_fingerprint}"


def pack_parked(generated: GeneratedKey) -> str:
    """A rotation's new pair as ONE keyring entry (one write: all or nothing)."""
    return json.dumps({"parked": PARKED, "api_key": generated.api_key, "refresh_token": generated.refresh_token,
                       "endpoint": generated.endpoint, "valid_until": generated.valid_until},
                      separators=(",", ":"))


def unpark(pending: tuple[str, str | None], old: KeyRecord | None) -> GeneratedKey:
    """The pair `pack_parked` made (or, from older versions, a key and a refresh token
    parked as two entries)."""
    from ..core.keys import inspect_key
    from .momento.protocol import GeneratedKey

    secret, refresh = pending
    try:
        doc = json.loads(secret)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("parked") == PARKED:
        return GeneratedKey(api_key=doc["api_key"], refresh_token=doc.get("refresh_token"),
                            endpoint=doc.get("endpoint") or (old.endpoint if old else None) or "",
                            valid_until=doc.get("valid_until"))
    inspection = inspect_key(secret)
    return GeneratedKey(api_key=secret, refresh_token=refresh,
                        endpoint=inspection.endpoint or (old.endpoint if old else None) or "",
                        valid_until=inspection.expires_at)
