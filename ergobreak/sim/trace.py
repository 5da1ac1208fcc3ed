"""Desk-activity traces: a day at the desk written as ``duration,what`` rows.

Format (CSV, ``#`` starts a comment, blank lines are fine)::

    25m,active        # input every second
    2m,idle           # no input (reading, away without locking)
    1h,locked         # screen locked
    45m,asleep        # machine asleep (sleep and wake signals are sent)
    10m,gap           # nothing at all reaches ergobreak (a missed sleep signal)
    30m,fullscreen    # active, with a fullscreen window (quiet)
    40m,call          # no input, a call in progress (seated, and quiet)
    20m,watching      # no input, an application inhibits idle (seated, not quiet)
    20m,watching fullscreen  # the same, in a fullscreen window (quiet)
    0,snooze          # a command: start [ID], posture, snooze, skip,
    0,pause 30m       #   pause [DURATION], resume
    0,clock +1h       # the wall clock jumps (manual change, NTP step)

Durations are whole seconds, bare (``90``) or with units (``"1h30m"``). A trace
file is at most :data:`MAX_BYTES` long and covers at most :data:`MAX_SECONDS`:
the replay samples every second, so the length bounds its work.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ergobreak.commands import CORE_COMMANDS, BadRequest, Request, to_event
from ergobreak.core import events as ev
from ergobreak.core.duration import DurationError, parse_duration
from ergobreak.tomlfile import read_bytes

ACTIVITY = ("active", "idle", "locked", "asleep", "gap", "fullscreen", "call", "watching")
#: the core commands, and the wall clock jumping
COMMANDS = (*CORE_COMMANDS, "clock")
#: about 100,000 rows: two months of minute-by-minute activity
MAX_BYTES = 1024 * 1024
#: a month; replaying it second by second takes seconds
MAX_SECONDS = 31 * 86400
TOO_LONG = (
    f"the trace runs past {MAX_SECONDS // 86400} days, the longest ergobreak replays;"
    " split it into shorter traces"
)


class TraceError(ValueError):
    """A bad trace line; the message names file and line."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    seconds: int
    what: str
    arg: str | None = None


def _duration(text: str, where: str) -> int:
    try:
        value = parse_duration(text, bare_seconds=True)
    except DurationError as exc:
        raise TraceError(f"{where}: {exc}") from None
    if not math.isfinite(value) or value > MAX_SECONDS:  # int() of it would overflow
        raise TraceError(f"{where}: {TOO_LONG}")
    if value != int(value):
        raise TraceError(f'{where}: durations in traces are whole seconds, got "{text}"')
    return int(value)


def parse_trace(text: str, name: str = "<trace>") -> list[Row]:
    """Parse trace text.

    Raises:
        TraceError: naming the file and line, and what was expected.
    """
    rows: list[Row] = []
    total = 0
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{name}:{n}"
        if "," not in line:
            raise TraceError(f'{where}: expected "duration,what" (e.g. "25m,active"), got "{line}"')
        dur_text, what_text = (part.strip() for part in line.split(",", 1))
        seconds = _duration(dur_text, where)
        word, _, rest = what_text.partition(" ")
        word = word.lower()
        arg = rest.strip() or None
        if word in ACTIVITY:
            if word == "watching" and arg is not None and arg.lower() == "fullscreen":
                arg = "fullscreen"
            elif arg is not None:
                raise TraceError(f'{where}: "{word}" takes no argument, got "{what_text}"')
            total += seconds
            if total > MAX_SECONDS:
                raise TraceError(f"{where}: {TOO_LONG}")
            rows.append(Row(n, seconds, word, arg))
            continue
        if word in COMMANDS:
            if seconds != 0:
                raise TraceError(f'{where}: commands take no time: write "0,{what_text}"')
            if word == "pause" and arg is not None:
                _duration(arg, where)
            elif word == "clock":
                if arg is None or arg[:1] not in "+-":
                    raise TraceError(f'{where}: expected "clock +1h" or "clock -30m", got "{line}"')
                _duration(arg[1:], where)
            elif word != "start" and arg is not None:
                raise TraceError(f'{where}: "{word}" takes no argument, got "{what_text}"')
            row = Row(n, 0, word, arg)
            if word != "clock":
                try:
                    command_event(row)  # the checks the daemon makes (a pause of 1 s to 7 days)
                except BadRequest as exc:
                    raise TraceError(f"{where}: {exc}") from None
            rows.append(row)
            continue
        raise TraceError(
            f'{where}: unknown activity "{word}"; expected one of '
            f"{', '.join(ACTIVITY)} or a command ({', '.join(COMMANDS)})"
        )
    return rows


def load_trace(path: Path) -> list[Row]:
    """Read and parse a trace file (at most :data:`MAX_BYTES`).

    Raises:
        TraceError: naming the file (and line), and what was expected.
    """
    raw, problems = read_bytes(path, max_bytes=MAX_BYTES)
    if raw is None:
        raise TraceError(f"{path}: {problems[0].message}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TraceError(f"{path}: not a UTF-8 text file") from None
    return parse_trace(text, str(path))


def shipped_traces() -> dict[str, str]:
    """The traces that ship with the package: name -> what the day shows (the
    first comment line)."""
    found = {}
    for item in resources.files(__package__).joinpath("traces").iterdir():
        if item.name.endswith(".csv"):
            first = item.read_text(encoding="utf-8").split("\n", 1)[0]
            found[item.name[: -len(".csv")]] = first.lstrip("# ").strip()
    return dict(sorted(found.items()))


def shipped_trace(name: str) -> str:
    """The text of a shipped trace (``workday``, ``calls``).

    Raises:
        TraceError: no shipped trace has that name.
    """
    stem = name.removesuffix(".csv")
    if stem not in shipped_traces():
        raise TraceError(
            f'no trace file "{name}", and no shipped trace of that name'
            f" (shipped: {', '.join(shipped_traces())})"
        )
    item = resources.files(__package__).joinpath("traces").joinpath(f"{stem}.csv")
    return item.read_text(encoding="utf-8")


def find_trace(name: str) -> list[Row]:
    """A trace file, or else a shipped trace by name (``ergobreak simulate calls``
    works outside a checkout).

    Raises:
        TraceError: naming the file (and line), and what was expected.
    """
    path = Path(name)
    if path.exists() or path.parent != Path():
        return load_trace(path)
    return parse_trace(shipped_trace(name), name.removesuffix(".csv"))


def command_event(row: Row) -> ev.Command:
    """The same command the tray or the CLI would send."""
    args: dict[str, object] = {}
    if row.what == "start" and row.arg:
        args["routine"] = row.arg
    elif row.what == "pause" and row.arg:
        args["seconds"] = parse_duration(row.arg, bare_seconds=True)
    return to_event(Request(row.what, args))


@dataclass(slots=True)
class Timeline:
    """A trace compiled into input facts on the ``t`` axis (seconds from trace start).

    During ``active`` and ``fullscreen`` spans input arrives at every whole second
    after the span starts; ``call`` and ``watching`` spans have none, but the
    person is seated (:class:`~ergobreak.core.events.Seated`). Discrete inputs come
    in three groups per instant: those that end a span (unlock, wake, quiet off,
    seated off), then the activity sample, then those that begin a span or are
    commands.
    """

    end: int = 0
    #: (start, end) of spans with input every second, sorted
    active: list[tuple[int, int]] = field(default_factory=list)
    #: (start, end) of spans with no samples at all (asleep, gap)
    dark: list[tuple[int, int]] = field(default_factory=list)
    before: dict[int, list[ev.Event]] = field(default_factory=dict)
    after: dict[int, list[ev.Event]] = field(default_factory=dict)
    #: (t, cumulative wall-clock shift from that t on)
    clock: list[tuple[int, float]] = field(default_factory=list)
    _firsts: list[int] = field(default_factory=list)

    def last_input(self, t: float) -> float | None:
        """Time of the last input at or before ``t``, or ``None``."""
        # The last span whose first input (start + 1) is not after t holds it.
        j = bisect_right(self._firsts, t) - 1
        if j < 0:
            return None
        return float(min(self.active[j][1], math.floor(t)))

    def idle(self, t: float) -> float:
        last = self.last_input(t)
        return 1e9 if last is None else max(0.0, t - last)

    def dark_at(self, t: float) -> bool:
        return any(a < t < b for a, b in self.dark)

    def wall_shift(self, t: float) -> float:
        shift = 0.0
        for at, value in self.clock:
            if at <= t:
                shift = value
        return shift

    def instants(self) -> Iterator[int]:
        """Whole seconds at which a 1 Hz sampler would look (dark spans skipped)."""
        dark = sorted(self.dark)
        j = 0
        t = 0
        while t <= self.end:
            while j < len(dark) and dark[j][1] <= t:
                j += 1
            if j < len(dark) and dark[j][0] < t < dark[j][1]:
                t = dark[j][1]
                continue
            yield t
            t += 1

    def boundaries(self) -> list[int]:
        dark_edges = {edge for span in self.dark for edge in span}
        # a wall-clock step wakes the daemon too (timerfd's CANCEL_ON_SET on Linux)
        clock_steps = {at for at, _ in self.clock}
        return sorted(set(self.before) | set(self.after) | dark_edges | clock_steps | {self.end})


def compile_trace(rows: list[Row]) -> Timeline:
    tl = Timeline()
    t = 0
    shift = 0.0
    for row in rows:
        a, b = t, t + row.seconds
        if row.what in ("active", "fullscreen") and b > a:
            if tl.active and tl.active[-1][1] == a:
                tl.active[-1] = (tl.active[-1][0], b)
            else:
                tl.active.append((a, b))
        # A span of no length turns nothing on (its end would come before its start).
        if b > a and (row.what == "fullscreen" or row.arg == "fullscreen"):
            tl.after.setdefault(a, []).append(ev.Quiet("fullscreen", True))
            tl.before.setdefault(b, []).append(ev.Quiet("fullscreen", False))
        if b > a and row.what in ("call", "watching"):
            reason: ev.SeatedReason = "call" if row.what == "call" else "watching"
            tl.after.setdefault(a, []).append(ev.Seated(reason, True))
            tl.before.setdefault(b, []).append(ev.Seated(reason, False))
        if row.what == "locked":
            tl.after.setdefault(a, []).append(ev.ScreenLocked())
            tl.before.setdefault(b, []).append(ev.ScreenUnlocked())
        elif row.what == "asleep":
            tl.after.setdefault(a, []).append(ev.Suspending())
            tl.before.setdefault(b, []).append(ev.Resumed())
            tl.dark.append((a, b))
        elif row.what == "gap":
            tl.dark.append((a, b))
        elif row.what == "clock":
            assert row.arg is not None
            delta = parse_duration(row.arg[1:], bare_seconds=True)
            shift += delta if row.arg[0] == "+" else -delta
            tl.clock.append((a, shift))
        elif row.what in COMMANDS:
            tl.after.setdefault(a, []).append(command_event(row))
        t = b
    tl.end = t
    tl._firsts = [start + 1 for start, _ in tl.active]
    return tl
