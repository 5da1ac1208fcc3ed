"""Replay a desk-activity trace through the real core and print what it decides.

Two samplers drive the same core: ``1hz`` looks every second like a naive
daemon would; ``deadline`` looks only when the core's :meth:`next_deadline` or a
trace event says so, as ``ergobreak run`` does, with an idle source that also
wakes it on the first input after a pause (construct the core with
``away_poll=None`` for that). Both must tell the same story
(tested); the second also counts the wake-ups a real day would cost.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Literal, TextIO

from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.duration import format_clock, format_duration
from ergobreak.core.machine import DeskSession
from ergobreak.sim.trace import Timeline

Sampling = Literal["1hz", "deadline"]


@dataclass(frozen=True, slots=True)
class Record:
    t: float
    wall: float
    effect: fx.Effect


@dataclass(slots=True)
class Result:
    records: list[Record] = field(default_factory=list)
    samples: int = 0
    inputs: int = 0
    desk_seconds: float = 0.0
    duration: float = 0.0


def replay(
    timeline: Timeline,
    machine: DeskSession,
    start_wall: float,
    sampling: Sampling = "1hz",
    on_effect: Callable[[Record], None] | None = None,
) -> Result:
    """Drive ``machine`` through ``timeline``; return every effect with its time."""
    result = Result(duration=float(timeline.end))
    records = result.records

    def wall(t: float) -> float:
        return start_wall + t + timeline.wall_shift(t)

    def emit(t: float, effects: Iterable[fx.Effect]) -> None:
        w = wall(t)
        for effect in effects:
            record = Record(t, w, effect)
            records.append(record)
            if on_effect is not None:
                on_effect(record)

    def apply(t: float, events: list[ev.Event]) -> None:
        # The daemon reads the idle time along with every event; so do we.
        idle_now = None if timeline.dark_at(t) else timeline.idle(t)
        for event in events:
            result.inputs += 1
            emit(t, machine.handle(t, wall(t), event, idle_now))

    before = timeline.before
    after = timeline.after
    if sampling == "1hz":
        sample = machine.sample
        idle = timeline.idle
        active = timeline.active
        clock_free = not timeline.clock
        span = 0
        for ti in timeline.instants():
            if ti in before:
                apply(ti, before[ti])
            # Inline the common case (inside an active span: idle 0) for speed.
            while span < len(active) and active[span][1] < ti:
                span += 1
            inside = span < len(active) and active[span][0] < ti <= active[span][1]
            i = 0.0 if inside else idle(ti)
            w = start_wall + ti if clock_free else wall(ti)
            out = sample(ti, w, i)
            result.samples += 1
            if out:
                emit(ti, out)
            if ti in after:
                apply(ti, after[ti])
    else:
        # The simulated idle source wakes the driver on the first input after a
        # pause (like XSync idle alarms), so return to the desk is seen at once.
        marks: list[float] = sorted(
            set(timeline.boundaries()) | {start + 1 for start, _ in timeline.active}
        )
        m = 0
        t = 0.0
        while True:
            if t in before:
                apply(t, before[int(t)])
            if not timeline.dark_at(t):
                emit(t, machine.sample(t, wall(t), timeline.idle(t)))
                result.samples += 1
            if t in after:
                apply(t, after[int(t)])
            while m < len(marks) and marks[m] <= t:
                m += 1
            nxt_mark = marks[m] if m < len(marks) else None
            deadline = machine.next_deadline()
            # Inside a dark span the core has not seen ``t`` and its deadline may lie
            # behind us: only the next trace mark can move time on then.
            cands = [c for c in (deadline, nxt_mark) if c is not None and c > t]
            if not cands:
                break
            nxt = min(cands)
            if nxt > timeline.end:
                break
            t = nxt
    result.desk_seconds = machine.view().drill_desk
    return result


# ------------------------------------------------------------------ output


def _details(effect: fx.Effect) -> str:
    match effect:
        case fx.PostureCheck(cue=cue, requested=requested):
            return ("(asked) " if requested else "") + cue.text
        case fx.DrillPrompt(
            drill=drill, attempt=attempt, snoozes_left=left, after_call=call, seated=seated
        ):
            again = f" (attempt {attempt}, {left} snooze{'s' if left != 1 else ''} left)"
            sat = "" if call is None else f", after a {format_duration(round(call))} call"
            sat += "".join(f", while {why}" for why in seated)
            return f"{drill.title}, {format_duration(drill.seconds)}{sat}" + (
                again if attempt > 1 else ""
            )
        case fx.DrillStart(drill=drill, requested=requested):
            timeline = effect.timeline
            asked = " (asked)" if requested else ""
            return (
                f"{drill.title}{asked}, {format_duration(timeline.total)};"
                f" safety note for {format_duration(timeline.safety)}: {drill.safety}"
            )
        case fx.DrillStep(index=index, total=total, step=step):
            side = f"[{step.side}] " if step.side else ""
            return f"{index + 1}/{total} {format_duration(step.seconds)} {side}{step.text}"
        case fx.DrillHeld(drill=drill, held=held):
            return f"{'paused' if held else 'going on'}: {drill.title}"
        case fx.DrillEnd(drill=drill, outcome=outcome, reason=reason):
            return f"{outcome}{f' ({reason})' if reason else ''}: {drill.title}"
        case fx.NaturalBreak(away=away):
            return f"away {format_duration(round(away))}: timers reset"
        case fx.Snoozed(count=count, max=limit, auto=auto, seconds=seconds):
            how = "automatically" if auto else "by request"
            return f"{count} of {limit}, {how}; back after {format_duration(seconds)} of desk time"
        case fx.Paused(seconds=seconds):
            return "until resumed" if seconds is None else f"for {format_duration(seconds)}"
        case fx.Resumed(auto=auto):
            return "pause ended" if auto else "by request"
        case fx.Deferred(kind=kind, sources=sources):
            return f"{kind} held while quiet ({', '.join(sources) or 'ending'})"
        case fx.Withdrawn(kind=kind, why=why):
            return f"{kind} on screen taken back ({', '.join(why)}): offered again later"
        case fx.Rejected(command=command, reason=reason):
            return f"{command}: {reason}"
        case fx.StateChanged(state=state, previous=previous):
            return f"{previous} -> {state}"
    return ""  # pragma: no cover


def write_table(
    records: Iterable[Record], out: TextIO, tz: tzinfo, *, show_state: bool = False
) -> None:
    out.write(f"{'clock':<8}  {'t':>8}  {'event':<14}  details\n")
    for rec in records:
        if isinstance(rec.effect, fx.StateChanged) and not show_state:
            continue
        clock = datetime.fromtimestamp(rec.wall, tz).strftime("%H:%M:%S")
        event = rec.effect.event
        out.write(f"{clock:<8}  {format_clock(rec.t):>8}  {event:<14}  {_details(rec.effect)}\n")


def json_line(rec: Record, tz: tzinfo) -> str:
    obj: dict[str, object] = {
        "t": round(rec.t, 3),
        "wall": datetime.fromtimestamp(rec.wall, tz).isoformat(timespec="seconds"),
        "event": rec.effect.event,
    }
    obj.update(rec.effect.fields())
    return json.dumps(obj, ensure_ascii=False)


def summary(result: Result) -> str:
    counts = Counter(r.effect.event for r in result.records)
    outcomes = Counter(
        r.effect.outcome for r in result.records if isinstance(r.effect, fx.DrillEnd)
    )
    parts = [
        f"{counts['posture_check']} posture checks",
        f"{counts['drill_prompt']} drill prompts",
        "drills " + (", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())) or "none"),
        f"{counts['natural_break']} natural breaks",
    ]
    rate = result.samples / result.duration if result.duration else 0.0
    return (
        f"{format_duration(result.duration)} replayed: "
        + "; ".join(parts)
        + f". {result.samples} samples ({rate:.3f}/s)."
    )
