"""Desktop do-not-disturb, event-driven: read once, then follow change signals.

* ``org.freedesktop.Notifications.Inhibited`` (KDE Plasma and servers following it);
* dunst's ``org.dunstproject.cmd0.paused`` (``dunstctl set-paused``);
* GNOME's ``show-banners`` setting (false = do not disturb), GNOME's own switch: read
  from the dconf database file, again on each dconf-service ``Notify`` for it
  (:mod:`ergobreak.platform.dconf` says why a file and not ``gsettings``); through the
  desktop portal's Settings interface (``SettingChanged``) only where dconf's file
  cannot be read (a sandbox), as many GNOME systems have no xdg-desktop-portal.

The value is cached and updated on the bus thread; ``active()`` only reads it, and
re-reads on the scheduler thread after the service restarted (a new owner may not
repeat the state in a signal).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jeepney import DBusAddress, MatchRule, Message  # type: ignore[import-untyped]

from ergobreak.platform import dconf
from ergobreak.platform.base import Unavailable
from ergobreak.platform.dbus_cached import CachedFlag
from ergobreak.platform.dbus_link import PROPERTIES, DBusLink

NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
PORTAL_NAME = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
PORTAL_SETTINGS = "org.freedesktop.portal.Settings"
GNOME_NOTIFICATIONS = "org.gnome.desktop.notifications"
_KEY = "show-banners"
#: the key's place in dconf (the schema's path + the key)
BANNERS_PATH = "/org/gnome/desktop/notifications/show-banners"
DCONF_NAME = "ca.desrt.dconf"
DCONF_WRITER = "ca.desrt.dconf.Writer"


class _Cached(CachedFlag):
    """The shared part: a cached bool, staleness on owner change, an on_change hook."""

    name = "dnd"


class PropertyDnd(_Cached):
    """A boolean D-Bus property that means "do not disturb" while true."""

    def __init__(
        self,
        link: DBusLink,
        address: DBusAddress,
        prop: str,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        """Raises :class:`Unavailable` when the service or property is missing."""
        super().__init__(link, address.bus_name, on_change)
        self._address = address
        self._prop = prop
        self.detail = f"{address.interface}.{prop}"
        rule = MatchRule(
            type="signal",
            interface=PROPERTIES,
            member="PropertiesChanged",
            path=address.object_path,
        )
        self._subs.append(link.subscribe(rule, self._on_properties, owner=address.bus_name))
        self._start()

    def _read(self) -> bool:
        return bool(self._link.get_property(self._address, self._prop))

    def _on_properties(self, msg: Message) -> None:
        interface, changed, invalidated = msg.body
        if interface != self._address.interface:
            return
        if self._prop in changed:
            self._set(bool(changed[self._prop][1]))
        elif self._prop in invalidated:
            self._on_owner(msg)  # value withheld: re-read on the scheduler thread


def notifications_inhibited(
    link: DBusLink, on_change: Callable[[], None] | None = None
) -> PropertyDnd:
    """KDE-style ``Inhibited`` on the notification server."""
    address = DBusAddress(NOTIFICATIONS_PATH, bus_name=NOTIFICATIONS, interface=NOTIFICATIONS)
    return PropertyDnd(link, address, "Inhibited", on_change)


def dunst_paused(link: DBusLink, on_change: Callable[[], None] | None = None) -> PropertyDnd:
    """dunst's pause mode (its do-not-disturb)."""
    address = DBusAddress(
        NOTIFICATIONS_PATH, bus_name=NOTIFICATIONS, interface="org.dunstproject.cmd0"
    )
    return PropertyDnd(link, address, "paused", on_change)


class PortalBanners(_Cached):
    """GNOME: quiet while ``org.gnome.desktop.notifications show-banners`` is false."""

    def __init__(self, link: DBusLink, on_change: Callable[[], None] | None = None) -> None:
        super().__init__(link, PORTAL_NAME, on_change)
        self.detail = f"{GNOME_NOTIFICATIONS} show-banners via the desktop portal"
        self._api = DBusAddress(PORTAL_PATH, bus_name=PORTAL_NAME, interface=PORTAL_SETTINGS)
        rule = MatchRule(
            type="signal", interface=PORTAL_SETTINGS, member="SettingChanged", path=PORTAL_PATH
        )
        self._subs.append(link.subscribe(rule, self._on_setting, owner=PORTAL_NAME))
        self._start()

    def _read(self) -> bool:
        try:
            (value,) = self._link.call(self._api, "ReadOne", "ss", GNOME_NOTIFICATIONS, _KEY)
        except Unavailable:
            # portals before version 2 only have Read, which wraps the value twice
            (value,) = self._link.call(self._api, "Read", "ss", GNOME_NOTIFICATIONS, _KEY)
        return not _unwrap(value)

    def _on_setting(self, msg: Message) -> None:
        namespace, key, value = msg.body
        if namespace == GNOME_NOTIFICATIONS and key == _KEY:
            self._set(not _unwrap(value))


def _unwrap(value: Any) -> bool:
    """jeepney gives variants as (signature, value); a variant may hold a variant."""
    while isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        value = value[1]
    if not isinstance(value, bool):
        raise Unavailable(f"show-banners is not a boolean: {value!r}")
    return value


class DconfBanners(_Cached):
    """GNOME: quiet while ``show-banners`` is false, read from dconf's own database.

    dconf-service, which does every write, emits ``Notify(prefix, changes, tag)`` once
    the file is written; each one that touches the key re-reads the file (a Notify
    from anyone else only causes a re-read, so its sender need not be checked).
    """

    def __init__(
        self,
        link: DBusLink,
        env: Mapping[str, str],
        on_change: Callable[[], None] | None = None,
    ) -> None:
        """Raises :class:`Unavailable` outside GNOME (nobody else reads the key) and
        for a dconf database that cannot be read."""
        desktops = env.get("XDG_CURRENT_DESKTOP", "")
        if "GNOME" not in desktops.upper().split(":"):
            raise Unavailable(f"not a GNOME session (XDG_CURRENT_DESKTOP={desktops or 'unset'})")
        self._env = env
        super().__init__(link, DCONF_NAME, on_change)
        self.detail = f"{GNOME_NOTIFICATIONS} show-banners from dconf"
        rule = MatchRule(type="signal", interface=DCONF_WRITER, member="Notify")
        self._subs.append(link.subscribe(rule, self._on_notify))
        self._start()

    def _read(self) -> bool:
        banners = dconf.read_bool(BANNERS_PATH, self._env)
        return banners is False  # no value written: GNOME's default, banners on

    def _on_notify(self, msg: Message) -> None:
        prefix, changes, _tag = msg.body
        if any(BANNERS_PATH.startswith(prefix + change) for change in changes or [""]):
            try:
                value = self._read()
            except Unavailable:
                value = False  # a broken database asks for no quiet
            self._set(value)
