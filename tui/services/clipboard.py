"""The system clipboard, through the platform's own tools where present.

Textual's copy goes through the terminal (OSC 52), which many terminals
ignore and none can clear reliably. Where a clipboard tool exists (pbcopy,
wl-copy, xclip, xsel, clip.exe) we also use it, and can then clear the
clipboard later only if it still holds what we put there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

TIMEOUT = 3.0


def _tools() -> tuple[list[str], list[str]] | None:
    """(copy command, paste command) for this platform, or None."""
    if sys.platform == "darwin" and shutil.which("pbcopy"):
        return ["pbcopy"], ["pbpaste"]
    if os.environ.get("WAYLAND_DISPLAY") and shutil.which("wl-copy"):
        return ["wl-copy"], ["wl-paste", "--no-newline"]
    if os.environ.get("DISPLAY"):
        if shutil.which("xclip"):
            return ["xclip", "-selection", "clipboard"], ["xclip", "-selection", "clipboard", "-o"]
        if shutil.which("xsel"):
            return ["xsel", "--clipboard", "--input"], ["xsel", "--clipboard", "--output"]
    if sys.platform == "win32" and shutil.which("clip"):
        return ["clip"], []
    return None


class SystemClipboard:
    def __init__(self) -> None:
        self.tools = _tools()

    @property
    def name(self) -> str | None:
        return self.tools[0][0] if self.tools else None

    def copy(self, text: str) -> bool:
        if not self.tools:
            return False
        try:
            subprocess.run(self.tools[0], input=text.encode(), check=True, timeout=TIMEOUT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return True
        except (OSError, subprocess.SubprocessError):
            return False

    def holds(self, text: str) -> bool | None:
        """Does the clipboard still hold `text`? None when it cannot be read."""
        if not self.tools or not self.tools[1]:
            return None
        try:
            out = subprocess.run(self.tools[1], check=True, timeout=TIMEOUT, capture_output=True).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        return out.decode(errors="replace").rstrip("\n") == text

    def clear_if_holds(self, text: str) -> str:
        """Clear the clipboard if it still holds `text`; say what happened."""
        held = self.holds(text)
        if held is False:
            return "left alone (something else was copied since)"
        if self.copy(""):
            return "cleared"
        return "could not be cleared"
