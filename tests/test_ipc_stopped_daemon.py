"""A real ``ergobreak run --no-tray``, stopped with SIGSTOP: the command line says it
is not answering, with its PID, within its timeout -- and is answered again once the
daemon continues."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from desktop.rig import wait_for
from scaffold import cli

from ergobreak.core.duration import format_amount
from ergobreak.daemon import ipc


def test_a_stopped_daemon_is_not_answering_within_the_timeout(isolated: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISPLAY", "WAYLAND", "DBUS"))}
    env["HOME"] = str(isolated / "home")
    with open(isolated / "daemon.log", "wb") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "ergobreak", "run", "--no-tray"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: cli("status")[0] == 0, 20, interval=0.05, what="the daemon's IPC")
        os.kill(daemon.pid, signal.SIGSTOP)
        started = time.monotonic()
        code, out, err = cli("status", "--json")
        took = time.monotonic() - started
        assert code == 4
        assert json.loads(out) == {"running": True, "answering": False}
        assert err == (
            f"ergobreak is not answering (pid {daemon.pid}):"
            f" no reply in {format_amount(ipc.REPLY_TIMEOUT)};"
            f" if that lasts, end it with `kill {daemon.pid}` and start it again\n"
        )
        assert ipc.REPLY_TIMEOUT - 0.1 < took < ipc.REPLY_TIMEOUT + 1
        os.kill(daemon.pid, signal.SIGCONT)
        code, out, err = cli("status")
        assert (code, err) == (0, "")
    finally:
        os.kill(daemon.pid, signal.SIGCONT)
        daemon.terminate()
        daemon.wait(10)
