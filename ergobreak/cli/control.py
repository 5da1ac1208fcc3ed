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
    error_line,
    printable,
    scrub,
)
from ergobreak.core.duration import (
    DurationError,
    format_amount,
    format_countdown,
    parse_duration,
)
from ergobreak.tray.model import TrayState, details, headline, state_from_status


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
    err.write(error_line("ergobreak", printable(str(exc))) + "\n")
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
    "policy_sources",
    "backends",
)


def operational(status: dict[str, Any]) -> dict[str, Any]:
    return {key: status.get(key) for key in OPERATIONAL}


def _state(status: dict[str, Any]) -> TrayState:
    import time  # noqa: PLC0415

    return state_from_status(status, now=time.time())


def status_text(status: dict[str, Any]) -> str:
    """What ``ergobreak status`` prints for a status reply: the tray's headline and
    details (one set of words for both), then the desk time and the machinery."""
    state = _state(status)
    try:
        said, below = headline(state), details(state)
    except (TypeError, ValueError):  # a reply from another version, or not a daemon's
        said, below = "in a state this command cannot read", []
    lines = [f"ergobreak {status.get('version', '?')}: {said}"]
    lines += [f"  {line}" for line in below]
    desk = status.get("desk_since_break")
    if not isinstance(desk, (int, float)):
        desk = float(status.get("desk_minutes") or 0) * 60
    lines.append(f"  desk time since the last break: {format_amount(round(desk / 60) * 60)}")
    backends = status.get("backends") or {}
    if backends:
        lines.append("  " + ", ".join(f"{k}: {v}" for k, v in backends.items()))
    elif status.get("idle_source"):
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


def _effect(reply: dict[str, Any], event: str) -> dict[str, Any] | None:
    for effect in reply.get("effects") or ():
        if isinstance(effect, dict) and effect.get("event") == event:
            return effect
    return None


def _next(state: TrayState) -> str:
    """``next drill in 45 min`` (or the headline, lower-cased, when nothing is next)."""
    view = state.view
    if view.state in ("working", "away") and view.next_drill_in is not None:
        return f"next drill in {format_countdown(view.next_drill_in)}"
    text = headline(state)
    return text[:1].lower() + text[1:]


def done_text(cmd: str, reply: dict[str, Any]) -> str:
    """One line saying what a command did, from the daemon's answer: the effects it
    had and the status after them ("Paused until 14:30.")."""
    try:
        return _done_text(cmd, reply)
    except (TypeError, ValueError):  # a reply from another version, or not a daemon's
        return "Done."


def _done_text(cmd: str, reply: dict[str, Any]) -> str:
    status = reply.get("status")
    state = _state(status if isinstance(status, dict) else {})
    said = headline(state)
    match cmd:
        case "pause" | "resume":
            return f"{said}." if cmd == "pause" else f"Resumed: {said[:1].lower()}{said[1:]}."
        case "skip":
            return f"Drill skipped; {_next(state)}."
        case "snooze":
            snoozed = _effect(reply, "snoozed")
            if snoozed is None:
                return "Drill snoozed."
            left = max(0, int(snoozed.get("max", 0)) - int(snoozed.get("count", 0)))
            length = format_amount(float(snoozed.get("seconds", 0)))
            return (
                f"Drill snoozed for {length} ({left} {'snooze' if left == 1 else 'snoozes'} left)."
            )
        case "start":
            started = _effect(reply, "drill_start")
            title = started.get("title") if started is not None else None
            return f"Drill started: {title}." if title else "Drill started."
        case "posture":
            check = _effect(reply, "posture_check")
            text = check.get("text") if check is not None else None
            return f"Posture check shown: {text}" if text else "Posture check shown."
    return "Done."


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

                try:  # the working hours in force: the pause ends when they begin
                    status = _ask(Request("status")).get("status") or {}
                except Unreachable as exc:
                    return _no_reply(exc, err)
                hours = state_from_status(status).hours
                request_args = UntilTomorrow(None, hours).resolve(time.time()).args
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
            err.write(error_line(f"ergobreak {cmd}", str(reply.get("error", "refused"))) + "\n")
            for line in reply.get("details", []):
                err.write(f"  {line}\n")
            return EXIT_FAILURE
        if cmd == "reload":
            out.write(f"Settings reloaded: {reply.get('changes') or 'no changes'}\n")
            if reply.get("policy_current") is False:
                from ergobreak.present import POLICY_KEPT  # noqa: PLC0415

                out.write(f"{POLICY_KEPT}\n")
            for line in reply.get("warnings", []):
                out.write(f"  {line}\n")
        elif cmd == "quit":
            out.write(_stopped())
        else:
            out.write(done_text(cmd, reply) + "\n")
        return EXIT_OK

    return run


#: how long ``quit`` waits to see the daemon gone before saying it is on its way out
QUIT_WAIT = 5.0


def _stopped() -> str:
    """``ergobreak stopped.`` once the daemon no longer answers (within QUIT_WAIT)."""
    import time  # noqa: PLC0415

    from ergobreak.commands import Request  # noqa: PLC0415
    from ergobreak.daemon.ipc import Unreachable  # noqa: PLC0415

    deadline = time.monotonic() + QUIT_WAIT
    while time.monotonic() < deadline:
        try:
            _ask(Request("status"))
        except Unreachable:
            return "ergobreak stopped; its timers are kept for the next start.\n"
        time.sleep(0.05)
    return "ergobreak is stopping.\n"


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
