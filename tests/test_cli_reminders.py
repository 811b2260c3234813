"""reminders, snooze, dismiss, rotate, notify and metrics through real subprocesses."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.cli_support import cli_env, run_cli
from tests.conftest import console_json, make_v1
from tests.fake_momento import FakeMomento

DAY = 86400


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "bin").mkdir()   # a place for a fake notify-send, first on PATH
    return cli_env(tmp_path, PATH=f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")


def run(env, *args, stdin=None):
    return run_cli(env, *args, stdin=stdin)


def now() -> int:
    return int(time.time())


def seed_due(env, name="soon"):
    """A 30-day key with 10 days left: its warning reminder is due."""
    p = run(env, "import", "--name", name, "--notes", "orders-svc k8s", "--allow-insecure-keyring",
            stdin=make_v1(issued=now() - 20 * DAY, expires=now() + 10 * DAY))
    assert p.returncode == 0, p.stderr


def test_reminders_list_and_json(env):
    seed_due(env)
    run(env, "import", "--name", "fresh", stdin=make_v1(issued=now(), expires=now() + 90 * DAY))
    p = run(env, "reminders")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0].split()[:3] == ["STATE", "KIND", "KEY"]
    assert lines[1].startswith("DUE") and "soon" in lines[1] and "orders-svc k8s" in lines[1]
    rows = json.loads(run(env, "reminders", "--due", "--json").stdout)
    assert rows == [{"name": "soon", "kind": "warning", "state": "due", "due_at": rows[0]["due_at"],
                     "notes": "orders-svc k8s"}]
    everything = json.loads(run(env, "reminders", "--json").stdout)
    assert {(r["name"], r["kind"]) for r in everything} >= {("fresh", "warning"), ("fresh", "expiry"),
                                                            ("soon", "critical"), ("soon", "expiry")}


def test_snooze_and_dismiss(env):
    seed_due(env)
    p = run(env, "snooze", "soon", "2d")
    assert p.returncode == 0 and "for 2d" in p.stdout
    assert json.loads(run(env, "reminders", "--due", "--json").stdout) == []
    assert_clean = run(env, "snooze", "soon", "later")
    assert assert_clean.returncode == 1 and "not a duration" in assert_clean.stderr
    p = run(env, "dismiss", "soon")
    assert p.returncode == 1 and "--kind" in p.stderr      # several open and none due: say which
    p = run(env, "dismiss", "soon", "--kind", "warning")
    assert p.returncode == 0 and "dismissed" in p.stdout
    p = run(env, "dismiss", "nobody")
    assert p.returncode == 1 and "no key named 'nobody'" in p.stderr and "Traceback" not in p.stderr


def test_check_reports_due_reminders(env):
    seed_due(env)
    p = run(env, "check")
    assert p.returncode == 1 and "1 reminder due" in p.stdout
    doc = json.loads(run(env, "check", "--json").stdout)
    assert [(d["name"], d["kind"]) for d in doc["reminders_due"]] == [("soon", "warning")]


def test_notify_sends_each_reminder_once(env, tmp_path):
    seed_due(env, "a")
    seed_due(env, "b")
    log = tmp_path / "sent.log"
    sender = tmp_path / "bin" / "notify-send"
    sender.write_text(f"#!/bin/sh\nprintf '%s|' \"$@\" >> {log}\necho >> {log}\n")
    sender.chmod(0o755)
    assert run(env, "notify").returncode == 0
    sent = log.read_text().splitlines()
    assert len(sent) == 2 and all("momento-keys: warning" in line for line in sent)
    assert any("'a'" in line for line in sent) and any("'b'" in line for line in sent)
    assert run(env, "notify").returncode == 0
    assert len(log.read_text().splitlines()) == 2           # nothing twice
    sender.unlink()
    seed_due(env, "c")
    p = run(env, "notify")                                  # no notify-send: stdout
    assert p.stdout.count("momento-keys: warning") == 1 and "'c'" in p.stdout


def test_metrics_textfile_is_valid_prometheus_text(env, tmp_path):
    seed_due(env, 'quote"d name')
    run(env, "import", "--name", "forever", stdin=make_v1(expires=None))
    target = tmp_path / "textfile" / "momento.prom"
    target.parent.mkdir()
    p = run(env, "metrics", "--textfile", str(target))
    assert p.returncode == 0, p.stderr
    text = target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert not [f for f in target.parent.iterdir() if f.name.endswith(".tmp")]
    families = {f.name: f for f in text_string_to_metric_families(text)}
    expiry = families["momento_key_expiry_timestamp_seconds"]
    assert [s.labels["name"] for s in expiry.samples] == ['quote"d name']      # never-expiring: no expiry series
    assert {s.labels["region"] for s in expiry.samples} == {"us-west-2"}
    left = families["momento_key_seconds_left"].samples[0].value
    assert 9 * DAY < left <= 10 * DAY
    status = [s for s in families["momento_key_status"].samples if s.value == 1]
    assert {(s.labels["name"], s.labels["status"]) for s in status} == {('quote"d name', "warning"),
                                                                        ("forever", "never-expires")}
    assert families["momento_keys_reminders_due"].samples[0].value == 1
    assert abs(families["momento_keys_metrics_generated_timestamp_seconds"].samples[0].value - time.time()) < 60
    assert run(env, "metrics").stdout == text or "momento_keys_tracked 2" in run(env, "metrics").stdout


def test_metrics_bad_textfile_dir(env, tmp_path):
    p = run(env, "metrics", "--textfile", str(tmp_path / "nope" / "x.prom"))
    assert p.returncode == 1 and "no such directory" in p.stderr


def test_rotate_through_the_cli(env, fake_momento: FakeMomento):
    key, refresh = fake_momento.issue_key(valid_for_seconds=2 * DAY)
    p = run(env, "import", "--name", "orders", "--type", "fine-grained", "--allow-insecure-keyring",
            stdin=console_json(key, now() + 2 * DAY, refresh))
    assert p.returncode == 0, p.stderr
    p = run(env, "rotate", "orders", "--endpoint-override", fake_momento.override, "--allow-insecure-keyring")
    assert p.returncode == 0, p.stderr
    assert "Rotated 'orders'" in p.stdout and "keeps working until" in p.stdout
    [(request, _)] = fake_momento.calls("RefreshApiToken")
    assert request.refresh_token == refresh
    rows = {r["name"]: r for r in json.loads(run(env, "list", "--all", "--json").stdout)}
    assert rows["orders"]["lifecycle"] == "active" and rows["orders"]["has_refresh_token"]
    [old_name] = [n for n in rows if n != "orders"]
    assert rows[old_name]["lifecycle"] == "previous"
    assert key not in p.stdout and refresh not in p.stdout and key not in p.stderr
    # The switch reminder; marking it done retires the old key.
    due = json.loads(run(env, "reminders", "--due", "--json").stdout)
    assert ("switch", old_name) in {(d["kind"], d["name"]) for d in due}
    p = run(env, "dismiss", old_name, "--kind", "switch", "--done")
    assert p.returncode == 0
    rows = {r["name"]: r for r in json.loads(run(env, "list", "--all", "--json").stdout)}
    assert rows[old_name]["lifecycle"] == "retired"


def test_rotate_refuses_keys_that_cannot_be_refreshed(env, fake_momento: FakeMomento):
    run(env, "import", "--name", "plain", stdin=make_v1(expires=now() + 30 * DAY))
    p = run(env, "rotate", "plain", "--endpoint-override", fake_momento.override)
    assert p.returncode == 1 and "without a refresh token" in p.stderr and "Traceback" not in p.stderr
    assert fake_momento.calls("RefreshApiToken") == []


def test_rotate_unreachable_is_exit_3(env):
    key = make_v1(issued=now() - DAY, expires=now() + 5 * DAY)
    run(env, "import", "--name", "k", "--allow-insecure-keyring", stdin=console_json(key, now() + 5 * DAY, "rt-zzz"))
    p = run(env, "rotate", "k", "--endpoint-override", "127.0.0.1:1", "--allow-insecure-keyring", "--timeout", "2")
    assert p.returncode == 3, p.stderr
    assert "unchanged" in p.stderr


def test_import_replaces_links_a_manual_rotation(env):
    run(env, "import", "--name", "v2 old", "--endpoint", "cell-1-eu-west-1-1.prod.a.momentohq.com",
        stdin=make_v1(expires=now() + 5 * DAY))
    p = run(env, "import", "--name", "v2 new", "--replaces", "v2 old", stdin=make_v1(expires=now() + 90 * DAY))
    assert p.returncode == 5 and "replaces 'v2 old'" in p.stderr  # linked; metadata only here
    rows = {r["name"]: r for r in json.loads(run(env, "list", "--all", "--json").stdout)}
    assert rows["v2 old"]["lifecycle"] == "previous"
    kinds = {d["kind"] for d in json.loads(run(env, "reminders", "--json").stdout) if d["name"] == "v2 old"}
    assert {"switch", "revoke"} <= kinds
