"""The drill coach window's cost, on the headless desktop (Xvfb + openbox).

    .venv/bin/python bench/coach.py [--seconds 10]

Starts ``python -m ergobreak.coach`` as the daemon does (pipes, the same messages),
with ``ERGOBREAK_COACH_BENCH=1`` so it says when its first frame is drawn, and
measures:

* start -> first frame: from spawning the process to the window drawn with the
  first step (the ``coach-bench`` line on its stderr);
* RSS and PSS once drawn, and CPU % and wake-ups per second (context switches of
  all its threads) over ``--seconds`` each of: a motion animating (~15 fps), a
  still pose counting down (one redraw a second), and a held drill (frozen).

The daemon's side is measured by ``bench/footprint.py``: at idle the daemon
imports nothing of the coach (it loads ``ergobreak.coach`` at the first drill).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import procstat
from footprint import wait_for

from ergobreak.coach.protocol import Close, Message, Open, Show, StepInfo, encode

ROOT = Path(__file__).resolve().parent.parent
STEPS = (
    StepInfo("March on the spot, knees to hip height.", 30.0, "left", "march"),
    StepInfo("Stand tall and breathe.", 30.0, None, "stand"),
)
OPEN = Open(
    drill="bench",
    title="Coach bench",
    safety="Stop if anything hurts.",
    steps=STEPS,
    stop_rules="Stop if pain builds.",
)


def show(step: int, *, held: bool = False) -> Show:
    return Show(step, 2, 30.0, 30.0, 60.0 - 30 * (step - 1), 60.0, held=held)


def sample(pid: int, seconds: float) -> tuple[float, float]:
    """CPU % (scheduler nanoseconds) and wake-ups per second, all threads of ``pid``,
    over ``seconds``."""
    before = procstat.snapshot(pid, time.monotonic())
    time.sleep(seconds)
    usage = procstat.delta(before, procstat.snapshot(pid, time.monotonic()))
    return usage.cpu_pct, usage.switches_per_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    from footprint import Rig  # noqa: PLC0415 - loads the test rig by path

    with Rig(components=("openbox",)) as rig, rig.apply_env():
        env = {**os.environ, "ERGOBREAK_COACH_BENCH": "1"}
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "ergobreak.coach"],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        assert proc.stdin is not None
        assert proc.stderr is not None

        def send(message: Message) -> None:
            assert proc.stdin is not None
            proc.stdin.write(encode(message).encode())
            proc.stdin.flush()

        send(OPEN)
        send(show(1))
        for line in proc.stderr:
            if line.startswith(b"coach-bench first-frame-ms"):
                break
        first_frame = time.monotonic() - started
        wait_for(lambda: proc.poll() is None, 1)
        mem = procstat.memory(proc.pid)
        rows = [("motion", *sample(proc.pid, args.seconds))]
        send(show(2))
        rows.append(("still", *sample(proc.pid, args.seconds)))
        send(show(2, held=True))
        rows.append(("held", *sample(proc.pid, args.seconds)))
        send(Close())
        proc.stdin.close()
        proc.wait(10)
        proc.stderr.close()
    print(f"coach start -> first frame: {first_frame * 1000:.0f} ms")
    print(
        f"coach RSS {mem.rss_kb / 1024:.1f} MB, PSS {mem.pss_kb / 1024:.1f} MB,"
        f" USS {mem.uss_kb / 1024:.1f} MB"
    )
    print(f"{'showing':<8} {'CPU %':>7} {'wake/s':>7}")
    for name, cpu, wakeups in rows:
        print(f"{name:<8} {cpu:7.2f} {wakeups:7.1f}")


if __name__ == "__main__":
    main()
