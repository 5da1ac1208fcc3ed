"""ergobreak run, end to end, on the headless desktop: real X input, real dunst, the
real SNI host, the real CLI. Intervals are seconds long so each test takes seconds."""

from __future__ import annotations

import json
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
from scaffold import cli as run_cli

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
    time.sleep(20)  # two or three steps go by in the one bubble
    assert desktop.dunst_property("displayedLength") == 1
    desktop.close_all_notifications()
    drill_entries = [n for n in desktop.history() if n["body"].startswith("Step ")]
    assert len(drill_entries) == 1, drill_entries
    assert "Step 2 of" in drill_entries[0]["body"] or "Step 3 of" in drill_entries[0]["body"]


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
    code, _, err = daemon.cli("pause", "1m")
    assert code == 0, err
    time.sleep(14)  # a posture check would have come at 10 s
    desktop.close_all_notifications()
    assert ours(desktop) == []
    status = daemon.status()
    assert status["state"] == "paused"
    assert 40 <= status["paused_for"] <= 50
    code, _, _ = daemon.cli("resume")
    assert code == 0


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
