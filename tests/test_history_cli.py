"""``ergobreak stats`` and ``ergobreak report`` on histories replayed through the real
core: table, JSON, CSV, clear, export, and the first-run notice."""

from __future__ import annotations

import csv
import io
import json
import stat
import sys
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path

import pytest
from scaffold import cli as run_cli

from ergobreak.history.model import Period
from ergobreak.history.store import LATEST, HistoryStore
from ergobreak.localtz import get_timezone
from ergobreak.sim.demo import fill_demo

UTC = get_timezone("UTC")
#: a Friday within the retention window, whatever today is
FRIDAY = date.today() - timedelta(days=date.today().weekday() + 3)


#: a UTF-8 terminal, unless a test names another encoding
cli = partial(run_cli, encoding="utf-8")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hist") / "history.db"
    with HistoryStore.open(path) as store:
        fill_demo(store, FRIDAY, 10, UTC)  # two working weeks
        store.claim_notice("cli")
    return path


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the demo history (tests may change it)."""
    copy = tmp_path / "history.db"
    copy.write_bytes(demo_db.read_bytes())
    return copy


def until() -> str:
    return FRIDAY.isoformat()


def test_table_shows_every_day_of_the_week(db: Path) -> None:
    code, out, err = cli("stats", "--db", str(db), "--until", until())
    assert code == 0, err
    assert err == ""  # the notice was shown before (claimed in the fixture)
    with HistoryStore.open(db) as store:
        days = store.day_stats(Period.ending("week", FRIDAY))
    lines = out.splitlines()
    assert lines[0] == f"ergobreak stats: week, {days[0].day} .. {days[-1].day}"
    for d in days:
        label = date.fromisoformat(d.day).strftime("%a %m-%d")
        [row] = [line for line in lines if line.startswith(label)]
        if d.empty:
            assert row.strip() == f"{label}  ·"
        else:
            cells = row.split()
            # Done, Skipped, Ignored, Posture, Longest, Breaks: zero shows as "-"
            answers = (d.drills_done, d.drills_skipped, d.drills_ignored)
            said = [str(n) if n else "-" for n in answers]
            assert cells[-6:-3] == said, row
            assert " of " not in row
            assert "█" in row
    assert any(line.startswith("Total") for line in lines)
    assert "Long sitting by hour" in out
    assert "Most done" in out
    assert "Standing hip-flexor stretch" in out or "Wall hip hinge" in out  # titles, not ids


def test_bars_scale_with_desk_time(db: Path) -> None:
    _, out, _ = cli("stats", "--db", str(db), "--until", until())
    with HistoryStore.open(db) as store:
        days = {d.day: d for d in store.day_stats(Period.ending("week", FRIDAY))}
    widths = {}
    for line in out.splitlines():
        for day, d in days.items():
            if not d.empty and line.startswith(date.fromisoformat(day).strftime("%a %m-%d")):
                widths[day] = line.count("█")
    assert len(widths) == 5
    longest = max(widths, key=lambda k: days[k].desk_seconds)
    assert widths[longest] == 20  # full width at the week's peak
    for a, width_a in widths.items():
        for b, width_b in widths.items():
            if days[a].desk_seconds < days[b].desk_seconds:
                assert width_a <= width_b


def test_ascii_fallback_when_the_terminal_cannot_show_blocks(db: Path) -> None:
    code, out, _ = cli("stats", "--db", str(db), "--until", until(), encoding="ascii")
    assert code == 0
    assert out.isascii()
    assert "#" in out


@pytest.mark.parametrize(("flag", "n"), [("--day", 1), ("--week", 7), ("--month", 30)])
def test_json_for_scripts(db: Path, flag: str, n: int) -> None:
    code, out, _ = cli("stats", flag, "--json", "--db", str(db), "--until", until())
    assert code == 0
    doc = json.loads(out)
    assert doc["period"]["end"] == until()
    assert len(doc["days"]) == n
    assert doc["days"][-1]["day"] == until()
    for key in ("desk_seconds", "drills_done", "drills_offered", "posture_checks"):
        assert doc["totals"][key] == sum(d[key] for d in doc["days"])
    assert doc["totals"]["longest_stretch_seconds"] == max(
        d["longest_stretch_seconds"] for d in doc["days"]
    )
    assert len(doc["long_stretch_minutes_by_hour"]) == 24
    assert doc["totals"]["desk_seconds"] > 0


def test_csv_has_a_row_per_day(db: Path) -> None:
    code, out, _ = cli("stats", "--csv", "--db", str(db), "--until", until())
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["day"] for r in rows] == [
        (FRIDAY - timedelta(days=6 - i)).isoformat() for i in range(7)
    ]
    assert int(rows[-1]["desk_seconds"]) > 3600


def test_empty_history_says_so(tmp_path: Path) -> None:
    code, out, err = cli("stats", "--db", str(tmp_path / "new.db"))
    assert code == 0
    assert "Nothing recorded in this period yet" in out
    assert "never leaves this machine" in err  # first run: the notice, on stderr
    assert str(tmp_path / "new.db") in err
    code, _, err = cli("stats", "--db", str(tmp_path / "new.db"))
    assert err == ""  # only once


def test_bad_until_is_a_usage_error(db: Path) -> None:
    code, out, err = cli("stats", "--db", str(db), "--until", "last tuesday")
    assert code == 2
    assert out == ""
    assert '--until expects a date like 2026-01-09, got "last tuesday"' in err


def test_a_damaged_store_is_reported_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"\x00garbage" * 500)
    code, out, err = cli("stats", "--json", "--db", str(path))
    assert code == 0
    assert json.loads(out)["totals"]["desk_seconds"] == 0
    assert "could not be read" in err
    assert "moved to" in err
    assert len(list(tmp_path.glob("history.db.corrupt-*"))) == 1


def test_a_newer_store_is_an_error_and_left_alone(db: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    code, _, err = cli("stats", "--db", str(db))
    assert code == 1
    assert "newer ergobreak" in err


def test_clear_needs_confirmation(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal
    code, _, err = cli("stats", "clear", "--db", str(db))
    assert code == 2
    assert "add --yes" in err
    with HistoryStore.open(db) as store:
        assert store.counts()["events"] > 0


def test_clear_deletes_history_and_the_last_report(db: Path) -> None:
    code, out, _ = cli("report", "--db", str(db), "--until", until())
    assert code == 0
    report = Path(out.strip())
    assert report == db.parent / "report.html"
    assert report.exists()
    aside = db.parent / "history.db.corrupt-20260101T000000"
    aside.write_text("old damaged copy")
    code, out, err = cli("stats", "clear", "--yes", "--db", str(db))
    assert code == 0, err
    assert "deleted" in out
    assert not report.exists()
    assert not aside.exists()
    with HistoryStore.open(db) as store:
        assert store.counts() == {"events": 0, "days": 0, "stretches": 0}


def test_export_json_to_stdout_and_csv_to_a_private_file(db: Path, tmp_path: Path) -> None:
    code, out, _ = cli("stats", "export", "--db", str(db))
    assert code == 0
    doc = json.loads(out)
    with HistoryStore.open(db) as store:
        counts = store.counts()
    assert len(doc["events"]) == counts["events"]
    assert len(doc["stretches"]) == counts["stretches"]
    target = tmp_path / "out" / "days.csv"
    code, out, err = cli(
        "stats",
        "export",
        "--format",
        "csv",
        "--table",
        "days",
        "--out",
        str(target),
        "--db",
        str(db),
    )
    assert code == 0
    assert out == ""
    assert str(target) in err
    assert len(target.read_text(encoding="utf-8").splitlines()) == counts["days"] + 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_report_writes_a_page_and_can_open_it(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def fake_open(url: str) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr("webbrowser.open", fake_open)
    target = tmp_path / "r.html"
    code, out, err = cli(
        "report", "--db", str(db), "--until", until(), "--out", str(target), "--open"
    )
    assert code == 0, err
    assert out.strip() == str(target)
    assert opened == [target.resolve().as_uri()]
    page = target.read_text(encoding="utf-8")
    assert page.count("<svg") == 4
    assert str(db) in page


def test_report_says_when_no_browser_opened(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("webbrowser.open", lambda url: False)
    code, _, err = cli("report", "--db", str(db), "--out", str(tmp_path / "r.html"), "--open")
    assert code == 0
    assert "no web browser found" in err


def test_demo_report_never_touches_the_store(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    code, out, _ = cli("report", "--demo", "--db", str(db), "--until", until())
    assert code == 0
    assert Path(out.strip()) == tmp_path / "report-demo.html"
    assert not db.exists()
    assert "simulated workdays" in (tmp_path / "report-demo.html").read_text(encoding="utf-8")


def test_report_to_an_unwritable_place_fails_cleanly(db: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = cli("report", "--db", str(db), "--out", str(blocker / "r.html"))
    assert code == 1
    assert "cannot write" in err


def test_stats_reads_while_the_daemon_is_writing(tmp_path: Path) -> None:
    from ergobreak.content import default_content
    from ergobreak.core import effects as fx
    from ergobreak.history.recorder import HistoryRecorder

    class View:
        posture_desk = drill_desk = 0.0

    path = tmp_path / "history.db"
    cue = default_content().cues[0]
    wall = datetime.combine(FRIDAY, time(10), tzinfo=UTC).timestamp()
    with HistoryRecorder(path, tz=UTC) as recorder:
        for i in range(3):
            recorder.record(wall + i, [fx.PostureCheck(cue=cue)], View())
        assert recorder.flush()
        code, out, err = cli("stats", "--day", "--json", "--db", str(path), "--until", until())
        assert code == 0, err
        assert json.loads(out)["totals"]["posture_checks"] == 3
        recorder.record(wall + 10, [fx.PostureCheck(cue=cue)], View())
        assert recorder.flush()
        code, out, err = cli("stats", "clear", "--yes", "--db", str(path))
        assert code == 0, err
        recorder.record(wall + 20, [fx.PostureCheck(cue=cue)], View())
        assert recorder.flush()
    code, out, _ = cli("stats", "--day", "--json", "--db", str(path), "--until", until())
    # what was recorded before the clear is gone; what came after is there
    assert json.loads(out)["totals"]["posture_checks"] == 1


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = cli("--help")
    assert code == 0
    out = capsys.readouterr().out
    assert "stats" in out
    assert "report" in out


def test_report_explains_with_the_settings_in_the_users_config(
    db: Path, tmp_path: Path, isolated: Path
) -> None:
    from ergobreak.paths import paths

    config = paths().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('schema = 1\n\n[drill]\nevery = "50m"\n', encoding="utf-8")
    target = tmp_path / "r.html"
    code, _, err = cli("report", "--db", str(db), "--until", until(), "--out", str(target))
    assert code == 0, err
    page = " ".join(target.read_text(encoding="utf-8").split())
    assert "A drill is offered after every 50 min of desk time." in page
