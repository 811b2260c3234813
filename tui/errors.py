"""One shape for the errors a user can cause: a message and an exit code.

The CLI prints ``UserError`` as one line on stderr and exits with its code; the
dashboard shows the same message in a notification. Anything else escaping a
command or a worker is a bug (reported as such, never with a secret).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit code the CLI uses. Several commands give a number its own meaning
    (documented in `momento-keys --help` and the README); the aliases name them."""

    OK = 0
    ERROR = 1          # one line on stderr; nothing was done (or, for generate, nothing was made)
    USAGE = 2          # argparse's code for a bad command line
    UNAVAILABLE = 3    # Momento unreachable or timed out; the outcome is unknown
    RESCUED = 4        # Momento made a key that could not be stored: it is in a rescue file
    NOT_STORED = 5     # import: tracked, but the secret could not be stored in the keyring
    INTERRUPTED = 130  # Ctrl-C / SIGTERM

    # `check` (Nagios-style) and `verify`
    WARNING = 1
    CRITICAL = 2
    INVALID = 2
    UNKNOWN = 3


class UserError(Exception):
    """Something the user can fix: printed as one line, never with a traceback."""

    def __init__(self, message: str, code: int = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = int(code)

    def __str__(self) -> str:
        return self.message
