"""The SNI tray against a real host: xfce4-panel's systray (StatusNotifierWatcher + host).

Everything goes through the real thing: the panel reads our properties and menu over
D-Bus and draws the icon (checked on a screenshot), menu clicks are sent the way
hosts send them (``EventGroup``; ``Event`` too) or made with the mouse and keyboard,
and the host is restarted under the item.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import pytest
from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    MatchRule,
    MessageType,
    message_bus,
    new_error,
    new_method_call,
    new_method_return,
    new_signal,
)
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]
from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped]

from ergobreak.commands import Request
from ergobreak.tray.backend import Choice, choose_backend, describe_backend
from ergobreak.tray.icon import argb32, icon_key, render_set
from ergobreak.tray.model import menu_model, tooltip
from ergobreak.tray.sni import RETRY_DELAYS

from .rig import SNI_WATCHER, WATCHER_API, Rig, wait_for
from .tray_support import (
    Tray,
    find_colour,
    item_id,
    model_tree,
    read_menu,
    ring_pixels,
    running_tray,
    tray_state,
)

#: the panel strip at the top of the screen (xfce4-panel, 32 px high, icons from the left)
PANEL = (0, 0, 400, 34)


def registered(rig: Rig, tray: Tray) -> bool:
    items = rig.bus.get_property(WATCHER_API, "RegisteredStatusNotifierItems")
    return any(entry.split("/")[0] == tray.item.service for entry in items)


def test_backend_choice_is_sni_when_a_host_is_up(sni_host: Rig) -> None:
    choice = choose_backend()
    assert choice.backend == "sni"
    assert "StatusNotifierWatcher" in choice.reason
    described = describe_backend()
    assert described["backend"] == "sni"
    assert described["capabilities"]["menu"] is True


def test_backend_choice_can_wait_for_a_panel_starting_late(desktop: Rig) -> None:
    """At login the panel may come up after ergobreak: the choice waits for its
    watcher and host (blocked on bus signals) instead of settling for XEmbed."""
    assert choose_backend().backend == "xorg"  # no watcher yet; DISPLAY is set
    chosen: list[Choice] = []
    waiter = threading.Thread(target=lambda: chosen.append(choose_backend(wait_for_watcher=30)))
    waiter.start()
    desktop.start("xfce")
    waiter.join(30)
    assert [c.backend for c in chosen] == ["sni"]


def test_item_registers_and_its_icon_is_on_the_panel(sni_host: Rig) -> None:
    with running_tray("sni") as tray:
        wait_for(lambda: registered(sni_host, tray), what="the watcher to list our item")
        wait_for(lambda: tray.item.registered, what="the watcher's reply to our registration")
        wait_for(
            lambda: ring_pixels(sni_host, "working", PANEL) > 20,
            what="the working icon's blue ring on the panel",
        )


def test_icon_tooltip_and_status_follow_the_state(sni_host: Rig) -> None:
    with running_tray("sni") as tray:
        wait_for(lambda: registered(sni_host, tray))
        wait_for(lambda: ring_pixels(sni_host, "working", PANEL) > 20)
        prompt = tray_state("prompt")
        tray.controller.show(prompt)
        wait_for(
            lambda: (
                ring_pixels(sni_host, "prompt", PANEL) > 20
                and ring_pixels(sni_host, "working", PANEL) < 5
            ),
            what="the panel to redraw the amber prompt icon",
        )
        bus, item = sni_host.bus, tray.item_address()
        expected = [argb32(image) for image in render_set(icon_key(prompt))]
        assert [tuple(p) for p in bus.get_property(item, "IconPixmap")] == expected
        assert bus.get_property(item, "Status") == "NeedsAttention"
        _icon, _pixmaps, title, text = bus.get_property(item, "ToolTip")
        assert (title, text) == tooltip(prompt)
        assert bus.get_property(item, "ItemIsMenu") is True
        assert bus.get_property(item, "Menu") == "/MenuBar"


@pytest.mark.parametrize("name", ["working", "prompt", "drill", "paused"])
def test_menu_read_over_dbusmenu_matches_the_model(sni_host: Rig, name: str) -> None:
    state = tray_state(name, today="Today: 1 of 2 drills", managed_by="")
    with running_tray("sni", state=None) as tray:
        tray.controller.show(state)
        wait_for(lambda: registered(sni_host, tray))
        _revision, tree = read_menu(sni_host.bus, tray.menu())
        assert tree == model_tree(menu_model(state))


def test_menu_updates_bump_the_revision_and_signal_hosts(sni_host: Rig) -> None:
    with running_tray("sni") as tray:
        wait_for(lambda: registered(sni_host, tray))
        before, _ = read_menu(sni_host.bus, tray.menu())
        with sni_host.connect_bus() as watch:
            rule = MatchRule(
                type="signal", sender=tray.item.service, interface="com.canonical.dbusmenu"
            )
            watch.call_bus("AddMatch", rule)
            tray.controller.show(tray_state("paused"))
            revision, parent = watch.wait_signal(
                "LayoutUpdated", interface="com.canonical.dbusmenu"
            )
        after, tree = read_menu(sni_host.bus, tray.menu())
        assert (revision, parent) == (after, 0)
        assert after > before
        assert ("Resume", True, None) in tree


def test_menu_clicks_reach_the_engine_as_requests(sni_host: Rig) -> None:
    """Hosts send EventGroup (xfce, the Haskell host); Event works too; disabled and
    unknown items do nothing."""
    with running_tray("sni", state="prompt") as tray:
        wait_for(lambda: registered(sni_host, tray))
        bus, menu = sni_host.bus, tray.menu()
        snooze = item_id(bus, menu, "Snooze (2 left)")
        half_hour = item_id(bus, menu, "Pause", "30 minutes")
        status = item_id(bus, menu, tray.controller.entries[0].label)
        (unknown,) = bus.call(
            menu,
            "EventGroup",
            "a(isvu)",
            [
                (snooze, "clicked", ("i", 0), 0),
                (status, "clicked", ("i", 0), 0),
                (9999, "clicked", ("i", 0), 0),
            ],
        )
        assert unknown == [9999]
        wait_for(lambda: tray.requests == [Request("snooze")])
        bus.call(menu, "Event", "isvu", half_hour, "clicked", ("i", 0), 0)
        bus.call(menu, "Event", "isvu", half_hour, "hovered", ("i", 0), 0)
        wait_for(lambda: len(tray.requests) == 2)
        assert tray.requests[1] == Request("pause", {"seconds": 1800.0})


def test_activate_runs_the_default_action(sni_host: Rig) -> None:
    with running_tray("sni", state="prompt") as tray:
        wait_for(lambda: registered(sni_host, tray))
        sni_host.bus.call(tray.item_address(), "Activate", "ii", 10, 10)
        wait_for(lambda: tray.requests == [Request("start")])
        tray.controller.show(tray_state("paused"))
        sni_host.bus.call(tray.item_address(), "SecondaryActivate", "ii", 10, 10)
        wait_for(lambda: tray.requests == [Request("start"), Request("resume")])


def test_a_real_click_opens_the_menu_and_a_key_picks_an_item(sni_host: Rig) -> None:
    """The user's way: left click on the icon (xfce opens the menu, as ItemIsMenu asks),
    then Down and Return select the first enabled item; xfce sends it as EventGroup."""
    with running_tray("sni", state="working") as tray:
        wait_for(lambda: registered(sni_host, tray))
        centre = wait_for(lambda: find_colour(sni_host, "working", PANEL), what="the icon")
        assert centre is not None
        sni_host.mouse_move(*centre)
        sni_host.click(1)
        wait_for(
            lambda: sni_host.find_windows("Xfce4-panel") and _menu_is_open(sni_host),
            what="the menu to pop up",
        )
        sni_host.key("Down")
        sni_host.key("Return")
        wait_for(lambda: tray.requests == [Request("start")], what="the click to arrive")


def _menu_is_open(rig: Rig) -> bool:
    """GTK menus are override-redirect windows; look for a mapped one below the panel."""
    root = rig.xdisplay.screen().root
    for child in root.query_tree().children:
        attrs = child.get_attributes()
        if attrs.override_redirect and attrs.map_state == 2:  # IsViewable
            geometry = child.get_geometry()
            if geometry.height > 100 and geometry.y >= 0:
                return True
    return False


def test_reregisters_after_the_host_restarts(sni_host: Rig) -> None:
    with running_tray("sni") as tray:
        wait_for(lambda: registered(sni_host, tray))
        sni_host.restart("xfce")
        wait_for(lambda: registered(sni_host, tray), what="registration with the new watcher")
        wait_for(
            lambda: ring_pixels(sni_host, "working", PANEL) > 20,
            what="the icon on the restarted panel",
        )
        tray.controller.show(tray_state("prompt"))
        wait_for(lambda: ring_pixels(sni_host, "prompt", PANEL) > 20, what="an update after it")


def test_registers_when_the_watcher_appears_late(desktop: Rig) -> None:
    """At login the panel may start after us: no watcher yet, then one appears."""
    assert not desktop.name_has_owner(SNI_WATCHER)
    with running_tray("sni") as tray:
        assert not tray.item.registered
        desktop.start("xfce")
        wait_for(lambda: registered(desktop, tray), what="registration with the late watcher")
        wait_for(lambda: ring_pixels(desktop, "working", PANEL) > 20, what="the icon")


def test_registration_is_retried_while_the_watcher_is_not_ready(desktop: Rig) -> None:
    """A watcher may own its name before its object exists (the Haskell one does): we
    retry with backoff until it accepts."""
    with running_tray("sni") as tray, desktop.connect_bus() as fake:
        fake.call_bus("RequestName", SNI_WATCHER, 4)
        calls: list[float] = []
        deadline = time.monotonic() + 10
        while len(calls) < 3 and time.monotonic() < deadline:
            msg = fake.conn.receive(timeout=deadline - time.monotonic())
            if msg.header.message_type is MessageType.method_call and msg.body == (
                tray.item.service,
            ):
                calls.append(time.monotonic())
                if len(calls) < 3:
                    reply: Any = new_error(
                        msg, "org.freedesktop.DBus.Error.UnknownObject", "s", ("not yet",)
                    )
                else:
                    reply = new_method_return(msg)
                fake.conn.send(reply)
        assert len(calls) == 3
        wait_for(lambda: tray.item.registered)
        assert calls[1] - calls[0] >= RETRY_DELAYS[0] * 0.9
        assert calls[2] - calls[1] >= RETRY_DELAYS[1] * 0.9


def test_an_item_the_watcher_dropped_registers_again(desktop: Rig) -> None:
    """GNOME's AppIndicator extension can drop a live item (StatusNotifierItemUnregistered
    of ours): we register again. The same signal from anyone but the watcher is noise."""
    with (
        running_tray("sni") as tray,
        desktop.connect_bus() as watcher,
        desktop.connect_bus() as stranger,
    ):
        watcher.call_bus("RequestName", SNI_WATCHER, 4)
        service = tray.item.service
        calls: list[float] = []

        def accept_registrations(count: int) -> None:
            deadline = time.monotonic() + 10
            while len(calls) < count and time.monotonic() < deadline:
                msg = watcher.conn.receive(timeout=deadline - time.monotonic())
                if msg.header.message_type is MessageType.method_call and msg.body == (service,):
                    calls.append(time.monotonic())
                    watcher.conn.send(new_method_return(msg))
            assert len(calls) == count

        accept_registrations(1)
        wait_for(lambda: tray.item.registered)
        dropped = new_signal(WATCHER_API, "StatusNotifierItemUnregistered", "s", (service,))
        stranger.conn.send(dropped)  # not the watcher: ignored
        # the item reads in order: once it answers this, it has seen the stranger's signal
        item = DBusAddress("/StatusNotifierItem", service, "org.freedesktop.DBus.Introspectable")
        stranger.conn.send_and_get_reply(new_method_call(item, "Introspect"), timeout=5)
        assert tray.item.registered
        watcher.conn.send(dropped)
        accept_registrations(2)
        wait_for(lambda: tray.item.registered, what="registered again")


def test_nothing_is_sent_while_nothing_visible_changes(sni_host: Rig) -> None:
    """Re-showing the same state, or desk time that moves neither the ring nor a
    minute, sends no signal at all; the next real change sends one of each."""
    working, paused = tray_state("working"), tray_state("paused")
    view = working.view
    assert view.next_drill_in is not None
    assert view.next_posture_in is not None
    with running_tray("sni", state=None) as tray:
        wait_for(lambda: registered(sni_host, tray))
        with open_dbus_connection(sni_host.bus_address) as watch:
            (owner,) = unwrap_msg(
                watch.send_and_get_reply(message_bus.GetNameOwner(tray.item.service))
            )
            rule = MatchRule(type="signal", sender=owner)
            unwrap_msg(watch.send_and_get_reply(message_bus.AddMatch(rule)))
            with watch.filter(rule, bufsize=100) as signals:

                def signals_until_menu_revision(revision: int) -> list[str]:
                    """show() updates the menu last, so once hosts hear of this
                    revision they have heard of everything shown before it."""
                    members = []
                    while True:
                        msg = watch.recv_until_filtered(signals, timeout=5)
                        members.append(msg.header.fields[3])
                        if members[-1] == "LayoutUpdated" and msg.body[0] == revision:
                            return members

                tray.controller.show(paused)
                signals_until_menu_revision(tray.item.layout.revision)
                tray.controller.show(working)
                to_working = signals_until_menu_revision(tray.item.layout.revision)
                # a new icon, but no attention icon: hosts would re-read it for nothing
                assert "NewIcon" in to_working
                assert "NewAttentionIcon" not in to_working
                sent = dict(tray.controller.sent)
                for second in range(20):  # desk time: same ring bucket, same minute
                    moved = dataclasses.replace(
                        view,
                        drill_desk=view.drill_desk + second,
                        next_drill_in=view.next_drill_in - second,
                        posture_desk=view.posture_desk + second,
                        next_posture_in=view.next_posture_in - second,
                    )
                    tray.controller.show(dataclasses.replace(working, view=moved))
                    tray.controller.show(working)
                assert tray.controller.sent == sent
                tray.controller.show(tray_state("prompt"))  # a visible change: the sentinel
                members = signals_until_menu_revision(tray.item.layout.revision)
        assert sorted(members) == [
            "LayoutUpdated",
            "NewAttentionIcon",
            "NewIcon",
            "NewStatus",
            "NewToolTip",
        ]


def test_stop_leaves_nothing_on_the_bus(sni_host: Rig) -> None:
    with running_tray("sni") as tray:
        wait_for(lambda: registered(sni_host, tray))
        service = tray.item.service
        (unique,) = sni_host.bus.call_bus("GetNameOwner", service)
    assert not sni_host.name_has_owner(service)
    assert not sni_host.name_has_owner(unique)
    wait_for(lambda: not registered(sni_host, tray), what="the watcher to drop the item")
    wait_for(
        lambda: ring_pixels(sni_host, "working", PANEL) == 0, what="the icon to leave the panel"
    )
