"""The smaller CLI fixes of issues 12 and 14, through real subprocesses: grants Momento would
refuse, a disposable token's id, `export --format lambda`, `verify`'s wording, `check`'s
thresholds from the command line, and the help texts (exit codes, one line per command)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.cli_support import cli_env, run_cli
from tests.conftest import console_json, make_v1
from tests.fake_momento import FakeMomento
from tests.test_cli_momento import add_superuser, generate

DAY = 86400
ERROR = "momento-keys: error: "


@pytest.fixture
def env(tmp_path: Path, fake_momento: FakeMomento) -> dict[str, str]:
    return cli_env(tmp_path, HOME=str(tmp_path / "home"), MOMENTO_KEYS_ENDPOINT_OVERRIDE=fake_momento.override)


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(env, *args, stdin=stdin)


def one_line(p: subprocess.CompletedProcess[str], code: int) -> str:
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    lines = [x for x in p.stderr.splitlines() if not x.startswith(("momento-keys: note:", "momento-keys: warning:"))]
    assert len(lines) == 1 and lines[0].startswith(ERROR) and "Traceback" not in p.stderr, p.stderr
    return lines[0]


def now() -> int:
    import time

    return int(time.time())


# ---- grants Momento refuses, token ids --------------------------------------------------------

@pytest.mark.parametrize("grants, kind", [
    (["--cache", "orders=readonly", "--cache", "orders=writeonly"], "cache"),
    (["--cache", "*=readwrite", "--cache", "*=readonly"], "cache"),
    (["--topic", "c/t=publishonly", "--topic", "c/t=subscribeonly"], "topic"),
])
def test_two_roles_on_the_same_target_are_refused_before_sending(env, fake_momento, grants, kind):
    add_superuser(env, fake_momento)
    for disposable in ([], ["--disposable"]):
        line = one_line(generate(env, "--name", "x", "--expires", "1h", *disposable, *grants), 1)
        assert f"Two roles on the same {kind}" in line and "Momento refuses that" in line
    assert fake_momento.calls("GenerateApiToken") == [] and fake_momento.calls("GenerateDisposableToken") == []
    # A cache grant and a topic grant in that cache are different targets.
    p = generate(env, "--name", "ok", "--expires", "1h", "--cache", "c=readonly", "--topic", "c/t=publishonly")
    assert p.returncode == 0, p.stderr


def test_a_disposable_token_id_goes_to_the_token_service(env, fake_momento):
    add_superuser(env, fake_momento)
    p = generate(env, "--name", "tmp [/]", "--disposable", "--expires", "1h", "--cache", "c=readonly",
                 "--token-id", "ci-run-42")
    assert p.returncode == 0, p.stderr
    assert "disposable token (token id 'ci-run-42')" in p.stdout
    [(request, _)] = fake_momento.calls("GenerateDisposableToken")
    assert request.token_id == "ci-run-42"
    p = generate(env, "--name", "tmp2", "--disposable", "--expires", "1h", "--cache", "c=readonly")
    assert p.returncode == 0
    assert fake_momento.calls("GenerateDisposableToken")[-1][0].token_id == ""  # none given, none sent
    line = one_line(generate(env, "--name", "t3", "--disposable", "--expires", "1h", "--cache", "c=readonly",
                             "--token-id", "x" * 65), 1)
    assert "1 to 64 visible characters" in line
    line = one_line(generate(env, "--name", "t3", "--disposable", "--expires", "1h", "--cache", "c=readonly",
                             "--token-id", "a\x1b[2Jb"), 1)
    assert "\x1b" not in line and "visible characters" in line
    assert len(fake_momento.calls("GenerateDisposableToken")) == 2


# ---- export --format lambda ----------------------------------------------------------------------

def test_export_for_the_refresh_lambda(env, fake_momento, tmp_path):
    key, refresh = fake_momento.issue_key(valid_for_seconds=2 * DAY)
    until = now() + 2 * DAY
    assert run(env, "import", "--name", "orders", "--allow-insecure-keyring",
               stdin=console_json(key, until, refresh)).returncode == 0
    out = tmp_path / "lambda.json"
    p = run(env, "export", "orders", "--format", "lambda", "--out", str(out))
    assert p.returncode == 0, p.stderr
    doc = json.loads(out.read_text())
    assert doc == {"authToken": key, "refreshToken": refresh, "validUntil": str(until)}  # a string, as it reads
    assert out.stat().st_mode & 0o777 == 0o600
    p = run(env, "export", "orders", "--format", "lambda")  # a pipe
    assert json.loads(p.stdout) == doc
    assert run(env, "export", "orders", "--format", "nope").returncode == 2
    # A key without a refresh token: written, with a warning that the lambda cannot refresh it.
    assert run(env, "import", "--name", "plain", "--allow-insecure-keyring", stdin=make_v1()).returncode == 0
    p = run(env, "export", "plain", "--format", "lambda")
    assert p.returncode == 0 and json.loads(p.stdout)["refreshToken"] == ""
    assert "no refresh token, so the refresh lambda cannot refresh it" in p.stderr


# ---- verify: success is not "super-user" ------------------------------------------------------------

def test_verify_does_not_call_a_key_that_can_list_caches_super_user(env, fake_momento):
    add_superuser(env, fake_momento)
    p = run(env, "verify", "admin")
    assert p.returncode == 0 and "valid" in p.stdout
    assert "super" not in p.stdout.lower()
    assert "roles such as Viewer can list caches too" in run(env, "verify", "--help").stdout.replace("\n", " ")


# ---- check: the command line's thresholds are the whole policy ------------------------------------

def test_check_thresholds_from_the_command_line_replace_the_fractions(env):
    # 30 days of life, 20 used (2/3 of it: the default fraction's warning), 10 days left.
    assert run(env, "import", "--name", "k", stdin=make_v1(issued=now() - 20 * DAY - 60,
                                                            expires=now() + 10 * DAY)).returncode == 5
    assert run(env, "check").returncode == 1                                   # settings: 2/3 used
    assert run(env, "check", "--warn", "5d", "--critical", "1d").returncode == 0  # the whole policy: 10d left is ok
    assert run(env, "check", "--warn", "5d").returncode == 0
    assert run(env, "check", "--warn", "5d", "--warn-fraction", "0.5").returncode == 1  # added back
    assert run(env, "check", "--warn", "5d", "--critical-fraction", "0.6").returncode == 2
    assert run(env, "check", "--critical-fraction", "0.6").returncode == 2    # alone: only that fraction changes
    p = run(env, "check", "--warn-fraction", "1.5")
    assert p.returncode == 3 and "between 0 and 1" in p.stderr
    p = run(env, "check", "--warn-fraction", "0.9", "--critical-fraction", "0.5")
    assert p.returncode == 3 and "--critical-fraction must not be smaller" in p.stderr


# ---- help --------------------------------------------------------------------------------------------

def test_help_lists_the_exit_codes(env):
    top = run(env, "--help").stdout
    assert "README" not in top
    for code, words in (("0", "done"), ("1", "error"), ("2", "usage error"), ("3", "unknown"), ("4", "rescued"),
                        ("5", "tracked, but the secret could not be stored"), ("130", "interrupted")):
        assert re.search(rf"^  {code} +{words}", top, re.M), (code, top)
    check = run(env, "check", "--help").stdout
    assert "exit codes" in check and re.search(r"^  3  unknown", check, re.M) and "--warn-fraction" in check
    generate_help = run(env, "generate", "--help").stdout
    assert generate_help.index("v2 API key (recommended") < generate_help.index("v1 fine-grained key")
    assert "disposable token" in generate_help


def test_every_command_has_a_description_and_every_json_option_a_help():
    import argparse

    from tui.cli.parser import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    listed = {a.dest: a.help for a in sub._choices_actions}
    for name, command in sub.choices.items():
        assert listed.get(name) and "\n" not in listed[name], name     # its line in `momento-keys --help`
        assert command.description, name                                 # the first line of its own --help
        for action in command._actions:
            if "--json" in action.option_strings:
                assert action.help, f"{name} --json"
