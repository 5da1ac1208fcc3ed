"""``ergobreak feedback easy|right|hard|hurt [--drill ID]``: "How was it?" after a drill,
told to the running daemon (what each answer does: ``docs/content.md``). Exit codes as
:mod:`ergobreak.cli.control`: 0 noted, 1 refused, 4 no daemon answers."""

from __future__ import annotations

import argparse
from typing import TextIO

from ergobreak.cli.common import EXIT_FAILURE, EXIT_OK, error_line
from ergobreak.commands import FEEDBACK_ANSWERS


def _feedback(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # the daemon's reply made printable, and "not running" said as every command says it
    from ergobreak.cli.control import _ask, _no_reply  # noqa: PLC0415
    from ergobreak.commands import Request  # noqa: PLC0415
    from ergobreak.daemon.ipc import Unreachable  # noqa: PLC0415

    request_args = {"answer": args.answer}
    if args.drill:
        request_args["drill"] = args.drill
    try:
        reply = _ask(Request("feedback", request_args))
    except Unreachable as exc:
        return _no_reply(exc, err)
    if not reply.get("ok"):
        err.write(error_line("ergobreak feedback", str(reply.get("error", "refused"))) + "\n")
        return EXIT_FAILURE
    out.write(f"{reply.get('text') or 'Noted.'}\n")
    if reply.get("stop_rules"):  # after "It hurt"
        out.write(f"{reply['stop_rules']}\n")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser(
        "feedback",
        help="how the last drill was: easy, right, hard, or hurt (changes what comes next)",
    )
    cmd.add_argument("answer", choices=FEEDBACK_ANSWERS)
    cmd.add_argument("--drill", metavar="ID", help="a drill id (default: the last one ended)")
    cmd.set_defaults(func=_feedback)
