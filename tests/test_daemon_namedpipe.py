"""The Windows transport (a named pipe), run here over AF_UNIX: multiprocessing's
Connection is the same object on both, so what is tested is ours -- both ends prove
they hold the key, an impostor never gets a request, a silent client is dropped at
its deadline without stalling the next one."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing import connection as mpc
from pathlib import Path
from typing import Any

import pytest

from ergobreak.commands import Request
from ergobreak.daemon import ipc, namedpipe
from ergobreak.daemon.instance import ensure_private_dir


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(namedpipe, "FAMILY", "AF_UNIX")
    monkeypatch.setattr(namedpipe, "address", lambda: str(tmp_path / "pipe"))
    return ensure_private_dir(tmp_path / "run")


def in_thread(work: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``work`` on a thread; the returned function joins it and gives its result
    (or raises what it raised)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result() -> Any:
        thread.join(10)
        (value,) = outcome
        if isinstance(value, Exception):
            raise value
        return value

    return result


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def test_a_frame_round_trip_after_both_ends_prove_the_key(runtime: Path) -> None:
    listening = namedpipe.Listening(runtime)

    def serve() -> bytes:
        channel = listening.accept()
        channel.handshake(soon())
        request = channel.recv_frame(ipc.MAX_REQUEST, soon())
        channel.send_frame(b"pong", soon())
        channel.close()
        return request

    served = in_thread(serve)
    channel = namedpipe.connect(runtime, 2)
    channel.handshake(soon())
    channel.send_frame(b"ping", soon())
    assert channel.recv_frame(ipc.MAX_REPLY, soon()) == b"pong"
    channel.close()
    assert served() == b"ping"
    listening.close()


def test_a_client_without_the_key_is_refused(runtime: Path) -> None:
    listening = namedpipe.Listening(runtime)
    served = in_thread(lambda: listening.accept().handshake(soon()))
    (runtime / namedpipe.KEY_NAME).write_bytes(os.urandom(32))  # not the daemon's
    with pytest.raises(PermissionError, match="does not hold the key"):
        namedpipe.connect(runtime, 2).handshake(soon())
    with pytest.raises(PermissionError, match="does not hold the key"):
        served()
    listening.close()


def test_an_impostor_pipe_never_gets_the_request(runtime: Path) -> None:
    """Someone else's pipe under our name, welcoming whatever we answer: it cannot
    answer our challenge, so nothing is sent."""
    namedpipe.new_key(runtime)
    impostor = mpc.Listener(namedpipe.address(), "AF_UNIX")

    def pose() -> list[bytes]:
        conn = impostor.accept()
        conn.send_bytes(b"#CHALLENGE#" + os.urandom(40))
        conn.recv_bytes()  # our digest
        conn.send_bytes(b"#WELCOME#")
        conn.recv_bytes()  # our challenge, which it cannot answer
        conn.send_bytes(b"\x00" * 16)
        heard = []
        while conn.poll(2):
            try:
                heard.append(conn.recv_bytes())
            except EOFError:
                break
        return heard

    posed = in_thread(pose)
    channel = namedpipe.connect(runtime, 2)
    with pytest.raises(PermissionError, match="does not hold the key"):
        channel.handshake(soon())
    channel.close()
    assert posed() == [b"#FAILURE#"]  # and no request
    impostor.close()


def test_a_silent_client_is_dropped_at_its_deadline(runtime: Path) -> None:
    listening = namedpipe.Listening(runtime)
    served = in_thread(lambda: listening.accept().handshake(soon(0.3)))
    silent = mpc.Client(namedpipe.address(), "AF_UNIX")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        served()
    assert time.monotonic() - started < 2
    silent.close()
    listening.close()


def test_an_oversized_frame_is_refused(runtime: Path) -> None:
    listening = namedpipe.Listening(runtime)
    served = in_thread(lambda: listening.accept().recv_frame(10, soon()))
    channel = namedpipe.connect(runtime, 2)
    channel.send_frame(b"x" * 11, soon())
    with pytest.raises(OSError, match="bad message length"):
        served()
    channel.close()
    listening.close()


@pytest.fixture
def pipe_server(runtime: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ipc.Server]:
    monkeypatch.setattr(ipc, "transport", namedpipe)
    server = ipc.Server(runtime, lambda request: {"ok": True, "cmd": request.cmd})
    server.start()
    yield server
    server.close()


def test_the_server_over_a_pipe_answers_while_a_client_stalls_its_handshake(
    runtime: Path, pipe_server: ipc.Server
) -> None:
    silent = mpc.Client(namedpipe.address(), "AF_UNIX")
    started = time.monotonic()
    assert ipc.send(runtime, Request("status")) == {"ok": True, "cmd": "status"}
    assert time.monotonic() - started < ipc.REQUEST_DEADLINE / 2
    silent.close()


def test_no_key_means_not_running(runtime: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ipc, "transport", namedpipe)
    with pytest.raises(ipc.NotRunning):
        ipc.send(runtime, Request("status"))
