"""``ergobreak run``: start the daemon (tray icon, notifications, scheduling), unless
IT's policy turns ergobreak off on this machine (``[enforced.machine] enabled =
false``): then it says so in one line and exits 0 at once.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from ergobreak.cli.common import EXIT_OK, EXIT_USAGE


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.daemon.memory import skip_openssl  # noqa: PLC0415

    skip_openssl()  # before anything else is imported
    from ergobreak.config.switches import machine_switch  # noqa: PLC0415

    if args.config is not None:
        from pathlib import Path  # noqa: PLC0415

        from ergobreak.config.loader import missing_user_file  # noqa: PLC0415

        missing = missing_user_file(Path(args.config), named_by="--config")
        if missing is not None:
            err.write(f"ergobreak run: {missing}\n")
            return EXIT_USAGE
    off = machine_switch()
    if off is not None:
        # Exit 0: a login entry that finds ergobreak turned off has nothing to report
        # as an error (no dialog, no restart by systemd or launchd), and no tray appears.
        err.write(f"{off.reason()}\n")
        return EXIT_OK
    from ergobreak.app import RunOptions, run  # noqa: PLC0415

    return run(
        RunOptions(
            config=args.config,
            set=args.set or [],
            no_tray=args.no_tray,
            demo=args.demo,
            autostart=args.autostart,
            verbose=args.verbose,
        )
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run",
        help="start ergobreak: tray icon, posture checks and drills",
        description="Start the break scheduler. Control it with `ergobreak status`,"
        " `pause`, `resume`, `start`, ... or from the tray menu.",
    )
    run.add_argument("--config", metavar="FILE", help="user config file")
    run.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="a setting for this run only"
    )
    run.add_argument("--no-tray", action="store_true", help="no tray icon (headless)")
    run.add_argument(
        "--demo",
        action="store_true",
        help="second-scale timings to see a posture check and a drill within a minute",
    )
    run.add_argument(
        "--autostart", action="store_true", help="started at login: wait for a late tray host"
    )
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging to stderr")
    run.set_defaults(func=_run)
