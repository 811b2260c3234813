"""The CLI commands that use stored secrets (generate, verify, export, env),
through real subprocesses, against the fake Momento server (a real gRPC server).
"""

from __future__ import annotations

import base64
import json
import os
import pty
import select
import socket
import stat
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import grpc
import pytest
from momento_wire_types.generated import permissionmessages_pb2 as perm_pb2

from tests.cli_support import HEAVY_PROBE, cli_env, events, rows, run_cli
from tests.conftest import make_v1
from tests.fake_momento import DEFAULT_CELL, FakeMomento
from tui.core.keys import inspect_text
from tui.services.store import Store

DAY = 86400
HOUR = 3600
PT = perm_pb2.PermissionsType
ERROR = "momento-keys: error: "


@pytest.fixture
def env(tmp_path: Path, fake_momento: FakeMomento) -> dict[str, str]:
    return cli_env(tmp_path, HOME=str(tmp_path / "home"), MOMENTO_KEYS_ENDPOINT_OVERRIDE=fake_momento.override)


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(env, *args, stdin=stdin)


def run_tty(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run with stdout on a pseudo-terminal; returns (exit code, what the terminal showed)."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "tui", *args], stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=slave, env=env)
        os.close(slave)
        chunks: list[bytes] = []
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
    return code, b"".join(chunks).decode(errors="replace")


def error_lines(p: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in p.stderr.splitlines() if not line.startswith("momento-keys: note:")]


def assert_clean_error(p: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout
    lines = error_lines(p)
    assert len(lines) == 1 and lines[0].startswith(ERROR), p.stderr
    return lines[0]


def inner(v1_key: str) -> str:
    return json.loads(base64.b64decode(v1_key))["api_key"]






def add_superuser(env: dict[str, str], server: FakeMomento, name: str = "admin") -> None:
    p = run(env, "import", "--name", name, "--type", "super-user", "--allow-insecure-keyring",
            stdin=server.superuser_key())
    assert p.returncode == 0, p.stderr


def generate(env: dict[str, str], *args: str, using: str = "admin") -> subprocess.CompletedProcess[str]:
    return run(env, "generate", "--using", using, "--allow-insecure-keyring", *args)


def all_secrets(server: FakeMomento) -> list[str]:
    """Every secret the fake has issued: raw JWTs, their v1 wrappings, refresh tokens."""
    found = [server.superuser_key(), server.superuser_jwt]
    for _, request, _ in list(server.requests):
        for attr in ("auth_token", "api_key", "refresh_token"):
            value = getattr(request, attr, "")
            if value:
                found.append(value)
    with server._state.lock:
        for token, issued in server._state.tokens.items():
            found.append(token)
            if issued.refresh_token:
                found.append(issued.refresh_token)
    return found


def assert_no_secrets(server: FakeMomento, *texts: str) -> None:
    for secret in all_secrets(server):
        for text in texts:
            assert secret not in text


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- generate: the happy paths ---------------------------------------------------------


def test_generate_fine_grained_key_sends_grants_and_expiry_and_stores_it(env, fake_momento):
    add_superuser(env, fake_momento)
    p = generate(env, "--name", "orders api", "--expires", "30d", "--cache", "orders=readwrite",
                 "--cache", "*=readonly", "--topic", "orders/events=publishonly", "--tags", "prod, k8s")
    assert p.returncode == 0, p.stderr
    assert "generated 'orders api'" in p.stdout and "fine-grained API key" in p.stdout
    assert "us-west-2" in p.stdout and "(29d 23h left)" in p.stdout and "in the keyring" in p.stdout
    assert "refresh token" in p.stdout
    assert "read-write on cache 'orders'" in p.stdout

    [(request, metadata)] = fake_momento.calls("GenerateApiToken")
    assert request.auth_token == fake_momento.superuser_jwt == metadata["authorization"]
    assert request.WhichOneof("expiry") == "expires" and request.expires.valid_for_seconds == 30 * DAY
    perms = request.permissions.explicit.permissions
    assert len(perms) == 3
    assert perms[0].cache_permissions.role == perm_pb2.CacheReadWrite
    assert perms[0].cache_permissions.cache_selector.cache_name == "orders"
    assert perms[1].cache_permissions.role == perm_pb2.CacheReadOnly
    assert perms[1].cache_permissions.WhichOneof("cache") == "all_caches"
    topic = perms[2].topic_permissions
    assert topic.role == perm_pb2.TopicWriteOnly
    assert topic.cache_selector.cache_name == "orders" and topic.topic_selector.topic_name == "events"

    row = rows(env)["orders api"]
    assert row["kind"] == "v1" and row["key_type"] == "fine-grained"
    assert row["secret_stored"] is True and row["has_refresh_token"] is True
    assert row["expiry_source"] == "valid_until" and 30 * DAY - 60 < row["seconds_left"] <= 30 * DAY
    assert row["region"] == "us-west-2" and row["tags"] == ["prod", "k8s"]
    store = Store(env["MOMENTO_KEYS_DB"], readonly=True)
    record = store.find("orders api")
    store.close()
    assert record is not None and record.source == "generated"
    assert record.permissions == [
        {"kind": "cache", "cache": "orders", "topic": None, "role": "readwrite"},
        {"kind": "cache", "cache": "*", "topic": None, "role": "readonly"},
        {"kind": "topic", "cache": "orders", "topic": "events", "role": "publishonly"},
    ]
    # The acting key's use is logged; the new key's secret is nowhere in the output or the database.
    assert ("used to generate", "") in events(env, "admin")
    assert_no_secrets(fake_momento, p.stdout, p.stderr)
    db = Path(env["MOMENTO_KEYS_DB"]).read_bytes()
    for secret in all_secrets(fake_momento):
        assert secret.encode() not in db


def test_generate_json_prints_the_record_and_no_secret(env, fake_momento):
    add_superuser(env, fake_momento)
    p = generate(env, "--name", "svc", "--expires", "12h", "--all-data", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["name"] == "svc" and doc["key_type"] == "fine-grained" and doc["kind"] == "v1"
    assert doc["has_refresh_token"] is True and 12 * HOUR - 60 < doc["seconds_left"] <= 12 * HOUR
    [(request, _)] = fake_momento.calls("GenerateApiToken")
    perms = request.permissions.explicit.permissions
    assert [p_.WhichOneof("kind") for p_ in perms] == ["cache_permissions", "topic_permissions"]
    assert perms[0].cache_permissions.role == perm_pb2.CacheReadWrite
    assert perms[0].cache_permissions.WhichOneof("cache") == "all_caches"
    assert perms[1].topic_permissions.role == perm_pb2.TopicReadWrite
    assert perms[1].topic_permissions.WhichOneof("topic") == "all_topics"
    assert_no_secrets(fake_momento, p.stdout, p.stderr)


def test_generate_until_a_date_lasts_until_the_end_of_that_local_day(env, fake_momento):
    add_superuser(env, fake_momento)
    day = date.today() + timedelta(days=10)
    before = time.time()
    p = generate(env, "--name", "dated", "--expires", day.isoformat(), "--cache", "c=readonly")
    assert p.returncode == 0, p.stderr
    [(request, _)] = fake_momento.calls("GenerateApiToken")
    end = datetime.combine(day, dtime(23, 59, 59)).timestamp()  # TZ=UTC here and in the child
    assert end - time.time() - 2 <= request.expires.valid_for_seconds <= end - before + 1


def test_generate_never_needs_yes_never_and_warns(env, fake_momento):
    add_superuser(env, fake_momento)
    p = generate(env, "--name", "forever", "--expires", "never", "--cache", "c=readwrite")
    line = assert_clean_error(p)
    assert "--yes-never" in line and "advises against" in line
    assert fake_momento.requests == []

    p = generate(env, "--name", "forever", "--expires", "never", "--yes-never", "--cache", "c=readwrite")
    assert p.returncode == 0, p.stderr
    assert "Momento advises against keys that never expire" in p.stderr
    assert "never expires" in p.stdout
    [(request, _)] = fake_momento.calls("GenerateApiToken")
    assert request.WhichOneof("expiry") == "never"
    row = rows(env)["forever"]
    assert row["expires_at"] is None and row["status"] == "never-expires" and row["has_refresh_token"] is False


def test_generate_disposable_token(env, fake_momento):
    add_superuser(env, fake_momento)
    p = generate(env, "--name", "tmp", "--disposable", "--expires", "2h", "--topic", "*/*=subscribeonly")
    assert p.returncode == 0, p.stderr
    assert "disposable token" in p.stdout
    assert fake_momento.calls("GenerateApiToken") == []
    [(request, metadata)] = fake_momento.calls("GenerateDisposableToken")
    assert metadata["authorization"] == fake_momento.superuser_jwt
    assert request.expires.valid_for_seconds == 2 * HOUR
    [perm] = request.permissions.explicit.permissions
    assert perm.topic_permissions.role == perm_pb2.TopicReadOnly
    row = rows(env)["tmp"]
    assert row["kind"] == "disposable" and row["key_type"] == "fine-grained"
    assert row["has_refresh_token"] is False and row["secret_stored"] is True
    assert 2 * HOUR - 60 < row["seconds_left"] <= 2 * HOUR
    assert_no_secrets(fake_momento, p.stdout, p.stderr)


def test_generate_disposable_of_exactly_25_hours_is_allowed(env, fake_momento):
    add_superuser(env, fake_momento)
    p = generate(env, "--name", "tmp", "--disposable", "--expires", "25h", "--cache", "c=readonly")
    assert p.returncode == 0, p.stderr
    [(request, _)] = fake_momento.calls("GenerateDisposableToken")
    assert request.expires.valid_for_seconds == 25 * HOUR


def test_endpoint_override_option_wins_over_the_environment(env, fake_momento):
    add_superuser(env, fake_momento)
    env["MOMENTO_KEYS_ENDPOINT_OVERRIDE"] = f"127.0.0.1:{closed_port()}"
    p = generate(env, "--endpoint-override", fake_momento.override, "--name", "x", "--expires", "1d",
                 "--cache", "c=readonly")
    assert p.returncode == 0, p.stderr
    assert f"momento-keys: note: Momento calls go to {fake_momento.override} in plaintext" in p.stderr
    assert len(fake_momento.calls("GenerateApiToken")) == 1


# --- generate: validation before any network call -------------------------------------------


@pytest.mark.parametrize("args, needle", [
    (["--expires", "30d"], "--all-data"),  # no permissions at all
    (["--expires", "30d", "--cache", "c=admin"], "Unknown cache role"),
    (["--expires", "30d", "--cache", "c"], "CACHE=ROLE"),
    (["--expires", "30d", "--cache", "bad name=readonly"], "whitespace"),
    (["--expires", "30d", "--topic", "c=publishonly"], "CACHE/TOPIC=ROLE"),
    (["--expires", "30d", "--topic", "c/t=readwrite"], "Unknown topic role"),
    (["--expires", "30d", "--cache", "c=readonly", "--cache", "c=readonly"], "listed twice"),
    (["--expires", "30d", *[arg for i in range(11) for arg in ("--cache", f"c{i}=readonly")]], "at most 10"),
    (["--expires", "30d", "--all-data", "--cache", "c=readonly"], "either --all-data"),
    (["--expires", "soon", "--all-data"], "not a duration"),
    (["--expires", "0s", "--all-data"], "longer than zero"),
    (["--expires", "2020-01-01", "--all-data"], "in the past"),
    (["--expires", "2027-02-30", "--all-data"], "not a real date"),
    (["--expires", "2200-01-01", "--all-data"], "too far away"),
    (["--expires", "never", "--all-data"], "--yes-never"),
    (["--expires", "26h", "--disposable", "--all-data"], "25 hours (the Momento service's limit)"),
    (["--expires", "2d", "--disposable", "--all-data"], "25 hours"),
    (["--expires", "never", "--yes-never", "--disposable", "--all-data"], "must expire"),
    (["--expires", "1d", "--all-data", "--name", "   "], "needs a name"),
    (["--expires", "1d", "--all-data", "--using", "nobody"], "no key named 'nobody'"),
    (["--expires", "1d", "--all-data", "--using", "admn"], "did you mean 'admin'"),
    (["--expires", "1d", "--all-data", "--name", "admin"], "already tracked"),
    (["--expires", "1d", "--all-data", "--endpoint-override", "nonsense"], "HOST:PORT"),
    (["--expires", "1d", "--all-data", "--endpoint-override", "localhost:443"], "other than 443"),
])
def test_generate_bad_arguments_fail_before_any_call(env, fake_momento, args, needle):
    add_superuser(env, fake_momento)
    full = ["--name", "new", *args]  # a later --name/--using wins in argparse
    p = generate(env, *full)
    line = assert_clean_error(p, 1)
    assert needle in line, line
    assert fake_momento.requests == []
    assert set(rows(env)) == {"admin"}
    assert_no_secrets(fake_momento, p.stdout, p.stderr)


@pytest.mark.parametrize("args", [
    ["--expires", "1d", "--all-data"],                 # no --name
    ["--name", "x", "--all-data"],                     # no --expires
    ["--name", "x", "--expires", "1d", "--all-data", "--timeout", "0"],
    ["--name", "x", "--expires", "1d", "--all-data", "--key", "abc"],
])
def test_generate_usage_errors_exit_2(env, fake_momento, args):
    add_superuser(env, fake_momento)
    p = generate(env, *args)
    assert p.returncode == 2 and "usage:" in p.stderr and "Traceback" not in p.stderr
    assert fake_momento.requests == []


def test_generate_with_a_metadata_only_acting_key_fails_before_any_call(env, fake_momento):
    p = run(env, "import", "--name", "admin", "--type", "super-user", stdin=fake_momento.superuser_key())
    assert p.returncode == 5 and "secret NOT stored" in p.stderr
    line = assert_clean_error(generate(env, "--name", "new", "--expires", "1d", "--all-data"))
    assert "no secret is stored for 'admin'" in line
    assert fake_momento.requests == []


def test_generate_refuses_before_any_call_when_the_new_key_could_not_be_stored(env, fake_momento):
    add_superuser(env, fake_momento)
    # Reading the acting key works in the plaintext keyring, but storing needs the opt-in.
    p = run(env, "generate", "--using", "admin", "--name", "new", "--expires", "1d", "--all-data")
    line = assert_clean_error(p)
    assert "could not be stored" in line and "--allow-insecure-keyring" in line
    assert "nothing was generated" in line
    assert fake_momento.requests == []
    assert set(rows(env)) == {"admin"}


# --- generate: Momento says no ------------------------------------------------------------


def test_generate_with_a_fine_grained_acting_key_explains_a_super_user_key_is_needed(env, fake_momento):
    key, _ = fake_momento.issue_key(valid_for_seconds=DAY)
    assert run(env, "import", "--name", "worker", "--type", "fine-grained", "--allow-insecure-keyring",
               stdin=key).returncode == 0
    p = generate(env, "--name", "new", "--expires", "1d", "--all-data", using="worker")
    assert "warning: 'worker' is recorded as fine-grained, not super-user" in p.stderr
    assert p.returncode == 1 and "Traceback" not in p.stderr
    [line] = [x for x in p.stderr.splitlines() if x.startswith(ERROR)]
    assert "PERMISSION_DENIED" in line and "a super-user key is needed" in line and "--type super-user" in line
    assert len(fake_momento.calls("GenerateApiToken")) == 1
    assert set(rows(env)) == {"worker"}
    assert key not in p.stderr and inner(key) not in p.stderr


@pytest.mark.parametrize("code, exit_code, needles", [
    (grpc.StatusCode.PERMISSION_DENIED, 1, ["may not create API keys", "super-user key is needed"]),
    (grpc.StatusCode.UNAUTHENTICATED, 1, ["rejected 'admin'", "expired, revoked"]),
    (grpc.StatusCode.UNAVAILABLE, 3, ["could not be reached", "may have been created anyway", "Nothing was stored"]),
    (grpc.StatusCode.INVALID_ARGUMENT, 1, ["refused the request as invalid", "Nothing was generated"]),
])
def test_generate_server_faults_are_clear_and_store_nothing(env, fake_momento, code, exit_code, needles):
    add_superuser(env, fake_momento)
    fake_momento.fail_next("GenerateApiToken", code, details=f"boom {fake_momento.superuser_jwt}")
    p = generate(env, "--name", "new", "--expires", "1d", "--all-data")
    line = assert_clean_error(p, exit_code)
    for needle in needles:
        assert needle in line, line
    # A request that reached the server is never repeated (it could make a second key).
    assert len(fake_momento.calls("GenerateApiToken")) == 1
    assert set(rows(env)) == {"admin"}
    assert_no_secrets(fake_momento, p.stdout, p.stderr)


def test_generate_disposable_retries_a_lost_answer(env, fake_momento):
    add_superuser(env, fake_momento)
    fake_momento.fail_next("GenerateDisposableToken", grpc.StatusCode.UNAVAILABLE)
    p = generate(env, "--name", "tmp", "--disposable", "--expires", "1h", "--all-data")
    assert p.returncode == 0, p.stderr
    assert len(fake_momento.calls("GenerateDisposableToken")) == 2
    assert "tmp" in rows(env)


def test_generate_with_momento_unreachable_is_exit_3(env, fake_momento):
    add_superuser(env, fake_momento)
    env["MOMENTO_KEYS_ENDPOINT_OVERRIDE"] = f"127.0.0.1:{closed_port()}"
    p = generate(env, "--name", "new", "--expires", "1d", "--all-data", "--timeout", "2")
    line = assert_clean_error(p, 3)
    assert "could not be reached" in line and "try again later" in line
    assert set(rows(env)) == {"admin"}


def test_generate_bad_response_is_outcome_unknown(env, fake_momento):
    add_superuser(env, fake_momento)
    fake_momento.bad_response("GenerateApiToken")
    line = assert_clean_error(generate(env, "--name", "new", "--expires", "1d", "--all-data"), 3)
    assert "check the Momento console" in line
    assert set(rows(env)) == {"admin"}


# --- generate: storing fails after Momento made the key -> rescue file ----------------------

REFUSING_BACKEND = '''
from keyring.errors import PasswordSetError
from keyrings.alt.file import PlaintextKeyring


class RefusingKeyring(PlaintextKeyring):
    """Reads like the plaintext keyring and passes the probe, but refuses to store real keys."""

    def set_password(self, service, username, password):
        if username.startswith("__probe__"):
            return super().set_password(service, username, password)
        raise PasswordSetError("the keyring is locked (test)")
'''


def refusing_keyring_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """``env`` with a keyring backend that passes the probe but refuses to store a key."""
    module_dir = tmp_path / "backend"
    module_dir.mkdir()
    (module_dir / "refusing_keyring.py").write_text(REFUSING_BACKEND)
    return dict(env, PYTHONPATH=str(module_dir), PYTHON_KEYRING_BACKEND="refusing_keyring.RefusingKeyring")


def test_generate_rescues_a_key_that_could_not_be_stored(env, fake_momento, tmp_path):
    add_superuser(env, fake_momento)
    failing = refusing_keyring_env(env, tmp_path)

    p = generate(failing, "--name", "orders prod", "--expires", "7d", "--cache", "orders=readwrite")
    assert p.returncode == 4, p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
    lines = p.stderr.splitlines()
    assert any(x.startswith(ERROR) and "Momento made 'orders prod' but it could not be stored: the keyring "
               "refused the " in x for x in lines)  # (the refresh token is written first, then the key)
    rescue_dir = Path(env["MOMENTO_KEYS_DB"]).parent / "rescue"
    [path] = list(rescue_dir.iterdir())
    assert str(path) in p.stderr and "mode 0600" in p.stderr
    assert f"momento-keys import --name 'orders prod' --type fine-grained --file {path}" in p.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(rescue_dir.stat().st_mode) == 0o700
    assert_no_secrets(fake_momento, p.stdout, p.stderr)
    # Nothing was tracked, and the key in the file is the one Momento made.
    assert set(rows(env)) == {"admin"}
    doc = json.loads(path.read_text())
    assert set(doc) == {"apiKey", "refreshToken", "validUntil", "endpoint"}
    issued = fake_momento.token_info(inner(doc["apiKey"]))
    assert issued is not None and issued.refresh_token == doc["refreshToken"]
    assert doc["validUntil"] == issued.expires_at and doc["endpoint"] == DEFAULT_CELL
    assert inspect_text(path.read_text()).refresh_token == doc["refreshToken"]

    # The rescue file imports as the generated key it is, and works.
    p = run(env, "import", "--name", "orders prod", "--type", "fine-grained", "--file", str(path),
            "--allow-insecure-keyring", "--json")
    assert p.returncode == 0, p.stderr
    row = json.loads(p.stdout)
    assert row["has_refresh_token"] is True and row["secret_stored"] is True
    assert row["expiry_source"] == "console_json"
    p = run(env, "verify", "orders prod")
    assert p.returncode == 0 and "valid, restricted" in p.stdout


def test_two_rescues_of_the_same_name_do_not_overwrite_each_other(env, fake_momento, tmp_path):
    add_superuser(env, fake_momento)
    failing = refusing_keyring_env(env, tmp_path)
    for _ in range(2):
        assert generate(failing, "--name", "x", "--expires", "1h", "--disposable", "--all-data").returncode == 4
    files = sorted((Path(env["MOMENTO_KEYS_DB"]).parent / "rescue").iterdir())
    assert len(files) == 2
    assert len({json.loads(f.read_text())["apiKey"] for f in files}) == 2


# --- verify ---------------------------------------------------------------------------------


def test_verify_super_user_key_is_valid(env, fake_momento):
    add_superuser(env, fake_momento)
    p = run(env, "verify", "admin")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("admin: valid") and "1 cache" in p.stdout
    [(_, metadata)] = fake_momento.calls("ListCaches")
    assert metadata["authorization"] == fake_momento.superuser_jwt
    assert ("verified", "valid") in events(env, "admin")
    p = run(env, "verify", "admin", "--json")
    assert p.returncode == 0
    doc = json.loads(p.stdout)
    assert doc["name"] == "admin" and doc["status"] == "valid" and set(doc) == {"name", "status", "message"}
    assert_no_secrets(fake_momento, p.stdout, p.stderr)


def test_verify_generated_fine_grained_key_and_token_are_restricted(env, fake_momento):
    add_superuser(env, fake_momento)
    assert generate(env, "--name", "svc", "--expires", "1d", "--all-data").returncode == 0
    assert generate(env, "--name", "tok", "--disposable", "--expires", "1h", "--all-data").returncode == 0
    for name in ("svc", "tok"):
        p = run(env, "verify", name)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == (f"{name}: valid, restricted: this key authenticated but may not list "
                                    "caches — expected for fine-grained keys and tokens")
        doc = json.loads(run(env, "verify", name, "--json").stdout)
        assert doc["status"] == "restricted" and "expected for fine-grained keys" in doc["message"]
        assert ("verified", "restricted") in events(env, name)


def test_verify_forged_key_is_invalid_exit_2(env, fake_momento):
    assert run(env, "import", "--name", "forged", "--allow-insecure-keyring",
               stdin=make_v1(endpoint=DEFAULT_CELL, expires=int(time.time()) + DAY)).returncode == 0
    p = run(env, "verify", "forged")
    assert p.returncode == 2, p.stderr
    assert "forged: INVALID" in p.stdout and "rejected" in p.stdout
    assert json.loads(run(env, "verify", "forged", "--json").stdout)["status"] == "invalid"
    assert ("verified", "invalid") in events(env, "forged")


def test_verify_expired_generated_key_is_invalid(env, fake_momento):
    add_superuser(env, fake_momento)
    assert generate(env, "--name", "svc", "--expires", "1h", "--all-data").returncode == 0
    later = time.time() + 2 * HOUR
    fake_momento.clock = lambda: later
    p = run(env, "verify", "svc")
    assert p.returncode == 2 and "INVALID" in p.stdout


def test_verify_unreachable_is_unknown_exit_3(env, fake_momento):
    add_superuser(env, fake_momento)
    p = run(env, "verify", "admin", "--endpoint-override", f"127.0.0.1:{closed_port()}", "--timeout", "2")
    assert p.returncode == 3, p.stderr
    assert "admin: UNKNOWN" in p.stdout and "Traceback" not in p.stderr
    assert ("verified", "unknown") in events(env, "admin")
    assert_no_secrets(fake_momento, p.stdout, p.stderr)


@pytest.mark.parametrize("args", [["nobody"], [], ["admin", "--timeout", "x"], ["admin", "--bogus"]])
def test_verify_errors_are_unknown_exit_3(env, fake_momento, args):
    add_superuser(env, fake_momento)
    p = run(env, "verify", *args)
    assert p.returncode == 3, p.stderr
    assert "Traceback" not in p.stderr
    assert fake_momento.requests == []


def test_verify_metadata_only_key_is_unknown(env, fake_momento):
    assert run(env, "import", "--name", "meta", stdin=fake_momento.superuser_key()).returncode == 5
    line = assert_clean_error(run(env, "verify", "meta"), 3)
    assert "no secret is stored" in line


# --- export ----------------------------------------------------------------------------------


def test_export_writes_console_json_0600_and_refuses_to_overwrite(env, fake_momento, tmp_path):
    add_superuser(env, fake_momento)
    assert generate(env, "--name", "svc", "--expires", "30d", "--cache", "c=readwrite").returncode == 0
    out = tmp_path / "out" / "svc.json"
    out.parent.mkdir()
    p = run(env, "export", "svc", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and str(out) in p.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [f.name for f in out.parent.iterdir()] == ["svc.json"]  # no temporary file left
    doc = json.loads(out.read_text())
    assert set(doc) == {"apiKey", "refreshToken", "validUntil", "endpoint"}
    issued = fake_momento.token_info(inner(doc["apiKey"]))
    assert issued is not None and doc["refreshToken"] == issued.refresh_token
    assert isinstance(doc["validUntil"], int) and doc["validUntil"] == issued.expires_at
    assert doc["endpoint"] == DEFAULT_CELL
    inspection = inspect_text(out.read_text())
    assert inspection.fingerprint == rows(env)["svc"]["fingerprint"]
    assert inspection.expires_at == issued.expires_at
    assert any(action == "exported" and str(out) in detail for action, detail in events(env, "svc"))

    before = out.read_bytes()
    line = assert_clean_error(run(env, "export", "admin", "--out", str(out)))
    assert "already exists" in line and "--force" in line
    assert out.read_bytes() == before

    out.chmod(0o644)
    p = run(env, "export", "admin", "--out", str(out), "--force")
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(out.read_text())
    assert doc == {"apiKey": fake_momento.superuser_key(), "validUntil": 0, "endpoint": DEFAULT_CELL}
    assert [f.name for f in out.parent.iterdir()] == ["svc.json"]


def test_export_to_a_pipe_and_never_expiring_key(env, fake_momento):
    add_superuser(env, fake_momento)
    p = run(env, "export", "admin")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["apiKey"] == fake_momento.superuser_key() and doc["validUntil"] == 0
    assert "refreshToken" not in doc
    assert ("exported", "to stdout") in events(env, "admin")
    assert json.loads(run(env, "export", "admin", "--out", "-").stdout) == doc


def test_export_and_env_refuse_a_terminal_unless_asked(env, fake_momento):
    add_superuser(env, fake_momento)
    code, shown = run_tty(env, "export", "admin")
    assert code == 1 and "not printing the secret on the terminal" in shown and "--out FILE" in shown
    assert fake_momento.superuser_key() not in shown
    code, shown = run_tty(env, "env", "admin")
    assert code == 1 and 'eval "$(momento-keys env admin)"' in shown
    assert fake_momento.superuser_key() not in shown
    code, shown = run_tty(env, "export", "admin", "--stdout")
    assert code == 0 and fake_momento.superuser_key() in shown
    code, shown = run_tty(env, "env", "admin", "--stdout")
    assert code == 0 and "export MOMENTO_API_KEY=" in shown


@pytest.mark.parametrize("make_args, needle", [
    (lambda d: ["nobody", "--out", str(d / "k.json")], "no key named 'nobody'"),
    (lambda d: ["admin", "--out", str(d)], "is a directory"),
    (lambda d: ["admin", "--out", str(d / "missing" / "k.json")], "no such directory"),
])
def test_export_errors(env, fake_momento, tmp_path, make_args, needle):
    add_superuser(env, fake_momento)
    line = assert_clean_error(run(env, "export", *make_args(tmp_path)))
    assert needle in line


def test_export_usage_conflict(env, fake_momento, tmp_path):
    p = run(env, "export", "admin", "--stdout", "--out", str(tmp_path / "x"))
    assert p.returncode == 2 and "not allowed with" in p.stderr


def test_export_metadata_only_key_fails(env, fake_momento, tmp_path):
    assert run(env, "import", "--name", "meta", stdin=fake_momento.superuser_key()).returncode == 5
    line = assert_clean_error(run(env, "export", "meta", "--out", str(tmp_path / "k.json")))
    assert "no secret is stored" in line
    assert not (tmp_path / "k.json").exists()


# --- env -------------------------------------------------------------------------------------


def test_env_lines_eval_in_a_shell(env, fake_momento):
    add_superuser(env, fake_momento)
    assert generate(env, "--name", "it's svc", "--expires", "1d", "--all-data").returncode == 0
    p = run(env, "env", "it's svc")
    assert p.returncode == 0, p.stderr
    # A v1 key carries its endpoint: MOMENTO_ENDPOINT is for v2 keys only (the SDKs reject a v1 key
    # beside it), so the lines unset a stale one rather than export it.
    assert p.stdout.startswith("export MOMENTO_API_KEY=") and "MOMENTO_ENDPOINT=" not in p.stdout
    assert p.stdout.splitlines()[-1] == "unset MOMENTO_ENDPOINT"
    script = (f'eval "$({sys.executable} -m tui env "$1")"; '
              'printf "%s\\n%s\\n" "$MOMENTO_API_KEY" "${MOMENTO_ENDPOINT-(unset)}"')
    shell = subprocess.run(["sh", "-c", script, "sh", "it's svc"], env={**env, "MOMENTO_ENDPOINT": "stale.example"},
                           capture_output=True, text=True, timeout=60)
    assert shell.returncode == 0, shell.stderr
    key, endpoint = shell.stdout.splitlines()
    assert endpoint == "(unset)"
    issued = fake_momento.token_info(inner(key))
    assert issued is not None and issued.kind == "api_key"
    assert inspect_text(key).fingerprint == rows(env)["it's svc"]["fingerprint"]
    assert any(action == "exported" and "env" in detail for action, detail in events(env, "it's svc"))


def test_env_errors(env, fake_momento):
    line = assert_clean_error(run(env, "env", "nobody"))
    assert "no key named 'nobody'" in line


# --- lazy imports ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, allowed", [
    (["export", "admin"], set()),
    (["env", "admin"], set()),
    (["verify", "admin"], {"grpc", "momento", "momento_wire_types"}),
])
def test_only_the_momento_commands_import_grpc_and_none_imports_textual(env, fake_momento, args, allowed):
    add_superuser(env, fake_momento)
    p = subprocess.run([sys.executable, "-c", HEAVY_PROBE, *args], env=env, capture_output=True, text=True,
                       timeout=60)
    heavy = p.stderr.rstrip().rsplit("HEAVY=", 1)[1]
    found = set(heavy.split(",")) - {""}
    assert "textual" not in found
    assert found <= allowed, p.stderr


def test_without_a_rescue_folder_the_key_goes_to_the_terminal_only(env, fake_momento, tmp_path):
    """One rescue folder, beside the database. When not even it can be written, a terminal is the
    last place the key can go: the Download JSON is shown there once; into a pipe (a log) it is
    never written, and the message says the key is lost."""
    add_superuser(env, fake_momento)
    failing = refusing_keyring_env(env, tmp_path)
    (Path(env["MOMENTO_KEYS_DB"]).parent / "rescue").write_text("not a folder")

    p = generate(failing, "--name", "x", "--expires", "1d", "--all-data")
    assert p.returncode == 4, p.stderr
    assert p.stdout == "" and "Traceback" not in p.stderr
    assert any(x.startswith(ERROR) and "Momento made 'x' but it could not be stored" in x
               and "no rescue file could be written either" in x for x in p.stderr.splitlines()), p.stderr
    assert "stdout is not a terminal, so it is lost" in p.stderr and "it expires on its own" in p.stderr
    assert "nothing was generated" not in p.stderr.lower()
    assert not (Path(env["HOME"]) / "momento-keys-rescue").exists()

    code, screen = run_tty(failing, "generate", "--using", "admin", "--allow-insecure-keyring", "--name", "y",
                           "--expires", "1d", "--all-data")
    assert code == 4, screen
    assert "printed below ONCE" in screen and "momento-keys import --name y --type fine-grained --file FILE" in screen
    shown = json.loads(screen[screen.index("{"):screen.rindex("}") + 1])
    issued = inspect_text(json.dumps(shown))
    assert issued.refresh_token and fake_momento.token_info(
        json.loads(base64.b64decode(shown["apiKey"]))["api_key"]) is not None


def test_generate_keeps_a_stored_key_when_a_later_step_fails(fake_momento, monkeypatch, capsys, tmp_path):
    """In-process: the record and secret were written, then something after failed. No rescue file."""
    import io

    import keyring

    from tui import cli
    from tui.services.keeper import Keeper
    from tui.services.store import StoreError
    from tui.services.vault import MemoryKeyring

    memory = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: memory)
    db = tmp_path / "data" / "in-process.db"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(fake_momento.superuser_key().encode())))
    assert cli.main(["--db", str(db), "import", "--name", "admin", "--type", "super-user"]) == 0

    original = Keeper.import_key

    def import_then_fail(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        if kwargs.get("action") == "generated":
            raise StoreError("the disk is full (test)")
        return result

    monkeypatch.setattr(Keeper, "import_key", import_then_fail)
    capsys.readouterr()
    code = cli.main(["--db", str(db), "generate", "--endpoint-override", fake_momento.override, "--using", "admin",
                     "--name", "svc", "--expires", "1d", "--all-data"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "generated 'svc'" in out
    assert "'svc' was stored, but a later step failed: the disk is full (test)" in err
    assert not (db.parent / "rescue").exists()
    store = Store(db, readonly=True)
    record = store.find("svc")
    store.close()
    assert record is not None and record.secret_stored
