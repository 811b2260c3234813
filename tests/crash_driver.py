"""The process tests/test_crash.py kills with SIGKILL, over and over.

    python -m tests.crash_driver OP RUN --log PATH [--workdir DIR] [--override HOST:PORT]
                                 [--names A,B,...] [--seed N] [--iterations K] [--die-after N]

It loops over one real operation through the real entry point, the CLI's
``main()`` called in this process (argument parsing, Keeper, Store, Vault,
Rotator, MomentoApi: nothing is mocked):

* ``import``   ``import --name imp-RUN-I --file KEY.json`` (a fresh v1 key with a refresh token,
               as the console's Download JSON);
* ``generate`` ``generate --name gen-RUN-I --using su --expires 1h --all-data`` against the fake
               Momento server (``--endpoint-override``);
* ``rotate``   ``rotate NAME`` of a random name from ``--names``, against the fake server (each
               run of ``rotate`` first resumes interrupted rotations, then refreshes).

The database, settings and keyring come from the environment the test gives
(``MOMENTO_KEYS_DB``, ``MOMENTO_KEYS_CONFIG``, ``PYTHON_KEYRING_BACKEND``,
``XDG_DATA_HOME``), exactly as for the installed command.

Every step is logged to ``--log`` with ``os.write`` on an ``O_APPEND``
descriptor (no buffer a kill could lose): ``ready RUN`` once warmed up, then
``begin OP NAME FINGERPRINT`` before each operation and ``end OP NAME RC [last stderr line when RC != 0]``
after it. The test reads the log to know which operation a kill interrupted.

With ``--die-after N`` it kills itself (SIGKILL) right after its N-th durable
change instead of waiting for the test's random kill: see ``die_after``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import sys
import time
from pathlib import Path

ENDPOINT = "cell-4-us-west-2-1.prod.a.momentohq.com"
MAX_SECONDS = 60  # never outlive a test that forgot us


class Log:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def __call__(self, *words: object) -> None:
        os.write(self.fd, (" ".join(str(w) for w in words) + "\n").encode())


def fresh_key(rng: random.Random) -> tuple[str, str, int]:
    """A new v1 key (its own JWT, not signed by anyone Momento knows: import never calls Momento)."""
    import jwt

    from tui.core.keys import make_v1_key

    now = int(time.time())
    claims = {"sub": "crash-test", "ver": 1, "p": base64.b64encode(rng.randbytes(12)).decode(),
              "iat": now - 60, "exp": now + 30 * 86400, "jti": secrets.token_hex(8)}
    raw = jwt.encode(claims, secrets.token_hex(16), algorithm="HS256")
    return make_v1_key(raw, ENDPOINT), secrets.token_urlsafe(24), claims["exp"]


def die_after(n: int, log: Log) -> None:
    """Count every durable change this process makes and die by SIGKILL right after the
    n-th: a committed SQLite transaction, a keyring file replaced, an answer from Momento
    (which made a key or spent a refresh token on its side). Running n = 1, 2, ... until
    the operation finishes visits every state a crash can leave, each exactly once."""
    import signal

    from tests.file_keyring import LockedPlaintextKeyring
    from tui.services import momento, store

    count = [0]

    def point(what: str) -> None:
        count[0] += 1
        if count[0] == n:
            log("die", n, what)
            os.kill(os.getpid(), signal.SIGKILL)

    transaction = store.Store._transaction

    def counted_transaction(self):
        yield from transaction(self)
        point("sqlite commit")

    replace = LockedPlaintextKeyring._replace

    def counted_replace(self, config):
        replace(self, config)
        point("keyring write")

    store.Store._transaction = counted_transaction  # type: ignore[method-assign]
    LockedPlaintextKeyring._replace = counted_replace  # type: ignore[method-assign]
    for name in ("generate_api_key", "refresh_api_key"):
        real = getattr(momento.MomentoApi, name)

        def answered(self, *a, _real=real, _name=name, **k):
            result = _real(self, *a, **k)
            point(f"Momento answered {_name}")
            return result

        setattr(momento.MomentoApi, name, answered)


def call_main(argv: list[str]) -> tuple[int, str]:
    """Run the CLI's main() here; (exit code, the last line it wrote on stderr)."""
    import contextlib
    import io

    from tui.cli import main

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            rc = main(argv)
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else 1
    sys.stderr.write(err.getvalue())
    lines = err.getvalue().strip().splitlines()
    return int(rc or 0), " ".join(lines[-1].split()) if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("op", choices=["import", "generate", "rotate"])
    parser.add_argument("run", type=int)
    parser.add_argument("--log", required=True)
    parser.add_argument("--workdir", default=".")
    parser.add_argument("--override", default="")
    parser.add_argument("--names", default="")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=0, help="stop after this many (0: until killed)")
    parser.add_argument("--die-after", type=int, default=0, metavar="N",
                        help="SIGKILL ourselves right after the N-th durable change (see die_after)")
    args = parser.parse_args()
    rng = random.Random(args.seed * 1_000_003 + args.run)
    log = Log(args.log)
    if args.die_after:
        die_after(args.die_after, log)

    # Warm up, so that the kill lands in operations rather than in imports.
    import jwt  # noqa: F401
    import keyring

    import tui.cli
    import tui.cli.rotation
    import tui.services.keeper
    import tui.services.rotation
    from tui.core.keys import fingerprint

    keyring.get_keyring()
    if args.op != "import":
        import momento  # noqa: F401  (rotate's verification uses the SDK)

        import tui.services.momento  # noqa: F401
    common = ["--allow-insecure-keyring"]
    remote = ["--endpoint-override", args.override, "--timeout", "5"]
    names = [n for n in args.names.split(",") if n]
    log("ready", args.run)

    started = time.monotonic()
    i = 0
    while time.monotonic() - started < MAX_SECONDS and not (args.iterations and i >= args.iterations):
        if args.op == "import":
            name = f"imp-{args.run}-{i}"
            key, refresh, valid_until = fresh_key(rng)
            path = Path(args.workdir) / f"{name}.json"
            path.write_text(json.dumps({"apiKey": key, "refreshToken": refresh, "validUntil": valid_until}))
            log("begin", "import", name, fingerprint(key))
            argv = ["import", "--name", name, "--type", "fine-grained", "--file", str(path), *common]
        elif args.op == "generate":
            name = f"gen-{args.run}-{i}"
            log("begin", "generate", name, "-")
            argv = ["generate", "--name", name, "--using", "su", "--expires", "1h", "--all-data", *common, *remote]
        else:
            name = rng.choice(names)
            log("begin", "rotate", name, "-")
            argv = ["rotate", name, *common, *remote]
        rc, said = call_main(argv)
        log("end", args.op, name, rc, said if rc else "")
        i += 1
    log("finished" if args.iterations and i >= args.iterations else "timeout", args.run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
