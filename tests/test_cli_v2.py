"""v2 keys through the real CLI (subprocesses) against the local account server
(tests.fake_account) and the fake Momento (tests.fake_momento): generate --role, sync,
link, revoke, rotate and rotate --finish; every account error as one true line."""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli_support import cli_env, events, rows, run_cli
from tests.conftest import make_v1, make_v2
from tests.fake_account import OPERATOR, OWNER, VIEWER, FakeAccount
from tests.fake_momento import DEFAULT_CELL, FakeMomento
from tests.test_cli_momento import refusing_keyring_env

DAY = 86400
ERROR = "momento-keys: error: "
HOSTILE = "svc [/] 名前 [bold]x[/bold]"          # markup-looking and wide characters: printed as they are
ESCAPES = "\x1b[2J\x1b]52;c;cHduZWQ=\x07evil"     # a screen clear and an OSC 52 clipboard write


@pytest.fixture
def account() -> FakeAccount:
    with FakeAccount() as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, fake_momento: FakeMomento, account: FakeAccount) -> dict[str, str]:
    return cli_env(tmp_path, HOME=str(tmp_path / "home"), MOMENTO_KEYS_ENDPOINT_OVERRIDE=fake_momento.override,
                   MOMENTO_KEYS_ACCOUNT_API=account.url)


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(env, *args, stdin=stdin)


def errors(p: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in p.stderr.splitlines() if not line.startswith(("momento-keys: note:",
                                                                           "momento-keys: warning:"))]


def one_line(p: subprocess.CompletedProcess[str], code: int) -> str:
    """The command failed with ``code`` and said why in one line, without a traceback."""
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr + p.stdout
    lines = errors(p)
    assert len(lines) == 1 and lines[0].startswith(ERROR), p.stderr
    return lines[0]


def clean(p: subprocess.CompletedProcess[str]) -> None:
    """Nothing that drives a terminal reached it."""
    assert "\x1b" not in p.stdout + p.stderr and "\x07" not in p.stdout + p.stderr






def add_admin(env: dict[str, str], account: FakeAccount, name: str = "admin", role: str = OWNER) -> str:
    key = account.acting_key(role, f"{name} key")
    p = run(env, "import", "--name", name, "--endpoint", DEFAULT_CELL, "--allow-insecure-keyring", stdin=key)
    assert p.returncode == 0, p.stderr
    return key


def generate(env: dict[str, str], name: str, *args: str, using: str = "admin",
             expires: str = "30d") -> subprocess.CompletedProcess[str]:
    return run(env, "generate", "--name", name, "--using", using, "--expires", expires, "--allow-insecure-keyring",
               *args)


def secret_of(env: dict[str, str], name: str) -> str:
    """A tracked key's secret, read as the CLI stores it (the plaintext test keyring)."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    from tui.services.vault import Vault

    backend = PlaintextKeyring()
    backend.file_path = str(Path(env["XDG_DATA_HOME"]) / "python_keyring" / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        return Vault(allow_insecure=True).get(rows(env)[name]["fingerprint"])
    finally:
        keyring.set_keyring(previous)


# ---- generate --role ------------------------------------------------------------------------

def test_generate_a_v2_key_with_a_role(env, account):
    add_admin(env, account)
    before = time.time()
    p = generate(env, HOSTILE, "--role", "operator", "--description", "orders service", "--notes", "team [/] x")
    assert p.returncode == 0, p.stderr
    [post] = account.calls("POST", "/api-keys")
    assert set(post.body) == {"role_id", "description", "expiry"}  # exactly the documented body
    assert post.body["role_id"] == OPERATOR and post.body["description"] == "orders service"
    assert before + 30 * DAY - 5 <= post.body["expiry"] <= time.time() + 30 * DAY + 5
    assert f"generated '{HOSTILE}': v2 API key, role Operator" in p.stdout and DEFAULT_CELL in p.stdout
    row = rows(env)[HOSTILE]
    assert row["kind"] == "v2" and row["role"] == "Operator" and row["role_id"] == OPERATOR
    assert row["key_id"] in account.keys and row["endpoint"] == DEFAULT_CELL and row["secret_stored"]
    assert row["expires_at"] is not None and row["expiry_source"] == "v2_metadata"
    assert account.secrets[secret_of(env, HOSTILE)] == row["key_id"]  # the key Momento made is the one kept

    # The role by its id; the description defaults to the name; never needs --yes-never.
    p = generate(env, "by id", "--role", VIEWER, "--expires", "never")
    assert "--yes-never" in one_line(p, 1) and len(account.calls("POST")) == 1
    p = generate(env, "by id", "--role", VIEWER, "--expires", "never", "--yes-never", "--json",
                 "--endpoint", "https://cache.cell-1-eu-west-1-1.prod.a.momentohq.com:443")
    assert p.returncode == 0, p.stderr
    assert account.calls("POST")[-1].body == {"role_id": VIEWER, "description": "by id", "expiry": "never"}
    record = json.loads(p.stdout)
    assert record["endpoint"] == "cell-1-eu-west-1-1.prod.a.momentohq.com" and record["role"] == "Viewer"
    assert record["status"] == "never-expires" and "never expire" in p.stderr


@pytest.mark.parametrize("extra, words", [
    (["--cache", "a=readonly"], "--cache is for v1"),
    (["--all-data", "--topic", "a/b=publishonly"], "--topic, --all-data are for v1"),
    (["--disposable"], "--disposable is for v1"),
])
def test_role_options_conflict_with_the_v1_grant_options(env, account, extra, words):
    add_admin(env, account)
    line = one_line(generate(env, "x", "--role", "viewer", *extra), 2)
    assert "--role makes a v2 API key" in line and words in line and "one or the other" in line
    assert account.calls() == []  # refused before any call


@pytest.mark.parametrize("extra, words", [
    (["--description", "d", "--all-data"], "--description goes with --role"),
    (["--endpoint", DEFAULT_CELL, "--account-api", "http://127.0.0.1:9", "--all-data"],
     "--endpoint, --account-api go with --role"),
    (["--token-id", "t", "--all-data"], "--token-id goes with --disposable"),
])
def test_v2_options_need_a_role(env, account, extra, words):
    add_admin(env, account)
    assert words in one_line(generate(env, "x", *extra), 2)
    assert account.calls() == []


def test_an_unknown_role_names_the_choices_and_nothing_is_made(env, account):
    add_admin(env, account)
    account.add_role(f"custom {ESCAPES}", {"type": "cache", "actions": ["read"], "caches": "*"})
    p = generate(env, "x", "--role", "admin")
    line = one_line(p, 1)
    assert "no role has the id or name 'admin'" in line and "Owner, Operator, Viewer" in line
    assert "nothing was generated" in line and account.calls("POST") == []
    clean(p)
    # A custom role by its (hostile) name: found, and printed without its escape sequences.
    p = generate(env, "custom", "--role", f"CUSTOM {ESCAPES}")
    assert p.returncode == 0, p.stderr
    clean(p)
    assert "role custom" in p.stdout and "evil" in p.stdout


def test_a_v2_key_that_cannot_be_stored_is_rescued(env, account, tmp_path):
    add_admin(env, account)
    failing = refusing_keyring_env(env, tmp_path)
    p = generate(failing, "orders", "--role", "operator")
    assert p.returncode == 4, p.stderr
    [path] = list((Path(env["MOMENTO_KEYS_DB"]).parent / "rescue").iterdir())
    doc = json.loads(path.read_text())
    assert doc["keyId"] in account.keys and doc["roleId"] == OPERATOR and doc["endpoint"] == DEFAULT_CELL
    assert f"momento-keys import --name orders --endpoint {DEFAULT_CELL} --file {path}" in p.stderr
    assert f"then: momento-keys link orders {doc['keyId']}" in p.stderr
    assert "orders" not in rows(env)
    # The rescued key imports and links as the key it is.
    assert run(env, "import", "--name", "orders", "--endpoint", DEFAULT_CELL, "--file", str(path),
               "--allow-insecure-keyring").returncode == 0
    p = run(env, "link", "orders", doc["keyId"])
    assert p.returncode == 0 and f"linked 'orders' to the account key {doc['keyId']}" in p.stdout


# ---- account errors: one true line, exit 3 when unreachable or unanswered --------------------

def _refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


FAULTS = {
    "401": (lambda a: a.fail(401, body={"code": "401", "message": f"expired {ESCAPES}"}), 1,
            "rejected 'admin'"),
    "403": (lambda a: a.fail(403), 1, "'admin' lacks auth-management access (HTTP 403"),
    "500": (lambda a: a.fail(500, times=3), 1, "server error (HTTP 500)"),
    "hang": (lambda a: a.hang(times=3), 3, "did not answer within 1 s"),
    "garbage": (lambda a: a.garbage(times=3), 1, "unexpected answer from the account API"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("command", ["generate", "sync", "revoke"])
def test_every_account_error_is_one_true_line(env, account, fault, command):
    add_admin(env, account)
    if command == "revoke":
        assert generate(env, "victim", "--role", "viewer").returncode == 0
    inject, code, words = FAULTS[fault]
    if command == "generate" and fault in ("500", "hang", "garbage"):
        # The role list comes first: make the fault hit the creation, which may have made a key.
        account.faults.clear()
        inject_post = {"500": lambda a: a.fail(500, method="POST"), "hang": lambda a: a.hang(method="POST"),
                       "garbage": lambda a: a.garbage(method="POST")}[fault]
        inject_post(account)
        code, words = 3, "may have been created anyway"
    else:
        inject(account)
    args = {"generate": ["generate", "--name", "new", "--using", "admin", "--expires", "1d", "--role", "viewer",
                         "--allow-insecure-keyring"],
            "sync": ["sync", "--using", "admin"],
            "revoke": ["revoke", "victim", "--using", "admin", "--yes"]}[command]
    p = run(env, *args, "--timeout", "1")
    line = one_line(p, code)
    assert words in line, line
    clean(p)
    if command == "revoke":
        assert rows(env)["victim"]["lifecycle"] == "active"  # nothing changed here
        assert "not revoked" in line or "may have been revoked" in line


def test_an_account_api_that_refuses_connections_is_unreachable(env, account):
    add_admin(env, account)
    p = run(env, "sync", "--using", "admin", "--account-api", _refused_url())
    line = one_line(p, 3)
    assert "cannot reach the account API at http://127.0.0.1:" in line and "connection refused" in line
    assert account.calls() == []
    line = one_line(run(env, "sync", "--using", "admin", "--account-api", "ftp://x"), 1)
    assert "--account-api: the account API must look like http://HOST:PORT" in line


def test_a_v1_key_cannot_be_revoked_and_a_metadata_only_key_cannot_act(env, account, fake_momento):
    p = run(env, "import", "--name", "v1 [/]", "--allow-insecure-keyring", stdin=make_v1())
    assert p.returncode == 0, p.stderr
    assert "only v2 keys are revoked through the account API" in one_line(run(env, "revoke", "v1 [/]", "--yes"), 1)
    add_admin(env, account)
    account.add_keys(1, prefix="listed")
    assert run(env, "sync", "--using", "admin").returncode == 0
    line = one_line(run(env, "revoke", "listed 0000", "--yes"), 1)
    assert "no secret is stored for 'listed 0000'" in line and "--using" in line
    assert account.calls("DELETE") == []


# ---- sync and link -------------------------------------------------------------------------

def test_sync_reads_250_keys_over_3_pages(env, account):
    add_admin(env, account)
    for name in ("kept", "gone", "changed"):
        assert generate(env, name, "--role", "viewer").returncode == 0
    account.add_keys(246, prefix="svc", issued_at=int(time.time()) - DAY)  # not in the admin key's second
    tracked = rows(env)
    account.remove(tracked["gone"]["key_id"])                                         # revoked elsewhere
    account.keys[tracked["changed"]["key_id"]]["expires_at_epoch_seconds"] = int(time.time()) + 90 * DAY
    account.requests.clear()
    p = run(env, "sync", "--using", "admin", "--json")
    assert p.returncode == 0, p.stderr
    assert len(account.calls("GET", "/api-keys")) == 3  # 100 + 100 + 49, following next_token
    doc = json.loads(p.stdout)
    assert doc["counts"]["listed"] == 249 and doc["revoked"] == ["gone"] and len(doc["added"]) == 246
    assert "changed" in doc["updated"] and doc["matched"] == ["admin"] and doc["unmatched"] == []
    after = rows(env)
    assert after["gone"]["status"] == "revoked" and after["changed"]["seconds_left"] > 80 * DAY
    assert after["svc 0000"]["secret_stored"] is False and after["svc 0000"]["role"] == "Viewer"
    assert run(env, "check").returncode == 2  # a revoked key is critical
    p = run(env, "sync", "--using", "admin")
    assert p.returncode == 0 and p.stdout.startswith("Synced: 249 account keys read, 0 updated, 0 revoked, 0 added")


def test_sync_lists_untracked_keys_by_their_description_without_escapes(env, account):
    add_admin(env, account)
    account.issue(VIEWER, f"billing {ESCAPES} [/] job", int(time.time()) + 10 * DAY)
    p = run(env, "sync", "--using", "admin")
    assert p.returncode == 0, p.stderr
    clean(p)
    [name] = [n for n in rows(env) if n.startswith("billing")]
    assert "\x1b" not in name and "[/] job" in name and f"'{name}'" in p.stdout


def test_link_an_imported_v2_key_then_sync_fills_it(env, account):
    add_admin(env, account)
    key, info = account.issue(OPERATOR, "imported by hand", int(time.time()) + 20 * DAY)
    # A v2 key whose JWT does not tell its issue time: sync cannot match it, the user links it.
    account.jwt_times = False
    p = run(env, "import", "--name", HOSTILE, "--endpoint", DEFAULT_CELL, "--allow-insecure-keyring",
            stdin=make_v2(issued=None, expires=None))
    assert p.returncode == 0, p.stderr
    p = run(env, "sync", "--using", "admin")
    assert p.returncode == 0 and "not matched: link them with `momento-keys link NAME KEY_ID`" in p.stdout
    assert f"'{HOSTILE}'" in p.stdout
    line = one_line(run(env, "link", HOSTILE, "two words"), 1)
    assert "a key id is one word" in line
    p = run(env, "link", HOSTILE, info["key_id"])
    assert p.returncode == 0, p.stderr
    assert f"linked '{HOSTILE}' to the account key {info['key_id']}" in p.stdout
    assert run(env, "sync", "--using", "admin").returncode == 0
    row = rows(env)[HOSTILE]
    assert row["key_id"] == info["key_id"] and row["role"] == "Operator" and row["expiry_source"] == "v2_metadata"
    v1 = run(env, "import", "--name", "old v1", "--allow-insecure-keyring", stdin=make_v1())
    assert v1.returncode == 0
    assert "only v2 keys have an account key id" in one_line(run(env, "link", "old v1", "key-1"), 1)
    assert "no key named 'nobody'" in one_line(run(env, "link", "nobody", "key-1"), 1)
    del key


# ---- revoke ----------------------------------------------------------------------------------

def run_pty(env: dict[str, str], args: list[str], answer: str) -> tuple[int, str]:
    """Run with stdin and stderr on a terminal; answer the question; (exit code, what it showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tui", *args], stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    answered = False
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            seen += data
            if not answered and b"[y/N]" in seen:
                os.write(master, answer.encode() + b"\n")
                answered = True
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
    return code, seen.decode(errors="replace")


def test_revoke_asks_on_a_terminal_and_needs_yes_elsewhere(env, account):
    add_admin(env, account)
    assert generate(env, HOSTILE, "--role", "viewer").returncode == 0
    key_id = rows(env)[HOSTILE]["key_id"]
    line = one_line(run(env, "revoke", HOSTILE, "--using", "admin"), 1)
    assert "not revoked: not on a terminal" in line and "--yes" in line
    code, shown = run_pty(env, ["revoke", HOSTILE, "--using", "admin"], "n")
    assert code == 1 and f"Revoke '{HOSTILE}' (role Viewer, account key {key_id})?" in shown
    assert "not confirmed" in shown and account.calls("DELETE") == []
    code, shown = run_pty(env, ["revoke", HOSTILE, "--using", "admin"], "y")
    assert code == 0, shown
    assert f"Revoked '{HOSTILE}' (role Viewer) with 'admin'" in shown
    assert [c.path for c in account.calls("DELETE")] == [f"/api-keys/{key_id}"]  # sent once
    row = rows(env)[HOSTILE]
    assert row["lifecycle"] == "retired" and row["revoked_at"] is not None
    assert any(a == "revoked" and "by 'admin'" in d for a, d in events(env, HOSTILE))


def test_revoke_a_key_already_gone_says_so(env, account):
    add_admin(env, account)
    assert generate(env, "old", "--role", "owner").returncode == 0
    account.remove(rows(env)["old"]["key_id"])
    p = run(env, "revoke", "old", "--yes", "--json")  # acting with itself (its secret is here)
    # The account no longer knows the key, so it cannot act for itself: 401, nothing changes.
    assert "rejected 'old'" in one_line(p, 1)
    p = run(env, "revoke", "old", "--yes", "--using", "admin", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["already_gone"] is True and doc["revoked"] is False and doc["role"] == "Owner"
    p = run(env, "revoke", "old", "--yes", "--using", "admin")
    assert "was revoked on" in one_line(p, 1)


def test_a_key_revokes_itself_with_a_warning(env, account):
    add_admin(env, account)
    assert generate(env, "self", "--role", "owner").returncode == 0
    p = run(env, "revoke", "self", "--yes")
    assert p.returncode == 0, p.stderr
    assert "Revoked 'self' (role Owner) with 'self'" in p.stdout
    assert "was also the key acting for the account API" in p.stderr


# ---- rotate a v2 key, then finish ---------------------------------------------------------------

def test_rotate_a_v2_key_then_finish(env, account, fake_momento):
    add_admin(env, account)
    assert generate(env, HOSTILE, "--role", "operator", "--description", "orders", "--expires", "10d").returncode == 0
    old = rows(env)[HOSTILE]
    account.requests.clear()
    p = run(env, "rotate", HOSTILE, "--using", "admin", "--allow-insecure-keyring")
    assert p.returncode == 0, p.stderr
    [post] = account.calls("POST", "/api-keys")
    assert post.body["role_id"] == OPERATOR and post.body["description"] == "orders"
    assert abs(post.body["expiry"] - (time.time() + 10 * DAY)) < 120  # the same lifetime, from now
    new = rows(env)[HOSTILE]
    assert new["key_id"] != old["key_id"] and new["lifecycle"] == "active" and new["role"] == "Operator"
    [previous] = [r for r in rows(env).values() if r["key_id"] == old["key_id"]]
    assert previous["lifecycle"] == "previous"
    assert f"momento-keys rotate --finish '{HOSTILE}'" in p.stdout

    # Finishing revokes the previous key, after confirmation.
    line = one_line(run(env, "rotate", "--finish", HOSTILE), 1)
    assert "not on a terminal" in line and account.calls("DELETE") == []
    p = run(env, "rotate", "--finish", HOSTILE, "--yes")  # acting with the new key (same role: Operator)
    assert "lacks auth-management access" in one_line(p, 1) and "--using" in p.stderr
    assert rows(env)[previous["name"]]["lifecycle"] == "previous"  # refused: nothing changed here
    account.requests.clear()
    p = run(env, "rotate", "--finish", HOSTILE, "--yes", "--using", "admin")
    assert p.returncode == 0, p.stderr
    assert f"Revoked '{previous['name']}' (role Operator) with 'admin'" in p.stdout
    assert [c.path for c in account.calls("DELETE")] == [f"/api-keys/{old['key_id']}"]
    assert rows(env)[previous["name"]]["lifecycle"] == "retired"
    assert "nothing to finish" in one_line(run(env, "rotate", "--finish", HOSTILE, "--yes"), 1)


def test_rotate_v2_errors(env, account, fake_momento):
    add_admin(env, account, "viewer admin", role=VIEWER)
    p = run(env, "import", "--name", "imported", "--endpoint", DEFAULT_CELL, "--allow-insecure-keyring",
            stdin=make_v2())
    assert p.returncode == 0
    line = one_line(run(env, "rotate", "imported", "--using", "viewer admin"), 1)
    assert "not linked to an account key" in line or "sync" in line
    add_admin(env, account)
    assert generate(env, "svc", "--role", "viewer").returncode == 0
    line = one_line(run(env, "rotate", "svc", "--allow-insecure-keyring"), 1)  # acting with itself: a Viewer
    assert "'svc' lacks auth-management access" in line and "--using NAME" in line
    assert len(account.calls("POST")) == 2 and len(account.keys) == 3  # refused: no key was made
    assert [r["lifecycle"] for n, r in rows(env).items() if n.startswith("svc")] == ["active"]
    p = run(env, "import", "--name", "v1", "--allow-insecure-keyring", stdin=make_v1())
    assert p.returncode == 0
    assert "--using and --account-api are for v2 keys" in one_line(run(env, "rotate", "v1", "--using", "admin"), 2)
    assert "rotate --finish" not in run(env, "rotate", "--finish", "v1", "--yes").stdout
