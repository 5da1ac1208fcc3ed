"""The tray as the daemon sees it: show a :class:`TrayState`, get :class:`Request` s back.

Usage in the composition root::

    tray = TrayController(on_request=inbox.put)   # picks the backend (see backend.py)
    tray.run(setup=lambda: start_engine(tray))    # main thread; returns after stop()
    ...
    tray.show(state)                              # engine thread, after each step
    tray.stop()                                   # any thread, on quit

:meth:`TrayController.show` is cheap to call after every engine step: it compares
the icon's :class:`~ergobreak.artwork.badge.Look`, the tooltip and the menu model with
what is on screen and sends only what changed, so an idle day sends nothing and a
working day sends a tooltip and menu label about once a minute and a new icon a few
times per drill interval. Menu clicks only call ``on_request``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ergobreak.artwork.badge import Look
from ergobreak.commands import Request
from ergobreak.tray.backend import Choice, choose_backend, create_icon
from ergobreak.tray.facade import TrayIcon, menu_api
from ergobreak.tray.icon import icon_key, render_set
from ergobreak.tray.model import (
    Action,
    MenuEntry,
    TrayState,
    menu_model,
    resolve,
    tooltip,
)

log = logging.getLogger(__name__)

#: shown until the first state arrives
STARTING = Look("working")


class TrayController:
    """Owns one tray icon; thread-safe."""

    def __init__(
        self,
        on_request: Callable[[Request], None],
        *,
        choice: Choice | None = None,
        name: str = "ergobreak",
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.on_request = on_request
        self.choice = choice or choose_backend()
        self._wall = wall
        self._lock = threading.Lock()
        self._look: Look | None = STARTING
        self._tooltip: tuple[str, str] | None = None
        self._entries: tuple[MenuEntry, ...] | None = None
        self._attention = False
        self.sent = {"icon": 0, "tooltip": 0, "menu": 0}  # updates actually sent
        self.icon: TrayIcon = create_icon(
            self.choice, name, render_set(STARTING), "ergobreak", self._menu(())
        )

    def run(self, setup: Callable[[], None] | None = None) -> None:
        """Show the icon and block until :meth:`stop` (call on the main thread);
        ``setup`` runs on a new thread once the tray is up."""

        def start(icon: Any) -> None:
            icon.visible = True
            if setup is not None:
                setup()

        self.icon.run(start)

    def stop(self) -> None:
        self.icon.stop()

    def show(self, state: TrayState) -> None:
        """Bring the tray up to date with ``state`` (sends only what changed)."""
        look = icon_key(state)
        tip = tooltip(state)
        entries = menu_model(state)
        attention = state.view.state == "prompt"
        with self._lock:
            if look != self._look:
                self._look = look
                self.icon.icon = render_set(look)
                self.sent["icon"] += 1
            if tip != self._tooltip:
                self._tooltip = tip
                self.icon.set_tooltip(*tip)
                self.sent["tooltip"] += 1
            if attention != self._attention:
                self._attention = attention
                self.icon.set_attention(attention)
            if entries != self._entries:  # last: hosts see a new menu after the rest
                self._entries = entries
                self.icon.menu = self._menu(entries)
                self.sent["menu"] += 1

    @property
    def entries(self) -> tuple[MenuEntry, ...]:
        """The menu model last shown."""
        return self._entries or ()

    # -- menu building ---------------------------------------------------------------

    def _menu(self, entries: tuple[MenuEntry, ...]) -> Any:
        menu_cls, item_cls = menu_api()

        def build(items: tuple[MenuEntry, ...]) -> list[Any]:
            out = []
            for entry in items:
                if entry.separator:
                    out.append(menu_cls.SEPARATOR)
                elif entry.submenu:
                    out.append(item_cls(entry.label, menu_cls(*build(entry.submenu))))
                else:
                    out.append(
                        item_cls(
                            entry.label,
                            self._callback(entry.action),
                            enabled=entry.enabled and entry.action is not None,
                            default=entry.default,
                        )
                    )
            return out

        return menu_cls(*build(entries))

    def _callback(self, action: Action | None) -> Callable[[Any, Any], None] | None:
        if action is None:
            return None
        return lambda _icon, _item: self._request(action)

    def _request(self, action: Action) -> None:
        try:
            self.on_request(resolve(action, self._wall()))
        except Exception:
            log.exception("tray request %r failed", action)
