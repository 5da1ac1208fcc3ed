"""Give memory back after start-up and reloads.

Reading config and content, importing modules and drawing icons leave freed
memory in the allocator; a daemon that runs all day should not keep it. On glibc
``malloc_trim(0)`` returns free heap pages to the system (1-3 MB here).
"""

from __future__ import annotations

import ctypes
import functools
import gc
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, looked up once in the symbols already loaded:
    ``ctypes.util.find_library`` would fork ``ldconfig -p`` at every reload."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # musl has no malloc_trim
        return None
    return trim


def release() -> None:
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def skip_openssl() -> None:
    """Keep OpenSSL's libcrypto (3-4 MB resident) out of the daemon.

    The daemon hashes nothing but the control channel's HMAC challenge on Windows,
    which CPython's built-in hashes do as well; :mod:`hmac` and :mod:`hashlib` fall
    back to them when ``_hashlib`` cannot be imported. Only for the daemon process,
    and only if nothing loaded it already.
    """
    if "_hashlib" not in sys.modules:
        sys.modules["_hashlib"] = None  # type: ignore[assignment]
