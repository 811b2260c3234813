"""Asking before something that cannot be undone (revoking a key): on a terminal the
question is asked; anywhere else the command needs --yes."""

from __future__ import annotations

import sys

from ..errors import ExitCode, UserError
from . import output


def confirm(question: str, *, yes: bool, refusal: str) -> None:
    """Return when the user agreed (or gave --yes); raise UserError otherwise.

    ``question`` is asked on stderr when stdin and stderr are a terminal; without a
    terminal and without ``yes``, ``refusal`` says what was not done."""
    if yes:
        return
    if not (sys.stdin is not None and sys.stdin.isatty() and sys.stderr.isatty()):
        raise UserError(f"{refusal}: not on a terminal, so nothing can be asked; add --yes to confirm")
    sys.stderr.write(output.safe(question).replace("\n", " ") + " [y/N] ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise UserError(f"{refusal}: interrupted", ExitCode.INTERRUPTED) from None
    if answer.strip().lower() not in ("y", "yes"):
        raise UserError(f"{refusal}: not confirmed")
