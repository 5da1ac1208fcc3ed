"""GNOME/KDE idle, screensaver lock, logind, KDE do-not-disturb and the GNOME portal,
each against a small fake service on the rig's private bus.

The fakes export the real bus names, object paths, interfaces and signatures, and
speak real D-Bus (jeepney) -- only their behaviour is scripted. logind lives on the
system bus in real life; here ``DBUS_SYSTEM_BUS_ADDRESS`` points at the private bus.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    HeaderFields,
    Message,
    MessageType,
    message_bus,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.io.threading import (  # type: ignore[import-untyped]
    ReceiveStopped,
    open_dbus_connection,
)

from ergobreak.core.events import (
    Observation,
    Quiet,
    Resumed,
    ScreenLocked,
    ScreenUnlocked,
    Suspending,
)
from ergobreak.platform import dbus_dnd, dbus_idle, dbus_lock, dbus_logind
from ergobreak.platform.base import Unavailable
from ergobreak.platform.dbus_link import DBusLink
from ergobreak.platform.select import open_edge

from .rig import Bus, Rig, wait_equal, wait_for

PROPS = "org.freedesktop.DBus.Properties"
Handler = Callable[[tuple[Any, ...]], tuple[str, tuple[Any, ...]]]


class FakeService:
    """A scripted D-Bus service: owns ``name``, answers ``methods`` and properties,
    emits signals on demand. One thread reads its connection; ``close`` stops it.

    It lives on the rig's bus, or on the bus at ``address`` (one a test may kill:
    the service then just ends with it)."""

    def __init__(self, rig: Rig, name: str, *, address: str | None = None) -> None:
        self.bus = Bus(address) if address else rig.bus
        self._own_bus = address is not None
        self.bus_gone = False
        self.name = name
        #: (path, interface, member) -> handler(body) -> (signature, reply body)
        self.methods: dict[tuple[str, str, str], Handler] = {}
        #: (path, interface) -> {property: (signature, value)}
        self.props: dict[tuple[str, str], dict[str, tuple[str, Any]]] = {}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.conn = open_dbus_connection(address or rig.bus_address)
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FakeService:
        self.thread.start()
        self.conn.send(message_bus.RequestName(self.name))
        wait_for(lambda: self.bus.owner_pid(self.name) is not None, what=f"{self.name} owned")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.interrupt()
        self.thread.join(5)
        self.conn.close()
        if not self.bus_gone:
            wait_for(lambda: not self.bus.name_has_owner(self.name), what=f"{self.name} released")
        if self._own_bus:
            self.bus.close()

    def emit(self, path: str, interface: str, member: str, signature: str, *body: Any) -> None:
        self.conn.send(new_signal(DBusAddress(path, interface=interface), member, signature, body))

    def set_prop(self, path: str, interface: str, prop: str, sig: str, value: Any) -> None:
        self.props.setdefault((path, interface), {})[prop] = (sig, value)
        self.emit(path, PROPS, "PropertiesChanged", "sa{sv}as", interface, {prop: (sig, value)}, [])

    def _serve(self) -> None:
        while True:
            try:
                msg = self.conn.receive()
            except ReceiveStopped:
                return
            except OSError:  # the bus was killed under us
                self.bus_gone = True
                return
            if msg.header.message_type == MessageType.method_call:
                self.conn.send(self._answer(msg))

    def _answer(self, msg: Message) -> Message:
        fields = msg.header.fields
        path, iface, member = (
            fields[HeaderFields.path],
            fields.get(HeaderFields.interface, ""),
            fields[HeaderFields.member],
        )
        body = tuple(msg.body)
        self.calls.append((member, body))
        if iface == PROPS and member == "Get":
            value = self.props.get((path, body[0]), {}).get(body[1])
            if value is None:
                return new_error(msg, "org.freedesktop.DBus.Error.InvalidArgs", "s", ("no such",))
            return new_method_return(msg, "v", (value,))
        handler = self.methods.get((path, iface, member))
        if handler is None:
            return new_error(
                msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (f"no {iface}.{member}",)
            )
        try:
            signature, reply = handler(body)
        except LookupError as exc:
            return new_error(msg, "org.freedesktop.DBus.Error.NotSupported", "s", (str(exc),))
        return new_method_return(msg, signature, reply)


class Events:
    """What watchers emitted (from the bus thread), to wait on from the test."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Observation] = queue.Queue()

    def __call__(self, event: Observation) -> None:
        self.queue.put(event)

    def next(self, timeout: float = 5.0) -> Observation:
        return self.queue.get(timeout=timeout)

    def empty_after_sync(self, link: DBusLink) -> bool:
        link.name_has_owner("org.freedesktop.DBus")  # a round trip: earlier signals are in
        return self.queue.empty()


@pytest.fixture
def link(desktop: Rig) -> Iterator[DBusLink]:
    opened = DBusLink.open("SESSION")
    yield opened
    opened.close()


# --------------------------------------------------------------------------- Mutter


def fake_mutter(rig: Rig, idle_ms: list[int]) -> FakeService:
    svc = FakeService(rig, dbus_idle.MUTTER_NAME)
    path, iface = dbus_idle.MUTTER_PATH, dbus_idle.MUTTER_NAME
    watches: list[int] = []
    ids = itertools.count(1)

    def add_watch(_body: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        watches.append(next(ids))
        return "u", (watches[-1],)

    def remove_watch(body: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        watches.remove(body[0])
        return "", ()

    svc.methods[(path, iface, "GetIdletime")] = lambda _b: ("t", (idle_ms[0],))
    svc.methods[(path, iface, "AddUserActiveWatch")] = add_watch
    svc.methods[(path, iface, "RemoveWatch")] = remove_watch
    svc.watches = watches  # type: ignore[attr-defined]
    return svc


def user_active(svc: FakeService) -> None:
    """What Mutter does on the first input after idle: fire (and drop) user-active watches."""
    watches: list[int] = svc.watches  # type: ignore[attr-defined]
    while watches:
        svc.emit(dbus_idle.MUTTER_PATH, dbus_idle.MUTTER_NAME, "WatchFired", "u", watches.pop(0))


def test_mutter_idle_on_wayland_is_picked_over_x11(desktop: Rig) -> None:
    idle_ms = [93_500]
    with fake_mutter(desktop, idle_ms) as svc:
        env = {**desktop.subprocess_env(), "WAYLAND_DISPLAY": "wayland-test"}
        edge = open_edge(lambda r: None, env=env)
        try:
            idle = edge.choices[0]
            assert (idle.role, idle.name, idle.ok) == ("idle", "mutter", True)
            assert idle.detail == "auto, wakes on first input"
            assert edge.read_idle() == 93.5
            idle_ms[0] = 250
            assert edge.read_idle() == 0.25
            assert edge.can_wake_on_activity
        finally:
            edge.close()
    assert ("GetIdletime", ()) in svc.calls


def test_mutter_user_active_watch_wakes_once(desktop: Rig, link: DBusLink) -> None:
    with fake_mutter(desktop, [60_000]) as svc:
        idle = dbus_idle.MutterIdle(link)
        woke: queue.Queue[str] = queue.Queue()
        idle.wake_on_activity(lambda: woke.put("first"))
        idle.wake_on_activity(lambda: woke.put("second"))  # re-arming replaces
        assert ("RemoveWatch", (1,)) in svc.calls
        user_active(svc)
        assert woke.get(timeout=5) == "second"
        user_active(svc)  # nothing armed: nothing fires
        idle.wake_on_activity(lambda: woke.put("third"))
        user_active(svc)
        assert woke.get(timeout=5) == "third"
        assert woke.empty()
        idle.close()


def test_mutter_gone_is_unavailable(desktop: Rig, link: DBusLink) -> None:
    with pytest.raises(Unavailable, match=r"GNOME idle monitor: org\.freedesktop\.DBus\.Error"):
        dbus_idle.MutterIdle(link)


# --------------------------------------------------------------------------- KDE ScreenSaver


def fake_screensaver(rig: Rig, idle_ms: int | None) -> FakeService:
    """KDE's org.freedesktop.ScreenSaver (idle in ms), or GNOME-like NotSupported."""
    svc = FakeService(rig, dbus_idle.SCREENSAVER_NAME)

    def get_idle(_body: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        if idle_ms is None:
            raise LookupError("GetSessionIdleTime is not supported")
        return "u", (idle_ms,)

    svc.methods[(dbus_idle.SCREENSAVER_PATH, dbus_idle.SCREENSAVER_NAME, "GetSessionIdleTime")] = (
        get_idle
    )
    return svc


def test_kde_screensaver_idle_in_milliseconds(desktop: Rig) -> None:
    with fake_screensaver(desktop, 4_200):
        env = {**desktop.subprocess_env(), "XDG_SESSION_TYPE": "wayland"}
        edge = open_edge(lambda r: None, env=env)
        try:
            idle = edge.choices[0]
            assert (idle.name, idle.ok) == ("screensaver", True)
            assert idle.tried[0][0] == "mutter"
            assert "ServiceUnknown" in idle.tried[0][1]
            assert edge.read_idle() == 4.2
            assert not edge.can_wake_on_activity
        finally:
            edge.close()


def test_screensaver_without_idle_time_is_passed_over(desktop: Rig) -> None:
    with fake_screensaver(desktop, None):
        env = {**desktop.subprocess_env(), "WAYLAND_DISPLAY": "wayland-test"}
        edge = open_edge(lambda r: None, env=env)
        try:
            idle = edge.choices[0]
            assert (idle.name, idle.ok) == ("none", False)
            assert "NotSupported" in dict(idle.tried)["screensaver"]
        finally:
            edge.close()


def test_screensaver_active_changed_locks_and_unlocks(desktop: Rig, link: DBusLink) -> None:
    with FakeService(desktop, "org.gnome.ScreenSaver") as svc:
        watcher = dbus_lock.ScreenSaverLockWatcher(link)
        assert watcher.detail == "lock from org.gnome.ScreenSaver"
        events = Events()
        watcher.start(events)
        svc.emit("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver", "ActiveChanged", "b", True)
        assert events.next() == ScreenLocked()
        svc.emit("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver", "ActiveChanged", "b", False)
        assert events.next() == ScreenUnlocked()
        watcher.stop()
        svc.emit("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver", "ActiveChanged", "b", True)
        assert events.empty_after_sync(link)


# --------------------------------------------------------------------------- logind

SESSION_PATH = "/org/freedesktop/login1/session/_31"


def fake_logind(rig: Rig, locked_hint: bool = False, address: str | None = None) -> FakeService:
    svc = FakeService(rig, dbus_logind.NAME, address=address)
    path, iface = dbus_logind.MANAGER_PATH, dbus_logind.MANAGER_IFACE
    svc.methods[(path, iface, "GetSessionByPID")] = lambda _b: ("o", (SESSION_PATH,))
    svc.methods[(path, iface, "GetSession")] = lambda _b: ("o", (SESSION_PATH,))
    svc.props[(SESSION_PATH, dbus_logind.SESSION_IFACE)] = {"LockedHint": ("b", locked_hint)}
    return svc


@pytest.fixture
def system_is_private_bus(desktop: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", desktop.bus_address)
    monkeypatch.delenv("XDG_SESSION_ID", raising=False)


@pytest.mark.usefixtures("system_is_private_bus")
def test_logind_sleep_and_session_lock(desktop: Rig) -> None:
    with fake_logind(desktop) as svc:
        events = Events()
        edge = open_edge(lambda r: None, env={**desktop.subprocess_env(), **_system(desktop)})
        try:
            logind = next(c for c in edge.choices if c.name == "logind")
            assert (logind.ok, logind.detail) == (True, f"sleep and lock of session {SESSION_PATH}")
            assert ("GetSessionByPID", (os.getpid(),)) in svc.calls
            edge.start(events)
            mgr = (dbus_logind.MANAGER_PATH, dbus_logind.MANAGER_IFACE)
            sess = (SESSION_PATH, dbus_logind.SESSION_IFACE)
            svc.emit(*mgr, "PrepareForSleep", "b", True)
            assert events.next() == Suspending()
            svc.emit(*mgr, "PrepareForSleep", "b", False)
            assert events.next() == Resumed()
            svc.emit(*sess, "Lock", "")
            assert events.next() == ScreenLocked()
            svc.set_prop(*sess, "LockedHint", "b", True)  # the locker confirms: no repeat
            svc.emit(*sess, "PauseDevice", "uus", 13, 64, "pause")  # not a lock signal
            svc.emit(*sess, "Unlock", "")
            assert events.next() == ScreenUnlocked()
            svc.set_prop(*sess, "LockedHint", "b", True)  # locked by the locker alone
            assert events.next() == ScreenLocked()
            svc.set_prop(*sess, "LockedHint", "b", False)
            assert events.next() == ScreenUnlocked()
            other = "/org/freedesktop/login1/session/_32"  # someone else's session
            svc.emit(other, dbus_logind.SESSION_IFACE, "Lock", "")
            svc.emit(*mgr, "PrepareForSleep", "b", True)  # sent after it, so read after it
            assert events.next() == Suspending()
        finally:
            edge.close()


@pytest.mark.usefixtures("system_is_private_bus")
def test_logind_reports_a_session_that_starts_locked(desktop: Rig) -> None:
    with fake_logind(desktop, locked_hint=True):
        link = DBusLink.open("SYSTEM")
        try:
            watcher = dbus_logind.LogindWatcher(link)
            events = Events()
            watcher.start(events)
            assert events.next() == ScreenLocked()
            watcher.stop()
        finally:
            link.close()


@pytest.mark.usefixtures("system_is_private_bus")
def test_logind_missing_is_unavailable_with_a_hint(desktop: Rig) -> None:
    edge = open_edge(lambda r: None, env={**desktop.subprocess_env(), **_system(desktop)})
    try:
        logind = next(c for c in edge.choices if c.name == "logind")
        assert not logind.ok
        assert (
            logind.detail == "org.freedesktop.login1 is not on the system bus (no systemd-logind)"
        )
        assert logind.hint
        assert "time-jump backstop" in logind.hint
    finally:
        edge.close()


def _system(rig: Rig) -> dict[str, str]:
    return {"DBUS_SYSTEM_BUS_ADDRESS": rig.bus_address}


# --------------------------------------------------------------------------- DND


def test_kde_notifications_inhibited(desktop: Rig, link: DBusLink) -> None:
    desktop.stop("dunst")  # the fake takes its name; the baseline restarts dunst
    with FakeService(desktop, dbus_dnd.NOTIFICATIONS) as svc:
        key = (dbus_dnd.NOTIFICATIONS_PATH, dbus_dnd.NOTIFICATIONS)
        svc.props[key] = {"Inhibited": ("b", False)}
        changed = threading.Event()
        dnd = dbus_dnd.notifications_inhibited(link, changed.set)
        assert dnd.detail == "org.freedesktop.Notifications.Inhibited"
        assert not dnd.active()
        svc.set_prop(*key, "Inhibited", "b", True)
        assert changed.wait(5)
        assert dnd.active()
        gets = sum(1 for member, _ in svc.calls if member == "Get")
        assert dnd.active()  # read from the cache: no round trip
        assert sum(1 for member, _ in svc.calls if member == "Get") == gets
        svc.set_prop(*key, "Inhibited", "b", False)
        wait_equal(dnd.active, False)
        dnd.close()


def test_dnd_rereads_after_the_server_restarts(desktop: Rig, link: DBusLink) -> None:
    desktop.stop("dunst")
    key = (dbus_dnd.NOTIFICATIONS_PATH, dbus_dnd.NOTIFICATIONS)
    with FakeService(desktop, dbus_dnd.NOTIFICATIONS) as first:
        first.props[key] = {"Inhibited": ("b", True)}
        changed = threading.Event()
        dnd = dbus_dnd.notifications_inhibited(link, changed.set)
        assert dnd.active()
    assert changed.wait(5)  # the owner left
    assert not dnd.active()  # nobody asks for quiet now
    with FakeService(desktop, dbus_dnd.NOTIFICATIONS) as second:
        second.props[key] = {"Inhibited": ("b", True)}  # comes back inhibited, silently
        wait_equal(dnd.active, True)
    dnd.close()


def test_gnome_show_banners_via_portal(desktop: Rig, link: DBusLink) -> None:
    with FakeService(desktop, dbus_dnd.PORTAL_NAME) as svc:
        banners = {"value": True}
        ns = dbus_dnd.GNOME_NOTIFICATIONS
        svc.methods[(dbus_dnd.PORTAL_PATH, dbus_dnd.PORTAL_SETTINGS, "ReadOne")] = lambda body: (
            "v",
            (("b", banners["value"]),),
        )
        detector = dbus_dnd.PortalBanners(link)
        assert not detector.active()
        assert ("ReadOne", (ns, "show-banners")) in svc.calls
        path, iface = dbus_dnd.PORTAL_PATH, dbus_dnd.PORTAL_SETTINGS
        svc.emit(path, iface, "SettingChanged", "ssv", ns, "show-banners", ("b", False))
        wait_equal(detector.active, True)
        svc.emit(
            path, iface, "SettingChanged", "ssv", "org.gnome.desktop.interface", "x", ("b", True)
        )
        svc.emit(path, iface, "SettingChanged", "ssv", ns, "show-banners", ("b", True))
        wait_equal(detector.active, False)
        detector.close()


def test_old_portal_read_wraps_the_value_twice(desktop: Rig, link: DBusLink) -> None:
    with FakeService(desktop, dbus_dnd.PORTAL_NAME) as svc:
        svc.methods[(dbus_dnd.PORTAL_PATH, dbus_dnd.PORTAL_SETTINGS, "Read")] = lambda body: (
            "v",
            (("v", ("b", False)),),
        )
        detector = dbus_dnd.PortalBanners(link)
        assert detector.active()  # banners off: do not disturb
        assert [m for m, _ in svc.calls] == ["ReadOne", "Read"]
        detector.close()


def test_dnd_state_reaches_the_core_as_quiet(desktop: Rig) -> None:
    """Through the Edge: the desktop's real dunst pause is one of the dnd readers."""
    woke = threading.Event()
    edge = open_edge(lambda r: None, on_change=woke.set)
    try:
        assert edge.quiet_changes() == []
        desktop.run("dunstctl", "set-paused", "true")
        assert woke.wait(5)
        assert edge.quiet_changes() == [Quiet("dnd", True)]
        woke.clear()
        desktop.run("dunstctl", "set-paused", "false")
        assert woke.wait(5)
        assert edge.quiet_changes() == [Quiet("dnd", False)]
    finally:
        desktop.run("dunstctl", "set-paused", "false")
        edge.close()
