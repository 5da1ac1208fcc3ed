"""The rig drives the real programs later suites rely on, and cleans up after itself."""

from __future__ import annotations

import json
import os
import shlex
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from jeepney import DBusErrorResponse  # type: ignore[import-untyped]
from PIL import Image

from .rig import (
    DUNST_COLORS,
    NOTIFICATIONS,
    SNI_WATCHER,
    WATCHER_API,
    Bus,
    MissingBinary,
    Proc,
    Rig,
    RigError,
    count_pixels_near,
    session_members,
    wait_equal,
    wait_for,
)

RIG_PY = Path(__file__).with_name("rig.py")


def test_environment_is_private(desktop: Rig) -> None:
    assert os.environ["DISPLAY"] == desktop.display
    assert os.environ["DBUS_SESSION_BUS_ADDRESS"] == desktop.bus_address
    assert desktop.bus_address.startswith(f"unix:path={desktop.state_dir}/")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        assert Path(os.environ[var]).parent == desktop.state_dir
    assert stat.S_IMODE(os.stat(os.environ["XDG_RUNTIME_DIR"]).st_mode) == 0o700
    assert os.environ["XDG_CONFIG_DIRS"] == ""
    assert os.environ["NO_AT_BRIDGE"] == "1"
    assert os.environ["PYSTRAY_BACKEND"] == "xorg"


def test_notify_send_lands_in_dunst_history(desktop: Rig) -> None:
    desktop.run("notify-send", "--app-name=ergobreak", "Stand up", "Hip drill in 2 min")
    desktop.close_all_notifications()  # history lists closed notifications only
    (entry,) = desktop.history()
    assert (entry["appname"], entry["summary"], entry["body"]) == (
        "ergobreak",
        "Stand up",
        "Hip drill in 2 min",
    )


def test_replaces_id_keeps_one_entry(desktop: Rig) -> None:
    first = desktop.notify("Break in 5 min")
    assert desktop.notify("Break in 4 min", replaces_id=first) == first
    desktop.close_all_notifications()
    assert [(n["id"], n["summary"]) for n in desktop.history()] == [(first, "Break in 4 min")]


def test_close_notification_signals_reason_3(desktop: Rig) -> None:
    nid = desktop.notify("Posture check", "Shoulders down")
    desktop.bus.close_notification(nid)  # the signal arrives before the reply: buffered
    assert desktop.wait_signal("NotificationClosed", lambda body: body[0] == nid) == (nid, 3)
    (entry,) = desktop.history()
    assert (entry["id"], entry["summary"], entry["body"]) == (
        nid,
        "Posture check",
        "Shoulders down",
    )


def test_invoke_action_emits_action_invoked(desktop: Rig) -> None:
    actions = {"snooze": "Snooze 5 min", "skip": "Skip"}
    older = desktop.notify("Posture check", actions=actions)
    newer = desktop.notify("Hip drill", actions=actions)
    assert desktop.invoke_action("skip") == newer  # default: the newest offering it
    assert desktop.wait_signal("ActionInvoked") == (newer, "skip")
    assert desktop.invoke_action("snooze", older) == older
    assert desktop.wait_signal("ActionInvoked") == (older, "snooze")


def test_invoking_a_missing_action_fails_clearly(desktop: Rig) -> None:
    desktop.notify("Posture check", actions={"skip": "Skip"})
    with pytest.raises(RigError, match="offers action 'snooze'"):
        desktop.invoke_action("snooze")


def test_without_dunst_nothing_is_autostarted(desktop: Rig) -> None:
    desktop.stop("dunst")  # the baseline fixture restarts it for the next test
    with pytest.raises(DBusErrorResponse) as error:
        desktop.notify("nobody listens")
    assert error.value.name == "org.freedesktop.DBus.Error.ServiceUnknown"
    assert not desktop.name_has_owner(NOTIFICATIONS)


def test_dunst_restart(desktop: Rig) -> None:
    (old,) = desktop.procs["dunst"]
    desktop.restart("dunst")
    assert not old.alive()
    assert desktop.bus.owner_pid(NOTIFICATIONS) == desktop.procs["dunst"][0].pid
    desktop.notify("after restart")
    desktop.close_all_notifications()
    assert [n["summary"] for n in desktop.history()] == ["after restart"]


def test_dunst_popup_is_on_screen(desktop: Rig) -> None:
    desktop.notify("Time for a break", hints={"urgency": ("y", 2)})  # critical: no timeout
    wait_for(
        lambda: count_pixels_near(desktop.screenshot(), DUNST_COLORS["critical"], 8) > 2000,
        what="a critical-coloured dunst popup on the screenshot",
    )


def test_screenshot_sees_a_window(desktop: Rig) -> None:
    win = desktop.open_window("colour", color=(200, 30, 160))
    try:
        x, y, w, h = desktop.window_geometry(win)
        box = (x, y, x + w, y + h)
        assert count_pixels_near(desktop.screenshot(), (200, 30, 160), 4, box) == w * h
    finally:
        desktop.close_window(win)


def test_count_pixels_near() -> None:
    image = Image.new("RGB", (10, 10), (0, 0, 0))
    image.paste((100, 150, 200), (0, 0, 5, 10))
    assert count_pixels_near(image, (110, 140, 190), tolerance=10) == 50
    assert count_pixels_near(image, (111, 150, 200), tolerance=10) == 0
    assert count_pixels_near(image, (100, 150, 200), 0, box=(4, 0, 10, 10)) == 10


def test_mouse_move_and_key_reset_x_idle_time(desktop: Rig) -> None:
    # Idle can only be as old as the input we just sent, however slow the machine is.
    inputs: list[Callable[[], None]] = [
        lambda: desktop.mouse_move(20, 20),
        lambda: desktop.key("shift"),
    ]
    for send_input in inputs:
        wait_for(lambda: desktop.x_idle_ms() >= 100, what="X idle time to reach 100 ms")
        sent = time.monotonic()
        send_input()
        assert desktop.x_idle_ms() <= (time.monotonic() - sent) * 1000 + 5


def test_openbox_fullscreen_sets_net_wm_state(desktop: Rig) -> None:
    win = desktop.open_window("fullscreen-test")
    try:
        wait_equal(desktop.active_window, win, what="openbox's _NET_ACTIVE_WINDOW")
        desktop.set_fullscreen(win, True)
        wait_for(lambda: "_NET_WM_STATE_FULLSCREEN" in desktop.wm_state(win))
        wait_equal(lambda: desktop.window_geometry(win), (0, 0, 1280, 800))
        desktop.set_fullscreen(win, False)
        wait_for(lambda: "_NET_WM_STATE_FULLSCREEN" not in desktop.wm_state(win))
    finally:
        desktop.close_window(win)


def test_window_can_start_fullscreen(desktop: Rig) -> None:
    win = desktop.open_window("pre-map-fullscreen", fullscreen=True)
    try:
        wait_equal(lambda: desktop.window_geometry(win), (0, 0, 1280, 800))
        assert "_NET_WM_STATE_FULLSCREEN" in desktop.wm_state(win)
    finally:
        desktop.close_window(win)


def test_trayer_owns_the_tray_and_restarts(trayer: Rig) -> None:
    (old,) = trayer.procs["trayer"]
    assert trayer.window_pid(trayer.selection_owner("_NET_SYSTEM_TRAY_S0")) == old.pid
    trayer.restart("trayer")
    (new,) = trayer.procs["trayer"]
    assert not old.alive()
    assert trayer.window_pid(trayer.selection_owner("_NET_SYSTEM_TRAY_S0")) == new.pid


def test_xfce_panel_is_an_sni_host_and_restarts(sni_host: Rig) -> None:
    assert sni_host.bus.get_property(WATCHER_API, "IsStatusNotifierHostRegistered") is True
    old = sni_host.procs["xfce"]
    helpers = session_members(*old)  # the panel's plugin wrapper
    assert sni_host.bus.owner_pid(SNI_WATCHER) in {p.pid for p in helpers}
    sni_host.restart("xfce")
    assert not any(p.alive() for p in old + helpers)
    assert sni_host.bus.get_property(WATCHER_API, "IsStatusNotifierHostRegistered") is True


def test_second_rig_runs_beside_and_leaves_nothing(desktop: Rig) -> None:
    with Rig(("openbox", "dunst", "xfce")) as other:
        assert other.display != desktop.display
        assert other.bus_address != desktop.bus_address
        started = other.all_procs()
        started += session_members(*started)
        other.notify("only on the other desktop")
        other.close_all_notifications()
        assert [n["summary"] for n in other.history()] == ["only on the other desktop"]
        assert desktop.history() == []
        state_dir, display = other.state_dir, other.display
    assert [p for p in started if p.alive()] == []
    assert not state_dir.exists()
    assert not _stale_socket(Path(f"/tmp/.X11-unix/X{display[1:]}"))


def _stale_socket(path: Path) -> bool:
    """A socket file nobody listens on. (A parallel rig may already own the number.)"""
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(str(path))
        except ConnectionRefusedError:
            return True
        except FileNotFoundError:
            return False
    return False


def test_failed_start_stops_what_already_started(monkeypatch: pytest.MonkeyPatch) -> None:
    rig = Rig(("openbox", "dunst"))
    spawned: list[Proc] = []
    real_spawn = rig._spawn

    def spy(*args: object, **kwargs: object) -> Proc:
        spawned.append(real_spawn(*args, **kwargs))  # type: ignore[arg-type]
        return spawned[-1]

    def broken() -> None:
        raise RigError("dunst refused")

    monkeypatch.setattr(rig, "_spawn", spy)
    monkeypatch.setattr(rig, "_start_dunst", broken)
    with pytest.raises(RigError, match="dunst refused"):
        rig.start_all()
    assert [p.name for p in spawned] == ["Xvfb", "dbus-daemon", "openbox"]
    assert [p for p in spawned if p.alive()] == []
    assert not rig.state_dir.exists()


def test_missing_program_fails_loudly_with_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # as on a CI machine without the packages
    rig = Rig(("dunst",))
    with pytest.raises(MissingBinary, match="apt-get install xvfb"):
        rig.start_all()
    assert not rig.state_dir.exists()


def test_cli_up_prints_exports_and_down_stops_everything() -> None:
    up = subprocess.run(
        [sys.executable, str(RIG_PY), "up", "--with", "dunst"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    env = {}
    for line in up.stdout.splitlines():
        export, assignment = shlex.split(line)
        assert export == "export"
        key, _, value = assignment.partition("=")
        env[key] = value
    state_dir = Path(env["ERGOBREAK_RIG_DIR"])
    procs = [Proc(**p) for p in json.loads((state_dir / "pids.json").read_text())["procs"]]
    try:
        assert [p.name for p in procs] == ["Xvfb", "dbus-daemon", "dunst"]
        subprocess.run(["notify-send", "from the CLI rig"], env={**os.environ, **env}, check=True)
        with Bus(env["DBUS_SESSION_BUS_ADDRESS"]) as bus:
            assert bus.name_has_owner(NOTIFICATIONS)
    finally:
        subprocess.run([sys.executable, str(RIG_PY), "down", str(state_dir)], check=True)
    assert [p for p in procs if p.alive()] == []  # zombies of an orphan count as gone
    assert not state_dir.exists()


def test_wait_helpers_say_what_they_waited_for() -> None:
    with pytest.raises(TimeoutError, match=r"0.05s waiting for the answer \(last value: 0\)"):
        wait_for(lambda: 0, 0.05, what="the answer")
    with pytest.raises(TimeoutError, match=r"waiting for the answer == 42; last got 41$"):
        wait_equal(lambda: 41, 42, 0.05, what="the answer")


def test_launch_runs_a_client_in_the_desktop_and_stops_it(desktop: Rig) -> None:
    code = "import os, time; print(os.environ['DISPLAY'], flush=True); time.sleep(60)"
    client = desktop.launch("client", [sys.executable, "-c", code])
    wait_for(lambda: desktop.display in desktop.log_path("client").read_text())
    desktop.stop("client")
    assert not client.alive()
