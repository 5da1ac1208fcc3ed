"""One D-Bus connection per bus, shared by every adapter on it, read by one thread.

jeepney's threading router owns the connection and runs the single receiver thread;
method calls from the scheduler thread wait for their reply on a future, and signals
matching a subscription are handed to its handler *on the receiver thread*. Handlers
must therefore be quick and never make D-Bus calls on the same link (the reply could
only be read by the thread that is waiting for it). jeepney never autolaunches a bus:
a missing address is a clear :class:`Unavailable`, not a stray dbus-daemon.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, Literal

from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    DBusErrorResponse,
    MatchRule,
    Message,
    message_bus,
    new_method_call,
)
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


class _Deliver:
    """A stand-in for the queue jeepney puts matched messages in: calls the handler."""

    def __init__(self, handler: Callable[[Message], None]) -> None:
        self.handler = handler

    def put_nowait(self, msg: Message) -> None:
        try:
            self.handler(msg)
        except Exception:  # a bad handler must not kill the bus thread for everyone
            log.exception("D-Bus signal handler failed")


class _Router(DBusRouter):  # type: ignore[misc]
    """jeepney's router, minus the thread traceback when the bus goes away: the loss is
    logged once, and callers waiting for a reply get RouterClosed (-> Unavailable)."""

    def _receiver(self) -> None:
        try:
            while True:
                self._dispatch(self.conn.receive())
        except ReceiveStopped:
            pass  # close() asked us to stop
        except (OSError, ValueError) as exc:  # reset, closed socket, garbled message
            log.warning("lost the D-Bus connection: %r", exc)
        finally:
            self._replies.drop_all()


class Subscription:
    def __init__(self, link: DBusLink, rule: MatchRule, handle: Any) -> None:
        self._link = link
        self._rule = rule
        self._handle = handle

    def cancel(self) -> None:
        if self._handle is None:
            return
        self._handle.close()
        self._handle = None
        with contextlib.suppress(Unavailable):  # the bus is gone; nothing to remove
            self._link.call_bus("RemoveMatch", self._rule)


class DBusLink:
    """A connection to the session or system bus plus its receiver thread."""

    def __init__(self, kind: BusKind, router: DBusRouter, address: str) -> None:
        self.kind = kind
        self.address = address
        self._router = router
        self._closed = False

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
        try:
            conn = open_dbus_connection(address, auth_timeout=1.0)
        except (OSError, ValueError, TimeoutError, RuntimeError) as exc:
            raise Unavailable(
                f"cannot connect to the {kind.lower()} D-Bus at {address}: {exc}"
            ) from None
        return cls(kind, _Router(conn), address)

    @property
    def unique_name(self) -> str:
        return str(self._router.unique_name)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._router.close()  # stops and joins the receiver thread
        self._router.conn.close()

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

    def _send(self, msg: Message, timeout: float) -> tuple[Any, ...]:
        if self._closed:
            raise Unavailable(f"the {self.kind.lower()} D-Bus link is closed")
        try:
            reply = self._router.send_and_get_reply(msg, timeout=timeout)
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
    def subscribe(self, rule: MatchRule, handler: Callable[[Message], None]) -> Subscription:
        """Ask the bus for matching signals and route them to ``handler``.

        The local filter is installed before AddMatch, so nothing sent in between is
        lost. Raises :class:`Unavailable` if the bus refuses the match.
        """
        handle = self._router.filter(rule, queue=_Deliver(handler))
        try:
            self.call_bus("AddMatch", rule)
        except Unavailable:
            handle.close()
            raise
        return Subscription(self, rule, handle)


def signal_body(msg: Message) -> tuple[Any, ...]:
    return tuple(msg.body)
