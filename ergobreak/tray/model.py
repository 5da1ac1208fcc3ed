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

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from ergobreak.commands import Request
from ergobreak.core.duration import format_clock, format_countdown

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
    """

    view: View
    wall: float
    tz: tzinfo | None = None
    today: str = ""
    config_error: str | None = None
    managed_by: str | None = None
    version: str = ""


@dataclass(frozen=True, slots=True)
class UntilTomorrow:
    """A pause that ends at the next local midnight, computed when clicked (a menu
    can stay open, or unchanged, for hours)."""

    tz: tzinfo | None = None

    def resolve(self, wall: float) -> Request:
        now = datetime.fromtimestamp(wall, self.tz or _local())
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
        seconds = max(60.0, midnight.timestamp() - wall)
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
    """``14:30`` when ``wall`` is on the same local day as ``now``, else ``Mon 09:00``."""
    zone = tz or _local()
    when = datetime.fromtimestamp(wall, zone)
    if now is not None and datetime.fromtimestamp(now, zone).date() == when.date():
        return when.strftime("%H:%M")
    return when.strftime("%a %H:%M")


def _next_up(view: View) -> str:
    parts = []
    if view.next_drill_in is not None:
        parts.append(f"next drill in {format_countdown(view.next_drill_in)}")
    if view.next_posture_in is not None:
        parts.append(f"posture check in {format_countdown(view.next_posture_in)}")
    return " · ".join(parts) or "reminders are switched off"


def headline(state: TrayState) -> str:
    """The status line: what is going on and what comes next, in one short line."""
    view = state.view
    match view.state:
        case "paused":
            if view.paused_for is None:
                return "Paused until you resume"
            until = clock(state.wall + view.paused_for, state.tz, now=state.wall)
            return f"Paused until {until}"
        case "off_hours":
            if view.hours_change_in is None:
                return "Outside working hours"
            back = clock(state.wall + view.hours_change_in, state.tz, now=state.wall)
            return f"Outside working hours — back {back}"
        case "drill":
            step = f"step {view.step} of {view.steps}" if view.steps else "running"
            if view.step_left is None:
                return f"Drill: {step}"
            return f"Drill: {step}, {format_clock(view.step_left, left=True)} left"
        case "prompt":
            return "Time for a 2-minute drill"
        case "snoozed":
            if view.next_drill_in is None:
                return "Drill snoozed"
            return f"Drill snoozed — back in {format_countdown(view.next_drill_in)}"
        case "quiet":
            why = ", ".join(view.quiet) or "quiet"
            return f"Quiet ({why}): reminders held"
        case "away":
            return f"Away: timers stopped · {_next_up(view)}"
        case _:
            text = _next_up(view)
            return text[0].upper() + text[1:]


def tooltip(state: TrayState) -> tuple[str, str]:
    """(title, body) for the tray's tooltip: the headline, then details one per line."""
    lines = []
    if state.config_error:
        lines.append(f"Config error: {state.config_error}")
    view = state.view
    if view.state == "prompt" and view.max_snoozes:
        left = max(0, view.max_snoozes - view.snoozes)
        lines.append(f"Start now, snooze ({left} left) or skip")
    if state.today:
        lines.append(state.today)
    if state.managed_by is not None:
        lines.append(managed_label(state.managed_by))
    return headline(state), "\n".join(lines)


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
                    f"Snooze ({left} left)",
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
        MenuEntry("Until tomorrow", UntilTomorrow(state.tz)),
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
