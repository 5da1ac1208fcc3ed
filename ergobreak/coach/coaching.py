"""The daemon's side of the coach, as the app sees it: core effects in, window out.

On every ``DrillStart`` a :class:`Coaching` opens a window (when ``drill.window`` is
on and one can open here: :func:`~ergobreak.coach.link.available`); after each round
that moved the drill (a step, a pause) it sends what the core's ``View`` says; at
``DrillEnd`` the outcome. The window's requests go to ``ask`` (the app's request
path, answered by the engine); a feedback's answer goes back to the window as
``told``. Notifications carry the drill as before: the window is an addition.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ergobreak.coach.link import CoachLink, available
from ergobreak.coach.protocol import End, Open, Show, StepInfo, Told
from ergobreak.commands import Request
from ergobreak.core import effects as fx
from ergobreak.core.content import Drill
from ergobreak.core.machine import View
from ergobreak.core.playback import Timeline

log = logging.getLogger("ergobreak.coach")


def open_message(drill: Drill, values: Mapping[str, object], *, focus: bool) -> Open:
    from ergobreak.content.library import safety_text  # noqa: PLC0415 - read once per drill

    return Open(
        drill=drill.id,
        title=drill.title,
        safety=drill.safety,
        steps=tuple(StepInfo(s.text, s.seconds, s.side, s.pose) for s in drill.steps),
        stop_rules=safety_text().get("stop_rules", ""),
        focus=focus,
        # the settings in force carry every key (their defaults from the schema)
        text_size=int(str(values["drill.text_size"])),
        high_contrast=values["drill.high_contrast"] is True,
        reduced_motion=values["drill.reduced_motion"] is True,
    )


def show_message(drill: Drill, view: View) -> Show | None:
    """What the window shows for ``view``; None when no drill is on."""
    if view.step is None or view.steps is None or view.step_left is None:
        return None
    timeline = Timeline.of(drill)
    ends = (*timeline.starts, timeline.total)
    starts = (0.0, *timeline.starts)
    index = min(view.step, len(drill.steps))
    return Show(
        step=view.step,
        steps=view.steps,
        step_left=view.step_left,
        step_length=ends[index] - starts[index],
        drill_left=view.drill_left if view.drill_left is not None else view.step_left,
        drill_length=timeline.total,
        held=view.drill_held,
    )


class Coaching:
    """``ask``: a request answered (the app's IPC path: posted to the engine, its
    reply awaited); ``values``: the settings in force; ``clicked``: whether the last
    ``start`` came from a click (tray, notification button), which lets the window
    take keyboard focus."""

    def __init__(
        self,
        ask: Callable[[Request], dict[str, Any]],
        values: Callable[[], Mapping[str, object]],
        clicked: Callable[[], bool],
        argv: list[str] | None = None,
    ) -> None:
        self.ask = ask
        self.values = values
        self.clicked = clicked
        self.argv = argv
        self.link: CoachLink | None = None
        self.drill: Drill | None = None
        #: set once the window failed: notifications only for the rest of the run
        self.broken = False
        self._lock = threading.Lock()

    def on_step(self, effects: list[fx.Effect], view: View) -> None:
        """Engine thread: the effects of one round and the view after it."""
        moved = False
        for effect in effects:
            if isinstance(effect, fx.DrillStart):
                self._open(effect)
                moved = True
            elif isinstance(effect, (fx.DrillStep, fx.DrillHeld)):
                moved = True
            elif isinstance(effect, fx.DrillEnd) and self.link is not None:
                self.link.send(End(effect.outcome))
                self.drill, moved = None, False
        if moved and self.link is not None and self.drill is not None:
            show = show_message(self.drill, view)
            if show is not None:
                self.link.send(show)

    def _open(self, start: fx.DrillStart) -> None:
        self.close()
        values = self.values()
        if self.broken or values["drill.window"] is not True:
            return
        ok, why = available()
        if not ok:
            log.info("no coach window: %s; the drill shows in notifications", why)
            return
        link = CoachLink(self._on_request, self._on_exit, argv=self.argv)
        focus = start.requested and self.clicked()
        try:
            link.open(open_message(start.drill, values, focus=focus))
        except OSError as exc:
            self._failed(f"cannot start it: {exc}")
            return
        self.link, self.drill = link, start.drill

    def _on_request(self, request: Request) -> None:
        """The window's reader thread: a button press, as a request."""
        reply = self.ask(request)
        link = self.link
        if request.cmd == "feedback" and link is not None:
            said = reply.get("text") if reply.get("ok") else reply.get("error")
            if isinstance(said, str) and said:
                link.send(Told(said))

    def _on_exit(self, code: int) -> None:
        if code != 0:
            self._failed(f"it exited with {code}")

    def _failed(self, why: str) -> None:
        with self._lock:
            if not self.broken:
                log.warning("coach window failed (%s); drills show in notifications only", why)
            self.broken = True

    def stop(self) -> None:
        """At the daemon's end: the window closed and waited for."""
        self.close(wait=True)

    def close(self, *, wait: bool = False) -> None:
        if self.link is not None:
            self.link.close(wait=wait)
        self.link, self.drill = None, None
