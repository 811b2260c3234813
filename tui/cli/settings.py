"""`config show`: the effective settings, where each came from (default, file, environment,
flag), and every path the tool uses on this machine."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ExitCode
from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .context import Context


def _seconds_text(seconds: int) -> str:
    from ..core.policy import countdown

    return countdown(seconds)


def _from_file(path: Path) -> dict:
    """The settings the file sets (it was validated by load_settings already)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return {}
    import tomllib

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def _setting(value: object, shown: str, source: str, detail: str = "") -> dict:
    return {"value": value, "shown": shown, "source": source, **({"from": detail} if detail else {})}


def effective(ctx: Context) -> dict:
    """Everything `config show` reports, as JSON-ready data."""
    from ..core.keys import cli_credentials_path
    from ..services.account import DEFAULT_ACCOUNT_API, ENV_ACCOUNT_API
    from ..services.config import UiState, config_path, data_dir, starting_theme, ui_state_path
    from ..services.log import ENV_DEBUG, debug_requested, log_file
    from ..services.recovery import rescue_dir

    args = ctx.args
    env = os.environ
    config_given = getattr(args, "config", None)
    config_file = Path(config_given).expanduser() if config_given else config_path()
    config_source = "flag" if config_given else ("environment" if env.get("MOMENTO_KEYS_CONFIG") else "default")
    settings = ctx.settings
    present = config_file.is_file()
    data = _from_file(config_file) if present else {}
    t = settings.thresholds

    def in_file(section: str, key: str) -> bool:
        return isinstance(data.get(section), dict) and key in data[section]

    def from_file(section: str, key: str) -> tuple[str, str]:
        return ("file", str(config_file)) if in_file(section, key) else ("default", "")

    s: dict[str, dict] = {}
    for key, value, shown in (("warning", t.warning_seconds, _seconds_text(t.warning_seconds)),
                              ("warning_fraction", t.warning_fraction, f"{t.warning_fraction:.3g}"),
                              ("critical", t.critical_seconds, _seconds_text(t.critical_seconds)),
                              ("critical_fraction", t.critical_fraction, f"{t.critical_fraction:.3g}")):
        s[f"thresholds.{key}"] = _setting(value, shown, *from_file("thresholds", key))
    flag_insecure = bool(getattr(args, "allow_insecure_keyring", False))
    allow = flag_insecure or settings.allow_insecure_keyring
    s["keyring.allow_insecure"] = _setting(
        allow, "yes" if allow else "no",
        *(("flag", "--allow-insecure-keyring") if flag_insecure else from_file("keyring", "allow_insecure")))
    s["clipboard.clear_after"] = _setting(settings.clipboard_clear_seconds,
                                          f"{settings.clipboard_clear_seconds} s" if settings.clipboard_clear_seconds
                                          else "never (kept)", *from_file("clipboard", "clear_after"))
    s["bindings"] = _setting(dict(settings.bindings), ", ".join(f"{k}={v}" for k, v in settings.bindings.items())
                             or "the built-in keys", "file" if settings.bindings else "default",
                             str(config_file) if settings.bindings else "")
    # The theme the dashboard starts with: the last one picked in it, unless [ui] theme changed since.
    state_file = ui_state_path()
    theme = starting_theme(settings.theme, UiState(state_file).load())
    s["ui.theme"] = _setting(theme.name, theme.name or "Textual's default",
                             {"last pick": "state", "settings": "file"}.get(theme.source, "default"),
                             {"last pick": str(state_file), "settings": str(config_file)}.get(theme.source, ""))
    backend = env.get("PYTHON_KEYRING_BACKEND")
    s["keyring.backend"] = _setting(backend, backend or "keyring's choice for this system (doctor names it)",
                                    "environment" if backend else "default", "PYTHON_KEYRING_BACKEND" if backend else "")
    override, override_source = ctx.override()
    s["endpoint_override"] = _setting(override, override or "none: Momento itself",
                                      ("flag" if override_source.startswith("--") else "environment") if override
                                      else "default", override_source if override else "")
    account = env.get(ENV_ACCOUNT_API, "").strip()
    s["account_api"] = _setting(account or DEFAULT_ACCOUNT_API, account or DEFAULT_ACCOUNT_API,
                                "environment" if account else "default", ENV_ACCOUNT_API if account else "")
    debug_flag = bool(getattr(args, "debug", False)) and not debug_requested(False)
    debug = debug_requested(bool(getattr(args, "debug", False)))
    s["debug"] = _setting(debug, "on" if debug else "off",
                          "flag" if debug_flag else ("environment" if debug else "default"),
                          "--debug" if debug_flag else (ENV_DEBUG if debug else ""))

    db = ctx.db_path
    db_source = "flag" if getattr(args, "db", None) else ("environment" if env.get("MOMENTO_KEYS_DB") else "default")
    cli_file = cli_credentials_path()
    paths = {
        "database": (db, db_source, "--db" if db_source == "flag" else "MOMENTO_KEYS_DB" if db_source == "environment"
                     else ""),
        "config": (config_file, config_source, "--config" if config_source == "flag" else "MOMENTO_KEYS_CONFIG"
                   if config_source == "environment" else ""),
        "data_dir": (data_dir(), "default", ""),
        "rescue_dir": (rescue_dir(db), "beside the database", ""),
        "log_file": (log_file(), "default", ""),
        "ui_state": (state_file, "default", ""),
        "momento_cli_credentials": (cli_file, "environment" if env.get("MOMENTO_CONFIG_DIR", "").strip() else "default",
                                    "MOMENTO_CONFIG_DIR" if env.get("MOMENTO_CONFIG_DIR", "").strip() else ""),
    }
    return {
        "settings": s,
        "warnings": settings.warnings(),
        "paths": {name: {"path": str(path), "exists": Path(path).exists(), "source": source,
                         **({"from": detail} if detail else {})}
                  for name, (path, source, detail) in paths.items()},
    }


LABELS = {"database": "database", "config": "settings file", "data_dir": "data folder",
          "rescue_dir": "rescue folder", "log_file": "debug log file", "ui_state": "dashboard state (theme)",
          "momento_cli_credentials": "momento-cli credentials"}


def cmd_config(ctx: Context) -> int:
    report = effective(ctx)
    if ctx.args.json:
        output.print_json(report)
        return ExitCode.OK
    rows = [[name, item["shown"], item["source"] + (f" ({item['from']})" if item.get("from") else "")]
            for name, item in report["settings"].items()]
    output.out(output.table(rows, ["SETTING", "VALUE", "FROM"]))
    output.out("")
    rows = [[LABELS[name], item["path"] + ("" if item["exists"] else "  (not there yet)"),
             item["source"] + (f" ({item['from']})" if item.get("from") else "")]
            for name, item in report["paths"].items()]
    output.out(output.table(rows, ["PATH", "WHERE", "FROM"]))
    for warning in report["warnings"]:
        output.warning(warning)
    return ExitCode.OK
