"""`momento-keys __names [--db PATH]`: the names of the tracked keys (not retired), one a line,
for the completion scripts (tui.cli.completion). Read before the parser is even built, and
quiet and fast: no argparse, no keyring, no Textual, no grpc; nothing at all (exit 0) when
there is no database or it cannot be read (a completion never prints an error into the
command line being typed)."""

from __future__ import annotations

import sys

from . import output


def names(argv: list[str]) -> int:
    db = None
    if len(argv) >= 2 and argv[0] == "--db":
        db = argv[1]
    elif argv and argv[0].startswith("--db="):
        db = argv[0][5:]
    try:
        from ..services.config import db_path
        from ..services.store import Store

        path = db_path(db or None)
        if not path.is_file():
            return 0
        store = Store(path, readonly=True)
        try:
            rows = store._read("SELECT name FROM keys WHERE lifecycle != 'retired' ORDER BY name")
        finally:
            store.close()
    except Exception:  # see the module docstring
        return 0
    text = "".join(output.cell(name) + "\n" for (name,) in rows)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError:  # the script stopped reading
        pass
    return 0
