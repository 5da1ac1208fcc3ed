"""kill -9 in the middle of writing never corrupts the store or loses a commit.

A child process writes large batches in a loop and reports each commit on stdout;
the parent kills it with SIGKILL at random points (after a random number of
commits, while the next batch is being written, and once or twice while the store
is still being created), many times over the same file. After every kill the file
must pass ``PRAGMA integrity_check``, open without being "recovered", hold every
batch the child reported, and hold no partial batch.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from ergobreak.history.store import HistoryStore

#: events per batch: big enough that most kills land inside a write
BATCH = 400
KILLS = 15

_CHILD = """
import sys
from pathlib import Path
from ergobreak.history.model import Batch, EventRow, StretchRow
from ergobreak.history.store import HistoryStore

store = HistoryStore.open(Path(sys.argv[1]))
row = store._conn.execute(
    "SELECT max(CAST(substr(reason, 2) AS INTEGER)) FROM events WHERE reason LIKE 'b%'"
).fetchone()
n = 0 if row[0] is None else row[0] + 1
print("ready", flush=True)
while True:
    day = "2026-03-%02d" % (1 + n % 28)
    wall = 1772442000.0 + n
    store.write(
        Batch(
            events=[
                EventRow(wall + i, day, "drill_end", routine="r%d" % (i % 7), outcome="done",
                         reason="b%d" % n, attempt=i)
                for i in range(%(batch)d)
            ],
            desk={day: 60.0},
            stretches={n % 5 + 1: StretchRow(n % 5 + 1, wall, wall + 60, day, 60.0 * n, 0, 1)},
        )
    )
    print(n, flush=True)
    n += 1
""".replace("%(batch)d", str(BATCH))


def check(path: Path, committed: int) -> int:
    """Assert the store is whole; return the number of batches in it."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema")}
        if "events" not in tables:  # killed while the store was being created
            assert committed == 0
            return 0
        sizes = dict(
            conn.execute(
                "SELECT CAST(substr(reason, 2) AS INTEGER), count(*) FROM events GROUP BY reason"
            ).fetchall()
        )
        desk = conn.execute("SELECT coalesce(sum(desk_seconds), 0) FROM days").fetchone()[0]
    finally:
        conn.close()
    batches = len(sizes)
    assert sorted(sizes) == list(range(batches)), "batches are not a prefix"
    assert set(sizes.values()) <= {BATCH}, "a batch was written in part"
    assert batches >= committed, "a reported commit is missing"
    assert desk == 60.0 * batches  # the per-day totals moved with the events
    with HistoryStore.open(path) as store:
        assert store.recovered is None
    return batches


def test_kill_9_while_writing_never_corrupts_the_store(tmp_path: Path) -> None:
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    path = tmp_path / "history.db"
    committed = 0
    mid_write = 0
    for kill in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        # Two kills land while the store is opened (created, migrated, checked).
        lines = -1 if kill in (0, 5) else rng.randint(1, 25)
        last = None
        if lines >= 0:
            assert child.stdout.readline().strip() == "ready", child.stderr
            for _ in range(lines):
                last = int(child.stdout.readline())
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        assert child.stderr is not None
        child.stderr.close()
        assert child.returncode == -signal.SIGKILL
        if last is not None:
            committed = last + 1
        batches = check(path, committed)
        mid_write += lines > 0 and batches == committed  # the batch in flight rolled back
        committed = batches
        print(f"kill {kill}: after {lines} commits, {batches} batches in the store")
    assert committed > KILLS, f"seed {seed}: too few batches written to mean anything"
    assert mid_write >= 3, f"seed {seed}: kills should mostly land inside a write"
