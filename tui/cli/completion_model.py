"""What shell completion knows of the command line: the plain description that
tui.cli.completion builds from the parser and tui.cli.completion_scripts writes out for
each shell (apart, so that neither imports the other)."""

from __future__ import annotations

from dataclasses import dataclass, field

NAME, FILE, COMMAND, CHOICE, TEXT = "name", "file", "command", "choice", "text"


@dataclass
class Option:
    strings: list[str]
    help: str
    value: str | None = None          # None: a flag; else NAME, FILE, CHOICE or TEXT
    choices: list[str] = field(default_factory=list)


@dataclass
class Command:
    help: str
    options: list[Option]
    positionals: list[tuple[str, list[str]]]   # (NAME, FILE, CHOICE, COMMAND or TEXT, choices)
