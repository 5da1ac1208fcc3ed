"""A fake desk for driving the engine, or the whole composed app, in-process.

Time is a :class:`~ergobreak.daemon.clock.FakeClock`; the idle source reads it, the
notifier records what it was asked to show, and :func:`type_steadily` plays a person
typing while waking the engine whenever it asks. No threads, no sleeps, no desktop.

:func:`start_app` builds the real :class:`~ergobreak.app.App`, ``Engine`` and
``DeskSession`` exactly as ``ergobreak run`` wires them (``App.attach``), on this fake
edge, without tray, IPC, config watcher or history. Use it with the ``isolated``
fixture: the config file is the one ``paths()`` names there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ergobreak.app import App, RunOptions
from ergobreak.commands import Request
from ergobreak.daemon.clock import FakeClock
from ergobreak.daemon.engine import Engine, Reply
from ergobreak.daemon.state import StateFile
from ergobreak.paths import paths
from ergobreak.platform.base import Capabilities, Notification
from ergobreak.platform.edge import Edge
from ergobreak.platform.timejump import TimeJump

#: a config without working hours, so what happens does not depend on the hour
ALWAYS_ON_CONFIG = "schema = 1\n\n[schedule]\nenabled = false\n"


class ScriptedIdle:
    """Idle seconds computed from input times the test sets on the fake clock."""

    name = "scripted"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.last_input = clock.monotonic()

    def type_now(self) -> None:
        self.last_input = self.clock.monotonic()

    def idle_seconds(self) -> float:
        return self.clock.monotonic() - self.last_input

    def close(self) -> None:
        pass


@dataclass
class RecordingNotifier:
    """A notification server that shows everything and remembers it, in order."""

    name: str = "recording"
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(replace=True))
    shown: list[Notification] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)

    def show(self, note: Notification) -> int:
        self.shown.append(note)
        return len(self.shown)

    def update(self, handle: int, note: Notification) -> int:
        self.shown.append(note)
        return handle

    def close(self, handle: int) -> None:
        self.closed.append(handle)

    def stop(self) -> None:
        pass

    def titles(self) -> list[str]:
        return [note.title for note in self.shown]


def type_steadily(
    engine: Engine, idle: ScriptedIdle, clock: FakeClock, seconds: float, *, step: float = 30.0
) -> None:
    """Type steadily for ``seconds``, waking ``engine`` at its deadlines (at least every
    ``step`` seconds, as input keeps arriving)."""
    end = clock.monotonic() + seconds
    while clock.monotonic() < end:
        deadline = engine.core.next_deadline()
        nxt = min(end, deadline if deadline is not None else end, clock.monotonic() + step)
        clock.advance(max(0.0, nxt - clock.monotonic()))
        idle.type_now()
        engine.step()


@dataclass
class AppRig:
    app: App
    engine: Engine
    clock: FakeClock
    idle: ScriptedIdle
    notifier: RecordingNotifier

    @property
    def config_file(self) -> Path:
        return self.app.paths.config_file

    def work(self, seconds: float, *, step: float = 30.0) -> None:
        type_steadily(self.engine, self.idle, self.clock, seconds, step=step)

    def request(self, cmd: str, **args: Any) -> dict[str, Any]:
        """Send ``cmd`` as the CLI or the tray would; the engine answers at once."""
        reply = Reply()
        self.engine.post(Request(cmd, args), reply)
        self.engine.step()
        assert reply.done.is_set()
        return reply.value

    def write_config(self, text: str) -> None:
        write_config(self.config_file, text)


def write_config(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def start_app(config: str | None = ALWAYS_ON_CONFIG, *, state: StateFile | None = None) -> AppRig:
    """The composed app on a fake edge, after its first wake-up; ``config`` is written
    to the user's config file first (None: no file); ``state``: the timers' file."""
    where = paths()
    if config is not None:
        write_config(where.config_file, config)
    clock = FakeClock()
    idle = ScriptedIdle(clock)
    notifier = RecordingNotifier()
    app = App(RunOptions(no_tray=True), where, clock=clock)
    app.effective, errors = app.load_config()
    # Both clocks are the fake one: the backstop sees no sleep unless a test makes one.
    backstop = TimeJump(clock.monotonic, clock.monotonic)
    edge = Edge(idle=idle, notifier=notifier, watchers=[], quiet=[], timejump=backstop, choices=[])
    engine = app.attach(edge, state, config_errors=errors)
    engine.step()
    return AppRig(app, engine, clock, idle, notifier)
