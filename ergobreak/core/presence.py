"""Whether the user is at the desk: input, lock and sleep, and the away periods between.

Desk time (R1), as far as presence goes: an instant ``s`` counts when the screen
is unlocked, the machine awake and the last input at most ``idle_pause`` before
``s``. A sample says only "idle for N seconds", so between two samples we assume
inputs only at the two known input times (exact when the driver samples at the
core's deadlines, which include :attr:`Presence.gone_at`).

Away periods (R2): the user is *present* when input arrives while the screen is
unlocked and the machine awake (typing a password on the lock screen is not
presence). An away period runs from the last presence; once it reaches
``natural_break`` it is a natural break, once per away period.

Seated (R9): the person is at the desk without input — in a call, or watching
something that inhibits idle. While a reason holds and the machine is awake and
unlocked, every instant is desk time and presence: no away period runs, so no
natural break can come of it. Its beginning is an arrival, its end (or a lock or
sleep during it) is the last presence, as if input had come then.

This unit keeps those facts and answers questions about them. The machine decides
when a natural break may count (not during a drill, not while paused) and what it
resets, and it excludes pauses and off-hours from desk time.
"""

from __future__ import annotations

import math

from ergobreak.core.settings import ActivitySettings


class Presence:
    __slots__ = (
        "asleep",
        "away_from",
        "break_taken",
        "floor",
        "idle_pause",
        "last_input",
        "locked",
        "natural_break",
        "seated",
    )

    def __init__(self, activity: ActivitySettings) -> None:
        self.idle_pause = activity.idle_pause
        self.natural_break = activity.natural_break
        #: the latest input we know of; the hot path reads and advances it directly
        self.last_input = -math.inf
        #: input before this instant is not presence (it was typed on the lock
        #: screen, or before the machine slept)
        self.floor = -math.inf
        #: where the current away period began: the last presence, or the end of
        #: something that kept the user busy (a drill, a pause)
        self.away_from = -math.inf
        #: the current away period has had its natural break (or cannot have one)
        self.break_taken = False
        self.locked = False
        self.asleep = False
        #: the reasons the person sits without input (``call``, ``watching``)
        self.seated: set[str] = set()

    def configure(self, activity: ActivitySettings) -> None:
        self.idle_pause = activity.idle_pause
        self.natural_break = activity.natural_break

    def start(self, t: float, idle: float | None) -> None:
        """The first input at ``t``, with the idle time if the caller could read it."""
        # Whatever happened before we started is unknown: the timers start at zero,
        # so an away period can only begin now.
        self.away_from = t
        self.break_taken = True
        if idle is not None:
            self.last_input = t - idle
            if idle <= self.idle_pause:
                self.away_from = t - idle
                self.break_taken = False

    # ------------------------------------------------------------ questions

    @property
    def awake(self) -> bool:
        """Unlocked and not asleep: input now would be presence."""
        return not (self.locked or self.asleep)

    @property
    def sitting(self) -> bool:
        """Seated without input, awake and unlocked: present at every instant."""
        return bool(self.seated) and not (self.locked or self.asleep)

    @property
    def gone_at(self) -> float:
        """When the idle time crosses ``idle_pause`` if no input comes: the end of
        desk time and the moment the coarse state turns ``away``."""
        return math.inf if self.sitting else self.last_input + self.idle_pause

    def last_seen(self, t: float) -> float:
        """The latest presence at ``t``: now while sitting, else the last input."""
        return t if self.sitting else self.last_input

    def away(self, t: float) -> bool:
        """Away at ``t``: locked, asleep, or no input for longer than ``idle_pause``
        and not seated."""
        return self.locked or self.asleep or t - self.last_seen(t) > self.idle_pause

    def desk_time(self, a: float, b: float) -> float:
        """How much of ``[a, b)`` was desk time as far as presence goes (R1, R9)."""
        if self.locked or self.asleep:
            return 0.0
        if self.seated:
            return max(0.0, b - a)
        return max(0.0, min(b, self.last_input + self.idle_pause) - a)

    def away_for(self, t: float) -> float:
        """How long the current away period has lasted at ``t`` (0 before any input)."""
        if self.sitting or math.isinf(self.away_from):
            return 0.0
        return max(0.0, t - self.away_from)

    @property
    def break_at(self) -> float:
        """When the current away period becomes a natural break (``inf``: it will not)."""
        if self.break_taken or self.sitting:
            return math.inf
        return self.away_from + self.natural_break

    # -------------------------------------------------------------- changes

    def input_seen(self, at: float, since: float) -> float | None:
        """An idle reading puts the last input at ``at``; ``since`` is the last instant
        already processed. Returns the instant that input counts as presence, or
        ``None`` when it is not presence (nothing new, on the lock screen, asleep).
        """
        if at <= self.last_input or at < self.floor or self.locked or self.asleep:
            return None
        if at >= since:
            return at
        if since - at <= self.idle_pause:
            # Input just before an event we already processed (a command arrived
            # between two samples): count it as presence then.
            return since
        # Old news (the first reading after an event-only start): the user has not
        # been here for a while.
        self.last_input = at
        return None

    def take_break(self, t: float) -> float | None:
        """If the away period has reached ``natural_break`` by ``t`` and has not had
        its natural break yet, it has one now: returns how long it lasted."""
        away = t - self.away_from
        if self.break_taken or self.sitting or away < self.natural_break:
            return None
        self.break_taken = True
        return away

    def arrive(self, at: float) -> None:
        """Input while unlocked and awake: the user is at the desk (again)."""
        self.last_input = at
        self.away_from = max(self.away_from, at)
        self.break_taken = False

    def busy_until(self, t: float) -> None:
        """The user was doing a drill until ``t``: an away period can only start now."""
        self.away_from = max(self.away_from, t)

    def restart(self, t: float) -> None:
        """A pause ended at ``t``: away time counts again from here, toward a natural break."""
        self.busy_until(t)
        self.break_taken = False

    def sit(self, reason: str) -> None:
        """``reason`` began (the caller counts the first as an arrival when awake)."""
        self.seated.add(reason)

    def stand(self, t: float, reason: str) -> None:
        """``reason`` ended at ``t``; the last one to end is the last presence."""
        if reason not in self.seated:
            return
        if self.sitting and len(self.seated) == 1:
            self._last_presence(t)
        self.seated.discard(reason)

    def _last_presence(self, t: float) -> None:
        """Sitting stops counting at ``t``: an away period can only start now."""
        self.last_input = max(self.last_input, t)
        self.away_from = max(self.away_from, t)
        self.break_taken = False

    def lock(self, t: float) -> None:
        if self.sitting:
            self._last_presence(t)
        self.locked = True

    def unlock(self, t: float) -> None:
        self.locked = False
        self.floor = t

    def sleep(self, t: float) -> None:
        if self.sitting:
            self._last_presence(t)
        self.asleep = True

    def wake(self, t: float) -> None:
        self.asleep = False
        self.floor = t
