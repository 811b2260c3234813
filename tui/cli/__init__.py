"""The command line: no command opens the dashboard; every command runs headless.

One module per group of commands, each imported only when its command runs:

    keys       import, list, inspect          check     check, metrics
    secrets    export, env, exec              momento   generate (v1), verify
    account    generate (v2), sync, revoke,   rotation  rotate, reminders, snooze,
               link                                     dismiss, notify (+ hooks: deploy hooks)
    doctor     doctor                         settings  config show
    completion completion (names: __names)    dashboard no command
    parser     the one argparse parser (args_local, args_remote declare the sub-commands)
    context    settings, store, keeper, clock, Momento, the account API: built once, each part on first use
    output     how every line is printed      rescue    a new key that was not stored: where it is
    ask        confirmations on a terminal

The headless commands import neither Textual nor the Momento SDK (only generate,
verify and rotate import grpc, when they run), so `check` starts fast enough for cron.
"""

from __future__ import annotations

import os
import sys

from ..errors import ExitCode, UserError
from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .context import Context

# command -> (module, function)
COMMANDS: dict[str | None, tuple[str, str]] = {
    "import": ("keys", "cmd_import"), "list": ("keys", "cmd_list"), "inspect": ("keys", "cmd_inspect"),
    "check": ("check", "cmd_check"), "metrics": ("check", "cmd_metrics"),
    "doctor": ("doctor", "cmd_doctor"),
    "generate": ("momento", "cmd_generate"), "verify": ("momento", "cmd_verify"),
    "export": ("secrets", "cmd_export"), "env": ("secrets", "cmd_env"),
    "rotate": ("rotation", "cmd_rotate"), "reminders": ("rotation", "cmd_reminders"),
    "snooze": ("rotation", "cmd_snooze"), "dismiss": ("rotation", "cmd_dismiss"),
    "notify": ("rotation", "cmd_notify"),
    "sync": ("account", "cmd_sync"), "revoke": ("account", "cmd_revoke"), "link": ("account", "cmd_link"),
    "exec": ("secrets", "cmd_exec"), "config": ("settings", "cmd_config"),
    "completion": ("completion", "cmd_completion"),
    None: ("dashboard", "cmd_dashboard"),
}
# The hidden command the completion scripts call for key names: read before any parsing.
NAMES = "__names"
# Commands that only read: their store is opened read-only.
READ_ONLY = ("list", "check", "metrics")
# Short-lived commands that make no reference cycles (see main).
NO_GC = ("check", "list")


def handler(command: str | None) -> Callable[[Context], int]:
    import importlib

    module, function = COMMANDS[command]
    return getattr(importlib.import_module(f"{__name__}.{module}"), function)


def _terminate_as_interrupt(signum, frame) -> None:  # pragma: no cover - signal handler
    # `kill` (SIGTERM) during generate or rotate takes the same careful path as
    # Ctrl-C: a key Momento already made is stored or rescued, not dropped.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """The command line ``argv`` (default: the process's own); returns the exit code, or raises
    SystemExit after printing an error as one line."""
    if argv is None:  # the program itself (the `momento-keys` script): the process ends after this
        try:
            return _main(sys.argv[1:])
        finally:
            # Nothing this process made needs collecting: freezing spares the collection
            # at exit a walk over every object (modules, rows), a few ms of a `check` run.
            import gc

            gc.freeze()
    return _main(list(argv))


def _main(argv: list[str]) -> int:
    if argv[:1] == [NAMES]:
        from .names import names

        return names(argv[1:])
    from .parser import UNKNOWN_ON_ERROR, parse, undecodable_argument

    args = parse(argv)
    command = args.command
    if getattr(args, "debug", False) or os.environ.get("MOMENTO_KEYS_DEBUG"):
        _debug(args)
    # `check` and `verify` promise 3 for any error (monitoring reads their codes as verdicts).
    failure = ExitCode.UNKNOWN if command in UNKNOWN_ON_ERROR else None
    unreadable = undecodable_argument(args)
    if unreadable:
        output.error(f"argument {unreadable}: not valid text (it holds bytes that are not UTF-8); type it again")
        raise SystemExit(failure or ExitCode.USAGE)
    from .context import Context

    readonly = command in READ_ONLY or (command is None and args.readonly)
    run = handler(command)
    ctx = Context(args, readonly=readonly)
    import gc

    # `check` and `list` are short-lived and make no reference cycles: the cyclic
    # collector's passes over the freshly imported modules and the rows would cost
    # cron a few milliseconds. (Turned back on after, for callers in the same process.)
    pause_gc = command in NO_GC and gc.isenabled()
    if pause_gc:
        gc.disable()
    # SIGTERM during generate or rotate must end like Ctrl-C; `check` and `list` change nothing
    # (and skip the signal module), and the dashboard keeps Textual's handling.
    if command is not None and command not in NO_GC:
        _sigterm_as_interrupt()
    try:
        code = run(ctx)
        _logged(command, code)
        return code
    except UserError as exc:
        _logged(command, exc.code)
        output.error(exc.message)
        raise SystemExit(_code(exc.code, failure)) from None
    except KeyboardInterrupt:
        output.error("interrupted")
        raise SystemExit(ExitCode.INTERRUPTED) from None
    except BrokenPipeError:
        # `momento-keys list | head`: the reader went away; not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitCode.OK
    except Exception as exc:
        # Failures of the store, keyring or keeper are user errors with a
        # message already written for people: no traceback for those.
        from ..services.doctor import explain_store_error
        from ..services.keeper import KeeperError
        from ..services.store import StoreError
        from ..services.vault import VaultError

        if isinstance(exc, (StoreError, VaultError, KeeperError)):
            output.error(explain_store_error(exc))
            raise SystemExit(failure or ExitCode.ERROR) from None
        raise
    finally:
        if pause_gc:
            gc.enable()


def _debug(args) -> None:
    """``--debug`` or MOMENTO_KEYS_DEBUG: the debug log on stderr (the dashboard, which owns the
    terminal, writes it to its log file instead: tui.cli.dashboard)."""
    from ..services import log

    if not log.debug_requested(bool(getattr(args, "debug", False))):
        return
    args.debug = True
    if args.command is not None:
        log.configure(stream=sys.stderr)
        log.get("cli").debug("%s %s: started", output.PROG, args.command)


def _logged(command: str | None, code: int) -> None:
    if "logging" in sys.modules:  # only when the debug log may be on: never an import for `check`
        from ..services import log

        log.get("cli").debug("%s %s: exit code %d", output.PROG, command or "(dashboard)", int(code))


def _code(code: int, failure: ExitCode | None) -> int:
    if failure is not None and code != ExitCode.INTERRUPTED:
        return failure
    return code


def _sigterm_as_interrupt() -> None:
    import signal

    try:
        signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    except ValueError:  # not the main thread (a test calling main from a worker)
        pass


__all__ = ["COMMANDS", "main"]
