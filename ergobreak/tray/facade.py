"""One tray API on every OS: pystray's ``Icon`` interface over SNI or pystray's backends.

Both classes here behave like ``pystray.Icon`` (``name``, ``icon``, ``title``,
``menu``, ``visible``, ``run(setup)``, ``stop()``, ``update_menu()``, calling the
icon runs the menu's default item) and take ``pystray.Menu``/``MenuItem`` menus,
so the rest of ergobreak never sees which backend is underneath. Two additions:
``icon`` also accepts a :class:`~ergobreak.artwork.raster.Bitmap` or a tuple of them (or
of Pillow images) drawn at several sizes (SNI sends them all, the others pick one),
and :meth:`set_tooltip` / :meth:`set_attention` carry what pystray cannot express.
SNI sends bitmaps as they are, so the SNI tray never loads Pillow; pystray's backends
get Pillow images made from them.

Threads: ``run`` blocks the thread that calls it (the main thread: macOS requires
it) and starts ``setup(icon)`` on a new thread once the tray is up; every other
method may be called from any thread.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ergobreak.tray.dbusmenu import build_layout
from ergobreak.tray.dispatch import UiDispatcher

log = logging.getLogger(__name__)


class TrayIcon(Protocol):
    """What ergobreak uses of a tray icon (a subset of ``pystray.Icon`` plus two)."""

    HAS_MENU: bool
    HAS_DEFAULT_ACTION: bool

    @property
    def name(self) -> str: ...

    icon: Any
    title: str
    menu: Any
    visible: bool

    def run(self, setup: Callable[[Any], None] | None = None) -> None: ...
    def stop(self) -> None: ...
    def update_menu(self) -> None: ...
    def set_tooltip(self, title: str, text: str) -> None: ...
    def set_attention(self, on: bool) -> None: ...
    def __call__(self) -> None: ...


def menu_api() -> tuple[Any, Any]:
    """``(Menu, MenuItem)`` from pystray without choosing a pystray backend.

    ``import pystray`` picks a backend on import: it loads Gtk when PyGObject is
    installed (~40 MB) or connects to X (and fails outright without a display, e.g.
    on Wayland). The menu classes live in ``pystray/_base.py``, which needs neither,
    so the SNI backend loads just that file; pystray reuses it if imported later.
    """
    base = sys.modules.get("pystray._base")
    if base is None:
        spec = importlib.util.find_spec("pystray")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("pystray is not installed")
        path = Path(next(iter(spec.submodule_search_locations)), "_base.py")
        base_spec = importlib.util.spec_from_file_location("pystray._base", path)
        assert base_spec is not None
        assert base_spec.loader is not None
        base = importlib.util.module_from_spec(base_spec)
        sys.modules["pystray._base"] = base
        try:
            base_spec.loader.exec_module(base)
        except BaseException:
            del sys.modules["pystray._base"]
            raise
    return base.Menu, base.MenuItem


def _as_menu(menu: Any) -> Any:
    if menu is None:
        return None
    menu_cls, _ = menu_api()
    return menu if isinstance(menu, menu_cls) else menu_cls(*menu)


def _images(icon: Any) -> tuple[Any, ...]:
    """Bitmaps or Pillow images, one per size."""
    if icon is None:
        return ()
    return tuple(icon) if isinstance(icon, (tuple, list)) else (icon,)


def _pil_images(icon: Any) -> tuple[Any, ...]:
    """Pillow images, for pystray's backends."""
    from ergobreak.tray.icon import to_image  # noqa: PLC0415

    return tuple(to_image(image) for image in _images(icon))


def combined_tooltip(title: str, text: str, limit: int | None = None) -> str:
    """Title and body in one string, for backends with a single tooltip line."""
    full = f"{title}\n{text}" if text else title
    if limit is not None and len(full) > limit:
        full = full[: limit - 1] + "…"
    return full


# --------------------------------------------------------------------------- SNI


class SniIcon:
    """``pystray.Icon`` over :class:`~ergobreak.tray.sni.SniItem`.

    Left click opens the menu (``ItemIsMenu``, as on GNOME); ``Activate`` (hosts
    that do not open menus themselves) and ``SecondaryActivate`` (middle click) run
    the menu's default item.
    """

    HAS_MENU = True
    HAS_DEFAULT_ACTION = True
    HAS_MENU_RADIO = True
    HAS_NOTIFICATION = False
    SETUP_THREAD_TIMEOUT = 5.0

    def __init__(
        self,
        name: str,
        icon: Any = None,
        title: str | None = None,
        menu: Any = None,
        *,
        bus: str = "SESSION",
    ) -> None:
        from ergobreak.tray.sni import SniItem  # noqa: PLC0415 - jeepney only for SNI

        self._name = name
        self._item = SniItem(
            name,
            on_activate=lambda _x, _y: self(),
            on_secondary_activate=lambda _x, _y: self(),
            bus=bus,
        )
        self._menu_lock = threading.Lock()
        self._menu: Any = _as_menu(menu)
        self._icon: Any = None
        self._title = ""
        self._visible = False
        self._setup_thread: threading.Thread | None = None
        self.icon = icon
        self.title = title or ""
        self.update_menu()

    @property
    def item(self) -> Any:
        """The underlying :class:`~ergobreak.tray.sni.SniItem` (tests, doctor)."""
        return self._item

    @property
    def name(self) -> str:
        return self._name

    @property
    def icon(self) -> Any:
        return self._icon

    @icon.setter
    def icon(self, value: Any) -> None:
        from ergobreak.tray.icon import argb32  # noqa: PLC0415

        self._icon = value
        self._item.set_icon([argb32(image) for image in _images(value)])

    @property
    def title(self) -> str:
        return self._title

    @title.setter
    def title(self, value: str) -> None:
        self._title = value
        self._item.set_title(value)

    @property
    def menu(self) -> Any:
        return self._menu

    @menu.setter
    def menu(self, value: Any) -> None:
        self._menu = _as_menu(value)
        self.update_menu()

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._visible = bool(value)
        self._item.set_visible(self._visible)

    def update_menu(self) -> None:
        """Re-read the menu (its texts may be callables) and tell hosts if it changed."""
        menu_cls, _ = menu_api()
        with self._menu_lock:
            layout = build_layout(
                self._menu, self._invoke, self._item.layout, separator=menu_cls.SEPARATOR
            )
            self._item.set_menu(layout)

    def _invoke(self, item: Any) -> None:
        item(self)

    def __call__(self) -> None:
        if self._menu is not None:
            self._menu(self)

    def set_tooltip(self, title: str, text: str) -> None:
        self._item.set_tooltip(title, text)

    def set_attention(self, on: bool) -> None:
        self._item.set_status("NeedsAttention" if on else "Active")

    def run(self, setup: Callable[[Any], None] | None = None) -> None:
        """Serve the item on this thread until :meth:`stop`; ``setup(icon)`` runs on a
        new thread once connected (default: show the icon)."""

        def start() -> None:
            self._item.wait_ready()
            if self._item.error is not None:
                return
            if setup is None:
                self.visible = True
            else:
                setup(self)

        self._setup_thread = threading.Thread(target=start, name="tray-setup")
        self._setup_thread.start()
        self._item.run()

    def stop(self) -> None:
        self._item.stop()
        thread = self._setup_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.SETUP_THREAD_TIMEOUT)


# --------------------------------------------------------------------------- pystray


class PystrayIcon:
    """A pystray backend's icon with every mutation sent through a
    :class:`~ergobreak.tray.dispatch.UiDispatcher` (a no-op where pystray marshals
    itself)."""

    def __init__(
        self,
        impl: Any,
        dispatcher: UiDispatcher | None = None,
        *,
        tooltip_limit: int | None = None,
        tooltip_body: bool = True,
        stop_on_ui_thread: bool = False,
    ) -> None:
        self.impl = impl
        self.dispatcher = dispatcher or UiDispatcher()
        self.HAS_MENU = bool(impl.HAS_MENU)
        self.HAS_DEFAULT_ACTION = bool(impl.HAS_DEFAULT_ACTION)
        self._tooltip_limit = tooltip_limit
        self._tooltip_body = tooltip_body
        self._stop_on_ui_thread = stop_on_ui_thread
        self._icon = impl.icon

    @property
    def name(self) -> str:
        return str(self.impl.name)

    @property
    def icon(self) -> Any:
        return self._icon

    @icon.setter
    def icon(self, value: Any) -> None:
        self._icon = value
        images = _pil_images(value)
        largest = max(images, key=lambda im: im.width) if images else None

        def apply() -> None:
            if hasattr(self.impl, "images"):
                self.impl.images = images
            self.impl.icon = largest

        self.dispatcher.post("icon", apply)

    @property
    def title(self) -> str:
        return str(self.impl.title)

    @title.setter
    def title(self, value: str) -> None:
        self.dispatcher.post("title", lambda: setattr(self.impl, "title", value))

    @property
    def menu(self) -> Any:
        return self.impl.menu

    @menu.setter
    def menu(self, value: Any) -> None:
        menu = _as_menu(value)
        self.dispatcher.post("menu", lambda: setattr(self.impl, "menu", menu))

    @property
    def visible(self) -> bool:
        return bool(self.impl.visible)

    @visible.setter
    def visible(self, value: bool) -> None:
        self.dispatcher.post("visible", lambda: setattr(self.impl, "visible", value))

    def update_menu(self) -> None:
        self.dispatcher.post("menu", self.impl.update_menu)

    def __call__(self) -> None:
        self.impl()

    def set_tooltip(self, title: str, text: str) -> None:
        self.title = combined_tooltip(
            title, text if self._tooltip_body else "", self._tooltip_limit
        )

    def set_attention(self, on: bool) -> None:
        pass  # pystray has no such notion; the icon itself changes

    def run(self, setup: Callable[[Any], None] | None = None) -> None:
        if not self.dispatcher.direct:
            self.dispatcher.ui_thread = threading.current_thread()

        def start(_impl: Any) -> None:
            self.dispatcher.kick()
            if setup is None:
                self.visible = True
            else:
                setup(self)

        self.impl.run(setup=start)

    def stop(self) -> None:
        if self._stop_on_ui_thread:
            self.dispatcher.post("stop", self.impl.stop)
        else:
            self.impl.stop()
