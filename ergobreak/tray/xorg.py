"""pystray's XEmbed (xorg) backend with its known defects worked around.

Import this module only through :mod:`ergobreak.tray.backend`: importing pystray
connects to X at once and picks a backend from ``PYSTRAY_BACKEND``.

What :class:`XorgIcon` changes, each measured on the headless desktop
(the test rig, ``tests/desktop/rig.py``):

- **Left click works**: pystray never selects ``ButtonPressMask`` (pystray #151).
- **One dock request per tray**: pystray re-sends the dock request on every icon
  change, and a tray that gets two before it has embedded the first sometimes drops
  the icon. We ask once per tray manager, again only after being undocked.
- **Re-docks when the tray restarts or starts late**: a new tray announces itself
  with a ``MANAGER`` client message on the root window; pystray ignores it.
- **Cross-thread calls do not stall**: pystray sends them as client messages and
  waits for the event loop's answer, which under load can stall for seconds or for
  good (the guide measured 4 deadlocks in ~2,000 lifecycles). While a call waits we
  flush (python-xlib can lose a wake-up between threads) and send a synthetic
  Expose from a second connection (wakes a loop blocked in ``next_event``).
- **No stretched, black-boxed image**: the icon keeps its aspect ratio and is drawn
  over the tray's own background (``ParentRelative``), picking the pre-rendered size
  that matches the slot.

There is still no menu (``HAS_MENU`` is False): a left click runs the default
action and the CLI is the control path.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any

import pystray._xorg as pystray_xorg
import Xlib.display
import Xlib.error
import Xlib.X
from PIL import Image
from Xlib.protocol import event as xevent

#: how long a cross-thread call waits before trying to unstick the event loop
NUDGE_EVERY = 0.1


_LATIN1 = str.maketrans({"\u2014": "-", "\u2013": "-", "\u2026": "...", "\u26a0": "!"})


def latin1(text: str) -> str:
    """``text`` with what Latin-1 cannot encode approximated or replaced by ``?``."""
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


class XorgIcon(pystray_xorg.Icon):  # type: ignore[misc]
    """A pystray xorg icon that docks reliably and hears left clicks."""

    _icon_data: Image.Image | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._thread = threading.current_thread()  # pystray reads it before run() sets it
        self._loop_done = threading.Event()
        self._docked_to: int | None = None  # tray window we asked to dock us
        self._nudger: Xlib.display.Display | None = None
        self._nudge_lock = threading.Lock()
        self._answers: dict[int, queue.SimpleQueue[BaseException | None]] = {}
        self._call_ids = itertools.count(1)
        #: images by size, so the slot gets a drawn size rather than a resample
        self.images: tuple[Image.Image, ...] = ()
        super().__init__(*args, **kwargs)
        display = self._display
        self._manager_atom = display.intern_atom("MANAGER")
        root = display.screen().root
        root.change_attributes(event_mask=Xlib.X.StructureNotifyMask)  # MANAGER arrives here
        self._window.change_attributes(
            event_mask=Xlib.X.ExposureMask | Xlib.X.StructureNotifyMask | Xlib.X.ButtonPressMask,
            background_pixmap=Xlib.X.ParentRelative,
        )
        self._message_handlers[Xlib.X.ReparentNotify] = self._on_reparent
        display.flush()

    # -- the event loop ----------------------------------------------------------------

    def _run(self) -> None:
        self._thread = threading.current_thread()
        try:
            super()._run()
        finally:
            self._loop_done.set()

    def _rewrite_implementation(self, *originals: Callable[[], None]) -> None:
        """pystray's cross-thread marshalling, redone: each call gets its own answer
        (pystray shares one queue, so concurrent callers could swap results), waiting
        callers unstick the loop, and the same ClientMessage hook hears ``MANAGER``."""
        handlers: dict[int, Callable[[int], None]] = {}
        for original in originals:
            atom = self._display.intern_atom(f"_PYSTRAY_{original.__name__.upper()}")
            handlers[atom] = self._answering(original)
            setattr(self, original.__name__, self._marshalled(original, atom))

        def on_client_message(event: Any) -> None:
            if event.client_type == self._manager_atom:
                if event.data[1][1] == self._net_system_tray_sx:
                    self._on_new_tray()
                return
            handler = handlers.get(event.client_type)
            if handler is not None:
                handler(event.data[1][1])  # the call id

        self._message_handlers[Xlib.X.ClientMessage] = on_client_message

    def _answering(self, original: Callable[[], None]) -> Callable[[int], None]:
        def run_and_answer(call_id: int) -> None:
            result: BaseException | None = None
            try:
                original()
            except BaseException as exc:
                result = exc
            answer = self._answers.get(call_id)
            if answer is not None:
                answer.put(result)

        return run_and_answer

    def _marshalled(self, original: Callable[[], None], atom: int) -> Callable[[], None]:
        def call() -> None:
            if threading.current_thread() is self._thread:
                original()
                return
            if self._loop_done.is_set():
                return  # the loop is gone; nothing left to update
            call_id = next(self._call_ids)
            answer: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
            self._answers[call_id] = answer
            try:
                self._send_message(self._window, atom, call_id)
                self._display.flush()
                while True:
                    try:
                        result = answer.get(timeout=NUDGE_EVERY)
                        break
                    except queue.Empty:
                        if self._loop_done.is_set():
                            return
                        self._unstick()
            finally:
                del self._answers[call_id]
            # the handler's own flush may have left its requests queued (see _unstick)
            self._display.flush()
            if result is not None:
                raise result

        return call

    def _unstick(self) -> None:
        """Get a stalled event loop going again (see the module docstring).

        Two stalls occur under load. The loop can sit in ``next_event`` while our
        request waits unsent: an Expose sent from a second connection wakes it. Or
        python-xlib loses a wake-up: a thread that flushed returns without waking a
        thread that meanwhile started waiting for a reply (here: the loop, inside a
        handler), which then waits for good. Another flush from this thread takes over
        the pending I/O and wakes it.
        """
        self._display.flush()
        with self._nudge_lock:
            try:
                if self._nudger is None:
                    self._nudger = Xlib.display.Display()
                win = self._nudger.create_resource_object("window", self._window.id)
                expose = xevent.Expose(window=win, x=0, y=0, width=1, height=1, count=0)
                # the window may be gone (stopping): swallow that error quietly
                win.send_event(
                    expose, event_mask=Xlib.X.ExposureMask, onerror=Xlib.error.CatchError()
                )
                self._nudger.flush()
            except (Xlib.error.XError, OSError):
                pass  # window gone: the loop is ending anyway

    def stop(self) -> None:
        super().stop()
        if threading.current_thread() is self._thread:
            return  # stopping from a menu callback: the loop ends when it returns
        # the destroy request can sit unsent like any other (see _unstick)
        for _ in range(int(5 / NUDGE_EVERY)):
            if self._loop_done.wait(NUDGE_EVERY):
                break
            with contextlib.suppress(Exception):
                self._display.flush()
        with self._nudge_lock:
            if self._nudger is not None:
                with contextlib.suppress(Exception):
                    self._nudger.close()
                self._nudger = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # the X server may be gone already
            super().__del__()

    # -- docking -----------------------------------------------------------------------

    def _show(self) -> None:
        self._dock_window()  # without a tray, wait quietly (pystray logs a traceback)

    def _update_icon(self) -> None:
        self._dock_window()
        self._icon_data = None
        self._draw()
        self._icon_valid = True

    def _update_title(self) -> None:
        # python-xlib's set_wm_name encodes Latin-1 and raises on anything else, which
        # leaves the shared connection broken; write EWMH's UTF-8 name and a Latin-1
        # approximation
        title = str(self.title)
        self._window.change_property(
            self._display.intern_atom("_NET_WM_NAME"),
            self._display.intern_atom("UTF8_STRING"),
            8,
            title.encode(),
        )
        self._window.set_wm_name(latin1(title))

    def _dock_window(self) -> None:
        manager = self._get_systray_manager()
        if manager is None:
            return  # no tray yet: its MANAGER announcement will bring us back
        if manager.id == self._docked_to:
            self._systray_manager = manager
            return  # asked already; a second request can make the tray drop us
        self._docked_to = manager.id
        super()._dock_window()

    def _undock_window(self) -> None:
        self._docked_to = None
        super()._undock_window()

    def _on_new_tray(self) -> None:
        if self.visible:
            self._docked_to = None
            self._dock_window()

    def _on_reparent(self, event: Any) -> None:
        root = self._display.screen().root
        if event.window.id == self._window.id and event.parent.id == root.id:
            # the tray died (X hands embedded windows back to the root): hide until
            # the next tray announces itself, instead of sitting on the desktop
            self._docked_to = None
            self._systray_manager = None
            self._window.unmap()
            self._display.flush()
            if self.visible:
                self._dock_window()  # a new tray may already be up

    def _on_destroy_notify(self, event: Any) -> None:
        manager = self._systray_manager
        if manager is not None and event.window.id == manager.id:
            self._systray_manager = None
            self._docked_to = None
            self._dock_window()

    def _on_button_press(self, event: Any) -> None:
        if event.detail == 1:
            self()

    # -- drawing -----------------------------------------------------------------------

    def _assert_icon_data(self, width: int, height: int) -> None:
        if self._icon_data is not None and self._icon_data.size == (width, height):
            return
        side = min(width, height)
        image = self._best_image(side)
        background = self._background(width, height)
        background.alpha_composite(image, ((width - side) // 2, (height - side) // 2))
        data = background.convert("RGB")
        data.tostring = data.tobytes  # type: ignore[attr-defined]  # python-xlib calls it
        self._icon_data = data

    def _best_image(self, side: int) -> Image.Image:
        exact = [im for im in self.images if im.width == side]
        source = exact[0] if exact else self._icon
        if source.size != (side, side):
            source = source.convert("RGBA").resize((side, side), Image.Resampling.LANCZOS)
        return source.convert("RGBA")

    def _background(self, width: int, height: int) -> Image.Image:
        """What the tray paints behind us (ParentRelative); black if unreadable."""
        try:
            self._window.clear_area(0, 0, width, height)
            raw = self._window.get_image(0, 0, width, height, Xlib.X.ZPixmap, 0xFFFFFFFF)
            bgrx = Image.frombytes("RGBX", (width, height), raw.data, "raw", "BGRX")
            return bgrx.convert("RGBA")
        except (Xlib.error.XError, ValueError):
            return Image.new("RGBA", (width, height), (0, 0, 0, 255))
