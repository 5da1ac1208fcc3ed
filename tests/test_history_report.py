"""The HTML report (structure, self-containment, accessibility) and the pure text
views (bars, sparklines, the tray's "Today" line)."""

from __future__ import annotations

import re
import stat
from datetime import date, timedelta
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ergobreak.core.duration import format_compact
from ergobreak.history.model import DayStats, Period, RoutineStats, StretchRow, Summary
from ergobreak.history.report import render_report, write_report
from ergobreak.history.store import HistoryStore
from ergobreak.history.views import (
    bar,
    can_unicode,
    heat_slots,
    render_table,
    sparkline,
    today_text,
)
from ergobreak.localtz import get_timezone
from ergobreak.sim.demo import fill_demo

UTC = get_timezone("UTC")
FRIDAY = date(2026, 3, 6)
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}
SVG_LEAVES = {"rect", "line", "path", "circle"}


class Page(HTMLParser):
    """Checks nesting while collecting what the tests look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: set[str] = set()
        self.errors: list[str] = []
        self.text: list[str] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            if a["id"] in self.ids:
                self.errors.append(f"duplicate id {a['id']}")
            self.ids.add(str(a["id"]))
        if tag not in VOID:
            self.stack.append(tag)
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID | SVG_LEAVES:
            self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        else:
            self.text.append(data)


def parse(page: str) -> Page:
    p = Page()
    p.feed(page)
    p.close()
    assert p.errors == []
    assert p.stack == []
    return p


@pytest.fixture(scope="module")
def summary() -> Summary:
    with HistoryStore.open_memory() as store:
        fill_demo(store, FRIDAY, 7, UTC)
        return store.summary(Period.ending("week", FRIDAY))


def test_report_is_well_formed_and_self_contained(summary: Summary) -> None:
    page = render_report(summary, titles={"hinge_wall": "Wall hip hinge"})
    assert page.startswith("<!DOCTYPE html>")
    p = parse(page)
    names = [t for t, _ in p.tags]
    assert names.count("html") == names.count("body") == 1
    for forbidden in ("script", "link", "img", "iframe", "object", "embed"):
        assert forbidden not in names
    for tag, attrs in p.tags:
        for key in ("src", "href", "xlink:href", "action", "srcset", "poster"):
            assert key not in attrs, f"<{tag} {key}=...>"
        assert not any(v and re.search(r"https?://", v) for v in attrs.values())
    assert not re.search(r"https?://|url\(|@import", p.style)
    assert not re.search(r"https?://", page)
    csp = [a for t, a in p.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp
    assert "default-src 'none'" in str(csp[0]["content"])
    assert "prefers-color-scheme: dark" in p.style


def test_charts_are_labelled_svgs_with_table_fallbacks(summary: Summary) -> None:
    p = parse(render_report(summary))
    svgs = [a for t, a in p.tags if t == "svg"]
    assert len(svgs) == 4
    for a in svgs:
        assert a["role"] == "img"
        labels = str(a["aria-labelledby"]).split()
        assert len(labels) == 2
        assert all(label in p.ids for label in labels)
    names = [t for t, _ in p.tags]
    # the page, 4 charts, and every bar or cell with data (empty heat cells have none)
    tooltips = sum(1 for t, a in p.tags if t == "rect" and a.get("class") != "heat0")
    assert names.count("title") == 1 + 4 + tooltips
    assert names.count("table") == 4
    assert names.count("desc") == 4
    text = " ".join(p.text)
    for heading in (
        "Desk time per day",
        "Drills done and skipped",
        "Long sitting stretches by time of day",
        "Which drills are done or skipped",
    ):
        assert heading in text


def test_report_numbers_match_the_store(summary: Summary) -> None:
    page = render_report(summary)
    total = summary.total()
    assert f'<div class="v">{total.drills_done}</div><div class="k">drills done (' in page
    assert f"{total.drills_skipped} skipped, {total.drills_ignored} ignored)" in page
    assert format_compact(total.desk_seconds) in page
    assert not re.search(r"\b\d+ of \d+\b", re.sub(r"<[^>]*>", " ", page))  # no "0 of 9" score
    for d in summary.days:
        if d.drills_done:
            assert f'text-anchor="middle">{d.drills_done}</text>' in page


def test_desk_bars_are_proportional(summary: Summary) -> None:
    page = render_report(summary)
    heights = [float(h) for h in re.findall(r'<rect class="desk"[^>]* height="([\d.]+)"', page)]
    desks = [d.desk_seconds for d in summary.days if d.desk_seconds > 0]
    assert len(heights) == len(desks)
    ratios = [h / s for h, s in zip(heights, desks, strict=True)]
    assert max(ratios) == pytest.approx(min(ratios), rel=0.01)


def test_text_is_escaped(summary: Summary) -> None:
    name = summary.routines[0].routine
    page = render_report(summary, titles={name: '<script>alert("x")</script> & co'})
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    parse(page)


def test_empty_history_explains_what_will_appear() -> None:
    period = Period.ending("week", FRIDAY)
    empty = Summary(period, [DayStats(day=d) for d in period.days()], [], [])
    p = parse(render_report(empty))
    text = " ".join(p.text)
    assert "Nothing recorded yet" in text
    assert "Desk time per day" in text
    assert "Long sitting stretches" in text
    assert not [t for t, _ in p.tags if t == "svg"]


def test_month_report_is_well_formed() -> None:
    with HistoryStore.open_memory() as store:
        fill_demo(store, FRIDAY, 12, UTC)  # a month with its first weeks empty
        month = store.summary(Period.ending("month", FRIDAY))
    p = parse(render_report(month))
    assert len([t for t, _ in p.tags if t == "svg"]) == 4


def test_write_report_writes_the_page_for_this_user_only(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    with HistoryStore.open(db) as store:
        fill_demo(store, FRIDAY, 7, UTC)
        target = write_report(
            store, Period.ending("week", FRIDAY), tmp_path / "out" / "r.html", titles={}
        )
    assert target == tmp_path / "out" / "r.html"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    page = target.read_text(encoding="utf-8")
    parse(page)
    assert "Your week of breaks" in page
    assert escape(str(db)) in page  # where the data came from: by default the store


def test_heat_slots_place_minutes_by_time_of_day() -> None:
    day = "2026-03-02"
    long_one = StretchRow(1, 0, 0, day, 50 * 60, start_min=10 * 60 + 15, end_min=11 * 60 + 4)
    short = StretchRow(2, 0, 0, day, 20 * 60, start_min=14 * 60, end_min=14 * 60 + 20)
    past_midnight = StretchRow(3, 0, 0, day, 60 * 60, start_min=23 * 60 + 30, end_min=29)
    slots = heat_slots([long_one, short, past_midnight], [day])[day]
    assert slots[20] == 15  # 10:15-10:30
    assert slots[21] == 30  # 10:30-11:00
    assert slots[22] == 5  # 11:00-11:04, inclusive of the last minute
    assert slots[28] == 0  # short stretches are not long
    assert slots[47] == 30
    assert slots[0] == 30
    assert sum(slots) == 15 + 30 + 5 + 30 + 30


# ---------------------------------------------------------------- text views


def test_bars_and_sparklines() -> None:
    assert bar(10, 10, 4) == "████"
    assert bar(5, 10, 4) == "██"
    assert bar(1, 10, 4) == "▍"  # 3.2 of 32 eighths
    assert bar(0, 10, 4) == ""
    assert bar(5, 10, 4, unicode=False) == "##"
    assert sparkline([0, 1, 2, 4, 8]) == " ▂▃▅█"
    assert sparkline([0, 0]) == "  "
    assert sparkline([1, 8], unicode=False) == ".@"


def test_unicode_detection() -> None:
    assert can_unicode("utf-8")
    assert can_unicode("UTF8")
    assert not can_unicode("ascii")
    assert not can_unicode("latin-1")
    assert not can_unicode(None)
    assert not can_unicode("no-such-codec")


def test_today_line() -> None:
    d = DayStats(
        day="2026-03-02",
        desk_seconds=4 * 3600 + 12 * 60,
        longest_stretch=48 * 60,
        posture_checks=9,
        drills_done=3,
        drills_skipped=1,
        drills_ignored=1,
    )
    assert today_text(d) == (
        "Today: 3 drills done, 1 skipped, 1 ignored · 9 posture checks"
        " · 4h12m at the desk, longest 48m"
    )
    one = DayStats(day="2026-03-02", posture_checks=1, drills_done=1)
    assert today_text(one) == "Today: 1 drill done · 1 posture check"
    assert today_text(DayStats(day="x")) == "No drills yet today"
    ignored = DayStats(day="x", drills_ignored=1, desk_seconds=1800)
    assert today_text(ignored) == "Today: 1 drill ignored · 30m at the desk"


def test_table_lists_top_routines_with_titles() -> None:
    period = Period.ending("day", FRIDAY)
    s = Summary(
        period,
        [DayStats(day=FRIDAY.isoformat(), desk_seconds=3600, drills_done=2, drills_skipped=1)],
        [RoutineStats("hinge_wall", done=2), RoutineStats("leg_swings", skipped=1)],
        [],
    )
    out = render_table(s, titles={"hinge_wall": "Wall hip hinge"})
    assert "Most done               Wall hip hinge (2)" in out
    assert "Most skipped            leg_swings (1)" in out
    assert "Total" not in out  # one day: no total row
    assert (FRIDAY - timedelta(days=1)).strftime("%a %m-%d") not in out
    assert "How they felt" not in out  # no answers: no line


def test_table_says_how_the_drills_felt() -> None:
    s = Summary(
        Period.ending("day", FRIDAY),
        [DayStats(day=FRIDAY.isoformat(), desk_seconds=3600, drills_done=4)],
        [
            RoutineStats("hinge_wall", done=3, felt=(0, 2, 1, 0)),
            RoutineStats("figure4_seated", done=1, felt=(0, 0, 0, 1)),
            RoutineStats("leg_swings", done=0),
        ],
        [],
    )
    out = render_table(s, titles={"hinge_wall": "Wall hip hinge"})
    assert (
        "How they felt           Wall hip hinge: 2 right, 1 hard; figure4_seated: 1 hurt\n" in out
    )
    assert "leg_swings" not in out.split("How they felt")[1]


def _one_ignored_day() -> Summary:
    day = FRIDAY.isoformat()
    return Summary(
        Period.ending("day", FRIDAY),
        [DayStats(day=day, desk_seconds=1800, drill_prompts=1, drills_ignored=1)],
        [RoutineStats("hinge_wall", ignored=1)],
        [],
    )


def test_an_ignored_drill_is_counted_but_never_drawn_as_a_score() -> None:
    s = _one_ignored_day()
    page = render_report(s, titles={"hinge_wall": "Wall hip hinge"})
    p = Page()
    p.feed(page)
    drawn = [a.get("class") for t, a in p.tags if t == "rect"]
    assert not {"ignored", "offered", "done"} & set(drawn)
    text = " ".join(" ".join(p.text).split())
    assert "1 ignored" in text
    assert not re.search(r"\b0 (done|skipped)\b", text)
    assert "No drills yet" in text  # the tile: nothing done, never "0 of 1"
    assert not re.search(r"\b0 of \d", text)
    table = render_table(s)
    assert "Drill answers           1 drill ignored" in table
    assert "0 done" not in table


def test_the_report_explains_with_the_users_own_settings() -> None:
    from ergobreak.core.settings import ActivitySettings, DrillSettings, Settings

    mine = Settings(
        activity=ActivitySettings(idle_pause=90.0, natural_break=600.0),
        drill=DrillSettings(every=45 * 60.0),
    )
    s = _one_ignored_day()
    page = " ".join(render_report(s, settings=mine).split())
    assert "input within the last 90 s" in page
    assert "stepping away for 10 min or more" in page
    assert "A drill is offered after every 45 min of desk time." in page
    default = " ".join(render_report(s).split())
    assert "input within the last 1 min" in default  # the built-in defaults otherwise
    assert "after every 30 min of desk time" in default
