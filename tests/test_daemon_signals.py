"""A real ``ergobreak run --no-tray`` stops at once on SIGTERM and reloads on SIGHUP,
even when the kernel hands the signal to a thread other than the main one (there the
engine sleeps until its next deadline, up to a minute away)."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from desktop.rig import wait_for
from scaffold import cli

libc = ctypes.CDLL(None, use_errno=True)


def _to_thread(pid: int, sig: int) -> str:
    """Send ``sig`` to one non-main thread of ``pid`` (tgkill); return its name."""
    for tid in sorted(int(t) for t in os.listdir(f"/proc/{pid}/task")):
        if tid != pid:
            name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            assert libc.tgkill(pid, tid, sig) == 0, os.strerror(ctypes.get_errno())
            return name
    raise AssertionError("the daemon has no thread besides the main one")


@pytest.fixture
def daemon(isolated: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISPLAY", "WAYLAND", "DBUS"))}
    with open(isolated / "daemon.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ergobreak", "run", "--no-tray", "--verbose"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: cli("status")[0] == 0, 20, interval=0.05, what="the daemon's IPC")
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


def test_sigterm_to_any_thread_stops_the_daemon_at_once(daemon: subprocess.Popen[bytes]) -> None:
    started = time.monotonic()
    _to_thread(daemon.pid, signal.SIGTERM)
    assert daemon.wait(5) == 0
    assert time.monotonic() - started < 2.0


def test_sighup_to_any_thread_reloads_the_settings(
    daemon: subprocess.Popen[bytes], isolated: Path
) -> None:
    log = isolated / "daemon.log"
    _to_thread(daemon.pid, signal.SIGHUP)
    wait_for(lambda: "settings reloaded" in log.read_text(errors="replace"), 3, what="a reload")
    assert daemon.poll() is None
