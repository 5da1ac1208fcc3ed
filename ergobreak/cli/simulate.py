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
    sim.add_argument("trace", help="trace file, e.g. config/traces/workday.csv")
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
    from ergobreak.sim.trace import TraceError, compile_trace, load_trace  # noqa: PLC0415

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
    try:
        # The settings in force for this user (their file and IT policy), or --config.
        loaded = load(Path(args.config) if args.config else paths().config_file)
    except ConfigError as exc:
        for diag in exc.diagnostics:
            err.write(diag.format() + "\n")
        return EXIT_FAILURE
    for diag in loaded.diagnostics:
        err.write(diag.format() + "\n")
    try:
        timeline = compile_trace(load_trace(Path(args.trace)))
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

    result = replay(timeline, machine, start.timestamp(), sampling=args.sampling, on_effect=stream)
    if not args.json:
        write_table(result.records, out, tz, show_state=show_state)
        out.write("\n" + summary(result) + "\n")
    return EXIT_OK
