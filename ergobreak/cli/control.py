"""Talk to the running daemon: status, pause, resume, start, posture, snooze, skip,
reload, quit. Exit 0 when done, 1 when the daemon refused, 4 when none answers.

Whatever comes back is shown with its control characters spelled out: a reply
cannot recolour the terminal or fake a line, whoever or whatever wrote it."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from ergobreak.cli.common import (
    EXIT_FAILURE,
    EXIT_NOT_RUNNING,
    EXIT_OK,
    EXIT_USAGE,
    printable,
    scrub,
)
from ergobreak.core.duration import DurationError, format_countdown, parse_duration


def _ask(request: Any) -> dict[str, Any]:
    """The daemon's reply, every string in it made printable.

    Raises:
        ergobreak.daemon.ipc.Unreachable: no reply (the message says why).
    """
    from ergobreak.daemon.ipc import send  # noqa: PLC0415
    from ergobreak.paths import paths  # noqa: PLC0415

    reply: dict[str, Any] = scrub(send(paths().runtime_dir, request))
    return reply


def _no_reply(exc: Exception, err: TextIO) -> int:
    err.write(f"ergobreak: {printable(str(exc))}\n")
    return EXIT_NOT_RUNNING


#: what ``status --json`` shows: facts IT may collect. Break state and timers are the
#: user's own and only appear with ``--personal``.
OPERATIONAL = (
    "running",
    "version",
    "policy",
    "organization",
    "config_source",
    "config_error",
    "warnings",
    "warnings_total",
    "policy_errors",
    "policy_current",
    "backends",
)


def operational(status: dict[str, Any]) -> dict[str, Any]:
    return {key: status.get(key) for key in OPERATIONAL}


def _countdown(seconds: float | None) -> str:
    return "-" if seconds is None else format_countdown(seconds)


def status_text(status: dict[str, Any]) -> str:
    """What ``ergobreak status`` prints for a status reply; countdowns read like the tray's."""
    lines = [
        f"ergobreak {status.get('version', '?')}: {status.get('state', '?')}",
        f"  desk time since the last break: {status.get('desk_minutes', 0)} min",
        f"  next drill in {_countdown(status.get('next_drill_in'))},"
        f" next posture check in {_countdown(status.get('next_posture_in'))}",
    ]
    if status.get("paused_for") is not None:
        lines.append(f"  paused for another {_countdown(status['paused_for'])}")
    if status.get("quiet"):
        lines.append(f"  quiet: {', '.join(status['quiet'])}")
    backends = status.get("backends") or {}
    if backends:
        lines.append("  " + ", ".join(f"{k}: {v}" for k, v in backends.items()))
    else:
        lines.append(f"  idle source: {status.get('idle_source')}")
    if status.get("config_source"):
        lines.append(f"  config: {status['config_source']}")
    if status.get("policy"):
        lines.append(f"  managed: {status['policy']}")
    if status.get("config_error"):
        lines.append(f"  config error (previous settings kept): {status['config_error']}")
    for problem in status.get("policy_errors") or ():
        lines.append(f"  policy error: {_place(problem)}")
    warnings = status.get("warnings") or ()
    if warnings:
        total = status.get("warnings_total") or len(warnings)
        more = f" (and {total - 1} more: ergobreak config check)" if total > 1 else ""
        lines.append(f"  warning: {_place(warnings[0])}{more}")
    return "\n".join(lines) + "\n"


def _place(entry: dict[str, Any]) -> str:
    """``file:line: key: message`` for a status ``warnings`` or ``policy_errors`` entry."""
    where = f"{entry.get('file')}:{entry['line']}" if entry.get("line") else f"{entry.get('file')}"
    key = f"{entry['key']}: " if entry.get("key") else ""
    return f"{where}: {key}{entry.get('message')}"


def _status(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.commands import Request  # noqa: PLC0415
    from ergobreak.daemon.ipc import NotAnswering, Unreachable  # noqa: PLC0415

    try:
        reply = _ask(Request("status"))
    except Unreachable as exc:
        if args.json:
            stuck = isinstance(exc, NotAnswering)  # the process is there, stopped or stuck
            json.dump({"running": True, "answering": False} if stuck else {"running": False}, out)
            out.write("\n")
        return _no_reply(exc, err)
    status = reply.get("status", {})
    if args.json:
        shown = status if args.personal else operational(status)
        json.dump(shown, out, indent=2, sort_keys=True)
        out.write("\n")
        return EXIT_OK
    out.write(status_text(status))
    return EXIT_OK


def _simple(cmd: str) -> Any:
    def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        from ergobreak.commands import Request  # noqa: PLC0415
        from ergobreak.daemon.ipc import Unreachable  # noqa: PLC0415

        request_args: dict[str, Any] = {}
        if cmd == "pause":
            if args.until_tomorrow:
                import time  # noqa: PLC0415

                from ergobreak.tray.model import UntilTomorrow  # noqa: PLC0415

                request_args = UntilTomorrow().resolve(time.time()).args
            elif args.duration:
                try:
                    request_args = {"seconds": parse_duration(args.duration)}
                except DurationError as exc:
                    err.write(f"ergobreak pause: {exc}\n")
                    return EXIT_USAGE
        if cmd == "start" and args.routine:
            request_args = {"routine": args.routine}
        try:
            reply = _ask(Request(cmd, request_args))
        except Unreachable as exc:
            return _no_reply(exc, err)
        if not reply.get("ok"):
            err.write(f"ergobreak {cmd}: {reply.get('error', 'refused')}\n")
            for line in reply.get("details", []):
                err.write(f"  {line}\n")
            return EXIT_FAILURE
        if reply.get("changes"):
            out.write(f"Settings reloaded: {reply['changes']}\n")
        if reply.get("policy_current") is False:
            from ergobreak.present import POLICY_KEPT  # noqa: PLC0415

            out.write(f"{POLICY_KEPT}\n")
        for line in reply.get("warnings", []):
            out.write(f"  {line}\n")
        return EXIT_OK

    return run


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = sub.add_parser("status", help="what the running ergobreak is doing")
    status.add_argument(
        "--json", action="store_true", help="operational facts for scripts (no break data)"
    )
    status.add_argument(
        "--personal", action="store_true", help="with --json: also your state and timers"
    )
    status.set_defaults(func=_status)

    pause = sub.add_parser("pause", help="no prompts for a while (timers freeze)")
    group = pause.add_mutually_exclusive_group()
    group.add_argument("duration", nargs="?", help="e.g. 30m, 1h (default: until resumed)")
    group.add_argument("--until-tomorrow", action="store_true")
    pause.set_defaults(func=_simple("pause"))

    start = sub.add_parser("start", help="start a drill now")
    start.add_argument("routine", nargs="?", help="a drill id (see `ergobreak routines list`)")
    start.set_defaults(func=_simple("start"))

    helps = {
        "resume": "end a pause",
        "posture": "show a posture check now",
        "snooze": "snooze the offered drill",
        "skip": "skip the offered or running drill",
        "reload": "re-read the settings (keeps the old ones if the new have errors)",
        "quit": "stop the running ergobreak",
    }
    for cmd, text in helps.items():
        sub.add_parser(cmd, help=text).set_defaults(func=_simple(cmd))
