"""One bubble per slot: show, update in place, dismiss -- whatever the backend can do.

The daemon hands every :func:`ergobreak.present.present` result to
:meth:`Bubbles.apply` on its scheduler thread.
"""

from __future__ import annotations

import contextlib

from ergobreak.platform.base import Dismiss, Notification, Notifier, Unavailable


class Bubbles:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self._slots: dict[str, int] = {}

    def apply(self, item: Notification | Dismiss | None) -> int | None:
        """Show, update or dismiss; returns the handle of the bubble shown, if any."""
        if item is None:
            return None
        if isinstance(item, Dismiss):
            handle = self._slots.pop(item.slot, None)
            if handle is not None:
                self.notifier.close(handle)
            return None
        old = self._slots.get(item.slot) if item.slot else None
        if old is not None and self.notifier.capabilities.replace:
            handle = self.notifier.update(old, item)
        else:
            handle = self.notifier.show(item)
        if item.slot:
            self._slots[item.slot] = handle
        return handle

    def apply_round(self, items: list[Notification | Dismiss | None]) -> None:
        """What one wake-up of the scheduler shows: of several items for one slot only
        the last is sent. Two updates of one bubble within a millisecond show only one
        anyway, and a server still animating the first can lose the second (GNOME
        dropped a drill's step 1 that way, right after closing its prompt)."""
        last = {item.slot: item for item in items if item is not None and item.slot}
        for item in items:
            if item is None or (item.slot and last[item.slot] is not item):
                continue
            self.apply(item)

    def clear(self) -> None:
        """Close every bubble we still own (at quit)."""
        for handle in self._slots.values():
            with contextlib.suppress(Unavailable):
                self.notifier.close(handle)
        self._slots.clear()
