"""Footprint of a running ergobreak beside its peers, on the same headless desktop.

    .venv/bin/python bench/footprint.py [--seconds 60] [--tray sni|xorg] [--peers]

Starts the test rig (Xvfb, private D-Bus, dunst, openbox, and xfce4-panel as the
StatusNotifierItem host or trayer for XEmbed), then ``ergobreak run`` with its
real adapters, and measures:

* start -> docked icon (the item registered with the watcher, or the XEmbed
  window reparented into the tray);
* while a simulated user types (xdotool key presses every second): RSS and PSS,
  CPU % and wake-ups per second (voluntary + involuntary context switches summed
  over all threads), over ``--seconds``;
* with ``--peers``, the same for Debian's workrave and safeeyes when installed.

Goals (issue 7): RSS <= 0.7x Workrave's, CPU <= 0.05 %, <= 0.2 wake-ups/s while
the user works, < 0.5 s from start to a docked icon.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jeepney import DBusAddress  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent


def _load_rig() -> Any:
    """The test suite's headless-desktop rig (tests/desktop/rig.py), loaded by path."""
    spec = importlib.util.spec_from_file_location("rig", ROOT / "tests" / "desktop" / "rig.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["rig"] = module
    spec.loader.exec_module(module)
    return module


rig_module = _load_rig()
Rig = rig_module.Rig
wait_for = rig_module.wait_for

WATCHER = DBusAddress(
    "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"
)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    rollup = Path(f"/proc/{pid}/smaps_rollup")
    if rollup.exists():
        for line in rollup.read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    return rss, pss


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def switches(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if "ctxt_switches" in line:
                total += int(line.split()[1])
    return total


def measure(rig: Any, pid: int, seconds: float) -> dict[str, float]:
    """Simulate typing (one key a second) and sample the process."""
    cpu0, sw0, t0 = cpu_ticks(pid), switches(pid), time.monotonic()
    while time.monotonic() - t0 < seconds:
        rig.key("shift")
        time.sleep(1.0)
    elapsed = time.monotonic() - t0
    cpu = (cpu_ticks(pid) - cpu0) / CLK_TCK
    rss, pss = rss_kb(pid)
    return {
        "rss_mb": rss / 1024,
        "pss_mb": pss / 1024,
        "cpu_pct": 100 * cpu / elapsed,
        "wakeups_per_s": (switches(pid) - sw0) / elapsed,
        "threads": len(list(Path(f"/proc/{pid}/task").iterdir())),
    }


def ergobreak(rig: Any, tray: str, seconds: float, home: Path) -> dict[str, float]:
    argv = [sys.executable, "-m", "ergobreak", "run"]
    env_home = {"HOME": str(home)}
    os.environ.update(env_home)
    started = time.monotonic()
    proc = rig.launch("ergobreak", argv)
    if tray == "sni":

        def registered() -> bool:
            items = rig.bus.get_property(WATCHER, "RegisteredStatusNotifierItems")
            return any(f"-{proc.pid}-" in item for item in items)

        wait_for(registered, 10, interval=0.005, what="the SNI item to register")
    else:
        wait_for(
            lambda: rig.find_windows("ergobreakSystemTrayIcon"),
            10,
            interval=0.005,
            what="the XEmbed icon to dock",
        )
    docked = time.monotonic() - started
    time.sleep(8)  # let start-up settle (imports, first icons, the memory hand-back)
    result = measure(rig, proc.pid, seconds)
    result["start_to_docked_s"] = docked
    rig.stop("ergobreak")
    return result


def peer(rig: Any, name: str, argv: list[str], seconds: float) -> dict[str, float] | None:
    if shutil.which(argv[0]) is None:
        return None
    proc = rig.launch(name, argv)
    time.sleep(8)  # peers have no readiness signal we can use; give them time
    if not proc.alive():
        return None
    result = measure(rig, proc.pid, seconds)
    rig.stop(name)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--tray", choices=("sni", "xorg"), default="sni")
    parser.add_argument("--peers", action="store_true")
    args = parser.parse_args()
    host = "xfce" if args.tray == "sni" else "trayer"
    home = Path(tempfile.mkdtemp(prefix="ergobreak-bench-"))
    rows: dict[str, dict[str, float] | None] = {}
    with Rig(components=("openbox", "dunst", host)) as rig, rig.apply_env():
        rows["ergobreak"] = ergobreak(rig, args.tray, args.seconds, home)
        if args.peers:
            rows["workrave"] = peer(rig, "workrave", ["workrave"], args.seconds)
            rows["safeeyes"] = peer(rig, "safeeyes", ["safeeyes"], args.seconds)
    print(f"{'process':<10} {'RSS MB':>7} {'PSS MB':>7} {'CPU %':>7} {'wake/s':>7} {'threads':>7}")
    for name, row in rows.items():
        if row is None:
            print(f"{name:<10} (not installed or did not start)")
            continue
        print(
            f"{name:<10} {row['rss_mb']:7.1f} {row['pss_mb']:7.1f} {row['cpu_pct']:7.3f}"
            f" {row['wakeups_per_s']:7.2f} {row['threads']:7.0f}"
        )
    ours = rows["ergobreak"]
    assert ours is not None
    print(
        f"ergobreak start -> docked icon ({args.tray}): {ours['start_to_docked_s'] * 1000:.0f} ms"
    )
    work = rows.get("workrave")
    if work:
        print(f"RSS vs workrave: {ours['rss_mb'] / work['rss_mb']:.2f}x")


if __name__ == "__main__":
    main()
