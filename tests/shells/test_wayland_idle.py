"""The Wayland idle source on real compositors: sway 1.7 (``org_kde_kwin_idle`` only) and
KWin 5.27 (``ext_idle_notifier_v1`` and ``org_kde_kwin_idle``).

Input goes through each compositor's own path, so it resets the same idle timers a
keyboard does: ``wtype`` (virtual keyboard protocol) on sway, KWin's fake input protocol
(:class:`shells.kde.Hands`) on KDE Plasma. The truth a reading is held to is when the
last key went out: between the start and the end of the ``wtype`` run (it waits for
sway's answer before it exits), or of the fake-input command (answered once KWin has
handled it).

Figures (printed; ``-s`` shows them): a reading's distance from the truth 2 s after T,
how long ``resumed`` takes to wake the daemon, and how often the reader thread wakes
while the user types steadily.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from desktop.rig import wait_for

from ergobreak.daemon.logs import LOG_NAME
from ergobreak.platform.base import Unavailable
from ergobreak.platform.edge import Lost
from ergobreak.platform.select import open_edge
from ergobreak.platform.wayland import WaylandDisplay
from ergobreak.platform.wayland_idle import NOTICE_AFTER, Flavour, WaylandIdle

from .kde import SOCKET as KDE_SOCKET
from .kde import Kde
from .sway import Sway

#: how far a reading may be from the truth
WITHIN = 0.5
#: open only the idle source and its connection: the D-Bus adapters are not the point
#: here (the shells' own tests run them), and a loss must be the compositor's alone
IDLE_ONLY = {
    "ERGOBREAK_NOTIFIER": "console",
    "ERGOBREAK_SESSION": "none",
    "ERGOBREAK_QUIET": "none",
    "ERGOBREAK_SEATED": "none",
}
#: keys this far apart are steady typing (well below T)
KEY_GAP = 0.3

#: type_for(seconds): press keys KEY_GAP apart for about that long (one key if shorter);
#: returns when the last key went out, as (no earlier than, no later than)
Typist = Callable[[float], tuple[float, float]]


def check_idle_after_a_pause(idles: list[WaylandIdle], type_for: Typist) -> float:
    """Input, then none: every source reads 0 below T and the true idle time after it.
    Returns the largest distance from the truth of a reading 2 s after T."""

    def all_idle() -> bool:
        return all(idle.idle_seconds() > 0 for idle in idles)

    wait_for(all_idle, NOTICE_AFTER + 3, what="idle before the input")
    first, last = type_for(0)
    wait_for(lambda: not any(i.idle_seconds() for i in idles), 2, what="the input seen")
    time.sleep(NOTICE_AFTER - 1.5)  # measuring a pause: nothing to wait for but time
    assert [idle.idle_seconds() for idle in idles] == [0.0] * len(idles)  # below T
    wait_for(all_idle, 3, what="idled after T")
    time.sleep(2.0)
    worst = 0.0
    for idle in idles:
        now = time.monotonic()
        reading = idle.idle_seconds()
        assert now - last - WITHIN <= reading <= now - first + WITHIN, (idle.name, reading)
        worst = max(worst, abs(reading - (now - (first + last) / 2)), key=abs)
    return worst


def check_wake_on_activity(idles: list[WaylandIdle], type_for: Typist) -> float:
    """Armed while the user is away, the first input calls back within 1 s; returns the
    slowest, from when the key went out."""
    woke: dict[str, float] = {}

    def waker(name: str) -> Callable[[], None]:
        def woken() -> None:
            woke.setdefault(name, time.monotonic())

        return woken

    for idle in idles:
        assert idle.idle_seconds() > NOTICE_AFTER  # as when the daemon arms it: away
        idle.wake_on_activity(waker(idle.name))
    first, _last = type_for(0)
    wait_for(lambda: len(woke) == len(idles), 2, what="resumed to call back")
    latency = max(woke.values()) - first
    assert latency < 1.0, woke
    assert [idle.idle_seconds() for idle in idles] == [0.0] * len(idles)
    return latency


def count_wakeups_while_typing(
    display: WaylandDisplay, idles: list[WaylandIdle], type_for: Typist, other_events: int
) -> int:
    """The reader's wake-ups over 6 s of steady typing: no idle event at all, at most
    ``other_events`` of the compositor's own. Then one pause longer than T costs each
    source exactly two events (idled, resumed). Returns the steady figure."""
    events = [idle.events for idle in idles]
    wakeups = display.wakeups
    type_for(6.0)
    steady = display.wakeups - wakeups
    assert [idle.events for idle in idles] == events, "steady typing woke the reader"
    assert steady <= other_events, steady
    events = [idle.events for idle in idles]
    wait_for(lambda: all(i.idle_seconds() > 0 for i in idles), NOTICE_AFTER + 3, what="a pause")
    type_for(0)
    wait_for(lambda: not any(i.idle_seconds() for i in idles), 2, what="the input after it")
    assert [idle.events - e for idle, e in zip(idles, events, strict=True)] == [2] * len(idles)
    return steady


def measure(
    env: dict[str, str], flavours: list[Flavour], type_for: Typist, other_events: int
) -> tuple[float, float, int]:
    """The three checks above on one connection with a source per flavour: (reading's
    distance from the truth, wake-up latency, reader wake-ups while typing)."""
    display = WaylandDisplay.open(env)
    idles = [WaylandIdle(display, flavour) for flavour in flavours]
    try:
        error = check_idle_after_a_pause(idles, type_for)
        latency = check_wake_on_activity(idles, type_for)
        steady = count_wakeups_while_typing(display, idles, type_for, other_events)
    finally:
        for idle in idles:
            idle.close()
        display.close()
    return error, latency, steady


def check_killed(env: dict[str, str], kill: Callable[[], bool], display_name: str) -> None:
    """The edge open on the compositor, which is killed: its loss is said once as the
    session's end, and idle readings are unavailable from then on."""
    edge = open_edge(lambda _r: None, env={**env, **IDLE_ONLY}, platform="linux")
    losses: list[Lost] = []
    try:
        edge.start(lambda _e: None, on_lost=losses.append)
        assert edge.read_idle() == 0.0
        assert kill()
        wait_for(lambda: bool(losses), 5, what="the loss to be heard")
        assert losses == [
            Lost(
                "wayland display",
                f"the Wayland display {display_name} went away; ergobreak stops with the session",
                ends_session=True,
            )
        ]
        with pytest.raises(Unavailable, match="is gone: the compositor closed the connection"):
            edge.idle.idle_seconds()
        assert edge.read_idle() is None
        assert not edge.wake_on_activity(lambda: None)
    finally:
        edge.close()


@dataclass(frozen=True)
class Picked:
    """What the edge picked for idle in a session, and what it read at once."""

    name: str
    ok: bool
    detail: str
    tried: dict[str, str]
    wakes: bool
    reading: float | None


def idle_picked(env: dict[str, str], **overrides: str) -> Picked:
    edge = open_edge(lambda _r: None, env={**env, **IDLE_ONLY, **overrides}, platform="linux")
    try:
        choice = next(c for c in edge.choices if c.role == "idle")
        reading = edge.read_idle()
        tried = dict(choice.tried)
        return Picked(
            choice.name, choice.ok, choice.detail, tried, edge.can_wake_on_activity, reading
        )
    finally:
        edge.close()


# --------------------------------------------------------------------------- sway


@pytest.fixture(scope="module")
def sway() -> Iterator[Sway]:
    with Sway() as shell:
        yield shell


def type_on_sway(sway: Sway, seconds: float) -> tuple[float, float]:
    """A :data:`Typist` through ``wtype`` (partial it with the session)."""
    keys = round(seconds / KEY_GAP)
    argv = ["wtype", "--", "x"] if keys <= 1 else ["wtype", "-d", "300", "--", "x" * keys]
    started = time.monotonic()
    sway.session.run(*argv)
    return started, time.monotonic()


def test_sway_picks_wayland_kde_and_says_why_not_ext(sway: Sway) -> None:
    picked = idle_picked(sway.session.env)
    assert (picked.name, picked.ok, picked.wakes, picked.reading) == ("wayland-kde", True, True, 0)
    assert "wakes on first input" in picked.detail
    assert f"org_kde_kwin_idle on {sway.wayland_display}: exact from 5 s" in picked.detail
    assert picked.tried.keys() == {"mutter", "wayland-ext"}
    assert picked.tried["wayland-ext"] == "the compositor offers no ext_idle_notifier_v1"


def test_sway_idle_time_wake_up_and_typing(sway: Sway) -> None:
    # Each wtype run adds and removes a virtual keyboard: the seat's capabilities change
    # twice (the previous run's removal may arrive in the window too), the only other
    # events the reader hears. A real keyboard stays put.
    error, latency, steady = measure(sway.session.env, ["kde"], partial(type_on_sway, sway), 3)
    print(
        f"\nsway wayland-kde: reading {error:+.3f} s from the truth; resumed woke "
        f"{latency * 1000:.0f} ms after wtype started; 6 s of typing: {steady} reader "
        "wake-ups, 0 idle events; a pause over T: 2 events"
    )


def test_sway_killed_is_the_session_end_and_idle_is_unavailable() -> None:
    with Sway() as shell:
        compositor = next(p for p in shell.session.procs if p.name == "sway")
        kill = lambda: compositor.signal(signal.SIGKILL)  # noqa: E731
        check_killed(shell.session.env, kill, shell.wayland_display)


def test_sway_daemon_sleeps_while_away_and_wakes_at_the_first_key(sway: Sway) -> None:
    """``ergobreak run`` on sway: away after ``idle_pause`` without input, no wake-up at
    all while away, and the first key wakes it (``resumed``), not a poll."""
    s = sway.session
    s.env.update(IDLE_ONLY)
    # away 6 s after the last key (a drill's start_after_idle must stay below it)
    config = """schema = 1
[schedule]
enabled = false
[activity]
idle_pause = "6s"
[drill]
start_after_idle = "3s"
"""
    daemon = s.run_ergobreak(config, "--no-tray")

    def status() -> dict[str, Any]:
        code, out, err = s.cli("status", "--json", "--personal")
        assert code == 0, err
        shown: dict[str, Any] = json.loads(out)
        return shown

    try:
        assert status()["config_error"] is None
        assert status()["backends"] == {
            "idle": "wayland-kde",
            "notifier": "console",
            "session": "timejump",
            "tray": "none",
        }
        sway.type_text("x")
        # each status call is a wake-up of its own (and a reading): ask every 0.5 s
        wait_for(lambda: status()["state"] == "away", 20, interval=0.5, what="away")
        before = status()["wakeups"]
        time.sleep(3.0)  # measuring a stretch without input: nothing to wait for
        asleep = status()["wakeups"]
        assert asleep == before + 1  # the status call itself: no wake-up while away
        sway.type_text("x")
        time.sleep(1.0)  # resumed must wake it within this second, unasked
        back = status()
        assert back["wakeups"] == asleep + 2, back  # the first key, then this call
        assert back["state"] == "working"
    finally:
        s.stop_proc(daemon)


def test_sway_killed_stops_the_daemon_with_one_line() -> None:
    """``ergobreak run`` on sway, picking the Wayland idle source, and sway killed under
    it: the one line, exit status 0 (the session bus is still there: the compositor's
    end alone stops it)."""
    with Sway() as shell:
        s = shell.session
        s.env.update(IDLE_ONLY)
        daemon = s.run_ergobreak("schema = 1\n[schedule]\nenabled = false\n", "--no-tray")
        code, out, _err = s.cli("status", "--json")
        assert code == 0
        assert json.loads(out)["backends"]["idle"] == "wayland-kde"
        compositor = next(p for p in s.procs if p.name == "sway")
        assert compositor.signal(signal.SIGKILL)
        wait_for(lambda: not daemon.alive(), 15, what="ergobreak to stop")
        assert daemon.popen is not None
        assert daemon.popen.wait(5) == 0
        log = Path(s.env["XDG_STATE_HOME"], "ergobreak", "log", LOG_NAME).read_text()
        line = (
            f"the Wayland display {shell.wayland_display} went away;"
            " ergobreak stops with the session"
        )
        assert log.count(line) == 1, log
        assert "Traceback" not in log, log
        assert log.rstrip().endswith("ergobreak stopped"), log


# --------------------------------------------------------------------------- KWin


@pytest.fixture(scope="module")
def kde() -> Iterator[Kde]:
    with Kde() as shell:
        yield shell


def type_on_kde(kde: Kde, seconds: float) -> tuple[float, float]:
    """A :data:`Typist` through KWin's fake input, from one device that stays for the
    session (as a keyboard does)."""
    if seconds < KEY_GAP:
        started = time.monotonic()
        kde.input.key()  # answered once KWin has handled it
        return started, time.monotonic()
    kde.input.typing(KEY_GAP)
    time.sleep(seconds)  # typing for that long: nothing to wait for but time
    kde.input.typing(None)
    return time.monotonic() - KEY_GAP, time.monotonic()


def test_kwin_picks_wayland_ext(kde: Kde) -> None:
    picked = idle_picked(kde.session.env)
    assert (picked.name, picked.ok, picked.wakes, picked.reading) == ("wayland-ext", True, True, 0)
    assert f"ext_idle_notifier_v1 on {KDE_SOCKET}: exact from 5 s" in picked.detail
    # on Wayland: Mutter (exact, GNOME), then the Wayland protocols, ext first
    assert list(picked.tried) == ["mutter"]
    forced = idle_picked(kde.session.env, ERGOBREAK_IDLE="wayland-kde")
    assert (forced.name, forced.ok) == ("wayland-kde", True)


def test_kwin_idle_time_wake_up_and_typing(kde: Kde) -> None:
    """Both protocols at once, on one connection: the same input drives them. The fake
    keyboard stays for the whole test: steady typing wakes the reader not once."""
    type_for = partial(type_on_kde, kde)
    error, latency, steady = measure(kde.session.env, ["ext", "kde"], type_for, 0)
    print(
        f"\nKWin wayland-ext and wayland-kde: reading {error:+.3f} s from the truth; resumed "
        f"woke {latency * 1000:.0f} ms after the key; 6 s of typing: {steady} reader "
        "wake-ups, 0 idle events; a pause over T: 2 events each"
    )


def test_kwin_killed_is_the_session_end_and_idle_is_unavailable() -> None:
    with Kde() as shell:
        compositor = next(p for p in shell.session.procs if p.name == "kwin_wayland")
        kill = lambda: compositor.signal(signal.SIGKILL)  # noqa: E731
        check_killed(shell.session.env, kill, KDE_SOCKET)
