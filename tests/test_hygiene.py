"""The secret-hygiene scan of tests/conftest.py, tested on planted secrets.

The scan itself runs once, after the whole session (conftest's pytest_sessionfinish), over
the run's temporary files, the snapshots, the screenshots and all captured output. These
tests prove that it finds what it should and skips only what it may: each uses secrets
made here and NOT registered in SECRETS_MADE, so the planted files cannot fail the real
end-of-run scan.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from pathlib import Path
from types import SimpleNamespace

import jwt
import pytest

import tests.conftest as conftest
from tests.conftest import classify_file, expand_secrets, scan_for_secrets
from tests.fake_momento import ISSUED_SECRETS, FakeMomento, wrap_v1


def fresh_key() -> tuple[str, str]:
    """(v1 key, its inner JWT), made here and registered nowhere."""
    raw = jwt.encode({"sub": "planted", "nonce": secrets.token_hex(8)}, secrets.token_hex(16), algorithm="HS256")
    return wrap_v1(raw, "cell-4-us-west-2-1.prod.a.momentohq.com"), raw


def test_expansion_adds_the_inner_jwt_and_its_signature() -> None:
    key, raw = fresh_key()
    found = expand_secrets([key])
    assert {key, raw, raw.split(".")[2]} <= found
    assert expand_secrets(["short"]) == set()  # too short to be a credential


@pytest.mark.parametrize("how", ["whole key", "inner jwt", "signature only", "embedded in a longer run",
                                 "in json", "in sqlite"])
def test_scanner_finds_a_planted_secret(tmp_path: Path, how: str) -> None:
    key, raw = fresh_key()
    text = {
        "whole key": f"log line: {key}\n",
        "inner jwt": f"Authorization: {raw}",
        "signature only": f"sig={raw.split('.')[2]};",
        "embedded in a longer run": f"MOMENTO_API_KEY={key}",
        "in json": json.dumps({"note": key}),
        "in sqlite": "",
    }[how]
    path = tmp_path / ("keys.db" if how == "in sqlite" else "out.log")
    if how == "in sqlite":
        import sqlite3

        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE t (v TEXT)")
        conn.execute("INSERT INTO t VALUES (?)", ("x" * 3000 + key,))
        conn.commit()
        conn.close()
    else:
        path.write_text(text)
    result = scan_for_secrets([tmp_path], expand_secrets([key]))
    assert not result.clean and result.files == 1
    assert all(str(path) in leak for leak in result.leaks)
    assert key not in "\n".join(result.leaks)  # the report masks what it found


def test_scanner_is_quiet_on_clean_files(tmp_path: Path) -> None:
    key, _ = fresh_key()
    (tmp_path / "a.txt").write_text("sha256:" + "ab" * 8 + " nothing secret " + "eyJ" + "A" * 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.svg").write_text("<svg>masked ••••••••••••</svg>")
    result = scan_for_secrets([tmp_path], expand_secrets([key]))
    assert result.clean and result.files == 2


def test_legitimate_secret_holders_are_skipped_and_exports_must_be_0600(tmp_path: Path) -> None:
    key, _ = fresh_key()
    found = expand_secrets([key])
    keyring_file = tmp_path / "xdg" / "python_keyring" / "keyring_pass.cfg"
    keyring_file.parent.mkdir(parents=True)
    keyring_file.write_text(f"[momento-keys]\nkey = {key}\n")
    test_input = tmp_path / "console.json"  # compact: what tests.conftest.console_json writes
    test_input.write_text(json.dumps({"apiKey": key}))
    raw_input = tmp_path / "key.txt"
    raw_input.write_text(key + "\n")
    export = tmp_path / "export.json"  # pretty: what momento-keys writes
    export.write_text(json.dumps({"apiKey": key, "validUntil": 0}, indent=2) + "\n")
    os.chmod(export, 0o600)
    rescue = tmp_path / "data" / "rescue" / "x-20270101T000000Z.json"
    rescue.parent.mkdir(parents=True)
    rescue.write_text(json.dumps({"apiKey": key}, indent=2))
    os.chmod(rescue, 0o600)

    assert classify_file(keyring_file, keyring_file.read_bytes(), found) == "keyring"
    assert classify_file(test_input, test_input.read_bytes(), found) == "input"
    assert classify_file(raw_input, raw_input.read_bytes(), found) == "input"
    assert classify_file(export, export.read_bytes(), found) == "export"
    assert classify_file(rescue, rescue.read_bytes(), found) == "export"
    result = scan_for_secrets([tmp_path], found)
    assert result.clean, result.leaks + result.bad_modes
    assert result.exports == 2 and result.skipped == 3

    os.chmod(export, 0o644)
    try:
        result = scan_for_secrets([tmp_path], found)
        assert [m for m in result.bad_modes if str(export) in m and "0o644" in m]
    finally:
        os.chmod(export, 0o600)  # or the real end-of-run scan would (rightly) fail


def test_captured_output_and_cli_runs(tmp_path: Path) -> None:
    key, _ = fresh_key()
    found = expand_secrets([key])
    result = scan_for_secrets([], found, captured=[("test_x (Captured stdout call)", f"oops {key}")])
    assert len(result.leaks) == 1 and "test_x" in result.leaks[0]
    # `export` and `env` exist to print the secret on stdout; nothing else may, and never on stderr.
    runs = [(("export", "k", "--stdout"), json.dumps({"apiKey": key}), ""),
            (("env", "k"), f"export MOMENTO_API_KEY={key}\n", "")]
    assert scan_for_secrets([], found, cli_runs=runs).clean
    runs = [(("list", "--json"), key, ""), (("export", "k"), "", f"error {key}")]
    result = scan_for_secrets([], found, cli_runs=runs)
    assert len(result.leaks) == 2
    assert all(key not in leak for leak in result.leaks)


def test_screenshots_may_not_even_look_like_a_credential(tmp_path: Path) -> None:
    key, raw = fresh_key()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    (shots / "ok.svg").write_text("<svg><text>eyJhbGciOi…</text></svg>")
    assert scan_for_secrets([], set(), shape_roots=[shots]).clean
    (shots / "revealed.svg").write_text(f"<svg><text>{raw}</text></svg>")
    result = scan_for_secrets([], set(), shape_roots=[shots])
    assert len(result.leaks) == 1 and "shaped like a credential" in result.leaks[0]
    (shots / "revealed.svg").write_text(f"<svg><text>{key}</text></svg>")
    assert not scan_for_secrets([], set(), shape_roots=[shots]).clean


def test_the_fake_server_registers_what_it_issues() -> None:
    server = FakeMomento()
    key, refresh = server.issue_key()
    inner = json.loads(base64.b64decode(key))["api_key"]
    assert {key, inner, refresh, server.superuser_jwt, server.superuser_key()} <= ISSUED_SECRETS
    sdk_style = base64.b64encode(json.dumps({"endpoint": server.cell, "api_key": inner}).encode()).decode()
    assert sdk_style in ISSUED_SECRETS  # the Python SDK's wrapping of a disposable token
    assert inner in conftest.test_secrets()


def test_a_leak_fails_the_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The session hook turns a leak into exit status 1, and says where."""
    key, _ = fresh_key()
    (tmp_path / "keys.db-wal").write_text(f"WAL page: {key} more bytes")
    monkeypatch.setitem(conftest._HYGIENE_STATE, "base", tmp_path)
    monkeypatch.setattr(conftest, "test_secrets", lambda: expand_secrets([key]))
    monkeypatch.setattr(conftest, "HYGIENE_CAPTURED", [])
    monkeypatch.setattr(conftest, "HYGIENE_CLI_RUNS", [])
    monkeypatch.setattr(conftest, "SNAPSHOT_DIR", tmp_path / "none")
    monkeypatch.setattr(conftest, "SCREENSHOT_DIR", tmp_path / "none")
    lines: list[str] = []
    reporter = SimpleNamespace(write_sep=lambda *a, **k: None, write_line=lines.append)
    session = SimpleNamespace(
        exitstatus=0,
        config=SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: reporter)),
    )
    conftest.pytest_sessionfinish(session, 0)  # type: ignore[arg-type]
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    assert any("FAILED" in line for line in lines)
    assert any("LEAK" in line and "keys.db-wal" in line for line in lines)
    assert key not in "\n".join(lines)
    # And a clean run stays clean.
    (tmp_path / "keys.db-wal").write_text("nothing here")
    session.exitstatus = 0
    conftest.pytest_sessionfinish(session, 0)  # type: ignore[arg-type]
    assert session.exitstatus == 0


def test_exported_files_are_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """export --out writes 0600 whatever the umask; the end-of-run scan checks every export again."""
    import io
    import sys

    import keyring

    from tests.conftest import make_v1
    from tui import cli
    from tui.services.vault import MemoryKeyring

    memory = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: memory)
    db = tmp_path / "data" / "k.db"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(make_v1().encode())))
    assert cli.main(["--db", str(db), "import", "--name", "k"]) == 0
    old = os.umask(0o022)
    try:
        out = tmp_path / "exported.json"
        assert cli.main(["--db", str(db), "export", "k", "--out", str(out)]) == 0
    finally:
        os.umask(old)
    capsys.readouterr()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert classify_file(out, out.read_bytes(), conftest.test_secrets()) == "export"


def test_the_plugin_sees_the_secrets_the_tests_make(request: pytest.FixtureRequest) -> None:
    """The conftest pytest loaded (whose session hook scans) is the module the tests import, so a
    secret made through tests.conftest is in the set the end-of-run scan searches for."""
    from tests.conftest import make_v1

    assert conftest in request.config.pluginmanager.get_plugins()
    key = make_v1()
    assert key in conftest.test_secrets()
    assert json.loads(base64.b64decode(key))["api_key"] in conftest.test_secrets()
