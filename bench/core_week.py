"""Replay a 5-day week (Mon-Fri, 24 h a day) through the core at 1 Hz; report samples/s.

    .venv/bin/python bench/core_week.py [--repeat 5]

Also replays the same week with deadline sampling (what ``ergobreak run`` does)
and reports the wake-ups that costs. Goal (issue 2): the 1 Hz week in under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timezone

from ergobreak.content import default_content
from ergobreak.core.machine import DeskSession
from ergobreak.core.settings import Settings
from ergobreak.sim.replay import replay
from ergobreak.sim.trace import compile_trace, parse_trace

DAY = """
9h,locked
25m,active
1m,idle
30m,active
3m,idle
40m,active
0,snooze
20m,active
8m,locked
50m,active
30m,fullscreen
25m,active
45m,locked
55m,active
4m,idle
60m,active
2m,idle
45m,active
0,pause 30m
40m,active
30m,idle
""".strip()


def week_trace() -> str:
    day_seconds = 24 * 3600
    rows = parse_trace(DAY)
    used = sum(row.seconds for row in rows)
    filler = day_seconds - used
    return "\n".join([DAY, f"{filler},locked"] * 5)


def run_once(sampling: str) -> tuple[float, int, int]:
    timeline = compile_trace(parse_trace(week_trace()))
    start = datetime(2026, 1, 5, 0, 0, tzinfo=timezone.utc).timestamp()
    machine = DeskSession(
        Settings(),
        default_content(),
        timezone.utc,
        away_poll=None if sampling == "deadline" else 10.0,
    )
    began = time.perf_counter()
    result = replay(timeline, machine, start, sampling=sampling)  # type: ignore[arg-type]
    return time.perf_counter() - began, result.samples, len(result.records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    times = []
    samples = effects = 0
    for _ in range(args.repeat):
        elapsed, samples, effects = run_once("1hz")
        times.append(elapsed)
    best, median = min(times), statistics.median(times)
    print(f"1 Hz: {samples} samples (5 x 24 h), {effects} effects")
    print(f"  best {best:.3f} s, median {median:.3f} s -> {samples / median:,.0f} samples/s")
    elapsed, wakes, effects_d = run_once("deadline")
    week = 5 * 24 * 3600
    rate = wakes / week
    print(f"deadline sampling: {wakes} wake-ups in the week ({rate:.4f}/s), {effects_d} effects")


if __name__ == "__main__":
    main()
