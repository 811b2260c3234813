"""What the CLI says about a key Momento made that could not be stored.

`generate` and `rotate` hand every new key to the one never-lose path
(tui.services.issuing); when it comes back not stored, this is the one place
that tells the user where the key is and the exact command that tracks it.
"""

from __future__ import annotations

import sys

from ..core.text import shell_quote
from ..errors import ExitCode
from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..services.issuing import Issued


def render_unstored(issued: Issued, import_options: Sequence[str], *, headline: str | None = None,
                    then: str | None = None) -> int:
    """Say why ``issued`` was not stored, where it is, and how to track it; exit RESCUED.

    ``import_options`` are the options of `momento-keys import` that track it as what it is
    (its name, type, ``--replaces OLD`` for a rotation); ``then`` is a command to run after
    the import (`link` for a v2 key's account id). If no rescue file could be written,
    the terminal is the last place the key can go: the Download JSON is printed on stdout,
    but only when stdout is a terminal (never into a pipe or a log).
    """
    output.error(headline or f"Momento made {issued.name!r} but it could not be stored: {issued.problem}")
    command = "momento-keys import " + " ".join(shell_quote(o) for o in import_options)
    if issued.rescue_file is not None:
        output.say(f"the key is saved in {issued.rescue_file} (mode 0600, Download JSON; it holds the secret)")
        output.say(f"to track it: {command} --file {shell_quote(str(issued.rescue_file))}   then delete the file")
        if then:
            output.say(f"then: {then}")
        return ExitCode.RESCUED
    if sys.stdout.isatty():
        output.say(f"the key is printed below ONCE; save it as a file and track it with: {command} --file FILE")
        sys.stdout.write(issued.download_json())
        sys.stdout.flush()
    else:
        until = ("it never expires: delete it in the Momento console" if not issued.generated.valid_until
                 else "it expires on its own")
        output.say(f"the key was not printed because stdout is not a terminal, so it is lost; {until}")
    return ExitCode.RESCUED
