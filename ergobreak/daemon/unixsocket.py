"""The control channel on Linux and macOS: an AF_UNIX stream socket.

A frame is a 4-byte big-endian length and that many bytes. Who is at the other end
is asked of the kernel (SO_PEERCRED on Linux, LOCAL_PEERCRED on macOS), so the
daemon serves only its own user and the command line talks only to a daemon of its
own user -- and only through a runtime directory and socket that are its own and
private. No key, no challenge round trips, no multiprocessing or OpenSSL to load.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import sys
import time
from pathlib import Path

from ergobreak.daemon.instance import check_private

SOCKET_NAME = "ctl.sock"
_LENGTH = struct.Struct(">I")
#: Linux ``struct ucred``: pid, uid, gid
_UCRED = struct.Struct("=iII")
#: macOS ``struct xucred`` starts with its version (0) and the uid; the whole is 76 bytes
_XUCRED = struct.Struct("=II")
_XUCRED_SIZE = 76
#: macOS <sys/un.h>: SOL_LOCAL, LOCAL_PEERCRED
_SOL_LOCAL, _LOCAL_PEERCRED = 0, 1


def socket_path(runtime_dir: Path) -> Path:
    return runtime_dir / SOCKET_NAME


def xucred_uid(raw: bytes) -> int:
    """The uid in a macOS ``struct xucred``.

    Raises:
        OSError: not a version-0 xucred.
    """
    if len(raw) < _XUCRED.size:
        raise OSError(f"peer credentials of {len(raw)} bytes")
    version, uid = _XUCRED.unpack_from(raw)
    if version != 0:
        raise OSError(f"peer credentials of unknown version {version}")
    return int(uid)


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a connected AF_UNIX socket.

    Raises:
        OSError: the system cannot tell.
    """
    if sys.platform.startswith("linux"):
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
        return int(_UCRED.unpack(raw)[1])
    return xucred_uid(sock.getsockopt(_SOL_LOCAL, _LOCAL_PEERCRED, _XUCRED_SIZE))


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("timed out")
    return left


class Channel:
    """One connection, either end; every call returns or raises by its deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def handshake(self, deadline: float) -> None:
        """Raises:
        PermissionError: the other end runs as another user."""
        uid = peer_uid(self._sock)
        if uid != os.getuid():
            raise PermissionError(f"the other end runs as uid {uid}, not as you")

    def recv_frame(self, limit: int, deadline: float) -> bytes:
        """Raises:
        TimeoutError: not all there by the deadline.
        EOFError: closed before the end of the frame.
        ValueError: longer than ``limit``."""
        (size,) = _LENGTH.unpack(self._recv_exactly(_LENGTH.size, deadline))
        if size > limit:
            raise ValueError(f"a frame of {size} bytes is over the {limit}-byte limit")
        return self._recv_exactly(size, deadline)

    def send_frame(self, data: bytes, deadline: float) -> None:
        self._sock.settimeout(_left(deadline))  # a total for sendall, not per chunk
        self._sock.sendall(_LENGTH.pack(len(data)) + data)

    def close(self) -> None:
        self._sock.close()

    def _recv_exactly(self, size: int, deadline: float) -> bytes:
        data = bytearray()
        while len(data) < size:
            self._sock.settimeout(_left(deadline))
            chunk = self._sock.recv(size - len(data))
            if not chunk:
                raise EOFError(f"closed after {len(data)} of {size} bytes")
            data += chunk
        return bytes(data)


class Listening:
    """The daemon's socket, 0600 in the runtime directory, until :meth:`close`."""

    def __init__(self, runtime_dir: Path) -> None:
        path = socket_path(runtime_dir)
        # Only the lock holder gets here, so a leftover socket is stale.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(path))
        # Private before anyone can connect: listen() comes after the chmod.
        os.chmod(path, 0o600)
        self._sock.listen()
        self._path = path
        self.address = str(path)

    def accept(self) -> Channel:
        conn, _ = self._sock.accept()
        return Channel(conn)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._path.unlink()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept
        self._sock.close()


def connect(runtime_dir: Path, timeout: float) -> Channel:
    """Connect to the daemon's socket, once the runtime directory and the socket have
    proved to be ours and private.

    Raises:
        InstanceError: the directory or socket is someone else's, or open to others.
        FileNotFoundError, ConnectionRefusedError: nothing listens.
        TimeoutError, BlockingIOError: something listens but does not accept.
    """
    check_private(runtime_dir, "directory")
    path = socket_path(runtime_dir)
    check_private(path, "socket")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(str(path))
    except BaseException:
        sock.close()
        raise
    return Channel(sock)
