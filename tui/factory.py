"""One place that builds the app, for the CLI, the tests, screenshots and benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .app import POLL_SECONDS, MomentoKeysApp
from .core.clock import Clock, SystemClock
from .services.config import Settings, UiState
from .services.context import Services
from .services.keeper import Keeper
from .services.store import Store
from .services.vault import Vault

if TYPE_CHECKING:
    from .services.momento import MomentoClient


def build_services(keeper: Keeper, *, readonly: bool = False,
                   api_factory: Callable[[], MomentoClient] | None = None) -> Services:
    """What the app's screens reach as ``app.services``. ``api_factory`` builds the Momento
    client (None: the real one, or the endpoint override from the environment)."""
    return Services(keeper, api_factory=api_factory, readonly=readonly or keeper.store.readonly)


def build_app(keeper: Keeper, *, readonly: bool = False, api_factory: Callable[[], MomentoClient] | None = None,
              watch_interval: float = POLL_SECONDS, tick: bool = True, ui_state: UiState | None = None,
              endpoint_override: str | None = None) -> MomentoKeysApp:
    """The dashboard over ``keeper``. ``tick=False`` and ``watch_interval=0`` stop its clocks
    (tests and screenshots move time by hand). ``ui_state``: where the theme picked last is
    remembered (None: nowhere); ``endpoint_override``: shown in the header while set."""
    return MomentoKeysApp(build_services(keeper, readonly=readonly, api_factory=api_factory),
                          watch_interval=watch_interval, tick=tick, ui_state=ui_state,
                          endpoint_override=endpoint_override)


def demo_keeper(clock: Clock | None = None, *, path: str = ":memory:", seed: int | None = None,
                settings: Settings | None = None) -> Keeper:
    """A keeper over an in-memory database and keyring, filled with the showcase keys;
    ``settings``: the user's (thresholds, bindings, theme), else the defaults."""
    from .core.keys import inspect_text
    from .demo import (  # demo keys are signed with PyJWT: load it only for the demo
        console_json,
        showcase,
    )
    from .services.memory_keyring import MemoryKeyring

    clock = clock or SystemClock()
    vault = Vault(MemoryKeyring())
    vault.probe()
    keeper = Keeper(Store(path), vault, settings or Settings(), clock)
    now = int(clock.now())
    for fields, secret, refresh in showcase(now, seed):
        text = secret
        if refresh:
            expires = inspect_text(secret, endpoint=fields["endpoint"]).expires_at
            text = console_json(secret, expires, refresh)
        inspection = inspect_text(text, endpoint=fields["endpoint"])
        keeper.import_key(inspection, fields["name"], key_type=fields["key_type"],
                          kind=fields["kind"] if fields["kind"].value == "disposable" else None,
                          notes=fields["notes"], tags=fields["tags"])
    return keeper


def build_demo_app(clock: Clock | None = None, *, seed: int | None = None, readonly: bool = False,
                   api_factory: Callable[[], MomentoClient] | None = None, watch_interval: float = POLL_SECONDS,
                   tick: bool = True, settings: Settings | None = None, ui_state: UiState | None = None,
                   endpoint_override: str | None = None) -> MomentoKeysApp:
    """The dashboard over the showcase keys (in memory; throwaway secrets), with the user's
    ``settings`` when given. It writes nothing outside memory: ``ui_state`` is only read."""
    if ui_state is not None and not ui_state.readonly:
        ui_state = UiState(ui_state.path, readonly=True)
    return build_app(demo_keeper(clock, seed=seed, settings=settings), readonly=readonly, api_factory=api_factory,
                     watch_interval=watch_interval, tick=tick, ui_state=ui_state, endpoint_override=endpoint_override)
