"""The control channel and single-instance lock, over real sockets and files: stalled
and flooding clients, malformed and fuzzed frames, hostile replies, untrusted files."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import socket
import stat
import struct
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from desktop.rig import wait_for
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scaffold import cli

from ergobreak.cli.common import printable
from ergobreak.commands import Request
from ergobreak.core.duration import format_amount
from ergobreak.daemon import ipc, unixsocket
from ergobreak.daemon.instance import (
    InstanceError,
    InstanceLock,
    check_private,
    ensure_private_dir,
    lock_holder,
)


@pytest.fixture
def runtime(tmp_path: Path) -> Path:
    return ensure_private_dir(tmp_path / "run")


Served = tuple[ipc.Server, list[Request]]


@pytest.fixture
def server(runtime: Path) -> Iterator[Served]:
    seen: list[Request] = []

    def handler(request: Request) -> dict[str, Any]:
        seen.append(request)
        return {"ok": True, "cmd": request.cmd}

    srv = ipc.Server(runtime, handler)
    srv.start()
    yield srv, seen
    srv.close()


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def raw_client(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(ipc.REQUEST_DEADLINE + 5)
    sock.connect(address)
    return sock


def exchange(address: str, data: bytes) -> dict[str, Any] | None:
    """Send ``data`` as it is, say it is all, and return the reply (None: dropped)."""
    with raw_client(address) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):  # dropped while sending
            return None
        received = b""
        # A server that drops a frame unread resets the connection after any reply.
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
    if not received:
        return None
    (size,) = struct.unpack(">I", received[:4])
    assert len(received) == 4 + size
    reply: dict[str, Any] = json.loads(received[4:])
    return reply


def still_answers(runtime: Path) -> float:
    """Seconds a real ``status`` request takes (it must succeed)."""
    started = time.monotonic()
    assert ipc.send(runtime, Request("status"))["ok"] is True
    return time.monotonic() - started


def test_a_command_round_trip(runtime: Path, server: Served) -> None:
    reply = ipc.send(runtime, Request("pause", {"seconds": 1800}))
    assert reply == {"ok": True, "cmd": "pause"}
    assert server[1] == [Request("pause", {"seconds": 1800})]


def test_socket_and_runtime_dir_are_private_and_there_is_no_key(
    runtime: Path, server: Served
) -> None:
    sock = Path(server[0].address)
    assert stat.S_ISSOCK(sock.lstat().st_mode)
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
    assert sorted(p.name for p in runtime.iterdir()) == ["ctl.sock"]


def test_no_instance_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ipc.NotRunning, match="not running"):
        ipc.send(ensure_private_dir(tmp_path / "empty"), Request("status"))
    with pytest.raises(ipc.NotRunning, match="not running"):
        ipc.send(tmp_path / "absent", Request("status"))


def test_a_closed_server_leaves_no_socket(runtime: Path) -> None:
    srv = ipc.Server(runtime, lambda r: {"ok": True})
    srv.close()
    assert not unixsocket.socket_path(runtime).exists()
    with pytest.raises(ipc.NotRunning):
        ipc.send(runtime, Request("status"))


def test_a_stale_socket_of_a_crashed_daemon_is_not_running(runtime: Path) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(unixsocket.socket_path(runtime)))
    os.chmod(unixsocket.socket_path(runtime), 0o600)
    stale.close()  # the file stays, as after a crash
    with pytest.raises(ipc.NotRunning, match="not running"):
        ipc.send(runtime, Request("status"))


def test_a_daemon_that_takes_no_connections_is_not_answering(runtime: Path) -> None:
    lock = InstanceLock(runtime)
    lock.acquire()
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stuck.bind(str(unixsocket.socket_path(runtime)))
    os.chmod(unixsocket.socket_path(runtime), 0o600)
    stuck.listen(0)  # and never accepts
    queued = []
    try:
        while True:  # fill its backlog
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            queued.append(sock)
            sock.setblocking(False)
            try:
                sock.connect(str(unixsocket.socket_path(runtime)))
            except BlockingIOError:
                break
        pattern = f"not answering \\(pid {os.getpid()}\\): it takes no new connections"
        with pytest.raises(ipc.NotAnswering, match=pattern):
            ipc.send(runtime, Request("status"))
    finally:
        for sock in queued:
            sock.close()
        stuck.close()
        lock.release()


def test_a_silent_client_or_half_a_frame_stalls_nobody(runtime: Path, server: Served) -> None:
    silent = raw_client(server[0].address)
    header_only = raw_client(server[0].address)
    header_only.sendall(struct.pack(">I", 100))
    half_body = raw_client(server[0].address)
    half_body.sendall(frame(b'{"v": 1, "cmd": "status"}')[:12])
    # A real request is answered at once, not after the stalled ones give up.
    assert still_answers(runtime) < ipc.REQUEST_DEADLINE / 2
    # Each stalled connection is dropped at its deadline, unanswered.
    started = time.monotonic()
    for stalled in (silent, header_only, half_body):
        assert stalled.recv(16) == b""
        stalled.close()
    assert time.monotonic() - started < ipc.REQUEST_DEADLINE + 1
    assert server[1] == [Request("status")]


def test_a_flood_of_connections_gets_bounded_threads_and_the_daemon_recovers(
    runtime: Path, server: Served
) -> None:
    flood = [raw_client(server[0].address) for _ in range(3 * ipc.MAX_CLIENTS)]

    def client_threads() -> int:
        return sum(t.name == "ergobreak-ipc-client" for t in threading.enumerate())

    wait_for(lambda: client_threads() >= ipc.MAX_CLIENTS, 5, what="busy client threads")
    assert client_threads() == ipc.MAX_CLIENTS  # the rest wait in the backlog
    for sock in flood:
        sock.close()
    assert still_answers(runtime) < ipc.REPLY_TIMEOUT
    wait_for(lambda: client_threads() == 0, 5, what="client threads to end")


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"",
        json.dumps({"v": 1, "cmd": "rm -rf"}).encode(),
        json.dumps({"v": 9, "cmd": "status"}).encode(),
        json.dumps({"v": 1, "cmd": "pause", "args": {"seconds": -5}}).encode(),
        json.dumps({"v": 1, "cmd": "pause", "args": {"seconds": 1e308}}).encode(),
        b'{"v": 1, "cmd": "pause", "args": {"seconds": NaN}}',
        json.dumps({"v": 1, "cmd": "status", "args": [1]}).encode(),
        json.dumps([1, 2]).encode(),
        b"[" * 30_000 + b"]" * 30_000,  # deeper than the parser goes
        b'{"v": ' + b"9" * 5000 + b"}",  # longer than Python reads an integer
        b"\xff\xfe",
        '{"v": 1, "cmd": "status"}'.encode("utf-16"),
    ],
)
def test_malformed_requests_get_an_error_reply(
    runtime: Path, server: Served, payload: bytes
) -> None:
    reply = exchange(server[0].address, frame(payload))
    assert reply is not None
    assert reply["ok"] is False
    assert reply["error"].startswith("bad request")
    assert len(reply["error"]) < ipc.QUOTE + 50
    assert server[1] == []
    still_answers(runtime)


def test_pickles_are_never_unpickled(runtime: Path, server: Served, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.system, (f"touch {marker}",))

    reply = exchange(server[0].address, frame(pickle.dumps(Evil())))
    assert reply is not None
    assert reply["ok"] is False
    assert not marker.exists()


@pytest.mark.parametrize("claimed", [ipc.MAX_REQUEST + 1, 2**32 - 1])
def test_oversized_frames_are_dropped_unread(runtime: Path, server: Served, claimed: int) -> None:
    started = time.monotonic()
    assert exchange(server[0].address, struct.pack(">I", claimed) + b"x" * 1000) is None
    assert time.monotonic() - started < ipc.REQUEST_DEADLINE  # not read to the end
    still_answers(runtime)


def test_handler_failures_are_answered_and_the_server_lives_on(runtime: Path) -> None:
    replies: list[Any] = [
        RuntimeError("boom"),
        {"ok": True, "value": object()},  # not JSON
        {"ok": True, "big": "x" * (ipc.MAX_REPLY + 1)},
        {"ok": True},
    ]

    def handler(request: Request) -> dict[str, Any]:
        reply = replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        assert isinstance(reply, dict)
        return reply

    srv = ipc.Server(runtime, handler)
    srv.start()
    try:
        for _ in range(3):
            assert ipc.send(runtime, Request("status")) == ipc.INTERNAL_ERROR
        assert ipc.send(runtime, Request("status")) == {"ok": True}
    finally:
        srv.close()


def test_a_reply_that_is_not_an_object_is_reported(runtime: Path) -> None:
    listening = unixsocket.Listening(runtime)

    def answer_with_a_list() -> None:
        channel = listening.accept()
        channel.recv_frame(ipc.MAX_REQUEST, time.monotonic() + 5)
        channel.send_frame(b"[1, 2]", time.monotonic() + 5)
        channel.close()

    thread = threading.Thread(target=answer_with_a_list)
    thread.start()
    try:
        with pytest.raises(ipc.Unreachable, match="not a JSON object"):
            ipc.send(runtime, Request("status"))
    finally:
        thread.join(5)
        listening.close()


# -- fuzzing a live server: whatever arrives, it answers or drops, and lives on --------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
COMMANDS = st.sampled_from(["status", "pause", "start", "quit", "open_config", "", "\x1b[2J"])
ARGS = st.dictionaries(st.sampled_from(["seconds", "routine"]), JSON)
REQUESTS = st.fixed_dictionaries(
    {"v": st.one_of(st.just(1), JSON), "cmd": st.one_of(COMMANDS, JSON)},
    optional={"args": st.one_of(ARGS, JSON)},
)
FUZZ = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)


def check_lives_on(runtime: Path, served: Served, data: bytes) -> None:
    srv, seen = served
    seen.clear()
    reply = exchange(srv.address, data)
    if reply is not None:
        assert isinstance(reply["ok"], bool)
        assert reply["ok"] or reply["error"].startswith("bad request")
        assert len(seen) == int(reply["ok"])  # the handler saw only what it answered
    else:
        assert seen == []
    assert ipc.send(runtime, Request("status"))["ok"] is True


@FUZZ
@given(data=st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(frame)))
@example(data=b"")
@example(data=b"\x00\x00")  # half a length
@example(data=b"\xff\xff\xff\xff")  # 4 GiB claimed
@example(data=frame(b"\x1b[31m"))
@example(data=frame(b'{"v":1,"cmd":"status"}')[:-3])  # half a frame, then end of stream
@example(data=frame(b'{"v":1,"cmd":"status"}') + b"trailing")
def test_fuzz_raw_bytes(runtime: Path, server: Served, data: bytes) -> None:
    check_lives_on(runtime, server, data)


@FUZZ
@given(body=st.one_of(JSON.map(json.dumps), REQUESTS.map(json.dumps)))
@example(body='{"v": 1, "cmd": "pause", "args": {"seconds": "99999999999999999999h"}}')
@example(body='{"v": 1, "cmd": "start", "args": {"routine": ["not", "a", "string"]}}')
@example(body='{"v": 1, "cmd": 5}')
@example(body='{"v": "1", "cmd": "status"}')
@example(body="[" * 900 + "]" * 900)
def test_fuzz_json_frames(runtime: Path, server: Served, body: str) -> None:
    check_lives_on(runtime, server, frame(body.encode("utf-8", "surrogatepass")))


# -- the command line: what it trusts, and what it prints -----------------------------


@pytest.fixture
def cli_runtime(isolated: Path) -> Path:
    """The runtime directory the in-process command line uses."""
    return ensure_private_dir(isolated / "run" / "ergobreak")


HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\r\nergobreak: all good\x9b0m\x00"


def test_control_characters_in_a_reply_are_never_printed(cli_runtime: Path) -> None:
    def handler(request: Request) -> dict[str, Any]:
        if request.cmd == "status":
            status = {
                "version": HOSTILE,
                "state": HOSTILE,
                "quiet": [HOSTILE],
                "backends": {HOSTILE: HOSTILE},
                "config_source": HOSTILE,
                "policy": HOSTILE,
                "config_error": HOSTILE,
            }
            return {"ok": True, "status": status}
        return {"ok": False, "error": HOSTILE, "details": [HOSTILE], "changes": HOSTILE}

    srv = ipc.Server(cli_runtime, handler)
    srv.start()
    try:
        results = [cli("status"), cli("status", "--json", "--personal"), cli("pause", "5m")]
    finally:
        srv.close()
    for _, out, err in results:
        for text in (out, err):
            shown = text.replace("\n", "")  # the command line's own line ends
            assert shown == printable(shown), repr(text)
    code, out, _ = results[0]
    assert code == 0
    assert "\\x1b[31mred\\x0d\\x0aergobreak: all good" in out
    assert json.loads(results[1][1])["version"] == printable(HOSTILE)
    code, _, err = results[2]
    assert code == 1
    assert err.count("\n") == 2  # the error and its one detail, each on one line


@given(text=st.text())
@example(text=HOSTILE)
def test_printable_spells_out_every_control_character(text: str) -> None:
    def controls(s: str) -> list[str]:
        return [c for c in s if unicodedata.category(c) == "Cc"]

    shown = printable(text)
    assert controls(shown) == []
    assert (shown == text) == (controls(text) == [])


@pytest.mark.parametrize(
    ("loosen", "problem"),
    [
        (lambda rt: rt.chmod(0o755), "is open to other users \\(mode 0755, expected 0700\\)"),
        (
            lambda rt: unixsocket.socket_path(rt).chmod(0o666),
            "ctl.sock is open to other users \\(mode 0666, expected 0600\\)",
        ),
        (
            lambda rt: os.chown(unixsocket.socket_path(rt), 65534, 65534),
            "ctl.sock belongs to uid 65534 \\(nobody\\), not to you",
        ),
    ],
)
def test_the_command_line_refuses_a_runtime_dir_or_socket_others_can_use(
    cli_runtime: Path, loosen: Any, problem: str
) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> dict[str, Any]:
        seen.append(request)
        return {"ok": True}

    srv = ipc.Server(cli_runtime, handler)
    srv.start()
    try:
        loosen(cli_runtime)
        code, out, err = cli("status")
        assert (code, out) == (4, "")
        assert err.startswith("ergobreak: not connecting: ")
        assert err.count("\n") == 1
        with pytest.raises(ipc.Untrusted, match=problem):
            ipc.send(cli_runtime, Request("status"))
        assert seen == []
    finally:
        srv.close()


def test_check_private_wants_the_right_kind(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(InstanceError, match="is not a socket"):
        check_private(tmp_path / "file", "socket")
    with pytest.raises(FileNotFoundError):
        check_private(tmp_path / "absent", "directory")


def test_the_pid_comes_from_the_lock_file(runtime: Path) -> None:
    assert lock_holder(runtime) is None
    lock = InstanceLock(runtime)
    lock.acquire()
    try:
        assert lock_holder(runtime) == os.getpid()
    finally:
        lock.release()
    (runtime / "instance.lock").write_text("\x1b[2J")
    assert lock_holder(runtime) is None


def test_macos_peer_credentials_are_read_from_an_xucred() -> None:
    xucred = struct.pack("=IIh2x16I", 0, 501, 1, *([20] * 16))
    assert unixsocket.xucred_uid(xucred) == 501
    with pytest.raises(OSError, match="unknown version"):
        unixsocket.xucred_uid(struct.pack("=II", 7, 501))
    with pytest.raises(OSError, match="of 3 bytes"):
        unixsocket.xucred_uid(b"abc")


def test_the_docs_state_the_channels_limits() -> None:
    root = Path(__file__).resolve().parent.parent
    docs = {
        name: " ".join((root / "docs" / name).read_text(encoding="utf-8").split())
        for name in ("architecture.md", "deploying.md")
    }
    for name, phrase in [
        ("architecture.md", f"requests at most {ipc.MAX_REQUEST // 1024} KiB"),
        ("architecture.md", f"replies {ipc.MAX_REPLY // 2**20} MiB"),
        ("architecture.md", f"at most {ipc.MAX_CLIENTS} at a time"),
        ("architecture.md", f"gets {format_amount(ipc.REQUEST_DEADLINE)} for the handshake"),
        ("architecture.md", f"answers within {format_amount(ipc.ANSWER_WITHIN)}"),
        ("architecture.md", f"waits {format_amount(ipc.CONNECT_TIMEOUT)} to be connected"),
        ("architecture.md", f"and {format_amount(ipc.REPLY_TIMEOUT)} for the reply"),
        ("deploying.md", f"does not answer within {format_amount(ipc.REPLY_TIMEOUT)}"),
    ]:
        assert phrase in docs[name], (name, phrase)


# -- the single instance and its runtime directory (the daemon's side) ----------------


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
    with pytest.raises(InstanceError, match="belongs to uid 65534 \\(nobody\\), not to you"):
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
