"""Calls to the Momento service: generate, refresh, disposable tokens, verify.

Synchronous and blocking: the app runs these in worker threads, the CLI calls them
directly. No Textual here. Depend on :class:`MomentoClient` (the seam); build a
:class:`MomentoApi` (the real client) only where the app is wired.

* :mod:`.protocol`  the seam: ``MomentoClient``, ``GeneratedKey``, ``VerifyResult``
* :mod:`.errors`    ``MomentoError`` and how gRPC statuses and SDK errors map to it
* :mod:`.wire`      grants as protobuf / SDK objects; Momento's answer as a ``GeneratedKey``
* :mod:`.sdk`       the SDK's async clients, run on one long-lived event loop
* :mod:`.client`    ``MomentoApi``: targets, headers, deadlines, retries, channels
"""

from tui.core.override import ENV_OVERRIDE

from .client import AGENT, RUNTIME_VERSION, MomentoApi
from .errors import ErrorCode, MomentoError
from .protocol import GeneratedKey, MomentoClient, VerifyResult, VerifyStatus
from .wire import permissions_message, wrap_v1_key

__all__ = [
    "AGENT",
    "ENV_OVERRIDE",
    "RUNTIME_VERSION",
    "ErrorCode",
    "GeneratedKey",
    "MomentoApi",
    "MomentoClient",
    "MomentoError",
    "VerifyResult",
    "VerifyStatus",
    "permissions_message",
    "wrap_v1_key",
]
