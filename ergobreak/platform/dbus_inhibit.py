"""Idle inhibition ("watching"): an application asked the desktop not to treat the
user as idle -- a video playing, a presentation -- so time without input is desk time.

Readers, each a :class:`~ergobreak.platform.base.SeatedDetector` of reason ``watching``:

* GNOME: ``org.gnome.SessionManager.IsInhibited(8)`` (8: idle), read again after each
  ``InhibitorAdded`` / ``InhibitorRemoved``; a ``PropertiesChanged`` carrying
  ``InhibitedActions`` is taken as it is. GNOME's ``org.freedesktop.ScreenSaver.Inhibit``
  (gnome-settings-daemon's proxy) and the desktop portal's inhibit both end up here.
* KDE Plasma: powerdevil's ``org.kde.Solid.PowerManagement.PolicyAgent.HasInhibition(4)``
  (4: ChangeScreenSettings, what ``org.freedesktop.ScreenSaver.Inhibit`` asks for through
  kscreenlocker), read again after ``InhibitionsChanged`` or (powerdevil 6.5 on) a
  ``PropertiesChanged`` of the PolicyAgent.
* Others (XFCE): ``org.freedesktop.PowerManagement.Inhibit.HasInhibit()`` and its
  ``HasInhibitChanged(b)`` signal. xfce4-power-manager (4.18) holds off screen blanking
  and idle sleep for such an inhibitor, but never emits the signal: until the service
  has sent one, every :meth:`~PowerManagementInhibit.active` asks again (one bounded
  round trip per engine wake-up, the contract of :mod:`ergobreak.platform.base`).
  powerdevil implements the interface too, but there ``HasInhibit`` means "sleep is
  inhibited" (a download, a backup): it is not read where the PolicyAgent is.
* XFCE's screensaver: ``org.xfce.ScreenSaver.GetInhibitors()`` not empty. It has no
  change signal, so it is read at every ``active()``.

Values are cached; signal handlers (on the bus thread) only mark a reader stale or
store a value the signal carries, and wake the engine (``on_change``); the scheduler
thread reads again in ``active()``. A service that leaves reads as not inhibited: its
inhibitors lived in its memory and left with it (gnome-session, powerdevil,
xfce4-power-manager and xfce4-screensaver all drop an inhibitor when its application
disconnects), so
nobody is inhibiting through it; when a new owner takes the name, the reader follows
it. ``active()`` never raises for that, because a restart of the session manager is
not a broken detector.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from jeepney import DBusAddress, MatchRule, Message  # type: ignore[import-untyped]

from ergobreak.core.events import SeatedReason
from ergobreak.platform.base import SeatedDetector, Unavailable
from ergobreak.platform.dbus_cached import CachedFlag
from ergobreak.platform.dbus_link import PROPERTIES, DBusLink

GNOME_NAME = "org.gnome.SessionManager"
GNOME_PATH = "/org/gnome/SessionManager"
#: GsmInhibitorFlag: 1 logout, 2 switch user, 4 suspend, 8 idle, 16 automount
GNOME_IDLE = 8
KDE_NAME = "org.kde.Solid.PowerManagement.PolicyAgent"
KDE_PATH = "/org/kde/Solid/PowerManagement/PolicyAgent"
#: PolicyAgent::RequiredPolicy: 1 InterruptSession (sleep), 4 ChangeScreenSettings (idle)
KDE_SCREEN = 4
FDO_NAME = "org.freedesktop.PowerManagement"
FDO_PATH = "/org/freedesktop/PowerManagement/Inhibit"
FDO_INTERFACE = "org.freedesktop.PowerManagement.Inhibit"
XFCE_SAVER = "org.xfce.ScreenSaver"
XFCE_SAVER_PATH = "/org/xfce/ScreenSaver"

OnChange = Callable[[], None] | None


class _Reader(CachedFlag):
    """A cached "is idle inhibited" of one service: stale after a signal that only says
    something changed, or after the service's owner changed; re-read in ``active()``."""

    name = "inhibit"
    reason: SeatedReason = "watching"
    #: what it reads, for ``doctor``
    DETAIL = ""

    def __init__(self, link: DBusLink, address: DBusAddress, on_change: OnChange) -> None:
        """Raises :class:`Unavailable` when nobody owns the service's name (a call
        would start an activatable service we have no business starting)."""
        if not link.name_has_owner(address.bus_name):
            raise Unavailable(f"{address.bus_name} is not on {link.label}")
        self._address = address
        self._owned = True
        super().__init__(link, address.bus_name, on_change)
        link.on_back(self._mark_stale)  # a new connection may have missed signals

    @property
    def detail(self) -> str:
        return self.DETAIL

    def _listen(self, member: str, handler: Callable[[Message], None], interface: str) -> None:
        rule = MatchRule(
            type="signal", interface=interface, member=member, path=self._address.object_path
        )
        self._subs.append(self._link.subscribe(rule, handler, owner=self._address.bus_name))

    def _reading(self) -> bool:
        with self._lock:
            owned = self._owned
        # no owner: its inhibitors left with it, and a call could start it
        return super()._reading() if owned else False

    # -- bus thread
    def _changed(self, msg: Message) -> None:
        self._mark_stale()

    def _on_owner(self, msg: Message) -> None:
        _name, _old, new = msg.body
        with self._lock:
            self._owned = bool(new)
            self._owner_changed()
        super()._on_owner(msg)

    def _owner_changed(self) -> None:
        """Under the lock: forget what only the previous owner had shown."""


class GnomeSessionInhibit(_Reader):
    """GNOME: idle inhibited while ``org.gnome.SessionManager.IsInhibited(8)``."""

    DETAIL = f"{GNOME_NAME} IsInhibited(idle)"

    def __init__(self, link: DBusLink, on_change: OnChange = None) -> None:
        super().__init__(link, DBusAddress(GNOME_PATH, GNOME_NAME, GNOME_NAME), on_change)
        self._listen("InhibitorAdded", self._changed, GNOME_NAME)
        self._listen("InhibitorRemoved", self._changed, GNOME_NAME)
        self._listen("PropertiesChanged", self._on_properties, PROPERTIES)
        self._start()

    def _read(self) -> bool:
        (inhibited,) = self._link.call(self._address, "IsInhibited", "u", GNOME_IDLE)
        return bool(inhibited)

    def _on_properties(self, msg: Message) -> None:
        interface, changed, invalidated = msg.body
        if interface != GNOME_NAME:
            return
        if "InhibitedActions" in changed:
            self._set(bool(int(changed["InhibitedActions"][1]) & GNOME_IDLE))
        elif "InhibitedActions" in invalidated:
            self._mark_stale()


class KdePolicyAgentInhibit(_Reader):
    """KDE Plasma: idle inhibited while powerdevil's ``HasInhibition(ChangeScreenSettings)``."""

    DETAIL = f"{KDE_NAME} HasInhibition(ChangeScreenSettings)"

    def __init__(self, link: DBusLink, on_change: OnChange = None) -> None:
        super().__init__(link, DBusAddress(KDE_PATH, KDE_NAME, KDE_NAME), on_change)
        self._listen("InhibitionsChanged", self._changed, KDE_NAME)
        self._listen("PropertiesChanged", self._on_properties, PROPERTIES)
        self._start()

    def _read(self) -> bool:
        (inhibited,) = self._link.call(self._address, "HasInhibition", "u", KDE_SCREEN)
        return bool(inhibited)

    def _on_properties(self, msg: Message) -> None:
        if msg.body[0] == KDE_NAME:  # Plasma 6: ActiveInhibitions, invalidated
            self._mark_stale()


class PowerManagementInhibit(_Reader):
    """``org.freedesktop.PowerManagement.Inhibit.HasInhibit`` (xfce4-power-manager and
    others); followed by ``HasInhibitChanged`` once the service has shown it sends it,
    read at every ``active()`` until then."""

    def __init__(self, link: DBusLink, on_change: OnChange = None) -> None:
        self._signalled = False
        super().__init__(link, DBusAddress(FDO_PATH, FDO_NAME, FDO_INTERFACE), on_change)
        self._listen("HasInhibitChanged", self._on_changed, FDO_INTERFACE)
        self._start()

    @property
    def detail(self) -> str:
        how = "HasInhibitChanged" if self._signalled else "read at each wake-up (no signal yet)"
        return f"{FDO_INTERFACE} HasInhibit, {how}"

    def _read(self) -> bool:
        (inhibited,) = self._link.call(self._address, "HasInhibit")
        return bool(inhibited)

    def _must_read(self) -> bool:
        with self._lock:
            return not self._signalled

    def _on_changed(self, msg: Message) -> None:
        with self._lock:
            self._signalled = True
        self._set(bool(msg.body[0]))

    def _owner_changed(self) -> None:
        self._signalled = False  # a new owner may be another implementation


class XfceScreenSaverInhibit(_Reader):
    """xfce4-screensaver: inhibited while ``org.xfce.ScreenSaver.GetInhibitors()`` lists
    anyone; no signal says when that changes, so every ``active()`` asks."""

    DETAIL = f"{XFCE_SAVER} GetInhibitors, read at each wake-up"

    def __init__(self, link: DBusLink, on_change: OnChange = None) -> None:
        super().__init__(link, DBusAddress(XFCE_SAVER_PATH, XFCE_SAVER, XFCE_SAVER), on_change)
        self._start()

    def _read(self) -> bool:
        (inhibitors,) = self._link.call(self._address, "GetInhibitors")
        return bool(inhibitors)

    def _must_read(self) -> bool:
        return True


class IdleInhibit:
    """Every reader that works here, as one ``watching`` detector: inhibited while any
    says so. ``readers`` names them; ``tried`` says why the others are not used."""

    name = "inhibit"
    reason: SeatedReason = "watching"

    def __init__(
        self, readers: Sequence[SeatedDetector], tried: Sequence[tuple[str, str]] = ()
    ) -> None:
        self._readers = list(readers)
        self.tried = tuple(tried)

    @property
    def readers(self) -> list[SeatedDetector]:
        return list(self._readers)

    @property
    def detail(self) -> str:
        return "; ".join(reader.detail for reader in self._readers)

    def active(self) -> bool:
        # every reader, not the first that says yes: each keeps its own cache current
        answers = [reader.active() for reader in self._readers]
        return any(answers)

    def close(self) -> None:
        for reader in self._readers:
            reader.close()


class NoInhibitReader(Unavailable):
    """No idle-inhibit state can be read here; ``tried`` has (reader, why) pairs."""

    def __init__(self, message: str, tried: Sequence[tuple[str, str]]) -> None:
        super().__init__(message)
        self.tried = tuple(tried)


READERS: tuple[tuple[str, Callable[[DBusLink, OnChange], SeatedDetector]], ...] = (
    ("GNOME session manager", GnomeSessionInhibit),
    ("KDE PolicyAgent", KdePolicyAgentInhibit),
    ("PowerManagement.Inhibit", PowerManagementInhibit),
    ("XFCE screensaver", XfceScreenSaverInhibit),
)


def open_inhibit(link: DBusLink, env: Mapping[str, str], on_change: OnChange = None) -> IdleInhibit:
    """The idle-inhibit readers that work on ``link`` (the session bus), merged.

    ``env`` is the session's environment: on Wayland, a shell with none of these
    services still honours inhibitors in its idle notifications (ext-idle-notify v1),
    which the message then says.

    Raises:
        NoInhibitReader: none of the services is there; the message lists each tried.
    """
    found: list[SeatedDetector] = []
    tried: list[tuple[str, str]] = []
    for label, reader in READERS:
        if label == "PowerManagement.Inhibit" and any(
            isinstance(r, KdePolicyAgentInhibit) for r in found
        ):
            tried.append((label, "not needed: powerdevil's HasInhibit means sleep inhibited"))
            continue
        try:
            found.append(reader(link, on_change))
        except Unavailable as exc:
            tried.append((label, str(exc)))
    if not found:
        why = "; ".join(f"{label}: {reason}" for label, reason in tried)
        message = f"no idle-inhibit state readable ({why})"
        if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
            message += "; on Wayland the idle source already honours inhibitors"
        raise NoInhibitReader(message, tried)
    return IdleInhibit(found, tried)
