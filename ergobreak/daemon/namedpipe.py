"""The control channel on Windows: a per-user named pipe (multiprocessing.connection).

Pipe names are shared by the whole machine, so another user could create ours
first. Both ends therefore prove they hold the key in the user's own runtime folder
(multiprocessing's HMAC challenge, once each way) before a request is sent, and each
read waits only until the caller's deadline -- on the connection's own thread, not
in ``Listener.accept`` where one silent client would stall everyone. Imported on
Windows only; the tests run it over AF_UNIX (:data:`FAMILY`).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import time
from multiprocessing import AuthenticationError
from multiprocessing import connection as mpc
from pathlib import Path
from typing import cast

KEY_NAME = "ipc.key"
#: multiprocessing's name for named pipes
FAMILY = "AF_PIPE"


def address() -> str:
    user = "".join(c for c in getpass.getuser() if c.isalnum()) or "user"
    return rf"\\.\pipe\ergobreak-{user}"


def new_key(runtime_dir: Path) -> bytes:
    key = os.urandom(32)
    path = runtime_dir / KEY_NAME
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    os.replace(tmp, path)
    return key


class _Bounded:
    """A connection as the challenge functions use it, each read bounded by a deadline.
    (A pipe carries whole messages: once ``poll`` sees one, ``recv_bytes`` returns.)"""

    def __init__(self, conn: mpc.Connection, deadline: float) -> None:
        self._conn = conn
        self._deadline = deadline

    def send_bytes(self, data: bytes) -> None:
        self._conn.send_bytes(data)

    def recv_bytes(self, maxlength: int | None = None) -> bytes:
        if not self._conn.poll(max(0.0, self._deadline - time.monotonic())):
            raise TimeoutError("timed out")
        return self._conn.recv_bytes(maxlength)


class Channel:
    """One connection, either end; every read returns or raises by its deadline."""

    def __init__(self, conn: mpc.Connection, key: bytes, *, server: bool) -> None:
        self._conn = conn
        self._key = key
        self._server = server

    def handshake(self, deadline: float) -> None:
        """Raises:
        PermissionError: the other end does not hold the key.
        TimeoutError, EOFError, OSError: it stalled or went away."""
        bounded = cast("mpc.Connection", _Bounded(self._conn, deadline))
        try:
            # the order of multiprocessing's own Listener and Client
            if self._server:
                mpc.deliver_challenge(bounded, self._key)
                mpc.answer_challenge(bounded, self._key)
            else:
                mpc.answer_challenge(bounded, self._key)
                mpc.deliver_challenge(bounded, self._key)
        except (AuthenticationError, AssertionError) as exc:  # it asserts on a bad challenge
            raise PermissionError(f"the other end does not hold the key ({exc})") from None

    def recv_frame(self, limit: int, deadline: float) -> bytes:
        """Raises:
        TimeoutError: nothing by the deadline.
        OSError: longer than ``limit``. EOFError: closed."""
        return _Bounded(self._conn, deadline).recv_bytes(limit)

    def send_frame(self, data: bytes, deadline: float) -> None:
        self._conn.send_bytes(data)

    def close(self) -> None:
        self._conn.close()


class Listening:
    """The daemon's pipe and a fresh key, until :meth:`close`."""

    def __init__(self, runtime_dir: Path) -> None:
        self._key = new_key(runtime_dir)
        self._listener = mpc.Listener(address(), FAMILY)  # no authkey: see the module doc
        self.address = str(self._listener.address)

    def accept(self) -> Channel:
        return Channel(self._listener.accept(), self._key, server=True)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.close()


def connect(runtime_dir: Path, timeout: float) -> Channel:
    """Connect to the daemon's pipe with the key it left in the runtime folder.
    ``timeout`` does not apply: multiprocessing's pipe client waits up to its own 20 s
    for a free pipe instance, and the daemon keeps one ready.

    Raises:
        FileNotFoundError: no key or no pipe: nothing runs.
    """
    key = (runtime_dir / KEY_NAME).read_bytes()
    return Channel(mpc.Client(address(), FAMILY), key, server=False)
