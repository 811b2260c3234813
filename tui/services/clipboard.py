"""The system clipboard, through the platform's own tools where present.

Textual's copy goes through the terminal (OSC 52), which many terminals
ignore and none can clear reliably. Where a clipboard tool exists (pbcopy,
wl-copy, xclip, xsel, clip.exe) we also use it, and can then clear the
clipboard later only if it still holds what we put there.

The clear must outlive the app (copy, then quit: the key must not stay in the
clipboard for ever). As `pass` does, a small detached process waits and then
clears the clipboard if it still holds the key. It receives only a SHA-256 of
the key (on stdin, never on its command line) and compares digests.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time

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

    @property
    def readable(self) -> bool:
        """Can we read the clipboard back (and so prove that what it holds is ours)?"""
        return bool(self.tools and self.tools[1])

    def holds_digest(self, digest: str) -> bool | None:
        """Does the clipboard hold the text whose SHA-256 is ``digest``? None: cannot be read."""
        if not self.tools or not self.tools[1]:
            return None
        try:
            out = subprocess.run(self.tools[1], check=True, timeout=TIMEOUT, capture_output=True).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        return _digest(out.decode(errors="replace").rstrip("\n")) == digest

    def holds(self, text: str) -> bool | None:
        """Does the clipboard still hold `text`? None when it cannot be read."""
        return self.holds_digest(_digest(text))

    def clear_if_holds(self, text: str) -> str:
        """Clear the clipboard only if we can prove it still holds `text`; say what happened."""
        held = self.holds(text)
        if held is None:
            return "not cleared: it cannot be read back here, so it may no longer hold the key (clear it yourself)"
        if held is False:
            return "left alone (something else was copied since)"
        if self.copy(""):
            return "cleared"
        return "could not be cleared"

    def clear_later(self, text: str, seconds: float) -> bool:
        """Start a detached process that clears the clipboard after ``seconds`` if it still holds
        ``text``, even if this app has quit by then. False where that cannot be proven (no tool
        to read the clipboard back)."""
        if not self.readable or seconds <= 0:
            return False
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "tui.services.clipboard"], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True,
            )
            assert child.stdin is not None
            child.stdin.write(f"{_digest(text)}\n{float(seconds)}\n".encode())
            child.stdin.close()
        except (OSError, ValueError):
            return False
        return True


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _clear_later_main() -> int:  # pragma: no cover - runs detached; tests/test_clipboard.py drives it
    """The detached clearer: digest and delay on stdin; clears only what it can prove is the key."""
    lines = sys.stdin.read(200).split("\n")
    try:
        digest, seconds = lines[0].strip(), float(lines[1])
    except (IndexError, ValueError):
        return 2
    time.sleep(max(0.0, min(seconds, 24 * 3600)))
    board = SystemClipboard()
    if board.holds_digest(digest):
        board.copy("")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_clear_later_main())
