"""Screen lock from the screensaver service's ``ActiveChanged(b)`` signal.

GNOME Shell sends it as ``org.gnome.ScreenSaver``, KDE and others as
``org.freedesktop.ScreenSaver``; we listen to both. Useful without logind (other
init systems, containers) and as a second opinion with it.
"""

from __future__ import annotations

from jeepney import MatchRule, Message  # type: ignore[import-untyped]

from ergobreak.core.events import ScreenLocked, ScreenUnlocked
from ergobreak.platform.base import Emit, Unavailable
from ergobreak.platform.dbus_link import DBusLink, Subscription

SERVICES = ("org.gnome.ScreenSaver", "org.freedesktop.ScreenSaver")


class ScreenSaverLockWatcher:
    name = "screensaver"

    def __init__(self, link: DBusLink) -> None:
        """Raises :class:`Unavailable` when no screensaver service is on the bus."""
        self._link = link
        self._subs: list[Subscription] = []
        self.services = [s for s in SERVICES if link.name_has_owner(s)]
        if not self.services:
            raise Unavailable(f"no screensaver service on the session bus ({', '.join(SERVICES)})")
        self.detail = "lock from " + ", ".join(self.services)

    def start(self, emit: Emit) -> None:
        def on_active(msg: Message) -> None:
            emit(ScreenLocked() if msg.body[0] else ScreenUnlocked())

        for service in SERVICES:
            rule = MatchRule(type="signal", interface=service, member="ActiveChanged")
            self._subs.append(self._link.subscribe(rule, on_active, owner=service))

    def stop(self) -> None:
        for sub in self._subs:
            sub.cancel()
        self._subs.clear()
