"""What every screen of momento-keys shares: typed access to the services and to the app's
navigation, a tick that reaches a screen only once it is set up, and one way for a worker
to fail.

Screens never import each other: they navigate through the app's actions
(``self.host.action_open_import(record.id)``) and answer through ``dismiss`` or messages
(``self.keys_changed()`` asks the app to reload).

Workers are declared with :func:`safe_work`: the errors a user can cause (a locked keyring,
a busy database, Momento refusing, a file that cannot be read…) are shown in a notification
that names the key; anything else is reported as a bug. No worker can take the app down.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from textual import work
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen

from ..core.model import KeyType
from ..messages import KeysChanged
from ..services.context import Services

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from ..core.roles import Role
    from ..core.roster import RosterRow
    from ..services.account import AccountClient

T = TypeVar("T")


# The key types a user can choose in the import and edit dialogs.
KEY_TYPES = [
    ("Unknown (can't be read from the key)", KeyType.UNKNOWN.value),
    ("Fine-grained (data access to chosen caches/topics)", KeyType.FINE_GRAINED.value),
    ("Super user (everything, including the auth API)", KeyType.SUPER_USER.value),
]


class ServicesHost(Protocol):
    """What a screen may read from the app: its services."""

    services: Services


class AppHost(ServicesHost, Protocol):
    """What a screen may ask of the app (tui.app.MomentoKeysApp provides it): the listed
    keys, navigation by key id, and the account API for v2 keys."""

    roles: dict[str, Role]  # the account's roles by id, once a sync read them (else empty)

    def row(self, record_id: int) -> RosterRow | None: ...

    def action_open_detail(self, record_id: int) -> None: ...

    def action_open_import(self, replaces_id: int | None = None, key_type: str = "") -> None: ...

    def action_open_wizard(self, replaces_id: int | None = None) -> None: ...

    def action_rotate(self, record_id: int) -> None: ...

    def action_edit(self, record_id: int) -> None: ...

    def action_delete(self, record_id: int) -> None: ...

    def action_copy(self, record_id: int) -> None: ...

    def copy_secret_value(self, value: str, name: str) -> None: ...

    def action_revoke(self, record_id: int) -> None: ...

    def account_for(self, prefer_id: int | None = None, avoid_id: int | None = None) -> AccountClient: ...


# ---- errors --------------------------------------------------------------------------------

def user_errors() -> tuple[type[BaseException], ...]:
    """The errors a user can cause (and fix): shown as they are, never a crash.

    Imported when an error is being classified, not before: the Momento client and the
    rotation code load only when used.
    """
    from ..core.expiry import ExpiryError
    from ..core.keys import KeyFormatError
    from ..core.override import OverrideError
    from ..core.permissions import PermissionSpecError
    from ..core.policy import DurationError
    from ..errors import UserError
    from ..services.account import AccountError
    from ..services.files import KeyFileError
    from ..services.keeper import KeeperError
    from ..services.momento import MomentoError
    from ..services.rotation import RotationError
    from ..services.store import StoreError
    from ..services.vault import VaultError

    return (UserError, KeeperError, StoreError, VaultError, MomentoError, RotationError, AccountError, OSError,
            KeyFormatError, KeyFileError, OverrideError, ExpiryError, DurationError, PermissionSpecError)


def error_text(exc: BaseException, name: str | None = None) -> str:
    """One line for the user: a user error as it is (our messages carry no secret), anything
    else as a bug, with whatever looks like a secret removed."""
    from ..core.text import one_line, scrub, terminal_safe

    if isinstance(exc, user_errors()):
        text = one_line(terminal_safe(str(exc)), 500)
        if isinstance(exc, OSError) and exc.strerror:
            where = f"{exc.filename}: " if exc.filename else ""
            text = one_line(terminal_safe(f"{where}{exc.strerror}"), 500)
    else:
        text = f"unexpected error ({type(exc).__name__}: {scrub(str(exc))}). This is a bug: please report it"
    return f"{name}: {text}" if name else text


def key_name(value: object) -> str | None:
    """The name of the key ``value`` is about (a record, a listed row, a reminder), if any."""
    from ..core.model import KeyRecord
    from ..core.reminders import Reminder
    from ..core.roster import RosterRow

    if isinstance(value, (KeyRecord, RosterRow)):
        return value.name
    if isinstance(value, Reminder):
        return value.key_name
    return None


def report(node: DOMNode, title: str, exc: BaseException, name: str | None = None) -> None:
    """Show an error met by a worker or a handler of ``node`` (safe from any thread): a
    notification naming the key, and the node's ``worker_failed`` hook (a dialog shows it
    inline)."""
    app = node.app
    text = error_text(exc, name)
    if not isinstance(exc, user_errors()):
        on_ui(app, app.log.error, f"{title}: {text}")  # (scrubbed: the exception may quote a secret)
    on_ui(app, app.notify, text, title=title, severity="error", timeout=10, markup=False)
    if isinstance(node, KeysBase):
        on_ui(app, node._if_ready, node.worker_failed, title, text)


def on_ui(node: DOMNode, callback: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    """Run ``callback`` on the UI thread: now if this is it, else as a message to ``node``
    (dropped if ``node`` is gone by then). Never blocks a worker."""
    if threading.current_thread() is threading.main_thread():
        callback(*args, **kwargs)
    else:
        node.call_later(callback, *args, **kwargs)


def safe_work(title: str, *, group: str = "default", exclusive: bool = False) -> Callable[[Callable[..., Any]], Any]:
    """A thread worker that cannot take the app down.

    What it raises is shown (see :func:`report`) with the name of the key it was about:
    the first argument that is a key (a record, a listed row, a reminder), else the
    screen's ``subject_name``. Its result is ``None`` then.
    """

    def decorate(method: Callable[..., Any]) -> Any:
        @functools.wraps(method)
        def guarded(self: DOMNode, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:
                name = next((n for n in map(key_name, (*args, *kwargs.values())) if n), None)
                if name is None and isinstance(self, KeysBase):
                    name = self.subject_name
                report(self, title, exc, name)
                return None

        return work(thread=True, group=group, exclusive=exclusive, exit_on_error=False)(guarded)

    return decorate


# ---- screens ---------------------------------------------------------------------------------

class KeysBase(Screen[T], Generic[T]):
    """What every screen of the app shares (KeysScreen and KeysModal are the ones to derive)."""

    _ready = False
    _leave_pending = False

    @property
    def host(self) -> AppHost:
        return cast(AppHost, self.app)

    @property
    def services(self) -> Services:
        return self.host.services

    def on_mount(self) -> None:
        # Runs after the subclass's own on_mount (Textual calls each class's handler, the
        # most derived first): the screen is set up when it says it is ready.
        self._ready = True
        if self._leave_pending:
            self.call_later(self.action_leave)

    def action_leave(self) -> None:
        """Close this screen (Esc). One still opening closes as soon as it is open: a screen
        removed while its widgets mount races Textual's own (the Header sets its title on
        widgets already gone), which keys pressed quickly enough would trigger."""
        if not self._ready:
            self._leave_pending = True
        elif self.app.screen is self:
            self.dismiss()

    @property
    def ready(self) -> bool:
        """Mounted, set up and still on the app: the app's tick and reloads may reach it."""
        return self._ready and self.is_mounted and self.is_running and self.is_attached

    @property
    def key_id(self) -> int | None:
        """The key this screen is about, if one (the app closes it when that key is deleted)."""
        return None

    @property
    def subject_name(self) -> str | None:
        """The name of the key this screen's work is about (errors name it): its ``record``'s."""
        return key_name(getattr(self, "record", None))

    def tick(self) -> None:
        """Called once a second by the app, only while ``ready``. Override to refresh countdowns."""

    def records_changed(self) -> None:
        """Called by the app after it reloaded the keys, only while ``ready``."""

    def worker_failed(self, title: str, message: str) -> None:
        """A worker of this screen failed (the user was notified). Dialogs show it inline."""

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Textual's notify, with the message taken as text unless told otherwise: messages
        hold names and notes."""
        if timeout is None:
            self.app.notify(message, title=title, severity=severity, markup=markup)
        else:
            self.app.notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def keys_changed(self) -> None:
        """Keys or reminders changed: the app reloads them (and tells every screen)."""
        self.app.post_message(KeysChanged())

    def from_worker(self, callback: Callable[..., object], *args: Any) -> None:
        """From a worker thread: run ``callback(*args)`` on the UI thread if this screen is
        still up by then (a result for a closed screen is dropped, never an error)."""
        on_ui(self.app, self._if_ready, callback, *args)

    def _if_ready(self, callback: Callable[..., object], *args: Any) -> None:
        if self.ready:
            callback(*args)


class KeysScreen(KeysBase[T], Generic[T]):
    """A full screen of the app."""


class KeysModal(ModalScreen[T], KeysBase[T], Generic[T]):
    """A dialog of the app. It has its own footer: the keys shown are those of the dialog and
    of what has the focus in it, not the dashboard's behind it.

    ModalScreen comes first: Textual matches CSS types along the first bases only, so this
    order gives every dialog ModalScreen's rules (centred, over the dimmed dashboard)."""

    def on_mount(self) -> None:
        from ..widgets.footer import KeysFooter

        self.mount(KeysFooter())
