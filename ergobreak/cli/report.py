"""``ergobreak report``: the break history as a self-contained HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ergobreak.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, os_error_line
from ergobreak.cli.stats import db_option, open_store, parse_until, period_options, titles
from ergobreak.history.files import REPORT_NAME

if TYPE_CHECKING:
    from ergobreak.core.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rep = sub.add_parser(
        "report",
        help="your break history as an HTML page with charts (made and kept on this machine)",
        description=(
            "Write a self-contained HTML page (no network, inline charts) about your break"
            " history: desk time per day, drills done versus offered, long sitting"
            " stretches by time of day, and which drills are done or skipped."
        ),
    )
    period_options(rep, "week")
    rep.add_argument(
        "--out", metavar="FILE", help=f"where to write it (default: {REPORT_NAME} in the state dir)"
    )
    rep.add_argument("--open", action="store_true", help="open it in the web browser")
    rep.add_argument(
        "--demo",
        action="store_true",
        help="a sample report from simulated workdays (your own history is not read)",
    )
    db_option(rep)
    rep.set_defaults(func=run)


def default_out(args: argparse.Namespace) -> Path:
    from ergobreak.cli.stats import db_path  # noqa: PLC0415

    name = "report-demo.html" if args.demo else REPORT_NAME
    return db_path(args).parent / name


def user_settings() -> Settings | None:
    """The settings in force for this user (their file and IT policy), which the
    report's explanations quote; None (the defaults) when they cannot be loaded."""
    from ergobreak.config import ConfigError, load  # noqa: PLC0415
    from ergobreak.paths import paths  # noqa: PLC0415

    try:
        return load(paths().config_file).settings
    except (ConfigError, OSError):
        return None


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.history.model import Period  # noqa: PLC0415
    from ergobreak.history.report import write_report  # noqa: PLC0415
    from ergobreak.history.store import HistoryStore  # noqa: PLC0415

    until = parse_until(args, err, "report")
    if until is None:
        return EXIT_USAGE
    period = Period.ending(args.period, until)
    target = Path(args.out).expanduser() if args.out else default_out(args)
    try:
        if args.demo:
            from ergobreak.localtz import get_timezone  # noqa: PLC0415
            from ergobreak.sim.demo import fill_demo  # noqa: PLC0415

            with HistoryStore.open_memory() as demo:
                fill_demo(demo, until, len(period.days()), get_timezone(None))
                source = "simulated workdays (a demo, not your data)"
                write_report(demo, period, target, titles=titles(), source=source)  # defaults
        else:
            store = open_store(args, err, "report")
            if store is None:
                return EXIT_FAILURE
            with store:
                write_report(store, period, target, titles=titles(), settings=user_settings())
    except OSError as exc:
        err.write(os_error_line("ergobreak report", exc, writing=target) + "\n")
        return EXIT_FAILURE
    out.write(f"{target}\n")
    if args.open:
        import webbrowser  # noqa: PLC0415

        if not webbrowser.open(target.resolve().as_uri()):
            err.write(f"ergobreak report: no web browser found; open {target} yourself\n")
    return EXIT_OK
