"""Control channel between ``ergobreak <command>`` and the running daemon.

Transport: :mod:`multiprocessing.connection` over a per-user AF_UNIX socket
(mode 0600, in the 0700 runtime directory; a per-user named pipe on Windows),
authenticated with an HMAC challenge using a random key from a 0600 file.
Messages are JSON through ``send_bytes``/``recv_bytes`` -- never pickle.
Malformed or unauthenticated messages are answered or dropped; the daemon lives on.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

from ergobreak.commands import BadRequest, Request, from_wire

log = logging.getLogger(__name__)

MAX_MESSAGE = 64 * 1024
REPLY_TIMEOUT = 10.0


class NotRunning(RuntimeError):
    """No daemon answers (the message says how to start one)."""


def address(runtime_dir: Path) -> tuple[str, str]:
    if sys.platform == "win32":  # pragma: no cover - untested on real Windows
        user = "".join(c for c in getpass.getuser() if c.isalnum()) or "user"
        return rf"\\.\pipe\ergobreak-{user}", "AF_PIPE"
    return str(runtime_dir / "ctl.sock"), "AF_UNIX"


def key_path(runtime_dir: Path) -> Path:
    return runtime_dir / "ipc.key"


def new_key(runtime_dir: Path) -> bytes:
    key = os.urandom(32)
    path = key_path(runtime_dir)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    os.replace(tmp, path)
    return key


Handler = Callable[[Request], dict[str, Any]]


class Server:
    """Accepts one request per connection on a thread that blocks in ``accept``."""

    def __init__(self, runtime_dir: Path, handler: Handler) -> None:
        self._handler = handler
        addr, family = address(runtime_dir)
        if family == "AF_UNIX":
            # Only the lock holder gets here, so a leftover socket is stale.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(addr)
        self._key = new_key(runtime_dir)
        old_umask = os.umask(0o177)
        try:
            self._listener = Listener(addr, family, authkey=self._key)
        finally:
            os.umask(old_umask)
        if family == "AF_UNIX":
            os.chmod(addr, 0o600)
        self.address = addr
        self._thread = threading.Thread(target=self._serve, name="ergobreak-ipc", daemon=True)
        self._closed = False

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except (OSError, EOFError) as exc:
                if self._closed:
                    return
                log.warning("control connection refused: %s", exc)
                continue
            except Exception as exc:  # AuthenticationError and friends
                log.warning("control connection refused: %s", exc)
                continue
            with conn:
                self._answer(conn)

    def _answer(self, conn: Connection) -> None:
        try:
            raw = conn.recv_bytes(MAX_MESSAGE)
        except (OSError, EOFError) as exc:
            log.warning("bad control message: %s", exc)
            return
        try:
            request = from_wire(json.loads(raw.decode("utf-8")))
            reply = self._handler(request)
        except (ValueError, BadRequest) as exc:
            reply = {"ok": False, "error": f"bad request: {exc}"}
        except Exception:
            log.exception("control request failed")
            reply = {"ok": False, "error": "internal error (see the log)"}
        with contextlib.suppress(OSError, ValueError):
            conn.send_bytes(json.dumps(reply).encode("utf-8"))


def send(runtime_dir: Path, request: Request, timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
    """Send one request to the running daemon and return its reply.

    Raises:
        NotRunning: no daemon listens (or the key is unreadable).
    """
    addr, family = address(runtime_dir)
    try:
        key = key_path(runtime_dir).read_bytes()
    except OSError:
        raise NotRunning("ergobreak is not running (start it with `ergobreak run`)") from None
    try:
        conn = Client(addr, family, authkey=key)
    except (OSError, EOFError):
        raise NotRunning("ergobreak is not running (start it with `ergobreak run`)") from None
    except Exception as exc:  # AuthenticationError: a stale key file
        raise NotRunning(f"cannot talk to ergobreak: {exc}") from None
    with conn:
        conn.send_bytes(json.dumps(request.to_wire()).encode("utf-8"))
        if not conn.poll(timeout):
            return {"ok": False, "error": "ergobreak did not answer in time"}
        reply: dict[str, Any] = json.loads(conn.recv_bytes(MAX_MESSAGE).decode("utf-8"))
        return reply
