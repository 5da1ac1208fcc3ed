"""systemd-logind on the system bus: sleep/wake and this session's lock state.

* ``Manager.PrepareForSleep(true/false)`` -> :class:`Suspending` / :class:`Resumed`.
* On our session object: the ``Lock``/``Unlock`` signals (``loginctl lock-session``)
  and the ``LockedHint`` property, which GNOME and KDE lockers set while locked ->
  :class:`ScreenLocked` / :class:`ScreenUnlocked`.

All signals arrive on the system link's receiver thread and only call ``emit``.
``LockedHint`` is read again whenever a lock or unlock may have been missed: when
the system bus is back after a restart (the link carries the subscriptions over)
and when logind itself (re)appears on the bus, which after a bus restart may be
after us. A sleep meanwhile is the time-jump backstop's to find.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from jeepney import DBusAddress, HeaderFields, MatchRule, Message  # type: ignore[import-untyped]

from ergobreak.core.events import Resumed, ScreenLocked, ScreenUnlocked, Suspending
from ergobreak.platform.base import Emit, Unavailable
from ergobreak.platform.dbus_link import PROPERTIES, DBusLink, Subscription, owner_changes

NAME = "org.freedesktop.login1"
MANAGER_PATH = "/org/freedesktop/login1"
MANAGER_IFACE = "org.freedesktop.login1.Manager"
SESSION_IFACE = "org.freedesktop.login1.Session"
MANAGER = DBusAddress(MANAGER_PATH, bus_name=NAME, interface=MANAGER_IFACE)


class LogindWatcher:
    name = "logind"

    def __init__(self, link: DBusLink) -> None:
        """Find our session. Raises :class:`Unavailable` when logind is not there."""
        self._link = link
        self._subs: list[Subscription] = []
        self.session_path = self._find_session()
        self.detail = (
            f"sleep and lock of session {self.session_path}"
            if self.session_path
            else "sleep only: this process belongs to no logind session"
        )

    def _find_session(self) -> str | None:
        if not self._link.name_has_owner(NAME):
            raise Unavailable(f"{NAME} is not on the system bus (no systemd-logind)")
        attempts: list[tuple[str, str, Any]] = []
        if os.environ.get("XDG_SESSION_ID"):
            attempts.append(("GetSession", "s", os.environ["XDG_SESSION_ID"]))
        attempts.append(("GetSessionByPID", "u", os.getpid()))
        for method, signature, arg in attempts:
            try:
                return str(self._link.call(MANAGER, method, signature, arg)[0])
            except Unavailable:
                continue
        return None

    def start(self, emit: Emit) -> None:
        def on_sleep(msg: Message) -> None:
            emit(Suspending() if msg.body[0] else Resumed())

        self._subs.append(
            self._link.subscribe(
                MatchRule(
                    type="signal",
                    interface=MANAGER_IFACE,
                    member="PrepareForSleep",
                    path=MANAGER_PATH,
                ),
                on_sleep,
                owner=NAME,
            )
        )
        if self.session_path is None:
            return
        path = self.session_path

        def on_lock(msg: Message) -> None:
            member = msg.header.fields.get(HeaderFields.member)
            if member == "Lock":
                emit(ScreenLocked())
            elif member == "Unlock":  # the session also sends PauseDevice and friends
                emit(ScreenUnlocked())

        def on_properties(msg: Message) -> None:
            interface, changed, _invalidated = msg.body
            if interface == SESSION_IFACE and "LockedHint" in changed:
                emit(ScreenLocked() if changed["LockedHint"][1] else ScreenUnlocked())

        self._subs.append(
            self._link.subscribe(
                MatchRule(type="signal", interface=SESSION_IFACE, path=path), on_lock, owner=NAME
            )
        )
        self._subs.append(
            self._link.subscribe(
                MatchRule(
                    type="signal", interface=PROPERTIES, member="PropertiesChanged", path=path
                ),
                on_properties,
                owner=NAME,
            )
        )
        if self._locked_hint():
            emit(ScreenLocked())

        def read_again() -> None:
            if self._subs:  # still started
                locked = self._locked_hint()
                if locked is not None:
                    emit(ScreenLocked() if locked else ScreenUnlocked())

        def on_owner(msg: Message) -> None:
            if msg.body[2]:  # a new owner: logind (re)started; no calls on this thread
                threading.Thread(target=read_again, name="ergobreak-logind", daemon=True).start()

        self._subs.append(self._link.subscribe(owner_changes(NAME), on_owner))
        self._link.on_back(read_again)

    def _locked_hint(self) -> bool | None:
        assert self.session_path is not None
        session = DBusAddress(self.session_path, bus_name=NAME, interface=SESSION_IFACE)
        try:
            return bool(self._link.get_property(session, "LockedHint"))
        except Unavailable:
            return None  # older logind without LockedHint: the signals still work

    def stop(self) -> None:
        for sub in self._subs:
            sub.cancel()
        self._subs.clear()
