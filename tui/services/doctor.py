"""`doctor`: what is wrong with this installation and how to fix it, as a report object.

`diagnose` looks at the settings, the keyring, the endpoint override, the
database, secrets a crash left behind, unfinished rotations and rescue files,
and returns a `DoctorReport`: sections (the JSON of ``doctor --json``) and the
problems found, each saying how to fix it. It prints nothing; the CLI renders it.
With ``adopt`` it also applies the one fix it can make itself: tracking again
the secrets an interrupted import, generation or rotation left in the keyring.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.text import shell_quote

if TYPE_CHECKING:
    from ..core.model import KeyRecord
    from .config import Settings
    from .vault import Vault, VaultStatus

LOW_DISK_BYTES = 10 * 2**20  # warn when the database's disk has less than this free


@dataclass
class DoctorReport:
    """The sections of ``doctor --json``, in its order, then what the text view needs besides."""

    config: dict[str, Any] = field(default_factory=dict)
    keyring: dict[str, Any] = field(default_factory=dict)
    momento: dict[str, Any] = field(default_factory=dict)
    database: dict[str, Any] = field(default_factory=dict)
    orphans: list[dict[str, Any]] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)       # the fix applied: records tracked again
    rotations: list[dict[str, Any]] = field(default_factory=list)
    rescue_files: list[str] = field(default_factory=list)
    secrets: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)      # each says what is wrong and how to fix it
    # Not in the JSON:
    config_path: Path = Path()
    db_path: Path = Path()
    schema_supported: int = 0
    override: str | None = None
    tracked: int = 0                                      # records read from the database

    SECTIONS = ("config", "keyring", "momento", "database", "orphans", "adopted", "rotations", "rescue_files",
                "secrets", "versions", "problems")

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.SECTIONS}


def explain_store_error(exc: BaseException, path: Path | None = None) -> str:
    """A store failure in one line, with what to do about it when the store did not say."""
    from .store import ReadOnlyStore

    text = str(exc)
    if isinstance(exc, ReadOnlyStore) and "newer momento-keys" not in text:
        how = f"chmod u+w {shell_quote(str(path))} {shell_quote(str(path.parent))}; " if path else ""
        text += (f"; check that you may write the database file and its folder ({how}SQLite also writes -wal "
                 "and -shm files beside it), or use another file with --db PATH")
    elif "unable to open database file" in text:
        text += "; check that its folder exists and is writable, or use another file with --db PATH"
    elif "is full" in text and "free" not in text:
        text += "; free some space and try again"
    return text


def diagnose(*, config_path: Path, db_path: Path, allow_insecure: bool = False, override: str | None = None,
             override_source: str = "", adopt: bool = False) -> DoctorReport:
    """Everything `doctor` checks. ``override`` is the endpoint override in effect and
    ``override_source`` where it came from (an option or the environment)."""
    from .store import SCHEMA_VERSION
    from .vault import Health, Vault

    report = DoctorReport(config_path=config_path, db_path=db_path, schema_supported=SCHEMA_VERSION,
                          override=override)
    settings = _config(report, config_path)
    allow = allow_insecure or bool(settings and settings.allow_insecure_keyring)
    vault = Vault(allow_insecure=allow)
    status = vault.probe()
    _keyring(report, status, allow)
    _override(report, override, override_source)
    records, journal, rotations = _database(report, db_path)
    usable = status.health in (Health.SECURE, Health.INSECURE)
    _orphans(report, journal if usable else [], vault, adopt=adopt, settings=settings)
    _rotations(report, rotations)
    _rescue(report, db_path)
    _secrets(report, records, vault if usable else None)
    report.versions = _versions()
    return report


# ---- settings, keyring, override -------------------------------------------------------------

def _config(report: DoctorReport, path: Path) -> Settings | None:
    from .config import ConfigError, load_settings

    try:
        settings = load_settings(path)
    except ConfigError as exc:
        report.config = {"path": str(path), "exists": True, "ok": False, "error": str(exc)}
        report.problems.append(str(exc))
        return None
    warnings = settings.warnings()  # (unknown binding ids: the rest of the file applies)
    report.config = {"path": str(path), "exists": path.exists(), "ok": True, "warnings": warnings}
    report.problems += [f"{w}. Fix: correct or remove the id in the settings file" for w in warnings]
    return settings


def keyring_fix(status: VaultStatus) -> str:
    """What to do about a keyring that is not secure and working, in one sentence."""
    from .vault import Health

    detail = (status.detail or "").lower()
    if status.health is Health.INSECURE:
        return ("use a secure keyring (Secret Service, macOS Keychain, Windows Credential Locker, KWallet), or, if "
                "this backend is acceptable to you, opt in with --allow-insecure-keyring or "
                "[keyring] allow_insecure = true in the settings")
    if status.backend == "keyring.backends.null.Keyring":
        return ("the 'null' backend is configured (PYTHON_KEYRING_BACKEND or keyringrc.cfg) and stores nothing: "
                "remove that setting or point it at your real keyring")
    if "locked" in detail:
        return ("unlock the keyring (log in to the desktop session, or on a headless Linux machine: "
                "echo PASSWORD | gnome-keyring-daemon --unlock --components=secrets), then run this again")
    if "could not start" in detail or status.description == "keyring could not start":
        return ("the keyring library failed to start: check PYTHON_KEYRING_BACKEND and keyringrc.cfg, and that "
                "the backend's packages are installed")
    return ("on Linux install and unlock a Secret Service (gnome-keyring or KeePassXC; headless: run inside "
            "dbus-run-session); or set PYTHON_KEYRING_BACKEND to a secure backend")


def _keyring(report: DoctorReport, status: VaultStatus, allow: bool) -> None:
    from .vault import Health

    report.keyring = {"backend": status.backend, "description": status.description,
                      "health": status.health.value, "detail": status.detail,
                      "secure": status.health is Health.SECURE, "insecure_allowed": allow}
    if status.health is not Health.SECURE:
        fix = keyring_fix(status)
        report.keyring["fix"] = fix
        report.problems.append(f"keyring: {status.summary()}. Fix: {fix}")


def _override(report: DoctorReport, override: str | None, source: str) -> None:
    from ..core.override import OverrideError, parse_override

    report.momento = {"endpoint_override": override}
    if not override:
        return
    try:
        parse_override(override)
    except OverrideError as exc:
        why = str(exc).removeprefix("the endpoint override ")
        report.momento["error"] = why
        report.problems.append(f"{source}: {why}; every Momento call (generate, verify, rotate) will fail until "
                               "it is fixed or unset")


# ---- the database ----------------------------------------------------------------------------

def salvage_hint(path: Path) -> str:
    q = shell_quote(str(path))
    new = shell_quote(str(path.with_name(path.stem + "-recovered" + path.suffix)))
    return (f"To salvage the records (their secrets are still in the keyring): sqlite3 {q} .recover | sqlite3 {new}, "
            f"then use --db {new} (or move it into place); otherwise move the damaged file aside "
            f"(mv {q} {q}.damaged) and import your keys again")


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _database(report: DoctorReport, path: Path) -> tuple[list[KeyRecord], list[dict], list[dict]]:
    """The database's file, contents and writability; its records, journal and open rotations."""
    import shutil

    db: dict[str, Any] = {"path": str(path), "exists": path.exists()}
    report.database = db
    place = _existing_ancestor(path if path.exists() else path.parent)
    try:
        db["free_bytes"] = shutil.disk_usage(place).free
    except OSError:
        pass
    if isinstance(db.get("free_bytes"), int) and db["free_bytes"] < LOW_DISK_BYTES:
        report.problems.append(f"the disk holding {path} is (nearly) full: {db['free_bytes']} bytes free; nothing "
                               "can be saved until space is freed")
    if not path.exists():
        writable = os.access(place, os.W_OK | os.X_OK)
        db["directory_writable"] = writable
        if not writable:
            report.problems.append(f"the database {path} cannot be created: {place} is not writable. Fix: chmod u+w "
                                   f"{place}, or choose another place with --db PATH or MOMENTO_KEYS_DB")
        return [], [], []
    from .files import open_to_others

    st_mode = path.stat().st_mode
    db["mode"] = oct(st_mode & 0o777)
    others = open_to_others(st_mode)
    if others is None:
        db["mode"] = "not checked (Windows: the file's ACL decides, not a POSIX mode)"
    elif others:
        report.problems.append(f"database {path} is readable by others (mode {db['mode']}); fix: chmod 600 {path}")
    found = _contents(report, path)
    if "error" not in db:
        _writable(report, path)
    return found


def _contents(report: DoctorReport, path: Path) -> tuple[list[KeyRecord], list[dict], list[dict]]:
    from .store import SCHEMA_VERSION, Store, StoreError, backup_corrupt

    db = report.database

    def failed(exc: StoreError) -> tuple[list, list, list]:
        db["error"] = str(exc)
        backup = getattr(exc, "backup", None)
        if backup:
            db["backup"] = str(backup)
        report.problems.append(explain_store_error(exc, path))
        if backup:
            report.problems.append(salvage_hint(path))
        return [], [], []

    try:
        store = Store(path, readonly=True)
    except StoreError as exc:
        return failed(exc)
    try:
        version = store.schema_version()
        db["schema"] = version
        db["schema_supported"] = SCHEMA_VERSION
        db["integrity"] = store.integrity()
        records = store.all(lean=True)
        journal = store.journal() if version >= 3 else []
        rotations = store.open_rotations() if version >= 2 else []
        db["records"] = report.tracked = len(records)
        if db["integrity"] != "ok":
            backup = backup_corrupt(path)
            if backup:
                db["backup"] = str(backup)
            report.problems.append(f"database integrity check failed: {db['integrity']}. The file was left untouched"
                                   + (f"; a copy is at {backup}" if backup else "") + ". " + salvage_hint(path))
        if version > SCHEMA_VERSION:
            report.problems.append(store.readonly_reason or "database is from a newer version")
    except StoreError as exc:
        return failed(exc)
    finally:
        store.close()
    return records, journal, rotations


def write_probe(path: Path) -> tuple[str, str]:
    """Can the database be written right now? ("ok" | "busy" | "read-only" | "full" | "error", detail).

    A real write inside a transaction that is rolled back: nothing changes. (BEGIN
    IMMEDIATE alone succeeds even on a read-only file in WAL mode.)
    """
    import sqlite3

    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=rw", uri=True, timeout=1.0, isolation_level=None)
    except sqlite3.Error as exc:
        return "error", str(exc)
    try:
        conn.execute("BEGIN IMMEDIATE")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA user_version = {int(version)}")
        return "ok", ""
    except sqlite3.Error as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return "busy", text
        if "readonly" in text or "read-only" in text:
            return "read-only", text
        if "full" in text:
            return "full", text
        return "error", text
    finally:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        conn.close()


def _writable(report: DoctorReport, path: Path) -> None:
    state, detail = write_probe(path)
    report.database["writable"] = state
    problem = {
        "busy": f"the database {path} is locked by another process ({detail}): close other momento-keys dashboards "
                f"and commands; if none is running, find the holder with `fuser {path}`",
        "read-only": f"the database {path} cannot be written ({detail}): nothing can be imported, generated or "
                     f"changed. Fix: chmod u+w {path} {path.parent} (SQLite also writes -wal and -shm files beside "
                     "it), or use another file with --db PATH",
        "full": f"the disk holding {path} is full ({detail}): free some space; nothing was changed",
        "error": f"the database {path} cannot be written: {detail}",
    }.get(state)
    if problem:
        report.problems.append(problem)


# ---- what interrupted work left behind -------------------------------------------------------

def _orphans(report: DoctorReport, journal: list[dict], vault: Vault, *, adopt: bool,
             settings: Settings | None) -> None:
    """Secrets a crash left in the keyring without their record (found through the journal)."""
    orphans = [j for j in journal if vault.has(j["fingerprint"])]
    if orphans and adopt:
        from .keeper import Keeper
        from .recovery import adopt as adopt_orphans
        from .rotation import Rotator
        from .store import Store

        def unverified():  # no Momento call from doctor: the new key's check says "unknown"
            raise RuntimeError("not checked while adopting; run `momento-keys verify NAME`")

        keeper = Keeper(Store(report.db_path), vault, settings or None)
        done, _ = adopt_orphans(keeper, resume=Rotator(keeper, unverified).resume)
        report.adopted = [r.name for r in done]
        orphans = []
    report.orphans = [{"name": j["name"], "fingerprint": j["fingerprint"]} for j in orphans]
    if orphans:
        report.problems.append(
            f"{len(orphans)} secret(s) are in the keyring without a record (an import, generation or rotation was "
            "interrupted): " + ", ".join(j["name"] for j in orphans[:10])
            + " — run `momento-keys doctor --adopt` to track them again")


def _rotations(report: DoctorReport, rotations: list[dict]) -> None:
    report.rotations = [{"name": r["old_name"], "state": r["state"], "detail": r["detail"]} for r in rotations]
    for r in rotations[:10]:
        old = r["old_name"]
        if r["state"] == "unsaved":
            # Momento made the new key, the keyring refused it, and it went to a rescue file.
            report.problems.append(
                f"the rotation of {old!r} made a new key that could not be stored ({r['detail']}); it is in a rescue "
                f"file (listed here): import it with `momento-keys import --name NEW --replaces {shell_quote(old)} "
                "--file PATH`")
        else:
            report.problems.append(
                f"the rotation of {old!r} did not finish (state {r['state']}"
                + (f": {r['detail']}" if r["detail"] else "")
                + f"); run `momento-keys rotate {shell_quote(old)}` to finish it")


def _rescue(report: DoctorReport, db_path: Path) -> None:
    from .recovery import rescue_files

    found = rescue_files(db_path)
    report.rescue_files = [str(p) for p in found]
    if found:
        report.problems.append(
            f"{len(found)} rescue file(s) hold keys Momento made that momento-keys could not store: "
            + ", ".join(str(p) for p in found[:5])
            + " — import each (momento-keys import --name NAME --type fine-grained --file PATH), "
              "then delete the file: it holds the secret")


def _secrets(report: DoctorReport, records: list[KeyRecord], vault: Vault | None) -> None:
    """Records whose secret should be in the keyring: is it? (``vault`` None: it cannot be read.)"""
    missing: list[str] = []
    unknown: list[str] = []
    if vault is not None:
        for r in records:
            if r.secret_stored:
                present = vault.presence(r.fingerprint)
                if present is False:
                    missing.append(r.name)
                elif present is None:
                    unknown.append(r.name)
    unstored = [r.name for r in records if not r.secret_stored]
    report.secrets = {"missing_from_keyring": missing, "metadata_only": unstored, "could_not_check": unknown}
    if missing:
        report.problems.append(
            f"{len(missing)} record(s) say their secret is in the keyring but it is not: " + ", ".join(missing[:10])
            + " — to restore one, delete its record (dashboard: select it, d) and import the key again from where "
              "you keep it; if a key is gone for good, delete its record and make a new key (the wizard, or "
              "`momento-keys generate`)")
    if unknown:
        report.problems.append(f"the keyring could not be read for {len(unknown)} record(s): "
                               + ", ".join(unknown[:10]))


def _versions() -> dict[str, str]:
    import platform
    import sqlite3
    from importlib import metadata

    from .. import __version__

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {"momento-keys": __version__, "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "textual": version("textual"), "momento": version("momento"), "keyring": version("keyring")}
