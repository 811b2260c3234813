"""The headless CLI, through real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_support import HEAVY_PROBE, cli_env, run_cli
from tests.conftest import console_json, make_v1, make_v2

DAY = 86400


def now() -> int:
    import time

    return int(time.time())


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(env, *args, stdin=stdin)


def assert_clean_error(p: subprocess.CompletedProcess[str]) -> None:
    assert p.returncode != 0
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout
    assert p.stderr.startswith("momento-keys: error: ") or "usage:" in p.stderr
    assert len(p.stderr.strip().splitlines()) <= 3


def test_import_from_stdin_then_list_json(env, tmp_path):
    key = make_v1(issued=now() - 12 * DAY, expires=now() + 10 * DAY)
    p = run(env, "import", "--name", "orders prod", "--type", "fine-grained", "--allow-insecure-keyring",
            "--notes", "k8s", stdin=key + "\n")
    assert p.returncode == 0, p.stderr
    assert "us-west-2" in p.stdout and "WARNING" in p.stdout
    p = run(env, "list", "--json")
    assert p.returncode == 0
    rows = json.loads(p.stdout)
    assert len(rows) == 1
    row = rows[0]
    for field in ("name", "kind", "key_type", "endpoint", "region", "provider", "expires_at", "seconds_left",
                  "status", "fingerprint", "has_refresh_token", "secret_stored"):
        assert field in row
    assert row["name"] == "orders prod" and row["kind"] == "v1" and row["key_type"] == "fine-grained"
    assert row["region"] == "us-west-2" and row["provider"] == "aws" and row["status"] == "warning"
    assert row["expires_at"].endswith("Z") and 9 * DAY < row["seconds_left"] <= 10 * DAY
    assert row["secret_stored"] is True
    assert key not in p.stdout
    # The secret is in the (file) keyring and nowhere in the database.
    assert key.encode() not in Path(env["MOMENTO_KEYS_DB"]).read_bytes()


def test_insecure_keyring_without_opt_in_tracks_metadata_only(env):
    p = run(env, "import", "--name", "a", stdin=make_v1(expires=now() + 90 * DAY))
    assert p.returncode == 5  # tracked, but the secret is not stored: a distinct exit code for scripts
    assert "secret NOT stored" in p.stderr and "allow-insecure-keyring" in p.stderr
    row = json.loads(run(env, "list", "--json").stdout)[0]
    assert row["secret_stored"] is False


def test_import_console_json_file(env, tmp_path):
    key = make_v1(expires=now() + 40 * DAY)
    f = tmp_path / "dl.json"
    f.write_text(console_json(key, str(now() + 40 * DAY), refresh="rt-123456789", key_field="authToken"))
    p = run(env, "import", "--name", "from-console", "--file", str(f), "--allow-insecure-keyring", "--json")
    assert p.returncode == 0, p.stderr
    row = json.loads(p.stdout)
    assert row["has_refresh_token"] is True and row["expiry_source"] == "console_json"
    assert "rt-123456789" not in p.stdout


@pytest.mark.parametrize("stdin, message", [
    ("", "empty"),
    ("hello world", "not a Momento"),
    ("{\"apiKey\": ", "JSON"),
    ("{\"foo\": 1}", "apiKey"),
])
def test_import_bad_input_is_one_clear_line_and_changes_nothing(env, stdin, message):
    p = run(env, "import", "--name", "x", stdin=stdin)
    assert_clean_error(p)
    assert message in p.stderr
    assert json.loads(run(env, "list", "--json").stdout) == []


def test_import_missing_file_and_directory(env, tmp_path):
    assert_clean_error(p := run(env, "import", "--name", "x", "--file", str(tmp_path / "nope.json")))
    assert "no such file" in p.stderr
    assert_clean_error(p := run(env, "import", "--name", "x", "--file", str(tmp_path)))
    assert "directory" in p.stderr


def test_import_needs_a_name_and_never_takes_the_key_from_argv(env):
    assert_clean_error(p := run(env, "import", stdin=make_v1()))
    assert "--name" in p.stderr
    p = run(env, "import", "--name", "x", "--key", make_v1())
    assert p.returncode == 2 and "unrecognized arguments" in p.stderr


def test_duplicate_import_is_refused(env):
    key = make_v1()
    assert run(env, "import", "--name", "a", stdin=key).returncode == 5  # tracked, secret not stored
    assert_clean_error(p := run(env, "import", "--name", "b", stdin=key))
    assert "already tracked as 'a'" in p.stderr


def test_check_exit_codes(env):
    p = run(env, "check")
    assert (p.returncode, p.stdout.strip()) == (0, "OK: no keys tracked")
    run(env, "import", "--name", "fine", stdin=make_v1(issued=now() - DAY, expires=now() + 60 * DAY))
    assert run(env, "check").returncode == 0
    run(env, "import", "--name", "soonish", stdin=make_v1(issued=now() - 12 * DAY, expires=now() + 10 * DAY))
    p = run(env, "check")
    assert p.returncode == 1 and "WARNING" in p.stdout and "soonish" in p.stdout
    # The thresholds can be given on the command line.
    assert run(env, "check", "--warn", "5d", "--critical", "1d").returncode == 0
    assert run(env, "check", "--warn", "90d", "--critical", "61d").returncode == 2
    run(env, "import", "--name", "v2-no-expiry", "--endpoint", "cell-1-eu-west-1-1.prod.a.momentohq.com",
        stdin=make_v2(expires=None))
    assert run(env, "check").returncode == 3
    run(env, "import", "--name", "gone", stdin=make_v1(issued=now() - 10 * DAY, expires=now() - 60))
    p = run(env, "check", "--json")
    assert p.returncode == 2
    doc = json.loads(p.stdout)
    assert doc["exit_code"] == 2 and doc["worst"] == "expired" and doc["checked"] == 4
    assert {k["name"] for k in doc["keys"]} == {"soonish", "v2-no-expiry", "gone"}


def test_check_never_expiring_is_a_warning_unless_allowed(env):
    run(env, "import", "--name", "forever", stdin=make_v1(expires=None))
    p = run(env, "check")
    assert p.returncode == 1 and "never expires" in p.stdout
    assert run(env, "check", "--allow-never").returncode == 0


@pytest.mark.parametrize("arg", ["soon", "14", "-1d", "0s"])
def test_check_bad_duration_is_unknown(env, arg):
    p = run(env, "check", f"--warn={arg}")
    assert p.returncode == 3
    assert "Traceback" not in p.stderr and "duration" in p.stderr


def test_check_corrupt_database_is_unknown_and_file_kept(env):
    db = Path(env["MOMENTO_KEYS_DB"])
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"garbage" * 1000)
    p = run(env, "check")
    assert p.returncode == 3 and "Traceback" not in p.stderr
    assert db.read_bytes() == b"garbage" * 1000


def test_inspect_prints_no_secret(env, tmp_path):
    key = make_v1(expires=now() + 5 * DAY)
    p = run(env, "inspect", stdin=key)
    assert p.returncode == 0
    assert "us-west-2" in p.stdout and "control.cell-4-us-west-2-1" in p.stdout
    p = run(env, "inspect", "--json", stdin="  \n" + key + "\n\n")
    doc = json.loads(p.stdout)
    assert doc["kind"] == "v1" and doc["region"] == "us-west-2" and doc["expiry_source"] == "jwt_exp"
    assert key not in p.stdout
    import base64

    inner = json.loads(base64.b64decode(key))["api_key"]
    assert inner.split(".")[2] not in p.stdout  # not even the JWT signature
    assert_clean_error(run(env, "inspect", stdin="nonsense"))


def test_list_human_and_empty(env):
    p = run(env, "list")
    assert p.returncode == 0 and "No keys tracked" in p.stdout
    run(env, "import", "--name", "alpha", stdin=make_v1(expires=now() + 2 * DAY))
    p = run(env, "list")
    assert "CRITICAL" in p.stdout and "alpha" in p.stdout and "STATUS" in p.stdout


def test_doctor_reports_keyring_database_and_versions(env):
    run(env, "import", "--name", "a", "--allow-insecure-keyring", stdin=make_v1())
    p = run(env, "doctor", "--json")
    doc = json.loads(p.stdout)
    assert doc["keyring"]["backend"] == "keyrings.alt.file.PlaintextKeyring"
    assert doc["keyring"]["health"] == "insecure" and doc["keyring"]["secure"] is False
    from tui.services.store import SCHEMA_VERSION

    assert doc["database"]["schema"] == SCHEMA_VERSION and doc["database"]["integrity"] == "ok"
    assert doc["database"]["mode"] == "0o600"
    assert p.returncode == 1 and any("keyring" in x for x in doc["problems"])
    p = run(env, "doctor")
    assert "INSECURE" in p.stdout and f"schema {SCHEMA_VERSION}" in p.stdout and "problem" in p.stdout


def test_doctor_null_backend(env):
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    p = run(env, "doctor")
    assert p.returncode == 1 and "BROKEN" in p.stdout


def test_db_option_and_env(env, tmp_path):
    other = tmp_path / "other.db"
    run(env, "import", "--db", str(other), "--name", "x", stdin=make_v1())
    assert other.exists()
    assert json.loads(run(env, "list", "--json").stdout) == []
    assert len(json.loads(run(env, "--db", str(other), "list", "--json").stdout)) == 1
    # A database named explicitly that does not exist is an error, never "no keys" (a typo).
    for argv, code in ((["list"], 1), (["check"], 3), (["metrics"], 3)):
        p = run(env, "--db", str(tmp_path / "typo.db"), *argv)
        assert p.returncode == code and "no database at" in p.stderr and "--db" in p.stderr, p.stderr
        assert not (tmp_path / "typo.db").exists()
    p = run(dict(env, MOMENTO_KEYS_DB=str(tmp_path / "typo.db")), "check")
    assert p.returncode == 3 and "MOMENTO_KEYS_DB" in p.stderr


def test_momento_cli_credentials_import(env, tmp_path):
    d = Path(env["MOMENTO_CONFIG_DIR"])
    d.mkdir()
    (d / "credentials").write_text(
        f"[default]\ntoken={make_v1()}\n\n[v2prof]\napi_key_v2={make_v2()}\n"
        "endpoint=cell-1-eu-west-1-1.prod.a.momentohq.com\n\n[broken]\ntoken=garbage\n"
    )
    p = run(env, "import", "--momento-cli")
    assert p.returncode == 1  # one profile failed
    assert "'broken'" in p.stderr and "Traceback" not in p.stderr
    names = {r["name"]: r for r in json.loads(run(env, "list", "--json").stdout)}
    assert set(names) == {"momento-cli default", "momento-cli v2prof"}
    assert names["momento-cli v2prof"]["region"] == "eu-west-1"


@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["check"], ["inspect"], ["doctor"], ["import", "--name", "z"]])
def test_headless_commands_import_neither_textual_nor_grpc(env, args):
    p = subprocess.run([sys.executable, "-c", HEAVY_PROBE, *args], input=make_v1(), env=env,
                       capture_output=True, text=True, timeout=60)
    assert "HEAVY=\n" in p.stderr or p.stderr.rstrip().endswith("HEAVY="), p.stderr


def test_settings_file_errors_are_clear(env, tmp_path):
    Path(env["MOMENTO_KEYS_CONFIG"]).write_text("[thresholds]\nwarning = 'soon'\n")
    p = run(env, "list")
    assert_clean_error(p)
    assert "thresholds.warning" in p.stderr


def test_settings_thresholds_apply(env):
    Path(env["MOMENTO_KEYS_CONFIG"]).write_text("[thresholds]\nwarning = '30d'\ncritical = '20d'\n")
    run(env, "import", "--name", "a", stdin=make_v1(issued=now() - 10 * DAY, expires=now() + 25 * DAY))
    assert json.loads(run(env, "list", "--json").stdout)[0]["status"] == "warning"


CRASH_DURING_IMPORT = """
import os, sys
from tui.cli import main
from tui.services import store as store_mod
store_mod.Store.add = lambda *a, **k: os._exit(9)   # killed after the keyring write, before the record
main(["import", "--name", "interrupted", "--allow-insecure-keyring"])
"""


def test_doctor_finds_and_adopts_a_secret_left_by_a_crash(env):
    key = make_v1(expires=now() + 30 * DAY)
    p = subprocess.run([sys.executable, "-c", CRASH_DURING_IMPORT], input=key, env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 9
    assert json.loads(run(env, "list", "--json").stdout) == []
    p = run(env, "doctor", "--json", "--allow-insecure-keyring")
    doc = json.loads(p.stdout)
    assert [o["name"] for o in doc["orphans"]] == ["interrupted"]
    assert any("doctor --adopt" in problem for problem in doc["problems"])
    p = run(env, "doctor", "--adopt", "--allow-insecure-keyring")
    assert "adopted 'interrupted'" in p.stdout, p.stdout + p.stderr
    [row] = json.loads(run(env, "list", "--json").stdout)
    assert row["name"] == "interrupted" and row["secret_stored"] is True
    assert json.loads(run(env, "doctor", "--json", "--allow-insecure-keyring").stdout)["orphans"] == []


def test_sigterm_is_a_clean_interrupt(env):
    import signal
    import time as _time

    proc = subprocess.Popen([sys.executable, "-m", "tui", "import", "--name", "waiting"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    _time.sleep(1.5)   # blocked reading the key from stdin
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
