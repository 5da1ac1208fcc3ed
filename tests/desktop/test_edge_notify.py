"""Notifications through the real dunst: shown with title, body and icon; buttons come
back as the right command; a drill counts down in one bubble; a vanished server gives
one warning and a fallback; ``ergobreak doctor --notify`` reaches the screen."""

from __future__ import annotations

import json
import logging
import queue
import subprocess
import sys
from collections.abc import Iterator

import pytest
from scaffold import builtin_drill

from ergobreak import present
from ergobreak.commands import Request
from ergobreak.content import default_content
from ergobreak.core import effects as fx
from ergobreak.platform.base import Notification
from ergobreak.platform.bubbles import Bubbles
from ergobreak.platform.dbus_link import DBusLink
from ergobreak.platform.dbus_notify import FreedesktopNotifier
from ergobreak.platform.edge import Edge
from ergobreak.platform.select import open_edge

from .rig import Rig, wait_for

CONTENT = default_content()


DRILL = builtin_drill("hipflexor_standing")


class Requests:
    """on_request: enqueue only, like the daemon's callback."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Request] = queue.Queue()

    def __call__(self, request: Request) -> None:
        self.queue.put(request)

    def next(self) -> Request:
        return self.queue.get(timeout=5)


@pytest.fixture
def requests() -> Requests:
    return Requests()


@pytest.fixture
def edge(desktop: Rig, requests: Requests) -> Iterator[Edge]:
    opened = open_edge(requests)
    yield opened
    opened.close()


def test_notification_lands_in_dunst_with_title_body_and_icon(desktop: Rig, edge: Edge) -> None:
    assert edge.choices[1].name == "freedesktop"
    assert edge.choices[1].detail.startswith("server dunst 1.9")
    check = present.posture_check(fx.PostureCheck(CONTENT.cues[0]), CONTENT)
    nid = edge.notifier.show(check)
    assert nid > 0
    desktop.close_all_notifications()
    (entry,) = desktop.history()
    assert (entry["id"], entry["appname"], entry["summary"]) == (nid, "ergobreak", "Posture check")
    assert entry["body"] == f"{CONTENT.cues[0].text}\n{CONTENT.eye_cue}"
    assert entry["icon_path"].endswith("/ergobreak/icons/posture.png")
    assert entry["category"] == "x-ergobreak.posture"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("start", Request("start", {"routine": "hipflexor_standing"})),
        ("snooze", Request("snooze")),
        ("skip", Request("skip")),
    ],
)
def test_prompt_buttons_reach_the_core_as_commands(
    desktop: Rig, edge: Edge, requests: Requests, key: str, expected: Request
) -> None:
    prompt = present.drill_prompt(fx.DrillPrompt(DRILL, attempt=1, snoozes_left=1))
    nid = edge.notifier.show(prompt)
    assert desktop.invoke_action(key) == nid  # through dunst's menu, as a user would
    assert requests.next() == expected
    assert requests.queue.empty()


def test_actions_of_another_app_are_not_ours(desktop: Rig, edge: Edge, requests: Requests) -> None:
    desktop.notify("Someone else", actions={"skip": "Skip"})
    desktop.invoke_action("skip")
    desktop.wait_signal("ActionInvoked")  # it happened, on the other app's connection
    mine = edge.notifier.show(Notification(title="mine"))
    desktop.notify("Someone else", actions={"skip": "Skip"})
    desktop.invoke_action("skip")
    desktop.wait_signal("ActionInvoked")
    edge.notifier.close(mine)
    assert requests.queue.empty()


def test_a_drill_counts_down_in_one_bubble(desktop: Rig, edge: Edge, requests: Requests) -> None:
    bubbles = Bubbles(edge.notifier)
    effects: list[fx.Effect] = [
        fx.DrillPrompt(DRILL, 1, 2),
        fx.DrillStart(DRILL, requested=False),
        *(fx.DrillStep(DRILL, i, len(DRILL.steps), s) for i, s in enumerate(DRILL.steps)),
    ]
    handles = {bubbles.apply(present.present(e, CONTENT)) for e in effects}
    (nid,) = handles
    assert desktop.dunst_property("displayedLength") == 1
    # the last step's Stop button still works on the same bubble
    assert desktop.invoke_action("skip") == nid
    assert requests.next() == Request("skip")
    bubbles.apply(present.present(fx.DrillEnd(DRILL, "done"), CONTENT))
    desktop.close_all_notifications()
    (entry,) = desktop.history()
    assert (entry["id"], entry["summary"]) == (nid, "Done: Standing hip-flexor stretch")


def test_replaces_id_update_replaces_in_dunst(desktop: Rig, edge: Edge) -> None:
    steps = DRILL.steps
    first = edge.notifier.show(present.drill_step(fx.DrillStep(DRILL, 0, len(steps), steps[0])))
    second = edge.notifier.update(
        first, present.drill_step(fx.DrillStep(DRILL, 1, len(steps), steps[1]))
    )
    assert second == first
    desktop.close_all_notifications()
    (entry,) = desktop.history()
    assert entry["id"] == first
    assert entry["body"].splitlines()[0] == "Step 2 of 5 · 0:40 · left leg"


def test_dismiss_closes_the_bubble(desktop: Rig, edge: Edge) -> None:
    bubbles = Bubbles(edge.notifier)
    nid = bubbles.apply(present.present(fx.DrillPrompt(DRILL, 1, 2), CONTENT))
    desktop.bus.clear_signals()
    bubbles.apply(present.present(fx.DrillEnd(DRILL, "ignored"), CONTENT))
    wait_for(lambda: desktop.dunst_property("displayedLength") == 0)
    assert [n["id"] for n in desktop.history()] == [nid]


def test_server_gone_one_warning_console_fallback_then_back(
    desktop: Rig, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    edge = open_edge(lambda r: None)
    try:
        desktop.stop("dunst")
        with caplog.at_level(logging.WARNING, "ergobreak.platform"):
            assert edge.notifier.show(Notification(title="Posture check", body="one")) < 0
            assert edge.notifier.show(Notification(title="Posture check", body="two")) < 0
            desktop.start("dunst")
            back = edge.notifier.show(Notification(title="Posture check", body="three"))
        assert back > 0
        messages = [r.getMessage() for r in caplog.records]
        assert len(messages) == 2
        assert messages[0].startswith("freedesktop notifications failed (")
        assert "ServiceUnknown" in messages[0]
        assert messages[1] == "freedesktop notifications work again"
        assert capsys.readouterr().err.splitlines() == [
            "[ergobreak] Posture check: one",
            "[ergobreak] Posture check: two",
        ]
        desktop.close_all_notifications()
        assert [n["body"] for n in desktop.history()] == ["three"]
    finally:
        edge.close()


def test_no_server_at_start_picks_console_and_says_why(desktop: Rig) -> None:
    desktop.stop("dunst")
    edge = open_edge(lambda r: None)
    try:
        choice = edge.choices[1]
        assert (choice.name, choice.ok) == ("console", False)
        assert "org.freedesktop.Notifications" in choice.detail
        assert "ServiceUnknown" in choice.detail
    finally:
        edge.close()


def test_notifier_on_its_own_link(desktop: Rig, requests: Requests) -> None:
    link = DBusLink.open("SESSION")
    try:
        notifier = FreedesktopNotifier(link, requests)
        assert notifier.capabilities.actions
        assert notifier.capabilities.icons
        nid = notifier.show(Notification(title="t", body="a < b & c"))
        notifier.close(nid)
        wait_for(lambda: [n["id"] for n in desktop.history()] == [nid])
        notifier.close(nid)  # closing twice is harmless
        notifier.stop()
    finally:
        link.close()


def test_doctor_notify_sends_a_test_notification(desktop: Rig) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ergobreak", "doctor", "--json", "--notify"],
        env=desktop.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    names = {(c["role"], c["name"]): c for c in report["checks"]}
    assert names[("idle", "x11")]["ok"] is True
    assert isinstance(names[("idle", "x11")]["idle_seconds"], float)
    assert names[("notifier", "freedesktop")]["ok"] is True
    assert names[("quiet", "fullscreen")]["active"] is False
    assert names[("quiet", "dnd")]["detail"] == "dunst paused"
    assert report["notify"]["ok"] is True
    desktop.close_all_notifications()
    (entry,) = desktop.history()
    assert (entry["id"], entry["summary"]) == (
        report["notify"]["id"],
        "ergobreak test notification",
    )


def test_one_wakeup_sends_only_the_last_bubble_of_a_slot(desktop: Rig, edge: Edge) -> None:
    """Two steps of a drill leave in one wake-up (a late one, catching up): only the
    later goes to the server (GNOME lost a step sent a millisecond after the update
    before it). The core never sends a drill's start and its step 1 in one wake-up:
    the safety note the start carries stays alone for its reading time
    (tests/test_core_playback.py)."""
    sent: list[str] = []
    notifier = edge.notifier

    class Counting:
        name, capabilities = notifier.name, notifier.capabilities

        def show(self, note: Notification) -> int:
            sent.append(note.body)
            return notifier.show(note)

        def update(self, handle: int, note: Notification) -> int:
            sent.append(note.body)
            return notifier.update(handle, note)

        def close(self, handle: int) -> None:
            notifier.close(handle)

        def stop(self) -> None:
            notifier.stop()

    bubbles = Bubbles(Counting())
    start = present.present(fx.DrillStep(DRILL, 0, len(DRILL.steps), DRILL.steps[0]), CONTENT)
    step = present.present(fx.DrillStep(DRILL, 1, len(DRILL.steps), DRILL.steps[1]), CONTENT)
    posture = Notification(title="Posture", body="Feet flat on the floor")
    bubbles.apply_round([start, None, posture, step])
    assert isinstance(step, Notification)
    assert sent == ["Feet flat on the floor", step.body]
    assert desktop.dunst_property("displayedLength") + desktop.dunst_property("waitingLength") == 2
    desktop.close_all_notifications()
    bodies = sorted(entry["body"] for entry in desktop.history())
    assert bodies == sorted(["Feet flat on the floor", step.body])
