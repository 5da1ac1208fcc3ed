"""ergobreak on GNOME Shell 43, end to end, in both flavours (Wayland headless, X11 on
Xvfb): one shell and one daemon per flavour, the tests in order are a user's session.

Input is the flavour's own path (Mutter RemoteDesktop, xdotool); the tray menu and the
banners' buttons are clicked where a screenshot shows them. Assertions are on the D-Bus
traffic between ergobreak, the ``org.gnome.Shell.Notifications`` proxy and gnome-shell,
on the screen, and on the daemon's own ``status`` and history. Intervals are seconds.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from desktop.rig import NOTIFICATIONS, SNI_WATCHER, Proc, wait_for
from jeepney import DBusAddress  # type: ignore[import-untyped]
from PIL import Image

from ergobreak.artwork.badge import BADGE, DIM_GLYPH, GLYPH, TRACK
from ergobreak.present import REFUSED

from .gnome import (
    BANNERS,
    FLAVOURS,
    IDLE_MONITOR,
    SCREEN,
    SHELL_NAME,
    TOP_BAR,
    Box,
    Gnome,
    banner,
    banner_buttons,
    colours_in,
    find_colour,
    label_box,
    text_rows,
    until,
)
from .monitor import Message, Monitor

CONFIG = """\
schema = 1
[activity]
idle_pause = "5s"
natural_break = "5m"
prompt_gap = "1s"
[posture]
every = "30m"
[drill]
every = "10s"
start_after_idle = "4s"
prelude = "30s"
snooze = "5s"
max_snoozes = 1
[quiet]
catch_up_delay = "1s"
[schedule]
enabled = false
[routines]
only = ["gnome_steps"]
"""
#: a custom drill (the shortest allowed lasts 60 s) whose first three steps go by fast,
#: each long enough for a screenshot on a busy machine
CONTENT = """\
schema = 1
[[drill]]
id = "gnome_steps"
title = "Steps on GNOME"
category = "mobility"
summary = "Four timed steps, to see each one shown."
tags = ["desk", "standing"]
safety = "Test content: nothing to do but watch."
steps = [
    { seconds = 5, text = "First: stand up beside your desk." },
    { seconds = 5, text = "Second: roll your shoulders back." },
    { seconds = 5, text = "Third: march on the spot." },
    { seconds = 45, text = "Fourth: sit back down slowly." },
]
"""
STEPS = 4
#: how long each step of CONTENT's drill lasts
STEP_SECONDS = [float(n) for n in re.findall(r"\{ seconds = (\d+),", CONTENT)]
WATCHER = DBusAddress("/StatusNotifierWatcher", SNI_WATCHER, SNI_WATCHER)
MENU_PATH = "/MenuBar"
#: what the monitor keeps: the traffic the tests look at, and every reply
RULES = (
    f"interface='{NOTIFICATIONS}'",
    "interface='com.canonical.dbusmenu'",
    f"interface='{SNI_WATCHER}'",
    "type='method_return'",
    "type='error'",
)


class Typist:
    """A user at the keyboard: one Shift press every ``every`` seconds while typing."""

    def __init__(self, gnome: Gnome, every: float = 0.7) -> None:
        self.gnome = gnome
        self.every = every
        self.typing = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="typist", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            if self.typing.is_set():
                self.gnome.input.key()

    def start(self) -> None:
        self.gnome.input.key()
        self.typing.set()

    def pause(self) -> None:
        self.typing.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


@dataclass(frozen=True)
class Entry:
    """A visible menu entry as the daemon's dbusmenu lays it out."""

    id: int
    label: str
    children: tuple[Entry, ...]


class Daemon:
    """``ergobreak run`` as the session's user, and what the bus saw of it."""

    def __init__(self, gnome: Gnome, proc: Proc, monitor: Monitor) -> None:
        self.gnome = gnome
        self.proc = proc
        self.monitor = monitor

    def cli(self, *args: str) -> str:
        code, out, err = self.gnome.session.cli(*args)
        assert code == 0, f"ergobreak {' '.join(args)}: {err}"
        return out

    def status(self) -> dict[str, Any]:
        return dict(json.loads(self.cli("status", "--json", "--personal")))

    def events(self, since: float = 0.0) -> list[dict[str, Any]]:
        """History events (``stats export``) at or after wall time ``since``."""
        events = json.loads(self.cli("stats", "export"))["events"]
        return [e for e in events if e["wall"] >= since]

    def is_ours(self, message: Message) -> bool:
        """The message came from one of the daemon's bus connections."""
        return self.gnome.pid_of(message.sender) == self.proc.pid

    def item(self) -> str | None:
        """The daemon's entry in GNOME's StatusNotifierWatcher ("service/path")."""
        items = self.gnome.session.bus.get_property(WATCHER, "RegisteredStatusNotifierItems")
        return next((i for i in items if f"-{self.proc.pid}-" in i), None)

    def menu(self) -> list[Entry]:
        """The visible top-level entries (no separators), with their submenus."""
        item = self.item()
        items = self.gnome.session.bus.get_property(WATCHER, "RegisteredStatusNotifierItems")
        assert item is not None, f"not in the watcher: {items}; daemon alive: {self.proc.alive()}"
        menu = DBusAddress(MENU_PATH, item.split("/")[0], "com.canonical.dbusmenu")
        _rev, layout = self.gnome.session.bus.call(
            menu, "GetLayout", "iias", 0, -1, ["label", "type", "visible"]
        )
        return _entries(layout[2])

    def notifies(
        self, since: int, summary: str = "", category: str = "", body: str = ""
    ) -> list[Message]:
        """Notify calls the daemon made (after mark ``since``)."""

        def wanted(m: Message) -> bool:
            hints = m.body[6]
            return (
                self.is_ours(m)
                and summary in m.body[3]
                and body in m.body[4]
                and (not category or hints.get("category", ("s", ""))[1] == category)
            )

        return self.monitor.messages(wanted, since=since, member="Notify", kind="method_call")

    def wait_notify(
        self,
        since: int,
        summary: str = "",
        category: str = "",
        body: str = "",
        timeout: float = 20.0,
    ) -> Message:
        found = wait_for(
            lambda: self.notifies(since, summary, category, body),
            timeout,
            what=f"Notify {summary or category or body!r}",
        )
        return found[-1]

    def notification_id(self, call: Message) -> int:
        reply = self.monitor.reply_to(call)
        assert reply.kind == "method_return", reply
        return int(reply.body[0])


def _entries(children: list[Any]) -> list[Entry]:
    out = []
    for _sig, (node, props, kids) in children:
        if props.get("type", ("s", ""))[1] == "separator":
            continue
        if not props.get("visible", ("b", True))[1]:
            continue
        label = props.get("label", ("s", ""))[1].replace("__", "_")
        out.append(Entry(node, label, tuple(_entries(kids))))
    return out


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def context_switches(pid: int) -> int:
    """Voluntary and involuntary context switches of every thread of ``pid``."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:
            continue  # a thread that just ended
        for line in text.splitlines():
            if "ctxt_switches:" in line:
                total += int(line.split()[1])
    return total


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=FLAVOURS)
def gnome(request: pytest.FixtureRequest) -> Iterator[Gnome]:
    """One GNOME Shell per flavour; tests leave it as they found it."""
    began = time.monotonic()
    with Gnome(request.param) as shell:
        print(f"\nGNOME {shell.flavour}: ready in {time.monotonic() - began:.2f} s {shell.timings}")
        yield shell


@pytest.fixture(scope="module")
def daemon(gnome: Gnome) -> Iterator[Daemon]:
    s = gnome.session
    s.write("home/.config/ergobreak/content/gnome-test.toml", CONTENT)
    monitor = s.monitor(RULES)
    proc = s.run_ergobreak(CONFIG)
    daemon = Daemon(gnome, proc, monitor)
    assert daemon.status()["config_error"] is None
    yield daemon
    s.stop_proc(proc)


@pytest.fixture
def typist(gnome: Gnome) -> Iterator[Typist]:
    t = Typist(gnome)
    yield t
    t.close()


def clear_banners(gnome: Gnome, typist: Typist, timeout: float = 20.0) -> None:
    """Type until no banner is on screen: GNOME hides one 2-4 s after the user is active,
    then shows the next queued one (the first-run notice, a posture check, ...)."""
    gnome.park_pointer()
    typist.start()
    try:
        wait_for(lambda: banner(gnome.screenshot()) is None, timeout, what="no banner on screen")
    finally:
        typist.pause()


# --------------------------------------------------------------------------- tests


def test_gnome_starts_with_its_tray_notifications_and_idle_monitor(gnome: Gnome) -> None:
    s = gnome.session
    comm = {}
    for name in (SHELL_NAME, SNI_WATCHER, NOTIFICATIONS, IDLE_MONITOR):
        pid = s.bus.owner_pid(name)
        assert s.belongs(pid), name
        comm[name] = Path(f"/proc/{pid}/comm").read_text().strip()
    assert comm[SHELL_NAME] == comm[SNI_WATCHER] == comm[IDLE_MONITOR] == "gnome-shell"
    assert comm[NOTIFICATIONS] == "gjs"  # the org.gnome.Shell.Notifications proxy
    assert not gnome.overview_active()
    gnome.input.key()
    assert gnome.idle_seconds() < 1.0  # the flavour's input reaches Mutter's idle monitor
    members = s.members()
    total = sum(rss_kib(p.pid) for p in members)
    print(
        f"\nGNOME {gnome.flavour}: {len(members)} processes, RSS {total / 1024:.0f} MiB "
        f"(gnome-shell {rss_kib(gnome.shell_pid) / 1024:.0f} MiB)"
    )


def test_the_tray_icon_registers_with_the_shell_and_is_drawn_in_the_top_bar(
    gnome: Gnome, daemon: Daemon
) -> None:
    register = daemon.monitor.wait(
        daemon.is_ours, member="RegisterStatusNotifierItem", kind="method_call", timeout=10
    )[0]
    assert gnome.pid_of(daemon.monitor.reply_to(register).sender) == gnome.shell_pid
    wait_for(lambda: daemon.item() is not None, 10, what="the item in GNOME's watcher")
    icon = until(lambda: tray_badge(gnome.screenshot()), 10, "the badge in the top bar")
    assert 10 <= icon.right - icon.left <= 28, icon  # the disc of a 16-32 px icon
    # the extension reads every property it knows of (the accessible name included)
    log = gnome.session.log_path("gnome-shell").read_text(errors="replace")
    assert "no property ('org.kde.StatusNotifierItem'" not in log


def test_a_click_on_the_tray_icon_opens_the_menu_and_its_entries_reach_the_engine(
    gnome: Gnome, daemon: Daemon
) -> None:
    dismiss_banners(gnome)  # the first-run notice sits where the menu opens
    fresh_drill_timer(daemon)
    daemon.cli("pause", "10m")  # timers frozen: no prompt can reshape the menu meanwhile
    click_entry(gnome, daemon, "Pause again", "30 minutes")
    wait_for(lambda: daemon.status()["paused_for"] > 1700, 5, what="a 30-minute pause")
    click_entry(gnome, daemon, "Resume")
    wait_for(lambda: daemon.status()["state"] != "paused", 5, what="resumed from the menu")


def test_a_posture_check_reaches_gnomes_notification_server_and_is_shown(
    gnome: Gnome, daemon: Daemon
) -> None:
    dismiss_banners(gnome)
    fresh_drill_timer(daemon)
    since = daemon.monitor.mark()
    click_entry(gnome, daemon, "Posture check now")
    call = daemon.wait_notify(since, "Posture check", timeout=10)
    server = daemon.monitor.reply_to(call)
    assert server.kind == "method_return", server
    assert server.sender == gnome.session.bus.call_bus("GetNameOwner", NOTIFICATIONS)[0]
    shell = gnome.session.bus.call_bus("GetNameOwner", SHELL_NAME)[0]
    forwarded = daemon.monitor.wait(
        lambda m: m.sender == server.sender and m.body[4] == call.body[4],
        since=since,
        member="Notify",
        destination=shell,
        timeout=5,
    )
    assert forwarded, "the proxy did not pass the posture check on to gnome-shell"
    shown = until(lambda: banner(gnome.screenshot()), 5, "the posture banner")
    assert shown.bottom - shown.top >= 60, shown  # a title and a body, not a sliver
    events = [e for e in daemon.events() if e["kind"] == "posture_check" and e["requested"]]
    assert len(events) == 1, events


def test_snooze_and_skip_pressed_on_the_banner_each_take_effect_exactly_once(
    gnome: Gnome, daemon: Daemon, typist: Typist
) -> None:
    since, prompt = first_prompt(gnome, daemon, typist)
    assert "snooze" in prompt.body[5]
    press(gnome, daemon, prompt, "snooze")
    wait_for(lambda: daemon.status()["state"] == "snoozed", 5, what="snoozed by the button")
    typist.start()
    again = next_prompt(gnome, daemon, typist)
    assert "snooze" not in again.body[5]  # max_snoozes = 1: the second prompt has none
    press(gnome, daemon, again, "skip")
    wait_for(lambda: daemon.status()["state"] in ("working", "away"), 5, what="skipped")
    events = daemon.events(since)
    snoozes = [e for e in events if e["kind"] == "snoozed"]
    assert [e["requested"] for e in snoozes] == [True], snoozes
    ends = [e for e in events if e["kind"] == "drill_end"]
    assert [e["outcome"] for e in ends] == ["skipped"], ends
    assert not [e for e in events if e["kind"] == "drill_start"], events


def test_start_now_pressed_on_the_banner_starts_once_and_every_step_is_shown(
    gnome: Gnome, daemon: Daemon, typist: Typist
) -> None:
    since, prompt = first_prompt(gnome, daemon, typist)
    mark = daemon.monitor.mark()
    press(gnome, daemon, prompt, "start")
    wait_for(lambda: daemon.status()["state"] == "drill", 5, what="the drill started")
    owner = gnome.session.bus.call_bus("GetNameOwner", NOTIFICATIONS)[0]
    shell = gnome.session.bus.call_bus("GetNameOwner", SHELL_NAME)[0]
    seen = b""  # the banner as the last step was seen on screen
    for step in range(1, STEPS + 1):
        text = f"Step {step} of {STEPS}"
        shots: list[tuple[float, bytes]] = []  # (taken by, banner) until the update arrives
        while not daemon.notifies(mark, body=text):
            found = _banner_shot(gnome)
            shots.append((time.monotonic(), crop_bytes(*found) if found else b""))
        call = daemon.wait_notify(mark, body=text)
        # Only a screenshot finished before the step's Notify was sent surely shows the
        # screen before it: a slow one may already hold this step (GNOME drew it meanwhile).
        before = {seen} | {crop for taken, crop in shots if taken < call.at}
        closed = {
            m.body[0]
            for m in daemon.monitor.messages(since=mark, member="NotificationClosed")
            if m.sender == owner and m.at < call.at
        }
        assert call.body[1] not in closed, f"step {step} updates a notification GNOME closed"
        assert daemon.notification_id(call) > 0

        def forwarded(m: Message, text: str = call.body[4]) -> bool:
            return bool(m.sender == owner and m.body[4] == text)

        daemon.monitor.wait(forwarded, since=mark, member="Notify", destination=shell, timeout=5)

        def shown(before: set[bytes] = before) -> bytes | None:
            # a banner on screen that is none of those before (drawn in place)
            found = _banner_shot(gnome)
            crop = crop_bytes(*found) if found else b""
            return crop if crop and crop not in before else None

        # visible at some moment of its own time, before the next step replaces it
        seen = until(shown, STEP_SECONDS[step - 1] - 0.2, f"step {step} on screen")
    daemon.cli("skip")  # the last step is long
    events = daemon.events(since)
    starts = [e for e in events if e["kind"] == "drill_start"]
    assert [e["requested"] for e in starts] == [True], starts
    assert not [e for e in events if e["kind"] == "snoozed"], events


def test_input_through_the_shell_counts_as_desk_time_and_its_absence_stops_it(
    gnome: Gnome, daemon: Daemon, typist: Typist
) -> None:
    fresh_drill_timer(daemon)
    typist.start()
    idle = []
    for _ in range(4):  # typing for 2 s
        time.sleep(0.5)
        idle.append(round(gnome.idle_seconds(), 1))
    assert max(idle) < 1.5, idle  # each key reaches Mutter's idle monitor
    assert daemon.status()["state"] == "working"
    typist.pause()
    wait_for(lambda: daemon.status()["state"] == "away", 10, what="away after idle_pause")
    assert gnome.idle_seconds() >= 5  # ergobreak agrees with Mutter (idle_pause)
    left = daemon.status()["next_drill_in"]
    assert left <= 10 - 2, left  # the typing (and idle_pause after it) was desk time
    mark = daemon.monitor.mark()
    time.sleep(3)  # no input: no desk time
    assert daemon.status()["next_drill_in"] == left
    typist.start()  # back at the desk: the rest of the drill interval runs down
    began = time.monotonic()
    prompt = next_prompt(gnome, daemon, typist)
    assert time.monotonic() - began <= left + 2, "desk time did not resume with the input"
    assert daemon.monitor.messages(since=mark, member="Notify")[0] == prompt


def test_gnome_do_not_disturb_holds_prompts_and_lets_them_out_after(
    gnome: Gnome, daemon: Daemon, typist: Typist
) -> None:
    fresh_drill_timer(daemon)
    schema, key = BANNERS
    gnome.gsettings_set(schema, key, "false")
    try:
        wait_for(lambda: daemon.status()["quiet"], 5, what="ergobreak to see do-not-disturb")
        mark = daemon.monitor.mark()
        typist.start()
        wait_for(lambda: daemon.status()["next_drill_in"] in (None, 0), 25, what="a drill due")
        time.sleep(2)  # due, and held
        assert daemon.status()["state"] != "prompt"
        assert not daemon.notifies(mark, category="x-ergobreak.prompt")
    finally:
        gnome.gsettings_set(schema, key, "true")
    wait_for(lambda: not daemon.status()["quiet"], 5, what="do-not-disturb over")
    daemon.wait_notify(mark, category="x-ergobreak.prompt", timeout=10)
    typist.pause()
    daemon.cli("skip")


def test_the_daemon_sleeps_while_the_user_is_away(gnome: Gnome, daemon: Daemon) -> None:
    # Mutter's monitor in both flavours (on X11 too: MIT-SCREEN-SAVER would be polled)
    assert daemon.status()["idle_source"] == "mutter"
    wait_for(lambda: daemon.status()["state"] == "away", 10, what="away")
    time.sleep(1)  # let the last round's effects (tray, history) settle
    start = context_switches(daemon.proc.pid)
    time.sleep(15)
    rate = (context_switches(daemon.proc.pid) - start) / 15
    print(
        f"\nergobreak on GNOME {gnome.flavour}: {rate:.2f} wake-ups/s away, "
        f"RSS {rss_kib(daemon.proc.pid) / 1024:.0f} MiB"
    )
    assert rate <= 0.1


# --------------------------------------------------------------------------- steps


def tray_badge(shot: Path) -> Box | None:
    """The ergobreak badge in the top bar's right half: its dark disc with the ring's
    track and the glyph (light, or dimmed while away or paused) inside, or None."""
    area = Box(SCREEN[0] // 2, 0, SCREEN[0], TOP_BAR)
    found = find_colour(shot, BADGE[:3], area, 6)
    if found is None or found.right - found.left < 10:
        return None
    inside = colours_in(shot, found)
    glyph = any(_close(c, g[:3], 24) for c in inside for g in (GLYPH, DIM_GLYPH))
    ring = any(_close(c, TRACK[:3], 12) for c in inside)
    return found if glyph and ring else None


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def _banner_shot(gnome: Gnome) -> tuple[Path, Box] | None:
    shot = gnome.screenshot()
    shown = banner(shot)
    return (shot, shown) if shown else None


def crop_bytes(shot: Path, box: Box) -> bytes:
    with Image.open(shot) as image:
        part = image.convert("RGB").crop((box.left, box.top, box.right, box.bottom))
        return bytes(part.tobytes())


def fresh_drill_timer(daemon: Daemon) -> None:
    """Start the drill timer from zero whatever the last test left (start, then skip:
    skipping a drill resets it); the user is away afterwards."""
    if daemon.status()["state"] != "drill":
        daemon.cli("start")
        wait_for(lambda: daemon.status()["state"] == "drill", 5, what="a drill")
    daemon.cli("skip")
    wait_for(lambda: daemon.status()["state"] != "drill", 5, what="the drill skipped")


def dismiss_banners(gnome: Gnome) -> None:
    """Close whatever banner is up with its close button, as a user would."""

    def gone() -> bool:
        shown = banner(gnome.screenshot())
        if shown is None:
            return True
        gnome.hover_click(shown.centre, (shown.right - 23, shown.top + 23))
        gnome.park_pointer()
        return False

    wait_for(gone, 15, interval=0.5, what="no banner on screen")


def open_menu(gnome: Gnome, daemon: Daemon) -> tuple[Path, list[Box]]:
    """Click the tray icon; return the screenshot of the open menu and its text rows."""
    icon = until(lambda: tray_badge(gnome.screenshot()), 5, "the badge")
    since = daemon.monitor.mark()
    gnome.input.move_to(*icon.centre)
    gnome.input.click()
    # the extension asks for the menu as it opens
    daemon.monitor.wait(
        lambda m: gnome.pid_of(m.sender) == gnome.shell_pid,
        since=since,
        interface="com.canonical.dbusmenu",
        kind="method_call",
        timeout=5,
    )
    column = Box(SCREEN[0] // 2, TOP_BAR + 4, SCREEN[0] - 16, SCREEN[1] - 40)

    def drawn() -> tuple[Path, list[Box]] | None:
        shot = gnome.screenshot()
        rows = text_rows(shot, column)
        return (shot, rows) if len(rows) >= 5 else None

    return until(drawn, 5, "the menu drawn")


def click_entry(gnome: Gnome, daemon: Daemon, label: str, submenu: str = "") -> None:
    """Open the menu, click the entry whose label starts with ``label`` (and then
    ``submenu``'s in the section it expands, as GNOME shows submenus); the click must
    reach the daemon as the extension's dbusmenu ``Event``."""
    entries = daemon.menu()
    shot, rows = open_menu(gnome, daemon)
    labels = [e.label for e in entries[1:]]  # the headline changes as the user comes back
    assert [e.label for e in daemon.menu()[1:]] == labels, "the menu changed as it opened"
    entries = daemon.menu()
    assert len(rows) == len(entries), (rows, entries, shot)
    index = next(i for i, e in enumerate(entries) if e.label.startswith(label))
    mark = daemon.monitor.mark()
    gnome.input.move_to(*label_box(shot, rows[index]).centre)
    gnome.input.click()
    target = entries[index]
    if submenu:
        more = len(target.children)
        column = Box(rows[0].left, rows[0].top, rows[0].right, SCREEN[1] - 40)

        def expanded() -> list[Box] | None:
            found = text_rows(gnome.screenshot(), column)
            return found if len(found) == len(rows) + more else None

        after = until(expanded, 5, f"the {label!r} submenu open")
        child = next(i for i, c in enumerate(target.children) if c.label.startswith(submenu))
        gnome.input.move_to(*label_box(gnome.screenshot(), after[index + 1 + child]).centre)
        gnome.input.click()
        target = target.children[child]
    event = daemon.monitor.wait(
        lambda m: m.body[0] == target.id and m.body[1] == "clicked",
        since=mark,
        member="Event",
        kind="method_call",
        timeout=5,
    )[0]
    assert gnome.pid_of(event.sender) == gnome.shell_pid
    gnome.park_pointer()


def first_prompt(gnome: Gnome, daemon: Daemon, typist: Typist) -> tuple[float, Message]:
    """From a clean screen and a fresh drill timer, type until the drill prompt; return
    the wall time typing began (history after it is the test's) and the prompt."""
    dismiss_banners(gnome)  # the prompt's must be the banner on screen
    fresh_drill_timer(daemon)
    since = time.time()
    typist.start()
    return since, next_prompt(gnome, daemon, typist)


def next_prompt(gnome: Gnome, daemon: Daemon, typist: Typist) -> Message:
    """Type until the next drill prompt's Notify; stop typing (the user reads it)."""
    mark = daemon.monitor.mark()
    try:
        return daemon.wait_notify(mark, category="x-ergobreak.prompt", timeout=30)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; status {daemon.status()}") from None
    finally:
        typist.pause()


def press(gnome: Gnome, daemon: Daemon, prompt: Message, key: str) -> None:
    """Hover the prompt's banner until it shows its buttons and click the one for
    ``key``; GNOME sends two ActionInvoked for it, ergobreak must act once."""
    nid = daemon.notification_id(prompt)
    keys = list(prompt.body[5][::2])

    def expanded() -> list[Box] | None:
        # move in over the title (no screenshot first: a busy machine takes seconds for
        # one, and the banner hides 2-4 s after the user was active); if it shows no
        # buttons yet, move out again: it expands only when entered after it appeared
        gnome.input.move_to(SCREEN[0] / 2, TOP_BAR + 26)
        found = banner_buttons(gnome.screenshot())
        if len(found) == len(keys):
            return found
        gnome.park_pointer()
        return None

    gnome.park_pointer()
    found = until(expanded, 10, "the prompt's banner showing its buttons", interval=0.2)
    mark = daemon.monitor.mark()
    gnome.input.move_to(*found[keys.index(key)].centre)
    gnome.input.click()
    invoked = daemon.monitor.wait(
        lambda m: m.body == (nid, key), member="ActionInvoked", since=mark, timeout=5
    )
    gnome.park_pointer()
    time.sleep(1)  # time for a second ActionInvoked, and for a double effect to show
    invoked = daemon.monitor.messages(
        lambda m: m.body == (nid, key), member="ActionInvoked", since=mark
    )
    print(f"\n{key}: {len(invoked)} ActionInvoked from {sorted({m.sender for m in invoked})}")
    refused = [m for m in daemon.notifies(mark) if m.body[3] in REFUSED.values()]
    assert not refused, f"a second {key!r} reached the engine: {refused[0].body[3:5]}"
