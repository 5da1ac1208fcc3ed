"""What the tray shows, as plain data: the menu, the tooltip and the status line.

The daemon builds a :class:`TrayState` from the core's :class:`~ergobreak.core.machine.View`
plus a few app facts, and everything here is a pure function of it, so the menu and
the texts are tested without any desktop. Menu entries carry the :class:`Request` they
trigger; the backends only turn a click into ``on_request(request)``.

Texts change at most once a minute (countdowns are shown in whole minutes, rounded
up, by :func:`~ergobreak.core.duration.format_countdown`, as ``ergobreak status`` shows
them), so a tray that re-sends only what changed stays quiet while the user works and
silent while they are away.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from ergobreak.commands import Request
from ergobreak.core.duration import format_amount, format_clock, format_countdown

if TYPE_CHECKING:  # the tray only reads the View; it needs no scheduler code to run
    from ergobreak.core.machine import View

#: pause choices offered in the "Pause" submenu: label -> seconds
PAUSE_CHOICES: tuple[tuple[str, float], ...] = (("30 minutes", 1800.0), ("1 hour", 3600.0))


@dataclass(frozen=True, slots=True, kw_only=True)
class TrayState:
    """Everything the tray needs, taken at one instant.

    ``wall`` is the POSIX time at which ``view`` was taken (the texts turn the
    view's relative seconds into local clock times with ``tz``; None = the
    system's zone). ``today`` is the one-line summary from
    :func:`ergobreak.history.views.today_text`; ``config_error`` is a short,
    user-facing message when the configuration could not be (fully) loaded;
    ``managed_by`` names the organization whose policy applies ("" when unnamed).
    ``snooze`` is how long a snooze lasts (None: unknown, the label leaves it out);
    ``hours`` the working hours in force, as (start, end) minutes after midnight
    (empty: none, or unknown).
    """

    view: View
    wall: float
    tz: tzinfo | None = None
    today: str = ""
    config_error: str | None = None
    managed_by: str | None = None
    version: str = ""
    snooze: float | None = None
    hours: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class UntilTomorrow:
    """A pause that ends when tomorrow's working hours begin (``hours``: the spans in
    force, as in :class:`TrayState`), or at the next local midnight without them or
    when a span runs past midnight; computed when clicked (a menu can stay open, or
    unchanged, for hours)."""

    tz: tzinfo | None = None
    hours: tuple[tuple[int, int], ...] = ()

    def resolve(self, wall: float) -> Request:
        now = datetime.fromtimestamp(wall, self.tz or _local())
        start = 0
        if self.hours and all(end > begin for begin, end in self.hours):
            start = min(begin for begin, _ in self.hours)
        at = datetime.min.time().replace(hour=start // 60, minute=start % 60)
        ends = datetime.combine(now.date() + timedelta(days=1), at, now.tzinfo)
        seconds = max(60.0, ends.timestamp() - wall)
        return Request("pause", {"seconds": round(seconds)})


#: what a menu entry does: a fixed request, or one computed at click time
Action = Request | UntilTomorrow


def resolve(action: Action, wall: float) -> Request:
    """The request to send for ``action`` clicked at ``wall``."""
    return action if isinstance(action, Request) else action.resolve(wall)


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """One menu line. ``action`` None with no ``submenu`` is an informative line;
    ``label == "-"`` is a separator. ``default`` marks what a left click (or the
    SNI ``Activate`` call) does when the host does not open the menu."""

    label: str
    action: Action | None = None
    enabled: bool = True
    default: bool = False
    submenu: tuple[MenuEntry, ...] = field(default_factory=tuple)

    @property
    def separator(self) -> bool:
        return self.label == "-"


SEPARATOR = MenuEntry("-", enabled=False)


# --------------------------------------------------------------------------- texts


def _local() -> tzinfo:
    from ergobreak.localtz import LocalTimezone  # noqa: PLC0415 - tiny, only when needed

    return LocalTimezone()


def clock(wall: float, tz: tzinfo | None, *, now: float | None = None) -> str:
    """``14:30`` when ``wall`` is on the same local day as ``now``, ``tomorrow 09:00``
    on the next one, else ``Mon 09:00``."""
    zone = tz or _local()
    when = datetime.fromtimestamp(wall, zone)
    if now is not None:
        today = datetime.fromtimestamp(now, zone).date()
        if when.date() == today:
            return when.strftime("%H:%M")
        if when.date() == today + timedelta(days=1):
            return when.strftime("tomorrow %H:%M")
    return when.strftime("%a %H:%M")


#: what each quiet source is, in words ("quiet for a fullscreen window")
QUIET_WORDS: dict[str, str] = {
    "fullscreen": "a fullscreen window",
    "dnd": "do not disturb",
    "camera": "a call",
    "call": "a call",
    "windows_busy": "a fullscreen app or presentation",
}
#: what each seated reason means for the person, one line each
SEATED_WORDS: dict[str, str] = {
    "call": "In a call: prompts wait until it ends",
    "watching": "Watching: desk time counts",
}


def quiet_words(sources: Iterable[str]) -> str:
    """``a fullscreen window and do not disturb``: quiet sources as words, each once."""
    said: list[str] = []
    for source in sources:
        word = QUIET_WORDS.get(source, source.replace("_", " "))
        if word not in said:
            said.append(word)
    if len(said) <= 1:
        return "".join(said)
    return ", ".join(said[:-1]) + " and " + said[-1]


def hours_text(hours: Iterable[tuple[int, int]]) -> str:
    """``09:00-17:30`` (several spans joined by commas)."""
    return ", ".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in hours)


def _hhmm(minute: int) -> str:
    return f"{minute // 60 % 24:02d}:{minute % 60:02d}"


def snooze_label(state: TrayState) -> str:
    """``Snooze 20 s (2 left)``: how long, from the setting, and how many remain."""
    view = state.view
    left = max(0, view.max_snoozes - view.snoozes)
    length = "" if state.snooze is None else f" {format_amount(state.snooze)}"
    return f"Snooze{length} ({left} left)"


def _next_up(view: View) -> str:
    parts = []
    if view.next_drill_in is not None:
        parts.append(f"next drill in {format_countdown(view.next_drill_in)}")
    if view.next_posture_in is not None:
        parts.append(f"posture check in {format_countdown(view.next_posture_in)}")
    return " · ".join(parts) or "reminders are switched off"


def headline(state: TrayState) -> str:
    """The status line: what is going on and what comes next, in one short line.

    The tray's tooltip and menu and ``ergobreak status`` all say it: one set of words.
    """
    view = state.view
    match view.state:
        case "paused":
            if view.paused_for is None:
                return "Paused until you resume"
            until = clock(state.wall + view.paused_for, state.tz, now=state.wall)
            return f"Paused until {until}"
        case "off_hours":
            hours = f" ({hours_text(state.hours)})" if state.hours else ""
            if view.hours_change_in is None:
                return f"Outside working hours{hours}"
            back = clock(state.wall + view.hours_change_in, state.tz, now=state.wall)
            return f"Outside working hours{hours} — back {back}"
        case "drill":
            step = f": step {view.step} of {view.steps}" if view.steps else ""
            if view.steps and view.step == 0:  # the drill opens with its safety note
                step = ": safety note"
            if view.step_left is None:
                return f"Drill running{step}"
            return f"Drill running{step}, {format_clock(view.step_left, left=True)} left"
        case "prompt":
            return "Drill prompt on screen"
        case "snoozed":
            if view.next_drill_in is None:
                return "Drill snoozed"
            return f"Drill snoozed — back in {format_countdown(view.next_drill_in)}"
        case "quiet":
            others = [q for q in view.quiet if QUIET_WORDS.get(q) != "a call"]
            if "call" in view.seated and not others:
                return SEATED_WORDS["call"]
            return f"Quiet for {quiet_words(view.quiet) or 'now'}: reminders wait until it ends"
        case "away":
            return f"Away: timers stopped · {_next_up(view)}"
        case _:
            text = _next_up(view)
            return text[0].upper() + text[1:]


def details(state: TrayState) -> list[str]:
    """The lines under the headline that say what the person can do or what holds,
    shared by the tooltip and ``ergobreak status``."""
    view = state.view
    lines = []
    if view.state == "prompt":
        if view.max_snoozes:
            left = max(0, view.max_snoozes - view.snoozes)
            lines.append(f"Start now, snooze ({left} left) or skip")
        else:
            lines.append("Start now or skip")
    said = headline(state)
    for reason in view.seated:
        words = SEATED_WORDS.get(reason)
        if words is not None and words != said:
            lines.append(words)
    return lines


def tooltip(state: TrayState) -> tuple[str, str]:
    """(title, body) for the tray's tooltip: the headline, then details one per line."""
    lines = []
    if state.config_error:
        lines.append(f"Config error: {state.config_error}")
    lines += details(state)
    if state.today:
        lines.append(state.today)
    if state.managed_by is not None:
        lines.append(managed_label(state.managed_by))
    return headline(state), "\n".join(lines)


#: what a View field is when a status reply leaves it out (an older or partial reply)
_VIEW_GAPS: dict[str, Any] = {
    "state": "starting",
    "phase": "working",
    "in_hours": True,
    "posture_desk": 0.0,
    "drill_desk": 0.0,
    "snoozes": 0,
    "max_snoozes": 0,
    "paused": False,
    "quiet": (),
    "away_for": 0.0,
    "desk_since_break": 0.0,
    "seated": (),
}


def state_from_status(
    status: Mapping[str, Any], tz: tzinfo | None = None, *, now: float = 0.0
) -> TrayState:
    """The :class:`TrayState` a ``status`` reply describes, so that ``ergobreak status``
    says what the tray says (the reply carries the View's fields by name, the wall
    time it was taken at, the snooze length and the working hours); ``now`` stands
    for the wall time when the reply has none."""
    from ergobreak.core.machine import View  # noqa: PLC0415 - only the CLI needs it

    values: dict[str, Any] = {}
    for f in fields(View):
        value = status.get(f.name, _VIEW_GAPS.get(f.name))
        values[f.name] = tuple(value) if isinstance(value, list) else value
    hours = tuple((int(a), int(b)) for a, b in status.get("hours") or ())
    wall = status.get("wall")
    return TrayState(
        view=View(**values),
        wall=float(wall) if isinstance(wall, (int, float)) else now,
        tz=tz,
        snooze=status.get("snooze"),
        hours=hours,
    )


def managed_label(org: str) -> str:
    """The line of the tray and ``config show`` when a policy applies ("" : unnamed)."""
    return f"Managed by {org}" if org else "Managed by your organization"


# --------------------------------------------------------------------------- the menu


def menu_model(state: TrayState) -> tuple[MenuEntry, ...]:
    """The whole menu for ``state``, top to bottom (pure; rebuilt on every change)."""
    view = state.view
    phase = view.phase
    prompted = phase in ("prompted", "snoozed")
    drilling = phase == "drill"
    paused = view.paused
    entries: list[MenuEntry] = [MenuEntry(headline(state), enabled=False)]
    if state.config_error:
        entries.append(MenuEntry(f"⚠ Config error: {_short(state.config_error)}", enabled=False))
    entries.append(SEPARATOR)

    if drilling:
        entries.append(MenuEntry("Stop this drill", Request("skip")))
    else:
        entries.append(MenuEntry("Start a drill now", Request("start"), default=prompted))
        if prompted:
            left = max(0, view.max_snoozes - view.snoozes)
            entries.append(
                MenuEntry(
                    snooze_label(state),
                    Request("snooze"),
                    enabled=phase == "prompted" and left > 0,
                )
            )
            entries.append(MenuEntry("Skip this drill", Request("skip")))
        entries.append(MenuEntry("Posture check now", Request("posture")))
    entries.append(SEPARATOR)

    if paused:
        entries.append(MenuEntry("Resume", Request("resume"), default=not prompted))
    pauses = (
        *(MenuEntry(label, Request("pause", {"seconds": s})) for label, s in PAUSE_CHOICES),
        MenuEntry("Until tomorrow", UntilTomorrow(state.tz, state.hours)),
    )
    entries.append(MenuEntry("Pause again" if paused else "Pause", submenu=pauses))
    entries.append(SEPARATOR)

    if state.today:
        entries.append(MenuEntry(state.today, Request("open_report")))
    entries.append(MenuEntry("Open weekly report", Request("open_report")))
    entries.append(MenuEntry("Open config", Request("open_config"), default=_error_only(state)))
    entries.append(MenuEntry("Reload config", Request("reload")))
    entries.append(MenuEntry("About & safety", Request("open_safety")))
    if state.managed_by is not None:
        entries.append(MenuEntry(managed_label(state.managed_by), enabled=False))
    entries.append(SEPARATOR)
    entries.append(MenuEntry("Quit ergobreak", Request("quit")))
    return tuple(entries)


def _error_only(state: TrayState) -> bool:
    """A config error makes "Open config" the default, unless a drill or pause wants it."""
    return bool(state.config_error) and state.view.phase == "working" and not state.view.paused


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def default_action(entries: tuple[MenuEntry, ...]) -> Action | None:
    """The action of the first enabled entry marked ``default`` (searching submenus)."""
    for entry in entries:
        if entry.default and entry.enabled and entry.action is not None:
            return entry.action
        found = default_action(entry.submenu)
        if found is not None:
            return found
    return None
