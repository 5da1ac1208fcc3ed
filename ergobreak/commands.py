"""User commands as plain data: one vocabulary for the tray, notification buttons and IPC.

A :class:`Request` is what a menu item, a notification action or ``ergobreak pause
30m`` produces. Core commands map onto :mod:`ergobreak.core.events`; app commands
(reload, quit, open_config, ...) are handled by the daemon itself. Wire format
(IPC): ``{"v": 1, "cmd": "pause", "args": {"seconds": 1800}}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, get_args

from ergobreak.core import events as ev
from ergobreak.core.content import ANSWERS, ID_PATTERN
from ergobreak.core.duration import DurationError, parse_duration
from ergobreak.core.effects import CommandName

CORE_COMMANDS: tuple[CommandName, ...] = get_args(CommandName)
APP_COMMANDS = (
    "status",
    "reload",
    "quit",
    "open_config",
    "open_report",
    "open_safety",
    "notify_test",
    "feedback",
)
WIRE_VERSION = 1
#: "How was it?" after a drill (``feedback``); what each does: ergobreak.content.feedback
FEEDBACK_ANSWERS = ANSWERS


_DRILL_ID = re.compile(ID_PATTERN)


class BadRequest(ValueError):
    """A request that is not well-formed; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Request:
    cmd: str
    args: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {"v": WIRE_VERSION, "cmd": self.cmd, "args": dict(self.args)}


def from_wire(obj: object) -> Request:
    """Validate a decoded JSON message.

    Raises:
        BadRequest: unknown command, wrong version or bad arguments.
    """
    if not isinstance(obj, dict):
        raise BadRequest("a request is a JSON object")
    if obj.get("v") != WIRE_VERSION:
        raise BadRequest(f"unsupported request version {obj.get('v')!r}")
    cmd = obj.get("cmd")
    args = obj.get("args", {})
    if not isinstance(cmd, str) or cmd not in CORE_COMMANDS + APP_COMMANDS:
        raise BadRequest(f"unknown command {cmd!r}")
    if not isinstance(args, dict):
        raise BadRequest("args must be an object")
    request = Request(cmd, args)
    if cmd in CORE_COMMANDS:
        to_event(request)  # validates arguments
    elif cmd == "feedback":
        feedback_args(request)
    return request


def feedback_args(request: Request) -> tuple[str | None, str]:
    """``(drill, answer)`` of a ``feedback`` request: ``{"drill": ID, "answer": ...}``;
    no drill means the last one that ended.

    Raises:
        BadRequest: an answer that is not one of :data:`FEEDBACK_ANSWERS`, or a drill
            that is not an id.
    """
    drill, answer = request.args.get("drill"), request.args.get("answer")
    if not isinstance(answer, str) or answer not in FEEDBACK_ANSWERS:
        raise BadRequest(f"feedback: answer must be one of {', '.join(FEEDBACK_ANSWERS)}")
    if drill is not None and (not isinstance(drill, str) or not _DRILL_ID.fullmatch(drill)):
        raise BadRequest("feedback: drill must be a drill id (see: ergobreak routines list)")
    return drill, answer


def to_event(request: Request) -> ev.Command:
    """The core event for a core command.

    Raises:
        BadRequest: bad arguments, or not a core command.
    """
    args = request.args
    match request.cmd:
        case "start":
            routine = args.get("routine")
            if routine is not None and not isinstance(routine, str):
                raise BadRequest("start: routine must be a string")
            return ev.Start(routine=routine)
        case "posture":
            return ev.Posture()
        case "snooze":
            return ev.Snooze()
        case "skip":
            return ev.Skip()
        case "pause":
            seconds = args.get("seconds")
            if isinstance(seconds, str):
                try:
                    seconds = parse_duration(seconds)
                except DurationError as exc:
                    raise BadRequest(f"pause: {exc}") from None
            if seconds is not None and (
                isinstance(seconds, bool)
                or not isinstance(seconds, (int, float))
                or not 0 < seconds <= 7 * 86400
            ):
                raise BadRequest("pause: seconds must be a number between 1 and 604800")
            return ev.Pause(seconds=None if seconds is None else float(seconds))
        case "resume":
            return ev.Resume()
        case "drill_pause":
            return ev.DrillPause()
        case "drill_resume":
            return ev.DrillResume()
        case "next_step":
            return ev.NextStep()
    raise BadRequest(f"{request.cmd!r} is not a scheduler command")
