"""The CLI in the shell and in scripts (issue 14), through real subprocesses: completion
scripts (bash driven for real; zsh and fish loaded), `exec`, `rotate --deploy-hook`,
`--debug`, `config show`, `env --shell powershell`, and `notify` through the platform's
notifier."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli_support import cli_env, events, rows, run_cli
from tests.conftest import console_json, make_v1
from tests.fake_account import OWNER, FakeAccount
from tests.fake_momento import DEFAULT_CELL, FakeMomento
from tui.services.store import Store

DAY = 86400
ERROR = "momento-keys: error: "
REPO = Path(__file__).resolve().parent.parent
NAMES = ["orders prod", "orders staging", "x[/]y", "$(touch PWNED)", "it's", "名前 key"]


def now() -> int:
    return int(time.time())


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The CLI's environment, with a `momento-keys` command first on PATH (this worktree's code)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "momento-keys"
    program.write_text(f"#!/bin/sh\nexec {sys.executable} -m tui \"$@\"\n")
    program.chmod(0o755)
    return cli_env(tmp_path, HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO),
                   PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(env, *args, stdin=stdin)


def one_line(p: subprocess.CompletedProcess[str], code: int) -> str:
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    lines = [x for x in p.stderr.splitlines() if not x.startswith("momento-keys: note:")]
    assert len(lines) == 1 and lines[0].startswith(ERROR), p.stderr
    return lines[0]






def track(env: dict[str, str], name: str, key: str | None = None, *extra: str) -> str:
    key = key or make_v1(issued=now() - DAY, expires=now() + 30 * DAY)
    p = run(env, "import", "--name", name, "--allow-insecure-keyring", *extra, stdin=key)
    assert p.returncode == 0, p.stderr
    return key


def seed_names(env: dict[str, str]) -> None:
    from tui.core.model import KeyRecord, Kind, Lifecycle

    store = Store(env["MOMENTO_KEYS_DB"])
    for i, name in enumerate(NAMES):
        store.add(KeyRecord(name=name, kind=Kind.V1, fingerprint=f"fp-{i}"), now=now())
    store.add(KeyRecord(name="orders retired", kind=Kind.V1, fingerprint="fp-r", lifecycle=Lifecycle.RETIRED),
              now=now())
    store.close()


# ---- completion: bash, driven for real ------------------------------------------------------

def complete_bash(env: dict[str, str], *words: str, cwd: Path | None = None) -> list[str]:
    """What bash's completion function offers for ``words`` (the last one being completed)."""
    script = ('source <(momento-keys completion bash) || exit 9\n'
              'COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n'
              '_momento_keys || exit 8\n'
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    p = subprocess.run(["bash", "-c", script, "bash", "momento-keys", *words], env=env, capture_output=True,
                       text=True, timeout=60, cwd=cwd)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    return [line for line in p.stdout.splitlines() if line]


def test_bash_completes_commands_options_choices_and_names(env, tmp_path):
    seed_names(env)
    assert complete_bash(env, "") [:3] == ["import", "list", "check"]
    assert complete_bash(env, "re") == ["revoke", "reminders"]
    assert complete_bash(env, "--db", "x.db", "ro") == ["rotate"]
    assert complete_bash(env, "rotate", "--f") == ["--finish"]
    assert set(complete_bash(env, "check", "--")) >= {"--warn", "--critical", "--warn-fraction", "--json", "--debug"}
    assert complete_bash(env, "export", "x", "--format", "") == ["console", "lambda"]
    assert complete_bash(env, "export", "x", "--format", "=", "l") == ["lambda"]  # bash splits --format=l
    assert complete_bash(env, "env", "x", "--shell", "p") == ["powershell"]
    assert complete_bash(env, "completion", "") == ["bash", "zsh", "fish"]
    assert complete_bash(env, "dismiss", "x", "--kind", "s") == ["switch"]
    # Key names where a NAME is expected, quoted for the command line; retired ones left out;
    # nothing in a name is ever run ($(touch PWNED) stays text).
    names = complete_bash(env, "rotate", "", cwd=tmp_path)
    assert names == ["\\$\\(touch\\ PWNED\\)", "it\\'s", "orders\\ prod", "orders\\ staging", "x\\[/\\]y",
                     "名前\\ key"]
    assert not (tmp_path / "PWNED").exists()
    assert complete_bash(env, "verify", "ord") == ["orders\\ prod", "orders\\ staging"]
    assert complete_bash(env, "verify", "orders\\ s") == ["orders\\ staging"]
    assert complete_bash(env, "verify", "'orders p") == ["orders prod"]  # inside quotes: as it is
    assert complete_bash(env, "generate", "--using", "x") == ["x\\[/\\]y"]
    assert complete_bash(env, "import", "--replaces", "it") == ["it\\'s"]
    assert complete_bash(env, "exec", "it") == ["it\\'s"]
    assert complete_bash(env, "link", "orders\\ prod", "") == []  # KEY_ID: free text
    # The names of the database the command line names.
    other = tmp_path / "other.db"
    store = Store(other)
    from tui.core.model import KeyRecord, Kind

    store.add(KeyRecord(name="elsewhere", kind=Kind.V1, fingerprint="fp-e"), now=now())
    store.close()
    assert complete_bash(env, "--db", str(other), "verify", "") == ["elsewhere"]
    assert complete_bash(env, "verify", "--db", "=", str(other), "") == ["elsewhere"]  # --db=PATH, as bash splits it
    assert complete_bash(env, "--db", str(tmp_path / "missing.db"), "verify", "") == []
    # exec: the command after --, then files.
    assert "sh" in complete_bash(env, "exec", "orders\\ prod", "--", "s")
    (tmp_path / "script.sh").write_text("")
    assert "script.sh" in complete_bash(env, "exec", "x", "--", "sh", "scr", cwd=tmp_path)
    assert complete_bash(env, "import", "--file", "scr", cwd=tmp_path) == ["script.sh"]


def test_the_scripts_are_generated_from_the_one_parser(env):
    """Every sub-command and every option of the parser is in each script."""
    from tui.cli.completion import describe

    commands = describe()
    scripts = {shell: run(env, "completion", shell).stdout for shell in ("bash", "zsh", "fish")}
    for name, command in commands.items():
        for script in scripts.values():
            assert not name or name in script
        for option in command.options:
            for string in option.strings:
                assert string in scripts["bash"] and string in scripts["zsh"]
                assert (f"-l {string[2:]}" if string.startswith("--") else f"-s {string[1]}") in scripts["fish"]
    assert "__names" not in " ".join(commands)  # hidden: not a sub-command of the parser
    assert run(env, "completion", "tcsh").returncode == 2


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_the_zsh_script_loads_without_errors(env, tmp_path):
    script = ("autoload -U compinit && compinit -u -d $ZDOTDIR/.zcompdump\n"
              "source <(momento-keys completion zsh) || exit 9\n"
              "whence -w _momento_keys; print -r -- ${_comps[momento-keys]}\n")
    p = subprocess.run(["zsh", "-f", "-c", script], env={**env, "ZDOTDIR": str(tmp_path)}, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert p.stdout.splitlines() == ["_momento_keys: function", "_momento_keys"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_the_fish_script_loads_and_completes(env, tmp_path):
    seed_names(env)

    def complete(line: str) -> list[str]:
        script = f"momento-keys completion fish | source; or exit 9\ncomplete -C {json.dumps(line)}\n"
        p = subprocess.run(["fish", "--no-config", "-c", script], env={**env, "HOME": str(tmp_path)},
                           capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert p.returncode == 0 and p.stderr == "", p.stderr
        return [x.split("\t")[0] for x in p.stdout.splitlines()]

    assert complete("momento-keys rot") == ["rotate"]
    assert complete("momento-keys rotate --fi") == ["--finish"]
    assert complete("momento-keys export x --format ") == ["console", "lambda"]
    assert set(complete("momento-keys rotate ")) == set(NAMES)
    assert complete("momento-keys generate --using x") == ["x[/]y"]
    assert not (tmp_path / "PWNED").exists()


def test_names_is_fast_and_quiet(env, tmp_path):
    seed_names(env)
    probe = ("import sys\nfrom tui.cli import main\nmain(['__names'])\n"
             "heavy = [m for m in ('textual', 'grpc', 'momento', 'keyring', 'argparse', 'logging') if m in sys.modules]\n"
             "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n")
    p = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "HEAVY=\n" in p.stderr, p.stderr
    assert p.stdout.splitlines() == sorted(NAMES)
    # No database, or a damaged one: nothing at all, exit 0 (a completion never prints errors).
    for db in (tmp_path / "missing.db", tmp_path / "garbage.db"):
        if db.name == "garbage.db":
            db.write_bytes(b"garbage" * 100)
        p = run({**env, "MOMENTO_KEYS_DB": str(db)}, "__names")
        assert (p.returncode, p.stdout, p.stderr) == (0, "", "")


# ---- exec ------------------------------------------------------------------------------------

SHOW_ENV = ("import hashlib, os, sys\n"
            "key = os.environ.get('MOMENTO_API_KEY')\n"
            "print(hashlib.sha256(key.encode()).hexdigest() if key else 'none')\n"
            "print(os.environ.get('MOMENTO_ENDPOINT', 'unset'))\n"
            "print(any(key and key in a for a in sys.argv))\n"
            "sys.exit(int(sys.argv[1]))\n")


def test_exec_runs_a_command_with_the_key_in_its_environment_only(env):
    key = track(env, "orders [/] prod")
    p = run(env, "exec", "orders [/] prod", "--", sys.executable, "-c", SHOW_ENV, "7")
    assert p.returncode == 7, p.stderr  # the command's exit code
    digest, endpoint, on_argv = p.stdout.splitlines()
    assert digest == sha(key) and on_argv == "False"
    assert endpoint == "unset"  # a v1 key: no MOMENTO_ENDPOINT, even one the caller had set
    p = run({**env, "MOMENTO_ENDPOINT": "stale.example"}, "exec", "orders [/] prod", sys.executable, "-c",
            SHOW_ENV, "0")
    assert p.returncode == 0 and p.stdout.splitlines()[1] == "unset"
    assert ("used by exec", f"for {os.path.basename(sys.executable)}") in events(env, "orders [/] prod")
    # A v2 key brings its endpoint.
    v2 = make_v2_key()
    track(env, "v2", v2, "--endpoint", DEFAULT_CELL)
    p = run(env, "exec", "v2", "--", sys.executable, "-c", SHOW_ENV, "0")
    assert p.stdout.splitlines()[:2] == [sha(v2), DEFAULT_CELL]


def make_v2_key() -> str:
    from tests.conftest import make_v2

    return make_v2(issued=now() - DAY, expires=now() + 30 * DAY)


def test_exec_errors(env):
    track(env, "k")
    assert "command not found" in one_line(run(env, "exec", "k", "--", "no-such-command-xyz"), 127)
    assert "exec needs a command" in one_line(run(env, "exec", "k"), 2)
    assert "exec needs a command" in one_line(run(env, "exec", "k", "--"), 2)
    assert "cannot be run" in one_line(run(env, "exec", "k", "--", "/etc/hostname"), 126)  # not a program
    line = one_line(run(env, "exec", "x[/]\x1b[2J", "--", "true"), 1)
    assert "no key named 'x[/]\\x1b[2J'" in line and "\x1b" not in line
    p = run(env, "import", "--name", "meta", stdin=make_v1())
    assert p.returncode == 5
    assert "no secret is stored for 'meta'" in one_line(run(env, "exec", "meta", "--", "true"), 1)


def test_exec_hands_signals_to_the_command(env):
    track(env, "k")
    script = 'trap "exit 42" TERM; trap "exit 43" HUP; echo ready; while :; do sleep 0.05; done'
    for sig, code in ((signal.SIGTERM, 42), (signal.SIGHUP, 43)):
        proc = subprocess.Popen([sys.executable, "-m", "tui", "exec", "k", "--", "sh", "-c", script], env=env,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == code
        proc.stdout.close()
    # The command is the process: killed by a signal, it ends as killed, as it would have alone.
    p = run(env, "exec", "k", "--", "sh", "-c", "kill -KILL $$")
    assert p.returncode == -signal.SIGKILL


# ---- rotate --deploy-hook ----------------------------------------------------------------------

HOOK = 'printf "%s %s %s\\n" "$(sha256sum | cut -c1-64)" "$MOMENTO_KEYS_NAME" "$MOMENTO_KEYS_FINGERPRINT" > "$OUT"'


@pytest.fixture
def rotatable(env, fake_momento: FakeMomento) -> dict[str, str]:
    key, refresh = fake_momento.issue_key(valid_for_seconds=2 * DAY)
    p = run(env, "import", "--name", "orders [/]", "--type", "fine-grained", "--allow-insecure-keyring",
            stdin=console_json(key, now() + 2 * DAY, refresh))
    assert p.returncode == 0, p.stderr
    return {**env, "MOMENTO_KEYS_ENDPOINT_OVERRIDE": fake_momento.override}


def test_a_deploy_hook_gets_the_new_key_on_stdin(rotatable, tmp_path, fake_momento):
    out = tmp_path / "hook.out"
    p = run({**rotatable, "OUT": str(out)}, "rotate", "orders [/]", "--allow-insecure-keyring", "--deploy-hook",
            HOOK)
    assert p.returncode == 0, p.stderr
    assert "the deploy hook ran and succeeded" in p.stdout
    from tests.test_cli_v2 import secret_of

    new = rows(rotatable)["orders [/]"]
    digest, rest = out.read_text().split(" ", 1)
    assert rest == f"orders [/] {new['fingerprint']}\n"  # the key's name and fingerprint in its environment
    assert digest == sha(secret_of(rotatable, "orders [/]") + "\n")  # the new key, on its stdin
    assert ("deploy hook", f"ran: {HOOK}") in events(rotatable, "orders [/]")


def test_a_failing_deploy_hook_is_reported_and_the_rotation_stays_done(rotatable):
    p = run(rotatable, "rotate", "orders [/]", "--allow-insecure-keyring", "--json",
            "--deploy-hook", "echo deploying >&2; cat > /dev/null; exit 3")
    assert p.returncode == 0, p.stderr  # the rotation is done
    doc = json.loads(p.stdout)  # the hook's output went to stderr, not into the JSON
    assert doc["deploy_hook"] == {"command": "echo deploying >&2; cat > /dev/null; exit 3", "exit_code": 3,
                                  "ok": False, "problem": "it exited with code 3"}
    assert "deploying" in p.stderr
    assert ("momento-keys: warning: the deploy hook failed (it exited with code 3); the rotation of 'orders [/]' is "
            "done all the same") in p.stderr
    assert doc["new"]["lifecycle"] == "active" and doc["previous"]["lifecycle"] == "previous"
    assert any(a == "deploy hook failed" and "exited with code 3" in d for a, d in events(rotatable, "orders [/]"))
    # A hook that cannot even run is a failure too; a failed rotation runs no hook.
    p = run(rotatable, "rotate", "nobody", "--deploy-hook", "touch ran")
    assert p.returncode == 1


# ---- --debug ----------------------------------------------------------------------------------

def test_debug_logs_to_stderr_without_secrets(env, fake_momento):
    key = track(env, "admin", fake_momento.superuser_key(), "--type", "super-user")
    for args, extra in ((["--debug", "verify", "admin"], {}), (["verify", "admin"], {"MOMENTO_KEYS_DEBUG": "1"})):
        p = run({**env, **extra, "MOMENTO_KEYS_ENDPOINT_OVERRIDE": fake_momento.override}, *args)
        assert p.returncode == 0, p.stderr
        assert "momento_keys.cli DEBUG momento-keys verify: started" in p.stderr
        assert "momento_keys.momento DEBUG ListCaches at 127.0.0.1" in p.stderr and " ms" in p.stderr
        assert "momento_keys.cli DEBUG momento-keys verify: exit code 0" in p.stderr
        assert key not in p.stderr
    p = run(env, "verify", "admin", "--endpoint-override", fake_momento.override)
    assert "DEBUG" not in p.stderr


def test_debug_logs_account_calls(env):
    with FakeAccount() as account:
        admin = account.acting_key(OWNER, "admin")
        track(env, "admin", admin, "--endpoint", DEFAULT_CELL)
        account.fail(429, headers={"Retry-After": "0"})
        p = run(env, "--debug", "sync", "--using", "admin", "--account-api", account.url)
        assert p.returncode == 0, p.stderr
        assert "momento_keys.account DEBUG GET /api-keys at http://127.0.0.1" in p.stderr
        assert "HTTP 429" in p.stderr and "HTTP 200" in p.stderr  # the retry shows
        assert admin not in p.stderr


def test_doctor_names_the_log_file(env, tmp_path):
    p = run(env, "doctor")
    log = tmp_path / "home" / ".local" / "state" / "momento-keys" / "log" / "momento-keys.log"
    assert f"log       {log} (not written yet); the dashboard's debug log" in p.stdout
    doc = json.loads(run(env, "doctor", "--json").stdout)
    assert doc["log_file"] == {"path": str(log), "exists": False, "debug": False}


# ---- config show ------------------------------------------------------------------------------

def test_config_show_says_where_each_setting_came_from(env, tmp_path):
    Path(env["MOMENTO_KEYS_CONFIG"]).write_text('[thresholds]\nwarning = "10d"\n[clipboard]\nclear_after = 0\n')
    p = run({**env, "MOMENTO_KEYS_DEBUG": "1", "MOMENTO_KEYS_ACCOUNT_API": "http://127.0.0.1:9"}, "config", "show",
            "--json", "--allow-insecure-keyring", "--endpoint-override", "127.0.0.1:7")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    s = doc["settings"]
    assert s["thresholds.warning"] == {"value": 10 * DAY, "shown": "10d", "source": "file",
                                       "from": env["MOMENTO_KEYS_CONFIG"]}
    assert s["thresholds.critical"]["source"] == "default" and s["clipboard.clear_after"]["value"] == 0
    assert s["keyring.allow_insecure"] == {"value": True, "shown": "yes", "source": "flag",
                                           "from": "--allow-insecure-keyring"}
    assert s["endpoint_override"]["source"] == "flag" and s["endpoint_override"]["value"] == "127.0.0.1:7"
    assert s["account_api"] == {"value": "http://127.0.0.1:9", "shown": "http://127.0.0.1:9",
                                "source": "environment", "from": "MOMENTO_KEYS_ACCOUNT_API"}
    assert s["debug"]["source"] == "environment" and s["debug"]["value"] is True
    paths = doc["paths"]
    assert paths["database"]["path"] == env["MOMENTO_KEYS_DB"] and paths["database"]["source"] == "environment"
    assert paths["rescue_dir"]["path"] == str(Path(env["MOMENTO_KEYS_DB"]).parent / "rescue")
    assert paths["log_file"]["path"].endswith("momento-keys.log")
    assert paths["momento_cli_credentials"]["path"] == str(tmp_path / "momento-cli" / "credentials")
    assert set(paths) == {"database", "config", "data_dir", "rescue_dir", "log_file", "momento_cli_credentials",
                          "ui_state"}
    p = run(env, "--debug", "--db", str(tmp_path / "x [/].db"), "config", "show")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["SETTING", "VALUE", "FROM"]
    assert any(x.startswith("debug") and "on" in x and "flag (--debug)" in x for x in lines)
    assert any(x.startswith("database") and "x [/].db  (not there yet)" in x and "flag (--db)" in x for x in lines)
    assert any(x.startswith("thresholds.warning ") and "file (" in x for x in lines)


def test_config_show_with_a_bad_settings_file_is_one_line(env):
    Path(env["MOMENTO_KEYS_CONFIG"]).write_text("[nope]\n")
    assert "unknown section [nope]" in one_line(run(env, "config", "show"), 1)


# ---- env --shell, notify ------------------------------------------------------------------------

def test_env_for_powershell(env):
    key = track(env, "v1")
    p = run(env, "env", "v1", "--shell", "powershell")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [f"$Env:MOMENTO_API_KEY = '{key}'",
                                     "Remove-Item Env:MOMENTO_ENDPOINT -ErrorAction SilentlyContinue"]
    v2 = make_v2_key()
    track(env, "v2", v2, "--endpoint", DEFAULT_CELL)
    p = run(env, "env", "v2", "--shell", "powershell")
    assert p.stdout.splitlines() == [f"$Env:MOMENTO_API_KEY = '{v2}'", f"$Env:MOMENTO_ENDPOINT = '{DEFAULT_CELL}'"]
    p = run(env, "env", "v2")
    assert p.stdout.splitlines()[1] == f"export MOMENTO_ENDPOINT={DEFAULT_CELL}"
    from tui.cli.secrets import _ps_quote

    assert _ps_quote("it's ‘x’ $Env:HOME") == "'it''s ‘‘x’’ $Env:HOME'"


def test_notify_uses_the_platform_notifier(env, tmp_path, monkeypatch, capsys):
    """`notify` sends through tui.services.desktop.find_notifier (osascript on macOS here)."""
    from tui import cli
    from tui.services import desktop

    p = run(env, "import", "--name", "soon [/]", "--allow-insecure-keyring",
            stdin=make_v1(issued=now() - 20 * DAY, expires=now() + 10 * DAY))
    assert p.returncode == 0
    log = tmp_path / "sent"
    fake = tmp_path / "osascript"
    fake.write_text(f"#!/bin/sh\nprintf '%s|' \"$@\" >> {log}\n")
    fake.chmod(0o755)
    monkeypatch.setattr(desktop, "find_notifier", lambda: desktop.Notifier("osascript", str(fake)))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert cli.main(["notify"]) == 0
    sent = log.read_text()
    assert "display notification" in sent and "momento-keys: warning" in sent and "soon [/]" in sent
    assert capsys.readouterr().out == ""


def test_the_dashboard_writes_its_debug_log_to_the_file(env, tmp_path, monkeypatch, capsys):
    """The dashboard owns the terminal: with --debug its log goes to the log file (0600)."""
    import logging

    from tui import cli, factory
    from tui.services import log

    class App:
        return_code = 0

        def run(self) -> None:
            log.get("app").debug("the dashboard drew %d rows", 3)

    monkeypatch.setattr(factory, "build_app", lambda *args, **kwargs: App())
    for k, v in {**env, "XDG_STATE_HOME": str(tmp_path / "state")}.items():
        monkeypatch.setenv(k, v)
    logger = logging.getLogger(log.LOGGER)
    try:
        assert cli.main(["--debug"]) == 0
    finally:
        for handler in list(logger.handlers):
            handler.close()
            logger.removeHandler(handler)
    path = tmp_path / "state" / "momento-keys" / "log" / "momento-keys.log"
    text = path.read_text()
    assert "the dashboard starts" in text and "the dashboard drew 3 rows" in text
    assert path.stat().st_mode & 0o777 == 0o600
    assert f"debug log: {path}" in capsys.readouterr().err
