"""Launch benchmark processes: apps on a pseudo-terminal, commands plainly."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS, LINES = 120, 36  # the project's usual terminal size (snapshots, screenshots)


def child_env(tmp: Path) -> dict[str, str]:
    """The environment of every measured process.

    A 24-bit colour xterm; no Textual debugging knobs; settings that cannot
    come from the user's own config or database; and compiled bytecode, as
    an installed package runs: PYTHONDONTWRITEBYTECODE is dropped and the
    .pyc files go to a private cache in the temporary directory (filled by
    the unmeasured warm-up launches), never into the source tree.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEXTUAL", "MOMENTO_KEYS_", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"))
           and k not in ("NO_COLOR", "FORCE_COLOR", "PYTHONPROFILEIMPORTTIME")}
    env.update(TERM="xterm-256color", COLORTERM="truecolor", LANG="C.UTF-8", LC_ALL="C.UTF-8",
               MOMENTO_KEYS_CONFIG=str(tmp / "no-config.toml"), PYTHONPATH=str(ROOT),
               PYTHONPYCACHEPREFIX=str(tmp / "pycache"))
    return env


@dataclass
class AppRun:
    launched_at: float     # parent's perf_counter just before the process was started
    result: dict           # what bench.child wrote
    terminal_bytes: int    # everything read from the pty, teardown included


def run_app(args: list[str], tmp: Path, timeout: float = 180.0) -> AppRun:
    """Run `python -m bench.child ARGS` on a COLUMNS x LINES pseudo-terminal."""
    fd, name = tempfile.mkstemp(dir=tmp, suffix=".json")
    os.close(fd)
    out = Path(name)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    received = [0]
    tail = bytearray()  # the end of the output, to show a traceback if the child fails

    def drain() -> None:  # a terminal that reads everything as soon as it is written
        while True:
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                return
            if not data:
                return
            received[0] += len(data)
            tail.extend(data)
            del tail[:-4000]

    # Textual writes to stderr, so all three standard streams are the terminal.
    launched_at = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bench.child", *args, "--out", str(out)],
                            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=child_env(tmp),
                            start_new_session=True)
    os.close(slave)
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = "timeout"
    reader.join(5)
    os.close(master)
    stderr = tail.decode(errors="replace")
    text = out.read_text() if out.exists() else ""
    result = json.loads(text) if text else {}
    out.unlink(missing_ok=True)
    if code != 0 or "error" in result:
        raise RuntimeError(f"bench.child {' '.join(args)} failed ({code}): "
                           f"{result.get('error', '')}\n{stderr[-3000:]}")
    return AppRun(launched_at, result, received[0])


def wall_time(argv: list[str], tmp: Path, *, ok_codes: tuple[int, ...] = (0,)) -> float:
    """Seconds from starting `argv` to its exit; output is discarded."""
    start = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          cwd=ROOT, env=child_env(tmp), timeout=120)
    elapsed = time.perf_counter() - start
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode not in ok_codes or "Traceback" in stderr or "error:" in stderr:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {stderr[-2000:]}")
    return elapsed


def imported_modules(argv: list[str], tmp: Path) -> set[str]:
    """Every module `argv` (a Python command) imports, from `python -X importtime`."""
    proc = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=child_env(tmp),
                          timeout=120)
    names = set()
    for line in proc.stderr.decode(errors="replace").splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":
                names.add(name)
    return names
