"""The local history store: one SQLite file in the state directory, nothing else.

Durability and crashes
----------------------
The file runs in WAL mode with ``synchronous=NORMAL``. In WAL mode a commit is an
append to the ``-wal`` file; with NORMAL the WAL is synced at checkpoints rather than
at every commit. A crash of the *process* (kill -9, a segfault) loses nothing that
was committed, because the appended pages are already in the operating system's
cache; a crash of the *machine* (power loss) can roll back the last few commits but
never corrupts the file (SQLite's documented guarantee for WAL + NORMAL). Losing a
few seconds of break statistics on a power cut is a fair price for not forcing an
fsync on a laptop disk every time a prompt is recorded, so FULL is not used.

Every write is one ``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction, so a reader (the
``stats`` command, the tray) sees a batch completely or not at all.

Damage
------
A store that cannot be used — garbage or truncated bytes, a directory where the
file should be, a file this user cannot read, tables that are not ours — is
renamed to ``history.db.corrupt-<timestamp>`` (with its ``-wal``/``-shm``
companions) and a fresh store is started; the caller gets a message to show.
Nothing is deleted. Transient trouble (another process holds the lock, the disk is
full) raises :class:`HistoryError` and leaves the file alone, as does a store
written by a *newer* ergobreak (:class:`HistoryVersionError`).
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, TextIO

from ergobreak.history.model import (
    Batch,
    DayStats,
    EventRow,
    Period,
    RoutineStats,
    StretchRow,
    Summary,
)

log = logging.getLogger("ergobreak.history")

FILENAME = "history.db"
#: default retention: rows older than this many days are purged
KEEP_DAYS = 90
#: seconds to wait for another process's write lock before giving up
BUSY_TIMEOUT = 5.0

#: Schema migrations, in order; migration ``i`` (0-based) takes ``user_version`` from
#: ``i`` to ``i + 1``. Append only: a released migration never changes.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: prompts and outcomes, desk time per day, a key/value table
    (
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            wall REAL NOT NULL,
            day TEXT NOT NULL,
            kind TEXT NOT NULL,
            routine TEXT,
            outcome TEXT,
            reason TEXT,
            attempt INTEGER,
            requested INTEGER,
            seconds REAL
        )""",
        "CREATE INDEX events_day ON events (day)",
        """CREATE TABLE days (
            day TEXT PRIMARY KEY,
            desk_seconds REAL NOT NULL DEFAULT 0,
            longest_stretch REAL NOT NULL DEFAULT 0
        )""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    # 2: posture cue ids get their own column (version 1 kept them in ``routine``);
    #    sitting stretches with their place in the day, for the heat strip
    (
        "ALTER TABLE events ADD COLUMN cue TEXT",
        "UPDATE events SET cue = routine, routine = NULL WHERE kind = 'posture_check'",
        """CREATE TABLE stretches (
            id INTEGER PRIMARY KEY,
            start_wall REAL NOT NULL,
            end_wall REAL NOT NULL,
            day TEXT NOT NULL,
            desk_seconds REAL NOT NULL,
            start_min INTEGER NOT NULL,
            end_min INTEGER NOT NULL,
            open INTEGER NOT NULL DEFAULT 0,
            ended_by TEXT
        )""",
        "CREATE INDEX stretches_day ON stretches (day)",
    ),
    # 3: "How was it?" after a drill: ``feedback`` events carry the answer
    ("ALTER TABLE events ADD COLUMN answer TEXT",),
)
LATEST = len(MIGRATIONS)

EVENT_COLUMNS = (
    "wall",
    "day",
    "kind",
    "routine",
    "cue",
    "outcome",
    "reason",
    "attempt",
    "requested",
    "seconds",
    "answer",
)
DAY_COLUMNS = ("day", "desk_seconds", "longest_stretch")
STRETCH_COLUMNS = (
    "id",
    "start_wall",
    "end_wall",
    "day",
    "desk_seconds",
    "start_min",
    "end_min",
    "open",
    "ended_by",
)
#: tables and columns the current schema must have (checked on open)
_EXPECTED = {
    "events": {"id", *EVENT_COLUMNS},
    "days": set(DAY_COLUMNS),
    "stretches": set(STRETCH_COLUMNS),
    "meta": {"key", "value"},
}
EXPORT_TABLES = ("events", "days", "stretches")
_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)})"  # noqa: S608 - fixed column names
    f" VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
)
_UPSERT_STRETCH = (
    f"INSERT INTO stretches ({', '.join(STRETCH_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join('?' * len(STRETCH_COLUMNS))}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in STRETCH_COLUMNS[1:])
)


class HistoryError(Exception):
    """The store cannot be used right now; the message says why. Nothing was deleted."""


class HistoryVersionError(HistoryError):
    """The store was written by a newer ergobreak; it is left untouched."""


class _Unusable(Exception):
    """The file is not a usable history store (damaged, not ours, unreadable)."""


# SQLite result codes that mean "this file is not a store we can use"
_SQLITE_CANTOPEN = 14
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_DAMAGE_WORDS = ("malformed", "not a database", "file is encrypted", "unable to open")


def is_damage(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_CANTOPEN, _SQLITE_CORRUPT, _SQLITE_NOTADB)
    return any(word in str(exc).lower() for word in _DAMAGE_WORDS)


def default_path() -> Path:
    from ergobreak.paths import paths  # noqa: PLC0415 - platformdirs only when needed

    return paths().state_dir / FILENAME


def _companions(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def move_aside(path: Path, now: float | None = None) -> Path:
    """Rename ``path`` (and its ``-wal``/``-shm`` files) to ``<name>.corrupt-<time>``."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(time.time() if now is None else now))
    base = path.with_name(f"{path.name}.corrupt-{stamp}")
    aside = base
    n = 1
    while any(os.path.lexists(p) for p in _companions(aside)):
        aside = base.with_name(f"{base.name}-{n}")
        n += 1
    for src, dst in zip(_companions(path), _companions(aside), strict=True):
        if os.path.lexists(src):
            os.rename(src, dst)
    return aside


class HistoryStore:
    """One connection to the history file. Not thread-safe: use it from one thread
    (the recorder's writer thread, or a CLI command)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        #: where a damaged store was moved to when this one was opened, if it was
        self.recovered: Path | None = None

    # ------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        path: Path | None = None,
        *,
        warn: Callable[[str], None] | None = None,
        now: float | None = None,
    ) -> HistoryStore:
        """Open (creating, migrating, or recovering) the store at ``path``.

        A damaged or unreadable file is moved aside and ``warn`` is called with a
        message for the user (it is also logged).

        Raises:
            HistoryVersionError: the file comes from a newer ergobreak.
            HistoryError: the store cannot be opened or created (locked, disk full,
                no permission to create the directory); nothing was changed.
        """
        path = Path(path) if path is not None else default_path()
        try:
            return cls._connect(path)
        except _Unusable as exc:
            problem = str(exc)
        try:
            aside = move_aside(path, now)
        except OSError as exc:
            raise HistoryError(
                f"history store {path} is unusable ({problem}) and could not be moved aside"
                f" ({exc.strerror or exc})"
            ) from None
        message = (
            f"The history store {path} could not be read ({problem}). It was moved to"
            f" {aside} and a fresh store was started."
        )
        log.warning("%s", message)
        if warn is not None:
            warn(message)
        try:
            store = cls._connect(path)
        except _Unusable as exc:
            raise HistoryError(f"cannot create a history store at {path}: {exc}") from None
        store.recovered = aside
        return store

    @classmethod
    def open_memory(cls) -> HistoryStore:
        """A store that lives in memory only (the recorder's last resort, and tests)."""
        conn = sqlite3.connect(":memory:", isolation_level=None)
        migrate(conn, 0)
        return cls(conn, Path(":memory:"))

    @classmethod
    def _connect(cls, path: Path) -> HistoryStore:
        if path.is_dir():
            raise _Unusable("a directory is in its place")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                # Personal data: readable by this user only (the -wal and -shm
                # files inherit the mode from the database file).
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise HistoryError(f"cannot create {path}: {exc.strerror or exc}") from None
        if not os.access(path, os.R_OK | os.W_OK):
            raise _Unusable("no permission to read and write it")
        try:
            conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=True
            )
        except sqlite3.Error as exc:
            raise _Unusable(str(exc)) from None
        try:
            cls._prepare(conn, path)
        except sqlite3.Error as exc:
            conn.close()
            if is_damage(exc):
                raise _Unusable(str(exc)) from None
            raise HistoryError(f"history store {path}: {exc}") from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    @staticmethod
    def _prepare(conn: sqlite3.Connection, path: Path) -> None:
        # Look before touching: nothing is written to a file that turns out to be
        # damaged, foreign or newer (not even the switch to WAL).
        check = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if check != ["ok"]:
            raise _Unusable("integrity check failed: " + "; ".join(map(str, check[:3])))
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        latest = len(MIGRATIONS)
        if version > latest:
            raise HistoryVersionError(
                f"history store {path} was written by a newer ergobreak (schema {version},"
                f" this version knows {latest}); it was left as it is"
            )
        if version == 0 and _tables(conn):
            raise _Unusable("it holds tables that are not ergobreak's")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # pragma: no cover - e.g. a network file system
            log.info("history store %s: journal mode %s (WAL unavailable)", path, mode)
        conn.execute("PRAGMA synchronous=NORMAL")
        migrate(conn, version)
        tables = _tables(conn)
        for table, columns in _EXPECTED.items():
            if not columns <= tables.get(table, set()):
                raise _Unusable(f"table {table} is missing or incomplete")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # ------------------------------------------------------------ writing

    def write(self, batch: Batch) -> None:
        """Write ``batch`` in one transaction (all of it or, on error, none)."""
        if not batch:
            return
        with self._tx() as conn:
            conn.executemany(
                _INSERT_EVENT,
                [
                    (
                        e.wall,
                        e.day,
                        e.kind,
                        e.routine,
                        e.cue,
                        e.outcome,
                        e.reason,
                        e.attempt,
                        None if e.requested is None else int(e.requested),
                        e.seconds,
                        e.answer,
                    )
                    for e in batch.events
                ],
            )
            conn.executemany(
                "INSERT INTO days (day, desk_seconds) VALUES (?, ?) ON CONFLICT (day)"
                " DO UPDATE SET desk_seconds = desk_seconds + excluded.desk_seconds",
                sorted(batch.desk.items()),
            )
            for s in batch.stretches.values():
                conn.execute(
                    _UPSERT_STRETCH,
                    (
                        s.id,
                        s.start_wall,
                        s.end_wall,
                        s.day,
                        s.desk_seconds,
                        s.start_min,
                        s.end_min,
                        int(s.open),
                        s.ended_by,
                    ),
                )
                conn.execute(
                    "INSERT INTO days (day, longest_stretch) VALUES (?, ?) ON CONFLICT (day)"
                    " DO UPDATE SET longest_stretch"
                    " = max(longest_stretch, excluded.longest_stretch)",
                    (s.day, s.desk_seconds),
                )
            if batch.dropped:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('dropped', ?) ON CONFLICT (key)"
                    " DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value",
                    (batch.dropped,),
                )

    def purge(self, keep_days: int = KEEP_DAYS, today: date | None = None) -> int:
        """Delete rows from days more than ``keep_days`` before ``today``; return how
        many events went."""
        if keep_days < 1:
            raise ValueError(f"keep_days must be at least 1, got {keep_days}")
        cutoff = ((today or date.today()) - timedelta(days=keep_days - 1)).isoformat()
        with self._tx() as conn:
            gone = conn.execute("DELETE FROM events WHERE day < ?", (cutoff,)).rowcount
            conn.execute("DELETE FROM days WHERE day < ?", (cutoff,))
            conn.execute("DELETE FROM stretches WHERE day < ? AND open = 0", (cutoff,))
        return int(gone)

    def clear(self) -> None:
        """Delete all recorded history, overwriting the freed pages, and shrink the file."""
        conn = self._conn
        conn.execute("PRAGMA secure_delete=ON")
        with self._tx():
            for table in EXPORT_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            conn.execute("DELETE FROM meta WHERE key = 'dropped'")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def claim_notice(self, who: str, now: float | None = None) -> bool:
        """True exactly once per store and ``who`` (``cli``, ``daemon``): show the
        first-run notice now."""
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                (f"notice_{who}", str(time.time() if now is None else now)),
            )
            return cur.rowcount == 1

    # ------------------------------------------------------------ reading

    def open_stretch(self) -> StretchRow | None:
        """The stretch that was still going when the recorder last stopped."""
        row = self._conn.execute(
            f"SELECT {', '.join(STRETCH_COLUMNS)} FROM stretches"  # noqa: S608
            " WHERE open = 1 ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return _stretch(row) if row else None

    def last_stretch_id(self) -> int:
        return int(self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM stretches").fetchone()[0])

    def dropped(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'dropped'").fetchone()
        return int(row[0]) if row else 0

    def counts(self) -> dict[str, int]:
        return {
            table: int(self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
            for table in EXPORT_TABLES
        }

    def events(self, start: str | None = None, end: str | None = None) -> list[EventRow]:
        rows = self._conn.execute(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM events"  # noqa: S608
            " WHERE day >= ? AND day <= ? ORDER BY wall, id",
            (start or "", end or "9999"),
        )
        return [
            EventRow(
                wall=r[0],
                day=r[1],
                kind=r[2],
                routine=r[3],
                cue=r[4],
                outcome=r[5],
                reason=r[6],
                attempt=r[7],
                requested=None if r[8] is None else bool(r[8]),
                seconds=r[9],
                answer=r[10],
            )
            for r in rows
        ]

    def stretches(self, start: str | None = None, end: str | None = None) -> list[StretchRow]:
        rows = self._conn.execute(
            f"SELECT {', '.join(STRETCH_COLUMNS)} FROM stretches"  # noqa: S608
            " WHERE day >= ? AND day <= ? ORDER BY start_wall, id",
            (start or "", end or "9999"),
        )
        return [_stretch(r) for r in rows]

    def day_stats(self, period: Period) -> list[DayStats]:
        """One :class:`DayStats` per day of ``period``, zeros where nothing happened."""
        lo, hi = period.start.isoformat(), period.end.isoformat()
        base: dict[str, tuple[float, float]] = {
            r[0]: (r[1], r[2])
            for r in self._conn.execute(
                "SELECT day, desk_seconds, longest_stretch FROM days WHERE day BETWEEN ? AND ?",
                (lo, hi),
            )
        }
        counts: dict[str, tuple[int, ...]] = {
            r[0]: tuple(int(v or 0) for v in r[1:])
            for r in self._conn.execute(
                """SELECT day,
                    sum(kind = 'posture_check'),
                    sum(kind = 'drill_prompt'),
                    sum(kind = 'drill_end' AND outcome = 'done'),
                    sum(kind = 'drill_end' AND outcome = 'skipped'),
                    sum(kind = 'drill_end' AND outcome = 'ignored'),
                    sum(kind = 'drill_end' AND outcome = 'cancelled'),
                    sum(kind = 'snoozed'),
                    sum(kind = 'natural_break')
                FROM events WHERE day BETWEEN ? AND ? GROUP BY day""",
                (lo, hi),
            )
        }
        out = []
        for day in period.days():
            desk, longest = base.get(day, (0.0, 0.0))
            c = counts.get(day, (0,) * 8)
            out.append(
                DayStats(
                    day=day,
                    desk_seconds=desk,
                    longest_stretch=longest,
                    posture_checks=c[0],
                    drill_prompts=c[1],
                    drills_done=c[2],
                    drills_skipped=c[3],
                    drills_ignored=c[4],
                    drills_cancelled=c[5],
                    snoozes=c[6],
                    natural_breaks=c[7],
                )
            )
        return out

    def routine_stats(self, period: Period) -> list[RoutineStats]:
        """Per drill: how often done, skipped, ignored, snoozed, and how it felt
        (most done first)."""
        rows = self._conn.execute(
            """SELECT routine,
                sum(kind = 'drill_end' AND outcome = 'done'),
                sum(kind = 'drill_end' AND outcome = 'skipped'),
                sum(kind = 'drill_end' AND outcome = 'ignored'),
                sum(kind = 'snoozed'),
                sum(kind = 'feedback' AND answer = 'easy'),
                sum(kind = 'feedback' AND answer = 'right'),
                sum(kind = 'feedback' AND answer = 'hard'),
                sum(kind = 'feedback' AND answer = 'hurt')
            FROM events
            WHERE day BETWEEN ? AND ? AND routine IS NOT NULL
                AND kind IN ('drill_end', 'snoozed', 'feedback')
            GROUP BY routine""",
            (period.start.isoformat(), period.end.isoformat()),
        )
        stats = [
            RoutineStats(
                r[0],
                int(r[1]),
                int(r[2]),
                int(r[3]),
                int(r[4]),
                felt=(int(r[5]), int(r[6]), int(r[7]), int(r[8])),
            )
            for r in rows
        ]
        return sorted(stats, key=lambda s: (-s.done, s.skipped, s.routine))

    def summary(self, period: Period) -> Summary:
        return Summary(
            period=period,
            days=self.day_stats(period),
            routines=self.routine_stats(period),
            stretches=self.stretches(period.start.isoformat(), period.end.isoformat()),
            dropped=self.dropped(),
        )

    # ------------------------------------------------------------ export

    def export_json(self, out: TextIO, tz: tzinfo | None = None) -> None:
        """Everything in the store as one JSON document."""
        doc: dict[str, Any] = {
            "format": "ergobreak-history",
            "schema": self.version,
            "exported_at": datetime.now(tz).astimezone(tz).isoformat(timespec="seconds"),
            "days": [dict(zip(DAY_COLUMNS, r, strict=True)) for r in self._rows("days")],
            "events": [_event_dict(r, tz) for r in self._rows("events")],
            "stretches": [
                dict(zip(STRETCH_COLUMNS, r, strict=True)) for r in self._rows("stretches")
            ],
        }
        json.dump(doc, out, ensure_ascii=False, indent=1)
        out.write("\n")

    def export_csv(self, out: TextIO, table: str = "events", tz: tzinfo | None = None) -> None:
        """One table as CSV with a header row (``events`` gain a local ``time`` column)."""
        if table not in EXPORT_TABLES:
            raise ValueError(f"no table {table!r}; choose one of {', '.join(EXPORT_TABLES)}")
        writer = csv.writer(out, lineterminator="\n")
        if table == "events":
            writer.writerow(("time", *EVENT_COLUMNS))
            for r in self._rows("events"):
                writer.writerow((_iso(r[0], tz), *r))
            return
        columns = DAY_COLUMNS if table == "days" else STRETCH_COLUMNS
        writer.writerow(columns)
        writer.writerows(self._rows(table))

    def _rows(self, table: str) -> Sequence[tuple[Any, ...]]:
        columns = {"events": EVENT_COLUMNS, "days": DAY_COLUMNS, "stretches": STRETCH_COLUMNS}
        order = {"events": "wall, id", "days": "day", "stretches": "id"}[table]
        return self._conn.execute(
            f"SELECT {', '.join(columns[table])} FROM {table} ORDER BY {order}"  # noqa: S608
        ).fetchall()


def migrate(conn: sqlite3.Connection, version: int, target: int | None = None) -> None:
    """Apply migrations ``version + 1 .. target`` (default: all), each in its own
    transaction: a failing migration leaves the store at the version before it."""
    for number in range(version + 1, (len(MIGRATIONS) if target is None else target) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number:d}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        log.info("history store migrated to schema %d", number)


def _tables(conn: sqlite3.Connection) -> dict[str, set[str]]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {name: {r[1] for r in conn.execute(f"PRAGMA table_info({name})")} for name in names}


def _stretch(r: Sequence[Any]) -> StretchRow:
    return StretchRow(
        id=int(r[0]),
        start_wall=float(r[1]),
        end_wall=float(r[2]),
        day=str(r[3]),
        desk_seconds=float(r[4]),
        start_min=int(r[5]),
        end_min=int(r[6]),
        open=bool(r[7]),
        ended_by=r[8],
    )


def _iso(wall: float, tz: tzinfo | None) -> str:
    return datetime.fromtimestamp(wall, tz).astimezone(tz).isoformat(timespec="seconds")


def _event_dict(r: Sequence[Any], tz: tzinfo | None) -> dict[str, Any]:
    d = {k: v for k, v in zip(EVENT_COLUMNS, r, strict=True) if v is not None}
    if "requested" in d:
        d["requested"] = bool(d["requested"])
    return {"time": _iso(r[0], tz), **d}
