"""The argument parser's classes: a parser that never echoes a secret in a usage error, and
help formatters sized to the terminal without importing shutil. Apart from tui.cli.parser so
that the sub-command definitions (args_local, args_remote) and the parser that assembles them
import these without importing each other."""

from __future__ import annotations

import argparse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error never echoes a key pasted on the command line
    (`momento-keys import --key eyJ...` would otherwise print it into the CI log)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        from ..core.text import redact

        super().error(redact(message))


def _columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` gives it ($COLUMNS, then the
    terminal, then 80), without importing shutil, which imports every compression module
    (argparse builds a formatter for each argument it adds)."""
    import os
    import sys

    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class RawFormatter(Formatter, argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written (exit-code tables)."""
