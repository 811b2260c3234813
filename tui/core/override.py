"""The endpoint override (``MOMENTO_KEYS_ENDPOINT_OVERRIDE=HOST:PORT``): one rule for
what it may be, used by the Momento client, the CLI, the dashboard and ``doctor``."""

from __future__ import annotations

import re

ENV_OVERRIDE = "MOMENTO_KEYS_ENDPOINT_OVERRIDE"
_HOST = re.compile(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.%A-Za-z]+\]")


class OverrideError(ValueError):
    """The override is not a usable HOST:PORT; the message says why."""


def parse_override(value: str) -> tuple[str, int]:
    """``HOST:PORT`` as ``(host, port)``; raises ``OverrideError`` with a sentence."""
    host, sep, port_text = value.strip().rpartition(":")
    if (not sep or not _HOST.fullmatch(host) or not port_text.isascii() or not port_text.isdigit()
            or not 0 < int(port_text) < 65536):
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:76] + "...'"
        raise OverrideError(f"the endpoint override must look like HOST:PORT (a host name, IPv4 address or "
                            f"[IPv6] address, and a port), not {shown}")
    port = int(port_text)
    if port == 443:
        # The SDK uses TLS on 443 whatever we ask; the override is for plaintext local servers.
        raise OverrideError("the endpoint override is plaintext and port 443 is for TLS; use a port other than 443")
    return host, port
