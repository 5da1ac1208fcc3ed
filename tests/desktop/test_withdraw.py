"""Prompts leave when quiet or the lock begins (issue 16, item 4), end to end: a real
``ergobreak run`` on the headless desktop, real X input, real dunst.

A drill prompt (or a posture check) is on screen when a real fullscreen window
(openbox, asked over EWMH as a video player or slide show asks), dunst's own
do-not-disturb (``dunstctl set-paused``) or the screen lock begins: the daemon closes
that very notification on the server (``CloseNotification``; dunst answers with
``NotificationClosed(id, 3)`` and shows nothing, queues nothing), ``status`` says
quiet, and once quiet ends the prompt comes back as a new notification with no
snooze used.

The bus is watched by a monitor connection (``org.freedesktop.DBus.Monitoring``), so
the test sees the daemon's own calls and the signals dunst sends only to it. The lock
comes from the rig's screensaver stand-in (an ``org.gnome.ScreenSaver`` service on the
private bus sending ``ActiveChanged``, as GNOME Shell does): the rig has no real
screen locker.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from jeepney import HeaderFields, MessageType  # type: ignore[import-untyped]
from jeepney.bus_messages import Monitoring  # type: ignore[import-untyped]
from jeepney.io.threading import (  # type: ignore[import-untyped]
    ReceiveStopped,
    open_dbus_connection,
)

from . import test_daemon_e2e as e2e
from .rig import NOTIFICATIONS, Rig, wait_for
from .test_daemon_e2e import Daemon, Typist
from .test_edge_fakes import FakeService

#: the end-to-end tests' fixtures: a daemon of the test's own (HOME, state), a typist
daemon = e2e.daemon
typist = e2e.typist

#: a drill prompt 10 s of desk time after start, that neither typing (prelude) nor a
#: pause in typing (start_after_idle) answers while the test runs
DRILL_CONFIG = """\
schema = 1
[activity]
idle_pause = "5m"
natural_break = "10m"
prompt_gap = "0s"
[posture]
enabled = false
[drill]
every = "10s"
start_after_idle = "2m"
prelude = "10m"
snooze = "5m"
max_snoozes = 2
[quiet]
catch_up_delay = "1s"
[schedule]
enabled = false
"""
#: posture checks only, far apart: the one on screen is the one asked for
POSTURE_CONFIG = DRILL_CONFIG.replace(
    "[posture]\nenabled = false", '[posture]\nevery = "10m"'
).replace("[drill]\n", "[drill]\nenabled = false\n")
DRILL = "2-minute drill"
POSTURE = "Posture check"
#: NotificationClosed reason: closed by a call to CloseNotification
BY_CALL = 3
SCREENSAVER = "org.gnome.ScreenSaver"


@dataclass
class Shown:
    id: int
    replaces: int
    summary: str
    actions: list[str]


class Monitor:
    """What the daemon (app name ``ergobreak``) asks of the notification server, and
    what the server tells it, from a bus monitor connection."""

    def __init__(self, rig: Rig) -> None:
        self.conn = open_dbus_connection(rig.bus_address)
        become = Monitoring().BecomeMonitor([])
        serial = next(self.conn.outgoing_serial)
        self.conn.send(become, serial=serial)
        while True:  # a monitor from the bus daemon's reply on
            reply = self.conn.receive(timeout=5)
            if reply.header.fields.get(HeaderFields.reply_serial) == serial:
                break
        assert reply.header.message_type == MessageType.method_return, reply.body
        self._lock = threading.Lock()
        #: (sender, serial) of the daemon's Notify calls -> (replaces, summary, action keys)
        self._calls: dict[tuple[str, int], tuple[int, str, list[str]]] = {}
        self.shown: list[Shown] = []
        #: ids the daemon asked to close, and (id, reason) of every NotificationClosed
        self.close_calls: list[int] = []
        self.closed: list[tuple[int, int]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                msg = self.conn.receive()
            except (ReceiveStopped, OSError):
                return
            with self._lock:
                self._note(msg)

    def _note(self, msg: Any) -> None:
        fields = msg.header.fields
        kind = msg.header.message_type
        member = fields.get(HeaderFields.member)
        if kind == MessageType.method_call and fields.get(HeaderFields.interface) == NOTIFICATIONS:
            body = tuple(msg.body)
            if member == "Notify" and body[0] == "ergobreak":
                keys = list(body[5][::2])
                self._calls[(fields[HeaderFields.sender], msg.header.serial)] = (
                    body[1],
                    body[3],
                    keys,
                )
            elif member == "CloseNotification":
                self.close_calls.append(int(body[0]))
        elif kind == MessageType.method_return:
            key = (fields.get(HeaderFields.destination), fields.get(HeaderFields.reply_serial))
            call = self._calls.pop(key, None)
            if call is not None:
                self.shown.append(Shown(int(msg.body[0]), *call))
        elif kind == MessageType.signal and member == "NotificationClosed":
            self.closed.append((int(msg.body[0]), int(msg.body[1])))

    def close(self) -> None:
        self.conn.interrupt()
        self._thread.join(5)
        self.conn.close()

    def showings(self, summary: str) -> list[Shown]:
        with self._lock:
            return [s for s in self.shown if summary in s.summary]

    def reason(self, nid: int) -> int | None:
        with self._lock:
            return next((r for i, r in self.closed if i == nid), None)


@pytest.fixture
def monitor(desktop: Rig) -> Iterator[Monitor]:
    watching = Monitor(desktop)
    yield watching
    watching.close()


@pytest.fixture
def window(desktop: Rig) -> Iterator[int]:
    """An ordinary application window, active: the one that goes fullscreen."""
    win = desktop.open_window("slides")
    wait_for(lambda: desktop.active_window() == win, what="the window to be active")
    yield win
    desktop.close_window(win)


def start(rig: Rig, daemon: Daemon, monitor: Monitor, config: str = DRILL_CONFIG) -> None:
    """Start the daemon with ``config`` and take its first-run notice off the screen,
    so that what dunst displays from then on is the test's."""
    daemon.config.write_text(config)
    daemon.start()
    assert daemon.status()["config_error"] is None  # the test's timings are in force
    wait_for(lambda: monitor.showings(e2e.FIRST_RUN), 5, what="the first-run notice")
    rig.close_all_notifications()
    wait_for(lambda: rig.dunst_property("displayedLength") == 0, 5, what="a clear screen")


def on_screen(rig: Rig, monitor: Monitor, summary: str, count: int, timeout: float) -> Shown:
    """Wait until the daemon has shown ``count`` notifications titled ``summary`` and
    dunst displays the last; return it."""
    wait_for(lambda: len(monitor.showings(summary)) >= count, timeout, what=f"{summary!r} #{count}")
    wait_for(lambda: rig.dunst_property("displayedLength") >= 1, 5, what="dunst to display it")
    shown = monitor.showings(summary)
    assert len(shown) == count, shown
    return shown[-1]


#: fullscreen is read at wake-ups, every SHOWN_POLL (5 s) while a prompt is on screen;
#: do-not-disturb and the lock wake the daemon at once
POLLED, AT_ONCE = 5.0 + 2.0, 2.0


def closed_on_the_server(rig: Rig, monitor: Monitor, shown: Shown, within: float) -> None:
    """Within ``within`` seconds the daemon closed ``shown`` with CloseNotification;
    dunst shows and queues nothing."""
    wait_for(
        lambda: monitor.reason(shown.id) == BY_CALL,
        within,
        what=f"NotificationClosed({shown.id}, 3)",
    )
    assert shown.id in monitor.close_calls
    wait_for(lambda: rig.dunst_property("displayedLength") == 0, 5, what="nothing displayed")
    assert rig.dunst_property("waitingLength") == 0  # nor queued to pop up later


def stays_away(daemon: Daemon, monitor: Monitor, summary: str, rounds: int = 4) -> None:
    """While quiet holds, the daemon goes through ``rounds`` wake-ups, half a second or
    more apart (longer than the 1 s catch-up delay in all), and shows nothing."""
    before = len(monitor.showings(summary))
    woke = daemon.status()["wakeups"]
    wait_for(
        lambda: daemon.status()["wakeups"] >= woke + rounds,
        30,
        interval=0.5,
        what="the daemon's wake-ups",
    )
    assert len(monitor.showings(summary)) == before


def offered_again(rig: Rig, daemon: Daemon, monitor: Monitor, first: Shown) -> Shown:
    """The withdrawn drill prompt comes back: a new bubble, the same drill, no snooze used."""
    # fullscreen is read at each wake-up, every QUIET_POLL (15 s) while a prompt is
    # held; then the catch-up delay (1 s)
    again = on_screen(rig, monitor, DRILL, 2, 15 + 1 + 5)
    assert again.summary == first.summary
    assert again.replaces == 0  # a new notification, not an update of the closed one
    assert again.id != first.id
    assert again.actions == first.actions == ["start", "snooze", "skip"]
    status = daemon.status()
    assert status["state"] == "prompt"
    assert status["snoozes"] == 0
    return again


def test_a_fullscreen_window_withdraws_the_drill_prompt_until_it_ends(
    desktop: Rig, daemon: Daemon, typist: Typist, monitor: Monitor, window: int
) -> None:
    typist.start()
    start(desktop, daemon, monitor)
    first = on_screen(desktop, monitor, DRILL, 1, 30)
    assert daemon.status()["state"] == "prompt"

    desktop.set_fullscreen(window, True)  # the slide show starts
    wait_for(lambda: "_NET_WM_STATE_FULLSCREEN" in desktop.wm_state(window), what="fullscreen")
    closed_on_the_server(desktop, monitor, first, POLLED)
    status = daemon.status()
    assert (status["state"], status["quiet"], status["snoozes"]) == ("quiet", ["fullscreen"], 0)
    stays_away(daemon, monitor, DRILL)

    desktop.set_fullscreen(window, False)  # and ends
    offered_again(desktop, daemon, monitor, first)


def test_do_not_disturb_withdraws_the_drill_prompt_until_it_ends(
    desktop: Rig, daemon: Daemon, typist: Typist, monitor: Monitor
) -> None:
    typist.start()
    start(desktop, daemon, monitor)
    first = on_screen(desktop, monitor, DRILL, 1, 30)
    try:
        desktop.run("dunstctl", "set-paused", "true")
        closed_on_the_server(desktop, monitor, first, AT_ONCE)
        status = daemon.status()
        assert (status["state"], status["quiet"], status["snoozes"]) == ("quiet", ["dnd"], 0)
        stays_away(daemon, monitor, DRILL)
    finally:
        desktop.run("dunstctl", "set-paused", "false")
    offered_again(desktop, daemon, monitor, first)


def test_the_screen_lock_withdraws_the_drill_prompt_until_unlocked(
    desktop: Rig, daemon: Daemon, typist: Typist, monitor: Monitor
) -> None:
    path = "/org/gnome/ScreenSaver"
    with FakeService(desktop, SCREENSAVER) as locker:
        typist.start()
        start(desktop, daemon, monitor)
        first = on_screen(desktop, monitor, DRILL, 1, 30)
        locker.emit(path, SCREENSAVER, "ActiveChanged", "b", True)
        closed_on_the_server(desktop, monitor, first, AT_ONCE)
        assert daemon.status()["state"] == "away"
        stays_away(daemon, monitor, DRILL)  # typing on the lock screen changes nothing
        locker.emit(path, SCREENSAVER, "ActiveChanged", "b", False)
        offered_again(desktop, daemon, monitor, first)
        daemon.stop()


def test_a_posture_check_on_screen_is_withdrawn_by_fullscreen_and_shown_after(
    desktop: Rig, daemon: Daemon, typist: Typist, monitor: Monitor, window: int
) -> None:
    typist.start()
    start(desktop, daemon, monitor, POSTURE_CONFIG)
    code, _out, err = daemon.cli("posture")
    assert code == 0, err
    first = on_screen(desktop, monitor, POSTURE, 1, 10)
    desktop.set_fullscreen(window, True)
    closed_on_the_server(desktop, monitor, first, POLLED)
    assert daemon.status()["state"] == "quiet"
    stays_away(daemon, monitor, POSTURE)
    desktop.set_fullscreen(window, False)
    again = on_screen(desktop, monitor, POSTURE, 2, 15 + 1 + 5)
    assert (again.replaces, again.id != first.id) == (0, True)
    assert daemon.status()["next_posture_in"] > 9 * 60  # shown: the interval starts again


def test_a_running_drill_is_left_alone_by_fullscreen(
    desktop: Rig, daemon: Daemon, monitor: Monitor, window: int
) -> None:
    """A drill the person runs while a window goes fullscreen is their own choice: its
    bubble stays and the drill goes on."""
    start(desktop, daemon, monitor)
    code, _out, err = daemon.cli("start")
    assert code == 0, err
    wait_for(lambda: daemon.status()["state"] == "drill", 5, what="the drill to run")
    wait_for(lambda: monitor.showings(""), 5, what="the drill's bubble")
    desktop.set_fullscreen(window, True)
    wait_for(lambda: daemon.status()["quiet"] == ["fullscreen"], 15, what="quiet")
    woke = daemon.status()["wakeups"]
    wait_for(lambda: daemon.status()["wakeups"] >= woke + 4, 30, interval=0.5)
    assert daemon.status()["state"] == "drill"
    bubbles = {s.id for s in monitor.showings("")}
    assert not bubbles & set(monitor.close_calls)  # not closed
    assert desktop.dunst_property("displayedLength") >= 1
