"""The Vault against a real Secret Service: gnome-keyring in a private D-Bus session.

The test process needs no D-Bus of its own: it runs
``dbus-run-session -- python HELPER`` and the helper, inside that throwaway
session bus,

1. starts ``gnome-keyring-daemon --unlock --components=secrets`` with a
   password on stdin, HOME and XDG_* pointing into a temporary directory (so
   the user's own keyrings are never touched) and no DISPLAY (so an unlock
   prompt can never open a window and wait for a person);
2. uses ``keyring.backends.SecretService.Keyring`` explicitly with our Vault:
   probe() is SECURE, a secret and refresh token go in, come back, are deleted;
3. runs ``python -m tui doctor --json`` with PYTHON_KEYRING_BACKEND pointing at
   the Secret Service backend: health "secure";
4. locks the collection over D-Bus (org.freedesktop.Secret.Service.Lock, which
   gnome-keyring grants without a prompt) and checks the locked keyring is
   caught: put() through a vault that was healthy a moment ago raises a
   VaultError that says "locked", a fresh probe() is BROKEN, and doctor says
   "broken". Unlocking again needs a prompt; gnome-keyring asks
   gcr-prompter, which has no display here and exits at once, so the prompt
   is dismissed and keyring raises KeyringLocked. Each locked call also runs
   in a thread with a deadline, so a prompt that did wait would be reported as
   "hung" rather than hang the run.

The helper prints one JSON line (prefixed RESULT) and the tests assert on it.
Secrets are made here, passed on stdin (never argv or the environment), and
must not appear in anything the helper prints.

Missing dbus-run-session or gnome-keyring-daemon: skipped on a developer's
machine, but a failure when CI is set (.ci/run installs them, so a skip there
would hide a regression).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SECRETS_MADE, make_v1
from tui.core.keys import fingerprint

pytestmark = pytest.mark.secret_service

REPO = Path(__file__).resolve().parent.parent
SESSION_TIMEOUT = 60  # seconds for the whole D-Bus session, helper included

HELPER = r'''
import json, os, subprocess, sys, threading, time, traceback

report = {"steps": []}
spec = json.loads(sys.stdin.read())
tmp = spec["tmp"]


def emit_and_exit():
    sys.stdout.write("RESULT " + json.dumps(report) + "\n")
    sys.stdout.flush()
    # A thread stuck on a prompt must not keep the process alive.
    os._exit(0)


def step(name):
    report["steps"].append(name)


def with_deadline(fn, seconds=15.0):
    """(outcome, value): outcome is 'ok', 'raised' or 'hung'."""
    box = {}

    def run():
        try:
            box["value"] = ("ok", fn())
        except BaseException as exc:
            box["value"] = ("raised", exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    return box.get("value", ("hung", None))


def doctor(env_extra):
    env = dict(os.environ, **env_extra)
    p = subprocess.run([sys.executable, "-m", "tui", "doctor", "--json"], env=env, cwd=spec["repo"],
                       capture_output=True, text=True, timeout=30)
    out = {"rc": p.returncode, "stderr": p.stderr[-2000:]}
    try:
        data = json.loads(p.stdout)
        out["keyring"] = data.get("keyring")
        out["problems"] = data.get("problems")
    except ValueError:
        out["stdout"] = p.stdout[-2000:]
    return out


try:
    # ---- an isolated home, no display ---------------------------------------
    step("env")
    home = os.path.join(tmp, "home")
    runtime = os.path.join(tmp, "run")
    for d in (home, runtime):
        os.makedirs(d, mode=0o700, exist_ok=True)
    os.environ.update({
        "HOME": home,
        "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "XDG_RUNTIME_DIR": runtime,
        "MOMENTO_KEYS_DB": os.path.join(tmp, "keys.db"),
        "MOMENTO_KEYS_CONFIG": os.path.join(tmp, "config.toml"),
        "MOMENTO_CONFIG_DIR": os.path.join(tmp, "momento-cli"),
    })
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "GNOME_KEYRING_CONTROL", "SSH_AUTH_SOCK",
                "PYTHON_KEYRING_BACKEND"):
        os.environ.pop(var, None)
    report["bus"] = bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS"))

    # ---- gnome-keyring, unlocked with a password on stdin ---------------------
    step("daemon")
    p = subprocess.run(["gnome-keyring-daemon", "--unlock", "--components=secrets"],
                       input=spec["password"] + "\n", capture_output=True, text=True, timeout=20)
    report["daemon"] = {"rc": p.returncode, "stderr": p.stderr[-1000:]}
    for line in p.stdout.splitlines():  # GNOME_KEYRING_CONTROL=... when it prints any
        key, sep, value = line.partition("=")
        if sep and key.isidentifier():
            os.environ[key] = value

    import secretstorage

    conn = secretstorage.dbus_init()
    deadline = time.monotonic() + 10
    while not secretstorage.check_service_availability(conn):
        if time.monotonic() > deadline:
            raise RuntimeError("org.freedesktop.secrets never appeared on the session bus")
        time.sleep(0.1)
    collection = secretstorage.get_default_collection(conn)
    report["collection"] = {"label": collection.get_label(), "locked": collection.is_locked()}
    report["keyring_file_in_tmp_home"] = os.path.exists(
        os.path.join(os.environ["XDG_DATA_HOME"], "keyrings", "login.keyring"))

    # ---- the Vault over the real Secret Service -------------------------------
    step("vault")
    import keyring.backends.SecretService
    from tui.services.vault import SERVICE, Vault, VaultError, classify

    def ours():
        return sorted(i.get_attributes().get("username", "") for i in
                      collection.search_items({"service": SERVICE}))

    backend = keyring.backends.SecretService.Keyring()
    report["classify"] = list(classify(backend))
    vault = Vault(backend)
    st = vault.probe()
    report["probe"] = {"health": st.health.value, "description": st.description, "detail": st.detail}
    report["after_probe_items"] = ours()

    fp, secret, refresh = spec["fingerprint"], spec["secret"], spec["refresh"]
    vault.put(fp, secret, refresh)
    report["stored_items"] = ours()
    report["get_matches"] = vault.get(fp) == secret
    report["refresh_matches"] = vault.get_refresh_token(fp) == refresh
    # Another backend instance (as a new process would have) sees the same secret.
    report["fresh_backend_matches"] = Vault(keyring.backends.SecretService.Keyring()).get(fp) == secret
    vault.delete(fp)
    report["has_after_delete"] = vault.has(fp)
    report["refresh_after_delete"] = vault.get_refresh_token(fp)
    report["items_after_delete"] = ours()

    # ---- doctor, through keyring's own backend selection ------------------------
    step("doctor")
    report["doctor"] = doctor({"PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"})

    # ---- a locked collection ---------------------------------------------------
    step("lock")
    healthy = Vault(keyring.backends.SecretService.Keyring())
    report["locked_pre_probe"] = healthy.probe().health.value
    collection.lock()
    report["locked_now"] = collection.is_locked()

    outcome, value = with_deadline(lambda: healthy.put(fp, secret, refresh))
    report["locked_put"] = {
        "outcome": outcome,
        "error_type": type(value).__name__ if outcome == "raised" else None,
        "is_vault_error": isinstance(value, VaultError),
        "message": str(value) if outcome == "raised" else None,
    }

    def fresh_probe():
        s = Vault(keyring.backends.SecretService.Keyring()).probe()
        return {"health": s.health.value, "detail": s.detail}

    outcome, value = with_deadline(fresh_probe)
    report["locked_probe"] = {"outcome": outcome,
                              "value": value if outcome == "ok" else repr(value)}
    report["locked_doctor"] = doctor({"PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"})
    report["still_locked"] = collection.is_locked()
    report["items_after_locked_put"] = ours()
    step("done")
except BaseException:
    report["error"] = traceback.format_exc()[-3000:]
emit_and_exit()
'''


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _require_tools() -> None:
    missing = [t for t in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(t) is None]
    if not missing:
        return
    msg = f"{', '.join(missing)} not installed (Debian: apt-get install gnome-keyring dbus-user-session)"
    if _ci():
        pytest.fail(f"CI must run the Secret Service tests, but {msg}", pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="module")
def made() -> dict[str, str]:
    secret = make_v1()
    refresh = secrets.token_urlsafe(32)
    password = secrets.token_urlsafe(12)
    SECRETS_MADE.update({secret, refresh})
    return {"secret": secret, "refresh": refresh, "password": password, "fingerprint": fingerprint(secret)}


@pytest.fixture(scope="module")
def session(made: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the helper once inside a private D-Bus session; its report and output."""
    _require_tools()
    tmp = tmp_path_factory.mktemp("secret-service")
    helper = tmp / "helper.py"
    helper.write_text(HELPER)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    for var in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(var, None)
    spec = dict(made, tmp=str(tmp), repo=str(REPO))
    # Own process group: on a timeout the whole session (dbus-daemon, keyring) goes.
    proc = subprocess.Popen(["dbus-run-session", "--", sys.executable, str(helper)], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(json.dumps(spec), timeout=SESSION_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the Secret Service session did not finish in {SESSION_TIMEOUT}s\n"
                    f"stdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}", pytrace=False)
    finally:
        # gnome-keyring-daemon leaves with its bus; make sure of it.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    lines = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        pytest.fail(f"the helper failed (exit {proc.returncode})\nstdout:\n{out[-3000:]}\nstderr:\n{err[-3000:]}",
                    pytrace=False)
    report = json.loads(lines[-1][len("RESULT "):])
    return {"report": report, "stdout": out, "stderr": err}


@pytest.fixture(scope="module")
def report(session: dict[str, Any]) -> dict[str, Any]:
    r = session["report"]
    assert "error" not in r, f"the helper stopped at {r['steps'][-1]!r}:\n{r['error']}\nstderr:\n{session['stderr'][-3000:]}"
    return r


def test_gnome_keyring_runs_in_a_private_session(report: dict[str, Any]) -> None:
    assert report["bus"]
    assert report["daemon"]["rc"] == 0, report["daemon"]
    assert report["collection"]["locked"] is False
    # The login keyring was created under the temporary home, not the user's.
    assert report["keyring_file_in_tmp_home"] is True


def test_probe_says_secret_service_is_secure(report: dict[str, Any]) -> None:
    assert report["classify"][0] == "keyring.backends.SecretService.Keyring"
    assert report["classify"][2] is True
    assert report["probe"]["health"] == "secure", report["probe"]
    assert "Secret Service" in report["probe"]["description"]
    assert report["after_probe_items"] == []  # the probe cleans up after itself


def test_secret_and_refresh_token_round_trip_and_delete(report: dict[str, Any], made: dict[str, str]) -> None:
    fp = made["fingerprint"]
    assert report["stored_items"] == sorted([f"key:{fp}", f"refresh:{fp}"])
    assert report["get_matches"] is True
    assert report["refresh_matches"] is True
    assert report["fresh_backend_matches"] is True
    assert report["has_after_delete"] is False
    assert report["refresh_after_delete"] is None
    assert report["items_after_delete"] == []


def test_doctor_reports_secure(report: dict[str, Any]) -> None:
    doc = report["doctor"]
    assert doc.get("keyring"), doc
    assert doc["keyring"]["backend"] == "keyring.backends.SecretService.Keyring"
    assert doc["keyring"]["health"] == "secure", doc
    assert doc["rc"] == 0, doc


def test_locked_collection_is_caught(report: dict[str, Any]) -> None:
    assert report["locked_pre_probe"] == "secure"
    assert report["locked_now"] is True
    put = report["locked_put"]
    assert put["outcome"] == "raised", f"put() into a locked keyring did not fail: {put}"
    assert put["is_vault_error"], put
    assert "locked" in put["message"].lower(), put
    assert report["items_after_locked_put"] == []  # nothing half-written
    probe = report["locked_probe"]
    assert probe["outcome"] == "ok", probe
    assert probe["value"]["health"] == "broken", probe
    assert "locked" in probe["value"]["detail"].lower(), probe
    doc = report["locked_doctor"]
    assert doc["keyring"]["health"] == "broken", doc
    assert doc["rc"] == 1
    assert report["still_locked"] is True  # the dismissed prompt did not unlock it


def test_no_secret_reaches_the_output(session: dict[str, Any], made: dict[str, str]) -> None:
    text = session["stdout"] + session["stderr"]
    for name in ("secret", "refresh", "password"):
        assert made[name] not in text, f"the {name} leaked into the helper's output"


def headless_wrapper() -> str:
    """The wrapper script exactly as the README shows it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- headless-keyring", 1)[1].split("<!-- /headless-keyring -->", 1)[0]
    return block.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_readme_headless_keyring_recipe_works_across_sessions(tmp_path: Path) -> None:
    """The README's recipe for servers, run as written: one D-Bus session stores a key, a later
    session (as the next cron run would) reads it back; doctor calls the keyring secure."""
    if not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")):
        if os.environ.get("CI"):
            pytest.fail("dbus-run-session and gnome-keyring-daemon are installed by .ci/run")
        pytest.skip("needs dbus-run-session and gnome-keyring-daemon")
    wrapper = tmp_path / "with-keyring"
    wrapper.write_text(headless_wrapper())
    wrapper.chmod(0o700)
    password = tmp_path / "keyring-pass"
    password.write_text(secrets.token_urlsafe(24) + "\n")
    password.chmod(0o600)
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True, mode=0o700)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MOMENTO", "PYTHON_KEYRING", "DBUS", "GNOME_KEYRING", "XDG", "DISPLAY",
                                "WAYLAND"))}
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(home / "run"), MOMENTO_KEYRING_PASSWORD_FILE=str(password),
               MOMENTO_KEYS_DB=str(tmp_path / "keys.db"), MOMENTO_KEYS_CONFIG=str(tmp_path / "config.toml"),
               PYTHONPATH=str(REPO))
    key = make_v1()

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(wrapper), sys.executable, "-m", "tui", *args], input=stdin, env=env,
                              capture_output=True, text=True, timeout=SESSION_TIMEOUT)

    first = run("import", "--name", "server key", stdin=key)
    assert first.returncode == 0, first.stderr  # 0, not 5: the secret is in a secure keyring
    second = run("export", "server key", "--stdout")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["apiKey"] == key  # the next session reads what the first stored
    doctor = run("doctor", "--json")
    assert json.loads(doctor.stdout)["keyring"]["health"] == "secure", doctor.stdout[-500:]
    assert key not in first.stdout + first.stderr + doctor.stdout + doctor.stderr
    assert list((home / ".local" / "share" / "keyrings").glob("*.keyring"))  # on disk, encrypted
