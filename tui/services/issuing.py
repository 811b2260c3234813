"""The one path for a key Momento just made: it ends **stored** or **rescued**, never lost.

Every caller that receives a new key from Momento — ``generate``, the wizard,
``rotate`` and the rotate dialog — hands it to :class:`Issuer`. Storing it may
fail for any reason (the keyring refuses, the database refuses, the answer looks
odd to our validation, the process is interrupted): the key is then written to
the one rescue folder as the console's Download JSON, and the result says where
and why. Only when not even a file can be written does the result come back
with neither, and the caller must show the key on the spot (the terminal or the
wizard's screen) — its last chance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.model import KeyRecord, KeyType, Kind, V2Fields
from ..core.report import local_time
from ..core.text import scrub
from .recovery import SecretFileError, download_json, rescue_dir, rescue_file_stem, write_new_secret_file

if TYPE_CHECKING:
    from typing import TypeAlias

    from .account import AccountClient, Expiry, GeneratedV2Key
    from .keeper import Keeper
    from .momento import GeneratedKey as _V1Key

    GeneratedKey: TypeAlias = _V1Key | GeneratedV2Key  # what Momento made: a v1 key (gRPC) or a v2 key (account API)


@dataclass
class Issued:
    """What became of a key Momento made."""

    generated: GeneratedKey
    name: str
    record: KeyRecord | None = None        # stored: secret in the keyring, record in the database
    rescue_file: Path | None = None        # not stored: saved here (Download JSON, 0600)
    problem: str | None = None             # why it was not stored: one line, no secret
    warnings: list[str] = field(default_factory=list)  # stored, but something was odd
    v2: V2Fields | None = None             # a v2 key's account metadata (key id, role, description)

    @property
    def stored(self) -> bool:
        return self.record is not None

    @property
    def kept(self) -> bool:
        """Stored or in a rescue file; False: the caller must show the key now."""
        return self.record is not None or self.rescue_file is not None

    def download_json(self) -> str:
        g = self.generated
        text = download_json(g.api_key, g.refresh_token, g.valid_until, g.endpoint, expiry_known=g.expiry_known)
        if self.v2 is None or not (self.v2.key_id or self.v2.role_id):
            return text
        # A v2 key's account id and role travel with it (an import reads only the key fields;
        # `link NAME KEY_ID` uses the id).
        import json

        doc = json.loads(text)
        doc.update({k: v for k, v in (("keyId", self.v2.key_id), ("roleId", self.v2.role_id),
                                      ("role", self.v2.role_name), ("description", self.v2.description)) if v})
        return json.dumps(doc, indent=2) + "\n"


class Issuer:
    def __init__(self, keeper: Keeper) -> None:
        self.keeper = keeper

    def keep(self, generated: GeneratedKey, name: str, *, kind: Kind = Kind.V1,
             key_type: KeyType = KeyType.FINE_GRAINED, permissions: list[dict] | None = None, notes: str = "",
             tags: list[str] | None = None, action: str = "generated", v2: V2Fields | None = None) -> Issued:
        """Store ``generated`` under ``name``; if that fails in any way, rescue it.

        A v2 key (``kind=Kind.V2``) comes with ``v2``, its account metadata (key id, role,
        description, issue time), stored with the record; its ``generated.endpoint`` is
        the one chosen for it (v2 keys carry none)."""
        issued = Issued(generated, name, v2=v2)
        try:
            done = self.keeper.store_generated(generated, name, key_type=key_type, kind=kind,
                                               permissions=permissions, notes=notes, tags=tags, action=action,
                                               v2=v2)
        except (Exception, KeyboardInterrupt) as exc:
            record = self._stored_anyway(generated, name)
            if record is None:
                return self.rescue(generated, name, self._reason(exc, generated), v2=v2)
            # The key and its record were written; only a later step (such as reminders) failed.
            issued.record = record
            issued.warnings.append(f"{name!r} was stored, but a later step failed: {self._reason(exc, generated)}")
        else:
            issued.record = done.record
            issued.warnings += done.warnings
        issued.warnings += self.oddities(generated)
        return issued

    def generate_v2(self, client: AccountClient, name: str, *, role_id: str, description: str, expiry: Expiry,
                    endpoint: str, role_name: str | None = None, notes: str = "", tags: list[str] | None = None,
                    action: str = "generated") -> Issued:
        """Make a v2 key through the account API (``POST /api-keys``) and keep it: stored under
        ``name`` with its endpoint, key id, role and description, or rescued, never lost.

        Raises ``AccountError`` when the account made no key (or, with ``outcome_unknown``,
        may have made one that never reached us: a sync shows it) and ``ValueError`` for
        arguments refused before any call. Check the name is free first (a taken name means a
        rescue file, not a lost key, but a needless one)."""
        from .account import for_issuing

        created = client.create_key(role_id, description, expiry)
        generated, v2 = for_issuing(created, endpoint, role_id=role_id, role_name=role_name, description=description)
        return self.keep(generated, name, kind=Kind.V2, key_type=KeyType.UNKNOWN, notes=notes, tags=tags,
                         action=action, v2=v2)

    def retry(self, issued: Issued, name: str | None = None, **fields: object) -> Issued:
        """Store a rescued key again (after the user fixed the keyring or chose another name).
        On success the rescue file, now redundant, is removed."""
        if issued.v2 is not None:
            fields.setdefault("v2", issued.v2)
        again = self.keep(issued.generated, name or issued.name, **fields)  # type: ignore[arg-type]
        if again.stored and issued.rescue_file is not None:
            try:
                issued.rescue_file.unlink()
            except OSError as exc:
                again.warnings.append(f"the rescue file {issued.rescue_file} could not be removed "
                                      f"({exc.strerror or exc}); delete it: it holds the secret")
        elif not again.stored and again.rescue_file is not None and issued.rescue_file is not None:
            # One file per key is enough: keep the first, drop the copy.
            try:
                again.rescue_file.unlink()
                again.rescue_file = issued.rescue_file
            except OSError:
                pass
        return again

    def rescue(self, generated: GeneratedKey, name: str, problem: str, *, v2: V2Fields | None = None) -> Issued:
        """Write ``generated`` to the rescue folder; the result names the file (or, if no file
        could be written, has none: the caller must show the key)."""
        issued = Issued(generated, name, problem=problem, v2=v2)
        text = issued.download_json()
        try:
            folder = rescue_dir(self.keeper.store.path)
            issued.rescue_file = write_new_secret_file(folder, rescue_file_stem(name, self.keeper.now()), text)
        except SecretFileError as exc:
            issued.problem = f"{problem}; no rescue file could be written either: {exc}"
        except (Exception, KeyboardInterrupt) as exc:  # a second interrupt, or a bug: keep the key on screen
            issued.problem = f"{problem}; no rescue file could be written either: {type(exc).__name__}"
        return issued

    def oddities(self, generated: GeneratedKey) -> list[str]:
        """What looked odd in Momento's answer (it is kept anyway)."""
        notes = list(generated.oddities)
        if generated.valid_until is not None and generated.valid_until <= self.keeper.now():
            notes.append(f"Momento says this key expires on {local_time(generated.valid_until)}, which is already "
                         "past: check the clock of this machine, then verify the key")
        return notes

    def _stored_anyway(self, generated: GeneratedKey, name: str) -> KeyRecord | None:
        """The record of ``generated`` if it did get stored, secret included, despite an error."""
        try:
            from ..core.keys import inspect_key

            fp = inspect_key(generated.api_key, endpoint=generated.endpoint).fingerprint
            record = self.keeper.store.find(name)
            if record is not None and record.fingerprint == fp and record.secret_stored and self.keeper.vault.has(fp):
                return record
        except Exception:
            pass
        return None

    @staticmethod
    def _reason(exc: BaseException, generated: GeneratedKey) -> str:
        """Why storing failed, in one line without a secret."""
        from ..core.keys import KeyFormatError
        from .keeper import KeeperError
        from .store import StoreError
        from .vault import VaultError

        if isinstance(exc, KeyboardInterrupt):
            reason = "interrupted while storing"
        elif isinstance(exc, KeyFormatError):
            reason = f"Momento's answer did not pass our checks ({exc})"
        elif isinstance(exc, (KeeperError, StoreError, VaultError)):
            reason = str(exc)
        else:
            reason = f"{type(exc).__name__}: {exc}"
        reason = scrub(reason, [generated.api_key, generated.refresh_token or ""])
        return reason.removeprefix("the key was not stored: ")
