"""The debug log: what the tool did (calls, timings, retries), never a secret.

Off unless ``--debug`` or ``MOMENTO_KEYS_DEBUG=1``. Commands log to stderr; the dashboard
(which owns the terminal) logs to a file in the user log directory, mode 0600, which
``doctor`` names. Every record passes through a filter that redacts anything shaped like
a key or token, whatever a caller put in it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.text import redact, terminal_safe

LOGGER = "momento_keys"
ENV_DEBUG = "MOMENTO_KEYS_DEBUG"
APP_NAME = "momento-keys"


def get(name: str) -> logging.Logger:
    """The logger of one part of the tool (``get("momento")`` → ``momento_keys.momento``)."""
    return logging.getLogger(f"{LOGGER}.{name}")


class Redact(logging.Filter):
    """Formats the message once, then removes secrets and control characters from it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        record.msg = terminal_safe(redact(text))
        record.args = None
        if record.exc_info:
            # A traceback can hold a secret (a repr of arguments): log its type only.
            record.msg += f" ({record.exc_info[0].__name__ if record.exc_info[0] else 'error'})"
            record.exc_info = None
            record.exc_text = None
        return True


def debug_requested(flag: bool = False, environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return flag or env.get(ENV_DEBUG, "").strip().lower() in ("1", "true", "yes", "on")


def log_file() -> Path:
    from platformdirs import user_log_dir

    return Path(user_log_dir(APP_NAME, appauthor=False)) / "momento-keys.log"


def configure(*, stream: object | None = None, path: Path | None = None) -> Path | None:
    """Turn the debug log on: to ``stream`` (commands) or to ``path`` (the dashboard; created
    0600 in a 0700 folder). Returns the file written, if any."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    for old in list(logger.handlers):
        logger.removeHandler(old)
    handler: logging.Handler
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o600)
        os.close(fd)
        handler = logging.FileHandler(path, encoding="utf-8")
    else:
        handler = logging.StreamHandler(stream)  # type: ignore[arg-type]
    handler.addFilter(Redact())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return path


@contextmanager
def timed(logger: logging.Logger, what: str) -> Iterator[None]:
    """Log how long ``what`` took (and that it failed, if it did)."""
    if not logger.isEnabledFor(logging.DEBUG):
        yield
        return
    start = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        logger.debug("%s failed after %.1f ms: %s", what, (time.perf_counter() - start) * 1000, type(exc).__name__)
        raise
    logger.debug("%s took %.1f ms", what, (time.perf_counter() - start) * 1000)
