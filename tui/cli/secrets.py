"""The commands that hand a secret to something else: `export` (Download JSON) and `env`.

A secret never reaches a terminal by accident: without --stdout, both refuse to
print on one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import ExitCode, UserError
from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .context import Context


def refuse_terminal(what: str, hint: str) -> None:
    if sys.stdout.isatty():
        raise UserError(f"not printing {what} on the terminal: {hint}")


def _warn_if_stdout_shared() -> None:
    """`export NAME > file`: the shell made the file with the umask; say so if others can read it."""
    import stat

    try:
        st = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError):
        return
    if stat.S_ISREG(st.st_mode) and st.st_mode & 0o077:
        output.warning(f"stdout is a file others may read (mode {oct(st.st_mode & 0o777)}); "
                       "prefer --out FILE, which writes 0600")


def cmd_export(ctx: Context) -> int:
    from ..core.model import ExpirySource
    from ..services.recovery import SecretFileError, download_json, write_secret_file
    from ..services.vault import VaultError

    args = ctx.args
    to_stdout = args.out is None or args.out == "-"
    path: Path | None = None
    if to_stdout:
        if not args.stdout:
            refuse_terminal("the secret", "use --out FILE (written with mode 0600), or --stdout to print it anyway")
    else:
        path = Path(args.out).expanduser()
        if path.is_dir():
            raise UserError(f"{path} is a directory; give a file name, such as {path / 'key.json'}")
        if not path.parent.is_dir():
            raise UserError(f"no such directory: {path.parent}")
        if (path.exists() or path.is_symlink()) and not args.force:
            raise UserError(f"{path} already exists; add --force to replace it")
    keeper = ctx.keeper
    record = ctx.find(args.name)
    secret = ctx.secret(record)
    try:
        refresh = keeper.refresh_token(record)
    except VaultError as exc:
        raise UserError(f"{record.name!r}: {exc}") from None
    known = record.expires_at is not None or record.expiry_source is not ExpirySource.UNKNOWN
    text = download_json(secret, refresh, record.expires_at, record.endpoint, expiry_known=known)
    if path is None:
        _warn_if_stdout_shared()
        sys.stdout.write(text)
        sys.stdout.flush()
        ctx.log(record, "exported", "to stdout")
        return ExitCode.OK
    try:
        write_secret_file(path, text, force=args.force)
    except SecretFileError as exc:
        raise UserError(str(exc)) from None
    ctx.log(record, "exported", f"to {path}")
    output.aside(f"exported {record.name!r} to {path} (mode 0600); it holds the secret: delete it when it is no "
               "longer needed")
    if not known:
        output.warning(f"the expiry of {record.name!r} is unknown, so validUntil was left out")
    return ExitCode.OK


def cmd_env(ctx: Context) -> int:
    from ..core.text import shell_quote

    args = ctx.args
    if not args.stdout:
        refuse_terminal("the secret", f'run eval "$(momento-keys env {shell_quote(args.name)})" to set the '
                                      "variables in your shell, or add --stdout to print them anyway")
    record = ctx.find(args.name)
    secret = ctx.secret(record)
    lines = [f"export MOMENTO_API_KEY={shell_quote(secret)}"]
    if record.endpoint:
        lines.append(f"export MOMENTO_ENDPOINT={shell_quote(record.endpoint)}")
    else:
        output.warning(f"no endpoint is recorded for {record.name!r}; MOMENTO_ENDPOINT is not set")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    ctx.log(record, "exported", "as environment variables (env)")
    return ExitCode.OK
