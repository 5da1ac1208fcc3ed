"""The running edge: its readers never raise, its wrappers merge and fall back, and
its watchers' events reach the daemon once."""

from __future__ import annotations

import io
import logging

import pytest
from platform_fakes import Watcher

from ergobreak.core.events import (
    Observation,
    Quiet,
    Resumed,
    ScreenLocked,
    ScreenUnlocked,
    Suspending,
)
from ergobreak.platform.base import Unavailable
from ergobreak.platform.console import ConsoleNotifier
from ergobreak.platform.edge import AnyOf, Choice, Edge, WallClockIdle, _Dedup
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


def test_failing_idle_source_reads_as_wall_clock_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    idle = FailingIdle()
    edge = make_edge(idle=idle)
    with caplog.at_level(logging.WARNING, "ergobreak.platform"):
        assert [edge.read_idle(), edge.read_idle()] == [0.0, 0.0]
        idle.fail = False
        assert edge.read_idle() == 12.5
        idle.fail = True
        assert edge.read_idle() == 0.0
    assert [r.getMessage() for r in caplog.records] == [
        "idle source flaky failed: display closed"
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
