"""Idle inhibition ("watching") read from the session manager or power manager, against
services written here after the real ones, on the rig's private bus.

powerdevil and xfce4-screensaver are not installed here, and some cases (KDE's
sleep-only inhibitor, a PowerManagement service that signals, a refused call) need a
service under the test's control, so :class:`InhibitService` follows the sources
(test_inhibit_real.py runs the real gnome-session): the names, paths, interfaces and
signatures, the order of signal and reply, the flags (GNOME's idle bit 8, powerdevil's
ChangeScreenSettings 4 vs. its sleep-only ``HasInhibit``), and that an inhibitor dies
with the connection of the application that took it. xfce4-power-manager 4.18 never
emits ``HasInhibitChanged``; the service does so only where asked to. Applications are
separate connections calling the real methods, as a video player does.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeVar

import pytest
from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    HeaderFields,
    MatchRule,
    Message,
    MessageType,
    message_bus,
    new_error,
    new_method_return,
    new_signal,
)
from jeepney.io.threading import ReceiveStopped, open_dbus_connection  # type: ignore[import-untyped]

from ergobreak.platform import dbus_inhibit as di
from ergobreak.platform.base import SeatedDetector
from ergobreak.platform.dbus_link import PROPERTIES, DBusLink

from .rig import Bus, Rig, wait_for
from .test_edge_fakes import FakeService

T = TypeVar("T")
Kind = Literal["gnome", "kde", "xfce", "xfce-saver"]
#: powerdevil: an idle (ChangeScreenSettings) inhibition implies a sleep one
KDE_SLEEP = 1


@dataclass
class Inhibitor:
    cookie: int
    owner: str
    flags: int


class InhibitService(FakeService):
    """gnome-session's, powerdevil's, xfce4-power-manager's or xfce4-screensaver's
    inhibitor bookkeeping, spoken over real D-Bus by one thread. ``queries`` counts the
    state reads."""

    def __init__(self, rig: Rig, kind: Kind, *, signals: bool = False) -> None:
        first, *others = {
            "gnome": [di.GNOME_NAME],
            "kde": [di.KDE_NAME, di.FDO_NAME],  # powerdevil: one connection, both names
            "xfce": [di.FDO_NAME],
            "xfce-saver": [di.XFCE_SAVER],
        }[kind]
        super().__init__(rig, first)
        self.others = others
        self.kind = kind
        #: xfce: emit HasInhibitChanged (the spec, KDE) -- xfce4-power-manager does not
        self.signals = signals
        self.inhibitors: dict[int, Inhibitor] = {}
        self.queries = 0
        self._cookies = itertools.count(7)

    def __enter__(self) -> InhibitService:
        super().__enter__()
        gone = MatchRule(type="signal", sender="org.freedesktop.DBus", member="NameOwnerChanged")
        self.conn.send(message_bus.AddMatch(gone))
        for name in self.others:
            self.conn.send(message_bus.RequestName(name))
            wait_for(partial(self.bus.name_has_owner, name), what=f"{name} owned")
        return self

    def close(self) -> None:
        super().close()
        for name in self.others:
            wait_for(partial(self._released, name), what=f"{name} released")

    def _released(self, name: str) -> bool:
        return not self.bus.name_has_owner(name)

    def _any(self) -> bool:
        return bool(self.inhibitors)

    # -- the connection
    def _serve(self) -> None:
        while True:
            try:
                msg = self.conn.receive()
            except ReceiveStopped:
                return
            kind = msg.header.message_type
            if kind == MessageType.method_call:
                for out in self._answer(msg):
                    self.conn.send(out)
            elif kind == MessageType.signal and msg.header.fields.get(HeaderFields.member) == (
                "NameOwnerChanged"
            ):
                name, _old, new = msg.body
                if not new:  # an application quit without releasing: its inhibitors go
                    for inh in [i for i in self.inhibitors.values() if i.owner == name]:
                        for out in self._remove(inh.cookie):
                            self.conn.send(out)

    def _answer(self, msg: Message) -> list[Message]:
        fields = msg.header.fields
        iface, member = fields.get(HeaderFields.interface, ""), fields[HeaderFields.member]
        sender = fields[HeaderFields.sender]
        body = tuple(msg.body)
        if iface == PROPERTIES and member == "Get" and body == (di.GNOME_NAME, "InhibitedActions"):
            return [new_method_return(msg, "v", (("u", self._actions()),))]
        if member in ("IsInhibited", "HasInhibition"):
            self.queries += 1
            bits = body[0]
            held = any(i.flags & bits for i in self.inhibitors.values())
            return [new_method_return(msg, "b", (held,))]
        if member == "GetInhibitors":  # xfce4-screensaver: the applications' names
            self.queries += 1
            return [new_method_return(msg, "as", (["mpv" for _ in self.inhibitors],))]
        if member == "HasInhibit":
            self.queries += 1
            # powerdevil: InterruptSession only; xfce4-power-manager: any inhibitor
            has = any(i.flags & KDE_SLEEP for i in self.inhibitors.values())
            return [new_method_return(msg, "b", (has if self.kind == "kde" else self._any(),))]
        if member in ("Inhibit", "AddInhibition"):
            if self.kind == "gnome":  # (app_id, toplevel_xid, reason, flags)
                flags = body[3]
            elif self.kind == "kde" and member == "AddInhibition":  # (types, app, reason)
                flags = body[0] | (KDE_SLEEP if body[0] & di.KDE_SCREEN else 0)
            else:  # (app, reason): PowerManagement (sleep on KDE, all on XFCE), xfce4-screensaver
                flags = KDE_SLEEP if self.kind == "kde" else 0xFF
            cookie = next(self._cookies)
            out = self._add(Inhibitor(cookie, sender, flags))
            return [*out, new_method_return(msg, "u", (cookie,))]
        if member in ("Uninhibit", "UnInhibit", "ReleaseInhibition"):
            return [*self._remove(body[0]), new_method_return(msg)]
        unknown = "org.freedesktop.DBus.Error.UnknownMethod"
        return [new_error(msg, unknown, "s", (f"no {iface}.{member}",))]

    def _actions(self) -> int:
        bits = 0
        for inh in self.inhibitors.values():
            bits |= inh.flags
        return bits

    def _add(self, inh: Inhibitor) -> list[Message]:
        before = self._snapshot()
        self.inhibitors[inh.cookie] = inh
        return self._changed(before, inh.cookie, added=True)

    def _remove(self, cookie: int) -> list[Message]:
        if cookie not in self.inhibitors:
            return []
        before = self._snapshot()
        del self.inhibitors[cookie]
        return self._changed(before, cookie, added=False)

    def _snapshot(self) -> tuple[int, bool]:
        return self._actions(), self._any()

    def _changed(self, before: tuple[int, bool], cookie: int, *, added: bool) -> list[Message]:
        actions, anything = before
        if self.kind == "gnome":
            path = f"{di.GNOME_PATH}/Inhibitor{cookie}"
            api = DBusAddress(di.GNOME_PATH, interface=di.GNOME_NAME)
            out = [new_signal(api, "InhibitorAdded" if added else "InhibitorRemoved", "o", (path,))]
            if self._actions() != actions:  # the skeleton's PropertiesChanged, after
                props = DBusAddress(di.GNOME_PATH, interface=PROPERTIES)
                change = {"InhibitedActions": ("u", self._actions())}
                out.append(
                    new_signal(props, "PropertiesChanged", "sa{sv}as", (di.GNOME_NAME, change, []))
                )
            return out
        if self.kind == "kde":
            api = DBusAddress(di.KDE_PATH, interface=di.KDE_NAME)
            pair = [("tests", "playing a video")]
            body: tuple[Any, ...] = (pair, []) if added else ([], ["tests"])
            out = [new_signal(api, "InhibitionsChanged", "a(ss)as", body)]
            sleep_before = bool(actions & KDE_SLEEP)
            sleep_now = bool(self._actions() & KDE_SLEEP)
            if sleep_now != sleep_before:  # FdoConnector: HasInhibitChanged(InterruptSession)
                fdo = DBusAddress(di.FDO_PATH, interface=di.FDO_INTERFACE)
                out.append(new_signal(fdo, "HasInhibitChanged", "b", (sleep_now,)))
            return out
        if self.signals and self._any() != anything:
            fdo = DBusAddress(di.FDO_PATH, interface=di.FDO_INTERFACE)
            return [new_signal(fdo, "HasInhibitChanged", "b", (self._any(),))]
        return []  # xfce4-power-manager 4.18: the state changes silently


class App:
    """An application holding inhibitors: its own connection, closed when it quits."""

    def __init__(self, rig: Rig) -> None:
        self.bus = Bus(rig.bus_address)

    def gnome_inhibit(self, flags: int) -> int:
        api = DBusAddress(di.GNOME_PATH, di.GNOME_NAME, di.GNOME_NAME)
        return int(self.bus.call(api, "Inhibit", "susu", "mpv", 0, "Playing video", flags)[0])

    def gnome_uninhibit(self, cookie: int) -> None:
        api = DBusAddress(di.GNOME_PATH, di.GNOME_NAME, di.GNOME_NAME)
        self.bus.call(api, "Uninhibit", "u", cookie)

    def kde_inhibit(self, types: int) -> int:
        api = DBusAddress(di.KDE_PATH, di.KDE_NAME, di.KDE_NAME)
        return int(self.bus.call(api, "AddInhibition", "uss", types, "vlc", "Playing")[0])

    def kde_release(self, cookie: int) -> None:
        api = DBusAddress(di.KDE_PATH, di.KDE_NAME, di.KDE_NAME)
        self.bus.call(api, "ReleaseInhibition", "u", cookie)

    def fdo_inhibit(self) -> int:
        api = DBusAddress(di.FDO_PATH, di.FDO_NAME, di.FDO_INTERFACE)
        return int(self.bus.call(api, "Inhibit", "ss", "chromium", "Playing video")[0])

    def saver_inhibit(self) -> int:
        api = DBusAddress(di.XFCE_SAVER_PATH, di.XFCE_SAVER, di.XFCE_SAVER)
        return int(self.bus.call(api, "Inhibit", "ss", "mpv", "Playing video")[0])

    def fdo_uninhibit(self, cookie: int) -> None:
        api = DBusAddress(di.FDO_PATH, di.FDO_NAME, di.FDO_INTERFACE)
        self.bus.call(api, "UnInhibit", "u", cookie)

    def quit(self) -> None:
        self.bus.close()


class Wakes:
    """``on_change``: counts the engine wake-ups a reader asked for (bus thread)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self.count += 1

    def seen(self) -> int:
        with self._lock:
            return self.count

    def after(self, action: Callable[[], T], signal: str) -> T:
        """Do ``action``, then wait until a reader asked for a wake-up (``signal``
        names what should have caused it)."""
        before = self.seen()
        result = action()
        wait_for(lambda: self.seen() > before, what=f"a wake-up from {signal}")
        return result


def watch(link: DBusLink, reader: type[SeatedDetector]) -> tuple[Wakes, di.IdleInhibit]:
    """The merged detector, which must consist of ``reader`` alone and read False."""
    wakes = Wakes()
    detector = di.open_inhibit(link, {}, wakes)
    assert [type(r) for r in detector.readers] == [reader]
    assert (detector.name, detector.reason) == ("inhibit", "watching")
    assert detector.active() is False
    return wakes, detector


@pytest.fixture
def link(desktop: Rig) -> Iterator[DBusLink]:
    opened = DBusLink.open("SESSION")
    yield opened
    opened.close()


@pytest.fixture
def app(desktop: Rig) -> Iterator[App]:
    started = App(desktop)
    yield started
    started.quit()


def test_gnome_inhibitor_turns_watching_on_and_off_by_signal(
    desktop: Rig, link: DBusLink, app: App
) -> None:
    with InhibitService(desktop, "gnome") as svc:
        wakes, detector = watch(link, di.GnomeSessionInhibit)
        assert "IsInhibited" in detector.detail
        reads = svc.queries

        # idle + suspend, as a video player asks
        cookie = wakes.after(lambda: app.gnome_inhibit(di.GNOME_IDLE | 4), "InhibitorAdded")
        assert detector.active() is True
        # cached: asking again costs no call until the next signal
        settled = svc.queries
        assert detector.active() is True
        assert detector.active() is True
        assert svc.queries == settled <= reads + 1

        wakes.after(lambda: app.gnome_uninhibit(cookie), "InhibitorRemoved")
        assert detector.active() is False
        detector.close()


def test_gnome_inhibitor_of_another_action_is_not_watching(
    desktop: Rig, link: DBusLink, app: App
) -> None:
    with InhibitService(desktop, "gnome"):
        wakes, detector = watch(link, di.GnomeSessionInhibit)
        # logout + suspend (a disc burner): the user may well be away
        wakes.after(lambda: app.gnome_inhibit(1 | 4), "InhibitorAdded")
        assert detector.active() is False
        app.gnome_inhibit(di.GNOME_IDLE)
        wait_for(detector.active, what="the idle inhibitor seen")
        detector.close()


def test_an_application_that_quits_takes_its_inhibitor_along(desktop: Rig, link: DBusLink) -> None:
    with InhibitService(desktop, "gnome"):
        wakes, detector = watch(link, di.GnomeSessionInhibit)
        player = App(desktop)
        player.gnome_inhibit(di.GNOME_IDLE)
        wait_for(detector.active, what="the player's inhibitor seen")
        # no Uninhibit: the session manager drops it with the connection
        wakes.after(player.quit, "InhibitorRemoved")
        assert detector.active() is False
        detector.close()


def test_session_manager_gone_reads_false_and_a_new_one_is_followed(
    desktop: Rig, link: DBusLink
) -> None:
    player = App(desktop)
    svc = InhibitService(desktop, "gnome").__enter__()
    wakes, detector = watch(link, di.GnomeSessionInhibit)
    again = InhibitService(desktop, "gnome")
    try:
        player.gnome_inhibit(di.GNOME_IDLE)
        wait_for(detector.active, what="the inhibitor seen")
        wakes.after(svc.close, "NameOwnerChanged")  # gnome-session gone, its inhibitors too
        assert detector.active() is False  # no Unavailable: nobody inhibits through it
        assert detector.active() is False

        wakes.after(again.__enter__, "NameOwnerChanged")
        assert detector.active() is False
        assert again.queries == 1, "the new owner is asked once"
        player.gnome_inhibit(di.GNOME_IDLE)
        wait_for(detector.active, what="the new owner's inhibitor seen")
    finally:
        detector.close()
        player.quit()
        again.close()


def test_kde_reads_screen_inhibitions_not_sleep_ones(
    desktop: Rig, link: DBusLink, app: App
) -> None:
    with InhibitService(desktop, "kde") as svc:
        wakes, detector = watch(link, di.KdePolicyAgentInhibit)
        assert dict(detector.tried)["PowerManagement.Inhibit"].startswith("not needed")

        # a download keeping the machine awake: sleep only
        wakes.after(app.fdo_inhibit, "InhibitionsChanged")
        assert detector.active() is False
        fdo = DBusAddress(di.FDO_PATH, di.FDO_NAME, di.FDO_INTERFACE)
        assert app.bus.call(fdo, "HasInhibit")[0], "powerdevil's HasInhibit says yes for sleep"

        # what org.freedesktop.ScreenSaver.Inhibit asks for, through kscreenlocker
        cookie = wakes.after(lambda: app.kde_inhibit(di.KDE_SCREEN), "InhibitionsChanged")
        assert detector.active() is True
        reads = svc.queries
        assert detector.active() is True
        assert svc.queries == reads

        wakes.after(lambda: app.kde_release(cookie), "InhibitionsChanged")
        assert detector.active() is False
        detector.close()


def test_xfce_power_manager_sends_no_signal_and_is_read_at_each_wake_up(
    desktop: Rig, link: DBusLink, app: App
) -> None:
    with InhibitService(desktop, "xfce") as svc:
        wakes, detector = watch(link, di.PowerManagementInhibit)
        assert "no signal yet" in detector.detail
        cookie = app.fdo_inhibit()
        reads = svc.queries
        assert detector.active() is True  # read now: nothing said it changed
        assert detector.active() is True
        assert svc.queries == reads + 2
        app.fdo_uninhibit(cookie)
        assert detector.active() is False
        assert wakes.seen() == 0  # no signal came, none was invented
        detector.close()


def test_power_management_that_signals_is_followed_without_reads(
    desktop: Rig, link: DBusLink, app: App
) -> None:
    with InhibitService(desktop, "xfce", signals=True) as svc:
        wakes, detector = watch(link, di.PowerManagementInhibit)
        cookie = wakes.after(app.fdo_inhibit, "HasInhibitChanged")
        reads = svc.queries
        assert detector.active() is True
        assert detector.active() is True
        assert svc.queries == reads, "the signal's value is used as it is"
        assert "HasInhibitChanged" in detector.detail
        wakes.after(lambda: app.fdo_uninhibit(cookie), "HasInhibitChanged")
        assert detector.active() is False
        assert svc.queries == reads
        detector.close()


def test_xfce_screensaver_is_read_at_each_wake_up(desktop: Rig, link: DBusLink) -> None:
    with InhibitService(desktop, "xfce-saver") as svc:
        wakes, detector = watch(link, di.XfceScreenSaverInhibit)
        player = App(desktop)
        player.saver_inhibit()
        reads = svc.queries
        assert detector.active() is True
        assert svc.queries == reads + 1
        player.quit()  # xfce4-screensaver drops the entry with the connection
        wait_for(lambda: not detector.active(), what="the player's entry gone")
        assert wakes.seen() == 0
        detector.close()


def test_readers_of_two_services_merge_into_one(desktop: Rig, link: DBusLink, app: App) -> None:
    with InhibitService(desktop, "gnome"), InhibitService(desktop, "xfce"):
        detector = di.open_inhibit(link, {}, None)
        kinds = [type(r) for r in detector.readers]
        assert kinds == [di.GnomeSessionInhibit, di.PowerManagementInhibit]
        assert di.GNOME_NAME in detector.detail
        assert di.FDO_INTERFACE in detector.detail
        assert detector.active() is False
        cookie = app.fdo_inhibit()
        assert detector.active() is True
        app.fdo_uninhibit(cookie)
        assert detector.active() is False
        app.gnome_inhibit(di.GNOME_IDLE)
        wait_for(detector.active, what="the GNOME inhibitor seen")
        detector.close()


def test_no_service_is_unavailable_naming_each_tried(desktop: Rig, link: DBusLink) -> None:
    names = (di.GNOME_NAME, di.KDE_NAME, di.FDO_NAME, di.XFCE_SAVER)
    for name in names:
        assert not desktop.bus.name_has_owner(name)
    with pytest.raises(di.NoInhibitReader) as caught:
        di.open_inhibit(link, {"WAYLAND_DISPLAY": "wayland-0"}, None)
    tried = dict(caught.value.tried)
    assert list(tried) == [label for label, _ in di.READERS]
    for name in names:
        assert name in str(caught.value)
    assert "honours inhibitors" in str(caught.value)
    with pytest.raises(di.NoInhibitReader) as caught:
        di.open_inhibit(link, {"XDG_SESSION_TYPE": "wayland"}, None)
    assert "honours inhibitors" in str(caught.value)
    with pytest.raises(di.NoInhibitReader) as caught:
        di.open_inhibit(link, {}, None)
    assert "Wayland" not in str(caught.value)


def test_a_service_without_the_method_is_not_used(desktop: Rig, link: DBusLink) -> None:
    """A name owned by something that does not answer IsInhibited (an old or partial
    session manager) is passed over, saying why."""
    with InhibitService(desktop, "xfce"):
        impostor = open_dbus_connection(desktop.bus_address)
        try:
            served = threading.Thread(target=_refuse_all, args=(impostor,), daemon=True)
            served.start()
            impostor.send(message_bus.RequestName(di.GNOME_NAME))
            wait_for(lambda: desktop.bus.name_has_owner(di.GNOME_NAME), what="impostor owns")
            detector = di.open_inhibit(link, {}, None)
            assert [type(r) for r in detector.readers] == [di.PowerManagementInhibit]
            assert "UnknownMethod" in dict(detector.tried)["GNOME session manager"]
            detector.close()
        finally:
            impostor.interrupt()
            served.join(5)
            impostor.close()
        wait_for(lambda: not desktop.bus.name_has_owner(di.GNOME_NAME), what="impostor gone")


def _refuse_all(conn: Any) -> None:
    while True:
        try:
            msg = conn.receive()
        except (ReceiveStopped, OSError):
            return
        if msg.header.message_type == MessageType.method_call:
            unknown = "org.freedesktop.DBus.Error.UnknownMethod"
            conn.send(new_error(msg, unknown, "s", ("nothing here",)))


def test_a_new_bus_connection_reads_again(desktop: Rig, link: DBusLink, app: App) -> None:
    """After the link reconnects, signals sent meanwhile may be lost: read once more."""
    with InhibitService(desktop, "gnome") as svc:
        wakes, detector = watch(link, di.GnomeSessionInhibit)
        reads = svc.queries
        wakes.after(link.reconnect, "the link's on_back")
        assert detector.active() is False
        assert svc.queries == reads + 1
        app.gnome_inhibit(di.GNOME_IDLE)  # the signals reach the new connection
        wait_for(detector.active, what="the inhibitor seen on the new connection")
        detector.close()


def test_a_reading_older_than_a_signal_does_not_overwrite_it(
    desktop: Rig, link: DBusLink, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reply to a re-read can be routed just before a signal that changes the
    state; the signal's value must survive the (older) reply being stored."""
    with InhibitService(desktop, "gnome"):
        _wakes, detector = watch(link, di.GnomeSessionInhibit)
        real_call = link.call
        raced: list[bool] = []

        def reply_then_signal(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
            reply = real_call(*args, **kwargs)  # not inhibited, as of the reply
            app.gnome_inhibit(di.GNOME_IDLE)  # its signals come right after
            link.name_has_owner(di.GNOME_NAME)  # a round trip: they have been handled
            raced.append(bool(reply[0]))
            return reply

        monkeypatch.setattr(link, "call", reply_then_signal)
        link.reconnect()  # makes the reader read again at the next active()
        assert detector.active() is True
        assert raced == [False]
        detector.close()
