"""One D-Bus connection per bus, shared by every adapter on it, read by one thread.

jeepney's threading router owns the connection and runs the single receiver thread;
method calls from the scheduler thread wait for their reply on a future, and signals
matching a subscription are handed to its handler *on the receiver thread*. Handlers
must therefore be quick and never make D-Bus calls on the same link (the reply could
only be read by the thread that is waiting for it). jeepney never autolaunches a bus:
a missing address is a clear :class:`Unavailable`, not a stray dbus-daemon.

Losing the bus: the receiver thread notices at once (the bus daemon closed the
socket) and the link calls its :meth:`~DBusLink.on_lost` hooks, once per loss, with
the reason; calls fail with :class:`Unavailable` meanwhile. :meth:`DBusLink.reconnect`
opens a new connection to the same address and carries every live subscription over
to it, then calls the :meth:`~DBusLink.on_back` hooks, where adapters read again what
they may have missed; :meth:`DBusLink.keep_connected` retries it with backoff on a
thread of its own, only while the bus is gone. What a loss *means* (the session
ended, or only a service restarted) is the edge's decision, not the link's.

Real servers misbehave (mako answers one call twice; a reply can come after its
caller gave up), so one bad message never ends the receiver thread: whatever goes
wrong with it is counted in :attr:`DBusLink.troubles`, logged once per kind, and the
message dropped. Only losing the socket ends a connection.

Signals of a service are taken only from the connection that owns its well-known
name now (``subscribe(..., owner=NAME)``): GNOME sends each ``ActionInvoked`` twice,
once from the name's owner and once from another connection of gnome-shell.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Literal

from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    DBusErrorResponse,
    HeaderFields,
    MatchRule,
    Message,
    MessageType,
    message_bus,
    new_method_call,
)
from jeepney.io.common import RouterClosed  # type: ignore[import-untyped]
from jeepney.io.threading import (  # type: ignore[import-untyped]
    DBusRouter,
    ReceiveStopped,
    open_dbus_connection,
)
from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped]

from ergobreak.platform.base import Unavailable

log = logging.getLogger("ergobreak.platform")

BusKind = Literal["SESSION", "SYSTEM"]
PROPERTIES = "org.freedesktop.DBus.Properties"
#: every call is bounded; a hung service costs at most this, never the daemon
CALL_TIMEOUT = 2.0
#: a lost bus is tried again after this long, then twice as long each time, up to
#: RETRY_MOST (seconds): back within a second of a restart, one attempt a minute
#: against a bus that stays away
RETRY_FIRST = 0.5
RETRY_MOST = 60.0

#: the bus daemon's own name: the sender of NameOwnerChanged, which nobody else may fake
BUS_DAEMON = "org.freedesktop.DBus"

_ENV = {"SESSION": "DBUS_SESSION_BUS_ADDRESS", "SYSTEM": "DBUS_SYSTEM_BUS_ADDRESS"}
_SYSTEM_DEFAULT = "unix:path=/var/run/dbus/system_bus_socket"


class CallFailed(Unavailable):
    """The service answered with a D-Bus error (``name`` is e.g. ServiceUnknown)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def bus_address(kind: BusKind, env: Mapping[str, str] | None = None) -> str | None:
    """Where the bus is, from the environment (the system bus has a fixed default)."""
    address = (os.environ if env is None else env).get(_ENV[kind])
    if address:
        return address
    return _SYSTEM_DEFAULT if kind == "SYSTEM" else None


class Troubles:
    """What went wrong with single messages on one link, by kind: each kind is logged
    once (a server that misbehaves does it on every call), all are counted."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def note(self, kind: str, detail: str) -> None:
        with self._lock:
            self.counts[kind] += 1
            first = self.counts[kind] == 1
        if first:
            log.info("%s: %s (%s); dropped, later ones only counted", self.label, kind, detail)


class _Owner:
    """Which connection owns a well-known name now, as the bus daemon says.

    The answer to ``GetNameOwner`` and every ``NameOwnerChanged`` after it are
    applied on the receiver thread in the order the bus daemon sent them, so at each
    signal the owner is the one the daemon knew when it routed that signal: what an
    old owner sent before it left still counts, what it sends after does not. Until
    the answer or a change is in, the owner is unknown and signals are dropped (they
    predate the subscription). A new connection starts unknown again (unique names
    are per bus).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.refs = 1
        self.subscription: Subscription | None = None
        self._lock = threading.Lock()
        self._known = False
        self._current: str | None = None

    def reset(self) -> None:
        with self._lock:
            self._known, self._current = False, None

    def answered(self, future: concurrent.futures.Future[Message]) -> None:
        """GetNameOwner's reply (as a done callback: on the receiver thread)."""
        if future.cancelled() or future.exception() is not None:
            return  # timed out or the connection closed: the call says so
        reply = future.result()
        with self._lock:
            self._known = True
            ok = reply.header.message_type is MessageType.method_return
            self._current = str(reply.body[0]) if ok and reply.body else None

    def changed(self, msg: Message) -> None:
        _name, _old, new = msg.body
        with self._lock:
            self._known, self._current = True, new or None

    def sent(self, msg: Message) -> bool:
        with self._lock:
            current = self._current if self._known else None
        return current is not None and msg.header.fields.get(HeaderFields.sender) == current


class _Deliver:
    """A stand-in for the queue jeepney puts matched messages in: calls the handler,
    for signals from ``owner`` only when there is one."""

    def __init__(
        self, handler: Callable[[Message], None], owner: _Owner | None, troubles: Troubles
    ) -> None:
        self.handler = handler
        self.owner = owner
        self.troubles = troubles

    def put_nowait(self, msg: Message) -> None:
        if self.owner is not None and not self.owner.sent(msg):
            sender = msg.header.fields.get(HeaderFields.sender)
            self.troubles.note(f"signal not from the owner of {self.owner.name}", str(sender))
            return
        try:
            self.handler(msg)
        except Exception:  # a bad handler must not kill the bus thread for everyone
            log.exception("D-Bus signal handler failed")


class _Router(DBusRouter):  # type: ignore[misc]
    """jeepney's router, made robust: one bad message (a second reply to one call, a
    reply after its caller gave up, one jeepney cannot parse, a failing filter) is
    noted in ``troubles`` and dropped; only losing the socket ends the receiver.
    The loss goes to ``on_lost`` first, then callers waiting for a reply get
    RouterClosed (-> Unavailable), so by then the link knows why."""

    #: why this connection ended, if the bus ended it
    lost: str | None = None

    def __init__(self, conn: Any, on_lost: Callable[[_Router], None], troubles: Troubles) -> None:
        self._on_lost = on_lost  # before the receiver thread starts
        self.troubles = troubles
        super().__init__(conn)

    def ask(
        self,
        msg: Message,
        timeout: float,
        on_reply: Callable[[concurrent.futures.Future[Message]], None] | None = None,
    ) -> Message:
        """Send a call and wait for its reply; ``on_reply`` runs on the receiver thread
        as the reply is routed, before any later message."""
        if not self._rcv_thread.is_alive():
            raise RouterClosed("This D-Bus router has stopped")
        future: concurrent.futures.Future[Message] = concurrent.futures.Future()
        if on_reply is not None:
            future.add_done_callback(on_reply)
        serial = next(self.conn.outgoing_serial)
        with self._replies.catch(serial, future):
            self.conn.send(msg, serial=serial)
            return future.result(timeout=timeout)

    def _receiver(self) -> None:
        try:
            while True:
                msg = self._next()
                if msg is not None:
                    self._dispatch(msg)
        except ReceiveStopped:
            pass  # close() asked us to stop
        except (OSError, _Unframed) as exc:  # reset, closed socket, a stream out of step
            self.lost = str(exc) or type(exc).__name__
            self._on_lost(self)
        finally:
            self._replies.drop_all()

    def _next(self) -> Message | None:
        try:
            return self.conn.receive()
        except (ReceiveStopped, OSError):
            raise
        except Exception as exc:
            parser = self.conn.parser
            if getattr(parser, "next_msg_size", None) is None:  # not even its length was read
                raise _Unframed(f"unreadable D-Bus stream: {exc!r}") from None
            # jeepney took the message's bytes off the stream, then failed to parse
            # them: forget its size, and the next message is read as usual
            parser.next_msg_size = None
            self.troubles.note("a message jeepney cannot read", repr(exc))
            return None

    def _dispatch(self, msg: Message) -> None:
        try:
            if msg.header.message_type in (MessageType.method_return, MessageType.error):
                self._route_reply(msg)
                return
            # A copy (atomic under the GIL): another thread may add or cancel a
            # subscription meanwhile, and jeepney's own matches() walks the live dict.
            for handle in list(self._filters.filters.values()):
                if handle.rule.matches(msg):
                    handle.queue.put_nowait(msg)
        except Exception as exc:  # anything else about this one message
            self.troubles.note("a message that broke its routing", repr(exc))

    def _route_reply(self, msg: Message) -> None:
        try:
            taken = self._replies.dispatch(msg)
        except concurrent.futures.InvalidStateError:  # mako: a normal reply, then an error
            self.troubles.note("a second reply to one call", _describe(msg))
        except KeyError:  # its caller gave up while we looked
            self.troubles.note("a reply to no waiting call", _describe(msg))
        else:
            if not taken:  # late (the caller timed out) or for a serial nobody used
                self.troubles.note("a reply to no waiting call", _describe(msg))


class _Unframed(Exception):
    """The stream cannot be split into messages any more: the connection is useless."""


def _describe(msg: Message) -> str:
    fields = msg.header.fields
    what = fields.get(HeaderFields.error_name) or msg.header.message_type.name
    serial, sender = fields.get(HeaderFields.reply_serial), fields.get(HeaderFields.sender)
    return f"{what} to serial {serial} from {sender}"


def _connect(kind: BusKind, address: str) -> Any:
    """A connection to ``address``, authenticated within 1 s.

    Raises:
        Unavailable: nothing listens there, or it does not speak D-Bus.
    """
    try:
        return open_dbus_connection(address, auth_timeout=1.0)
    except (OSError, ValueError, TimeoutError, RuntimeError) as exc:
        raise Unavailable(
            f"cannot connect to the {kind.lower()} D-Bus at {address}: {exc}"
        ) from None


class Subscription:
    """A match rule and its handler (and whose signals count, if only the owner's);
    the link moves it to a new connection."""

    def __init__(
        self,
        link: DBusLink,
        rule: MatchRule,
        handler: Callable[[Message], None],
        owner: _Owner | None = None,
    ) -> None:
        self._link = link
        self.rule = rule
        self.handler = handler
        self.owner = owner
        self._handle: Any = None

    def attach(self, router: _Router) -> None:
        """Route matching signals from ``router`` here: the local filter first, then
        AddMatch, so nothing sent in between is lost. Raises :class:`Unavailable`."""
        deliver = _Deliver(self.handler, self.owner, router.troubles)
        handle = router.filter(self.rule, queue=deliver)
        try:
            self._link.send_on(router, message_bus.AddMatch(self.rule))
        except Unavailable:
            handle.close()
            raise
        old, self._handle = self._handle, handle
        if old is not None:
            old.close()

    @property
    def attached(self) -> bool:
        return self._handle is not None

    def cancel(self) -> None:
        if self._handle is None:
            return
        self._link.forget(self)
        self._handle.close()
        self._handle = None
        with contextlib.suppress(Unavailable):  # the bus is gone; nothing to remove
            self._link.call_bus("RemoveMatch", self.rule)


class DBusLink:
    """A connection to the session or system bus plus its receiver thread."""

    def __init__(self, kind: BusKind, conn: Any, address: str) -> None:
        self.kind = kind
        self.address = address
        # (the guid= part of an address is noise to a person reading it)
        shown = ",".join(p for p in address.split(",") if not p.startswith("guid="))
        self.label = f"the {kind.lower()} D-Bus at {shown}"
        #: why the connection was lost, while it is (None while up)
        self.lost: str | None = None
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._lost_hooks: list[Callable[[str], None]] = []
        self._back_hooks: list[Callable[[], None]] = []
        self._closed = threading.Event()
        self._retrying: threading.Thread | None = None
        #: what went wrong with single messages, by kind (see :class:`Troubles`)
        self.troubles = Troubles(self.label)
        #: well-known name -> its owner, for subscriptions that take only its signals
        self._owners: dict[str, _Owner] = {}
        self._owners_lock = threading.Lock()  # one _Owner per name, set up at a time
        with self._lock:  # a loss reported at once waits until the router is ours
            self._router = _Router(conn, self._connection_lost, self.troubles)

    @classmethod
    def open(cls, kind: BusKind = "SESSION", env: Mapping[str, str] | None = None) -> DBusLink:
        """Connect to the bus named in ``env`` (default: os.environ); authentication is
        bounded to 1 s.

        Raises:
            Unavailable: no address configured, or nothing listens there.
        """
        address = bus_address(kind, env)
        if not address:
            raise Unavailable(f"no {kind.lower()} D-Bus: {_ENV[kind]} is not set")
        return cls(kind, _connect(kind, address), address)

    @property
    def unique_name(self) -> str:
        return str(self._router.unique_name)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()  # also ends a reconnect loop
        retrying = self._retrying
        if retrying is not None and retrying is not threading.current_thread():
            retrying.join(10.0)  # one attempt at most: connect 1 s, AddMatch 2 s each
        with self._lock:
            router = self._router
        router.close()  # stops and joins the receiver thread
        router.conn.close()

    # -- losing the bus and getting it back
    def on_lost(self, hook: Callable[[str], None]) -> None:
        """Call ``hook(reason)`` once per loss of the connection, on the receiver
        thread: it must only record or enqueue (no calls on this link)."""
        self._lost_hooks.append(hook)

    def on_back(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` after :meth:`reconnect` has restored the connection, on the
        thread that reconnected; calls on this link work there."""
        self._back_hooks.append(hook)

    def reconnect(self) -> None:
        """Connect to the same address again and carry every live subscription over.

        Raises:
            Unavailable: the bus is not back (yet), or it refused a match rule.
        """
        conn = _connect(self.kind, self.address)
        router = _Router(conn, self._connection_lost, self.troubles)
        try:
            with self._lock:
                subs, owners = list(self._subs), list(self._owners.values())
            for owner in owners:
                owner.reset()  # unique names belong to one bus: ask again
            for sub in subs:
                sub.attach(router)
            for owner in owners:
                self._ask_owner(owner, router)
        except Unavailable:
            router.close()
            conn.close()
            raise
        with self._lock:
            if self._closed.is_set():
                old = router  # closed meanwhile: keep nothing open
            else:
                old, self._router, self.lost = self._router, router, None
        old.close()
        old.conn.close()
        if old is router:
            return
        if router.lost is not None:  # gone again before it was ours: a new loss
            self._connection_lost(router)
            return
        self._run_hooks(self._back_hooks)

    def keep_connected(self, first: float = RETRY_FIRST, most: float = RETRY_MOST) -> None:
        """From now on, :meth:`reconnect` after every loss, on a thread of its own that
        lives only while the bus is gone: first after ``first`` seconds, then twice as
        long each time, up to ``most``, until it is back or the link is closed."""

        def retry() -> None:
            delay = first
            while not self._closed.wait(delay):
                try:
                    self.reconnect()
                    return
                except Unavailable as exc:
                    log.debug("the %s D-Bus is not back yet: %s", self.kind.lower(), exc)
                    delay = min(delay * 2, most)

        def start(reason: str) -> None:
            self._retrying = threading.Thread(
                target=retry, name=f"ergobreak-{self.kind.lower()}-bus-retry", daemon=True
            )
            self._retrying.start()

        self.on_lost(start)

    def _connection_lost(self, router: _Router) -> None:
        with self._lock:
            # A connection still being set up (or an old one) is reconnect's business.
            if self._closed.is_set() or router is not self._router or self.lost is not None:
                return
            self.lost = reason = router.lost or "the connection closed"
        self._run_hooks(self._lost_hooks, reason)

    def _run_hooks(self, hooks: list[Callable[..., None]], *args: Any) -> None:
        for hook in list(hooks):
            try:
                hook(*args)
            except Exception:  # one bad hook must not keep the others from hearing
                log.exception("D-Bus %s hook failed", "loss" if args else "reconnect")

    # -- calls (scheduler thread)
    def call(
        self,
        address: DBusAddress,
        method: str,
        signature: str | None = None,
        *args: Any,
        timeout: float = CALL_TIMEOUT,
    ) -> tuple[Any, ...]:
        """Call a method and return the reply body.

        Raises:
            CallFailed: the service answered with an error.
            Unavailable: the bus is gone or the call timed out.
        """
        return self._send(new_method_call(address, method, signature, args), timeout)

    def call_bus(self, method: str, *args: Any) -> tuple[Any, ...]:
        """A method of the bus daemon itself (AddMatch, NameHasOwner, ...)."""
        return self._send(getattr(message_bus, method)(*args), CALL_TIMEOUT)

    def send_on(self, router: _Router, msg: Message) -> tuple[Any, ...]:
        """Call over ``router`` (a connection not yet in use: see :meth:`reconnect`)."""
        return self._send(msg, CALL_TIMEOUT, router)

    def forget(self, sub: Subscription) -> None:
        """``sub`` was cancelled: do not carry it over to a new connection."""
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
        if sub.owner is not None:
            self._release_owner(sub.owner)

    def _send(
        self,
        msg: Message,
        timeout: float,
        router: _Router | None = None,
        on_reply: Callable[[concurrent.futures.Future[Message]], None] | None = None,
    ) -> tuple[Any, ...]:
        if self._closed.is_set():
            raise Unavailable(f"the {self.kind.lower()} D-Bus link is closed")
        if router is None:
            if self.lost is not None:
                raise Unavailable(f"the {self.kind.lower()} D-Bus connection was lost: {self.lost}")
            router = self._router
        try:
            reply = router.ask(msg, timeout, on_reply)
            return tuple(unwrap_msg(reply))
        except DBusErrorResponse as exc:
            detail = exc.data[0] if exc.data else exc.name
            raise CallFailed(exc.name, f"{exc.name}: {detail}") from None
        except (TimeoutError, concurrent.futures.TimeoutError):  # distinct on 3.10
            raise Unavailable(f"no reply within {timeout:g} s") from None
        except Exception as exc:  # RouterClosed, OSError: the connection broke
            raise Unavailable(f"the {self.kind.lower()} D-Bus connection failed: {exc!r}") from None

    def get_property(self, address: DBusAddress, name: str) -> Any:
        props = DBusAddress(address.object_path, address.bus_name, PROPERTIES)
        ((_sig, value),) = self.call(props, "Get", "ss", address.interface, name)
        return value

    def name_has_owner(self, name: str) -> bool:
        return bool(self.call_bus("NameHasOwner", name)[0])

    # -- signals (handlers run on the receiver thread)
    def subscribe(
        self, rule: MatchRule, handler: Callable[[Message], None], owner: str | None = None
    ) -> Subscription:
        """Ask the bus for matching signals and route them to ``handler``; with
        ``owner`` (a well-known name), only those sent by its owner at the time.

        The local filter is installed before AddMatch, so nothing sent in between is
        lost; after a reconnect both are set up again on the new connection, and the
        owner is asked again. Raises :class:`Unavailable` if the bus refuses the match.
        """
        tracked, fresh = self._track_owner(owner) if owner else (None, False)
        sub = Subscription(self, rule, handler, tracked)
        try:
            sub.attach(self._router)
            if tracked is not None and fresh:  # asked once the filter is there: from
                self._ask_owner(tracked, None)  # the answer on, no signal goes unjudged
        except Unavailable:
            if sub.attached:
                sub.cancel()  # releases the owner too
            elif tracked is not None:
                self._release_owner(tracked)
            raise
        with self._lock:
            self._subs.append(sub)
        return sub

    def _track_owner(self, name: str) -> tuple[_Owner, bool]:
        """The shared :class:`_Owner` of ``name``, and whether it is new (then the
        caller asks GetNameOwner; NameOwnerChanged is subscribed to already, so no
        change can fall between them)."""
        with self._owners_lock:
            owner = self._owners.get(name)
            if owner is not None:
                owner.refs += 1
                return owner, False
            owner = _Owner(name)
            owner.subscription = self.subscribe(owner_changes(name), owner.changed)
            with self._lock:
                self._owners[name] = owner
            return owner, True

    def _release_owner(self, owner: _Owner) -> None:
        with self._owners_lock:
            owner.refs -= 1
            if owner.refs > 0 or self._owners.get(owner.name) is not owner:
                return
            with self._lock:
                del self._owners[owner.name]
        if owner.subscription is not None:
            owner.subscription.cancel()

    def _ask_owner(self, owner: _Owner, router: _Router | None) -> None:
        """GetNameOwner, applied by ``owner`` on the receiver thread (see :class:`_Owner`).
        Raises :class:`Unavailable` if the bus does not answer."""
        with contextlib.suppress(CallFailed):  # NameHasNoOwner: nobody owns it yet
            self._send(message_bus.GetNameOwner(owner.name), CALL_TIMEOUT, router, owner.answered)


def owner_changes(name: str) -> MatchRule:
    """The bus daemon's ``NameOwnerChanged`` signals for ``name``: a service started,
    restarted or left (body: name, old owner, new owner; an empty owner is none).
    Only the bus daemon's own count: any connection can send a signal of that name."""
    rule = MatchRule(
        type="signal",
        sender=BUS_DAEMON,
        interface="org.freedesktop.DBus",
        member="NameOwnerChanged",
        path="/org/freedesktop/DBus",
    )
    rule.add_arg_condition(0, name)
    return rule


def signal_body(msg: Message) -> tuple[Any, ...]:
    return tuple(msg.body)
