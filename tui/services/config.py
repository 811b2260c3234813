"""Where data lives and the user's settings.

Database: ``--db PATH``, else ``$MOMENTO_KEYS_DB``, else
``<platformdirs user data dir>/momento-keys.db``. Settings: a TOML file,
``$MOMENTO_KEYS_CONFIG`` or ``<platformdirs user config dir>/config.toml``::

    [thresholds]
    warning = "14d"            # absolute time left that starts the warning band
    warning_fraction = 0.667   # or this share of the lifetime used, whichever first
    critical = "3d"
    critical_fraction = 0.9

    [keyring]
    allow_insecure = false     # store secrets in a backend that is not secure

    [clipboard]
    clear_after = 45           # seconds; 0 keeps the copied key

    [bindings]                 # remap any binding by its id
    filter = "/"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core.model import Thresholds
from ..core.policy import DurationError, parse_duration

APP_NAME = "momento-keys"


class ConfigError(Exception):
    pass


def data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("MOMENTO_KEYS_CONFIG"):
        return Path(env["MOMENTO_KEYS_CONFIG"]).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def db_path(explicit: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit).expanduser()
    if env.get("MOMENTO_KEYS_DB"):
        return Path(env["MOMENTO_KEYS_DB"]).expanduser()
    return data_dir() / "momento-keys.db"


@dataclass(frozen=True)
class Settings:
    thresholds: Thresholds = field(default_factory=Thresholds)
    allow_insecure_keyring: bool = False
    clipboard_clear_seconds: int = 45
    bindings: dict[str, str] = field(default_factory=dict)
    source: Path | None = None


def _fraction(value: object, what: str) -> float:
    if not isinstance(value, (int, float)) or not 0 < float(value) < 1:
        raise ConfigError(f"{what} must be a number between 0 and 1, such as 0.9")
    return float(value)


def _duration(value: object, what: str) -> int:
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except DurationError as exc:
            raise ConfigError(f"{what}: {exc}") from None
    raise ConfigError(f"{what} must be a duration such as \"14d\" or a number of seconds")


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file; a missing file means defaults."""
    path = config_path() if path is None else path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise ConfigError(f"cannot read the settings file {path}: {exc.strerror}") from None
    import tomllib  # only when there is a file: `check` without one starts faster

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the settings file {path} is not valid TOML: {exc}") from None
    defaults = Thresholds()
    t = data.get("thresholds", {})
    k = data.get("keyring", {})
    c = data.get("clipboard", {})
    b = data.get("bindings", {})
    try:
        thresholds = Thresholds(
            warning_seconds=_duration(t.get("warning", defaults.warning_seconds), "thresholds.warning"),
            warning_fraction=_fraction(t.get("warning_fraction", defaults.warning_fraction), "thresholds.warning_fraction"),
            critical_seconds=_duration(t.get("critical", defaults.critical_seconds), "thresholds.critical"),
            critical_fraction=_fraction(t.get("critical_fraction", defaults.critical_fraction), "thresholds.critical_fraction"),
        )
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if thresholds.critical_seconds > thresholds.warning_seconds:
        raise ConfigError(f"{path}: thresholds.critical must not be longer than thresholds.warning")
    clear = c.get("clear_after", 45)
    if not isinstance(clear, int) or clear < 0:
        raise ConfigError(f"{path}: clipboard.clear_after must be a whole number of seconds (0 keeps the key)")
    if not isinstance(b, dict) or not all(isinstance(v, str) for v in b.values()):
        raise ConfigError(f"{path}: [bindings] maps a binding id to keys, such as filter = \"/\"")
    return Settings(
        thresholds=thresholds,
        allow_insecure_keyring=bool(k.get("allow_insecure", False)),
        clipboard_clear_seconds=clear,
        bindings=dict(b),
        source=path,
    )
