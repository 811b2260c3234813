"""The commands that hand a secret to something else: `export` (Download JSON, or the refresh
lambda's secret), `env` (shell lines) and `exec` (a command's environment).

A secret never reaches a terminal by accident: without --stdout, `export` and `env`
refuse to print on one; `exec` never prints it at all.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import ExitCode, UserError
from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..core.model import KeyRecord
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
    from ..services.recovery import SecretFileError, download_json, lambda_json, write_secret_file
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
    lambda_format = args.format == "lambda"
    if lambda_format:
        text = lambda_json(secret, refresh, record.expires_at)
        how = " for the refresh lambda"
    else:
        text = download_json(secret, refresh, record.expires_at, record.endpoint, expiry_known=known)
        how = ""
    if path is None:
        _warn_if_stdout_shared()
        sys.stdout.write(text)
        sys.stdout.flush()
        ctx.log(record, "exported", f"to stdout{how}")
    else:
        try:
            write_secret_file(path, text, force=args.force)
        except SecretFileError as exc:
            raise UserError(str(exc)) from None
        ctx.log(record, "exported", f"to {path}{how}")
        output.aside(f"exported {record.name!r}{how} to {path} (mode 0600); it holds the secret: delete it when it "
                     "is no longer needed")
    if lambda_format and not refresh:
        output.warning(f"{record.name!r} has no refresh token, so the refresh lambda cannot refresh it")
    elif lambda_format and not known:
        output.warning(f"the expiry of {record.name!r} is unknown, so validUntil is \"0\"")
    elif not known and path is not None:
        output.warning(f"the expiry of {record.name!r} is unknown, so validUntil was left out")
    return ExitCode.OK


def variables(record: KeyRecord, secret: str) -> tuple[dict[str, str], list[str]]:
    """The variables that hand ``record``'s key to a program: MOMENTO_API_KEY, and MOMENTO_ENDPOINT
    for a v2 key only (the SDKs' v2 readers reject a v1 key beside it; Momento's Terraform
    provider says not to set it for v1 keys and tokens). Also the variables to unset."""
    from ..core.model import Kind

    values = {"MOMENTO_API_KEY": secret}
    if record.kind is not Kind.V2:
        return values, ["MOMENTO_ENDPOINT"]
    if record.endpoint:
        values["MOMENTO_ENDPOINT"] = record.endpoint
    else:
        output.warning(f"no endpoint is recorded for the v2 key {record.name!r}; MOMENTO_ENDPOINT is not set "
                       "(set one in the dashboard's editor)")
    return values, []


def cmd_env(ctx: Context) -> int:
    from ..core.text import shell_quote

    args = ctx.args
    if not args.stdout:
        if args.shell == "powershell":
            hint = f"pipe it: momento-keys env {shell_quote(args.name)} --shell powershell | Invoke-Expression"
        else:
            hint = f'run eval "$(momento-keys env {shell_quote(args.name)})"'
        refuse_terminal("the secret", f"{hint} to set the variables in your shell, or add --stdout to print them "
                                      "anyway")
    record = ctx.find(args.name)
    secret = ctx.secret(record)
    values, unset = variables(record, secret)
    if args.shell == "powershell":
        lines = [f"$Env:{k} = {_ps_quote(v)}" for k, v in values.items()]
        lines += [f"Remove-Item Env:{k} -ErrorAction SilentlyContinue" for k in unset]
    else:
        lines = [f"export {k}={shell_quote(v)}" for k, v in values.items()] + [f"unset {k}" for k in unset]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    ctx.log(record, "exported", f"as environment variables (env{', PowerShell' if args.shell == 'powershell' else ''})")
    return ExitCode.OK


def _ps_quote(text: str) -> str:
    """A PowerShell single-quoted string: nothing inside is expanded; a quote is doubled (PowerShell
    also reads the typographic single quotes as quotes: those are doubled too)."""
    for quote in ("'", "\u2018", "\u2019", "\u201a", "\u201b"):
        text = text.replace(quote, quote * 2)
    return f"'{text}'"


# ---- exec ------------------------------------------------------------------------------------

def cmd_exec(ctx: Context) -> int:
    """Run a command with the key in its environment (see `exec --help`)."""
    import shutil

    args = ctx.args
    argv = list(args.argv)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        raise UserError("exec needs a command to run: momento-keys exec NAME -- COMMAND [ARG ...]", ExitCode.USAGE)
    record = ctx.find(args.name)
    secret = ctx.secret(record)
    program = shutil.which(argv[0]) if os.sep not in argv[0] and not (os.altsep and os.altsep in argv[0]) \
        else argv[0]
    if program is None or not os.path.exists(program):
        raise UserError(f"{argv[0]!r}: command not found", 127)
    if os.path.isdir(program) or not os.access(program, os.X_OK):
        raise UserError(f"{argv[0]!r}: cannot be run (not an executable file)", 126)
    values, unset = variables(record, secret)
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update(values)
    ctx.log(record, "used by exec", f"for {os.path.basename(argv[0])}")
    from ..services import log

    log.get("cli").debug("exec: running %s with %s in its environment", os.path.basename(argv[0]),
                         ", ".join(values))
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        ctx.close()
        import signal

        # Python ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across exec:
        # give the command the defaults a shell would (as subprocess's restore_signals does).
        for name in ("SIGPIPE", "SIGXFSZ"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
        try:
            os.execve(program, argv, environment)  # never returns: the command takes this process over
        except OSError as exc:
            raise UserError(f"{argv[0]!r} cannot be run: {exc.strerror or exc}", 126) from None
    return _run_forwarding(program, argv, environment)  # Windows (tests/test_exec_forwarding.py drives it)


def _run_forwarding(program: str, argv: list[str], environment: dict[str, str]) -> int:
    """Where a process cannot replace itself (Windows): run the command as a child, hand it
    the signals this process receives, and give back its exit code."""
    import signal
    import subprocess

    child = subprocess.Popen(argv, executable=program, env=environment)
    forwarded = [s for s in ("SIGINT", "SIGTERM", "SIGBREAK", "SIGHUP") if hasattr(signal, s)]
    previous = {}
    for name in forwarded:
        number = getattr(signal, name)
        try:
            previous[number] = signal.signal(number, lambda signum, frame: child.send_signal(signum))
        except (OSError, ValueError):
            pass
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue  # the child got it too (same console); its exit code decides
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
