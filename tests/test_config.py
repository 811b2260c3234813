"""The settings file: every setting typed, nothing unknown ignored (a wrong type never reads as
its opposite: `allow_insecure = "false"` once turned plaintext storage on)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.services.config import ConfigError, Settings, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "absent.toml") == Settings()


def test_typed_values_are_read(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, '[thresholds]\nwarning = "10d"\ncritical = 7200\n'
                                      '[keyring]\nallow_insecure = true\n[clipboard]\nclear_after = 0\n'
                                      '[bindings]\nfilter = "f"\n'))
    assert s.thresholds.warning_seconds == 10 * 86400 and s.thresholds.critical_seconds == 7200
    assert s.allow_insecure_keyring is True and s.clipboard_clear_seconds == 0 and s.bindings == {"filter": "f"}


@pytest.mark.parametrize("text, words", [
    ('[keyring]\nallow_insecure = "false"\n', "keyring.allow_insecure must be true or false"),
    ('[keyring]\nallow_insecure = "true"\n', "keyring.allow_insecure must be true or false"),
    ('[keyring]\nallow_insecure = 1\n', "keyring.allow_insecure must be true or false"),
    ('[keyring]\nallow_insecur = true\n', "unknown setting keyring.allow_insecur"),
    ('[keyrings]\nallow_insecure = true\n', "unknown section [keyrings]"),
    ('keyring = true\n', "[keyring] must be a table"),
    ('[clipboard]\nclear_after = true\n', "clipboard.clear_after must be a whole number"),
    ('[clipboard]\nclear_after = "45"\n', "clipboard.clear_after must be a whole number"),
    ('[thresholds]\nwarning = true\n', "thresholds.warning must be a duration"),
    ('[thresholds]\nwarning_fraction = true\n', "thresholds.warning_fraction must be a number between 0 and 1"),
    ('[thresholds]\ncritical = "30d"\n', "thresholds.critical must not be longer"),
    ('[bindings]\nfilter = 3\n', "[bindings] maps a binding id"),
    ('[keyring\n', "not valid TOML"),
])
def test_wrong_types_and_unknown_names_are_errors(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert words in str(info.value) and str(path) in str(info.value)


def test_a_folder_where_the_file_should_be(tmp_path: Path) -> None:
    (tmp_path / "config.toml").mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        load_settings(tmp_path / "config.toml")
