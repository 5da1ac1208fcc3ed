"""ergobreak run, end to end, on the headless desktop: real X input, real dunst, the
real SNI host, the real CLI. Intervals are seconds long so each test takes seconds."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress  # type: ignore[import-untyped]
from scaffold import builtin_drill
from scaffold import cli as run_cli
from shells.monitor import Message, Monitor

from ergobreak.core.playback import reading_seconds
from ergobreak.tray.model import headline, state_from_status

from .rig import Proc, Rig, wait_for

CONFIG = """\
schema = 1
[activity]
idle_pause = "6s"
natural_break = "15s"
prompt_gap = "2s"
[posture]
every = "10s"
[drill]
every = "24s"
start_after_idle = "3s"
prelude = "5s"
snooze = "6s"
max_snoozes = 1
[quiet]
catch_up_delay = "1s"
[schedule]
enabled = false
"""
NOTIFICATIONS = "org.freedesktop.Notifications"
#: what the bus monitor keeps: notification calls and signals, and every reply
MONITOR_RULES = (f"interface='{NOTIFICATIONS}'", "type='method_return'")
WATCHER = DBusAddress(
    "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"
)


class Typist:
    """A user at the keyboard: real X input (xdotool) every ``every`` seconds."""

    def __init__(self, rig: Rig, every: float = 0.7) -> None:
        self.rig = rig
        self.every = every
        self.typing = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._x = int(time.monotonic() * 1000) % 300
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            if self.typing.is_set():
                self.move()

    def move(self) -> None:
        # always somewhere new: xdotool --sync waits for the pointer to actually move
        with self._lock:
            self._x = (self._x + 7) % 300
            self.rig.mouse_move(300 + self._x, 300 + self._x % 11)

    def start(self) -> None:
        self.move()
        self.typing.set()

    def pause(self) -> None:
        self.typing.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


class Daemon:
    def __init__(self, rig: Rig, home: Path) -> None:
        self.rig = rig
        self.home = home
        self.config = home / "config.toml"
        self.config.write_text(CONFIG)
        self.proc: Proc | None = None

    def start(self, *extra: str) -> Proc:
        argv = [sys.executable, "-m", "ergobreak", "run", "--config", str(self.config), *extra]
        self.proc = self.rig.launch("ergobreak", argv)
        wait_for(lambda: self.cli("status")[0] == 0, 10, interval=0.05, what="the daemon's IPC")
        return self.proc

    def stop(self) -> None:
        self.rig.stop("ergobreak")

    def cli(self, *args: str) -> tuple[int, str, str]:
        """``ergobreak ARGS`` in this process, talking to the daemon over IPC."""
        return run_cli(*args)

    def status(self) -> dict[str, Any]:
        code, out, err = self.cli("status", "--json", "--personal")
        assert code == 0, err
        return dict(json.loads(out))

    def log(self) -> str:
        return self.rig.log_path("ergobreak").read_text(errors="replace")


@pytest.fixture
def daemon(desktop: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Daemon]:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("ERGOBREAK_CONFIG", raising=False)
    d = Daemon(desktop, tmp_path)
    yield d
    if desktop.is_running("ergobreak"):
        d.stop()


@pytest.fixture
def typist(desktop: Rig) -> Iterator[Typist]:
    t = Typist(desktop)
    yield t
    t.close()


FIRST_RUN = "ergobreak history"  # the one-time notice about where history lives


def ours(rig: Rig) -> list[dict[str, Any]]:
    """This test's notifications, leaving out the first-run history notice."""
    return [n for n in rig.history() if n["summary"] != FIRST_RUN]


def arrivals(
    rig: Rig, summary: str, timeout: float, body: str = ""
) -> tuple[float, dict[str, Any]]:
    """Wait for a notification whose summary (and body) contain the given text;
    return (time seen, entry)."""
    seen: dict[str, Any] = {}

    def arrived() -> bool:
        if rig.dunst_property("displayedLength") == 0:
            return False
        rig.close_all_notifications()
        for entry in ours(rig):
            if summary in entry["summary"] and body in entry["body"]:
                seen.update(entry)
                return True
        return False

    wait_for(arrived, timeout, interval=0.05, what=f"a {summary!r} notification")
    return time.monotonic(), seen


def test_prompts_arrive_on_time_and_drill_steps_update_in_place(
    desktop: Rig, daemon: Daemon, typist: Typist
) -> None:
    typist.start()
    daemon.start()
    due = time.monotonic() + daemon.status()["next_posture_in"]
    seen, posture = arrivals(desktop, "Posture check", 20)
    assert abs(seen - due) <= 2.0, f"posture check {seen - due:+.2f} s from its due time"
    assert "20 s" in posture["body"] or "6 m" in posture["body"]  # the eye cue follows

    due = time.monotonic() + daemon.status()["next_drill_in"]
    seen, prompt = arrivals(desktop, "drill", 30)
    assert abs(seen - due) <= 2.0, f"drill prompt {seen - due:+.2f} s from its due time"
    assert "2-minute drill" in prompt["summary"]

    typist.pause()  # the user stands up: the drill starts 3 s later
    wait_for(lambda: daemon.status()["state"] == "drill", 10, what="the drill to start")
    wait_for(lambda: daemon.status().get("routine") is not None, 5)
    time.sleep(20)  # the safety note and a step or two go by in the one bubble
    assert desktop.dunst_property("displayedLength") == 1
    desktop.close_all_notifications()
    drill_entries = [n for n in desktop.history() if n["body"].startswith("Step ")]
    assert len(drill_entries) == 1, drill_entries
    assert "Step 1 of" in drill_entries[0]["body"] or "Step 2 of" in drill_entries[0]["body"]


def test_a_started_drill_shows_its_safety_note_first_and_long_enough_to_read(
    desktop: Rig, daemon: Daemon
) -> None:
    """``ergobreak start`` (no prompt before it): the first bubble dunst gets is the
    drill's safety note, and step 1 replaces it only after its reading time (>= 5 s),
    timed by a monitor on the rig's bus."""
    drill = builtin_drill("hipflexor_standing")  # first in the rotation
    safety = reading_seconds(drill.safety)
    with Monitor(desktop.bus_address, MONITOR_RULES) as monitor:
        daemon.start()
        owner = desktop.bus.call_bus("GetNameOwner", NOTIFICATIONS)[0]
        mark = monitor.mark()
        code, _, err = daemon.cli("start")
        assert code == 0, err

        server = (NOTIFICATIONS, owner)

        def ours(m: Message) -> bool:
            return bool(m.destination in server and m.body[3] == drill.title)

        first, step1 = monitor.wait(
            ours, since=mark, member="Notify", kind="method_call", count=2, timeout=safety + 10
        )[:2]
        # the safety note, alone, in the drill's bubble
        heading, *note = first.body[4].splitlines()
        assert heading == f"Before you start · 0:{safety:02.0f}"
        assert " ".join(" ".join(note).split()) == drill.safety
        nid = monitor.reply_to(first).body[0]
        assert nid > 0
        # step 1 updates that same bubble, no sooner than the note takes to read
        assert step1.body[4].startswith("Step 1 of 5")
        assert step1.body[1] == nid
        shown = step1.at - first.at
        print(f"\nsafety note on dunst for {shown:.2f} s (its reading time: {safety:g} s)")
        assert shown >= safety - 0.5 >= 5.0, f"the safety note was on screen {shown:.2f} s"
        assert shown <= safety + 2.0, f"step 1 came {shown:.2f} s after the safety note"
        # and nothing closed or replaced it on the server in between
        between = [
            m
            for m in monitor.messages(since=mark)
            if first.at < m.at < step1.at
            and (
                (m.member == "NotificationClosed" and m.body[0] == nid)
                or (m.member in ("Notify", "CloseNotification") and m.destination in server)
            )
        ]
        assert between == [], [str(m) for m in between]
        assert daemon.status()["state"] == "drill"


def test_the_icon_registers_with_the_tray_host_and_menu_actions_work(
    desktop: Rig, daemon: Daemon, sni_host: Rig
) -> None:
    proc = daemon.start()

    def item() -> str | None:
        items = desktop.bus.get_property(WATCHER, "RegisteredStatusNotifierItems")
        return next((i for i in items if f"-{proc.pid}-" in i), None)

    wait_for(item, 10, what="the SNI item")
    entry = item()
    assert entry is not None
    service = entry.split("/")[0]
    menu = DBusAddress("/MenuBar", service, "com.canonical.dbusmenu")

    def labels() -> list[str]:
        _rev, (_root, _props, children) = desktop.bus.call(
            menu, "GetLayout", "iias", 0, -1, ["label"]
        )
        return [props.get("label", ("s", ""))[1] for _s, (_i, props, _k) in children]

    # the full menu arrives with the engine's first state
    wait_for(lambda: any(label.startswith("Pause") for label in labels()), 5, what="the menu")

    def find(*path: str) -> int:
        _r, (_root, _p, kids) = desktop.bus.call(menu, "GetLayout", "iias", 0, -1, ["label"])
        node = -1
        for label in path:
            for _s, (child_id, props, grand) in kids:
                if props.get("label", ("s", ""))[1].replace("__", "_").startswith(label):
                    node, kids = child_id, grand
                    break
            else:
                raise AssertionError(f"no menu item {label!r}")
        return node

    desktop.bus.call(menu, "Event", "isvu", find("Pause", "30 min"), "clicked", ("s", ""), 0)
    wait_for(lambda: daemon.status()["state"] == "paused", 5, what="pause from the menu")
    # The menu follows the engine's state on the tray's own thread, a moment later.
    wait_for(lambda: "Resume" in labels(), 5, what="Resume in the menu")
    desktop.bus.call(menu, "Event", "isvu", find("Resume"), "clicked", ("s", ""), 0)
    wait_for(lambda: daemon.status()["state"] != "paused", 5, what="resume from the menu")
    # a screenshot shows the icon in the panel (not just an empty bar)
    shot = desktop.screenshot()
    from PIL import Image

    with Image.open(shot) as image:
        panel = image.convert("RGB").crop((0, 0, 200, 40))
        colours = len(panel.getcolors(1 << 16) or ())
    assert colours > 20, "the panel shows no icon"


def test_pause_silences_it(desktop: Rig, daemon: Daemon, typist: Typist) -> None:
    typist.start()
    daemon.start()
    code, said, err = daemon.cli("pause", "1m")
    assert code == 0, err
    time.sleep(14)  # a posture check would have come at 10 s
    desktop.close_all_notifications()
    assert ours(desktop) == []
    status = daemon.status()
    assert status["state"] == "paused"
    assert 40 <= status["paused_for"] <= 50
    # the command said until when, as the tray and `status` say it
    until = headline(state_from_status(status))
    assert re.fullmatch(r"Paused until (tomorrow )?\d\d:\d\d", until), until
    assert said == f"{until}.\n"
    assert daemon.cli("status")[1].splitlines()[0].endswith(f": {until}")
    code, said, _ = daemon.cli("resume")
    assert code == 0
    assert said.startswith("Resumed: "), said


def test_being_away_past_the_natural_break_restarts_the_timers(
    desktop: Rig, daemon: Daemon, typist: Typist
) -> None:
    typist.start()
    daemon.start()
    time.sleep(7)
    assert daemon.status()["next_posture_in"] <= 5
    typist.pause()
    wait_for(lambda: "natural_break" in daemon.log() or daemon.status()["state"] == "away", 10)
    time.sleep(17)  # more than natural_break (15 s) away
    typist.start()
    wait_for(lambda: daemon.status()["state"] == "working", 10)
    status = daemon.status()
    assert status["next_posture_in"] >= 8, status


def test_a_broken_config_keeps_the_old_one_and_a_fix_applies_live(
    desktop: Rig, daemon: Daemon
) -> None:
    daemon.start()
    daemon.config.write_text(CONFIG.replace('every = "24s"', 'every = "twenty"'))
    _, notice = arrivals(desktop, "config problem", 10)
    assert "drill.every" in notice["body"]
    status = daemon.status()
    assert status["config_error"] is not None
    assert "config.toml:9:" in status["config_error"]  # file:line of the bad value
    assert status["settings"]["drill_every"] == 24
    daemon.config.write_text(CONFIG.replace('every = "24s"', 'every = "40s"'))
    _, notice = arrivals(desktop, "ergobreak", 10, body="Settings updated")
    assert "drills every 40 s" in notice["body"]
    status = daemon.status()
    assert status["config_error"] is None
    assert status["settings"]["drill_every"] == 40


#: hostile configs (issue 14), each with where and what its diagnostic says; the
#: 48 MB one is written sparse
HOSTILE = [
    (CONFIG + "[x]\ny = " + "[" * 500 + "]" * 500 + "\n", "config.toml:19:35: error: nested"),
    (CONFIG + "[x]\n" + ".".join(["a"] * 1000) + " = 1\n", "config.toml:19:1: error: nested"),
    (CONFIG + "[x]\ny = " + "9" * 4400 + "\n", "config.toml:19:5: error: a value 4,400"),
    ("", "config.toml is 48 MB; the limit is 64 KB"),
]


def test_hostile_configs_saved_into_a_running_daemon_leave_it_prompting(
    desktop: Rig, daemon: Daemon, typist: Typist
) -> None:
    typist.start()
    proc = daemon.start()
    for text, says in HOSTILE:
        with daemon.config.open("w") as f:
            f.write(text)
            if not text:
                f.truncate(48 << 20)

        def reported(says: str = says) -> bool:
            return says in (daemon.status()["config_error"] or "")

        wait_for(reported, 10, what=f"the daemon to report {says!r}")
    arrivals(desktop, "config problem", 10)
    assert proc.alive()
    status = daemon.status()
    assert status["settings"]["drill_every"] == 24  # the settings in force stay
    desktop.mark_history()
    arrivals(desktop, "Posture check", 20)  # and it still prompts
    assert daemon.status()["config_error"] is not None


def test_config_edit_through_a_running_daemon(
    desktop: Rig, daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon.start()
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[-1])\n"
        "p.write_text(p.read_text().replace('every = \"10s\"', 'every = \"15s\"'))\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    code, out, err = daemon.cli("config", "edit", "--config", str(daemon.config))
    assert code == 0, err
    assert "Saved" in out
    _, notice = arrivals(desktop, "ergobreak", 10, body="Settings updated")
    assert "posture checks every 15 s" in notice["body"]
    assert daemon.status()["settings"]["posture_every"] == 15


def test_sigterm_saves_the_timers_and_a_restart_resumes_them(
    desktop: Rig, daemon: Daemon, typist: Typist
) -> None:
    typist.start()
    proc = daemon.start()
    time.sleep(6)
    left = daemon.status()["next_posture_in"]
    proc.signal(signal.SIGTERM)
    wait_for(lambda: not proc.alive(), 10, what="the daemon to exit on SIGTERM")
    assert (daemon.home / "state" / "ergobreak" / "state.json").exists()
    daemon.stop()
    daemon.start()
    resumed = daemon.status()["next_posture_in"]
    assert resumed <= left + 1.5, (left, resumed)
    assert resumed < 9


def test_a_second_instance_says_so_and_exits_nonzero(daemon: Daemon) -> None:
    daemon.start()
    second = subprocess.run(
        [sys.executable, "-m", "ergobreak", "run", "--config", str(daemon.config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert second.returncode != 0
    assert "already running" in second.stderr
    assert "ergobreak: ergobreak" not in second.stderr  # the prefix once


def test_a_call_is_desk_time_holds_the_drill_and_offers_it_after(
    desktop: Rig, daemon: Daemon, typist: Typist, pulse_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sitting is sitting (R9), end to end: a real recording client on a real audio
    server is a call. Without input through the call, no natural break is credited
    (the desk clock keeps counting past idle_pause + natural_break), the drill that
    falls due is held, and it is offered soon after the recording stops, with the
    call's length in its first line."""
    monkeypatch.setenv("PULSE_SERVER", pulse_server.env()["PULSE_SERVER"])
    monkeypatch.setenv("ERGOBREAK_SEATED", "microphone")
    typist.start()
    with Monitor(desktop.bus_address, MONITOR_RULES) as monitor:
        daemon.start()
        owner = desktop.bus.call_bus("GetNameOwner", NOTIFICATIONS)[0]
        recording = pulse_server.record(pulse_server.MICROPHONE)
        wait_for(lambda: daemon.status()["seated"] == ["call"], 10, what="the call")
        typist.pause()  # on the call, hands off the keyboard
        mark = monitor.mark()
        states: set[str] = set()

        def sat_long() -> bool:
            status = daemon.status()
            states.add(status["state"])
            # 30 s of desk time: past idle_pause (6 s) + natural_break (15 s), and
            # past the drill's interval (24 s)
            return float(status["desk_minutes"]) >= 0.5

        wait_for(sat_long, 45, interval=0.5, what="30 s of desk time through the call")
        status = daemon.status()
        assert "call" in status["quiet"], status
        assert "away" not in states, states
        assert "natural_break" not in daemon.log()
        server = (NOTIFICATIONS, owner)

        def drill_prompt(m: Message) -> bool:
            return bool(m.destination in server and "-minute drill" in m.body[3])

        assert monitor.messages(drill_prompt, since=mark) == []  # held through the call
        pulse_server.stop_client(recording)
        ended, ended_at = monitor.mark(), time.monotonic()
        (prompt,) = monitor.wait(
            drill_prompt, since=ended, member="Notify", kind="method_call", timeout=60
        )[:1]
        assert prompt.body[4].startswith("You sat through a "), prompt.body[4]
        print(f"\ndrill offered {prompt.at - ended_at:.1f} s after the call ended")
        assert prompt.at - ended_at <= 60
