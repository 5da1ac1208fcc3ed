"""Helpers for the tray tests: run a TrayController, read its menu over D-Bus, find it
on screen."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from jeepney import DBusAddress  # type: ignore[import-untyped]
from PIL import Image
from tray_views import UTC, VIEWS, WALL

from ergobreak.artwork.badge import COLOURS, Kind
from ergobreak.commands import Request
from ergobreak.tray.backend import Choice
from ergobreak.tray.controller import TrayController
from ergobreak.tray.model import MenuEntry, TrayState

from .rig import Bus, Rig, count_pixels_near

MENU_IFACE = "com.canonical.dbusmenu"
ITEM_IFACE = "org.kde.StatusNotifierItem"


def tray_state(name: str, **extra: Any) -> TrayState:
    """The real core's view ``name`` (tests/tray_views.py) as a TrayState."""
    return TrayState(view=VIEWS[name], wall=WALL, tz=UTC, **extra)


@contextlib.contextmanager
def running_tray(backend: str, state: str | None = "working") -> Iterator[Tray]:
    """A TrayController on ``backend`` with ``run`` on its own thread (as the daemon
    runs it on the main thread); stopped, and its thread checked gone, afterwards."""
    tray = Tray(backend)
    if state is not None:
        tray.controller.show(tray_state(state))
    up = threading.Event()
    thread = threading.Thread(
        target=tray.controller.run, kwargs={"setup": up.set}, name="test-tray-run"
    )
    thread.start()
    try:
        assert up.wait(10), "the tray never called setup"
        yield tray
    finally:
        tray.controller.stop()
        thread.join(10)
        assert not thread.is_alive(), "TrayController.run() did not return after stop()"


class Tray:
    """A controller plus the requests its menu produced."""

    def __init__(self, backend: str) -> None:
        self.requests: list[Request] = []
        self.controller = TrayController(self.requests.append, choice=Choice(backend, "test"))

    @property
    def item(self) -> Any:
        """The SNI item (SNI backend only)."""
        return self.controller.icon.item  # type: ignore[attr-defined]

    def menu(self) -> DBusAddress:
        return DBusAddress("/MenuBar", self.item.service, MENU_IFACE)

    def item_address(self) -> DBusAddress:
        return DBusAddress("/StatusNotifierItem", self.item.service, ITEM_IFACE)


# --------------------------------------------------------------------------- menus

Tree = list[Any]  # "-" for a separator, else (label, enabled, children or None)


def read_menu(bus: Bus, address: DBusAddress) -> tuple[int, Tree]:
    """(revision, tree) of a dbusmenu, read the way hosts read it."""
    revision, (_root, _props, children) = bus.call(address, "GetLayout", "iias", 0, -1, [])
    return revision, _tree(children)


def _tree(children: list[Any]) -> Tree:
    out: Tree = []
    for _sig, (_id, props, kids) in children:
        plain = {k: v for k, (_s, v) in props.items()}
        if plain.get("type") == "separator":
            out.append("-")
            continue
        sub = _tree(kids) if plain.get("children-display") == "submenu" else None
        out.append((plain["label"].replace("__", "_"), plain.get("enabled", True), sub))
    return out


def model_tree(entries: tuple[MenuEntry, ...]) -> Tree:
    """The menu model in the shape of :func:`read_menu`."""
    out: Tree = []
    for e in entries:
        if e.separator:
            out.append("-")
        elif e.submenu:
            out.append((e.label, e.enabled, model_tree(e.submenu)))
        else:
            out.append((e.label, e.enabled and e.action is not None, None))
    return out


def item_id(bus: Bus, address: DBusAddress, *path: str) -> int:
    """The dbusmenu id of the item reached by following ``path`` labels."""
    _rev, (_root, _props, children) = bus.call(address, "GetLayout", "iias", 0, -1, ["label"])
    node_id = -1
    for label in path:
        for _sig, (child_id, props, kids) in children:
            if props.get("label", ("s", ""))[1].replace("__", "_") == label:
                node_id, children = child_id, kids
                break
        else:
            raise AssertionError(f"no menu item {label!r} on the way to {path}")
    return node_id


# --------------------------------------------------------------------------- screen


def ring_pixels(rig: Rig, kind: Kind, box: tuple[int, int, int, int]) -> int:
    """Pixels of ``kind``'s ring colour in ``box`` of a fresh screenshot."""
    return count_pixels_near(rig.screenshot(), COLOURS[kind][:3], 24, box)


def find_colour(rig: Rig, kind: Kind, box: tuple[int, int, int, int]) -> tuple[int, int] | None:
    """Centre of the pixels of ``kind``'s ring colour in ``box``, or None."""
    with Image.open(rig.screenshot()) as shot:
        image = shot.convert("RGB").crop(box)
    want = COLOURS[kind][:3]
    data = image.tobytes()
    hits = [
        (i // 3 % image.width, i // 3 // image.width)
        for i in range(0, len(data), 3)
        if all(abs(data[i + c] - want[c]) <= 24 for c in range(3))
    ]
    if len(hits) < 10:
        return None
    xs = [x for x, _ in hits]
    ys = [y for _, y in hits]
    return box[0] + (min(xs) + max(xs)) // 2, box[1] + (min(ys) + max(ys)) // 2
