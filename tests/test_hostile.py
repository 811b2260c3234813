"""One sweep of hostile text through every CLI command that prints user or key text: names
that look like Textual markup, wide characters, and notes, tags and JWT claims carrying
terminal escape sequences. Nothing may reach the terminal as a control character, nothing may
crash, and JSON must round-trip the text exactly. (The dashboard's side of the same sweep is
tests/test_app_seam.py.)"""

from __future__ import annotations

import json
import time

import pytest

from tests.cli_support import cli_env, run_cli
from tests.conftest import make_v1

NAMES = ["ci token [/]", "[@click=app.quit]x", "[staging] payments", "漢字キー 🔑 wide"]
ESCAPES = "\x1b[2J\x1b]52;c;QUFBQQ==\x07\x9b31m\x1bP+q\x1b\\"
CONTROL = ("\x1b", "\x07", "\x9b", "\x9d", "\x90")

pytestmark = pytest.mark.slow


def clean(text: str) -> bool:
    return not any(c in text for c in CONTROL)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    env = cli_env(tmp)
    now = int(time.time())
    for i, name in enumerate(NAMES):
        key = make_v1(sub=f"user{ESCAPES}{i}", expires=now + (2 + i) * 86400)
        p = run_cli(env, "import", "--name", name, "--notes", f"notes {ESCAPES} for {name}",
                    "--tags", f"t{i} {ESCAPES}", stdin=key)
        assert p.returncode in (0, 5), p.stderr  # tracked (this keyring is insecure: metadata only)
        assert clean(p.stdout) and clean(p.stderr) and "Traceback" not in p.stderr
    return env


@pytest.mark.parametrize("argv", [
    ["list"], ["list", "--all"], ["check"], ["check", "-v"], ["reminders"], ["reminders", "--all"],
    ["metrics"], ["doctor"], ["inspect", "NAME"], ["export", "NAME", "--stdout"], ["env", "NAME", "--stdout"],
    ["verify", "NAME"], ["rotate", "NAME"], ["snooze", "NAME", "1d"], ["dismiss", "NAME"], ["notify", "--stdout"],
    ["exec", "NAME", "--", "true"], ["revoke", "NAME", "--yes"], ["link", "NAME", "key-1"],
    ["rotate", "--finish", "NAME", "--yes"], ["sync", "--using", "NAME"], ["config", "show"], ["__names"],
    ["generate", "--role", "Owner", "--using", "NAME", "--name", "new", "--expires", "1d"],
    ["env", "NAME", "--shell", "powershell", "--stdout"], ["export", "NAME", "--format", "lambda", "--stdout"],
])
@pytest.mark.parametrize("name", NAMES)
def test_every_command_prints_hostile_text_as_inert_text(env, argv, name) -> None:
    argv = [name if a == "NAME" else a for a in argv]
    p = run_cli(env, *argv, timeout=60)
    assert "Traceback" not in p.stderr, p.stderr
    assert clean(p.stdout), repr(p.stdout[:300])
    assert clean(p.stderr), repr(p.stderr[:300])
    assert p.returncode in (0, 1, 2, 3, 5), (p.returncode, p.stderr)


def test_json_keeps_the_text_exactly(env) -> None:
    p = run_cli(env, "list", "--json")
    assert p.returncode == 0 and clean(p.stdout)  # json escapes control characters
    rows = json.loads(p.stdout)
    assert sorted(r["name"] for r in rows) == sorted(NAMES)
    assert all(ESCAPES in r["notes"] for r in rows)


def test_names_with_control_characters_are_refused(env) -> None:
    for bad in ("evil\x1b[2J", "bell\x07", "csi\x9b1m", "line\u2028sep", "\u202eevil rtl"):
        p = run_cli(env, "import", "--name", bad, stdin=make_v1())
        assert p.returncode in (1, 2) and "Traceback" not in p.stderr and clean(p.stderr), p.stderr


def test_a_secret_pasted_where_a_name_belongs_is_never_echoed(env) -> None:
    """`export <a key pasted by mistake>`: the "no key named …" message redacts it, as usage
    errors do."""
    key = make_v1()
    for argv in (["export", key, "--stdout"], ["inspect", key], ["rotate", key], ["env", key, "--stdout"]):
        p = run_cli(env, *argv)
        assert p.returncode != 0 and "Traceback" not in p.stderr
        assert key not in p.stdout + p.stderr
        inner = key[20:60]
        assert inner not in p.stdout + p.stderr, p.stderr
