"""A StatusNotifierItem with a ``com.canonical.dbusmenu`` menu, in pure Python (jeepney).

This is what KDE, GNOME's AppIndicator extension, XFCE, Cinnamon and waybar show,
on X11 and Wayland alike, with no compiled dependency.

Threads
-------
One thread runs :meth:`SniItem.run`: it owns the D-Bus connection, answers the
host's calls, emits signals and runs menu actions. It blocks in ``select`` on the
bus socket and a wake-up pipe with **no timeout** unless a registration retry is
due, so an idle item costs no wake-ups. Every other method is thread-safe: it
stores the new value under a lock and writes one byte to the pipe; the loop then
sends only the signals for what changed.

Protocol facts this relies on (checked against xfce4-panel 4.18 and the Haskell
host): hosts read properties, ``GetLayout(0, -1, [])`` and ``GetGroupProperties``
as soon as the item registers; menu clicks arrive as ``EventGroup`` (``Event`` is
answered too); a watcher may own its name before its object exists, so
registration is retried with backoff; and a watcher that restarts or appears late
(login) is noticed through ``NameOwnerChanged`` and registered with again.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    HeaderFields,
    MatchRule,
    Message,
    MessageFlag,
    MessageType,
    message_bus,
    new_error,
    new_method_call,
    new_method_return,
    new_signal,
)
from jeepney.io.blocking import DBusConnection, open_dbus_connection  # type: ignore[import-untyped]

from ergobreak.tray.dbusmenu import Layout

log = logging.getLogger(__name__)

WATCHER = "org.kde.StatusNotifierWatcher"
ITEM_IFACE = "org.kde.StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
INTROSPECT_IFACE = "org.freedesktop.DBus.Introspectable"
PEER_IFACE = "org.freedesktop.DBus.Peer"
ITEM_PATH = "/StatusNotifierItem"
MENU_PATH = "/MenuBar"

#: registration retries: 0.1 s doubling to 3.2 s, then give up until the watcher changes
RETRY_DELAYS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 3.2, 3.2)

_ITEM_ADDR = DBusAddress(ITEM_PATH, interface=ITEM_IFACE)
_MENU_ADDR = DBusAddress(MENU_PATH, interface=MENU_IFACE)
_WATCHER_ADDR = DBusAddress("/StatusNotifierWatcher", bus_name=WATCHER, interface=WATCHER)
_DO_NOT_QUEUE = 4
_PRIMARY_OWNER = 1
_instances = itertools.count(1)

Pixmap = tuple[int, int, bytes]  # width, height, ARGB32 big-endian


@dataclass
class _Shown:
    """What the host can read; guarded by ``SniItem._lock``."""

    title: str = ""
    tooltip: tuple[str, str] = ("", "")
    status: str = "Active"
    pixmaps: list[Pixmap] = field(default_factory=list)
    layout: Layout = field(default_factory=Layout)
    visible: bool = False


class SniItem:
    """One tray item. Call :meth:`run` on a thread of its own (it blocks until
    :meth:`stop`); everything else may be called from any thread.

    ``on_activate`` / ``on_secondary_activate`` get the click position the host
    reports (left and middle click where the host does not open the menu itself).
    """

    def __init__(
        self,
        app_id: str,
        *,
        on_activate: Callable[[int, int], None] | None = None,
        on_secondary_activate: Callable[[int, int], None] | None = None,
        item_is_menu: bool = True,
        bus: str = "SESSION",
    ) -> None:
        self.app_id = app_id
        self.bus = bus
        self.item_is_menu = item_is_menu
        self.service = f"org.kde.StatusNotifierItem-{os.getpid()}-{next(_instances)}"
        self._on_activate = on_activate
        self._on_secondary = on_secondary_activate
        self._lock = threading.Lock()
        self._shown = _Shown()
        self._dirty: set[str] = set()
        self._stopping = False
        self._wake_r = self._wake_w = -1  # a pipe while run() runs
        self._ready = threading.Event()
        self._done = threading.Event()
        # owned by the loop thread
        self._conn: DBusConnection | None = None
        self._replies: dict[int, Callable[[Message], None]] = {}
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_seq = itertools.count()
        self._owns_name = False
        self._watcher: str | None = None  # unique name of the current watcher
        self._generation = 0  # bumped per watcher, so stale retries die
        self._registered = False
        self._thread: threading.Thread | None = None
        self._pending_action: Callable[[], None] | None = None  # run after the reply
        self.error: BaseException | None = None

    # ------------------------------------------------------------ any thread

    def set_icon(self, pixmaps: list[Pixmap]) -> None:
        self._update("pixmaps", list(pixmaps), "NewIcon")

    def set_title(self, title: str) -> None:
        self._update("title", title, "NewTitle")

    def set_tooltip(self, title: str, text: str) -> None:
        self._update("tooltip", (title, text), "NewToolTip")

    def set_status(self, status: str) -> None:
        """``Active``, ``Passive`` (hosts may hide it) or ``NeedsAttention``."""
        self._update("status", status, "NewStatus")

    def set_menu(self, layout: Layout) -> None:
        with self._lock:
            if layout.revision == self._shown.layout.revision:
                self._shown.layout = layout  # same content; fresh actions
                return
        self._update("layout", layout, "LayoutUpdated")

    def set_visible(self, visible: bool) -> None:
        """Shown: own the item's bus name and register with the watcher. Hidden:
        release the name, which every watcher takes as "item gone"."""
        self._update("visible", visible, "visible")

    @property
    def layout(self) -> Layout:
        with self._lock:
            return self._shown.layout

    @property
    def registered(self) -> bool:
        """Whether the current watcher accepted the registration."""
        return self._registered

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until :meth:`run` has connected (or failed: see :attr:`error`)."""
        return self._ready.wait(timeout)

    def stop(self, timeout: float | None = 5.0) -> None:
        """End :meth:`run` (closing the connection drops the item from every host)
        and, unless called from the loop itself, wait for it."""
        with self._lock:
            self._stopping = True
        self._wake()
        if self._conn is not None and threading.current_thread() is not self._thread:
            self._done.wait(timeout)

    def _update(self, name: str, value: object, signal: str) -> None:
        with self._lock:
            if getattr(self._shown, name) == value:
                return
            setattr(self._shown, name, value)
            self._dirty.add(signal)
        self._wake()

    def _wake(self) -> None:
        with self._lock:  # never write to a closed (or by now reused) descriptor
            if self._wake_w < 0:
                return
            with contextlib.suppress(BlockingIOError):  # a full pipe is awake enough
                os.write(self._wake_w, b"!")

    # ------------------------------------------------------------ the loop

    def run(self) -> None:
        """Connect and serve until :meth:`stop`; raises if the bus is unreachable."""
        self._thread = threading.current_thread()
        try:
            self._conn = open_dbus_connection(self.bus)
        except BaseException as exc:
            self.error = exc
            self._ready.set()
            self._done.set()
            raise
        with self._lock:
            self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        try:
            self._start()
            self._ready.set()
            self._loop()
        finally:
            self._registered = False
            self._conn.close()
            with self._lock:
                os.close(self._wake_r)
                os.close(self._wake_w)
                self._wake_r = self._wake_w = -1
            self._ready.set()
            self._done.set()

    def _start(self) -> None:
        rule = MatchRule(
            type="signal",
            sender="org.freedesktop.DBus",
            interface="org.freedesktop.DBus",
            member="NameOwnerChanged",
            path="/org/freedesktop/DBus",
        )
        rule.add_arg_condition(0, WATCHER)
        self._call(message_bus.AddMatch(rule))
        # A watcher may drop a live item (GNOME's AppIndicator extension does when
        # setting up its proxy fails): register again, or the icon is gone for good.
        dropped = MatchRule(
            type="signal", interface=WATCHER, member="StatusNotifierItemUnregistered"
        )
        self._call(message_bus.AddMatch(dropped))
        self._call(message_bus.GetNameOwner(WATCHER), self._on_watcher_owner)
        self._flush()

    def _loop(self) -> None:
        assert self._conn is not None
        sock = self._conn.sock
        parser = self._conn.parser
        while True:
            with self._lock:
                if self._stopping:
                    return
            timeout = None
            if self._timers:
                timeout = max(0.0, self._timers[0][0] - time.monotonic())
            readable, _, _ = select.select([sock, self._wake_r], [], [], timeout)
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            if sock in readable:
                data = sock.recv(65536)
                if not data:
                    raise ConnectionResetError("the session bus closed the connection")
                parser.add_data(data)
                while (msg := parser.get_next_message()) is not None:
                    self._dispatch(msg)
            self._run_timers()
            self._flush()

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, fn = heapq.heappop(self._timers)
            fn()

    def _later(self, delay: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._timer_seq), fn))

    def _send(self, msg: Message) -> int:
        assert self._conn is not None
        serial: int = next(self._conn.outgoing_serial)  # shared with jeepney's Hello
        self._conn.send(msg, serial=serial)
        return serial

    def _call(self, msg: Message, on_reply: Callable[[Message], None] | None = None) -> None:
        serial = self._send(msg)
        if on_reply is not None:
            self._replies[serial] = on_reply

    def _flush(self) -> None:
        """Send the signals (and name changes) for whatever changed since last time."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            shown = self._shown
            visible = shown.visible
            status = shown.status
            revision = shown.layout.revision
        if "visible" in dirty:
            if visible and not self._owns_name:
                self._call(
                    message_bus.RequestName(self.service, _DO_NOT_QUEUE), self._on_name_reply
                )
            elif not visible and self._owns_name:
                self._owns_name = False
                self._registered = False
                self._send(message_bus.ReleaseName(self.service))
        if not self._owns_name:
            return  # nobody is watching our signals; hosts read everything on register
        for signal in ("NewTitle", "NewIcon", "NewToolTip"):
            if signal in dirty:
                self._send(new_signal(_ITEM_ADDR, signal))
        # Hosts show the attention icon only in NeedsAttention, and re-read every
        # property on each signal (waybar does): say it changed only when it shows. The
        # icon and the status are set one after the other, so either may come first.
        if dirty & {"NewIcon", "NewStatus"} and status == "NeedsAttention":
            self._send(new_signal(_ITEM_ADDR, "NewAttentionIcon"))
        if "NewStatus" in dirty:
            self._send(new_signal(_ITEM_ADDR, "NewStatus", "s", (status,)))
        if "LayoutUpdated" in dirty:
            self._send(new_signal(_MENU_ADDR, "LayoutUpdated", "ui", (revision, 0)))

    # ------------------------------------------------------------ registration

    def _on_name_reply(self, msg: Message) -> None:
        if msg.header.message_type is MessageType.error or msg.body[0] != _PRIMARY_OWNER:
            log.error("could not own %s: %s", self.service, msg.body)
            return
        with self._lock:
            still_wanted = self._shown.visible
        if not still_wanted:
            self._send(message_bus.ReleaseName(self.service))
            return
        self._owns_name = True
        self._register(self._generation, 0)

    def _on_watcher_owner(self, msg: Message) -> None:
        if msg.header.message_type is MessageType.method_return:
            self._watcher_changed(msg.body[0])

    def _watcher_changed(self, owner: str) -> None:
        self._generation += 1
        self._registered = False
        self._watcher = owner or None
        if owner:
            log.info("StatusNotifierWatcher is %s", owner)
            self._register(self._generation, 0)
        else:
            log.info("StatusNotifierWatcher went away; waiting for a new one")

    def _item_dropped(self, sender: str | None, item: str) -> None:
        """The watcher says our item is gone while we still show it: register again
        (as a new generation, so a reply to the old registration cannot count)."""
        ours = item == self.service or item.startswith(self.service + "/")
        if not ours or sender != self._watcher or not self._owns_name or not self._registered:
            return
        log.info("%s dropped %s; registering again", self._watcher, self.service)
        self._generation += 1
        self._registered = False
        generation = self._generation
        self._later(RETRY_DELAYS[0], lambda: self._register(generation, 0))

    def _register(self, generation: int, attempt: int) -> None:
        if generation != self._generation or not self._owns_name or self._watcher is None:
            return
        msg = new_method_call(
            DBusAddress(_WATCHER_ADDR.object_path, self._watcher, WATCHER),
            "RegisterStatusNotifierItem",
            "s",
            (self.service,),
        )

        def reply(answer: Message) -> None:
            if generation != self._generation:
                return
            if answer.header.message_type is MessageType.method_return:
                self._registered = True
                log.info("registered %s with %s", self.service, self._watcher)
            elif attempt < len(RETRY_DELAYS):
                delay = RETRY_DELAYS[attempt]
                log.debug("registration failed (%s); retrying in %gs", answer.body, delay)
                self._later(delay, lambda: self._register(generation, attempt + 1))
            else:
                log.warning("the StatusNotifierWatcher keeps refusing: %s", answer.body)

        self._call(msg, reply)

    # ------------------------------------------------------------ dispatch

    def _dispatch(self, msg: Message) -> None:
        kind = msg.header.message_type
        fields = msg.header.fields
        if kind in (MessageType.method_return, MessageType.error):
            handler = self._replies.pop(fields.get(HeaderFields.reply_serial, -1), None)
            if handler is not None:
                handler(msg)
            return
        if kind is MessageType.signal:
            member = fields.get(HeaderFields.member)
            if member == "NameOwnerChanged" and msg.body[0] == WATCHER:
                self._watcher_changed(msg.body[2])
            elif member == "StatusNotifierItemUnregistered":
                self._item_dropped(fields.get(HeaderFields.sender), str(msg.body[0]))
            return
        if kind is MessageType.method_call:
            try:
                reply = self._answer(msg)
            except _Fail as fail:
                reply = new_error(msg, fail.name, "s", (fail.text,))
            except Exception as exc:  # a bad call must never end the tray
                log.exception("error answering %s", fields.get(HeaderFields.member))
                reply = new_error(msg, "org.freedesktop.DBus.Error.Failed", "s", (str(exc),))
            if not msg.header.flags & MessageFlag.no_reply_expected:
                self._send(reply)
            self._after_reply()

    def _after_reply(self) -> None:
        """Run a click's action after the host got its reply (hosts wait for it)."""
        action, self._pending_action = self._pending_action, None
        if action is not None:
            try:
                action()
            except Exception:
                log.exception("tray action failed")

    def _answer(self, msg: Message) -> Message:
        fields = msg.header.fields
        path = fields.get(HeaderFields.path)
        iface = fields.get(HeaderFields.interface)
        member = fields.get(HeaderFields.member)
        body = msg.body
        if iface == INTROSPECT_IFACE or (iface is None and member == "Introspect"):
            return new_method_return(msg, "s", (_introspect(path),))
        if iface == PEER_IFACE:
            if member == "Ping":
                return new_method_return(msg)
            if member == "GetMachineId":
                return new_method_return(msg, "s", (_machine_id(),))
        if path == ITEM_PATH:
            return self._answer_item(msg, iface, member, body)
        if path == MENU_PATH:
            return self._answer_menu(msg, iface, member, body)
        raise _Fail("org.freedesktop.DBus.Error.UnknownObject", f"no object at {path}")

    def _item_props(self) -> dict[str, tuple[str, Any]]:
        with self._lock:
            s = self._shown
            pixmaps = list(s.pixmaps)
            title, status = s.title, s.status
            tip_title, tip_text = s.tooltip
        return {
            "Category": ("s", "ApplicationStatus"),
            "Id": ("s", self.app_id),
            "Title": ("s", title),
            "Status": ("s", status),
            "WindowId": ("i", 0),
            "IconName": ("s", ""),
            "IconThemePath": ("s", ""),
            "IconPixmap": ("a(iiay)", pixmaps),
            "OverlayIconName": ("s", ""),
            "OverlayIconPixmap": ("a(iiay)", []),
            "AttentionIconName": ("s", ""),
            "AttentionIconPixmap": ("a(iiay)", pixmaps),
            "AttentionMovieName": ("s", ""),
            # what a screen reader says for the icon; GNOME's AppIndicator extension
            # asks for these on every NewIcon and logs an error when they are missing
            "IconAccessibleDesc": ("s", title),
            "AttentionAccessibleDesc": ("s", title),
            "ToolTip": ("(sa(iiay)ss)", ("", [], tip_title, _markup_escape(tip_text))),
            "ItemIsMenu": ("b", self.item_is_menu),
            "Menu": ("o", MENU_PATH),
        }

    def _menu_props(self) -> dict[str, tuple[str, Any]]:
        return {
            "Version": ("u", 3),
            "TextDirection": ("s", "ltr"),
            "Status": ("s", "normal"),
            "IconThemePath": ("as", []),
        }

    def _answer_props(
        self, msg: Message, member: str, body: tuple[Any, ...], iface: str, props: dict[str, Any]
    ) -> Message:
        if member == "GetAll":
            # "" asks for every interface; xfce also asks for the Properties one: {}
            return new_method_return(msg, "a{sv}", (props if body[0] in (iface, "") else {},))
        if member == "Get":
            if body[0] != iface or body[1] not in props:
                raise _Fail("org.freedesktop.DBus.Error.UnknownProperty", f"no property {body}")
            return new_method_return(msg, "v", (props[body[1]],))
        if member == "Set":
            raise _Fail("org.freedesktop.DBus.Error.PropertyReadOnly", "read-only")
        raise _Fail("org.freedesktop.DBus.Error.UnknownMethod", f"no method {member}")

    def _answer_item(self, msg: Message, iface: str | None, member: str, body: Any) -> Message:
        if iface == PROPS_IFACE:
            return self._answer_props(msg, member, body, ITEM_IFACE, self._item_props())
        if member == "Activate" and self._on_activate is not None:
            callback = self._on_activate
            self._pending_action = lambda: callback(body[0], body[1])
        elif member == "SecondaryActivate" and self._on_secondary is not None:
            callback2 = self._on_secondary
            self._pending_action = lambda: callback2(body[0], body[1])
        elif member not in (
            "Activate",
            "SecondaryActivate",
            "ContextMenu",
            "Scroll",
            "ProvideXdgActivationToken",
        ):
            raise _Fail("org.freedesktop.DBus.Error.UnknownMethod", f"no method {member}")
        return new_method_return(msg)

    def _answer_menu(self, msg: Message, iface: str | None, member: str, body: Any) -> Message:
        if iface == PROPS_IFACE:
            return self._answer_props(msg, member, body, MENU_IFACE, self._menu_props())
        layout = self.layout
        match member:
            case "GetLayout":
                parent, depth, names = body
                if parent not in layout.nodes:
                    raise _Fail("org.freedesktop.DBus.Error.InvalidArgs", f"no item {parent}")
                return new_method_return(
                    msg, "u(ia{sv}av)", (layout.revision, layout.layout(parent, depth, names))
                )
            case "GetGroupProperties":
                ids, names = body
                return new_method_return(msg, "a(ia{sv})", (layout.group_properties(ids, names),))
            case "GetProperty":
                node = layout.nodes.get(body[0])
                if node is None or body[1] not in node.props:
                    raise _Fail("org.freedesktop.DBus.Error.InvalidArgs", f"no {body}")
                return new_method_return(msg, "v", (node.props[body[1]],))
            case "Event":
                self._menu_event(layout, body[0], body[1])
                return new_method_return(msg)
            case "EventGroup":
                unknown = [i for i, event, _data, _ts in body[0] if i not in layout.nodes]
                for node_id, event, _data, _ts in body[0]:
                    self._menu_event(layout, node_id, event)
                return new_method_return(msg, "ai", (unknown,))
            case "AboutToShow":
                return new_method_return(msg, "b", (False,))
            case "AboutToShowGroup":
                return new_method_return(msg, "aiai", ([], []))
        raise _Fail("org.freedesktop.DBus.Error.UnknownMethod", f"no method {member}")

    def _menu_event(self, layout: Layout, node_id: int, event: str) -> None:
        node = layout.nodes.get(node_id)
        if event != "clicked" or node is None or node.action is None:
            return
        if not node.props.get("enabled", ("b", True))[1]:
            return
        self._pending_action = _chain(self._pending_action, node.action)


class _Fail(Exception):
    def __init__(self, name: str, text: str) -> None:
        super().__init__(text)
        self.name = name
        self.text = text


def _chain(first: Callable[[], None] | None, then: Callable[[], None]) -> Callable[[], None]:
    if first is None:
        return then

    def both() -> None:
        first()
        then()

    return both


def _markup_escape(text: str) -> str:
    """Hosts render the tooltip body as markup (xfce: Pango, KDE: rich text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _machine_id() -> str:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        with contextlib.suppress(OSError), open(path) as f:
            return f.read().strip()
    return ""


def _introspect(path: str | None) -> str:
    header = (
        '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n'
        ' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n'
    )
    std = (
        f'<interface name="{INTROSPECT_IFACE}"><method name="Introspect">'
        '<arg name="xml" type="s" direction="out"/></method></interface>'
        f'<interface name="{PROPS_IFACE}">'
        '<method name="Get"><arg type="s" direction="in"/><arg type="s" direction="in"/>'
        '<arg type="v" direction="out"/></method>'
        '<method name="GetAll"><arg type="s" direction="in"/>'
        '<arg type="a{sv}" direction="out"/></method></interface>'
    )
    if path == ITEM_PATH:
        methods = "".join(
            f'<method name="{m}"><arg type="i" direction="in"/><arg type="i" direction="in"/>'
            "</method>"
            for m in ("Activate", "SecondaryActivate", "ContextMenu")
        )
        signals = "".join(f'<signal name="{s}"/>' for s in ("NewTitle", "NewIcon", "NewToolTip"))
        body = (
            f'<interface name="{ITEM_IFACE}">{methods}{signals}'
            '<signal name="NewStatus"><arg type="s"/></signal></interface>'
        )
    elif path == MENU_PATH:
        body = (
            f'<interface name="{MENU_IFACE}">'
            '<method name="GetLayout"><arg type="i" direction="in"/>'
            '<arg type="i" direction="in"/><arg type="as" direction="in"/>'
            '<arg type="u" direction="out"/><arg type="(ia{sv}av)" direction="out"/></method>'
            '<method name="EventGroup"><arg type="a(isvu)" direction="in"/>'
            '<arg type="ai" direction="out"/></method>'
            '<signal name="LayoutUpdated"><arg type="u"/><arg type="i"/></signal></interface>'
        )
    elif path == "/":
        body = '<node name="StatusNotifierItem"/><node name="MenuBar"/>'
        return f"{header}<node>{std}{body}</node>"
    else:
        body = ""
    return f"{header}<node>{std}{body}</node>"
