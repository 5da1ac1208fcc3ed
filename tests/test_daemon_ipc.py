"""The control channel and single-instance lock, over real sockets and files."""

from __future__ import annotations

import json
import os
import pickle
import stat
from collections.abc import Iterator
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client
from pathlib import Path
from typing import Any

import pytest

from ergobreak.commands import Request
from ergobreak.daemon import ipc
from ergobreak.daemon.instance import InstanceError, InstanceLock, ensure_private_dir


@pytest.fixture
def runtime(tmp_path: Path) -> Path:
    return ensure_private_dir(tmp_path / "run")


@pytest.fixture
def server(runtime: Path) -> Iterator[tuple[ipc.Server, list[Request]]]:
    seen: list[Request] = []

    def handler(request: Request) -> dict[str, Any]:
        seen.append(request)
        return {"ok": True, "cmd": request.cmd}

    srv = ipc.Server(runtime, handler)
    srv.start()
    yield srv, seen
    srv.close()


def test_a_command_round_trip(runtime: Path, server: tuple[ipc.Server, list[Request]]) -> None:
    reply = ipc.send(runtime, Request("pause", {"seconds": 1800}))
    assert reply == {"ok": True, "cmd": "pause"}
    assert server[1] == [Request("pause", {"seconds": 1800})]


def test_socket_and_key_are_private(
    runtime: Path, server: tuple[ipc.Server, list[Request]]
) -> None:
    sock = Path(server[0].address)
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(ipc.key_path(runtime).stat().st_mode) == 0o600
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o700


def test_no_instance_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ipc.NotRunning, match="not running"):
        ipc.send(ensure_private_dir(tmp_path / "empty"), Request("status"))


def test_a_stale_socket_without_a_daemon_is_not_running(runtime: Path) -> None:
    srv = ipc.Server(runtime, lambda r: {"ok": True})
    srv.close()
    with pytest.raises(ipc.NotRunning):
        ipc.send(runtime, Request("status"))


def test_wrong_key_is_refused_and_the_daemon_lives_on(
    runtime: Path, server: tuple[ipc.Server, list[Request]]
) -> None:
    with pytest.raises(AuthenticationError):
        Client(server[0].address, "AF_UNIX", authkey=b"wrong" * 8)
    assert ipc.send(runtime, Request("status"))["ok"] is True
    assert server[1] == [Request("status")]


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        json.dumps({"v": 1, "cmd": "rm -rf"}).encode(),
        json.dumps({"v": 9, "cmd": "status"}).encode(),
        json.dumps({"v": 1, "cmd": "pause", "args": {"seconds": -5}}).encode(),
        json.dumps([1, 2]).encode(),
        b"\xff\xfe",
    ],
)
def test_malformed_messages_get_an_error_reply(
    runtime: Path, server: tuple[ipc.Server, list[Request]], payload: bytes
) -> None:
    key = ipc.key_path(runtime).read_bytes()
    with Client(server[0].address, "AF_UNIX", authkey=key) as conn:
        conn.send_bytes(payload)
        reply = json.loads(conn.recv_bytes())
    assert reply["ok"] is False
    assert reply["error"].startswith("bad request")
    assert server[1] == []
    assert ipc.send(runtime, Request("status"))["ok"] is True


def test_pickles_are_never_unpickled(
    runtime: Path, server: tuple[ipc.Server, list[Request]], tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (f"touch {marker}",))

    key = ipc.key_path(runtime).read_bytes()
    with Client(server[0].address, "AF_UNIX", authkey=key) as conn:
        conn.send_bytes(pickle.dumps(Evil()))
        reply = json.loads(conn.recv_bytes())
    assert reply["ok"] is False
    assert not marker.exists()


def test_oversized_messages_are_dropped(
    runtime: Path, server: tuple[ipc.Server, list[Request]]
) -> None:
    key = ipc.key_path(runtime).read_bytes()

    def exchange() -> bytes:
        with Client(server[0].address, "AF_UNIX", authkey=key) as conn:
            conn.send_bytes(b"x" * (ipc.MAX_MESSAGE + 1))
            return conn.recv_bytes()

    with pytest.raises((EOFError, OSError)):  # refused while sending or before a reply
        exchange()
    assert ipc.send(runtime, Request("status"))["ok"] is True


def test_one_instance_per_user(runtime: Path) -> None:
    first = InstanceLock(runtime)
    first.acquire()
    second = InstanceLock(runtime)
    with pytest.raises(InstanceError, match=f"already running \\(pid {os.getpid()}\\)"):
        second.acquire()
    first.release()
    second.acquire()
    second.release()


def test_a_runtime_dir_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, 65534, 65534)
    with pytest.raises(InstanceError, match="belongs to uid 65534"):
        ensure_private_dir(foreign)


def test_a_loose_runtime_dir_is_tightened(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    ensure_private_dir(loose)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700


def test_a_symlinked_runtime_dir_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(InstanceError, match="not a directory"):
        ensure_private_dir(link)
