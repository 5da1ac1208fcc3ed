"""Runtime choice of adapters, their fallbacks, and the small pieces the daemon drives.

Nothing here needs a desktop: the environment points at nothing on purpose (the
desktop suite proves the same choices against real X, D-Bus and dunst).
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest

from ergobreak.commands import Request
from ergobreak.platform import icons, select
from ergobreak.platform.base import (
    Action,
    Capabilities,
    Dismiss,
    Notification,
    Unavailable,
)
from ergobreak.platform.bubbles import Bubbles
from ergobreak.platform.console import ConsoleNotifier
from ergobreak.platform.edge import Choice, FallbackNotifier, WallClockIdle
from ergobreak.platform.plyer_notify import PlyerNotifier
from ergobreak.platform.select import open_edge
from ergobreak.platform.timejump import TimeJump

NOWHERE = {
    "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/session",
    "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/system",
}
NOTE = Notification(title="Posture check", body="Shoulders down", slot="posture")


def by_role(choices: list[Choice]) -> dict[str, Choice]:
    return {f"{c.role}:{c.name}" if c.role in ("session", "quiet") else c.role: c for c in choices}


# --------------------------------------------------------------------------- selection


def test_nothing_available_falls_back_everywhere_and_says_so() -> None:
    out = io.StringIO()
    edge = open_edge(lambda r: None, env=NOWHERE, platform="linux", stream=out)
    try:
        choices = by_role(edge.choices)
        idle = choices["idle"]
        assert (idle.name, idle.ok) == ("none", False)
        assert "wall-clock mode" in idle.detail
        assert [name for name, _ in idle.tried] == ["x11", "mutter", "screensaver"]
        assert "$DISPLAY is not set" in dict(idle.tried)["x11"]
        assert isinstance(edge.idle, WallClockIdle)
        assert edge.read_idle() == 0.0
        notifier = choices["notifier"]
        assert (notifier.name, notifier.ok) == ("console", False)
        assert "/nonexistent/session" in notifier.detail
        assert notifier.hint
        assert "notification daemon" in notifier.hint
        assert not choices["session:logind"].ok
        assert choices["session:timejump"].ok
        assert not choices["quiet:fullscreen"].ok
        assert not choices["quiet:dnd"].ok
        edge.notifier.show(NOTE)
        assert out.getvalue() == "[ergobreak] Posture check: Shoulders down\n"
        assert edge.quiet_changes() == []  # camera only: no device here
    finally:
        edge.close()


def test_wayland_never_guesses_x11_idle() -> None:
    env = {**NOWHERE, "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":99"}
    edge = open_edge(lambda r: None, env=env, platform="linux")
    try:
        idle = by_role(edge.choices)["idle"]
        assert [name for name, _ in idle.tried] == [
            "mutter",
            "wayland-ext",
            "wayland-kde",
            "screensaver",
        ]
        assert "XDG_RUNTIME_DIR is not set" in dict(idle.tried)["wayland-kde"]
        # doctor says why x11 is passed over; it was never opened (":99" has no server)
        passed = select.passed_over(idle, env, "linux")
        assert [name for name, _ in passed] == [
            "x11",
            "mutter",
            "wayland-ext",
            "wayland-kde",
            "screensaver",
        ]
        assert dict(passed)["x11"] == "Wayland session: Xwayland sees no input to Wayland windows"
        assert dict(passed)["mutter"] == dict(idle.tried)["mutter"]
    finally:
        edge.close()


def test_idle_names_every_other_candidate_and_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """doctor's "passed over" lines: the ones that failed, then the ones never tried."""

    def refused(ctx: object) -> WallClockIdle:
        raise Unavailable("no X server answers")

    openers = {**select.IDLE_OPENERS, "x11": refused, "mutter": lambda ctx: WallClockIdle()}
    monkeypatch.setattr(select, "IDLE_OPENERS", openers)
    edge = open_edge(lambda r: None, env=NOWHERE, platform="linux", stream=io.StringIO())
    try:
        idle = by_role(edge.choices)["idle"]
        assert (idle.name, idle.ok) == ("mutter", True)
        assert idle.tried == (("x11", "no X server answers"),)
        passed = select.passed_over(idle, NOWHERE, "linux")
        assert passed == (
            ("x11", "no X server answers"),
            ("wayland-ext", "X11 session: the Wayland idle protocols are not there"),
            ("wayland-kde", "X11 session: the Wayland idle protocols are not there"),
            ("screensaver", "not tried: mutter comes first"),
        )
        assert "windows" not in dict(passed)  # another OS's source is no candidate
        forced = {**NOWHERE, "ERGOBREAK_IDLE": "mutter"}
        assert select.passed_over(idle, forced, "linux") == idle.tried
        windows = Choice("idle", "windows", True, "auto")
        assert select.passed_over(windows, {}, "win32") == ()
    finally:
        edge.close()


@pytest.mark.parametrize(
    ("platform", "idle", "notifier"),
    [("win32", "windows", "plyer"), ("darwin", "macos", "plyer")],
)
def test_other_platforms_try_their_own_adapters(platform: str, idle: str, notifier: str) -> None:
    edge = open_edge(lambda r: None, env=NOWHERE, platform=platform, stream=io.StringIO())
    try:
        choices = by_role(edge.choices)
        assert choices["idle"].tried[0][0] == idle
        assert "not " in choices["idle"].tried[0][1]  # "not Windows" / "not macOS"
        # plyer is installed, so it is picked even here; it would only fail at show time
        assert choices["notifier"].name == notifier
        assert not any(c.role == "session" and c.name == "logind" for c in edge.choices)
    finally:
        edge.close()


def test_overrides() -> None:
    env = {
        **NOWHERE,
        "ERGOBREAK_IDLE": "none",
        "ERGOBREAK_NOTIFIER": "console",
        "ERGOBREAK_SESSION": "none",
        "ERGOBREAK_QUIET": "none",
        "ERGOBREAK_SEATED": "camera",
    }
    edge = open_edge(lambda r: None, env=env, platform="linux")
    try:
        assert [(c.role, c.name, c.ok) for c in edge.choices] == [
            ("idle", "none", True),
            ("notifier", "console", True),
            ("session", "timejump", True),
            ("seated", "camera", True),
        ]
        assert "ERGOBREAK_IDLE=none" in edge.choices[0].detail
    finally:
        edge.close()


def test_unknown_override_names_the_choices() -> None:
    env = {
        **NOWHERE,
        "ERGOBREAK_IDLE": "wayland",
        "ERGOBREAK_NOTIFIER": "toast",
        "ERGOBREAK_SESSION": "systemd",
        "ERGOBREAK_QUIET": "meeting",
    }
    edge = open_edge(lambda r: None, env=env, platform="linux", stream=io.StringIO())
    try:
        choices = by_role(edge.choices)
        assert (
            "unknown idle source 'wayland'; choose from x11, mutter" in choices["idle"].tried[0][1]
        )
        assert choices["notifier"].tried == (
            ("toast", "unknown notifier 'toast'; choose from freedesktop, plyer, console"),
        )
        assert choices["session:systemd"].detail == (
            "unknown session watcher 'systemd'; choose from logind, screensaver"
        )
        assert "choose from fullscreen, dnd, windows_busy" in choices["quiet:meeting"].detail
    finally:
        edge.close()


def test_override_names_are_the_opener_tables_as_documented() -> None:
    """Each role's names come from its table of openers; the module and
    docs/platforms.md list the same names, in the same order."""
    tables: dict[str, tuple[tuple[str, ...], Mapping[str, object]]] = {
        "ERGOBREAK_IDLE": (select.IDLE_NAMES, select.IDLE_OPENERS),
        "ERGOBREAK_NOTIFIER": (select.NOTIFIER_NAMES, select.NOTIFIER_OPENERS),
        "ERGOBREAK_SESSION": (select.SESSION_NAMES, select.SESSION_OPENERS),
        "ERGOBREAK_QUIET": (select.QUIET_NAMES, select.QUIET_OPENERS),
        "ERGOBREAK_SEATED": (select.SEATED_NAMES, select.SEATED_OPENERS),
    }
    assert select.IDLE_NAMES[-1] == "none"  # wall-clock mode: the one name without an opener
    docs = (Path(__file__).parent.parent / "docs" / "platforms.md").read_text()
    for key, (names, openers) in tables.items():
        assert [n for n in names if n != "none"] == list(openers), key
        for text in (select.__doc__ or "", docs):
            match = re.search(rf"{key}=([a-z0-9_,| -]+)", text)
            assert match is not None, key
            listed = [n.strip() for n in re.split(r"[|,]", match.group(1))]
            assert [n for n in listed if n != "none"] == list(openers), (key, listed)


def test_choice_json() -> None:
    choice = Choice("idle", "none", False, "wall-clock", "hint", (("x11", "no display"),))
    assert choice.to_json() == {
        "role": "idle",
        "name": "none",
        "ok": False,
        "detail": "wall-clock",
        "hint": "hint",
        "tried": [{"name": "x11", "reason": "no display"}],
    }


# --------------------------------------------------------------------------- notifiers


class FlakyNotifier:
    name = "freedesktop"
    capabilities = Capabilities(actions=True, replace=True)

    def __init__(self) -> None:
        self.down = False
        self.shown: list[tuple[int, str]] = []
        self.closed: list[int] = []
        self.last = 0

    def show(self, note: Notification) -> int:
        return self.update(0, note)

    def update(self, handle: int, note: Notification) -> int:
        if self.down:
            raise Unavailable("ServiceUnknown")
        if not handle:
            self.last += 1
            handle = self.last
        self.shown.append((handle, note.title))
        return handle

    def close(self, handle: int) -> None:
        self.closed.append(handle)

    def stop(self) -> None:
        pass


def test_fallback_notifier_warns_once_then_recovers(caplog: pytest.LogCaptureFixture) -> None:
    primary, out = FlakyNotifier(), io.StringIO()
    notifier = FallbackNotifier(primary, ConsoleNotifier(out))
    assert notifier.show(NOTE) == 1
    primary.down = True
    with caplog.at_level(logging.WARNING, "ergobreak.platform"):
        first = notifier.show(NOTE)
        second = notifier.update(first, Notification(title="Step 2"))
        primary.down = False
        third = notifier.update(second, Notification(title="Step 3"))
    assert (first, second) == (-1, -2)
    assert third == 2  # a console handle is never sent to the server as replaces_id
    assert out.getvalue() == "[ergobreak] Posture check: Shoulders down\n[ergobreak] Step 2\n"
    assert [r.getMessage() for r in caplog.records] == [
        "freedesktop notifications failed (ServiceUnknown); printing them instead until it is back",
        "freedesktop notifications work again",
    ]
    notifier.close(first)
    notifier.close(third)
    assert primary.closed == [2]


def test_console_notifier_names_the_commands_behind_buttons() -> None:
    out = io.StringIO()
    note = Notification(
        title="2-minute drill",
        body="Line one\nLine two",
        actions=(
            Action("start", "Start now", Request("start")),
            Action("skip", "Skip", Request("skip")),
        ),
    )
    console = ConsoleNotifier(out)
    assert console.show(note) == 1
    assert console.update(1, note) == 2
    assert out.getvalue().splitlines()[0] == (
        "[ergobreak] 2-minute drill: Line one / Line two (ergobreak start, ergobreak skip)"
    )


def test_plyer_notifier_runs_off_the_calling_thread() -> None:
    calls: list[tuple[str, dict[str, object]]] = []
    release = threading.Event()
    done = threading.Event()

    def blocking_notify(**kwargs: object) -> None:
        release.wait(5)  # like plyer's Windows balloon, which blocks while shown
        calls.append((threading.current_thread().name, kwargs))
        if len(calls) == 2:
            done.set()

    notifier = PlyerNotifier(blocking_notify)
    assert notifier.capabilities.actions is False
    assert notifier.show(Notification(title="one", body="b", icon="posture", timeout=5)) == 1
    assert notifier.update(1, Notification(title="two")) == 2  # returned while blocked
    assert calls == []
    release.set()
    assert done.wait(5)
    notifier.stop()
    assert [(name, kw["title"]) for name, kw in calls] == [
        ("ergobreak-plyer", "one"),
        ("ergobreak-plyer", "two"),
    ]
    assert calls[0][1]["message"] == "b"
    assert calls[0][1]["timeout"] == 5
    assert str(calls[0][1]["app_icon"]).endswith("posture.png")


def test_plyer_worker_survives_a_failing_call(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[object] = []

    def notify(**kwargs: object) -> None:
        seen.append(kwargs["title"])
        if kwargs["title"] == "bad":
            raise OSError("Shell_NotifyIconW failed")

    notifier = PlyerNotifier(notify)
    with caplog.at_level(logging.ERROR, "ergobreak.platform"):
        notifier.show(Notification(title="bad"))
        notifier.show(Notification(title="good"))
        notifier.stop()
    assert seen == ["bad", "good"]
    assert "plyer could not show 'bad'" in caplog.text


class RecordingNotifier(FlakyNotifier):
    def __init__(self, replace: bool) -> None:
        super().__init__()
        self.capabilities = Capabilities(replace=replace)
        self.updates: list[int] = []

    def update(self, handle: int, note: Notification) -> int:
        if handle:
            self.updates.append(handle)
        return super().update(handle, note)


def test_bubbles_update_one_bubble_per_slot() -> None:
    notifier = RecordingNotifier(replace=True)
    bubbles = Bubbles(notifier)
    a = bubbles.apply(Notification(title="prompt", slot="drill"))
    b = bubbles.apply(Notification(title="step 1", slot="drill"))
    c = bubbles.apply(Notification(title="posture", slot="posture"))
    assert a == b == 1
    assert c == 2
    assert notifier.updates == [1]
    assert bubbles.apply(None) is None
    bubbles.apply(Dismiss("drill"))
    bubbles.apply(Dismiss("drill"))  # nothing left to close: no second close
    assert notifier.closed == [1]
    bubbles.clear()
    assert notifier.closed == [1, 2]


def test_bubbles_without_replace_show_a_new_one() -> None:
    notifier = RecordingNotifier(replace=False)
    bubbles = Bubbles(notifier)
    handles = [bubbles.apply(Notification(title=f"step {i}", slot="drill")) for i in range(3)]
    assert handles == [1, 2, 3]
    assert notifier.updates == []


# --------------------------------------------------------------------------- the rest


def test_timejump_reports_only_time_lost_to_sleep() -> None:
    clocks = {"steady": 100.0, "ref": 5000.0}
    jump = TimeJump(lambda: clocks["steady"], lambda: clocks["ref"], threshold=30)
    clocks["steady"] += 60
    clocks["ref"] += 60
    assert jump.check() is None  # both clocks ran: awake
    clocks["steady"] += 60
    clocks["ref"] += 60 + 3600
    assert jump.check() == 3600  # the reference ran on while steady stopped
    clocks["ref"] -= 600  # wall clock set back (fallback pair): not sleep
    assert jump.check() is None
    clocks["ref"] += 20
    assert jump.check() is None  # under the threshold: NTP slew, scheduling jitter


def test_default_timejump_clocks_here() -> None:
    jump = TimeJump()
    assert jump.detail == "CLOCK_MONOTONIC vs CLOCK_BOOTTIME"
    assert jump.check() is None


def test_icons_are_drawn_once_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    from ergobreak.core.content import CATEGORIES

    assert {f"drill-{c}" for c in CATEGORIES} <= set(icons.ICON_IDS)
    path = Path(icons.resolve("drill-hinge"))
    assert path == tmp_path / "ergobreak" / "icons" / "drill-hinge.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stamp = path.stat().st_mtime_ns
    assert icons.resolve("drill-hinge") == str(path)
    assert path.stat().st_mtime_ns == stamp
    assert icons.resolve(None) == icons.resolve("no-such-icon") == ""
    assert icons.resolve("/usr/share/icons/x.png") == "/usr/share/icons/x.png"


def test_icons_never_cost_the_notification(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert icons.resolve("posture") == ""


def test_calls_off_never_opens_the_camera() -> None:
    """``quiet.calls = false``: the camera and microphone are not opened, and the
    choices say why (doctor prints it)."""
    env = {**NOWHERE, "ERGOBREAK_SEATED": "camera"}
    edge = open_edge(lambda r: None, env=env, platform="linux", calls=False)
    try:
        assert edge.seated == []
        seated = [c for c in edge.choices if c.role == "seated"]
        assert [(c.name, c.ok, c.detail) for c in seated] == [
            ("camera", False, "not checked: quiet.calls = false")
        ]
    finally:
        edge.close()
    edge = open_edge(lambda r: None, env=env, platform="linux")
    try:
        assert [d.name for d in edge.seated] == ["camera"]
    finally:
        edge.close()
