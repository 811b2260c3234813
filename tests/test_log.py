"""The debug log never holds a secret, whatever a caller logs."""

from __future__ import annotations

import io
import logging
import stat
from pathlib import Path

import pytest

from tests.conftest import make_v1
from tui.services import log


@pytest.fixture(autouse=True)
def quiet():
    yield
    logger = logging.getLogger(log.LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.WARNING)


def test_secrets_and_escapes_are_removed_from_every_record() -> None:
    out = io.StringIO()
    log.configure(stream=out)
    key = make_v1()
    logger = log.get("momento")
    logger.debug("generate with %s", key)
    logger.info("refresh token rt-%s", "x" * 40)
    try:
        raise ValueError(f"bad key {key}")
    except ValueError:
        logger.exception("failed")
    logger.debug("name \x1b[2J\x1b]52;c;AAAA\x07")
    text = out.getvalue()
    assert key not in text and "x" * 40 not in text and "[redacted]" in text
    assert "\x1b" not in text and "\x07" not in text and "ValueError" in text and "Traceback" not in text


def test_the_dashboard_log_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "momento-keys.log"
    log.configure(path=path)
    with log.timed(log.get("store"), "open"):
        pass
    for handler in logging.getLogger(log.LOGGER).handlers:
        handler.flush()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "open took" in path.read_text()


@pytest.mark.parametrize("flag, env, on", [(True, {}, True), (False, {"MOMENTO_KEYS_DEBUG": "1"}, True),
                                           (False, {"MOMENTO_KEYS_DEBUG": "0"}, False), (False, {}, False)])
def test_debug_is_asked_for_by_flag_or_environment(flag, env, on) -> None:
    assert log.debug_requested(flag, env) is on
