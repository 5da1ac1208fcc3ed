"""The XEmbed fallback against a real XEmbed tray (trayer): pystray's xorg backend
through ergobreak's facade, with its docking and click defects worked around."""

from __future__ import annotations

import threading

from ergobreak.commands import Request
from ergobreak.tray.backend import choose_backend
from ergobreak.tray.model import tooltip

from .rig import Rig, wait_for
from .tray_support import ring_pixels, running_tray, tray_state

WM_CLASS = "ergobreak"


def docked(rig: Rig) -> int | None:
    """Our icon window, if it is viewable inside a tray (not at the root)."""
    for window in rig.find_windows(WM_CLASS):
        parent = rig.xdisplay.create_resource_object("window", window).query_tree().parent
        if parent.id != rig.root_id:
            return window
    return None


def icon_box(rig: Rig, window: int) -> tuple[int, int, int, int]:
    x, y, w, h = rig.window_geometry(window)
    return (x, y, x + w, y + h)


def test_backend_choice_falls_back_to_xembed_without_sni(trayer: Rig) -> None:
    choice = choose_backend()
    assert choice.backend == "xorg"
    assert "no menu" in choice.reason
    assert "an XEmbed tray is up" in choice.reason
    assert "no StatusNotifierWatcher on the session bus" in choice.notes


def test_icon_docks_and_is_visible(trayer: Rig) -> None:
    with running_tray("xorg") as tray:
        window = wait_for(lambda: docked(trayer), what="the icon to dock in trayer")
        assert window is not None
        wait_for(
            lambda: ring_pixels(trayer, "working", icon_box(trayer, window)) > 15,
            what="the blue ring inside the docked icon",
        )
        tray.controller.show(tray_state("prompt"))
        wait_for(
            lambda: ring_pixels(trayer, "prompt", icon_box(trayer, window)) > 15,
            what="the amber prompt icon after an update",
        )


def test_left_click_runs_the_default_action(trayer: Rig) -> None:
    with running_tray("xorg", state="prompt") as tray:
        window = wait_for(lambda: docked(trayer))
        assert window is not None
        x, y, w, h = trayer.window_geometry(window)
        trayer.mouse_move(x + w // 2, y + h // 2)
        trayer.click(1)
        wait_for(lambda: tray.requests == [Request("start")], what="the click to start a drill")


def test_redocks_after_the_tray_restarts(trayer: Rig) -> None:
    with running_tray("xorg"):
        wait_for(lambda: docked(trayer))
        trayer.restart("trayer")
        window = wait_for(lambda: docked(trayer), what="the icon to dock in the new trayer")
        assert window is not None
        wait_for(lambda: ring_pixels(trayer, "working", icon_box(trayer, window)) > 15)


def test_docks_when_the_tray_starts_late(desktop: Rig) -> None:
    """No tray yet: the icon waits (not as a stray window on the desktop) and docks
    when the tray announces itself."""
    with running_tray("xorg") as tray:
        assert desktop.find_windows(WM_CLASS) == []
        desktop.start("trayer")
        wait_for(lambda: docked(desktop), what="the icon to dock in the late trayer")
        assert tray.requests == []


def test_updates_from_other_threads_never_stall(trayer: Rig) -> None:
    """pystray's cross-thread calls could sit unsent until the next X event; with the
    Expose nudge, a burst of updates from two threads finishes, and so does stop()."""
    states = [tray_state(name) for name in ("working", "prompt", "paused", "drill")]
    with running_tray("xorg") as tray:
        window = wait_for(lambda: docked(trayer))
        assert window is not None

        def burst() -> None:
            for i in range(40):
                tray.controller.show(states[i % len(states)])

        workers = [threading.Thread(target=burst) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(20)
        assert not any(w.is_alive() for w in workers), "an update stalled"
        final = tray_state("paused")
        tray.controller.show(final)
        wait_for(
            lambda: trayer.x_property(window, "_NET_WM_NAME") == tooltip(final)[0],
            what="the title (the status line) to follow the last state",
        )
        assert tooltip(final)[0].startswith("Paused until ")
