"""``ergobreak report``: one self-contained HTML page about the user's own history.

:func:`write_report` is the one way to make it: the CLI and the tray's "Open weekly
report" both call it.

Everything is inline: CSS, SVG charts, no scripts, no fonts, no images, no links
to anywhere; a Content-Security-Policy forbids loading anything, so the page works
offline and cannot leak. Colours follow ``prefers-color-scheme``. Each chart is an
``<svg role="img">`` with a title and a description, followed by the same numbers
as a table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from html import escape
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from ergobreak.core.duration import format_amount, format_compact
from ergobreak.core.settings import Settings
from ergobreak.history.files import write_private
from ergobreak.history.model import DayStats, Period, RoutineStats, Summary
from ergobreak.history.views import LONG_STRETCH, answers_text, heat_slots

if TYPE_CHECKING:
    from ergobreak.history.store import HistoryStore

SLOT_MINUTES = 30
HEADINGS = {
    "day": "Your day of breaks",
    "week": "Your week of breaks",
    "month": "Your month of breaks",
}

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>$title</title>
<style>
:root {
  --bg: #f7f6f2; --card: #ffffff; --ink: #1d2428; --muted: #5d676d; --line: #d9dcd8;
  --grid: #e8e9e4; --desk: #3b7a8c; --done: #2f8f5b; --offered: #cfe6d8;
  --skipped: #d9822b; --ignored: #9aa3a8; --heat: #c2452d; --heat0: #efeee8;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15191c; --card: #1e2428; --ink: #e8ebec; --muted: #a3adb2; --line: #343c41;
    --grid: #2b3236; --desk: #6fb3c6; --done: #5cc48a; --offered: #2e4a3b;
    --skipped: #f0a050; --ignored: #77828a; --heat: #ff7a5c; --heat0: #262d31;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 2rem 1.25rem 3rem; }
h1 { font-size: 1.7rem; margin: 0 0 .25rem; letter-spacing: -.01em; }
h2 { font-size: 1.15rem; margin: 0 0 .25rem; }
p.lede, p.note, .muted { color: var(--muted); }
p.lede { margin: 0 0 1.5rem; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px;
  padding: 1.25rem 1.25rem 1rem; margin: 0 0 1.25rem; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr));
  gap: .75rem; margin: 0 0 1.25rem; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 12px;
  padding: .8rem 1rem; }
.tile .v { font-size: 1.6rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile .k { color: var(--muted); font-size: .9rem; }
svg { display: block; width: 100%; height: auto; margin: .5rem 0; }
svg text { fill: var(--muted); font: 12px system-ui, sans-serif; }
svg text.val { fill: var(--ink); font-weight: 600; }
svg .grid { stroke: var(--grid); stroke-width: 1; }
svg .axis { stroke: var(--line); stroke-width: 1; }
.desk { fill: var(--desk); } .done { fill: var(--done); } .offered { fill: var(--offered); }
.skipped { fill: var(--skipped); } .ignored { fill: var(--ignored); }
.heat { fill: var(--heat); } .heat0 { fill: var(--heat0); }
.legend { display: flex; flex-wrap: wrap; gap: 1rem; font-size: .9rem; color: var(--muted);
  margin: .25rem 0 .5rem; padding: 0; list-style: none; }
.legend li { display: flex; align-items: center; gap: .4rem; }
.sw { display: inline-block; width: .9rem; height: .9rem; border-radius: 3px; }
.sw.desk { background: var(--desk); } .sw.done { background: var(--done); }
.sw.offered { background: var(--offered); } .sw.skipped { background: var(--skipped); }
.sw.ignored { background: var(--ignored); } .sw.heat { background: var(--heat); }
details { margin-top: .5rem; }
summary { cursor: pointer; color: var(--muted); font-size: .9rem; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .9rem;
  font-variant-numeric: tabular-nums; }
th, td { padding: .2rem .75rem .2rem 0; text-align: right; border-bottom: 1px solid var(--line); }
th:first-child, td:first-child { text-align: left; }
footer { color: var(--muted); font-size: .85rem; margin-top: 2rem; }
.empty { padding: 1.5rem 1.25rem; }
.empty ul { margin: .5rem 0 0; padding-left: 1.25rem; }
</style>
</head>
<body>
<main>
<h1>$heading</h1>
<p class="lede">$lede</p>
$body
<footer>Made on this computer by ergobreak $version on $generated from $source.
This page loads nothing from the network, and your break history never leaves this machine.
</footer>
</main>
</body>
</html>
""")


def _short_day(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{d:%a} {d.day}"


def _day_label(day: str, many: bool) -> str:
    return str(date.fromisoformat(day).day) if many else _short_day(day)


def _long_day(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{d:%a} {d.day} {d:%b}"


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _svg(ident: str, size: tuple[int, int], title: str, desc: str, body: list[str]) -> str:
    width, height = size
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="{ident}-t {ident}-d"'
        ">"
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], caption: str) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            (f'<th scope="row">{escape(str(c))}</th>' if i == 0 else f"<td>{escape(str(c))}</td>")
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return (
        f"<details><summary>{escape(caption)} as a table</summary><table>"
        f'<caption class="muted">{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>"
    )


def _nice_step(peak_hours: float) -> float:
    for step in (0.5, 1, 2, 3, 4):
        if peak_hours / step <= 6:
            return step
    return 6.0


def desk_chart(days: Sequence[DayStats]) -> str:
    """Vertical bars: desk hours per day."""
    w, h, left, top, bottom = 720, 260, 44, 24, 30
    pw, ph = w - left - 8, h - top - bottom
    peak_h = max((d.desk_seconds for d in days), default=0.0) / 3600
    step = _nice_step(max(peak_h, 1.0))
    top_h = max(step, math.ceil(peak_h / step) * step)
    body: list[str] = []
    ticks = round(top_h / step)
    for i in range(ticks + 1):
        v = i * step
        y = top + ph - v / top_h * ph
        body.append(f'<line class="grid" x1="{left}" x2="{w - 8}" y1="{y:.1f}" y2="{y:.1f}"/>')
        label = f"{v:g}h"
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    n = max(len(days), 1)
    slot = pw / n
    bw = min(56.0, slot * 0.68)
    many = n > 10
    for i, d in enumerate(days):
        x = left + i * slot + (slot - bw) / 2
        hh = d.desk_seconds / 3600 / top_h * ph
        y = top + ph - hh
        tip = f"{_long_day(d.day)}: {format_compact(d.desk_seconds)} at the desk"
        if d.desk_seconds > 0:
            body.append(
                f'<rect class="desk" x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{hh:.1f}"'
                f' rx="3"><title>{escape(tip)}</title></rect>'
            )
            if not many:
                body.append(
                    f'<text class="val" x="{x + bw / 2:.1f}" y="{y - 6:.1f}"'
                    f' text-anchor="middle">{format_compact(d.desk_seconds)}</text>'
                )
        if not many or i % 2 == (n - 1) % 2:
            body.append(
                f'<text x="{x + bw / 2:.1f}" y="{h - 10}" text-anchor="middle">'
                f"{escape(_day_label(d.day, many))}</text>"
            )
    body.append(f'<line class="axis" x1="{left}" x2="{w - 8}" y1="{top + ph}" y2="{top + ph}"/>')
    total = sum(d.desk_seconds for d in days)
    worked = [d for d in days if d.desk_seconds > 0]
    desc = f"Desk time per day over {len(days)} days: {format_compact(total)} in total" + (
        f", {format_compact(total / len(worked))} on average on {len(worked)} days at the desk."
        if worked
        else "."
    )
    svg = _svg("desk", (w, h), "Desk time per day", desc, body)
    table = _table(
        ("Day", "Desk time", "Longest stretch"),
        [
            (_long_day(d.day), format_compact(d.desk_seconds), format_compact(d.longest_stretch))
            for d in days
        ],
        "Desk time per day",
    )
    return svg + table


def drills_chart(days: Sequence[DayStats]) -> str:
    """Per day: drills done (solid) with those skipped stacked on top. Ignored drills
    get no bar (nothing was done about them); they are counted in the text and table."""
    total = DayStats(
        day="",
        drills_done=sum(d.drills_done for d in days),
        drills_skipped=sum(d.drills_skipped for d in days),
        drills_ignored=sum(d.drills_ignored for d in days),
    )
    answered = answers_text(total)
    if not answered:
        return '<p class="note">No drills yet in this period.</p>'
    w, h, left, top, bottom = 720, 220, 44, 24, 30
    pw, ph = w - left - 8, h - top - bottom
    peak = max((d.drills_done + d.drills_skipped for d in days), default=0)
    top_v = max(2, peak + 2 - peak % 2)  # room above the tallest bar for its label
    body: list[str] = []
    step = 1 if top_v <= 6 else 2 if top_v <= 12 else 5
    for v in range(0, top_v + 1, step):
        y = top + ph - v / top_v * ph
        body.append(f'<line class="grid" x1="{left}" x2="{w - 8}" y1="{y:.1f}" y2="{y:.1f}"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v}</text>')
    n = max(len(days), 1)
    slot = pw / n
    bw = min(56.0, slot * 0.68)
    many = n > 10
    for i, d in enumerate(days):
        x = left + i * slot + (slot - bw) / 2
        said = answers_text(d)
        tip = f"{_long_day(d.day)}: {said or 'no drills'}"
        base = float(top + ph)
        for cls, value in (("done", d.drills_done), ("skipped", d.drills_skipped)):
            if value:
                hh = value / top_v * ph
                base -= hh
                body.append(
                    f'<rect class="{cls}" x="{x:.1f}" y="{base:.1f}" width="{bw:.1f}"'
                    f' height="{hh:.1f}" rx="3"><title>{escape(tip)}</title></rect>'
                )
        if d.drills_done and not many:
            body.append(
                f'<text class="val" x="{x + bw / 2:.1f}" y="{base - 6:.1f}" text-anchor="middle">'
                f"{d.drills_done}</text>"
            )
        if not many or i % 2 == (n - 1) % 2:
            body.append(
                f'<text x="{x + bw / 2:.1f}" y="{h - 10}" text-anchor="middle">'
                f"{escape(_day_label(d.day, many))}</text>"
            )
    body.append(f'<line class="axis" x1="{left}" x2="{w - 8}" y1="{top + ph}" y2="{top + ph}"/>')
    desc = f"Drills per day, in total: {answered}."
    legend = (
        '<ul class="legend"><li><span class="sw done"></span>done</li>'
        '<li><span class="sw skipped"></span>skipped</li></ul>'
    )
    table = _table(
        ("Day", "Done", "Skipped", "Ignored", "Snoozes", "Posture checks"),
        [
            (
                _long_day(d.day),
                d.drills_done,
                d.drills_skipped,
                d.drills_ignored,
                d.snoozes,
                d.posture_checks,
            )
            for d in days
        ],
        "Drills per day",
    )
    return legend + _svg("drills", (w, h), "Drills done and skipped", desc, body) + table


def heat_strip(summary: Summary) -> str:
    """One row per day, one cell per half hour: minutes inside long sitting stretches."""
    days = summary.period.days()
    heat = heat_slots(summary.stretches, days, slot_minutes=SLOT_MINUTES)
    per_hour = 60 // SLOT_MINUTES
    busy = [i for row in heat.values() for i, v in enumerate(row) if v]
    desk_hours = [s.start_min // 60 for s in summary.stretches] + [
        s.end_min // 60 for s in summary.stretches
    ]
    h0 = min([8, *(b // per_hour for b in busy), *desk_hours])
    h1 = max([18, *(b // per_hour + 1 for b in busy), *(h + 1 for h in desk_hours)])
    h1 = min(24, h1)
    cols = (h1 - h0) * per_hour
    left, top, row_h, gap = 64, 22, 18, 3
    w = 720
    cw = (w - left - 8) / cols
    h = top + len(days) * (row_h + gap) + 4
    body: list[str] = []
    for hour in range(h0, h1 + 1):
        x = left + (hour - h0) * per_hour * cw
        if hour % 2 == 0 or h1 - h0 <= 12:
            body.append(f'<text x="{x:.1f}" y="14" text-anchor="middle">{hour:02d}</text>')
    for r, day in enumerate(days):
        y = top + r * (row_h + gap)
        body.append(
            f'<text x="{left - 8}" y="{y + row_h - 5}" text-anchor="end">'
            f"{escape(_short_day(day))}</text>"
        )
        for c in range(cols):
            slot = h0 * per_hour + c
            minutes = heat[day][slot]
            x = left + c * cw
            a = slot * SLOT_MINUTES
            span = f"{_clock(a)}-{_clock(a + SLOT_MINUTES)}"
            if minutes:
                opacity = 0.2 + 0.8 * min(1.0, minutes / SLOT_MINUTES)
                tip = f"{_long_day(day)} {span}: {format_amount(minutes * 60)} in a long stretch"
                body.append(
                    f'<rect class="heat" x="{x + 1:.1f}" y="{y}" width="{cw - 2:.1f}"'
                    f' height="{row_h}" rx="2" fill-opacity="{opacity:.2f}">'
                    f"<title>{escape(tip)}</title></rect>"
                )
            else:
                body.append(
                    f'<rect class="heat0" x="{x + 1:.1f}" y="{y}" width="{cw - 2:.1f}"'
                    f' height="{row_h}" rx="2"/>'
                )
    long_ones = [s for s in summary.stretches if s.desk_seconds >= LONG_STRETCH]
    hours = [0.0] * 24
    for row in heat.values():
        for i, v in enumerate(row):
            hours[i // per_hour] += v
    worst = sorted(range(24), key=lambda i: -hours[i])[:2]
    desc = (
        f"{len(long_ones)} sitting stretches of {format_compact(LONG_STRETCH)} or more"
        " without a real break."
        + (
            " They happen most between "
            + " and ".join(f"{i:02d}:00 and {i + 1:02d}:00" for i in sorted(worst) if hours[i])
            + "."
            if long_ones
            else ""
        )
    )
    legend = (
        '<ul class="legend"><li><span class="sw heat"></span>part of a sitting stretch of'
        f" {format_compact(LONG_STRETCH)} or more"
        " (stronger colour: more of that half hour)</li></ul>"
    )
    table = _table(
        ("Day", "Started", "Ended", "Desk time", "Ended by"),
        [
            (
                _long_day(s.day),
                _clock(s.start_min),
                _clock(s.end_min),
                format_compact(s.desk_seconds),
                {"natural_break": "a break", "drill": "a drill", "gap": "a pause or stop"}.get(
                    s.ended_by or "", "still going"
                ),
            )
            for s in long_ones
        ],
        "Long sitting stretches",
    )
    return (
        legend + _svg("heat", (w, h), "Long sitting stretches by time of day", desc, body) + table
    )


def routines_chart(routines: Sequence[RoutineStats], titles: Mapping[str, str]) -> str:
    """Horizontal bars per drill: done, skipped and ignored."""
    shown = sorted(
        (r for r in routines if r.done or r.skipped or r.ignored),
        key=lambda r: (-(r.done + r.skipped + r.ignored), r.routine),
    )[:10]
    if not shown:
        return '<p class="note">No drill was done or skipped in this period.</p>'
    left, row_h, gap, w = 230, 20, 10, 720
    h = 8 + len(shown) * (row_h + gap)
    peak = max((r.done + r.skipped for r in shown), default=0) or 1
    pw = w - left - 150
    body: list[str] = []
    for i, r in enumerate(shown):
        y = 4 + i * (row_h + gap)
        name = titles.get(r.routine, r.routine)
        label = name if len(name) <= 32 else name[:31] + "…"
        body.append(
            f'<text x="{left - 10}" y="{y + row_h - 5}" text-anchor="end">{escape(label)}</text>'
        )
        x = float(left)
        for cls, value in (("done", r.done), ("skipped", r.skipped)):
            if not value:
                continue
            bw = value / peak * pw
            body.append(
                f'<rect class="{cls}" x="{x:.1f}" y="{y}" width="{bw:.1f}" height="{row_h}">'
                f"<title>{escape(name)}: {value} {cls}</title></rect>"
            )
            x += bw
        said = " · ".join(
            f"{value} {word}"
            for value, word in ((r.done, "done"), (r.skipped, "skipped"), (r.ignored, "ignored"))
            if value
        )
        body.append(f'<text class="val" x="{x + 6:.1f}" y="{y + row_h - 5}">{said}</text>')
    most_done = max(shown, key=lambda r: r.done)
    most_skipped = max(shown, key=lambda r: r.skipped)
    desc = f"Most done: {titles.get(most_done.routine, most_done.routine)} ({most_done.done})." + (
        f" Most skipped: {titles.get(most_skipped.routine, most_skipped.routine)}"
        f" ({most_skipped.skipped})."
        if most_skipped.skipped
        else ""
    )
    legend = (
        '<ul class="legend"><li><span class="sw done"></span>done</li>'
        '<li><span class="sw skipped"></span>skipped</li>'
        "<li>ignored: counted, no bar</li></ul>"
    )
    table = _table(
        ("Drill", "Done", "Skipped", "Ignored", "Snoozed"),
        [
            (titles.get(r.routine, r.routine), r.done, r.skipped, r.ignored, r.snoozed)
            for r in shown
        ],
        "Drills done and skipped",
    )
    return legend + _svg("routines", (w, h), "Which drills are done or skipped", desc, body) + table


def _tiles(summary: Summary) -> str:
    t = summary.total()
    worked = [d for d in summary.days if d.desk_seconds > 0]
    avg = t.desk_seconds / len(worked) if worked else 0.0
    others = [
        f"{n} {word}"
        for n, word in ((t.drills_skipped, "skipped"), (t.drills_ignored, "ignored"))
        if n
    ]
    drills = (
        (str(t.drills_done), "drills done" + (f" ({', '.join(others)})" if others else ""))
        if t.drills_done
        else ("No drills yet", ", ".join(others) if others else "drills done")
    )
    tiles = [
        (format_compact(t.desk_seconds), f"at the desk ({format_compact(avg)} a day)"),
        drills,
        (str(t.posture_checks), "posture checks"),
        (format_compact(t.longest_stretch), "longest sitting stretch"),
        (str(t.natural_breaks), "natural breaks"),
    ]
    return (
        '<div class="tiles">'
        + "".join(
            f'<div class="tile"><div class="v">{escape(v)}</div>'
            f'<div class="k">{escape(k)}</div></div>'
            for v, k in tiles
        )
        + "</div>"
    )


def _card(heading: str, note: str, content: str) -> str:
    return (
        f'<section class="card"><h2>{escape(heading)}</h2><p class="note">{escape(note)}</p>'
        f"{content}</section>"
    )


def _empty_body() -> str:
    return (
        '<section class="card empty"><h2>Nothing recorded yet</h2>'
        "<p>ergobreak has not recorded any desk time in this period. Once it has been"
        " running for a while, this page shows:</p><ul>"
        "<li><strong>Desk time per day</strong>: how long you were at the keyboard.</li>"
        "<li><strong>Drills done and skipped</strong>: how many hip drills you did.</li>"
        "<li><strong>Long sitting stretches by time of day</strong>: when you sit for"
        f" {format_compact(LONG_STRETCH)} or more without a real break.</li>"
        "<li><strong>Which drills are done or skipped</strong> most.</li></ul></section>"
    )


def render_report(
    summary: Summary,
    *,
    titles: Mapping[str, str] | None = None,
    source: str = "your break history",
    generated: datetime | None = None,
    settings: Settings | None = None,
) -> str:
    """The whole page as a string; the explanations quote ``settings`` (the user's,
    or the defaults when None)."""
    from ergobreak import __version__  # noqa: PLC0415

    titles = titles or {}
    s = settings or Settings()
    hours = " within working hours," if s.schedule.enabled else ""
    offered = (
        f"A drill is offered after every {format_amount(s.drill.every)} of desk time."
        if s.drill.enabled
        else "Drills are switched off in your settings."
    )
    p = summary.period
    when = generated or datetime.now()
    span = (
        _long_day(p.start.isoformat())
        if p.start == p.end
        else f"{_long_day(p.start.isoformat())} \u2013 {_long_day(p.end.isoformat())} {p.end.year}"
    )
    if summary.empty:
        body = _empty_body()
    else:
        body = (
            _tiles(summary)
            + _card(
                "Desk time per day",
                "Time at the keyboard as ergobreak counts it: input within the last"
                f" {format_amount(s.activity.idle_pause)}, screen unlocked,{hours} not paused.",
                desk_chart(summary.days),
            )
            + _card(
                "Drills done and skipped",
                f"{offered} Each is counted once, however often it was snoozed; drills"
                " withdrawn because you took a break anyway are left out, and ignored ones"
                " (no answer) are counted but get no bar.",
                drills_chart(summary.days),
            )
            + _card(
                "Long sitting stretches by time of day",
                "A stretch is desk time between real breaks (stepping away for"
                f" {format_amount(s.activity.natural_break)} or more, or a drill done)."
                " Posture checks and skipped drills do not end one.",
                heat_strip(summary),
            )
            + _card(
                "Which drills are done or skipped",
                "Drills that were done, skipped or left unanswered in this period.",
                routines_chart(summary.routines, titles),
            )
        )
    return _PAGE.substitute(
        title=escape(f"ergobreak report, {span}"),
        heading=escape(HEADINGS.get(p.name, "Your breaks")),
        lede=escape(span),
        body=body,
        version=escape(__version__),
        generated=escape(when.strftime("%Y-%m-%d %H:%M")),
        source=escape(source),
    )


def write_report(
    store: HistoryStore,
    period: Period,
    target: Path,
    *,
    titles: Mapping[str, str],
    source: str | None = None,
    settings: Settings | None = None,
) -> Path:
    """Write the report on ``period`` of ``store`` to ``target`` (atomically, readable
    by this user only) and return ``target``. ``source`` names where the data came
    from on the page (default: the store's file).

    Raises:
        OSError: ``target`` cannot be written.
    """
    page = render_report(
        store.summary(period),
        titles=titles,
        source=str(store.path) if source is None else source,
        settings=settings,
    )
    write_private(target, page)
    return target
