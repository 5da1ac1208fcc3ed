"""The bench's /proc readers (bench/procstat.py), checked on this very test process."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


procstat = _load("procstat")

ROLLUP = """55d0c0de0000-7ffd00000000 ---p 00000000 00:00 0   [rollup]
Rss:               30000 kB
Pss:               20000 kB
Pss_Anon:          15000 kB
Shared_Clean:       9000 kB
Shared_Dirty:        500 kB
Private_Clean:      1500 kB
Private_Dirty:     19000 kB
Swap:                  0 kB
"""


def test_uss_is_private_clean_plus_private_dirty() -> None:
    mem = procstat.parse_smaps_rollup(ROLLUP)
    assert (mem.rss_kb, mem.pss_kb, mem.uss_kb) == (30000, 20000, 20500)


SMAPS = """55d0c0de0000-55d0c0de4000 r-xp 00000000 08:01 123   /usr/lib/libgtk-3.so.0
Rss:                 400 kB
Shared_Clean:        300 kB
Shared_Dirty:          0 kB
55d0c0de4000-55d0c0de5000 rw-p 00004000 08:01 123   /usr/lib/libgtk-3.so.0
Shared_Clean:          0 kB
Shared_Dirty:          8 kB
7f0000000000-7f0000001000 rw-p 00000000 00:00 0
Shared_Clean:          4 kB
Shared_Dirty:          0 kB
7f0000002000-7f0000003000 r--p 00000000 08:01 9     /usr/lib/libc.so.6
Shared_Clean:          0 kB
Shared_Dirty:          0 kB
"""


def test_shared_pages_are_added_up_per_file_largest_first() -> None:
    shared = procstat.parse_shared_by_file(SMAPS)
    assert list(shared.items()) == [("/usr/lib/libgtk-3.so.0", 308), ("[anon]", 4)]


def test_libc_of_this_process_shows_as_shared() -> None:
    # every process on the machine maps libc's pages: none of them are ours alone
    shared = procstat.shared_by_file(os.getpid(), top=50)
    assert any("libc.so" in name for name in shared)


def test_memory_of_this_process_grows_with_what_it_alone_touches() -> None:
    before = procstat.memory(os.getpid())
    assert 0 < before.uss_kb <= before.pss_kb <= before.rss_kb
    block = bytearray(32 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touch every page: private, dirty
    after = procstat.memory(os.getpid())
    assert after.uss_kb - before.uss_kb >= 30 * 1024
    del block


def test_delta_counts_new_threads_from_zero_and_says_which_ended() -> None:
    counts = procstat.ThreadCounts
    before = procstat.Snapshot(1, 10.0, {1: counts("main", 1_000, 5), 2: counts("gone", 9, 9)}, 4)
    after = procstat.Snapshot(1, 12.0, {1: counts("main", 3_000, 9), 3: counts("new", 1_000, 2)}, 4)
    usage = procstat.delta(before, after)
    assert usage.per_thread_name == {"main": 2.0, "new": 1.0}
    assert usage.switches_per_s == 3.0
    assert usage.cpu_pct == 100 * 3_000 / 1e9 / 2
    assert usage.threads_gone == 1


def test_a_live_thread_s_switches_and_cpu_show_under_its_name(tmp_path: Path) -> None:
    ping, pong, done = threading.Event(), threading.Event(), threading.Event()
    tids: list[int] = []

    def partner() -> None:
        tids.append(threading.get_native_id())
        for _ in range(200):
            ping.wait()
            ping.clear()
            pong.set()
        deadline = time.thread_time() + 0.2
        while time.thread_time() < deadline:
            pass
        pong.set()
        done.wait()  # stay alive until the second snapshot

    thread = threading.Thread(target=partner)
    thread.start()
    while not tids:
        pass
    names = {tids[0]: "ping-partner"}
    before = procstat.snapshot(os.getpid(), time.monotonic(), names)
    for _ in range(200):
        ping.set()
        pong.wait()
        pong.clear()
    pong.wait()  # the partner's 0.2 s of CPU are spent
    after = procstat.snapshot(os.getpid(), time.monotonic(), names)
    done.set()
    thread.join()
    usage = procstat.delta(before, after)
    switches = usage.per_thread_name["ping-partner"] * usage.seconds
    assert switches >= 150  # 200 waits, a few may find the event already set
    assert usage.switches_per_s * usage.seconds >= switches
    partner_cpu_s = (after.threads[tids[0]].cpu_ns - before.threads[tids[0]].cpu_ns) / 1e9
    assert partner_cpu_s >= 0.19  # nanosecond CPU time, not clock ticks
    assert usage.cpu_pct >= 100 * partner_cpu_s / usage.seconds * 0.99
    assert usage.threads == len(after.threads) >= 2
    assert after.fds >= 3


def test_the_launcher_names_ergobreak_s_threads(tmp_path: Path) -> None:
    log = tmp_path / "threads.tsv"
    env = {**os.environ, "ERGOBREAK_BENCH_THREADS": str(log)}
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "named_threads.py"), "--version"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip()  # ergobreak ran and printed its version
    assert procstat.read_thread_names(log) == {proc.pid: "main"}
