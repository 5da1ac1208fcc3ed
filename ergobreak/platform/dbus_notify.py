"""Native notifications on Linux/BSD: ``org.freedesktop.Notifications`` over jeepney.

Buttons are notification actions; the server sends ``ActionInvoked(id, key)`` to the
connection that called ``Notify`` -- ours, read by the link's receiver thread -- and
we pass the button's :class:`~ergobreak.commands.Request` to ``on_request``.
``replaces_id`` updates a bubble in place, so a drill counts down in one bubble.
"""

from __future__ import annotations

import contextlib
import threading
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
from ergobreak.platform.dbus_link import DBusLink

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
API = DBusAddress(PATH, bus_name=NAME, interface=NAME)
APP_NAME = "ergobreak"
_URGENCY = {"low": 0, "normal": 1, "critical": 2}


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
        self._lock = threading.Lock()  # _actions is read on the bus thread
        self._actions: dict[int, tuple[Action, ...]] = {}
        self._subscription = link.subscribe(
            MatchRule(type="signal", interface=NAME, path=PATH), self._on_signal
        )
        try:
            server = link.call(API, "GetServerInformation")
            caps = set(link.call(API, "GetCapabilities")[0])
        except Unavailable as exc:
            self._subscription.cancel()
            raise Unavailable(f"no notification server on the session bus ({exc})") from None
        self.server = f"{server[0]} {server[2]} ({server[1]})"
        self.capabilities = Capabilities(
            actions="actions" in caps,
            replace=True,  # part of the spec every server implements
            icons=bool(caps & {"icon-static", "icon-multi"}),
            markup="body-markup" in caps,
            extra=frozenset(caps),
        )

    def show(self, note: Notification) -> int:
        return self._notify(note, 0)

    def update(self, handle: int, note: Notification) -> int:
        return self._notify(note, handle)

    def close(self, handle: int) -> None:
        with self._lock:
            self._actions.pop(handle, None)
        with contextlib.suppress(Unavailable):  # gone with its server: nothing to close
            self._link.call(API, "CloseNotification", "u", handle)

    def stop(self) -> None:
        self._subscription.cancel()

    def _notify(self, note: Notification, replaces: int) -> int:
        body = escape(note.body, quote=False) if self.capabilities.markup else note.body
        actions = note.actions if self.capabilities.actions else ()
        flat = [part for action in actions for part in (action.key, action.label)]
        hints: dict[str, tuple[str, Any]] = {"urgency": ("y", _URGENCY[note.urgency])}
        if note.category:
            hints["category"] = ("s", note.category)
        icon = icons.resolve(note.icon)
        if icon:
            hints["image-path"] = ("s", icon)
        timeout = -1 if note.timeout is None else round(note.timeout * 1000)
        # Record the buttons before the call: a fast click can beat the reply.
        with self._lock:
            if replaces:
                self._actions[replaces] = actions
        (nid,) = self._link.call(
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
        with self._lock:
            self._actions[int(nid)] = actions
        return int(nid)

    # -- bus thread
    def _on_signal(self, msg: Message) -> None:
        member = msg.header.fields.get(HeaderFields.member)
        if member == "ActionInvoked":
            nid, key = msg.body
            with self._lock:
                actions = self._actions.get(nid, ())
            for action in actions:
                if action.key == key:
                    self._on_request(action.request)
                    break
        elif member == "NotificationClosed":
            with self._lock:
                self._actions.pop(msg.body[0], None)
