"""What each scheduler effect looks like as a notification: pure functions, no IO.

Copy rules (tested): every body line stays within :data:`LINE_MAX` characters;
buttons are Start now / Snooze (its length, from the setting) / Skip, with Snooze
left out when no snoozes remain; a drill's prompt, start, steps and end share the
slot ``"drill"`` so they update one bubble in place; nothing promises to fix,
prevent or treat anything.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from ergobreak.commands import Request
from ergobreak.core import effects as fx
from ergobreak.core.content import Content, Drill, Step
from ergobreak.core.duration import format_amount, format_clock
from ergobreak.core.settings import DrillSettings
from ergobreak.platform.base import Action, Dismiss, Notification
from ergobreak.tomlfile import Diagnostic
from ergobreak.tomlfile.wording import short_path

LINE_MAX = 120
TITLE_MAX = 60
DRILL_SLOT = "drill"
POSTURE_SLOT = "posture"
NOTICE_SLOT = "notice"
#: the snooze length when the caller does not say (the settings' default, one source)
SNOOZE = DrillSettings().snooze
#: warnings about the settings, and the policy that could not be read: bubbles of their
#: own, so a reload's "Settings updated" does not replace them
SETTINGS_SLOT = "settings"
POLICY_SLOT = "policy"
#: what the user is told while the last good policy stays in force
POLICY_KEPT = "Your organization's settings could not be read; the previous ones stay in force."
#: warnings a settings bubble names; the rest are counted
WARNINGS_SHOWN = 2
#: seconds a posture check stays up when the server honours timeouts
POSTURE_TIMEOUT = fx.POSTURE_SHOWN
NOTICE_TIMEOUT = 10.0


def line(text: str, limit: int = LINE_MAX) -> str:
    """One line of copy, shortened with an ellipsis at a word boundary if needed."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    short = textwrap.shorten(text, width=limit, placeholder="…")
    if len(short) < limit // 2:  # one very long word: cut it instead of dropping it
        short = text[: limit - 1] + "…"
    return short


def lines(*texts: str) -> str:
    """Body text: each paragraph wrapped into lines of at most :data:`LINE_MAX`."""
    out: list[str] = []
    for text in texts:
        if text:
            out += textwrap.wrap(" ".join(text.split()), LINE_MAX) or [""]
    return "\n".join(out)


def drill_icon(drill: Drill) -> str:
    return f"drill-{drill.category}"


#: the prompt's promise, only where an idle source sees the user stop typing
STARTS_WHEN_IDLE = "It starts by itself when you stop typing."
#: without one (wall-clock mode) nothing would ever start it but a press
STARTS_ON_PRESS = "It starts when you press Start now."


def drill_prompt(
    prompt: fx.DrillPrompt, snooze_seconds: float = SNOOZE, *, idle_known: bool = True
) -> Notification:
    """``idle_known``: the desk has an idle source, so stopping typing starts the drill."""
    drill = prompt.drill
    actions = [Action("start", "Start now", Request("start", {"routine": drill.id}))]
    if prompt.snoozes_left > 0:
        snooze = f"Snooze {format_amount(snooze_seconds)}"
        actions.append(Action("snooze", snooze, Request("snooze")))
    actions.append(Action("skip", "Skip", Request("skip")))
    minutes_long = max(1, round(drill.seconds / 60))
    after_call = ""
    if prompt.after_call is not None:
        after_call = (
            f"You sat through a {format_amount(prompt.after_call)} call:"
            f" {minutes_long} minutes for your hips?"
        )
    # While the person sits without input (watching), stopping typing starts nothing.
    by_itself = idle_known and not prompt.seated
    return Notification(
        title=line(f"{minutes_long}-minute drill: {drill.title}", TITLE_MAX),
        body=lines(
            after_call,
            drill.summary or drill.title,
            STARTS_WHEN_IDLE if by_itself else STARTS_ON_PRESS,
        ),
        actions=tuple(actions),
        icon=drill_icon(drill),
        timeout=0,
        category="x-ergobreak.prompt",
        slot=DRILL_SLOT,
    )


#: the first line of a drill's opening bubble, which carries its safety note
SAFETY_HEADING = "Before you start"


def safety_status(seconds: float) -> str:
    """``Before you start · 0:08``: the safety note's line, like a step's."""
    return f"{SAFETY_HEADING} · {format_clock(seconds)}"


def drill_start(start: fx.DrillStart) -> Notification:
    """A drill's first bubble: its safety note alone, until step 1 replaces it."""
    drill = start.drill
    return Notification(
        title=line(drill.title, TITLE_MAX),
        body=lines(safety_status(start.timeline.safety), drill.safety),
        actions=(Action("skip", "Stop", Request("skip")),),
        icon=drill_icon(drill),
        timeout=0,
        category="x-ergobreak.drill",
        slot=DRILL_SLOT,
    )


def step_status(index: int, total: int, step: Step) -> str:
    """``Step 2 of 5 · 0:40 · left leg``."""
    parts = [f"Step {index + 1} of {total}", format_clock(step.seconds)]
    if step.side:
        parts.append(f"{step.side} leg")
    return " · ".join(parts)


def drill_step(step: fx.DrillStep) -> Notification:
    drill = step.drill
    return Notification(
        title=line(drill.title, TITLE_MAX),
        body=lines(step_status(step.index, step.total, step.step), step.step.text),
        actions=(Action("skip", "Stop", Request("skip")),),
        icon=drill_icon(drill),
        timeout=0,
        category="x-ergobreak.drill",
        slot=DRILL_SLOT,
    )


def drill_end(end: fx.DrillEnd) -> Notification | Dismiss:
    drill = end.drill
    if end.outcome != "done":
        return Dismiss(DRILL_SLOT)  # skipped, ignored or cancelled: just clear the bubble
    return Notification(
        title=line(f"Done: {drill.title}", TITLE_MAX),
        body="Nice work. Ease back into your seat.",
        icon=drill_icon(drill),
        timeout=NOTICE_TIMEOUT,
        urgency="low",
        category="x-ergobreak.drill",
        slot=DRILL_SLOT,
    )


def posture_check(check: fx.PostureCheck, content: Content) -> Notification:
    return Notification(
        title="Posture check",
        body=lines(check.cue.text, content.eye_cue),
        icon="posture",
        timeout=POSTURE_TIMEOUT,
        category="x-ergobreak.posture",
        slot=POSTURE_SLOT,
    )


#: the title of a refused command's notice; the body says why and what to do
REFUSED: dict[fx.CommandName, str] = {
    "start": "No new drill now",
    "posture": "No posture check now",
    "snooze": "Nothing to snooze",
    "skip": "Nothing to skip",
    "pause": "Not paused",
    "resume": "Nothing to resume",
}


def rejected(rej: fx.Rejected) -> Notification:
    return Notification(
        title=line(REFUSED.get(rej.command, "Not done"), TITLE_MAX),
        body=lines(rej.reason),
        icon="ergobreak",
        urgency="low",
        timeout=NOTICE_TIMEOUT,
        slot=NOTICE_SLOT,
    )


def config_error(diagnostics: Sequence[Diagnostic], path: str | None = None) -> Notification:
    """The config could not be used as written; the previous settings stay in force.
    The problem comes first, with its fix and a short path (wrapped, never cut), so a
    long home folder cannot push out what is wrong."""
    errors = [d for d in diagnostics if d.severity == "error"] or list(diagnostics)
    first = errors[0].brief() if errors else "the config file could not be read"
    more = f" (+{len(errors) - 1} more: ergobreak config check)" if len(errors) > 1 else ""
    where = f"Fix {short_path(path)}" if path else "Fix your config file"
    return Notification(
        title="ergobreak: config problem",
        body=lines(first + more, f"Keeping the previous settings until then. {where}."),
        icon="ergobreak",
        urgency="critical",
        slot=NOTICE_SLOT,
    )


def _in_a_line(diag: Diagnostic) -> str:
    """``config.toml:3: drill.evrey: unknown key (ignored) — did you mean drill.every?``:
    the file's name, not its whole path, so what is wrong fits the bubble."""
    name = diag.path.replace("\\", "/").rsplit("/", 1)[-1] or diag.path
    where = f"{name}:{diag.line}" if diag.line is not None else name
    key = f"{diag.key}: " if diag.key else ""
    hint = f" — {diag.hint}" if diag.hint else ""
    return line(f"{where}: {key}{diag.message}{hint}")


def config_warnings(warnings: Sequence[Diagnostic]) -> Notification:
    """Warnings about the user's settings, each told once: the first few, then a count."""
    shown = [_in_a_line(d) for d in warnings[:WARNINGS_SHOWN]]
    more = len(warnings) - len(shown)
    if more > 0:
        shown.append(f"and {more} more: ergobreak config check")
    return Notification(
        title="ergobreak: check your settings",
        body="\n".join(shown),
        icon="ergobreak",
        slot=SETTINGS_SLOT,
    )


def policy_unread(errors: Sequence[Diagnostic], *, kept: bool) -> Notification:
    """The policy files on disk could not be used (``kept``: the last good policy stays)."""
    if kept:
        said = POLICY_KEPT
    else:
        said = "Some of your organization's settings could not be read; the rest apply."
    first = _in_a_line(errors[0]) if errors else ""
    return Notification(
        title="ergobreak: organization settings",
        body=lines(said, first),
        icon="ergobreak",
        slot=POLICY_SLOT,
    )


def present(
    effect: fx.Effect,
    content: Content,
    snooze_seconds: float = SNOOZE,
    *,
    idle_known: bool = True,
) -> Notification | Dismiss | None:
    """The notification for one effect, a :class:`Dismiss`, or None (nothing to show:
    natural breaks, deferrals, pauses and state changes are the tray's business).
    ``idle_known`` is False in wall-clock mode (no idle source)."""
    match effect:
        case fx.DrillPrompt():
            return drill_prompt(effect, snooze_seconds, idle_known=idle_known)
        case fx.DrillStart():
            return drill_start(effect)
        case fx.DrillStep():
            return drill_step(effect)
        case fx.DrillEnd():
            return drill_end(effect)
        case fx.PostureCheck():
            return posture_check(effect, content)
        case fx.Snoozed():
            return Dismiss(DRILL_SLOT)
        case fx.Withdrawn(kind=kind):  # quiet or the lock began: take it off the screen
            return Dismiss(DRILL_SLOT if kind == "drill" else POSTURE_SLOT)
        case fx.Rejected():
            return rejected(effect)
    return None
