"""Running the real CLI in a subprocess, isolated from the user's machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Run inside the CLI process: reports which heavy modules a command imported.
HEAVY_PROBE = """
import sys
from tui.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(m for m in ("textual", "grpc", "momento", "momento_wire_types") if m in sys.modules)
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: a temporary database, settings and a real, file-backed
    keyring (keyrings.alt's plaintext one: insecure by design, so storing needs
    --allow-insecure-keyring)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOMENTO", "PYTHON_KEYRING"))}
    env.update({
        "MOMENTO_KEYS_DB": str(tmp_path / "data" / "cli.db"),
        "MOMENTO_KEYS_CONFIG": str(tmp_path / "config.toml"),
        "MOMENTO_CONFIG_DIR": str(tmp_path / "momento-cli"),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "TZ": "UTC",
    })
    env.update(extra)
    # The database the tests' environment names exists, empty, as the default location would
    # after a first run: an explicitly named database that does not exist is an error for the
    # commands that only read (a mistyped MOMENTO_KEYS_DB must never read as "no keys").
    from tui.services.store import Store

    if "MOMENTO_KEYS_DB" not in extra:
        Store(env["MOMENTO_KEYS_DB"]).close()
    return env


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None,
            timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=timeout)


def rows(env: dict[str, str]) -> dict[str, dict]:
    """Every record `list --json --all` shows, by name."""
    import json

    p = run_cli(env, "list", "--json", "--all")
    assert p.returncode == 0, p.stderr
    return {r["name"]: r for r in json.loads(p.stdout)}


def events(env: dict[str, str], name: str) -> list[tuple[str, str]]:
    """A record's event log, newest first, read from the database the environment names."""
    from tui.services.store import Store

    store = Store(env["MOMENTO_KEYS_DB"], readonly=True)
    try:
        record = store.find(name)
        assert record is not None and record.id is not None
        return [(e.action, e.detail) for e in store.events(record.id)]
    finally:
        store.close()


def run_main(*argv: str) -> tuple[int, str]:
    """The CLI run in this process (``tui.cli.main``): its exit code and what it printed."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from tui import cli

    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue()
