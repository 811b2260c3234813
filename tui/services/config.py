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

    [bindings]                 # remap any binding by its id (the help screen, ?, lists them)
    filter = "/"

    [ui]
    theme = "nord"             # the theme to start with (ctrl+p → "Theme" lists them)

Ids in ``[bindings]`` that no binding has are not an error (the rest of the file still
applies): they are reported, by the dashboard at start, ``config show`` and ``doctor``.

The theme. A theme picked in the command palette is remembered in a small state file
(``ui_state_path()``: ``<platformdirs user state dir>/ui.json``; never in the settings file,
which stays as the user wrote it). At start the last pick wins, unless ``[ui] theme`` was
changed since that pick (the newest intent wins): a pick records the ``[ui] theme`` it was
made over. Read-only mode and ``--demo`` read the remembered pick but never write it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core.keymap import not_keys, unknown_ids
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
    theme: str | None = None                       # [ui] theme: the theme to start with
    unknown_bindings: tuple[str, ...] = ()        # ids in [bindings] that no binding has
    not_keys: tuple[tuple[str, str], ...] = ()    # (id, keys) in [bindings] that name no key: not applied

    def warnings(self, *, listing: bool = True) -> list[str]:
        """What is wrong in the file without stopping it from applying (unknown binding ids);
        with ``listing``, every valid id (the dashboard's notice names where to find them instead)."""
        out = []
        where = f"{self.source}: " if self.source else ""
        if self.unknown_bindings:
            from ..core.keymap import unknown_ids_message

            text = unknown_ids_message(list(self.unknown_bindings), listing=listing)
            if not listing:
                text += ". The help screen lists every id"
            out.append(where + text)
        for binding_id, keys in self.not_keys:
            out.append(f"{where}[bindings]: {binding_id} = {keys!r} is not a key (use a key name such as f, "
                       "ctrl+f, f5 or slash; several separated by commas): its default key stays")
        return out


def _fraction(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < float(value) < 1:
        raise ConfigError(f"{what} must be a number between 0 and 1, such as 0.9, not {value!r}")
    return float(value)


def _duration(value: object, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except DurationError as exc:
            raise ConfigError(f"{what}: {exc}") from None
    raise ConfigError(f"{what} must be a duration such as \"14d\" or a number of seconds, not {value!r}")


def _boolean(value: object, what: str) -> bool:
    # Never bool(value): the string "false" would read as true.
    if not isinstance(value, bool):
        raise ConfigError(f"{what} must be true or false (without quotes), not {value!r}")
    return value


def _seconds(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{what} must be a whole number of seconds (0 keeps the key), not {value!r}")
    return value


# Every setting the file may hold, with its type: anything else is an error, never ignored.
SCHEMA: dict[str, tuple[str, ...]] = {
    "thresholds": ("warning", "warning_fraction", "critical", "critical_fraction"),
    "keyring": ("allow_insecure",),
    "clipboard": ("clear_after",),
    "bindings": (),  # any binding id -> keys (ids that no binding has are reported: Settings.warnings)
    "ui": ("theme",),
}


def _check_shape(data: dict) -> None:
    for section, value in data.items():
        if section not in SCHEMA:
            raise ConfigError(f"unknown section [{section}]; the settings file knows "
                              + ", ".join(f"[{name}]" for name in SCHEMA))
        if not isinstance(value, dict):
            raise ConfigError(f"[{section}] must be a table (a [{section}] header with settings under it)")
        known = SCHEMA[section]
        if known:
            for key in value:
                if key not in known:
                    raise ConfigError(f"unknown setting {section}.{key}; [{section}] knows " + ", ".join(known))


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file; a missing file means defaults. Every setting has a type: a
    wrong type, an unknown section or an unknown key is an error, never a silent default."""
    path = config_path() if path is None else path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except IsADirectoryError:
        raise ConfigError(f"the settings file {path} is a folder, not a file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the settings file {path}: {exc.strerror or exc}") from None
    import tomllib  # only when there is a file: `check` without one starts faster

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the settings file {path} is not valid TOML: {exc}") from None
    defaults = Thresholds()
    try:
        _check_shape(data)
        t = data.get("thresholds", {})
        k = data.get("keyring", {})
        c = data.get("clipboard", {})
        b = data.get("bindings", {})
        u = data.get("ui", {})
        thresholds = Thresholds(
            warning_seconds=_duration(t.get("warning", defaults.warning_seconds), "thresholds.warning"),
            warning_fraction=_fraction(t.get("warning_fraction", defaults.warning_fraction),
                                       "thresholds.warning_fraction"),
            critical_seconds=_duration(t.get("critical", defaults.critical_seconds), "thresholds.critical"),
            critical_fraction=_fraction(t.get("critical_fraction", defaults.critical_fraction),
                                        "thresholds.critical_fraction"),
        )
        if thresholds.critical_seconds > thresholds.warning_seconds:
            raise ConfigError("thresholds.critical must not be longer than thresholds.warning")
        allow = _boolean(k.get("allow_insecure", False), "keyring.allow_insecure")
        clear = _seconds(c.get("clear_after", 45), "clipboard.clear_after")
        if not all(isinstance(v, str) for v in b.values()):
            raise ConfigError("[bindings] maps a binding id to keys, such as filter = \"/\"")
        bad = not_keys(b)
        theme = u.get("theme")
        if theme is not None and (not isinstance(theme, str) or not theme.strip()):
            raise ConfigError(f"ui.theme must be the name of a theme in quotes, such as \"nord\", not {theme!r}")
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return Settings(
        thresholds=thresholds,
        allow_insecure_keyring=allow,
        clipboard_clear_seconds=clear,
        bindings={i: keys for i, keys in b.items() if (i, keys) not in bad},
        source=path,
        theme=theme.strip() if theme else None,
        unknown_bindings=tuple(unknown_ids(b)),
        not_keys=tuple(bad),
    )


# ---- the remembered theme ---------------------------------------------------------------

def ui_state_path() -> Path:
    """The small state file of the dashboard (the last theme picked)."""
    from platformdirs import user_state_dir

    return Path(user_state_dir(APP_NAME, appauthor=False)) / "ui.json"


@dataclass(frozen=True)
class ThemeChoice:
    """The theme to start with, and where it comes from: ``"settings"`` (``[ui] theme``),
    ``"last pick"`` (the state file) or ``"default"`` (None: Textual's own)."""

    name: str | None
    source: str


def starting_theme(settings_theme: str | None, state: Mapping[str, object]) -> ThemeChoice:
    """The last pick, unless ``[ui] theme`` changed since it was made; else ``[ui] theme``."""
    picked = state.get("theme")
    over = state.get("theme_over")  # the [ui] theme when the pick was made
    if isinstance(picked, str) and picked and (over if isinstance(over, str) else None) == settings_theme:
        return ThemeChoice(picked, "last pick")
    if settings_theme:
        return ThemeChoice(settings_theme, "settings")
    return ThemeChoice(None, "default")


class UiState:
    """The state file (a JSON object). Reading never fails (a missing or damaged file reads
    as empty); writing replaces it atomically (0600, in a 0700 folder) unless read-only."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly

    def load(self) -> dict[str, object]:
        import json

        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def remember_theme(self, theme: str, settings_theme: str | None) -> bool:
        """Record a theme picked in the palette; False when read-only (nothing written).
        Raises ``OSError`` (a ``WriteError``) when the file cannot be written."""
        if self.readonly:
            return False
        import json

        from .files import write_atomically

        data = self.load()
        data.update(theme=theme, theme_over=settings_theme)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomically(self.path, json.dumps(data, indent=2) + "\n", mode=0o600, replace=True)
        return True
