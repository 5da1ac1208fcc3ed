"""The tray's plumbing without a desktop: the controller's change detection and menu,
dbusmenu ids, the UI dispatcher, backend rules and import hygiene."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from tray_views import UTC, VIEWS, WALL

from ergobreak.commands import Request
from ergobreak.tray.backend import Choice, choose_backend, create_icon
from ergobreak.tray.controller import TrayController
from ergobreak.tray.dbusmenu import Layout, build_layout
from ergobreak.tray.dispatch import UiDispatcher
from ergobreak.tray.facade import combined_tooltip, menu_api
from ergobreak.tray.model import TrayState

ROOT = Path(__file__).resolve().parent.parent


def tray_state(name: str, **changes: Any) -> TrayState:
    return TrayState(view=dataclasses.replace(VIEWS[name], **changes), wall=WALL, tz=UTC)


@pytest.fixture
def tray() -> tuple[TrayController, list[Request]]:
    requests: list[Request] = []
    return TrayController(
        requests.append, choice=Choice("none", "test"), wall=lambda: WALL
    ), requests


def items(menu: Any) -> dict[str, Any]:
    """Visible menu items by label, submenu items included."""
    found = {}
    for item in menu:
        found[item.text] = item
        if item.submenu is not None:
            found.update(items(item.submenu))
    return found


# --------------------------------------------------------------------------- controller


def test_show_sends_only_what_changed(tray: tuple[TrayController, list[Request]]) -> None:
    controller, _ = tray
    working = tray_state("working")
    controller.show(working)
    first = dict(controller.sent)
    assert first == {"icon": 1, "tooltip": 1, "menu": 1}
    controller.show(working)
    controller.show(tray_state("working", drill_desk=VIEWS["working"].drill_desk + 5))
    assert controller.sent == first
    controller.show(tray_state("prompt"))
    assert controller.sent == {"icon": 2, "tooltip": 2, "menu": 2}


def test_menu_items_only_send_requests(tray: tuple[TrayController, list[Request]]) -> None:
    controller, requests = tray
    controller.show(tray_state("prompt"))
    menu = items(controller.icon.menu)
    menu["Snooze (2 left)"](controller.icon)
    menu["30 minutes"](controller.icon)
    menu["Until tomorrow"](controller.icon)  # resolved at click time, from wall()
    menu["Quit ergobreak"](controller.icon)
    assert requests == [
        Request("snooze"),
        Request("pause", {"seconds": 1800.0}),
        Request("pause", {"seconds": 14 * 3600}),
        Request("quit"),
    ]
    status = menu[controller.entries[0].label]
    assert not status.enabled


def test_default_item_is_what_a_click_on_the_icon_does(
    tray: tuple[TrayController, list[Request]],
) -> None:
    controller, requests = tray
    controller.show(tray_state("prompt"))
    controller.icon.menu(controller.icon)  # pystray: Menu(icon) runs the default item
    controller.show(tray_state("paused"))
    controller.icon.menu(controller.icon)
    assert requests == [Request("start"), Request("resume")]


def test_a_failing_request_does_not_break_the_tray() -> None:
    def broken(_request: Request) -> None:
        raise RuntimeError("engine gone")

    controller = TrayController(broken, choice=Choice("none", "test"))
    controller.show(tray_state("working"))
    items(controller.icon.menu)["Posture check now"](controller.icon)  # logged, not raised


def test_null_icon_runs_setup_and_waits_for_stop() -> None:
    controller = TrayController(lambda r: None, choice=Choice("none", "test"))
    ran = threading.Event()
    runner = threading.Thread(target=controller.run, kwargs={"setup": ran.set})
    runner.start()
    assert ran.wait(5)
    controller.stop()
    runner.join(5)
    assert not runner.is_alive()


def test_combined_tooltip_for_single_line_backends() -> None:
    assert combined_tooltip("Paused", "") == "Paused"
    assert combined_tooltip("Paused", "Today: 1") == "Paused\nToday: 1"
    long = combined_tooltip("x" * 100, "y" * 100, 127)
    assert len(long) == 127
    assert long.endswith("…")


# --------------------------------------------------------------------------- dbusmenu


def pystray_menu(*labels: str, checked: bool | None = None) -> Any:
    menu_cls, item_cls = menu_api()
    return menu_cls(
        *(
            menu_cls.SEPARATOR
            if label == "-"
            else item_cls(
                label, lambda: None, checked=None if checked is None else lambda _: checked
            )
            for label in labels
        )
    )


def build(menu: Any, previous: Layout | None = None) -> Layout:
    menu_cls, _ = menu_api()
    return build_layout(menu, lambda item: None, previous, separator=menu_cls.SEPARATOR)


def test_ids_survive_rebuilds_and_are_never_reused() -> None:
    first = build(pystray_menu("Status 12 min", "-", "Start", "Quit"))
    ids = {n.props.get("label", ("s", "-"))[1]: i for i, n in first.nodes.items() if i}
    again = build(pystray_menu("Status 12 min", "-", "Start", "Quit"), first)
    assert again.revision == first.revision  # nothing changed: hosts need not re-read
    changed = build(pystray_menu("Status 11 min", "-", "Start", "Quit"), again)
    assert changed.revision == first.revision + 1
    new_ids = {n.props.get("label", ("s", "-"))[1]: i for i, n in changed.nodes.items() if i}
    assert new_ids["Start"] == ids["Start"]
    assert new_ids["Quit"] == ids["Quit"]
    assert new_ids["Status 11 min"] not in ids.values()  # a new item gets a new id


def test_layout_props_follow_dbusmenu() -> None:
    layout = build(pystray_menu("Snooze_2", "-", "Quiet", checked=True))
    root_id, root_props, children = layout.layout(0, -1, [])
    assert root_id == 0
    assert root_props == {"children-display": ("s", "submenu")}
    (_, (_, first, _)), (_, (_, sep, _)), (_, (_, third, _)) = children
    assert first["label"] == ("s", "Snooze__2")  # "_" marks a mnemonic; "__" is literal
    assert sep == {"type": ("s", "separator")}
    assert third["toggle-type"] == ("s", "checkmark")
    assert third["toggle-state"] == ("i", 1)
    assert layout.layout(0, 0, [])[2] == []  # depth 0: no children
    (only,) = layout.group_properties([children[0][1][0]], ["label"])
    assert only[1] == {"label": ("s", "Snooze__2")}


# --------------------------------------------------------------------------- dispatch


def test_dispatcher_runs_on_the_ui_thread_and_coalesces() -> None:
    wake = threading.Event()
    dispatcher = UiDispatcher(wake.set)
    ran: list[tuple[str, str]] = []
    done = threading.Event()

    def ui_loop() -> None:
        wake.wait(5)
        dispatcher.drain()
        done.set()

    ui = threading.Thread(target=ui_loop, name="ui")
    dispatcher.post("icon", lambda: ran.append(("icon-old", threading.current_thread().name)))
    dispatcher.post("title", lambda: ran.append(("title", threading.current_thread().name)))
    dispatcher.post("icon", lambda: ran.append(("icon-new", threading.current_thread().name)))
    ui.start()
    assert done.wait(5)
    ui.join(5)
    assert ran == [("title", "ui"), ("icon-new", "ui")]
    wake.clear()
    dispatcher.post("menu", lambda: ran.append(("menu", threading.current_thread().name)))
    assert wake.is_set()  # the UI thread is asked again; nothing ran here
    assert len(ran) == 2


def test_direct_dispatcher_runs_inline() -> None:
    dispatcher = UiDispatcher()
    ran: list[int] = []
    dispatcher.post("x", lambda: ran.append(1))
    assert ran == [1]
    assert dispatcher.direct


# --------------------------------------------------------------------------- backends


def test_forced_backend() -> None:
    assert choose_backend({"ERGOBREAK_TRAY": "none"}).backend == "none"
    assert choose_backend({"ERGOBREAK_TRAY": "SNI"}).reason == "forced by ERGOBREAK_TRAY=sni"
    with pytest.raises(ValueError, match="choose one of sni"):
        choose_backend({"ERGOBREAK_TRAY": "wayland"})


def test_native_backends_on_windows_and_macos() -> None:
    assert choose_backend({}, platform="win32").backend == "win32"
    assert choose_backend({}, platform="darwin").backend == "darwin"


def test_no_bus_and_no_display_means_no_tray() -> None:
    choice = choose_backend({"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"})
    assert choice.backend == "none"
    assert any("cannot reach the session bus" in note for note in choice.notes)
    assert "pystray xorg: no X display (DISPLAY unset)" in choice.notes
    description = choice.describe()
    assert description["capabilities"] == {
        "menu": False,
        "default_action": False,
        "tooltip": False,
        "attention": False,
    }


def test_create_icon_none_and_describe(monkeypatch: pytest.MonkeyPatch) -> None:
    icon = create_icon(Choice("none", "test"), "ergobreak")
    assert icon.name == "ergobreak"
    monkeypatch.setenv("ERGOBREAK_TRAY", "none")
    from ergobreak.tray import describe_backend

    assert describe_backend()["backend"] == "none"


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "PYSTRAY_BACKEND")}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_importing_the_tray_loads_no_heavy_dependency() -> None:
    """The daemon pays for Pillow, jeepney, pystray, Xlib or Gtk only when it uses them."""
    done = run_python(
        "import sys, ergobreak.tray, ergobreak.tray.controller, ergobreak.tray.model\n"
        "heavy = [m for m in ('PIL', 'jeepney', 'pystray', 'Xlib', 'gi') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    assert done.returncode == 0, done.stderr


def test_menu_classes_load_without_a_pystray_backend() -> None:
    """menu_api() gives pystray's Menu without choosing a backend (no X display
    needed, no Gtk loaded), and pystray imported later shares the same classes."""
    done = run_python(
        "import sys\n"
        "from ergobreak.tray.facade import menu_api\n"
        "Menu, MenuItem = menu_api()\n"
        "assert 'pystray' not in sys.modules and 'Xlib' not in sys.modules\n"
        "import pystray\n"
        "assert pystray.Menu is Menu and pystray.MenuItem is MenuItem\n",
        PYSTRAY_BACKEND="dummy",
    )
    assert done.returncode == 0, done.stderr
