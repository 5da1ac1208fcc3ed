"""Watch every message on a shell's session bus (``BecomeMonitor``, as dbus-monitor does).

Tests assert on the traffic between ergobreak and the shell's own servers — the Notify
call that reached mako, the ActionInvoked it sent back, the item registering with the
watcher — rather than on what a fake server chose to record. A monitor connection can
only listen, so it runs in its own thread and keeps everything it sees, with the time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jeepney import HeaderFields  # type: ignore[import-untyped]
from jeepney.bus_messages import Monitoring  # type: ignore[import-untyped]
from jeepney.io.blocking import DBusConnection, open_dbus_connection  # type: ignore[import-untyped]
from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Message:
    """One message as the bus delivered it (header fields flattened; "" when absent)."""

    at: float  # time.monotonic() when received
    kind: str  # method_call, method_return, error or signal
    sender: str
    destination: str
    path: str
    interface: str
    member: str
    error_name: str
    serial: int
    reply_serial: int
    body: tuple[Any, ...]
    flags: int = 0  # NO_REPLY_EXPECTED = 1, NO_AUTO_START = 2

    def __str__(self) -> str:
        what = self.member or self.error_name or f"reply to {self.reply_serial}"
        return f"{self.kind} {self.sender}->{self.destination or '*'} {self.interface}.{what}"


def _flatten(raw: Any) -> Message:
    fields = raw.header.fields
    return Message(
        at=time.monotonic(),
        kind=raw.header.message_type.name,
        sender=fields.get(HeaderFields.sender, ""),
        destination=fields.get(HeaderFields.destination, ""),
        path=fields.get(HeaderFields.path, ""),
        interface=fields.get(HeaderFields.interface, ""),
        member=fields.get(HeaderFields.member, ""),
        error_name=fields.get(HeaderFields.error_name, ""),
        serial=raw.header.serial,
        reply_serial=fields.get(HeaderFields.reply_serial, 0),
        body=tuple(raw.body),
        flags=int(raw.header.flags),
    )


class Monitor:
    """Everything on the bus at ``address`` from now on (``rules``: match rules to narrow
    it, none = all). Needs the bus owner's uid or root. Close it (or use ``with``)."""

    def __init__(self, address: str, rules: Sequence[str] = ()) -> None:
        self._conn: DBusConnection = open_dbus_connection(address)
        try:
            reply = self._conn.send_and_get_reply(
                Monitoring().BecomeMonitor(list(rules)), timeout=5
            )
            unwrap_msg(reply)
        except BaseException:
            self._conn.close()
            raise
        self._seen: list[Message] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bus-monitor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                raw = self._conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            except (OSError, ValueError, EOFError):
                return  # the bus went away (shell stopped)
            with self._lock:
                self._seen.append(_flatten(raw))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        with contextlib.suppress(OSError):
            self._conn.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def mark(self) -> int:
        """A position: pass it as ``since`` to look only at what came after."""
        with self._lock:
            return len(self._seen)

    def messages(
        self, where: Callable[[Message], bool] | None = None, *, since: int = 0, **fields: Any
    ) -> list[Message]:
        """Messages seen (after ``since``) whose fields equal ``fields`` and that satisfy
        ``where``, e.g. ``messages(member="Notify", destination=mako)``."""
        with self._lock:
            seen = self._seen[since:]
        return [
            m
            for m in seen
            if all(getattr(m, k) == v for k, v in fields.items()) and (where is None or where(m))
        ]

    def wait(
        self,
        where: Callable[[Message], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 10.0,
        since: int = 0,
        **fields: Any,
    ) -> list[Message]:
        """Wait until at least ``count`` matching messages were seen; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(where, since=since, **fields)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                recent = [str(m) for m in self.messages(since=since)[-15:]]
                raise TimeoutError(
                    f"{len(found)} of {count} messages matching {fields} within {timeout:g}s; "
                    f"last seen: {recent}"
                )
            time.sleep(0.02)

    def reply_to(self, call: Message, timeout: float = 5.0) -> Message:
        """The (first) method_return or error answering ``call``."""
        return self.wait(
            lambda m: m.kind in ("method_return", "error") and m.destination == call.sender,
            reply_serial=call.serial,
            timeout=timeout,
        )[0]
