"""Give freed heap memory back to the operating system.

Building a roster of 100,000 keys allocates and frees tens of megabytes of
short-lived objects in a worker thread. CPython frees them, but glibc's
malloc keeps the freed pages (in the worker thread's own arena, too), so the
dashboard's resident memory would stay at its loading peak for as long as it
runs. `malloc_trim(0)` returns every wholly free page to the system; it is
glibc's own call for long-running processes, a few milliseconds here.
Elsewhere (macOS, musl) this does nothing.
"""

from __future__ import annotations

import sys
from functools import cache


@cache
def _trim():
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only here: the dashboard imports this module at start-up

    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own C library
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return freed heap pages to the OS; True if the platform allows it."""
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True
