"""What /proc says about one process: memory, CPU time and wake-ups, per thread.

Only the kernel's own counters, read from outside, so measuring costs the measured
process nothing:

* memory from ``/proc/PID/smaps_rollup``: RSS, PSS, and USS = Private_Clean +
  Private_Dirty (what the process alone costs; RSS counts shared GTK/libc pages in full);
* CPU time from ``/proc/PID/task/TID/schedstat`` (nanoseconds on the CPU), not the
  clock-tick ``utime``/``stime`` of ``/proc/PID/stat`` that read 0 for a quiet daemon;
* wake-ups as context switches (voluntary + nonvoluntary, ``/proc/PID/task/TID/status``)
  summed over every thread, and kept per thread name (``task/TID/comm``) so a poll shows
  which thread wakes.

A thread that ends between two snapshots takes its counts with it; threads that start
count from zero. :func:`delta` says so in ``threads_gone``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

KIB = 1024


@dataclass(frozen=True)
class Memory:
    """Kilobytes, as smaps_rollup gives them."""

    rss_kb: int
    pss_kb: int
    uss_kb: int


@dataclass(frozen=True)
class ThreadCounts:
    name: str
    cpu_ns: int
    switches: int


@dataclass(frozen=True)
class Snapshot:
    pid: int
    at: float  # time.monotonic() of the reading
    threads: Mapping[int, ThreadCounts]  # TID -> counters
    fds: int


@dataclass(frozen=True)
class Usage:
    """What a process did between two snapshots."""

    seconds: float
    cpu_pct: float
    switches_per_s: float
    per_thread_name: dict[str, float] = field(default_factory=dict)  # name -> switches/s
    threads: int = 0
    threads_gone: int = 0


def _fields(text: str) -> dict[str, str]:
    """``Key:   value`` lines (status, smaps_rollup) as a dict of the first word after."""
    out = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        words = rest.split()
        if sep and words:
            out[key.strip()] = words[0]
    return out


def parse_smaps_rollup(text: str) -> Memory:
    values = _fields(text)
    private = int(values.get("Private_Clean", 0)) + int(values.get("Private_Dirty", 0))
    return Memory(int(values["Rss"]), int(values["Pss"]), private)


def parse_schedstat(text: str) -> int:
    """Nanoseconds spent on the CPU (first of: run time, wait time, timeslices)."""
    return int(text.split(maxsplit=1)[0])


def parse_switches(status: str) -> int:
    values = _fields(status)
    return int(values["voluntary_ctxt_switches"]) + int(values["nonvoluntary_ctxt_switches"])


def parse_shared_by_file(smaps: str, top: int = 8) -> dict[str, int]:
    """Shared_Clean + Shared_Dirty kB of each mapped file (``/proc/PID/smaps``), largest
    first: the pages USS leaves out because another process maps them too."""
    shared: dict[str, int] = {}
    current = "[anon]"
    for line in smaps.splitlines():
        head, _, rest = line.partition(" ")
        if "-" in head and not head.endswith(":"):  # a mapping's header line
            fields = rest.split()
            current = fields[4] if len(fields) > 4 else "[anon]"
        elif head in ("Shared_Clean:", "Shared_Dirty:"):
            shared[current] = shared.get(current, 0) + int(rest.split()[0])
    ranked = sorted(shared.items(), key=lambda item: -item[1])
    return {name: kb for name, kb in ranked[:top] if kb}


def shared_by_file(pid: int, top: int = 8) -> dict[str, int]:
    return parse_shared_by_file(Path(f"/proc/{pid}/smaps").read_text(), top)


def memory(pid: int) -> Memory:
    return parse_smaps_rollup(Path(f"/proc/{pid}/smaps_rollup").read_text())


def read_thread_names(path: Path | None) -> dict[int, str]:
    """``TID<tab>name`` lines (bench/named_threads.py writes them); later lines win."""
    names = {}
    if path is not None and path.exists():
        for line in path.read_text().splitlines():
            tid, sep, name = line.partition("\t")
            if sep and tid.isdigit():
                names[int(tid)] = name
    return names


def snapshot(pid: int, at: float, names: Mapping[int, str] | None = None) -> Snapshot:
    """Every thread's CPU nanoseconds and context switches, and the open fds.

    A thread is named from ``names`` (full Python names by TID) or else its ``comm``."""
    threads = {}
    for task in os.scandir(f"/proc/{pid}/task"):
        try:
            base = Path(task.path)
            threads[int(task.name)] = ThreadCounts(
                name=(names or {}).get(int(task.name)) or (base / "comm").read_text().strip(),
                cpu_ns=parse_schedstat((base / "schedstat").read_text()),
                switches=parse_switches((base / "status").read_text()),
            )
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended while we looked
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return Snapshot(pid, at, threads, fds)


def delta(before: Snapshot, after: Snapshot) -> Usage:
    """CPU % and switches per second between two snapshots of one process."""
    seconds = after.at - before.at
    if seconds <= 0:
        raise ValueError("the second snapshot must be later than the first")
    cpu_ns = 0
    switches = 0
    by_name: dict[str, int] = {}
    for tid, now in after.threads.items():
        then = before.threads.get(tid)
        cpu = now.cpu_ns - (then.cpu_ns if then else 0)
        sw = now.switches - (then.switches if then else 0)
        cpu_ns += cpu
        switches += sw
        by_name[now.name] = by_name.get(now.name, 0) + sw
    gone = len(set(before.threads) - set(after.threads))
    return Usage(
        seconds=seconds,
        cpu_pct=100.0 * cpu_ns / 1e9 / seconds,
        switches_per_s=switches / seconds,
        per_thread_name={name: count / seconds for name, count in sorted(by_name.items())},
        threads=len(after.threads),
        threads_gone=gone,
    )
