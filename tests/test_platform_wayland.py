"""The Wayland wire protocol client and the idle adapter on it, byte for byte.

The compositor here is the other end of a socket pair, scripted by the test: it reads
what the client sends and checks it against messages written out by hand from the
protocol XML (host byte order: these hex strings are little-endian, as every machine
the tests run on is), and answers with hand-written events. The real compositors are
in tests/shells/test_wayland_idle.py.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from ergobreak.platform.base import Unavailable
from ergobreak.platform.wayland import (
    Args,
    Event,
    ProtocolError,
    WaylandDisplay,
    encode,
    socket_for,
    split,
)
from ergobreak.platform.wayland_idle import WaylandIdle

assert sys.byteorder == "little", "the hex below is written little-endian"

# wl_display.get_registry(new_id 2): object 1, size 12 << 16 | opcode 1
GET_REGISTRY = bytes.fromhex("01000000 01000c00 02000000")


def sync(callback: int) -> bytes:
    """wl_display.sync(new_id callback): object 1, size 12, opcode 0."""
    return bytes.fromhex("01000000 00000c00") + callback.to_bytes(4, "little")


def done(callback: int) -> bytes:
    """wl_callback.done(0) on ``callback``, then wl_display.delete_id(callback)."""
    return (
        callback.to_bytes(4, "little")
        + bytes.fromhex("00000c00 00000000")
        + bytes.fromhex("01000000 01000c00")
        + callback.to_bytes(4, "little")
    )


def announce(name: int, interface: str, version: int) -> bytes:
    """wl_registry.global(name, interface, version) on registry object 2."""
    raw = interface.encode() + b"\0"
    padded = raw + b"\0" * (-len(raw) % 4)
    size = 8 + 4 + 4 + len(padded) + 4
    return (
        bytes.fromhex("02000000")
        + (size << 16).to_bytes(4, "little")
        + name.to_bytes(4, "little")
        + len(raw).to_bytes(4, "little")
        + padded
        + version.to_bytes(4, "little")
    )


class Compositor:
    """The server end of a socket pair, read and written by the test."""

    def __init__(self) -> None:
        self.client, self.server = socket.socketpair()
        self.server.settimeout(5)

    def expect(self, wanted: bytes) -> None:
        got = b""
        while len(got) < len(wanted):
            chunk = self.server.recv(len(wanted) - len(got))
            assert chunk, f"client hung up; got {got.hex(' ', 4)}"
            got += chunk
        assert got.hex(" ", 4) == wanted.hex(" ", 4)

    def answer_sync(self, callback: int, before: bytes = b"") -> None:
        self.expect(sync(callback))
        self.server.sendall(before + done(callback))

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def compositor() -> Iterator[Compositor]:
    comp = Compositor()
    yield comp
    comp.close()


def connect(comp: Compositor, *globals_: tuple[str, int]) -> WaylandDisplay:
    """A display on ``comp`` that announces ``globals_`` (global names from 1)."""
    opened: list[WaylandDisplay | BaseException] = []

    def client() -> None:
        try:
            opened.append(WaylandDisplay(comp.client, "test-0"))
        except BaseException as exc:  # handed to the test thread
            opened.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    comp.expect(GET_REGISTRY)
    adverts = b"".join(announce(i, iface, v) for i, (iface, v) in enumerate(globals_, 1))
    comp.answer_sync(3, before=adverts)
    thread.join(5)
    result = opened[0]
    if isinstance(result, BaseException):
        raise result
    return result


# --------------------------------------------------------------------------- wire format


def test_encode_matches_the_wire_format() -> None:
    assert encode(1, 1, 2) == GET_REGISTRY
    # wl_registry.bind(name 7, "wl_seat", version 1, new_id 4): the string is its length
    # with the NUL (8), the bytes, no padding needed at 8
    assert encode(2, 0, 7, "wl_seat", 1, 4).hex(" ", 4) == (
        "02000000 00002000 07000000 08000000 776c5f73 65617400 01000000 04000000"
    )
    # "ab" + NUL is 3 bytes: padded to 4
    assert encode(5, 3, "ab").hex(" ", 4) == "05000000 03001000 03000000 61620000"


def test_encode_refuses_what_the_wire_cannot_carry() -> None:
    with pytest.raises(ProtocolError):
        encode(1, 0, -1)
    with pytest.raises(ProtocolError):
        encode(1, 0, 1 << 32)
    with pytest.raises(ProtocolError):
        encode(1, 0, "x" * 5000)  # over libwayland's 4096-byte message limit


def test_split_keeps_a_partial_message_for_the_next_read() -> None:
    stream = announce(1, "wl_seat", 7) + done(3)
    assert len(stream) == 28 + 24
    events, rest = split(stream[:20])
    assert events == []
    assert rest == stream[:20]
    events, rest = split(stream[:-3])
    assert [(e.object_id, e.opcode) for e in events] == [(2, 0), (3, 0)]
    events, rest = split(rest + stream[-3:])
    assert events == [Event(1, 1, (3).to_bytes(4, "little"))]
    assert rest == b""


def test_split_refuses_a_size_that_cannot_be() -> None:
    with pytest.raises(ProtocolError):
        split(bytes.fromhex("01000000 00000400"))  # size 4: shorter than its header
    with pytest.raises(ProtocolError):
        split(bytes.fromhex("01000000 00000a00 0000"))  # not a multiple of four


def test_args_read_in_order() -> None:
    (event,), _ = split(announce(36, "ext_idle_notifier_v1", 1))
    args = Args(event.args)
    assert (args.uint(), args.string(), args.uint()) == (36, "ext_idle_notifier_v1", 1)
    with pytest.raises(ProtocolError):
        args.uint()  # past the end
    with pytest.raises(ProtocolError):
        Args(bytes.fromhex("04000000 61626364")).string()  # no NUL inside its length


# --------------------------------------------------------------------------- connecting


def test_socket_for_finds_the_compositor_as_libwayland_does(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "wayland-7")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen()
        for env in (
            {"XDG_RUNTIME_DIR": str(tmp_path), "WAYLAND_DISPLAY": "wayland-7"},
            {"WAYLAND_DISPLAY": path},  # absolute: no runtime folder needed
        ):
            sock, name = socket_for(env)
            sock.close()
            assert name == env["WAYLAND_DISPLAY"]
    with pytest.raises(Unavailable, match=r"no Wayland compositor at .*wayland-0"):
        socket_for({"XDG_RUNTIME_DIR": str(tmp_path)})  # unset means wayland-0
    with pytest.raises(Unavailable, match="XDG_RUNTIME_DIR is not set"):
        socket_for({"WAYLAND_DISPLAY": "wayland-7"})


def test_socket_for_takes_a_handed_down_descriptor() -> None:
    mine, theirs = socket.socketpair()
    try:
        sock, name = socket_for({"WAYLAND_SOCKET": str(theirs.detach())})
        with sock:
            assert name.startswith("WAYLAND_SOCKET=")
            assert not sock.get_inheritable()
            sock.sendall(b"ping")
            assert mine.recv(4) == b"ping"
        with pytest.raises(Unavailable, match="not a usable socket"):
            socket_for({"WAYLAND_SOCKET": "seven"})
    finally:
        mine.close()


def test_globals_bind_and_roundtrip(compositor: Compositor) -> None:
    display = connect(compositor, ("wl_seat", 7), ("org_kde_kwin_idle", 1))
    try:
        assert display.globals == {"wl_seat": (1, 7), "org_kde_kwin_idle": (2, 1)}
        # bound at the lower of the two versions
        assert display.bind("wl_seat", 9) == 4
        compositor.expect(encode(2, 0, 1, "wl_seat", 7, 4))
        with pytest.raises(Unavailable, match="offers no ext_idle_notifier_v1"):
            display.bind("ext_idle_notifier_v1", 1)
        threading.Thread(target=compositor.answer_sync, args=(5,)).start()
        display.roundtrip()
    finally:
        display.close()


def test_a_protocol_error_is_the_end_said_once(compositor: Compositor) -> None:
    display = connect(compositor, ("wl_seat", 7))
    reasons: list[str] = []
    display.on_lost(reasons.append)
    # wl_display.error(object 4, code 1, "bad seat")
    error = bytes.fromhex("01000000 00002000 04000000 01000000 09000000 62616420 73656174 00000000")
    compositor.server.sendall(error)
    compositor.close()  # the compositor hangs up after an error
    deadline = time.monotonic() + 5
    while not reasons and time.monotonic() < deadline:
        time.sleep(0.01)
    display.close()
    assert reasons == ["protocol error 1 on object 4: bad seat"]
    with pytest.raises(Unavailable, match="bad seat"):
        display.send(1, 0, 9)
    late: list[str] = []
    display.on_lost(late.append)
    assert late == reasons  # a hook added after the end hears it at once


def test_a_round_trip_ends_when_the_compositor_does(compositor: Compositor) -> None:
    display = connect(compositor)
    reasons: list[str] = []
    display.on_lost(reasons.append)
    threading.Timer(0.2, compositor.close).start()
    started = time.monotonic()
    with pytest.raises(Unavailable, match="closed the connection"):
        display.roundtrip(timeout=10)
    assert time.monotonic() - started < 5  # not the timeout: the hang-up ended it
    assert reasons == ["the compositor closed the connection"]
    display.close()


def test_a_compositor_that_does_not_answer_is_unavailable(compositor: Compositor) -> None:
    display = connect(compositor)
    try:
        with pytest.raises(Unavailable, match="did not answer within"):
            display.roundtrip(timeout=0.2)
    finally:
        display.close()


def test_closing_is_not_a_loss(compositor: Compositor) -> None:
    display = connect(compositor)
    reasons: list[str] = []
    display.on_lost(reasons.append)
    display.close()
    assert reasons == []
    assert display.lost == "closed by ergobreak"


def test_a_failing_handler_loses_its_event_not_the_connection(
    compositor: Compositor, caplog: pytest.LogCaptureFixture
) -> None:
    display = connect(compositor)
    heard: list[int] = []

    def broken(opcode: int, _args: bytes) -> None:
        heard.append(opcode)
        raise RuntimeError("a bug")

    try:
        assert display.create(broken) == 4
        # two events on object 4, then a round trip that must still be answered
        compositor.server.sendall(bytes.fromhex("04000000 00000800 04000000 01000800"))
        threading.Thread(target=compositor.answer_sync, args=(5,)).start()
        with caplog.at_level("ERROR", "ergobreak.platform"):
            display.roundtrip()
        assert heard == [0, 1]
        assert display.lost is None
        assert [r.getMessage() for r in caplog.records] == [
            "handling a Wayland event of object 4 failed"  # once per object
        ]
    finally:
        display.close()


def test_garbage_from_the_compositor_ends_the_connection(compositor: Compositor) -> None:
    display = connect(compositor)
    reasons: list[str] = []
    display.on_lost(reasons.append)
    compositor.server.sendall(bytes.fromhex("01000000 00000400"))
    deadline = time.monotonic() + 5
    while not reasons and time.monotonic() < deadline:
        time.sleep(0.01)
    display.close()
    assert reasons
    assert reasons[0].startswith("malformed message from the compositor")


# --------------------------------------------------------------------------- the idle adapter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def open_idle(comp: Compositor, display: WaylandDisplay, flavour: str, clock: Clock) -> WaylandIdle:
    """The adapter on ``display``, the compositor answering its requests; globals as in
    ``connect(comp, ("wl_seat", 7), (manager, 1))``: seat 1, manager 2."""
    opened: list[WaylandIdle | BaseException] = []

    def client() -> None:
        try:
            opened.append(WaylandIdle(display, flavour, notice_after=5.0, clock=clock))  # type: ignore[arg-type]
        except BaseException as exc:
            opened.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    manager = "ext_idle_notifier_v1" if flavour == "ext" else "org_kde_kwin_idle"
    comp.expect(encode(2, 0, 2, manager, 1, 4))  # bind the manager as object 4
    comp.expect(encode(2, 0, 1, "wl_seat", 1, 5))  # the seat as 5, at version 1
    if flavour == "ext":
        # ext_idle_notifier_v1.get_idle_notification(new_id 6, timeout 5000 ms, seat 5)
        comp.expect(bytes.fromhex("04000000 01001400 06000000 88130000 05000000"))
    else:
        # org_kde_kwin_idle.get_idle_timeout(new_id 6, seat 5, timeout 5000 ms)
        comp.expect(bytes.fromhex("04000000 00001400 06000000 05000000 88130000"))
    comp.answer_sync(7)
    thread.join(5)
    result = opened[0]
    if isinstance(result, BaseException):
        raise result
    return result


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + 5
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.005)
    assert condition(), what  # type: ignore[operator]


@pytest.mark.parametrize(
    ("flavour", "manager", "name"),
    [("ext", "ext_idle_notifier_v1", "wayland-ext"), ("kde", "org_kde_kwin_idle", "wayland-kde")],
)
def test_idle_time_from_idled_and_resumed(
    compositor: Compositor, flavour: str, manager: str, name: str
) -> None:
    clock = Clock()
    display = connect(compositor, ("wl_seat", 7), (manager, 1))
    idle = open_idle(compositor, display, flavour, clock)
    try:
        assert idle.name == name
        assert idle.idle_seconds() == 0.0  # below the 5 s notice: "present"
        woke: list[float] = []
        idle.wake_on_activity(lambda: woke.append(clock.now))
        # idled (opcode 0) on the notification, object 6, with no arguments
        compositor.server.sendall(bytes.fromhex("06000000 00000800"))
        wait_for(lambda: idle.idle_seconds() > 0, "idled reached the adapter")
        assert idle.idle_seconds() == 5.0  # idle for the notice time when it arrived
        clock.now += 42.5
        assert idle.idle_seconds() == 47.5
        # resumed (opcode 1)
        compositor.server.sendall(bytes.fromhex("06000000 01000800"))
        wait_for(lambda: bool(woke), "resumed woke the daemon")
        assert idle.idle_seconds() == 0.0
        # one-shot: the next pause and input wake nobody until armed again
        compositor.server.sendall(bytes.fromhex("06000000 00000800 06000000 01000800"))
        threading.Thread(target=compositor.answer_sync, args=(8,)).start()
        display.roundtrip()
        assert woke == [142.5]
        idle.close()
        # the destructor (opcode 0) of the notification
        compositor.expect(bytes.fromhex("06000000 00000800"))
    finally:
        display.close()


def test_idle_after_the_compositor_went_away_is_unavailable(compositor: Compositor) -> None:
    display = connect(compositor, ("wl_seat", 7), ("ext_idle_notifier_v1", 1))
    idle = open_idle(compositor, display, "ext", Clock())
    compositor.close()
    wait_for(lambda: display.lost is not None, "the hang-up was heard")
    with pytest.raises(Unavailable, match="the Wayland display test-0 is gone"):
        idle.idle_seconds()
    with pytest.raises(Unavailable):
        idle.wake_on_activity(lambda: None)
    idle.close()  # no error: the notification went with the connection
    display.close()


def test_no_seat_or_no_protocol_is_unavailable(compositor: Compositor) -> None:
    display = connect(compositor, ("org_kde_kwin_idle", 1))
    try:
        with pytest.raises(Unavailable, match="offers no ext_idle_notifier_v1"):
            WaylandIdle(display, "ext")
        with pytest.raises(Unavailable, match="offers no wl_seat"):
            WaylandIdle(display, "kde")
    finally:
        display.close()
