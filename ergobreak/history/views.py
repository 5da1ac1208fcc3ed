"""Pure functions from history summaries to text: the terminal table with bar
sparklines, JSON, CSV, and the tray's "Today" line."""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date

from ergobreak.core.content import ANSWERS
from ergobreak.core.duration import format_compact
from ergobreak.history.model import DayStats, RoutineStats, StretchRow, Summary

#: a sitting stretch at least this long (desk seconds) counts as *long*
LONG_STRETCH = 45 * 60.0

_BLOCKS = " ▏▎▍▌▋▊▉█"
_SPARK = "▁▂▃▄▅▆▇█"
_SPARK_ASCII = "_.-=+*#@"


def can_unicode(encoding: str | None) -> bool:
    """True when text in ``encoding`` can carry the block characters."""
    if not encoding:
        return False
    try:
        codecs.lookup(encoding)
        (_BLOCKS + _SPARK + "·").encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


def bar(value: float, peak: float, width: int, *, unicode: bool = True) -> str:
    """A horizontal bar ``width`` cells wide at full scale (``value == peak``)."""
    if peak <= 0 or value <= 0:
        return ""
    eighths = round(min(value / peak, 1.0) * width * 8)
    if not unicode:
        return "#" * max(1, round(eighths / 8))
    full, part = divmod(max(eighths, 1), 8)
    return "█" * full + (_BLOCKS[part] if part else "")


def sparkline(values: Sequence[float], *, unicode: bool = True) -> str:
    """One character per value, scaled to the largest; blank cells for zero."""
    chars = _SPARK if unicode else _SPARK_ASCII
    peak = max(values, default=0.0)
    out = []
    for v in values:
        if v <= 0 or peak <= 0:
            out.append(" ")
        else:
            out.append(chars[min(len(chars) - 1, int(v / peak * (len(chars) - 1) + 0.5))])
    return "".join(out)


def heat_slots(
    stretches: Sequence[StretchRow],
    days: Sequence[str],
    *,
    slot_minutes: int = 30,
    min_desk: float = LONG_STRETCH,
) -> dict[str, list[float]]:
    """Per day, the minutes of each time-of-day slot covered by long sitting stretches
    (those of at least ``min_desk`` desk seconds), placed by their local minutes."""
    slots = 24 * 60 // slot_minutes
    out = {day: [0.0] * slots for day in days}
    for s in stretches:
        if s.desk_seconds < min_desk or s.day not in out:
            continue
        row = out[s.day]
        spans = (
            [(s.start_min, s.end_min + 1)]
            if s.end_min >= s.start_min
            else [(s.start_min, 24 * 60), (0, s.end_min + 1)]  # past midnight
        )
        for a, b in spans:
            for i in range(a // slot_minutes, min(slots, (b - 1) // slot_minutes + 1)):
                lo, hi = i * slot_minutes, (i + 1) * slot_minutes
                row[i] += max(0, min(b, hi) - max(a, lo))
    return out


def hourly_long_minutes(summary: Summary) -> list[float]:
    """Minutes inside long stretches per hour of the day, summed over the period."""
    per_day = heat_slots(summary.stretches, summary.period.days(), slot_minutes=60)
    return [sum(row[h] for row in per_day.values()) for h in range(24)]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def answers_text(d: DayStats) -> str:
    """``3 drills done, 1 skipped, 2 ignored``: only what happened, ignored counted
    apart from skipped; ``""`` when no drill was answered or let lapse."""
    parts = []
    if d.drills_done:
        parts.append(f"{_plural(d.drills_done, 'drill')} done")
    for count, word in ((d.drills_skipped, "skipped"), (d.drills_ignored, "ignored")):
        if count:
            parts.append(f"{count} {word}" if parts else f"{_plural(count, 'drill')} {word}")
    return ", ".join(parts)


def felt_text(r: RoutineStats) -> str:
    """``2 right, 1 hard``: the "How was it?" answers about one drill (``""``: none)."""
    return ", ".join(f"{n} {answer}" for answer, n in zip(ANSWERS, r.felt, strict=True) if n)


def today_text(d: DayStats) -> str:
    """``Today: 3 drills done, 1 skipped · 9 posture checks · 4h12m at the desk,
    longest 48m``; ``No drills yet today`` first when no drill was answered. Counts
    that are zero are left out: the line never shows an empty score."""
    drills = answers_text(d)
    parts = [f"Today: {drills}" if drills else "No drills yet today"]
    if d.posture_checks:
        parts.append(_plural(d.posture_checks, "posture check"))
    if d.desk_seconds >= 60:
        desk = f"{format_compact(d.desk_seconds)} at the desk"
        if d.longest_stretch >= 60:
            desk += f", longest {format_compact(d.longest_stretch)}"
        parts.append(desk)
    return " · ".join(parts)


def _count(n: int) -> str:
    return str(n) if n else "-"


def _label(day: str) -> str:
    return date.fromisoformat(day).strftime("%a %m-%d")


def render_table(
    summary: Summary,
    *,
    unicode: bool = True,
    titles: Mapping[str, str] | None = None,
    width: int = 20,
) -> str:
    """The ``ergobreak stats`` table."""
    titles = titles or {}
    p = summary.period
    span = p.start.isoformat() if p.start == p.end else f"{p.start} .. {p.end}"
    lines = [f"ergobreak stats: {p.name}, {span}", ""]
    if summary.empty:
        lines.append("Nothing recorded in this period yet. Breaks, drills and desk time")
        lines.append("appear here once ergobreak has been running.")
        return "\n".join(lines) + "\n"
    peak = max(d.desk_seconds for d in summary.days)
    dot = "·" if unicode else "."
    header = (
        f"{'Day':<9}  {'Desk time':<{width + 7}}  {'Done':>4}  {'Skipped':>7}  {'Ignored':>7}"
        f"  {'Posture':>7}  {'Longest':>7}  {'Breaks':>6}"
    )
    lines += [header, "-" * len(header)]

    def row(label: str, d: DayStats, graph: str) -> str:
        desk = f"{graph:<{width}} {format_compact(d.desk_seconds):>6}"
        longest = format_compact(d.longest_stretch) if d.longest_stretch else "-"
        return (
            f"{label:<9}  {desk:<{width + 7}}  {_count(d.drills_done):>4}"
            f"  {_count(d.drills_skipped):>7}  {_count(d.drills_ignored):>7}"
            f"  {_count(d.posture_checks):>7}  {longest:>7}  {_count(d.natural_breaks):>6}"
        )

    for d in summary.days:
        if d.empty:
            lines.append(f"{_label(d.day):<9}  {dot}")
            continue
        lines.append(row(_label(d.day), d, bar(d.desk_seconds, peak, width, unicode=unicode)))
    if len(summary.days) > 1:
        lines.append("-" * len(header))
        lines.append(row("Total", summary.total(), ""))
    lines.append("")
    total = summary.total()
    done = [float(d.drills_done) for d in summary.days]
    if len(summary.days) > 1 and any(done):
        lines.append(f"{'Drills done per day':<24}{sparkline(done, unicode=unicode)}")
    hours = hourly_long_minutes(summary)
    if any(hours):
        first = next(i for i, v in enumerate(hours) if v)
        last = max(i for i, v in enumerate(hours) if v)
        strip = sparkline(hours[first : last + 1], unicode=unicode)
        lines.append(
            f"{'Long sitting by hour':<24}{first:02d}h {strip} {last + 1:02d}h"
            f"  (stretches of {format_compact(LONG_STRETCH)}+ without a real break)"
        )
    answers = [answers_text(total) or "no drills yet"]
    if total.snoozes:
        answers.append(_plural(total.snoozes, "snooze"))
    if total.drills_cancelled:
        answers.append(f"{total.drills_cancelled} withdrawn")
    lines.append(f"{'Drill answers':<24}{', '.join(answers)}")
    done_most = [r for r in summary.routines if r.done][:3]
    skipped_most = sorted((r for r in summary.routines if r.skipped), key=lambda r: -r.skipped)
    if done_most:
        lines.append(
            f"{'Most done':<24}"
            + ", ".join(f"{titles.get(r.routine, r.routine)} ({r.done})" for r in done_most)
        )
    if skipped_most:
        lines.append(
            f"{'Most skipped':<24}"
            + ", ".join(
                f"{titles.get(r.routine, r.routine)} ({r.skipped})" for r in skipped_most[:3]
            )
        )
    felt = sorted((r for r in summary.routines if any(r.felt)), key=lambda r: -sum(r.felt))
    if felt:
        lines.append(
            f"{'How they felt':<24}"
            + "; ".join(f"{titles.get(r.routine, r.routine)}: {felt_text(r)}" for r in felt[:3])
        )
    if summary.dropped:
        lines.append(f"({summary.dropped} steps could not be recorded: the disk was too slow)")
    return "\n".join(lines) + "\n"


def to_json(summary: Summary) -> str:
    """``ergobreak stats --json``: one object, stable keys, seconds as integers."""
    total = summary.total().as_dict()
    del total["day"]
    doc = {
        "period": {
            "name": summary.period.name,
            "start": summary.period.start.isoformat(),
            "end": summary.period.end.isoformat(),
        },
        "totals": total,
        "days": [d.as_dict() for d in summary.days],
        "routines": [r.as_dict() for r in summary.routines],
        "long_stretch_minutes_by_hour": [round(v) for v in hourly_long_minutes(summary)],
        "long_stretch_seconds": round(LONG_STRETCH),
        "dropped_steps": summary.dropped,
    }
    return json.dumps(doc, indent=2) + "\n"


def to_csv(summary: Summary) -> str:
    """``ergobreak stats --csv``: one row per day, header first."""
    buf = io.StringIO()
    rows = [d.as_dict() for d in summary.days]
    writer = csv.DictWriter(buf, fieldnames=list(DayStats(day="").as_dict()), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
