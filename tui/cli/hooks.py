"""`rotate --deploy-hook CMD`: hand the new key to whatever deploys it, as certbot's
--deploy-hook does.

After a successful rotation CMD runs through the shell (`sh -c`, or the platform's
shell), with the new key on its stdin — never in its arguments or environment — and
``MOMENTO_KEYS_NAME`` and ``MOMENTO_KEYS_FINGERPRINT`` in its environment. Its output goes
to stderr (stdout stays for `--json`). A failing hook does not undo the rotation: it is
reported (a warning) and recorded (an event on the new key), and `rotate` still exits 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..core.model import KeyRecord
    from .context import Context


@dataclass
class HookResult:
    command: str
    exit_code: int | None   # None: it could not be started
    problem: str = ""       # why it failed, in words ("" when it succeeded)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def to_json(self) -> dict:
        return {"command": self.command, "exit_code": self.exit_code, "ok": self.ok,
                **({"problem": self.problem} if self.problem else {})}


def run_deploy_hook(ctx: Context, record: KeyRecord, command: str) -> HookResult:
    """Run ``command`` for the rotated key ``record``; report and record the outcome."""
    import os
    import subprocess
    import sys

    from ..services import log

    secret = ctx.secret(record)
    environment = dict(os.environ, MOMENTO_KEYS_NAME=record.name, MOMENTO_KEYS_FINGERPRINT=record.fingerprint)
    sys.stdout.flush()
    sys.stderr.flush()
    log.get("cli").debug("deploy hook: running for %s", record.name)
    try:
        out: int | None = sys.stderr.fileno()  # the hook's output beside ours, never on stdout (--json)
    except (AttributeError, ValueError, OSError):
        out = None
    try:
        done = subprocess.run(command, shell=True, input=secret + "\n", text=True, env=environment,
                              stdout=out, check=False)
    except OSError as exc:
        result = HookResult(command, None, f"it could not be started: {exc.strerror or exc}")
    except KeyboardInterrupt:
        result = HookResult(command, None, "it was interrupted")
    else:
        code = done.returncode
        if code == 0:
            result = HookResult(command, 0)
        elif code < 0:
            result = HookResult(command, code, f"it was killed by signal {-code}")
        else:
            result = HookResult(command, code, f"it exited with code {code}")
    if result.ok:
        ctx.log(record, "deploy hook", f"ran: {_short(command)}")
    else:
        ctx.log(record, "deploy hook failed", f"{result.problem}: {_short(command)}")
        output.warning(f"the deploy hook failed ({result.problem}); the rotation of {record.name!r} is done all "
                       "the same: deploy the new key by hand, or run the hook again")
    return result


def _short(command: str) -> str:
    from ..core.text import one_line, redact

    return one_line(redact(command), 200)
