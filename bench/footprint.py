"""Footprint of a running ergobreak, side by side with Workrave and Safe Eyes, per state.

    .venv/bin/python bench/footprint.py [--seconds 60] [--runs 3] [--json FILE]
                                        [--tray sni|xorg] [--no-peers] [--states a,b]

Each run starts the test rig (tests/desktop/rig.py: Xvfb, a private session bus, dunst,
openbox, xfce4-panel as the StatusNotifierItem host -- or trayer for ``--tray xorg``) and
a stand-in system bus, then, in that one session: ``ergobreak run`` with its real
adapters (tray, native notifications, X11 idle, config watcher, history), Workrave,
Safe Eyes and the floor ``python3 -c 'import time; time.sleep(600)'``. Each is confirmed
up (tray item registered / bus name owned / RPC answering) or reported as not started.

Then every program is measured over the same windows, one per state of ergobreak:

* ``working``  -- synthetic input (XTEST, as xdotool sends it): 20 pointer moves/s and a
  key press each second;
* ``away``     -- no input, measured once ergobreak counts the user as away;
* ``paused``   -- ``ergobreak pause 1h``, input going on;
* ``outside_hours`` -- a config whose working hours exclude now (applied by the running
  daemon's config watcher), input going on;
* ``prompt``   -- a drill prompt held on screen (the config watcher applies a 10 s drill
  interval; a long prelude keeps the prompt up while input goes on).

Figures (bench/procstat.py): RSS, PSS, USS (Private_Clean + Private_Dirty), CPU % from
schedstat nanoseconds, context switches per second summed over all threads, threads,
fds, and for ergobreak the switches per second of each thread by name. With ``--runs``
> 1 the table shows medians; ``--json`` keeps min/median/max and every value. Also timed:
start -> docked icon, and ``ergobreak status`` against ``python3 -c pass``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import Xlib.display
import Xlib.X
import Xlib.XK
from Xlib.ext import xtest

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import peers  # noqa: E402 -- bench/ helpers, next to this script
import procstat  # noqa: E402


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

STATES = ("working", "away", "paused", "outside_hours", "prompt")
TYPING = {"working": True, "away": False, "paused": True, "outside_hours": True, "prompt": True}
ACTORS = ("ergobreak", "workrave", "safeeyes", "floor")
MOVES_PER_S = 20
SETTLE_S = 10.0  # after start-up: imports done, first icons drawn, memory handed back


def config_text(idle_pause: str | None, **sections: dict[str, str]) -> str:
    """A config.toml: the bench's base settings, with ``sections`` (TOML values) on top.

    ``idle_pause`` (e.g. "15s") shortens the wait before ``away``; None keeps ergobreak's
    default, which also sets how often its engine looks at the idle time while working."""
    merged: dict[str, dict[str, str]] = {
        "activity": {"idle_pause": f'"{idle_pause}"'} if idle_pause else {},
        "schedule": {"enabled": "false"},
        "history": {"first_run_notice": "false"},
    }
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    out = ["schema = 1"]
    for name, values in merged.items():
        out.append(f"[{name}]")
        out += [f"{key} = {value}" for key, value in values.items()]
    return "\n".join(out) + "\n"


def prompt_config(idle_pause: str | None) -> str:
    """A drill due after 10 s of desk time, its prompt kept up while the user works on."""
    return config_text(
        idle_pause,
        activity={"prompt_gap": '"5s"'},
        posture={"enabled": "false"},
        drill={"every": '"10s"', "prelude": '"30m"', "start_after_idle": '"10s"', "snooze": '"5s"'},
    )


def outside_hours_config(idle_pause: str | None, now: time.struct_time) -> str:
    """Every day, one working hour that is neither this one nor the next."""
    start = next(h for h in ((now.tm_hour + k) % 24 for k in range(2, 24)) if h <= 22)
    days = '["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'
    hours = f'["{start:02d}:00-{start + 1:02d}:00"]'
    return config_text(idle_pause, schedule={"enabled": "true", "days": days, "hours": hours})


# --------------------------------------------------------------------------- input


class Typist:
    """Synthetic input through the XTEST extension (what xdotool uses), from one
    connection of our own: no process per event, so the bench costs the X server little."""

    def __init__(self, display: str) -> None:
        self.display = Xlib.display.Display(display)
        self.shift = self.display.keysym_to_keycode(Xlib.XK.string_to_keysym("Shift_L"))
        self.step = 0

    def close(self) -> None:
        self.display.close()

    def tick(self) -> None:
        """One pointer move; every MOVES_PER_S-th tick also a key press."""
        self.step += 1
        x, y = 400 + (self.step % 2) * 40, 400
        xtest.fake_input(self.display, Xlib.X.MotionNotify, x=x, y=y)
        if self.step % MOVES_PER_S == 0:
            xtest.fake_input(self.display, Xlib.X.KeyPress, self.shift)
            xtest.fake_input(self.display, Xlib.X.KeyRelease, self.shift)
        self.display.sync()

    def hold(self, seconds: float, typing: bool) -> None:
        """Type (or keep still) for ``seconds``, on a fixed 50 ms grid."""
        t0 = time.monotonic()
        n = 0
        while (now := time.monotonic()) - t0 < seconds:
            if not typing:
                time.sleep(min(1.0, seconds - (now - t0)))
                continue
            self.tick()
            n += 1
            time.sleep(max(0.0, t0 + n / MOVES_PER_S - time.monotonic()))


# --------------------------------------------------------------------------- ergobreak


class Ergobreak:
    """The daemon under test and its command line, in the rig's session."""

    def __init__(self, rig: Any, tray: str, idle_pause: str | None) -> None:
        self.rig = rig
        self.tray = tray
        self.config = Path(rig.env["HOME"]) / "bench-config.toml"
        self.idle_pause = idle_pause
        self.config.write_text(config_text(idle_pause))
        self.thread_log = Path(rig.state_dir) / "ergobreak-threads.tsv"
        rig.env["ERGOBREAK_BENCH_THREADS"] = str(self.thread_log)
        script = Path(sys.executable).parent / "ergobreak"
        self.cli = [str(script)] if script.exists() else [sys.executable, "-m", "ergobreak"]

    def start(self) -> peers.Started:
        argv = [
            sys.executable,
            str(BENCH / "named_threads.py"),
            "run",
            "--config",
            str(self.config),
        ]

        def docked(proc: Any) -> bool:
            if self.tray == "sni":
                return proc.pid in peers.sni_pids(self.rig)
            return bool(self.rig.find_windows("ergobreakSystemTrayIcon"))

        ready = "SNI item registered" if self.tray == "sni" else "XEmbed icon docked"
        return peers.launch_until(self.rig, wait_for, "ergobreak", argv, up=docked, ready=ready)[0]

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.cli, *args],
            check=False,
            env=self.rig.subprocess_env(),
            capture_output=True,
            text=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )

    def status(self) -> dict[str, Any]:
        out = self.command("status", "--json", "--personal")
        try:
            return dict(json.loads(out.stdout))
        except json.JSONDecodeError:
            return {}

    def apply_config(self, text: str, what: str, check: Callable[[dict[str, Any]], bool]) -> None:
        """Write the config and wait until the daemon's watcher applied it."""
        self.config.write_text(text)
        seen: list[dict[str, Any]] = [{}]

        def applied() -> bool:
            seen[0] = self.status()
            if seen[0].get("config_error") or seen[0].get("warnings"):
                raise RuntimeError(f"the bench's config was refused: {seen[0]}")
            return check(seen[0])

        try:
            wait_for(applied, 30, interval=0.5, what=what)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; last status {seen[0]}") from None


def _state_of(status: dict[str, Any]) -> str:
    """ergobreak's own word for its state, from ``status --json --personal``."""
    for key in ("state", "phase", "mode"):
        value = status.get(key)
        if isinstance(value, str):
            return value
    personal = status.get("personal")
    if isinstance(personal, dict):
        return _state_of(personal)
    return ""


# --------------------------------------------------------------------------- one run


@contextmanager
def session(tray: str) -> Iterator[Any]:
    host = "xfce" if tray == "sni" else "trayer"
    with Rig(components=("openbox", "dunst", host)) as rig:
        home = rig.state_dir / "home"
        home.mkdir()
        rig.env["HOME"] = str(home)
        rig.env["XDG_STATE_HOME"] = str(home / ".local" / "state")
        peers.start_system_bus(rig)
        peers.start_dconf(rig, wait_for)
        yield rig


def measure(
    pids: dict[str, int], seconds: float, typist: Typist, typing: bool, thread_log: Path
) -> dict[str, Any]:
    """One window: every program sampled at its start and end."""
    names = procstat.read_thread_names(thread_log)
    before = {name: procstat.snapshot(pid, time.monotonic(), names) for name, pid in pids.items()}
    typist.hold(seconds, typing)
    names = procstat.read_thread_names(thread_log)
    out: dict[str, Any] = {}
    for name, pid in pids.items():
        try:
            after = procstat.snapshot(pid, time.monotonic(), names)
            mem = procstat.memory(pid)
        except (FileNotFoundError, ProcessLookupError):
            out[name] = {"error": "exited during the window"}
            continue
        usage = procstat.delta(before[name], after)
        out[name] = {
            "rss_mib": mem.rss_kb / procstat.KIB,
            "pss_mib": mem.pss_kb / procstat.KIB,
            "uss_mib": mem.uss_kb / procstat.KIB,
            "cpu_pct": usage.cpu_pct,
            "ctx_per_s": usage.switches_per_s,
            "threads": usage.threads,
            "fds": after.fds,
            "threads_gone": usage.threads_gone,
            "ctx_per_s_by_thread": usage.per_thread_name,
            # [file, kB] pairs, largest first (a dict would be sorted by name in the JSON)
            "shared_kib_by_file": [list(pair) for pair in procstat.shared_by_file(pid).items()],
        }
    return out


def enter_state(state: str, ours: Ergobreak, typist: Typist) -> str:
    """Bring ergobreak into ``state``; return what its status said."""
    if state == "working":
        typist.hold(3, typing=True)
    elif state == "away":
        wait_for(lambda: _state_of(ours.status()) == "away", 300, interval=1.0, what="away")
    elif state == "paused":
        ours.command("pause", "1h")
        typist.hold(2, typing=True)
    elif state == "outside_hours":
        ours.command("resume")
        ours.apply_config(
            outside_hours_config(ours.idle_pause, time.localtime()),
            "ergobreak to apply the outside-hours config",
            lambda s: _state_of(s) == "off_hours",
        )
        typist.hold(2, typing=True)
    elif state == "prompt":
        ours.apply_config(
            prompt_config(ours.idle_pause),
            "ergobreak to apply the prompt config",
            lambda s: _state_of(s) not in ("off_hours", ""),
        )

        def prompted() -> bool:
            typist.tick()  # the user works on: 10 s of desk time bring the prompt
            return _state_of(ours.status()) == "prompt" and bool(
                ours.rig.dunst_property("displayedLength")
            )

        wait_for(prompted, 60, interval=1 / MOVES_PER_S, what="ergobreak's drill prompt")
    return _state_of(ours.status()) or json.dumps(ours.status())[:200]


def cli_times(ours: Ergobreak, n: int) -> dict[str, list[float]]:
    """Wall time of ``ergobreak status`` and ``python3 -c pass``, run in turn."""
    times: dict[str, list[float]] = {"status": [], "python_pass": []}
    env = ours.rig.subprocess_env()
    for _ in range(n):
        for key, argv in (
            ("status", [*ours.cli, "status"]),
            ("python_pass", [sys.executable, "-c", "pass"]),
        ):
            t0 = time.perf_counter()
            subprocess.run(
                argv, env=env, capture_output=True, stdin=subprocess.DEVNULL, check=False
            )
            times[key].append(time.perf_counter() - t0)
    return times


def one_run(args: argparse.Namespace) -> dict[str, Any]:
    with session(args.tray) as rig:
        ours = Ergobreak(rig, args.tray, args.idle_pause)
        started = [ours.start()]
        if args.peers:
            started.append(peers.start_workrave(rig, wait_for))
            started.append(peers.start_safeeyes(rig, wait_for))
        started.append(peers.start_floor(rig))
        typist = Typist(rig.display)
        try:
            typist.hold(SETTLE_S, typing=True)
            pids = {s.name: s.pid for s in started if s.pid is not None}
            windows: dict[str, Any] = {}
            said: dict[str, str] = {}
            said_after: dict[str, str] = {}
            for state in args.states:
                if "ergobreak" in pids:
                    said[state] = enter_state(state, ours, typist)
                windows[state] = measure(pids, args.seconds, typist, TYPING[state], ours.thread_log)
                if "ergobreak" in pids:
                    said_after[state] = _state_of(ours.status())
                print(f"  {state}: measured ({said.get(state, '')})", file=sys.stderr)
            cli = cli_times(ours, args.cli_runs) if "ergobreak" in pids else {}
        finally:
            typist.close()
        for item in started:
            if item.pid is not None and rig.is_running(item.name) is False:
                item.notes += " exited before the end"
        return {
            "started": [vars(s) for s in started],
            "states_said": said,
            "states_said_after": said_after,
            "windows": windows,
            "cli_s": cli,
        }


# --------------------------------------------------------------------------- summary


def spread(values: Sequence[float]) -> dict[str, Any]:
    return {
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
        "values": list(values),
    }


METRICS = ("rss_mib", "pss_mib", "uss_mib", "cpu_pct", "ctx_per_s", "threads", "fds")


def summarize(runs: list[dict[str, Any]], states: Sequence[str]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    threads: dict[str, Any] = {}
    for state in states:
        figures[state] = {}
        for actor in ACTORS:
            rows = [r["windows"][state].get(actor) for r in runs]
            rows = [row for row in rows if row and "error" not in row]
            if rows:
                figures[state][actor] = {m: spread([row[m] for row in rows]) for m in METRICS}
        ours = [r["windows"][state].get("ergobreak") or {} for r in runs]
        names = sorted({n for row in ours for n in row.get("ctx_per_s_by_thread", {})})
        threads[state] = {
            n: spread([row.get("ctx_per_s_by_thread", {}).get(n, 0.0) for row in ours if row])
            for n in names
        }
    ready = {
        actor: spread(times)
        for actor in ACTORS
        if (
            times := [
                s["start_to_ready_s"]
                for r in runs
                for s in r["started"]
                if s["name"] == actor and s["start_to_ready_s"] is not None
            ]
        )
    }
    cli: dict[str, Any] = {}
    all_cli = [r["cli_s"] for r in runs if r["cli_s"]]
    if all_cli:
        status = [t for c in all_cli for t in c["status"]]
        bare = [t for c in all_cli for t in c["python_pass"]]
        cli = {
            "status": spread(status),
            "python_pass": spread(bare),
            "ratio_of_medians": statistics.median(status) / statistics.median(bare),
        }
    return {
        "figures": figures,
        "ergobreak_threads": threads,
        "start_to_ready_s": ready,
        "cli_s": cli,
    }


def _cell(summary: dict[str, Any], actor: str, metric: str) -> str:
    fig = summary.get(actor)
    if fig is None:
        return "-"
    value = fig[metric]["median"]
    digits = {"cpu_pct": 3, "ctx_per_s": 2, "threads": 0, "fds": 0}.get(metric, 1)
    text = f"{value:.{digits}f}"
    base = summary.get("workrave")
    if actor != "workrave" and base and metric in RATIO_METRICS and base[metric]["median"] > 0:
        text += f" ({value / base[metric]['median']:.2f}x)"
    return text


RATIO_METRICS = ("rss_mib", "pss_mib", "uss_mib", "cpu_pct", "ctx_per_s")
LABELS = {
    "rss_mib": "RSS MiB",
    "pss_mib": "PSS MiB",
    "uss_mib": "USS MiB",
    "cpu_pct": "CPU %",
    "ctx_per_s": "ctx switches/s",
    "threads": "threads",
    "fds": "fds",
}


def table(result: dict[str, Any]) -> str:
    summary = result["summary"]
    lines = []
    for state, per_actor in summary["figures"].items():
        actors = [a for a in ACTORS if a in per_actor]
        lines.append(
            f"\n## {state} (medians of {result['settings']['runs']} runs, ratio to Workrave)"
        )
        lines.append("| | " + " | ".join(actors) + " |")
        lines.append("|---" * (len(actors) + 1) + "|")
        for metric in METRICS:
            cells = [_cell(per_actor, a, metric) for a in actors]
            lines.append(f"| {LABELS[metric]} | " + " | ".join(cells) + " |")
    threads = summary["ergobreak_threads"]
    if threads:
        states = list(threads)
        names = sorted({n for s in states for n in threads[s]})
        lines.append("\n## ergobreak context switches/s by thread (medians)")
        lines.append("| thread | " + " | ".join(states) + " |")
        lines.append("|---" * (len(states) + 1) + "|")
        for name in names:
            cells = [
                f"{threads[s][name]['median']:.2f}" if name in threads[s] else "-" for s in states
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    for actor, fig in summary["start_to_ready_s"].items():
        lines.append(
            f"start -> ready, {actor}: median {fig['median']:.3f} s "
            f"(min {fig['min']:.3f}, max {fig['max']:.3f})"
        )
    cli = summary["cli_s"]
    if cli:
        lines.append(
            f"`ergobreak status`: {cli['status']['median']:.3f} s, `python3 -c pass`: "
            f"{cli['python_pass']['median']:.3f} s ({cli['ratio_of_medians']:.1f}x), "
            f"{len(cli['status']['values'])} runs each"
        )
    for run_no, run in enumerate(result["runs"], 1):
        for s in run["started"]:
            if s["pid"] is None or s["notes"]:
                lines.append(f"run {run_no}: {s['name']}: {s['reason'] or s['notes']}")
    return "\n".join(lines)


def versions(ours_cli: Sequence[str]) -> dict[str, str]:
    ergobreak = subprocess.run(
        [*ours_cli, "--version"], capture_output=True, text=True, check=False
    )
    return {
        "ergobreak": ergobreak.stdout.strip().split()[-1] if ergobreak.stdout.strip() else "",
        # dpkg's word, not --version: either may start its GUI on our display
        "workrave": peers.dpkg_version("workrave"),
        "safeeyes": peers.dpkg_version("safeeyes"),
        "python": platform.python_version(),
    }


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "kernel": platform.release(),
        "machine": platform.machine(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each window")
    parser.add_argument("--runs", type=int, default=3, help="runs, each in a fresh session")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--tray", choices=("sni", "xorg"), default="sni")
    parser.add_argument(
        "--peers", dest="peers", action="store_true", default=True, help="(default) with peers"
    )
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="ergobreak alone")
    parser.add_argument("--states", default=",".join(STATES), help=",".join(STATES))
    parser.add_argument(
        "--idle-pause",
        help="ergobreak's activity.idle_pause for the run, e.g. 15s (default: its own);"
        " shorter reaches `away` sooner but makes the engine look at the idle time more often",
    )
    parser.add_argument("--cli-runs", type=int, default=10, help="status/pass timings per run")
    args = parser.parse_args(argv)
    args.states = [s for s in args.states.split(",") if s]
    unknown = set(args.states) - set(STATES)
    if unknown:
        parser.error(f"unknown states {sorted(unknown)}; choose from {STATES}")
    runs = []
    for run_no in range(1, args.runs + 1):
        print(f"run {run_no}/{args.runs}", file=sys.stderr)
        runs.append(one_run(args))
    script = Path(sys.executable).parent / "ergobreak"
    result: dict[str, Any] = {
        "settings": {
            "seconds": args.seconds,
            "runs": args.runs,
            "tray": args.tray,
            "states": args.states,
            "input": f"XTEST: {MOVES_PER_S} pointer moves/s and 1 key press/s while typing",
            "ergobreak_idle_pause": args.idle_pause or "ergobreak's default",
        },
        "versions": versions(
            [str(script)] if script.exists() else [sys.executable, "-m", "ergobreak"]
        ),
        "machine": machine(),
        "runs": runs,
    }
    result["summary"] = summarize(runs, args.states)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, sort_keys=True))
        print(f"\nall figures: {args.json}")


if __name__ == "__main__":
    main()
