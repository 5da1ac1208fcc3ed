"""The commented config file, rendered from the schema so it can never drift from it.

``config/ergobreak.toml`` (shipped, every key set to its default) and the file
``ergobreak config init`` writes (every key commented out, so IT's recommended
defaults still apply until the user uncomments one) both come from here. Run
``python -m ergobreak.config.template > config/ergobreak.toml`` after changing
the schema; a test checks the shipped file is current.
"""

from __future__ import annotations

import textwrap

from ergobreak.config.schema import KEYS, Key
from ergobreak.config.values import format_toml
from ergobreak.core.duration import format_duration

HEADER = """\
# ergobreak settings
#
# Durations are written with a unit: "90s", "20m", "1h30m".
# Check this file with `ergobreak config check`, see what is in force and why
# with `ergobreak config show --origin`. A running ergobreak picks up changes
# within seconds; if the file has an error it keeps the previous settings.
# Safety notes and stop rules: `ergobreak safety`.
"""

SECTIONS: dict[str, str] = {
    "activity": (
        "Desk time is time at the keyboard and mouse. A short pause (reading) still "
        "counts; a longer one pauses the timers, and being away long enough (idle, "
        "screen locked, asleep) is a natural break that restarts them."
    ),
    "posture": (
        "One short posture cue, then the 20-20-20 eye cue. Every 20 minutes of desk "
        "time follows the eye-care 20-20-20 advice and studies of short, frequent "
        "microbreaks."
    ),
    "drill": (
        "A 2-minute guided movement break. Every 30 minutes of desk time follows the "
        "Cornell 20-8-2 sit/stand/move cycle. It starts when you stop typing, or from "
        "the notification; keep working and it is snoozed."
    ),
    "quiet": (
        "During fullscreen windows, do-not-disturb and calls (camera in use) prompts "
        "are held, and one catch-up is offered afterwards."
    ),
    "schedule": "Outside working hours nothing is counted or shown (local time).",
    "routines": (
        "Which drills are in the rotation. Drills with anything you exclude, need "
        "equipment you lack, or need floor space when floor = false are left out. "
        "See them with `ergobreak routines list`."
    ),
    "history": "Your break history stays on this computer: `ergobreak stats`.",
}


def _range(key: Key) -> str:
    if key.min is None and key.max is None:
        return ""
    show = format_duration if key.kind == "duration" else (lambda v: str(int(v)))
    low = show(key.min) if key.min is not None else "…"
    high = show(key.max) if key.max is not None else "…"
    return f" Allowed: {low} to {high}."


def render(*, active: bool = True) -> str:
    """The commented config file; with ``active=False`` every key is commented out."""
    lines = [HEADER, "schema = 1"]
    sections: dict[str, list[Key]] = {}
    for key in (k for k in KEYS if not k.policy_only):
        sections.setdefault(key.name.split(".", 1)[0], []).append(key)
    for table, keys in sections.items():
        lines.append("")
        intro = SECTIONS.get(table)
        if intro:
            lines += ["# " + line for line in textwrap.wrap(intro, 86)]
        lines.append(f"[{table}]")
        for key in keys:
            doc = key.doc + _range(key)
            lines += ["# " + line for line in textwrap.wrap(doc, 86)]
            leaf = key.name.split(".", 1)[1]
            lines.append(("" if active else "# ") + f"{leaf} = {format_toml(key.default)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
