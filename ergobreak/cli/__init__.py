"""The ``ergobreak`` command line. ``main(argv)`` returns an exit code (testable).

Each subcommand group lives in its own module with a ``register(subparsers)``
function; :data:`COMMAND_MODULES` lists them in help order. Modules import their
heavy dependencies inside the command function so ``ergobreak --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import TextIO

from ergobreak import __version__
from ergobreak.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, os_error_line

#: subcommand modules under ergobreak.cli, in the order ``--help`` lists them
COMMAND_MODULES: tuple[str, ...] = (
    "run",
    "control",
    "feedback",
    "simulate",
    "config",
    "autostart",
    "routines",
    "stats",
    "report",
    "doctor",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ergobreak",
        description="Posture checks and 2-minute hip drills, timed by your desk-session time.",
    )
    parser.add_argument("--version", action="version", version=f"ergobreak {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"ergobreak.cli.{name}").register(sub)
    return parser


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help, --version and usage errors
        return int(exc.code or 0)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(out)
        return EXIT_USAGE
    try:
        return int(func(args, out, err))
    except BrokenPipeError:  # e.g. `ergobreak simulate ... | head`
        return EXIT_OK
    except OSError as exc:  # a file a command did not expect to fail on: one line, no traceback
        err.write(os_error_line(f"ergobreak {args.command}", exc) + "\n")
        return EXIT_FAILURE
