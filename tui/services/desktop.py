"""Desktop notifications through each platform's own command (no library: the three commands
below ship with the systems that have a desktop, and a library would add imports to cron runs).

* Linux and BSDs: ``notify-send`` (libnotify).
* macOS: ``osascript`` running ``display notification``; the title and text are passed as
  arguments of the script (``on run argv``), never spliced into its source.
* Windows: PowerShell showing a toast through ``Windows.UI.Notifications``; the text reaches
  the script as single-quoted literals and is XML-escaped inside it.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

from ..core.text import terminal_safe

TIMEOUT = 10.0
APP = "momento-keys"


@dataclass(frozen=True)
class Notifier:
    name: str
    program: str

    def argv(self, title: str, body: str, *, urgent: bool = False) -> list[str]:
        title, body = _clean(title), _clean(body)
        if self.name == "notify-send":
            return [self.program, f"--app-name={APP}", f"--urgency={'critical' if urgent else 'normal'}", title, body]
        if self.name == "osascript":
            return [self.program, "-e", "on run argv", "-e",
                    "display notification (item 2 of argv) with title (item 1 of argv)", "-e", "end run",
                    title, body]
        script = _toast_script(title, body)
        encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
        return [self.program, "-NoProfile", "-NonInteractive", "-EncodedCommand", encoded]

    def send(self, title: str, body: str, *, urgent: bool = False) -> bool:
        try:
            subprocess.run(self.argv(title, body, urgent=urgent), check=True, timeout=TIMEOUT,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            return False
        return True


def find_notifier(platform: str | None = None,
                  which: Callable[[str], str | None] = shutil.which) -> Notifier | None:
    """The notifier of this platform, or None (the caller prints instead)."""
    platform = platform or sys.platform
    if platform == "darwin":
        candidates = ["osascript"]
    elif platform == "win32":
        candidates = ["powershell", "pwsh"]
    else:
        candidates = ["notify-send"]
    for name in candidates:
        program = which(name)
        if program:
            return Notifier("powershell" if name == "pwsh" else name, program)
    return None


def _clean(text: str) -> str:
    """One short line without control characters or escape sequences."""
    text = " ".join(terminal_safe(text).split())
    return text if len(text) <= 240 else text[:237] + "..."


def _ps_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _toast_script(title: str, body: str) -> str:
    return "\n".join([
        "$ErrorActionPreference = 'Stop'",
        f"$title = {_ps_literal(title)}",
        f"$body = {_ps_literal(body)}",
        "[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime] "
        "| Out-Null",
        "[Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, ContentType = WindowsRuntime] | Out-Null",
        "$xml = New-Object Windows.Data.Xml.Dom.XmlDocument",
        "$t = [System.Security.SecurityElement]::Escape($title)",
        "$b = [System.Security.SecurityElement]::Escape($body)",
        "$xml.LoadXml(\"<toast><visual><binding template='ToastGeneric'><text>$t</text><text>$b</text>"
        "</binding></visual></toast>\")",
        "$toast = [Windows.UI.Notifications.ToastNotification]::new($xml)",
        f"[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier({_ps_literal(APP)}).Show($toast)",
    ])
