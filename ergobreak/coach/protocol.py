"""What the daemon and the coach window say to each other: one JSON object a line.

Daemon -> coach (stdin): :class:`Open`, :class:`Show`, :class:`End`, :class:`Told`,
:class:`Close`, each ``{"msg": NAME, ...fields}``. Coach -> daemon (stdout): command
requests in the wire form of :mod:`ergobreak.commands` (``drill_pause``,
``drill_resume``, ``next_step``, ``skip``, ``feedback``). Either side drops a line
it cannot read (:class:`ProtocolError`) and carries on.
"""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any, ClassVar, Literal, TypeAlias, get_args

from ergobreak.commands import BadRequest, Request, from_wire
from ergobreak.core.effects import Outcome

#: a line longer than this is refused before it is parsed (a drill is a few KB)
MAX_LINE = 256 * 1024

Side = Literal["left", "right"]


class ProtocolError(ValueError):
    """A line that is not a message of this protocol."""


@dataclass(frozen=True, slots=True)
class StepInfo:
    text: str
    seconds: float
    side: Side | None = None
    pose: str | None = None


@dataclass(frozen=True, slots=True)
class Open:
    """A drill begins: everything the window shows that does not change."""

    name: ClassVar[str] = "open"
    drill: str
    title: str
    safety: str
    steps: tuple[StepInfo, ...]
    stop_rules: str
    #: take keyboard focus (the user clicked to start the drill)
    focus: bool = False
    text_size: int = 100
    high_contrast: bool = False
    reduced_motion: bool = False


@dataclass(frozen=True, slots=True)
class Show:
    """What shows now: ``step`` 0 is the safety note, 1..``steps`` the steps; the
    seconds left and lengths as the core counts them; ``held``: paused."""

    name: ClassVar[str] = "show"
    step: int
    steps: int
    step_left: float
    step_length: float
    drill_left: float
    drill_length: float
    held: bool = False


@dataclass(frozen=True, slots=True)
class End:
    name: ClassVar[str] = "end"
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Told:
    """A reply of the daemon's to show (after feedback)."""

    name: ClassVar[str] = "told"
    text: str


@dataclass(frozen=True, slots=True)
class Close:
    name: ClassVar[str] = "close"


Message: TypeAlias = Open | Show | End | Told | Close
_KINDS: dict[str, type[Message]] = {k.name: k for k in (Open, Show, End, Told, Close)}


def encode(message: Message) -> str:
    """``message`` as one line (with its newline)."""
    return json.dumps({"msg": message.name, **asdict(message)}, ensure_ascii=True) + "\n"


def decode(line: str | bytes) -> Message:
    """The message on ``line``.

    Raises:
        ProtocolError: not JSON, an unknown message, or a field of the wrong type.
    """
    obj = _object(line)
    kind = _KINDS.get(str(obj.pop("msg", "")))
    if kind is None:
        raise ProtocolError("unknown message")
    if kind is Open:
        raw_steps = obj.get("steps")
        if not isinstance(raw_steps, list):
            raise ProtocolError("open: steps must be a list")
        obj["steps"] = tuple(_build(StepInfo, _mapping(s)) for s in raw_steps)
    message: Message = _build(kind, obj)
    return message


def encode_request(request: Request) -> str:
    return json.dumps(request.to_wire(), ensure_ascii=True) + "\n"


def decode_request(line: str | bytes) -> Request:
    """A request line of the coach's, validated as IPC requests are.

    Raises:
        ProtocolError: not JSON, or not a valid request.
    """
    try:
        return from_wire(_object(line))
    except BadRequest as exc:
        raise ProtocolError(str(exc)) from None


def _object(line: str | bytes) -> dict[str, Any]:
    if len(line) > MAX_LINE:
        raise ProtocolError("line too long")
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    return _mapping(obj)


def _mapping(obj: object) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ProtocolError("a message is a JSON object")
    return dict(obj)


_CHECKS: dict[str, Any] = {
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
    "Side | None": lambda v: v in (None, "left", "right"),
    "str | None": lambda v: v is None or isinstance(v, str),
    "Outcome": lambda v: v in get_args(Outcome),
    "tuple[StepInfo, ...]": lambda v: isinstance(v, tuple),
}


def _build(kind: type[Any], obj: dict[str, Any]) -> Any:
    """``kind(**obj)`` with every field of the type its annotation names."""
    values: dict[str, Any] = {}
    for f in fields(kind):
        if f.name not in obj:
            if f.default is MISSING:
                raise ProtocolError(f"{f.name} missing")
            continue
        value = obj[f.name]
        if not _CHECKS[str(f.type)](value):
            raise ProtocolError(f"{f.name}: {value!r} is not a {f.type}")
        values[f.name] = float(value) if f.type == "float" else value
    return kind(**values)
