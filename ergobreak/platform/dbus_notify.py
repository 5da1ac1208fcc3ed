"""Native notifications on Linux/BSD: ``org.freedesktop.Notifications`` over jeepney.

Buttons are notification actions; the server sends ``ActionInvoked(id, key)`` to the
connection that called ``Notify`` -- ours, read by the link's receiver thread -- and
we pass the button's :class:`~ergobreak.commands.Request` to ``on_request``.
``replaces_id`` updates a bubble in place, so a drill counts down in one bubble.

What real servers do, and what we do about it:

* GNOME 43 sends every ``ActionInvoked`` twice, from two connections. The link takes
  signals only from the owner of the name (``subscribe(..., owner=NAME)``): that is
  the guard that handles GNOME. Here, a bubble's button acts at most once per id and
  key as well (a pressed bubble is spent until an update gives it new buttons).
* KDE Plasma closes a bubble when a button is pressed, and ``Notify`` with that id
  as ``replaces_id`` then shows nothing (Plasma still answers with the same id). So
  every ``NotificationClosed`` is remembered: an update of a closed bubble is a new
  one, also when the close arrives while our update is on its way (the server sends
  it before the reply, so we know by the time the reply is in).
* The capabilities decide what is sent: buttons only with ``actions``, escaped text
  only with ``body-markup`` (otherwise the text goes as it is: never markup), icons
  only with ``icon-static``/``icon-multi``.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from html import escape
from typing import Any

from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    HeaderFields,
    MatchRule,
    Message,
)

from ergobreak.platform import icons
from ergobreak.platform.base import Action, Capabilities, Notification, OnRequest, Unavailable
from ergobreak.platform.dbus_link import CallFailed, DBusLink, owner_changes

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
API = DBusAddress(PATH, bus_name=NAME, interface=NAME)
APP_NAME = "ergobreak"
_URGENCY = {"low": 0, "normal": 1, "critical": 2}
#: bubbles remembered (buttons, closed or not); ours are one drill slot and a few notices
REMEMBERED = 32


@dataclass(slots=True)
class _Bubble:
    """What we know of one server id."""

    actions: tuple[Action, ...]
    closed: bool = False
    #: keys whose button acted: each acts once per bubble
    pressed: set[str] = field(default_factory=set)


class FreedesktopNotifier:
    """Talks to whichever notification server owns the name (dunst, GNOME Shell, ...)."""

    name = "freedesktop"

    def __init__(self, link: DBusLink, on_request: OnRequest) -> None:
        """Check that a server is there and subscribe to its signals.

        Raises:
            Unavailable: no notification server on the session bus.
        """
        self._link = link
        self._on_request = on_request
        self._lock = threading.Lock()  # _bubbles is also used on the bus thread
        self._bubbles: dict[int, _Bubble] = {}
        self._subscriptions = [link.subscribe(owner_changes(NAME), self._on_new_server)]
        try:
            rule = MatchRule(type="signal", interface=NAME, path=PATH)
            self._subscriptions.append(link.subscribe(rule, self._on_signal, owner=NAME))
            server = link.call(API, "GetServerInformation")
            caps = self._read_capabilities()
        except Unavailable as exc:
            self.stop()
            raise Unavailable(f"no notification server on the session bus ({exc})") from None
        name, vendor, version = (*server, "?", "?", "?")[:3]
        self.server = f"{name} {version} ({vendor})"
        self.capabilities = Capabilities(
            actions="actions" in caps,
            replace=True,  # part of the spec every server implements
            icons=bool(caps & {"icon-static", "icon-multi"}),
            markup="body-markup" in caps,
            persistence="persistence" in caps,
            extra=frozenset(caps),
        )

    def _read_capabilities(self) -> set[str]:
        """The server's capabilities; a server that answers with an error (mako's second
        reply, should it ever come first) is asked once more, then taken to have none."""
        for _attempt in range(2):
            try:
                reply = self._link.call(API, "GetCapabilities")
            except CallFailed:
                continue
            if reply and isinstance(reply[0], list):
                return {cap for cap in reply[0] if isinstance(cap, str)}
            return set()
        return set()

    def show(self, note: Notification) -> int:
        return self._notify(note, 0)

    def update(self, handle: int, note: Notification) -> int:
        """Update bubble ``handle`` in place -- or, if the server closed it, show a new
        one and return its id."""
        return self._notify(note, handle)

    def close(self, handle: int) -> None:
        with self._lock:
            self._bubbles.pop(handle, None)
        with contextlib.suppress(Unavailable):  # gone with its server: nothing to close
            self._link.call(API, "CloseNotification", "u", handle)

    def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.cancel()

    def _notify(self, note: Notification, replaces: int) -> int:
        actions = note.actions if self.capabilities.actions else ()
        with self._lock:
            bubble = self._bubbles.get(replaces) if replaces else None
            if bubble is None or bubble.closed:
                replaces = 0  # closed by the server (or never ours): a new bubble
            else:
                # new buttons before the call: a fast click can beat the reply
                bubble.actions = actions
        nid = self._send(note, actions, replaces)
        if replaces and nid == replaces and self._closed(replaces):
            # closed while the update was on its way: the server has shown nothing
            # (Plasma keeps a ghost of it in its history: take that back too)
            nid = self._send(note, actions, 0)
            self.close(replaces)
            replaces = 0
        with self._lock:
            if nid != replaces or nid not in self._bubbles:
                self._bubbles.pop(nid, None)  # an id the server gives again is a new bubble
                self._bubbles[nid] = _Bubble(actions)
            while len(self._bubbles) > REMEMBERED:
                del self._bubbles[next(iter(self._bubbles))]
        return nid

    def _closed(self, nid: int) -> bool:
        with self._lock:
            bubble = self._bubbles.get(nid)
            return bubble is not None and bubble.closed

    def _send(self, note: Notification, actions: tuple[Action, ...], replaces: int) -> int:
        caps = self.capabilities
        body = escape(note.body, quote=False) if caps.markup else note.body
        flat = [part for action in actions for part in (action.key, action.label)]
        hints: dict[str, tuple[str, Any]] = {"urgency": ("y", _URGENCY[note.urgency])}
        if note.category:
            hints["category"] = ("s", note.category)
        icon = icons.resolve(note.icon) if caps.icons else ""
        if icon:
            hints["image-path"] = ("s", icon)
        timeout = -1 if note.timeout is None else round(note.timeout * 1000)
        reply = self._link.call(
            API,
            "Notify",
            "susssasa{sv}i",
            APP_NAME,
            replaces,
            icon,
            note.title,
            body,
            flat,
            hints,
            timeout,
        )
        if len(reply) != 1 or not isinstance(reply[0], int) or reply[0] <= 0:
            raise Unavailable(f"the notification server answered Notify with {reply!r}")
        return int(reply[0])

    # -- bus thread
    def _on_signal(self, msg: Message) -> None:
        member = msg.header.fields.get(HeaderFields.member)
        signature = msg.header.fields.get(HeaderFields.signature)
        if member == "ActionInvoked" and signature == "us":
            self._on_action(*msg.body)
        elif member == "NotificationClosed" and signature == "uu":
            with self._lock:
                bubble = self._bubbles.get(msg.body[0])
                if bubble is not None:
                    bubble.closed = True  # buttons kept: a press may be reported after

    def _on_action(self, nid: int, key: str) -> None:
        with self._lock:
            bubble = self._bubbles.get(nid)
            if bubble is None or key in bubble.pressed:
                return
            action = next((a for a in bubble.actions if a.key == key), None)
            if action is None:
                return
            bubble.pressed.add(key)
            bubble.actions = ()  # this bubble is done until an update brings new buttons
        self._on_request(action.request)

    def _on_new_server(self, msg: Message) -> None:
        """The server left or another took its place: every bubble of ours is gone."""
        with self._lock:
            for bubble in self._bubbles.values():
                bubble.closed = True
