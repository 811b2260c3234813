"""What a command works with, built once per run and each part only when first used.

`check` needs the settings and the store, never the keyring or Momento: nothing
it does not use is imported or opened (cron runs it every minute).
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from ..errors import ExitCode, UserError
from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from ..core.clock import Clock
    from ..core.model import KeyRecord
    from ..services.account import AccountClient
    from ..services.config import Settings
    from ..services.issuing import Issuer
    from ..services.keeper import Keeper
    from ..services.momento import MomentoApi
    from ..services.rotation import Rotator
    from ..services.store import Store
    from ..services.vault import Vault


class Context:
    """The settings, store, keyring, keeper, clock and Momento client of one run."""

    def __init__(self, args: argparse.Namespace, *, readonly: bool = False) -> None:
        self.args = args
        self.readonly = readonly  # open the store read-only (list, check, metrics, the shared dashboard)

    @cached_property
    def settings(self) -> Settings:
        from ..services.config import ConfigError, config_path, load_settings

        given = getattr(self.args, "config", None)
        path = Path(given).expanduser() if given else config_path()
        try:
            return load_settings(path)
        except ConfigError as exc:
            raise UserError(str(exc)) from None

    @cached_property
    def db_path(self) -> Path:
        from ..services.config import db_path

        return db_path(getattr(self.args, "db", None))

    def db_named(self) -> str | None:
        """Who named the database explicitly (``--db`` or ``MOMENTO_KEYS_DB``), if anyone."""
        if getattr(self.args, "db", None):
            return "--db"
        return "MOMENTO_KEYS_DB" if os.environ.get("MOMENTO_KEYS_DB") else None

    @cached_property
    def store(self) -> Store:
        from ..services.store import Store, StoreError

        path = self.db_path
        if self.readonly and self.db_named() and not path.exists():
            # Only the default location may be empty: a mistyped --db or MOMENTO_KEYS_DB must
            # never read as "OK: no keys tracked" to a monitor.
            monitor = getattr(self.args, "command", None) in ("check", "metrics")  # 3: unknown, for monitors
            raise UserError(f"no database at {path} ({self.db_named()} names it); check the path. Only the "
                            "default location may be empty", ExitCode.UNKNOWN if monitor else ExitCode.ERROR)
        try:
            return Store(path, readonly=self.readonly)
        except StoreError as exc:
            from ..services.doctor import explain_store_error

            raise UserError(explain_store_error(exc, path)) from None
        except OSError as exc:
            raise UserError(f"cannot create the database at {path}: {exc.strerror or exc}; make {path.parent} "
                            "writable, or choose another place with --db PATH or MOMENTO_KEYS_DB") from None

    @cached_property
    def clock(self) -> Clock:
        from ..core.clock import SystemClock

        return SystemClock()

    @cached_property
    def vault(self) -> Vault:
        from ..services.vault import Vault

        allow = bool(getattr(self.args, "allow_insecure_keyring", False)) or self.settings.allow_insecure_keyring
        return Vault(allow_insecure=allow)

    @cached_property
    def keeper(self) -> Keeper:
        from ..services.keeper import Keeper

        return Keeper(self.store, self.vault, self.settings, self.clock)

    @cached_property
    def issuer(self) -> Issuer:
        from ..services.issuing import Issuer

        return Issuer(self.keeper)

    @cached_property
    def rotator(self) -> Rotator:
        """The rotator; v2 rotations act through the account API with ``self.acting`` (set
        by `rotate` before it rotates a v2 key)."""
        from ..services.rotation import Rotator

        return Rotator(self.keeper, self.momento, account_factory=lambda: self.account(self.acting))

    # ---- the account API (v2 keys) ---------------------------------------------------------

    acting: KeyRecord | None = None  # the key a v2 rotation acts with (rotate --using, or the key itself)

    def account(self, acting: KeyRecord | None) -> AccountClient:
        """The account-API client acting with the tracked key ``acting`` (its secret read from
        the keyring now): one per acting key, for the run. The URL override (``--account-api``,
        then MOMENTO_KEYS_ACCOUNT_API) is checked, and noted, here."""
        from ..services.account import AccountUrlError, client_for_record, resolve
        from ..services.keeper import KeeperError

        if acting is None:
            raise UserError("the account API needs a key to act with: give --using NAME (a tracked key whose role "
                            "manages API keys, such as Owner)")
        cached = self._accounts.get(acting.id)
        if cached is not None:
            return cached
        given = getattr(self.args, "account_api", None)
        try:
            url = resolve(given)
        except AccountUrlError as exc:
            raise UserError(f"--account-api: {exc}" if given else str(exc)) from None
        if url.overridden:
            output.note(f"account-API calls go to {url.text}, not to Momento "
                        f"({'--account-api' if given else 'MOMENTO_KEYS_ACCOUNT_API'})")
        if not acting.secret_stored:
            raise UserError(f"no secret is stored for {acting.name!r} (metadata only), so it cannot act for the "
                            "account API: give --using with a key whose secret is held here")
        try:
            client = client_for_record(self.keeper, acting, base_url=given, timeout=getattr(self.args, "timeout", 15.0))
        except KeeperError as exc:
            raise UserError(str(exc)) from None
        except ValueError as exc:
            raise UserError(f"{acting.name!r} cannot act for the account API: {exc}") from None
        self._accounts[acting.id] = client
        return client

    @cached_property
    def _accounts(self) -> dict[int | None, AccountClient]:
        return {}

    # ---- Momento ---------------------------------------------------------------------------

    def override(self) -> tuple[str | None, str]:
        """The endpoint override in effect (or None), and where it came from."""
        from ..core.override import ENV_OVERRIDE

        given = getattr(self.args, "endpoint_override", None)
        value = (given or os.environ.get(ENV_OVERRIDE) or "").strip() or None
        return value, ("--endpoint-override" if given else ENV_OVERRIDE)

    @cached_property
    def _momento(self) -> MomentoApi:
        from ..core.override import OverrideError, parse_override
        from ..services.momento import MomentoApi

        override, source = self.override()
        if override is not None:
            try:
                host, port = parse_override(override)
            except OverrideError as exc:
                raise UserError(f"{source}: {str(exc).rstrip('.')}") from None
            output.note(f"Momento calls go to {host}:{port} in plaintext, not to Momento ({source})")
        try:
            return MomentoApi(override=override, timeout=getattr(self.args, "timeout", 15.0))
        except ValueError as exc:
            raise UserError((f"{source}: " if override else "") + str(exc).rstrip(".")) from None

    def momento(self) -> MomentoApi:
        """The Momento client (imports grpc). The override is checked here, before any call."""
        return self._momento

    def close(self) -> None:
        """Close what was opened (before `exec` hands this process over to another program)."""
        for client in self.__dict__.get("_accounts", {}).values():
            close = getattr(client, "close", None)
            if close is not None:
                close()
        store = self.__dict__.get("store")
        if store is not None:
            store.close()

    # ---- records ---------------------------------------------------------------------------

    def find(self, name: str, *, hint: bool = True) -> KeyRecord:
        """The tracked record called ``name`` (whitespace normalised, as names are stored)."""
        from ..core.text import normalize_name, shown

        clean = " ".join(name.split())
        record = self.store.find(clean)
        if record is None and normalize_name(clean) != clean:  # typed in another Unicode form (NFD)
            record = self.store.find(normalize_name(clean))
        if record is not None:
            return record
        if not hint:
            raise UserError(f"no key named {shown(clean, 120)} is tracked (momento-keys list shows the names)")
        import difflib

        names = [r.name for r in self.store.all(lean=True)]
        close = difflib.get_close_matches(clean, names, n=3)
        tip = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else " (see `momento-keys list`)"
        raise UserError(f"no key named {shown(clean, 120)} is tracked{tip}")

    def secret(self, record: KeyRecord) -> str:
        """A record's secret, or a UserError that says why not. Logs nothing (callers log what they did)."""
        from ..services.vault import VaultError

        if not record.secret_stored:
            raise UserError(f"no secret is stored for {record.name!r}: momento-keys tracks only its metadata "
                            "(import the key again where a keyring can store it)")
        try:
            return self.keeper.vault.get(record.fingerprint)
        except VaultError as exc:
            raise UserError(f"{record.name!r}: {exc}") from None

    def log(self, record: KeyRecord, action: str, detail: str) -> None:
        """Log an event; a failure to log is a warning, not a failure of what was done."""
        from ..services.store import StoreError

        try:
            assert record.id is not None
            self.store.log(record.id, action, now=self.keeper.now(), detail=detail)
        except StoreError as exc:
            output.warning(f"could not log the {action!r} event: {exc}")

