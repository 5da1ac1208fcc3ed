"""The running edge: its readers never raise, its wrappers merge and fall back, and
its watchers' events reach the daemon once."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable

import pytest
from platform_fakes import Watcher

from ergobreak.core.events import (
    Observation,
    Quiet,
    Resumed,
    ScreenLocked,
    ScreenUnlocked,
    Seated,
    SeatedReason,
    Suspending,
)
from ergobreak.platform.base import Unavailable
from ergobreak.platform.console import ConsoleNotifier
from ergobreak.platform.edge import AnyOf, Choice, Edge, Lost, WallClockIdle, _Dedup
from ergobreak.platform.timejump import TimeJump


class FakeQuiet:
    def __init__(self, name: str, on: bool = False) -> None:
        self.name = name
        self.on = on
        self.broken = False

    def active(self) -> bool:
        if self.broken:
            raise Unavailable("gone")
        return self.on

    def close(self) -> None:
        pass


class FakeSeated(FakeQuiet):
    def __init__(self, name: str, reason: SeatedReason, on: bool = False) -> None:
        super().__init__(name, on)
        self.reason = reason
        self.detail = name


class FailingIdle:
    name = "flaky"

    def __init__(self) -> None:
        self.fail = True

    def idle_seconds(self) -> float:
        if self.fail:
            raise Unavailable("display closed")
        return 12.5

    def close(self) -> None:
        pass


def make_edge(**kwargs: object) -> Edge:
    defaults: dict[str, object] = {
        "idle": WallClockIdle(),
        "notifier": ConsoleNotifier(io.StringIO()),
        "watchers": [],
        "quiet": [],
        "timejump": TimeJump(lambda: 0.0, lambda: 0.0),
        "choices": [],
    }
    defaults.update(kwargs)
    return Edge(**defaults)  # type: ignore[arg-type]


def test_quiet_changes_report_edges_and_merge_sources_of_one_name() -> None:
    dunst, kde, camera = FakeQuiet("dnd"), FakeQuiet("dnd"), FakeQuiet("camera")
    edge = make_edge(quiet=[dunst, kde, camera])
    assert edge.quiet_changes() == []
    dunst.on = True
    assert edge.quiet_changes() == [Quiet("dnd", True)]
    kde.on = True
    camera.on = True
    assert edge.quiet_changes() == [Quiet("camera", True)]
    dunst.on = False
    assert edge.quiet_changes() == []  # kde still asks for quiet
    kde.on = False
    assert edge.quiet_changes() == [Quiet("dnd", False)]


def test_any_of_merges_readers_of_one_source() -> None:
    kde, dunst = FakeQuiet("dnd"), FakeQuiet("dnd")
    dnd = AnyOf("dnd", [kde, dunst])
    assert not dnd.active()
    dunst.on = True
    assert dnd.active()
    kde.broken = True  # one reader failing costs only its own vote
    assert dnd.active()
    dunst.on = False
    assert not dnd.active()
    dunst.broken = True
    with pytest.raises(Unavailable, match="gone; gone"):
        dnd.active()


def test_a_failing_detector_counts_as_off_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    camera = FakeQuiet("camera", on=True)
    edge = make_edge(quiet=[camera])
    assert edge.quiet_changes() == [Quiet("camera", True)]
    camera.broken = True
    with caplog.at_level(logging.WARNING, "ergobreak.platform"):
        assert edge.quiet_changes() == [Quiet("camera", False)]
        assert edge.quiet_changes() == []
    assert [r.getMessage() for r in caplog.records] == ["quiet detector camera failed: gone"]


def test_camera_and_microphone_are_one_call(caplog: pytest.LogCaptureFixture) -> None:
    """Seated reasons change only when the first detector of a reason turns on and
    the last turns off; a failing one counts as off and warns once."""
    camera, mic = FakeSeated("camera", "call"), FakeSeated("microphone", "call")
    inhibit = FakeSeated("inhibit", "watching")
    dnd = FakeQuiet("dnd")
    edge = make_edge(quiet=[dnd], seated=[camera, mic, inhibit])
    assert edge.quiet_changes() == []
    mic.on = True
    assert edge.quiet_changes() == [Seated("call", True)]
    camera.on, dnd.on, inhibit.on = True, True, True
    assert edge.quiet_changes() == [Quiet("dnd", True), Seated("watching", True)]
    mic.on = False
    assert edge.quiet_changes() == []  # the camera still holds the call
    camera.broken = True
    with caplog.at_level(logging.WARNING, "ergobreak.platform"):
        assert edge.quiet_changes() == [Seated("call", False)]
        assert edge.quiet_changes() == []
    assert [r.getMessage() for r in caplog.records] == ["seated detector camera failed: gone"]


def test_a_failing_idle_source_reads_as_unknown_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    idle = FailingIdle()
    edge = make_edge(idle=idle)
    with caplog.at_level(logging.WARNING, "ergobreak.platform"):
        assert [edge.read_idle(), edge.read_idle()] == [None, None]
        idle.fail = False
        assert edge.read_idle() == 12.5
        idle.fail = True
        assert edge.read_idle() is None
    assert [r.getMessage() for r in caplog.records] == [
        "idle source flaky failed (display closed); the user counts as away until it answers"
    ] * 2  # once per outage
    assert not edge.can_wake_on_activity
    assert edge.wake_on_activity(lambda: None) is False


def test_dedup_passes_only_changes() -> None:
    seen: list[Observation] = []
    emit = _Dedup(seen.append)
    events: list[Observation] = [
        ScreenLocked(),
        ScreenLocked(),  # logind and the screensaver both saw it
        ScreenUnlocked(),
        ScreenUnlocked(),
        Resumed(),  # not asleep: nothing to wake from
        Suspending(),
        Suspending(),
        Resumed(),
        Quiet("dnd", True),  # anything else passes untouched
    ]
    for event in events:
        emit(event)
    assert seen == [ScreenLocked(), ScreenUnlocked(), Suspending(), Resumed(), Quiet("dnd", True)]


def test_a_watcher_that_cannot_start_is_dropped_and_its_choice_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logind, saver = Watcher("logind"), Watcher("screensaver", refuse=True)
    edge = make_edge(
        watchers=[logind, saver],
        choices=[
            Choice("session", "logind", True, "sleep and lock"),
            Choice("session", "screensaver", True, "lock from org.gnome.ScreenSaver"),
        ],
    )
    seen: list[Observation] = []
    with caplog.at_level(logging.WARNING, "ergobreak.platform"):
        edge.start(seen.append)
    assert edge.watchers == [logind]
    assert [(c.name, c.ok, c.detail) for c in edge.choices] == [
        ("logind", True, "sleep and lock"),
        ("screensaver", False, "could not start: AddMatch refused"),
    ]
    assert caplog.messages == ["screensaver watcher could not start: AddMatch refused"]
    assert logind.emit is not None
    logind.emit(ScreenLocked())
    logind.emit(ScreenLocked())  # through the de-duplicating filter
    assert seen == [ScreenLocked()]


def test_slept_reads_the_backstop_once_per_call() -> None:
    clocks = {"steady": 100.0, "boot": 100.0}
    edge = make_edge(timejump=TimeJump(lambda: clocks["steady"], lambda: clocks["boot"]))
    clocks["boot"] += 600  # ten minutes asleep: the steady clock stood still
    assert edge.slept() == 600
    assert edge.slept() is None  # measured once, not again at the next wake-up


class FakeConnection:
    """A shared connection the test loses (and brings back) by hand."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.lost_hooks: list[Callable[[str], None]] = []
        self.back_hooks: list[Callable[[], None]] = []
        self.kept = False
        self.closed = False

    def on_lost(self, hook: Callable[[str], None]) -> None:
        self.lost_hooks.append(hook)

    def close(self) -> None:
        self.closed = True

    def lose(self, reason: str) -> None:
        for hook in self.lost_hooks:
            hook(reason)


class FakeLink(FakeConnection):
    def keep_connected(self) -> None:
        self.kept = True

    def on_back(self, hook: Callable[[], None]) -> None:
        self.back_hooks.append(hook)

    def come_back(self) -> None:
        for hook in self.back_hooks:
            hook()


def started(**connections: FakeConnection) -> tuple[Edge, list[Lost]]:
    losses: list[Lost] = []
    edge = make_edge(connections=connections, idle=FailingIdle(), quiet=[FakeQuiet("x")])
    edge.start(lambda _event: None, on_lost=losses.append)
    return edge, losses


@pytest.mark.parametrize(
    ("name", "label"),
    [("display", "the X display :7"), ("session bus", "the session D-Bus at unix:path=/b")],
)
def test_losing_the_display_or_the_session_bus_ends_the_session_said_once(
    name: str, label: str, caplog: pytest.LogCaptureFixture
) -> None:
    connection = FakeLink(label)
    edge, losses = started(**{name: connection})
    with caplog.at_level(logging.WARNING, "ergobreak.platform"):
        connection.lose("reset")
        connection.lose("reset")  # both ways of noticing (watcher, failed query)
        edge.quiet[0].broken = True  # type: ignore[attr-defined]
        assert edge.read_idle() is None  # the adapters on it fail too: not said again
        assert edge.quiet_changes() == []
    message = f"{label} went away; ergobreak stops with the session"
    assert losses == [Lost(name, message, ends_session=True)]
    assert edge.ended == losses[0]
    assert [r.getMessage() for r in caplog.records] == [message]
    assert not connection.kept  # nothing to reconnect to: the session is over
    edge.close()
    assert connection.closed


def test_losing_the_system_bus_reconnects_and_says_when_it_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = FakeLink("the system D-Bus at unix:path=/s")
    edge, losses = started(**{"system bus": link})
    assert link.kept
    with caplog.at_level(logging.WARNING, "ergobreak.platform"):
        link.lose("Socket closed at the other end")
        link.come_back()
    assert losses == [
        Lost(
            "system bus",
            "lost the system D-Bus at unix:path=/s (Socket closed at the other end);"
            " reconnecting (sleep and lock signals are missed meanwhile)",
            ends_session=False,
        )
    ]
    assert edge.ended is None
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == losses[0].message
    assert re.fullmatch(r"the system D-Bus at unix:path=/s is back after \d+ s", lines[1])
    assert len(lines) == 2


def test_calls_turned_off_on_reload_end_the_call_and_stop_reading() -> None:
    camera, inhibit = FakeSeated("camera", "call", on=True), FakeSeated("inhibit", "watching")
    edge = make_edge(seated=[camera, inhibit])
    assert edge.quiet_changes() == [Seated("call", True)]
    edge.set_calls(False)
    camera.broken = True  # never read again: no warning either
    assert edge.quiet_changes() == [Seated("call", False)]
    inhibit.on = True
    assert edge.quiet_changes() == [Seated("watching", True)]
    camera.broken = False
    edge.set_calls(True)
    assert edge.quiet_changes() == [Seated("call", True)]
