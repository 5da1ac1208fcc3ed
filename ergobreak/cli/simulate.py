"""``ergobreak simulate``: replay a desk-activity trace through the real core."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import TextIO

from ergobreak.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sub.add_parser(
        "simulate",
        help="replay a desk-activity trace through the scheduler and print the timeline",
        description="Replay a trace (CSV rows 'duration,what') through the real scheduler core.",
    )
    sim.add_argument(
        "trace",
        nargs="?",
        help="trace file, or the name of a shipped trace: workday, calls (see --list)",
    )
    sim.add_argument("--list", action="store_true", help="list the shipped traces")
    sim.add_argument("--config", metavar="FILE", help="settings file (TOML)")
    sim.add_argument(
        "--start",
        default="2026-01-05T09:00",
        metavar="DATETIME",
        help="wall-clock time of the trace start (default: Monday 2026-01-05T09:00)",
    )
    sim.add_argument(
        "--tz", default=None, metavar="ZONE", help="time zone, e.g. Europe/Berlin (default: local)"
    )
    sim.add_argument("--json", action="store_true", help="one JSON object per line")
    sim.add_argument(
        "--sampling",
        choices=("1hz", "deadline"),
        default="1hz",
        help="look every second, or only at the core's deadlines like the daemon (default: 1hz)",
    )
    sim.add_argument("--all", action="store_true", help="also show coarse state changes")
    sim.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.config import ConfigError, load  # noqa: PLC0415 - keep startup light
    from ergobreak.content import default_content  # noqa: PLC0415
    from ergobreak.core.machine import POLL_AWAY, DeskSession  # noqa: PLC0415
    from ergobreak.localtz import get_timezone  # noqa: PLC0415
    from ergobreak.paths import paths  # noqa: PLC0415
    from ergobreak.sim.replay import (  # noqa: PLC0415
        Record,
        json_line,
        replay,
        summary,
        write_table,
    )
    from ergobreak.sim.trace import (  # noqa: PLC0415
        TraceError,
        compile_trace,
        find_trace,
        shipped_traces,
    )

    if args.list or args.trace is None:
        stream_to = out if args.list else err
        if not args.list:
            err.write("ergobreak simulate: name a trace file or a shipped trace\n")
        stream_to.write("Shipped traces (ergobreak simulate NAME):\n")
        for name, about in shipped_traces().items():
            stream_to.write(f"  {name:<10}  {about}\n")
        return EXIT_OK if args.list else EXIT_USAGE
    try:
        tz = get_timezone(args.tz)
    except ValueError as exc:
        err.write(f"ergobreak simulate: {exc}\n")
        return EXIT_USAGE
    try:
        start = datetime.fromisoformat(args.start)
    except ValueError:
        err.write(
            f'ergobreak simulate: --start expects a date and time like "2026-01-05T09:00",'
            f' got "{args.start}"\n'
        )
        return EXIT_USAGE
    if start.tzinfo is None:
        start = start.replace(tzinfo=tz)
    user_file = Path(args.config) if args.config else paths().config_file
    if args.config and not user_file.exists():
        err.write(f"ergobreak simulate: --config {args.config}: no such file\n")
        return EXIT_FAILURE
    try:
        # The settings in force for this user (their file and IT policy), or --config.
        loaded = load(user_file)
    except ConfigError as exc:
        for diag in exc.diagnostics:
            err.write(diag.format() + "\n")
        return EXIT_FAILURE
    for diag in loaded.diagnostics:
        err.write(diag.format() + "\n")
    try:
        timeline = compile_trace(find_trace(args.trace))
    except TraceError as exc:
        err.write(f"{exc}\n")
        return EXIT_FAILURE

    machine = DeskSession(
        loaded.settings,
        loaded.content or default_content(),
        tz,
        away_poll=None if args.sampling == "deadline" else POLL_AWAY,
    )
    show_state = args.all

    def stream(rec: Record) -> None:
        if args.json and (show_state or rec.effect.event != "state"):
            out.write(json_line(rec, tz) + "\n")

    # Which settings these are: on stderr with --json, so the lines stay JSON.
    (err if args.json else out).write(_settings_line(user_file, loaded.policy_files) + "\n")
    result = replay(timeline, machine, start.timestamp(), sampling=args.sampling, on_effect=stream)
    if not args.json:
        write_table(result.records, out, tz, show_state=show_state)
        out.write("\n" + summary(result) + "\n")
    return EXIT_OK


def _settings_line(user_file: Path, policy_files: tuple[Path, ...]) -> str:
    """Which settings file the replay used ("built-in defaults" when there is none)."""
    exists = user_file.exists()
    used = f"settings: {user_file}" if exists else f"settings: built-in defaults (no {user_file})"
    if policy_files:
        used += "; IT policy: " + ", ".join(str(p) for p in policy_files)
    return used
