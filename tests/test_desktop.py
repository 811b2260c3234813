"""Desktop notifications on each platform, simulated: the right command, and user text passed
as data (never spliced into a script, never carrying escape sequences)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tui.services.desktop import find_notifier

HOSTILE = "orders [/] \x1b]52;c;AAAA\x07 it's \"quoted\" ' ; rm -rf / $(reboot) <b>&amp;"


def which_only(*names: str):
    return lambda name: f"/usr/bin/{name}" if name in names else None


@pytest.mark.parametrize("platform, tools, expected", [
    ("linux", ("notify-send",), "notify-send"),
    ("darwin", ("osascript",), "osascript"),
    ("win32", ("powershell",), "powershell"),
    ("win32", ("pwsh",), "powershell"),
    ("linux", (), None),
    ("darwin", ("notify-send",), None),
])
def test_each_platform_finds_its_own_command(platform, tools, expected) -> None:
    notifier = find_notifier(platform, which_only(*tools))
    assert (notifier.name if notifier else None) == expected


def test_macos_passes_the_text_as_arguments_of_the_script() -> None:
    argv = find_notifier("darwin", which_only("osascript")).argv("momento-keys: warning", HOSTILE)
    script = " ".join(argv[1:7])
    assert "rm -rf" not in script and "argv" in script
    assert argv[-1].startswith("orders [/]") and "\x1b" not in argv[-1] and "\x07" not in argv[-1]


def test_windows_quotes_the_text_as_literals() -> None:
    argv = find_notifier("win32", which_only("powershell")).argv("title", HOSTILE)
    script = base64.b64decode(argv[-1]).decode("utf-16-le")
    body_line = next(line for line in script.splitlines() if line.startswith("$body = "))
    literal = body_line.removeprefix("$body = ")
    assert literal.startswith("'") and literal.endswith("'")
    assert "''" in literal and "\x1b" not in literal
    inner = literal[1:-1]
    assert "'" not in inner.replace("''", "")  # every quote inside is doubled: no way out of the literal


def test_notify_send_is_really_called(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "argv"
    tool = tmp_path / "notify-send"
    tool.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > {log}\n')
    tool.chmod(0o755)
    notifier = find_notifier("linux", which_only())
    assert notifier is None
    from tui.services.desktop import Notifier

    assert Notifier("notify-send", str(tool)).send("momento-keys: critical", HOSTILE, urgent=True)
    lines = log.read_text().splitlines()
    assert lines[:2] == ["--app-name=momento-keys", "--urgency=critical"]
    assert lines[2] == "momento-keys: critical" and "\x1b" not in lines[3] and lines[3].startswith("orders [/]")


def test_a_failing_command_is_reported_not_raised(tmp_path: Path) -> None:
    from tui.services.desktop import Notifier

    assert Notifier("notify-send", "/nonexistent/notify-send").send("t", "b") is False
    assert Notifier("notify-send", "false").send("t", "b") is False
