"""`exec` where a process cannot replace itself (Windows): the command runs as a child with
the key in its environment only, gets the signals this process gets, and its exit code is
passed through. Driven here on Linux through the same function Windows uses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RUNNER = """
import sys
from tui.cli.secrets import _run_forwarding
child = sys.argv[1:]
sys.exit(_run_forwarding(child[0], child, {"MOMENTO_API_KEY": "test-key-123", "PATH": "/usr/bin:/bin"}))
"""

CHILD = """
import os, signal, sys, time
out = sys.argv[1]
def stop(signum, frame):
    open(out, "a").write(f"signal {signum}\\n")
    sys.exit(3)
signal.signal(signal.SIGTERM, stop)
open(out, "a").write(f"key={os.environ.get('MOMENTO_API_KEY')} home={os.environ.get('HOME')}\\n")
if sys.argv[2] == "wait":
    time.sleep(30)
sys.exit(int(sys.argv[2]))
"""


def start(tmp_path: Path, mode: str) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "child.txt"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    parent = subprocess.Popen([sys.executable, "-c", RUNNER, sys.executable, "-c", CHILD, str(out), mode], env=env)
    return parent, out


@pytest.mark.parametrize("code", [0, 7])
def test_the_exit_code_and_only_the_given_environment_reach_the_command(tmp_path: Path, code: int):
    parent, out = start(tmp_path, str(code))
    assert parent.wait(timeout=60) == code
    assert out.read_text() == "key=test-key-123 home=None\n"


def test_a_signal_to_momento_keys_reaches_the_command(tmp_path: Path):
    parent, out = start(tmp_path, "wait")
    deadline = time.monotonic() + 30
    while not (out.exists() and out.read_text()):  # the command has started
        assert time.monotonic() < deadline and parent.poll() is None
        time.sleep(0.02)
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=30) == 3  # the command's own answer to the signal
    assert out.read_text().splitlines()[-1] == f"signal {int(signal.SIGTERM)}"
