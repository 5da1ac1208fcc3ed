"""The D-Bus link's receiver against a scripted far end: a socketpair whose other side
speaks for the bus daemon and every peer, byte for byte, in any order we choose.

A real bus daemon validates what it forwards and keeps each sender's order; here we
can also send what it would never let through (bytes jeepney cannot parse, a stream
out of step) and every interleaving of owner changes, the GetNameOwner answer and a
service's signals (tests/desktop/test_dbus_servers.py does the same on a real bus).
"""

from __future__ import annotations

import queue
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    HeaderFields,
    MatchRule,
    Message,
    Parser,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.io.threading import DBusConnection  # type: ignore[import-untyped]
from jeepney.low_level import (  # type: ignore[import-untyped]
    Endianness,
    _header_fields_type,
    padding,
    parse_signature,
)

from ergobreak.platform.base import Unavailable
from ergobreak.platform.dbus_link import BUS_DAEMON, DBusLink

SERVICE = "org.example.Service"
API = DBusAddress("/org/example", bus_name=SERVICE, interface=SERVICE)
OURS = ":1.1"


class Wire:
    """The far end of our link's socket: answers the bus daemon's methods itself
    (AddMatch, RemoveMatch, GetNameOwner from ``owners``), hands every other call to
    ``on_call`` (default: no answer), and sends whatever a test writes."""

    def __init__(self) -> None:
        ours, self.sock = socket.socketpair()
        conn = DBusConnection(ours)
        conn.unique_name = OURS
        self.owners: dict[str, str] = {}
        self.on_call: Callable[[Message], None] = lambda msg: None
        #: GetNameOwner calls are held here instead when set (the ordering tests)
        self.hold_owner_calls: queue.Queue[Message] | None = None
        self.lost: list[str] = []
        self._serial = 1000
        self._send_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.link = DBusLink("SESSION", conn, "unix:path=/wire")
        self.link.on_lost(self.lost.append)

    def close(self) -> None:
        self.link.close()
        self.sock.close()
        self._reader.join(5)

    # -- writing
    def send(self, msg: Message, sender: str) -> None:
        msg.header.fields[HeaderFields.sender] = sender
        msg.header.fields[HeaderFields.destination] = OURS
        self.send_raw(msg.serialise(serial=self._next_serial()))

    def send_raw(self, data: bytes) -> None:
        with self._send_lock:
            self.sock.sendall(data)

    def reply(self, call: Message, signature: str | None, *body: Any, sender: str) -> None:
        self.send(new_method_return(call, signature, body), sender)

    def error(self, call: Message, name: str, sender: str) -> None:
        self.send(new_error(call, name, "s", (name,)), sender)

    def signal(self, member: str, sender: str, *body: Any, signature: str = "u") -> None:
        self.send(new_signal(API, member, signature, body), sender)

    def owner_changed(self, name: str, old: str | None, new: str | None) -> None:
        bus = DBusAddress("/org/freedesktop/DBus", interface="org.freedesktop.DBus")
        msg = new_signal(bus, "NameOwnerChanged", "sss", (name, old or "", new or ""))
        self.send(msg, BUS_DAEMON)

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    # -- reading our calls
    def _read(self) -> None:
        parser = Parser()
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            for msg in parser.feed(data):
                self._answer(msg)

    def _answer(self, msg: Message) -> None:
        fields = msg.header.fields
        if fields.get(HeaderFields.destination) != BUS_DAEMON:
            self.on_call(msg)
            return
        member = fields[HeaderFields.member]
        if member == "GetNameOwner" and self.hold_owner_calls is not None:
            self.hold_owner_calls.put(msg)
        elif member == "GetNameOwner":
            name = msg.body[0]
            if name in self.owners:
                self.reply(msg, "s", self.owners[name], sender=BUS_DAEMON)
            else:
                self.error(msg, "org.freedesktop.DBus.Error.NameHasNoOwner", BUS_DAEMON)
        elif member == "NameHasOwner":
            self.reply(msg, "b", msg.body[0] in self.owners, sender=BUS_DAEMON)
        else:  # AddMatch, RemoveMatch
            self.reply(msg, None, sender=BUS_DAEMON)


@pytest.fixture
def wire() -> Iterator[Wire]:
    opened = Wire()
    yield opened
    opened.close()


def wait_for(predicate: Callable[[], object], what: str, timeout: float = 5.0) -> None:
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        done.wait(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def sync(wire: Wire) -> None:
    """A round trip: everything the wire sent before is routed by now."""
    wire.link.name_has_owner(SERVICE)


def raw_message(fields: list[tuple[int, tuple[str, Any]]], signature: str, *body: Any) -> bytes:
    """A signal with any header fields, even ones jeepney does not know."""
    little = Endianness.little
    fields = [*fields, (8, ("g", signature))]
    payload = parse_signature(list(f"({signature})")).serialise(body, 0, little)
    head = struct.pack("<cBBBII", b"l", 4, 0, 1, len(payload), 77)
    head += _header_fields_type.serialise(fields, 12, little)
    return bytes(head + b"\0" * padding(len(head), 8) + payload)


def answer_twice(wire: Wire) -> None:
    """mako's GetCapabilities: a normal reply, then an error, with one reply serial."""

    def on_call(msg: Message) -> None:
        data = new_method_return(msg, "as", (["actions"],))
        data.header.fields[HeaderFields.sender] = ":1.9"
        twice = data.serialise(serial=wire._next_serial())
        error = new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", ("no",))
        error.header.fields[HeaderFields.sender] = ":1.9"
        twice += error.serialise(serial=wire._next_serial())
        wire.send_raw(twice)  # back to back, as mako sends them

    wire.on_call = on_call


# --------------------------------------------------------------------------- replies


def test_a_call_answered_twice_leaves_the_link_working(wire: Wire) -> None:
    answer_twice(wire)
    rounds = 200
    for _ in range(rounds):
        assert wire.link.call(API, "GetCapabilities") == (["actions"],)
    sync(wire)
    # each second reply came while its call was still being taken, or just after
    counts = wire.link.troubles.counts
    seconds = counts["a second reply to one call"] + counts["a reply to no waiting call"]
    assert seconds == rounds, counts
    assert wire.lost == []
    assert wire.link.lost is None


def test_a_reply_for_nobody_or_after_a_timeout_is_dropped(wire: Wire) -> None:
    calls: queue.Queue[Message] = queue.Queue()
    wire.on_call = calls.put
    with pytest.raises(Unavailable, match="no reply within"):
        wire.link.call(API, "Slow", timeout=0.2)
    late = calls.get(timeout=5)
    wire.reply(late, "s", "too late", sender=":1.9")
    nobody = new_method_return(late, "s", ("stray",))
    nobody.header.fields[HeaderFields.reply_serial] = 4242  # a serial we never used
    wire.send(nobody, ":1.9")
    wire.error(late, "org.example.Error.Late", ":1.9")  # an error for a finished call
    sync(wire)
    assert wire.link.troubles.counts["a reply to no waiting call"] == 3
    assert wire.lost == []


# --------------------------------------------------------------------------- messages


def test_a_message_jeepney_cannot_parse_is_skipped(wire: Wire) -> None:
    got: queue.Queue[tuple[Any, ...]] = queue.Queue()
    wire.link.subscribe(MatchRule(type="signal", interface=SERVICE), lambda m: got.put(m.body))
    common = [(1, ("o", "/org/example")), (2, ("s", SERVICE)), (7, ("s", ":1.9"))]
    unknown_field = (10, ("s", "a header field jeepney has no name for"))
    wire.send_raw(raw_message([*common, (3, ("s", "Odd")), unknown_field], "u", 1))
    wire.send_raw(raw_message([*common, (3, ("s", "Fine"))], "u", 2))
    assert got.get(timeout=5) == (2,)
    sync(wire)
    assert wire.link.troubles.counts["a message jeepney cannot read"] == 1
    assert wire.lost == []


def test_a_stream_out_of_step_is_a_lost_connection_reported_once(wire: Wire) -> None:
    wire.send_raw(b"X" * 16)  # no endianness: not even the length can be read
    wait_for(lambda: wire.lost, what="the loss to be reported")
    with pytest.raises(Unavailable, match="connection was lost: unreadable D-Bus stream"):
        wire.link.call(API, "Anything", timeout=1)
    assert len(wire.lost) == 1


def test_a_failing_handler_does_not_stop_the_next_signal(wire: Wire) -> None:
    got: queue.Queue[int] = queue.Queue()

    def handler(msg: Message) -> None:
        if msg.body[0] == 1:
            raise RuntimeError("a handler bug")
        got.put(msg.body[0])

    wire.link.subscribe(MatchRule(type="signal", interface=SERVICE), handler)
    wire.signal("Tick", ":1.9", 1)
    wire.signal("Tick", ":1.9", 2)
    assert got.get(timeout=5) == 2
    assert wire.lost == []


def test_a_subscription_cancelled_while_a_signal_is_routed_misses_nothing_else(
    wire: Wire,
) -> None:
    """Adapters subscribe and cancel on other threads while the receiver routes a
    signal; here a handler drops a filter in the middle of routing, which is the same
    change to the filter table at the worst moment."""
    rule = MatchRule(type="signal", interface=SERVICE)
    later: queue.Queue[int] = queue.Queue()
    dropped = wire.link._router.filter(rule, queue=queue.Queue())  # the next handler drops it
    wire.link.subscribe(rule, lambda msg: dropped.close() if msg.body[0] == 1 else None)
    wire.link.subscribe(rule, lambda msg: later.put(msg.body[0]))
    wire.signal("Tick", ":1.9", 1)
    wire.signal("Tick", ":1.9", 2)
    assert [later.get(timeout=5), later.get(timeout=5)] == [1, 2]
    assert "a message that broke its routing" not in wire.link.troubles.counts


# --------------------------------------------------------------------------- owners

NAMES = [":1.5", ":1.6", ":1.7"]
#: ("own", new owner or None) or ("sig", sender)
Event = tuple[str, str | None]


@given(
    first=st.sampled_from([None, *NAMES]),
    events=st.lists(
        st.tuples(st.just("own"), st.sampled_from([None, *NAMES]))
        | st.tuples(st.just("sig"), st.sampled_from(NAMES)),
        max_size=12,
    ),
    answer_at=st.integers(min_value=0, max_value=12),
)
def test_signals_count_only_from_the_owner_in_every_order(
    first: str | None, events: list[Event], answer_at: int
) -> None:
    """The bus daemon's order, with the GetNameOwner answer at any place in it: a
    signal counts if and only if its sender owned the name when the daemon routed it
    and the link knew who that was by then (from the answer or an owner change; before
    either, the subscription is still being made)."""
    answer_at = min(answer_at, len(events))
    wire = Wire()
    try:
        held: queue.Queue[Message] = queue.Queue()
        wire.hold_owner_calls = held
        got: list[int] = []
        subscribing = threading.Thread(
            target=lambda: wire.link.subscribe(
                MatchRule(type="signal", interface=SERVICE),
                lambda m: got.append(m.body[0]),
                owner=SERVICE,
            )
        )
        subscribing.start()
        ask = held.get(timeout=5)
        owner, known, expected = first, False, []
        for index, (kind, who) in enumerate([*events, ("end", None)]):
            if index == answer_at:
                if owner is None:
                    wire.error(ask, "org.freedesktop.DBus.Error.NameHasNoOwner", BUS_DAEMON)
                else:
                    wire.reply(ask, "s", owner, sender=BUS_DAEMON)
                known = True
            if kind == "own" and who != owner:
                wire.owner_changed(SERVICE, owner, who)
                owner, known = who, True
            elif kind == "sig":
                assert who is not None
                wire.signal("Tick", who, index)
                if known and who == owner:
                    expected.append(index)
        subscribing.join(5)
        sync(wire)
        assert got == expected
    finally:
        wire.close()


def test_a_signal_from_another_connection_is_dropped_and_counted(wire: Wire) -> None:
    wire.owners[SERVICE] = ":1.5"
    got: list[int] = []
    rule = MatchRule(type="signal", interface=SERVICE)
    wire.link.subscribe(rule, lambda m: got.append(m.body[0]), owner=SERVICE)
    wire.signal("Tick", ":1.5", 1)
    wire.signal("Tick", ":1.6", 2)  # GNOME's second ActionInvoked comes like this
    sync(wire)
    assert got == [1]
    assert wire.link.troubles.counts[f"signal not from the owner of {SERVICE}"] == 1
