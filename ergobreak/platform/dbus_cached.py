"""A yes/no a session service keeps (do-not-disturb, idle inhibition), cached and
kept current by its signals.

Signal handlers run on the bus thread and may not call: they store a value the signal
carries (:meth:`CachedFlag._set`) or mark the cache stale (:meth:`CachedFlag._mark_stale`),
and wake the engine through ``on_change``. ``active()``, on the scheduler thread, reads
again only when stale (or when a subclass says it must), so it costs nothing between
changes. A reading is stored only if no signal delivered a value while it was under way:
the reply can be routed just before a signal the service sent right after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from jeepney import Message  # type: ignore[import-untyped]

from ergobreak.platform.base import Unavailable
from ergobreak.platform.dbus_link import DBusLink, Subscription, owner_changes


class CachedFlag:
    """A cached bool of the service ``bus_name``, stale after its owner changed."""

    def __init__(self, link: DBusLink, bus_name: str, on_change: Callable[[], None] | None) -> None:
        self._link = link
        self._bus_name = bus_name
        self._on_change = on_change
        self._lock = threading.Lock()
        self._value = False
        self._stale = False
        #: values signals delivered so far: a reading begun before one is not stored
        self._carried = 0
        self._subs: list[Subscription] = []
        self._subs.append(link.subscribe(owner_changes(bus_name), self._on_owner))

    def _read(self) -> bool:
        """The value, asked of the service (scheduler thread). Raises :class:`Unavailable`."""
        raise NotImplementedError

    def _start(self) -> None:
        """The first reading; a service that cannot answer is not used."""
        try:
            self._value = self._read()
        except Unavailable:
            self.close()
            raise

    def _must_read(self) -> bool:
        """Whether ``active()`` reads though no signal made the value stale."""
        return False

    def _reading(self) -> bool:
        try:
            return self._read()
        except Unavailable:
            return False  # the service left: nobody asks for anything through it

    def active(self) -> bool:
        with self._lock:
            stale, self._stale = self._stale, False
            carried = self._carried
        if stale or self._must_read():
            value = self._reading()
            with self._lock:
                if self._carried == carried:  # else a signal sent after the reply won
                    self._value = value
        with self._lock:
            return self._value

    def close(self) -> None:
        for sub in self._subs:
            sub.cancel()
        self._subs.clear()

    # -- bus thread: record, wake the engine, never call
    def _set(self, value: bool) -> None:
        with self._lock:
            changed, self._value = value != self._value, value
            self._carried += 1
        if changed:
            self._wake()

    def _mark_stale(self) -> None:
        with self._lock:
            self._stale = True
        self._wake()

    def _on_owner(self, msg: Message) -> None:
        self._mark_stale()

    def _wake(self) -> None:
        if self._on_change is not None:
            self._on_change()
