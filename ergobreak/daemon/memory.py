"""Give memory back after start-up and reloads.

Reading config and content, importing modules and drawing icons leave freed
memory in the allocator; a daemon that runs all day should not keep it. On glibc
``malloc_trim(0)`` returns free heap pages to the system (1-3 MB here).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import sys


def release() -> None:
    gc.collect()
    if not sys.platform.startswith("linux"):
        return
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):  # musl has no malloc_trim
        ctypes.CDLL(name).malloc_trim(0)


def skip_openssl() -> None:
    """Keep OpenSSL's libcrypto (3-4 MB resident) out of the daemon.

    The daemon hashes nothing but the control channel's HMAC challenge on Windows,
    which CPython's built-in hashes do as well; :mod:`hmac` and :mod:`hashlib` fall
    back to them when ``_hashlib`` cannot be imported. Only for the daemon process,
    and only if nothing loaded it already.
    """
    if "_hashlib" not in sys.modules:
        sys.modules["_hashlib"] = None  # type: ignore[assignment]
