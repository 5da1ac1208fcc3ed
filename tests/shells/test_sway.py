"""ergobreak on sway 1.7 + waybar (tray) + mako, headless, end to end.

Assertions are on the D-Bus traffic between ergobreak and the shell's own servers (the
bus monitor), on what the shell shows (``makoctl list``, ``grim`` screenshots) and on the
daemon's own ``status``/history. Input takes the user's paths: ``wtype`` (virtual
keyboard) for typing, a virtual pointer for clicks on waybar's tray and menu,
``makoctl invoke`` for a notification's buttons (what a click on one does).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from desktop.rig import NOTIFICATIONS, SNI_WATCHER, WATCHER_API, count_pixels_near, wait_for
from jeepney import DBusAddress  # type: ignore[import-untyped]

from ergobreak.artwork.badge import BADGE, TRACK
from ergobreak.platform.wayland_idle import NOTICE_AFTER

from .daemon import Daemon, Typist, configured, notify_calls, wait_notify
from .monitor import Monitor
from .sway import (
    BAR_HEIGHT,
    BAR_RGB,
    DESKTOP_RGB,
    MENU_RGB,
    SCREEN,
    Sway,
    bar_items,
    menu_box,
    menu_rows,
)

DBUSMENU = "com.canonical.dbusmenu"

#: long intervals: nothing is due while a test looks at one thing
CALM = configured({"posture.every": "10m", "drill.every": "20m"})
#: a drill prompt every 10 s of desk time, no posture checks in between
#: (a long prelude: typing on never snoozes it before the test presses a button)
PROMPTS = {
    "posture.every": "10m",
    "drill.every": "10s",
    "drill.snooze": "5s",
    "drill.prelude": "30s",
}
#: the shipped idle timing (idle_pause 60 s: a poll-based idle source is read that often)
#: and nothing due for a while: what a wake-up budget is about
STEADY = configured(
    {
        "activity.idle_pause": "60s",
        "activity.natural_break": "5m",
        "activity.prompt_gap": "5m",
        "posture.every": "20m",
        "drill.every": "30m",
        "drill.start_after_idle": "30s",
    }
)

#: a drill that shows all its steps within 10 s of its 5 s safety note (custom drills
#: last 60 s at least, a step at least the 5 s it takes to read)
SHORT_DRILL_ID = "shells_short"
SHORT_DRILL = f"""\
[[drill]]
id = "{SHORT_DRILL_ID}"
title = "Short check drill"
category = "mobility"
tags = ["desk", "standing"]
safety = "Stop if anything hurts."
sources = ["ergobreak tests"]
steps = [
    {{ seconds = 5, text = "First: stand up tall." }},
    {{ seconds = 5, text = "Second: roll your shoulders back." }},
    {{ seconds = 50, text = "Third: march gently on the spot." }},
]
"""
STEP_TEXTS = ["First: stand up tall.", "Second: roll your shoulders back.", "Third: march"]


@pytest.fixture(scope="module")
def sway() -> Iterator[Sway]:
    """One sway session for the module; each test leaves it as it found it."""
    began = time.monotonic()
    with Sway() as shell:
        print(f"\nsway up in {time.monotonic() - began:.2f} s: {shell.timings}")
        yield shell


@pytest.fixture
def monitor(sway: Sway) -> Iterator[Monitor]:
    with sway.session.monitor() as watching:
        yield watching


@pytest.fixture
def daemon(sway: Sway) -> Iterator[Daemon]:
    d = Daemon(sway.session)
    yield d
    d.stop()
    sway.dismiss_all()


@pytest.fixture
def typist(sway: Sway) -> Iterator[Typist]:
    t = Typist(lambda: sway.press_key("Shift_L"))
    yield t
    t.close()


def unique_name(sway: Sway, name: str) -> str:
    return str(sway.session.bus.call_bus("GetNameOwner", name)[0])


def item_service(sway: Sway, pid: int) -> str:
    """The bus name of ergobreak's item, as registered with waybar's watcher."""
    items = sway.session.bus.get_property(WATCHER_API, "RegisteredStatusNotifierItems")
    found = [i for i in items if f"-{pid}-" in i]
    assert found, items
    return str(found[0].split("/")[0])


def test_sway_starts_with_its_tray_and_notification_server(sway: Sway) -> None:
    s = sway.session
    assert sway.wayland_display.startswith("wayland-")
    for comm, name in {"waybar": SNI_WATCHER, "mako": NOTIFICATIONS}.items():
        pid = s.bus.owner_pid(name)
        assert s.belongs(pid), name
        assert Path(f"/proc/{pid}/comm").read_text().strip() == comm
    assert "org_kde_kwin_idle" in sway.wayland_globals()  # what an idle source can use
    shot = sway.screenshot()
    width, height = SCREEN
    assert count_pixels_near(shot, BAR_RGB, 4, (0, 0, width, BAR_HEIGHT)) > width * 20
    below = (0, BAR_HEIGHT + 10, width, height)
    assert count_pixels_near(shot, DESKTOP_RGB, 4, below) > width * (height - 100)


def test_the_tray_item_registers_with_waybar_and_is_drawn(
    sway: Sway, daemon: Daemon, monitor: Monitor
) -> None:
    assert bar_items(sway.screenshot()) is None  # an empty tray to begin with
    proc = daemon.start(CALM)
    watcher = unique_name(sway, SNI_WATCHER)
    (register,) = monitor.wait(member="RegisterStatusNotifierItem", kind="method_call", timeout=10)
    assert register.destination in (SNI_WATCHER, watcher)
    assert monitor.reply_to(register).kind == "method_return"
    service = item_service(sway, proc.pid)
    # waybar reads the item (its icon pixmap) from ergobreak's connection
    monitor.wait(member="GetAll", sender=watcher, body=("org.kde.StatusNotifierItem",))

    def icon_drawn() -> tuple[int, int, int, int] | None:
        shot = sway.screenshot()
        box = bar_items(shot)
        if box is None:
            return None
        badge = count_pixels_near(shot, BADGE[:3], 6, box)
        track = count_pixels_near(shot, TRACK[:3], 6, box)
        return box if badge >= 30 and track >= 30 else None

    box = wait_for(icon_drawn, 10, interval=0.1, what="the badge in waybar's tray")
    assert box is not None
    assert box[0] > SCREEN[0] - 100, box  # at the right end of the bar
    assert box[3] <= BAR_HEIGHT, box
    assert service.startswith("org.kde.StatusNotifierItem-")


def test_a_click_on_the_tray_menu_reaches_the_engine(
    sway: Sway, daemon: Daemon, monitor: Monitor
) -> None:
    proc = daemon.start(CALM)
    service = item_service_when_registered(sway, proc.pid)
    ids, labels = visible_menu_items(sway, service)
    target = next(i for i, label in enumerate(labels) if label.startswith("Posture check now"))
    icon = wait_for(lambda: bar_items(sway.screenshot()), 10, interval=0.1, what="the icon")
    assert icon is not None
    # waybar builds the menu from the layout it fetched once the item appeared
    monitor.wait(member="GetLayout", interface=DBUSMENU, destination=service_owner(sway, service))
    with sway.pointer() as mouse:
        mark = monitor.mark()
        shot: list[Path] = []

        def menu_open() -> tuple[int, int, int, int] | None:
            """The menu's box once two screenshots in a row agree (GTK may move it after
            its first frame)."""
            shot[:] = [sway.screenshot(), *shot[:1]]
            boxes = [menu_box(p) for p in shot]
            return boxes[0] if len(boxes) == 2 and boxes[0] == boxes[1] else None

        box = None
        for _attempt in range(3):  # as a user would click again on a menu that did not open
            mouse.click((icon[0] + icon[2]) // 2, (icon[1] + icon[3]) // 2)
            with contextlib.suppress(TimeoutError):
                box = wait_for(menu_open, 4, interval=0.1, what="waybar to open the menu")
                break
        assert box is not None, "three clicks on the tray icon opened no menu"
        rows = menu_rows(shot[0], box)
        assert len(rows) == len(labels), (rows, labels)
        x, y = (box[0] + box[2]) // 2, rows[target]
        mouse.move(x, y)
        wait_for(
            lambda: hovered(sway.screenshot(), box, y),
            5,
            interval=0.1,
            what=f"the menu to highlight {labels[target]!r}",
        )
        # libdbusmenu (waybar) batches clicks as EventGroup([(id, event, data, time)])
        clicked = None
        for _attempt in range(3):  # under load GTK sometimes drops a click on a fresh menu
            mouse.click(x, y)
            with contextlib.suppress(TimeoutError):
                clicked = monitor.wait(
                    lambda m: m.member in ("Event", "EventGroup"),
                    interface=DBUSMENU,
                    since=mark,
                    timeout=3,
                )
                break
            assert menu_box(sway.screenshot()) == box, "the menu closed without a click event"
        assert clicked is not None, "three clicks on the menu item sent no dbusmenu event"
    time.sleep(0.5)  # a second click's event (which must not exist) would be in by now
    (call,) = monitor.messages(
        lambda m: m.member in ("Event", "EventGroup"), interface=DBUSMENU, since=mark
    )
    events = call.body[0] if call.member == "EventGroup" else [call.body]
    assert [(e[0], e[1]) for e in events] == [(ids[target], "clicked")], events
    posture = wait_for(
        lambda: daemon.events("posture_check"), 10, what="a posture check in the history"
    )
    assert len(posture) == 1
    assert posture[0]["requested"] is True


def item_service_when_registered(sway: Sway, pid: int) -> str:
    def registered() -> str | None:
        items = sway.session.bus.get_property(WATCHER_API, "RegisteredStatusNotifierItems")
        return next((i.split("/")[0] for i in items if f"-{pid}-" in i), None)

    return str(wait_for(registered, 10, what="the item to register"))


def hovered(shot: Path, box: tuple[int, int, int, int], y: int) -> bool:
    """The menu row at ``y`` is highlighted (no longer on the menu's white)."""
    row = (box[0] + 4, y - 2, box[2] - 4, y + 2)
    return count_pixels_near(shot, MENU_RGB, 0, row) < (row[2] - row[0]) * 2


def service_owner(sway: Sway, service: str) -> str:
    return unique_name(sway, service)


def visible_menu_items(sway: Sway, service: str) -> tuple[list[int], list[str]]:
    """Ids and labels of the menu's top-level items a host draws with text (no separators)."""
    menu = DBusAddress("/MenuBar", service, DBUSMENU)
    _rev, (_root, _props, children) = sway.session.bus.call(
        menu, "GetLayout", "iias", 0, 1, ["label", "type", "visible"]
    )
    ids, labels = [], []
    for _sig, (node, props, _kids) in children:
        if props.get("type", ("s", ""))[1] == "separator":
            continue
        if props.get("visible", ("b", True))[1]:
            ids.append(int(node))
            labels.append(str(props.get("label", ("s", ""))[1]).replace("_", ""))
    return ids, labels


def test_a_posture_check_reaches_mako(sway: Sway, daemon: Daemon, monitor: Monitor) -> None:
    daemon.start(CALM)
    mark = monitor.mark()
    code, _, err = daemon.cli("posture")
    assert code == 0, err
    call, reply = wait_notify(monitor, "Posture check", 10, since=mark)
    mako = unique_name(sway, NOTIFICATIONS)
    assert call.destination in (NOTIFICATIONS, mako)
    assert reply.kind == "method_return", reply
    assert reply.sender == mako
    (nid,) = reply.body
    shown = wait_for(
        lambda: [n for n in sway.notifications() if n["id"] == nid], 5, what="mako to show it"
    )
    assert shown[0]["summary"].startswith("Posture check")
    assert len(notify_calls(monitor, "Posture check", since=mark)) == 1


def prompt_in_mako(sway: Sway, monitor: Monitor, since: int, timeout: float) -> int:
    """Wait for a drill prompt to reach mako with its buttons; return mako's id for it."""
    call, reply = wait_notify(monitor, "drill", timeout, since=since)
    assert reply.kind == "method_return", reply
    (nid,) = reply.body

    def shown() -> dict[str, object] | None:
        return next((n for n in sway.notifications() if n["id"] == nid), None)

    entry = wait_for(shown, 5, what=f"mako to show prompt {nid}")
    assert entry is not None
    assert call.body[3] == entry["summary"]
    return int(nid)


def test_each_prompt_button_takes_effect_exactly_once(
    sway: Sway, daemon: Daemon, monitor: Monitor, typist: Typist
) -> None:
    config = configured(dict(PROMPTS))
    typist.start()  # at the desk: prompts come, nothing starts by itself
    daemon.start(config)
    mako = unique_name(sway, NOTIFICATIONS)

    nid = prompt_in_mako(sway, monitor, 0, 20)
    mark = monitor.mark()
    sway.invoke(nid, "snooze")
    wait_for(lambda: daemon.events("snoozed"), 5, what="the snooze in the history")
    nid = prompt_in_mako(sway, monitor, mark, 15)  # the snoozed prompt comes back
    snoozed = daemon.events("snoozed")
    assert len(snoozed) == 1, snoozed
    assert snoozed[0]["requested"] is True, snoozed

    mark = monitor.mark()
    sway.invoke(nid, "skip")
    wait_for(lambda: daemon.events("drill_end"), 5, what="the skip in the history")
    nid = prompt_in_mako(sway, monitor, mark, 20)  # the next drill is offered
    ended = daemon.events("drill_end")
    assert [e["outcome"] for e in ended] == ["skipped"], ended

    typist.pause()
    sway.invoke(nid, "start")
    wait_for(lambda: daemon.status()["state"] == "drill", 5, what="the drill to start")
    starts = daemon.events("drill_start")
    assert len(starts) == 1, starts
    assert len(daemon.events("snoozed")) == 1
    assert len(daemon.events("drill_end")) == 1
    # mako sent each press exactly once
    presses = monitor.messages(kind="signal", member="ActionInvoked", sender=mako)
    assert [p.body[1] for p in presses] == ["snooze", "skip", "start"], presses


def test_after_start_now_every_step_is_shown_by_mako(
    sway: Sway, daemon: Daemon, monitor: Monitor, typist: Typist
) -> None:
    sway.session.write("home/.config/ergobreak/content/short.toml", SHORT_DRILL)
    config = configured(dict(PROMPTS), f'[routines]\nonly = ["{SHORT_DRILL_ID}"]\n')
    typist.start()
    daemon.start(config)
    nid = prompt_in_mako(sway, monitor, 0, 20)
    typist.pause()
    mark = monitor.mark()
    sway.invoke(nid, "start")
    shown: list[str] = []

    def all_steps_seen() -> bool:
        for entry in sway.notifications():
            body = str(entry["body"])
            if body.startswith("Step ") and (not shown or shown[-1] != body):
                shown.append(body)
        return sum(any(text in b for b in shown) for text in STEP_TEXTS) == len(STEP_TEXTS)

    wait_for(all_steps_seen, 30, interval=0.1, what=f"every step in mako (saw {shown})")
    order = [next(i for i, b in enumerate(shown) if text in b) for text in STEP_TEXTS]
    assert order == sorted(order), shown
    sent = [m.body[4] for m in notify_calls(monitor, since=mark) if m.body[4].startswith("Step")]
    assert len(sent) >= len(STEP_TEXTS), sent


def test_idle_is_real_typing_counts_and_stopping_pauses(
    sway: Sway, daemon: Daemon, typist: Typist
) -> None:
    idle_pause = 6.0  # CONFIG's activity.idle_pause
    daemon.start(CALM)
    source = daemon.status()["idle_source"]
    assert source != "none", "no idle source on sway: desk time is wall time"
    typist.start()
    wait_for(lambda: daemon.status()["state"] == "working", 5, what="typing to count as work")
    t0 = time.monotonic()
    before = daemon.status()["next_drill_in"]
    time.sleep(5)  # five seconds at the keyboard
    counted: list[tuple[float, float]] = []  # (desk time counted, most it could be)

    def desk_time_caught_up() -> bool:
        typed = before - daemon.status()["next_drill_in"]
        counted.append((typed, time.monotonic() - t0))
        return bool(typed >= 4.5)

    # status may lag behind by one engine wake-up (the engine sleeps while the user
    # types): keep typing a little until it has caught up
    try:
        wait_for(desk_time_caught_up, 4, interval=0.2, what="desk time to count 5 s of typing")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; (counted, elapsed): {counted}") from None
    assert all(typed <= most + 0.5 for typed, most in counted), counted
    typist.pause()
    at_last_key = before - counted[-1][0]  # next_drill_in about when typing stopped
    wait_for(lambda: daemon.status()["state"] == "away", 15, what="the user to count as away")
    away_after = time.monotonic() - typist.last_press
    frozen = daemon.status()["next_drill_in"]
    idle_counted = at_last_key - frozen  # desk time counted after the last key
    # The Wayland idle protocols say when the user *became* idle (after NOTICE_AFTER):
    # a reading taken sooner -- here every status call -- puts the last key at the
    # reading, at most NOTICE_AFTER late (platform/wayland_idle.py). One status call
    # takes up to ~1.5 s here: that much later is still on time.
    late = idle_pause + NOTICE_AFTER
    assert away_after <= late + 2.5, (
        f"away {away_after:.1f} s after the last key; {idle_counted:.1f} s of it was desk time"
    )
    assert idle_counted <= late + 1.5, f"{idle_counted:.1f} s idle counted as desk time"
    time.sleep(2)  # away (and not yet a natural break): the desk timer stands still
    assert abs(daemon.status()["next_drill_in"] - frozen) < 0.3
    typist.start()
    wait_for(lambda: daemon.status()["state"] == "working", 5, what="typing to resume work")
    print(f"\nidle on sway: {source}; away {away_after:.1f} s after the last key")


def test_wakeups_while_nothing_is_due(sway: Sway, daemon: Daemon) -> None:
    daemon.start(STEADY)
    wakeups_before = daemon.status()["wakeups"]
    time.sleep(3)  # let start-up settle (first icons, menus read by waybar, history)
    rate, threads = daemon.wakeups_per_second(15)
    status = daemon.status()
    print(
        f"\nergobreak on sway, {status['state']}: {rate:.3f} context switches/s {threads}; "
        f"engine wake-ups {status['wakeups'] - wakeups_before} in ~18 s"
    )
    assert rate <= 0.1, f"{rate:.2f} context switches/s in state {status['state']}: {threads}"
