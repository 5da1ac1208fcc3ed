"""The SQLite history store: round trips, schema migrations, retention, clearing,
export, and what happens to damaged, foreign, unreadable or newer stores."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from ergobreak.history import store as store_mod
from ergobreak.history.model import Batch, EventRow, Period, StretchRow, split_by_day
from ergobreak.history.store import (
    LATEST,
    HistoryError,
    HistoryStore,
    HistoryVersionError,
    migrate,
)
from ergobreak.localtz import get_timezone

UTC = get_timezone("UTC")
DAY = "2026-03-02"
WALL = 1772442000.0  # 2026-03-02T09:00:00Z


def sample_batch(day: str = DAY, wall: float = WALL) -> Batch:
    return Batch(
        events=[
            EventRow(wall, day, "posture_check", cue="feet", requested=False),
            EventRow(wall + 60, day, "drill_prompt", routine="hinge_wall", attempt=1),
            EventRow(wall + 70, day, "snoozed", routine="hinge_wall", attempt=1, seconds=300.0),
            EventRow(wall + 400, day, "drill_prompt", routine="hinge_wall", attempt=2),
            EventRow(wall + 410, day, "drill_start", routine="hinge_wall", requested=False),
            EventRow(wall + 530, day, "drill_end", routine="hinge_wall", outcome="done"),
            EventRow(wall + 900, day, "drill_prompt", routine="leg_swings", attempt=1),
            EventRow(wall + 910, day, "drill_end", routine="leg_swings", outcome="skipped"),
            EventRow(wall + 1000, day, "natural_break", seconds=420.0),
        ],
        desk={day: 1800.0},
        stretches={
            1: StretchRow(1, wall, wall + 530, day, 500.0, 540, 548, open=False, ended_by="drill"),
            2: StretchRow(2, wall + 600, wall + 1000, day, 380.0, 550, 556),
        },
    )


def open_store(path: Path) -> HistoryStore:
    return HistoryStore.open(path)


def test_round_trip(tmp_path: Path) -> None:
    with open_store(tmp_path / "h.db") as store:
        store.write(sample_batch())
        store.write(Batch(desk={DAY: 600.0}))
        [day] = store.day_stats(Period("day", date(2026, 3, 2), date(2026, 3, 2)))
        assert day.desk_seconds == 2400.0
        assert day.longest_stretch == 500.0
        assert day.posture_checks == 1
        assert day.drill_prompts == 3
        assert (day.drills_done, day.drills_skipped, day.drills_ignored) == (1, 1, 0)
        assert day.drills_offered == 2
        assert day.snoozes == 1
        assert day.natural_breaks == 1
        events = store.events()
        assert events == sample_batch().events
        [hinge, swings] = store.routine_stats(Period("day", date(2026, 3, 2), date(2026, 3, 2)))
        assert (hinge.routine, hinge.done, hinge.snoozed) == ("hinge_wall", 1, 1)
        assert (swings.routine, swings.skipped) == ("leg_swings", 1)
        stretches = store.stretches()
        assert [s.id for s in stretches] == [1, 2]
        assert stretches[1].open
        assert not stretches[0].open
        assert store.open_stretch() == stretches[1]
        assert store.last_stretch_id() == 2


def test_stretch_upsert_updates_in_place_and_keeps_longest(tmp_path: Path) -> None:
    with open_store(tmp_path / "h.db") as store:
        s = StretchRow(7, WALL, WALL + 60, DAY, 60.0, 540, 541)
        store.write(Batch(stretches={7: s}))
        s.desk_seconds, s.end_wall, s.open, s.ended_by = 3000.0, WALL + 3100, False, "gap"
        store.write(Batch(stretches={7: s}))
        [row] = store.stretches()
        assert (row.desk_seconds, row.open, row.ended_by) == (3000.0, False, "gap")
        [day] = store.day_stats(Period("day", date(2026, 3, 2), date(2026, 3, 2)))
        assert day.longest_stretch == 3000.0


def test_days_without_data_are_zero(tmp_path: Path) -> None:
    with open_store(tmp_path / "h.db") as store:
        store.write(sample_batch())
        days = store.day_stats(Period.ending("week", date(2026, 3, 4)))
        assert [d.day for d in days] == [f"2026-02-{d}" for d in (26, 27, 28)] + [
            f"2026-03-0{d}" for d in (1, 2, 3, 4)
        ]
        assert [d.empty for d in days] == [True, True, True, True, False, True, True]


def test_fresh_store_is_wal_normal_private_and_current(tmp_path: Path) -> None:
    path = tmp_path / "state" / "h.db"
    with open_store(path) as store:
        assert store.version == LATEST == len(store_mod.MIGRATIONS)
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        store.write(sample_batch())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


# ---------------------------------------------------------------- migrations


def make_v1(path: Path) -> None:
    """A store as the first schema version wrote it (cue ids in ``routine``)."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, 0, target=1)
    conn.executemany(
        "INSERT INTO events (wall, day, kind, routine, outcome, attempt, requested)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (WALL, DAY, "posture_check", "lumbar", None, None, 0),
            (WALL + 60, DAY, "drill_prompt", "hinge_wall", None, 1, None),
            (WALL + 200, DAY, "drill_end", "hinge_wall", "done", None, None),
        ],
    )
    conn.execute("INSERT INTO days VALUES (?, ?, ?)", (DAY, 5400.0, 2700.0))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()


def test_migrates_version_1_keeping_every_row(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    make_v1(path)
    with open_store(path) as store:
        assert store.version == LATEST
        assert store.recovered is None
        events = store.events()
        assert [(e.kind, e.routine, e.cue) for e in events] == [
            ("posture_check", None, "lumbar"),
            ("drill_prompt", "hinge_wall", None),
            ("drill_end", "hinge_wall", None),
        ]
        [day] = store.day_stats(Period("day", date(2026, 3, 2), date(2026, 3, 2)))
        assert (day.desk_seconds, day.longest_stretch, day.drills_done) == (5400.0, 2700.0, 1)
        store.write(sample_batch())  # the new tables work
        assert len(store.stretches()) == 2
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_migrates_version_2_and_records_feedback(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, 0, target=2)
    conn.execute(
        "INSERT INTO events (wall, day, kind, routine, outcome) VALUES (?, ?, ?, ?, ?)",
        (WALL, DAY, "drill_end", "hinge_wall", "done"),
    )
    conn.close()
    with open_store(path) as store:
        assert store.version == LATEST == 3
        [old] = store.events()
        assert (old.kind, old.routine, old.outcome, old.answer) == (
            "drill_end",
            "hinge_wall",
            "done",
            None,
        )
        store.write(
            Batch(
                events=[
                    EventRow(WALL + 60, DAY, "feedback", routine="hinge_wall", answer="hard"),
                    EventRow(WALL + 90, DAY, "feedback", routine="hinge_wall", answer="hurt"),
                ]
            )
        )
    with open_store(path) as store:  # read back from the file
        assert [(e.kind, e.answer) for e in store.events()][1:] == [
            ("feedback", "hard"),
            ("feedback", "hurt"),
        ]
        [stats] = store.routine_stats(Period("day", date(2026, 3, 2), date(2026, 3, 2)))
        assert (stats.routine, stats.done, stats.felt) == ("hinge_wall", 1, (0, 0, 1, 1))
        assert stats.as_dict()["felt"] == {"easy": 0, "right": 0, "hard": 1, "hurt": 1}
        out = io.StringIO()
        store.export_csv(out)
        assert out.getvalue().splitlines()[0].endswith(",seconds,answer")
        assert out.getvalue().splitlines()[-1].endswith(",hurt")


def test_a_failing_migration_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "h.db"
    make_v1(path)
    broken = (*store_mod.MIGRATIONS, ("CREATE TABLE extra (a)", "THIS IS NOT SQL"))
    monkeypatch.setattr(store_mod, "MIGRATIONS", broken)
    with pytest.raises(HistoryError, match="syntax error"):
        HistoryStore.open(path)
    conn = sqlite3.connect(path)
    # the released migrations went through; the broken one after them left nothing behind
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    assert "extra" not in names
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 3
    conn.close()
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_newer_schema_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with open_store(path) as store:
        store.write(sample_batch())
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 5}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(HistoryVersionError, match="newer ergobreak"):
        HistoryStore.open(path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.corrupt-*"))


# ---------------------------------------------------------------- retention, clear


def test_retention_keeps_exactly_keep_days(tmp_path: Path) -> None:
    today = date(2026, 6, 30)
    with open_store(tmp_path / "h.db") as store:
        for back in (0, 1, 89, 90, 91, 200):
            day = (today - timedelta(days=back)).isoformat()
            batch = sample_batch(day)
            batch.stretches = {
                back + 1: StretchRow(back + 1, WALL, WALL + 1, day, 1.0, 0, 0, open=False)
            }
            store.write(batch)
        gone = store.purge(90, today=today)
        assert gone == 3 * len(sample_batch().events)
        kept = sorted({e.day for e in store.events()})
        assert kept == [(today - timedelta(days=b)).isoformat() for b in (89, 1, 0)]
        assert sorted(s.day for s in store.stretches()) == kept
        period = Period("x", today - timedelta(days=300), today)
        assert sorted(d.day for d in store.day_stats(period) if not d.empty) == kept
        with pytest.raises(ValueError, match="at least 1"):
            store.purge(0)


def test_clear_deletes_everything_and_overwrites_it(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    private = "zz_private_routine_zz"
    with open_store(path) as store:
        batch = sample_batch()
        batch.events.append(EventRow(WALL, DAY, "drill_end", routine=private, outcome="done"))
        store.write(batch)
        assert store.claim_notice("cli")
        store.clear()
        assert store.counts() == {"events": 0, "days": 0, "stretches": 0}
        assert not store.claim_notice("cli")  # the notice is not shown again
        raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        assert private.encode() not in raw
        store.write(sample_batch())  # still usable
        assert len(store.events()) == len(sample_batch().events)


def test_notice_is_claimed_once_per_reader(tmp_path: Path) -> None:
    with open_store(tmp_path / "h.db") as store:
        assert store.claim_notice("cli")
        assert not store.claim_notice("cli")
        assert store.claim_notice("daemon")
    with open_store(tmp_path / "h.db") as store:
        assert not store.claim_notice("daemon")


# ---------------------------------------------------------------- export


def test_export_json_has_all_tables(tmp_path: Path) -> None:
    with open_store(tmp_path / "h.db") as store:
        store.write(sample_batch())
        buf = io.StringIO()
        store.export_json(buf, UTC)
    doc = json.loads(buf.getvalue())
    assert doc["format"] == "ergobreak-history"
    assert doc["schema"] == LATEST
    assert len(doc["events"]) == len(sample_batch().events)
    assert doc["events"][0] == {
        "time": "2026-03-02T09:00:00+00:00",
        "wall": WALL,
        "day": DAY,
        "kind": "posture_check",
        "cue": "feet",
        "requested": False,
    }
    assert doc["days"] == [{"day": DAY, "desk_seconds": 1800.0, "longest_stretch": 500.0}]
    assert [s["id"] for s in doc["stretches"]] == [1, 2]


@pytest.mark.parametrize(("table", "rows"), [("events", 9), ("days", 1), ("stretches", 2)])
def test_export_csv(tmp_path: Path, table: str, rows: int) -> None:
    with open_store(tmp_path / "h.db") as store:
        store.write(sample_batch())
        buf = io.StringIO()
        store.export_csv(buf, table, UTC)
    parsed = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert len(parsed) == rows
    if table == "events":
        assert parsed[5]["outcome"] == "done"
        assert parsed[0]["time"] == "2026-03-02T09:00:00+00:00"


def test_export_csv_rejects_unknown_table(tmp_path: Path) -> None:
    with open_store(tmp_path / "h.db") as store, pytest.raises(ValueError, match="no table"):
        store.export_csv(io.StringIO(), "meta")


# ---------------------------------------------------------------- damage


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 300)


def _truncated(path: Path) -> None:
    with open_store(path) as store:
        for i in range(40):
            store.write(sample_batch(wall=WALL + i))
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.truncate(size // 2)


def _header_smashed(path: Path) -> None:
    with open_store(path) as store:
        store.write(sample_batch())
    with path.open("r+b") as f:
        f.seek(0)
        f.write(b"\xff" * 100)


def _directory(path: Path) -> None:
    path.mkdir()
    (path / "something").write_text("x")


def _foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    "damage",
    [_garbage, _truncated, _header_smashed, _directory, _foreign],
    ids=lambda f: f.__name__,
)
def test_damaged_store_is_moved_aside_and_a_fresh_one_started(
    tmp_path: Path, damage: object
) -> None:
    path = tmp_path / "history.db"
    assert callable(damage)
    damage(path)
    before = path.read_bytes() if path.is_file() else None
    messages: list[str] = []
    with HistoryStore.open(path, warn=messages.append) as store:
        assert store.recovered is not None
        assert store.recovered.name.startswith("history.db.corrupt-")
        assert store.version == LATEST
        assert store.counts() == {"events": 0, "days": 0, "stretches": 0}
        store.write(sample_batch())
        assert len(store.events()) == 9
    [message] = messages
    assert str(path) in message
    assert "moved to" in message
    assert str(store.recovered) in message
    if before is not None:  # nothing is lost: the damaged bytes are kept aside
        assert store.recovered.read_bytes() == before
    else:
        assert (store.recovered / "something").read_text() == "x"


def test_wal_of_a_damaged_store_moves_aside_with_it(tmp_path: Path) -> None:
    """A WAL left next to a fresh store would be replayed into it: it must go too."""
    path = tmp_path / "history.db"
    wal = tmp_path / "history.db-wal"
    with open_store(path) as store:
        store._conn.execute("PRAGMA wal_autocheckpoint=0")
        store.write(sample_batch())
        wal_bytes = wal.read_bytes()  # committed, not yet checkpointed
    assert len(wal_bytes) > 1000
    path.unlink()
    path.mkdir()  # the store is unusable; its committed WAL is still there
    wal.write_bytes(wal_bytes)
    with HistoryStore.open(path) as store:
        assert store.recovered is not None
        assert store.counts()["events"] == 0  # nothing replayed from the old WAL
        aside_wal = store.recovered.with_name(store.recovered.name + "-wal")
        assert aside_wal.read_bytes() == wal_bytes


def test_two_recoveries_in_the_same_second_keep_both(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    asides = []
    for _ in range(2):
        _garbage(path)
        with HistoryStore.open(path, now=1772442000.0) as store:
            asides.append(store.recovered)
    assert asides[0] != asides[1]
    assert all(a is not None and a.exists() for a in asides)


def test_uncreatable_store_raises_without_touching_anything(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("I am a file")
    with pytest.raises(HistoryError, match="cannot create"):
        HistoryStore.open(blocker / "history.db")
    assert blocker.read_text() == "I am a file"


def test_locked_store_is_not_mistaken_for_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.db"
    HistoryStore.open(path).close()
    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT", 0.05)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")  # so a write lock also blocks readers
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryError, match="locked"):
            HistoryStore.open(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not list(tmp_path.glob("*.corrupt-*"))
    with HistoryStore.open(path) as store:
        assert store.recovered is None


_UNREADABLE_CHILD = """
import sys
from pathlib import Path
from ergobreak.history.model import Batch
from ergobreak.history.store import HistoryStore
messages = []
store = HistoryStore.open(Path(sys.argv[1]), warn=messages.append)
store.write(Batch(desk={"2026-03-02": 60.0}))
print(store.recovered.name)
print(messages[0])
"""


def _without_root_file_access() -> None:
    """In the child before exec: drop the capabilities that let root read any file
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) from the bounding set, so a mode-000
    file is unreadable to it as to anyone else."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    for cap in (1, 2):
        if libc.prctl(pr_capbset_drop, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_unreadable_store_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with open_store(path) as store:
        store.write(sample_batch())
    path.chmod(0o000)
    as_root = os.geteuid() == 0
    done = subprocess.run(
        [sys.executable, "-c", _UNREADABLE_CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=_without_root_file_access if as_root else None,
    )
    assert done.returncode == 0, done.stderr
    aside_name, message = done.stdout.splitlines()[:2]
    assert aside_name.startswith("history.db.corrupt-")
    assert "no permission" in message
    aside = tmp_path / aside_name
    assert stat.S_IMODE(aside.stat().st_mode) == 0  # kept as it was
    aside.chmod(0o600)
    conn = sqlite3.connect(aside)
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 9  # nothing lost
    conn.close()
    assert path.exists()  # the fresh store


def test_split_by_day_across_midnight() -> None:
    midnight = 1772409600.0  # 2026-03-02T00:00:00Z
    assert split_by_day(midnight + 60, 180, UTC) == [("2026-03-01", 120.0), ("2026-03-02", 60.0)]
    assert split_by_day(midnight + 600, 60, UTC) == [("2026-03-02", 60.0)]
    assert split_by_day(midnight, 0, UTC) == []
    two_days = split_by_day(midnight + 86400 + 10, 86400 + 20, UTC)
    assert [d for d, _ in two_days] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert sum(s for _, s in two_days) == pytest.approx(86420)
