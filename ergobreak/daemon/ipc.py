"""Control channel between ``ergobreak <command>`` and the running daemon.

One request and one reply per connection, each a frame of UTF-8 JSON (never pickle).
On Linux and macOS the frames go over an AF_UNIX socket whose ends ask the kernel
which user is at the other end (:mod:`~ergobreak.daemon.unixsocket`); on Windows
over a named pipe whose ends prove they hold a key only the user can read
(:mod:`~ergobreak.daemon.namedpipe`).

No client can stall the daemon: each connection is answered on a thread of its own,
at most :data:`MAX_CLIENTS` at once, and gets :data:`REQUEST_DEADLINE` for the
handshake and its request. Malformed requests are answered, broken frames dropped,
and nothing ends the server thread. No daemon can stall a client: connecting, the
handshake and the reply each have a timeout, and the message names the daemon's PID.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ergobreak.commands import BadRequest, Request, from_wire
from ergobreak.core.duration import format_amount
from ergobreak.daemon.instance import InstanceError, lock_holder

if sys.platform == "win32":  # pragma: no cover - untested on real Windows
    from ergobreak.daemon import namedpipe as transport
else:
    from ergobreak.daemon import unixsocket as transport

log = logging.getLogger(__name__)

#: the largest request a client may send, and the largest reply, in bytes
MAX_REQUEST = 64 * 1024
MAX_REPLY = 1024 * 1024
#: connections answered at once; further ones wait in the socket's backlog
MAX_CLIENTS = 8
#: seconds a connected client has for the handshake and its request (and to take the reply)
REQUEST_DEADLINE = 2.0
#: seconds the daemon takes at most to answer a request (``App.handle_ipc`` keeps to it)
ANSWER_WITHIN = 5.0
#: seconds the command line waits to be connected, then for the handshake and the reply
CONNECT_TIMEOUT = 2.0
REPLY_TIMEOUT = ANSWER_WITHIN + 2.0
#: seconds the server waits after a failed accept (out of descriptors), so it never spins
ACCEPT_RETRY = 0.5
#: characters of the problem a bad-request reply quotes
QUOTE = 200

_REQUEST_TIME = format_amount(REQUEST_DEADLINE)
NOT_RUNNING = "ergobreak is not running (start it with `ergobreak run`)"
INTERNAL_ERROR = {"ok": False, "error": "internal error (see the log)"}


class Unreachable(RuntimeError):
    """No usable answer from a daemon; the message says why and what to do."""


class NotRunning(Unreachable):
    """Nothing listens."""


class NotAnswering(Unreachable):
    """A daemon listens but does not answer in time."""


class Untrusted(Unreachable):
    """The runtime directory, the socket or the process behind it is not the user's
    own, so nothing was sent."""


Handler = Callable[[Request], dict[str, Any]]


def decode_request(raw: bytes) -> Request:
    """Raises:
    BadRequest: not UTF-8 JSON, nested deeper than the parser goes, or not a request."""
    try:
        return from_wire(json.loads(raw.decode("utf-8")))
    except RecursionError:
        raise BadRequest("nested too deeply") from None
    except BadRequest:
        raise
    except ValueError as exc:  # not UTF-8, not JSON, an integer of 4,300+ digits
        raise BadRequest(f"not JSON: {exc}") from None


def encode_reply(reply: dict[str, Any]) -> bytes:
    """``reply`` as a frame's body; an internal error if it cannot be one."""
    try:
        data = json.dumps(reply).encode("ascii")
    except (TypeError, ValueError, RecursionError):
        log.exception("control reply is not JSON: %.200r", reply)
        return json.dumps(INTERNAL_ERROR).encode("ascii")
    if len(data) > MAX_REPLY:
        log.error("control reply of %d bytes is over the %d-byte limit", len(data), MAX_REPLY)
        return json.dumps(INTERNAL_ERROR).encode("ascii")
    return data


class Server:
    """Answers each connection on a thread of its own, at most :data:`MAX_CLIENTS` at once."""

    def __init__(self, runtime_dir: Path, handler: Handler) -> None:
        self._handler = handler
        self._listening = transport.Listening(runtime_dir)
        self.address = self._listening.address
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="ergobreak-ipc", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        self._listening.close()

    def _serve(self) -> None:
        while not self._closed.is_set():
            self._slots.acquire()  # a free slot first: a flood waits in the backlog
            channel = None
            try:
                channel = self._listening.accept()
                threading.Thread(
                    target=self._answer, args=(channel,), name="ergobreak-ipc-client", daemon=True
                ).start()
            except Exception as exc:
                self._slots.release()
                if channel is not None:
                    with contextlib.suppress(OSError):
                        channel.close()
                if self._closed.is_set():
                    return
                log.warning("control connection failed: %s", exc)
                self._closed.wait(ACCEPT_RETRY)

    def _answer(self, channel: transport.Channel) -> None:
        try:
            self._exchange(channel)
        except Exception:
            log.exception("control connection failed")
        finally:
            with contextlib.suppress(OSError):
                channel.close()
            self._slots.release()

    def _exchange(self, channel: transport.Channel) -> None:
        deadline = time.monotonic() + REQUEST_DEADLINE
        try:
            channel.handshake(deadline)
            raw = channel.recv_frame(MAX_REQUEST, deadline)
        except PermissionError as exc:
            log.warning("control connection refused: %s", exc)
            return
        except TimeoutError:
            log.warning("control connection dropped: no request in %s", _REQUEST_TIME)
            return
        except (OSError, EOFError, ValueError) as exc:  # hung up, oversized
            log.warning("control connection dropped: %s", str(exc) or type(exc).__name__)
            return
        reply = encode_reply(self._reply_to(raw))
        try:
            channel.send_frame(reply, time.monotonic() + REQUEST_DEADLINE)
        except OSError as exc:
            log.info("control reply not delivered: %s", exc)

    def _reply_to(self, raw: bytes) -> dict[str, Any]:
        try:
            request = decode_request(raw)
        except BadRequest as exc:
            problem = str(exc)
            if len(problem) > QUOTE:
                problem = problem[:QUOTE] + "..."
            return {"ok": False, "error": f"bad request: {problem}"}
        try:
            return self._handler(request)
        except Exception:
            log.exception("control request %s failed", request.cmd)
            return INTERNAL_ERROR


def _not_answering(runtime_dir: Path, why: str) -> NotAnswering:
    pid = lock_holder(runtime_dir)  # the daemon wrote it there
    if pid is None:
        return NotAnswering(
            f"ergobreak is not answering: {why}; if that lasts, end it and start it again"
        )
    return NotAnswering(
        f"ergobreak is not answering (pid {pid}): {why};"
        f" if that lasts, end it with `kill {pid}` and start it again"
    )


def send(runtime_dir: Path, request: Request) -> dict[str, Any]:
    """Send one request to the running daemon and return its reply.

    Raises:
        NotRunning: nothing listens.
        NotAnswering: no connection or reply in time (the message has the PID).
        Untrusted: the runtime directory, socket or daemon is not the user's own.
        Unreachable: anything else that leaves no reply.
    """
    try:
        channel = transport.connect(runtime_dir, CONNECT_TIMEOUT)
    except InstanceError as exc:
        raise Untrusted(f"not connecting: {exc}") from None
    except (FileNotFoundError, ConnectionRefusedError):
        raise NotRunning(NOT_RUNNING) from None
    except BlockingIOError:  # its backlog is full: it has stopped accepting
        raise _not_answering(runtime_dir, "it takes no new connections") from None
    except TimeoutError:
        why = f"it took no connection in {format_amount(CONNECT_TIMEOUT)}"
        raise _not_answering(runtime_dir, why) from None
    except OSError as exc:
        raise Unreachable(f"cannot connect to ergobreak: {exc}") from None
    deadline = time.monotonic() + REPLY_TIMEOUT
    try:
        channel.handshake(deadline)
        channel.send_frame(json.dumps(request.to_wire()).encode("utf-8"), deadline)
        raw = channel.recv_frame(MAX_REPLY, deadline)
    except PermissionError as exc:
        raise Untrusted(f"not talking to the process behind {runtime_dir}: {exc}") from None
    except TimeoutError:
        why = f"no reply in {format_amount(REPLY_TIMEOUT)}"
        raise _not_answering(runtime_dir, why) from None
    except (OSError, EOFError, ValueError) as exc:
        why = f"it hung up without a reply ({str(exc) or type(exc).__name__})"
        raise _not_answering(runtime_dir, why) from None
    finally:
        channel.close()
    try:
        reply = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        reply = None
    if not isinstance(reply, dict):
        raise Unreachable("ergobreak sent a reply that is not a JSON object; its log may say why")
    return reply
