"""Notification servers that behave like the real ones do, on the rig's private bus.

:class:`Server` owns ``org.freedesktop.Notifications`` (dunst is stopped for these
tests; the baseline starts it again) and can misbehave the ways real shells were
seen to: mako answers ``GetCapabilities`` twice with one reply serial; GNOME 43
sends each ``ActionInvoked`` from the owner and again from another connection;
KDE Plasma closes a bubble when a button is pressed and answers an update of a
closed id with that id while showing nothing. Plus what no server should send: a
reply to a serial nobody used, a call to a client, signals of the wrong shape.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
from jeepney.io.threading import (  # type: ignore[import-untyped]
    DBusConnection,
    ReceiveStopped,
    open_dbus_connection,
)
from jeepney.low_level import HeaderFields, Message, MessageType  # type: ignore[import-untyped]
from jeepney.wrappers import (  # type: ignore[import-untyped]
    DBusAddress,
    new_error,
    new_method_call,
    new_method_return,
    new_signal,
)
from scaffold import builtin_drill

from ergobreak import present
from ergobreak.commands import Request
from ergobreak.core import effects as fx
from ergobreak.platform.base import Action, Notification
from ergobreak.platform.bubbles import Bubbles
from ergobreak.platform.dbus_link import DBusLink
from ergobreak.platform.dbus_notify import NAME, PATH, FreedesktopNotifier

from .rig import Bus, Rig, wait_for

SIGNALS = DBusAddress(PATH, interface=NAME)
MAKO_CAPS = ["actions", "body", "body-markup", "icon-static", "persistence"]
DRILL = builtin_drill("hipflexor_standing")
#: Plasma's reason for a bubble closed because its button was pressed (dismissed)
DISMISSED = 2


@dataclass
class Bubble:
    id: int
    summary: str
    body: str
    actions: list[str]
    icon: str
    hints: dict[str, Any]
    timeout: int


@dataclass
class Behaviour:
    caps: list[str] = field(default_factory=lambda: list(MAKO_CAPS))
    #: mako: GetCapabilities answered twice with one reply serial (a reply, then an error)
    caps_twice: bool = False
    #: KDE: a pressed button closes its bubble; replacing a closed id shows nothing
    closes_on_action: bool = False
    #: GNOME: another connection broadcasts every ActionInvoked too
    second_sender: bool = False
    #: the next update's bubble is closed just before the update is handled
    close_before_next_update: bool = False


class Server:
    """A scripted notification server: one thread reads its connection."""

    def __init__(self, rig: Rig, behaviour: Behaviour | None = None) -> None:
        self.rig = rig
        self.behaviour = behaviour or Behaviour()
        self.conn: DBusConnection = open_dbus_connection(rig.bus_address)
        self.other: DBusConnection | None = None
        self.open: dict[int, Bubble] = {}  # what is on screen
        self.notifies: list[tuple[int, Bubble]] = []  # (replaces_id, what was sent)
        self.client: str | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Server:
        if self.behaviour.second_sender:
            self.other = open_dbus_connection(self.rig.bus_address)
        self.thread.start()
        self.conn.send(message_bus.RequestName(NAME))
        wait_for(lambda: self.rig.bus.owner_pid(NAME) is not None, what=f"{NAME} owned")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.interrupt()
        self.thread.join(5)
        self.conn.close()
        if self.other is not None:
            self.other.close()
        wait_for(lambda: not self.rig.bus.name_has_owner(NAME), what=f"{NAME} released")

    # -- what a user or the shell does
    def press(self, nid: int, key: str) -> None:
        """A button pressed: ActionInvoked to the client (and what the shell adds)."""
        assert self.client is not None
        with self._lock:
            self._emit("ActionInvoked", "us", nid, key)
            if self.other is not None:  # GNOME: broadcast by another connection
                self.other.send(new_signal(SIGNALS, "ActionInvoked", "us", (nid, key)))
            if self.behaviour.closes_on_action:
                self._close(nid, DISMISSED)

    def send_to_client(self, msg: Message) -> None:
        with self._lock:  # one writer at a time on the socket
            self.conn.send(msg)

    def _emit(self, member: str, signature: str, *body: Any) -> None:
        msg = new_signal(SIGNALS, member, signature, body)
        msg.header.fields[HeaderFields.destination] = self.client  # unicast, as dunst does
        self.conn.send(msg)

    def _close(self, nid: int, reason: int) -> None:
        if self.open.pop(nid, None) is not None:
            self._emit("NotificationClosed", "uu", nid, reason)

    # -- the connection
    def _serve(self) -> None:
        while True:
            try:
                msg = self.conn.receive()
            except ReceiveStopped:  # closed by the test
                return
            if msg.header.message_type == MessageType.method_call:
                with self._lock:
                    for reply in self._answer(msg):
                        self.conn.send(reply)

    def _answer(self, msg: Message) -> list[Message]:
        member = msg.header.fields[HeaderFields.member]
        self.client = msg.header.fields[HeaderFields.sender]
        if member == "GetServerInformation":
            return [new_method_return(msg, "ssss", ("fake", "tests", "1.0", "1.2"))]
        if member == "GetCapabilities":
            replies = [new_method_return(msg, "as", (self.behaviour.caps,))]
            if self.behaviour.caps_twice:
                unknown = "org.freedesktop.DBus.Error.UnknownMethod"
                replies.append(new_error(msg, unknown, "s", ("GetCapabilities",)))
            return replies
        if member == "Notify":
            return [new_method_return(msg, "u", (self._notify(tuple(msg.body)),))]
        if member == "CloseNotification":
            self._close(msg.body[0], 3)
            return [new_method_return(msg)]
        return [new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (member,))]

    def _notify(self, body: tuple[Any, ...]) -> int:
        _app, replaces, icon, summary, text, actions, hints, timeout = body
        if replaces and self.behaviour.close_before_next_update:
            self.behaviour.close_before_next_update = False
            self._close(replaces, DISMISSED)  # sent before this call's reply
        nid = replaces or next(self._ids)
        bubble = Bubble(nid, summary, text, actions[::2], icon, dict(hints), timeout)
        self.notifies.append((replaces, bubble))
        if not replaces or replaces in self.open:
            self.open[nid] = bubble
        # Plasma: "Trying to replace notification ... which doesn't exist": same id, not shown
        return nid


class Requests:
    def __init__(self) -> None:
        self.queue: queue.Queue[Request] = queue.Queue()

    def __call__(self, request: Request) -> None:
        self.queue.put(request)

    def after_sync(self, link: DBusLink) -> list[Request]:
        """Everything that arrived before a round trip on ``link`` (signals before it
        from every sender are routed by then)."""
        link.name_has_owner(NAME)
        out = []
        while not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out


@pytest.fixture
def link(desktop: Rig) -> Iterator[DBusLink]:
    desktop.stop("dunst")  # a Server takes its name; the baseline starts dunst again
    opened = DBusLink.open("SESSION")
    yield opened
    opened.close()


def prompt() -> Notification:
    return present.drill_prompt(fx.DrillPrompt(DRILL, attempt=1, snoozes_left=1))


def press_start(server: Server, bubbles: Bubbles, link: DBusLink, requests: Requests) -> int:
    """Show the drill prompt and press its Start; returns the prompt's id."""
    nid = bubbles.apply(prompt())
    assert nid is not None
    server.press(nid, "start")
    assert requests.after_sync(link) == [Request("start", {"routine": DRILL.id})]
    return nid


# --------------------------------------------------------------------------- mako


def test_capabilities_answered_twice_leave_the_link_working(desktop: Rig, link: DBusLink) -> None:
    with Server(desktop, Behaviour(caps_twice=True)) as server:
        notifier = FreedesktopNotifier(link, Requests())
        assert notifier.capabilities.actions
        assert notifier.capabilities.persistence
        rounds, started = 200, time.monotonic()
        for _ in range(rounds):
            assert link.call(*_caps_call()) == (MAKO_CAPS,)
        took = time.monotonic() - started
        nid = notifier.show(Notification(title="still here"))
        assert server.open[nid].summary == "still here"
        link.name_has_owner(NAME)  # every second reply is routed by now
        counts = link.troubles.counts
        seconds = counts["a second reply to one call"] + counts["a reply to no waiting call"]
        assert seconds == rounds + 1  # and the notifier's own GetCapabilities
        assert link.lost is None
        assert took < rounds * 0.25, took  # none waited for its timeout (2 s)
        notifier.stop()


def _caps_call() -> tuple[DBusAddress, str]:
    return DBusAddress(PATH, bus_name=NAME, interface=NAME), "GetCapabilities"


def test_stray_replies_calls_and_malformed_signals_are_dropped(
    desktop: Rig, link: DBusLink
) -> None:
    requests = Requests()
    with Server(desktop) as server:
        notifier = FreedesktopNotifier(link, requests)
        nid = notifier.show(prompt())
        client = link.unique_name
        stray = new_method_call(DBusAddress("/", bus_name=client, interface="x.y"), "Z")
        stray.header.serial = 987_654  # a serial this client never used
        stray.header.fields[HeaderFields.sender] = client
        server.send_to_client(new_method_return(stray, "s", ("for nobody",)))
        server.send_to_client(new_error(stray, "org.example.Error.Stray", "s", ("nobody",)))
        call = new_method_call(DBusAddress("/x", bus_name=client, interface="x.y"), "Poke")
        server.send_to_client(call)  # a call to a client that serves nothing
        for signature, body in (("ss", ("1", "start")), ("u", (nid,)), ("uu", (nid, 1))):
            wrong = new_signal(SIGNALS, "ActionInvoked", signature, body)
            wrong.header.fields[HeaderFields.destination] = client
            server.send_to_client(wrong)
        assert requests.after_sync(link) == []
        server.press(nid, "start")
        assert requests.after_sync(link) == [Request("start", {"routine": DRILL.id})]
        assert link.troubles.counts["a reply to no waiting call"] == 2
        later = notifier.show(Notification(title="later"))  # the link still works
        assert server.open[later].summary == "later"
        notifier.stop()


# --------------------------------------------------------------------------- GNOME


@pytest.mark.parametrize("key", ["start", "snooze", "skip"])
def test_each_button_acts_once_when_a_second_connection_repeats_it(
    desktop: Rig, link: DBusLink, key: str
) -> None:
    requests = Requests()
    with Server(desktop, Behaviour(second_sender=True)) as server:
        notifier = FreedesktopNotifier(link, requests)
        note = prompt()
        nid = notifier.show(note)
        server.press(nid, key)
        (expected,) = [a.request for a in note.actions if a.key == key]
        assert requests.after_sync(link) == [expected]
        # the owner guard dropped GNOME's second copy (the per-bubble one never saw it)
        assert link.troubles.counts[f"signal not from the owner of {NAME}"] == 1
        notifier.stop()


def test_a_button_reported_twice_by_the_owner_acts_once(desktop: Rig, link: DBusLink) -> None:
    requests = Requests()
    with Server(desktop) as server:
        notifier = FreedesktopNotifier(link, requests)
        nid = notifier.show(prompt())
        server.press(nid, "snooze")
        server.press(nid, "snooze")
        server.press(nid, "skip")  # the bubble is done once a button acted
        assert requests.after_sync(link) == [Request("snooze")]
        notifier.stop()


def test_an_update_in_place_brings_new_buttons_each_acting_once(
    desktop: Rig, link: DBusLink
) -> None:
    """dunst keeps a pressed bubble: after Start the drill updates it in place, and its
    Stop acts once; the prompt's old buttons, pressed late, do nothing."""
    requests = Requests()
    with Server(desktop) as server:
        notifier = FreedesktopNotifier(link, requests)
        bubbles = Bubbles(notifier)
        nid = press_start(server, bubbles, link, requests)
        assert bubbles.apply(present.drill_start(fx.DrillStart(DRILL))) == nid
        assert server.open[nid].actions == ["skip"]
        server.press(nid, "start")  # a late press of the prompt's button
        server.press(nid, "skip")
        server.press(nid, "skip")
        assert requests.after_sync(link) == [Request("skip")]
        notifier.stop()


def test_a_new_server_owns_the_signals_from_then_on(desktop: Rig, link: DBusLink) -> None:
    """The name changes hands: an update of a bubble the old server showed is a new
    bubble (the new server counts ids from 1 again), and a press from a connection
    that no longer owns the name (the old server's, late) is not ours."""
    requests = Requests()
    with Server(desktop) as first:
        notifier = FreedesktopNotifier(link, requests)
        old = notifier.show(prompt())
    with Server(desktop) as second:
        link.name_has_owner(NAME)  # the owner change is routed by now
        new = notifier.update(old, prompt())
        assert second.notifies == [(0, second.open[new])]  # shown anew, not replaced
        assert new == old  # the same number, a different bubble
        with Bus(desktop.bus_address) as stranger:
            late = new_signal(SIGNALS, "ActionInvoked", "us", (new, "start"))
            late.header.fields[HeaderFields.destination] = link.unique_name
            stranger.conn.send(late)
            stranger.call_bus("GetId")  # sent before what the test does next
        second.press(new, "skip")
        assert requests.after_sync(link) == [Request("skip")]
        notifier.stop()
    assert first.notifies[0][1].id == old


# --------------------------------------------------------------------------- KDE


def test_a_bubble_the_server_closed_is_shown_anew(desktop: Rig, link: DBusLink) -> None:
    requests = Requests()
    with Server(desktop, Behaviour(closes_on_action=True)) as server:
        notifier = FreedesktopNotifier(link, requests)
        bubbles = Bubbles(notifier)
        first = press_start(server, bubbles, link, requests)
        assert first not in server.open  # Plasma closed it
        started = bubbles.apply(present.drill_start(fx.DrillStart(DRILL)))
        assert started is not None
        assert started != first
        assert server.open[started].summary == DRILL.title
        step = fx.DrillStep(DRILL, 0, len(DRILL.steps), DRILL.steps[0])
        assert bubbles.apply(present.drill_step(step)) == started  # open: updated in place
        assert server.open[started].body.startswith("Step 1 of")
        assert [replaces for replaces, _ in server.notifies] == [0, 0, started]
        notifier.stop()


def test_a_close_that_overtakes_the_update_is_shown_anew(desktop: Rig, link: DBusLink) -> None:
    """The close is sent before the reply to our update: Plasma answers with the same
    id and shows nothing, so the update is sent again as a new bubble, and the ghost
    of the old one taken back."""
    with Server(desktop) as server:
        notifier = FreedesktopNotifier(link, Requests())
        first = notifier.show(Notification(title="one", timeout=0))
        server.behaviour.close_before_next_update = True
        again = notifier.update(first, Notification(title="two", timeout=0))
        assert again != first
        assert list(server.open) == [again]
        assert server.open[again].summary == "two"
        assert [replaces for replaces, _ in server.notifies] == [0, first, 0]
        notifier.stop()


# --------------------------------------------------------------------------- capabilities


def test_no_capabilities_no_buttons_markup_or_icons(desktop: Rig, link: DBusLink) -> None:
    with Server(desktop, Behaviour(caps=["body"])) as server:
        notifier = FreedesktopNotifier(link, Requests())
        caps = notifier.capabilities
        assert (caps.actions, caps.markup, caps.icons, caps.persistence) == (
            False,
            False,
            False,
            False,
        )
        button = Action("skip", "Skip", Request("skip"))
        nid = notifier.show(
            Notification(title="t", body="a < b & c", actions=(button,), icon="drill-hip_flexor")
        )
        sent = server.open[nid]
        assert (sent.body, sent.actions, sent.icon) == ("a < b & c", [], "")
        assert "image-path" not in sent.hints
        notifier.stop()


def test_markup_actions_and_icons_when_the_server_has_them(desktop: Rig, link: DBusLink) -> None:
    with Server(desktop) as server:
        notifier = FreedesktopNotifier(link, Requests())
        nid = notifier.show(prompt())
        sent = server.open[nid]
        assert sent.actions == ["start", "snooze", "skip"]
        assert sent.icon
        assert sent.hints["image-path"][1] == sent.icon
        other = notifier.show(Notification(title="t", body="a < b & c"))
        assert server.open[other].body == "a &lt; b &amp; c"
        assert notifier.capabilities.persistence
        notifier.stop()
