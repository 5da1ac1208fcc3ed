"""``ergobreak autostart enable|disable|status``: start at login, per user or for everyone.

Only this command writes login entries. ``disable`` of a user entry deletes it; of a
machine-wide one it writes the user's own switch-off (XDG ``Hidden=true`` copy,
``launchctl disable``). If IT's policy fixes autostart, changing it exits 3 and the
user's own switch-offs are reported by ``status``, never deleted.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, TextIO

from ergobreak.cli.common import (
    EXIT_FAILURE,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    os_error_line,
)

if TYPE_CHECKING:
    from ergobreak.autostart.base import Change
    from ergobreak.autostart.policy import PolicyLock
    from ergobreak.config.switches import TurnedOff

_WHERE = {
    "xdg": "~/.config/autostart, or /etc/xdg/autostart with --system",
    "systemd": "~/.config/systemd/user, per user only",
    "registry": r"HKCU, or HKLM with --system, ...\CurrentVersion\Run",
    "launchagent": "~/Library/LaunchAgents, or /Library/LaunchAgents with --system",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ergobreak.autostart.select import ALL_METHODS  # noqa: PLC0415 - small, no I/O

    auto = sub.add_parser(
        "autostart",
        help="start ergobreak at login (for you, or for every user with --system)",
        description="Manage the login entry that runs `ergobreak run --autostart`.",
    )
    actions = auto.add_subparsers(dest="autostart_command", metavar="ACTION", required=True)
    helps = {
        "enable": "start at login (idempotent; --system: for every user, needs admin rights)",
        "disable": "stop starting at login (a machine-wide entry: switched off for you only;"
        " --system removes it)",
        "status": "what happens at login and why; exit 0 if ergobreak starts, 1 if not"
        " (also when your organization's policy turns ergobreak off)",
    }
    for name, text in helps.items():
        p = actions.add_parser(name, help=text, description=text)
        p.add_argument(
            "--system",
            action="store_true",
            help="exit 0 if the machine-wide entry is there and on"
            if name == "status"
            else "the entry for every user of this computer (needs admin rights)",
        )
        if name != "status":
            p.add_argument(
                "--method",
                choices=ALL_METHODS,
                help="xdg (Linux default), systemd (Linux, per user), registry (Windows),"
                " launchagent (macOS)",
            )
        p.add_argument("--json", action="store_true", help="one JSON object, for scripts")
        p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.autostart import policy, select  # noqa: PLC0415 - keep startup light
    from ergobreak.autostart.base import AutostartError  # noqa: PLC0415

    cmd = args.autostart_command
    prog = f"ergobreak autostart {cmd}"
    if cmd == "status":
        return _status(args, out, policy.read_lock(), policy.read_switch())
    available = select.methods()
    method = args.method or available[0]
    if method not in available:
        err.write(f"{prog}: --method {method} is not for this OS (here: {', '.join(available)})\n")
        return EXIT_USAGE
    if args.system and method == "systemd":
        err.write(
            f"{prog}: --method systemd is per user; for every user use the XDG entry"
            f" (`ergobreak autostart {cmd} --system`)\n"
        )
        return EXIT_USAGE
    lock = policy.read_lock()
    if lock is not None and lock.enabled != (cmd == "enable"):
        state = "on" if lock.enabled else "off"
        err.write(f"{prog}: your organization's policy keeps autostart {state} ({lock.where})\n")
        if lock.contact:
            err.write(f"  contact: {lock.contact}\n")
        return EXIT_LOCKED
    try:
        change = (
            _switched_off_note(_enable(method, args.system)) if cmd == "enable" else _disable(args)
        )
    except AutostartError as exc:
        err.write(f"{prog}: {exc}\n")
        return EXIT_FAILURE
    except OSError as exc:
        hint = (
            " (run it as root / as administrator)"
            if args.system and isinstance(exc, PermissionError)
            else ""
        )
        err.write(f"{os_error_line(prog, exc)}{hint}\n")
        return EXIT_FAILURE
    if args.json:
        json.dump(
            {
                "changed": change.changed,
                "actions": list(change.actions),
                "notes": list(change.notes),
            },
            out,
            indent=2,
        )
        out.write("\n")
    else:
        for line in change.actions:
            out.write(line + "\n")
        for line in change.notes:
            out.write(f"note: {line}\n")
    return EXIT_OK


def _switched_off_note(change: Change) -> Change:
    """An entry written while policy turns ergobreak off is kept (IT may stage a
    rollout), with a note that at login ergobreak exits at once."""
    from ergobreak.autostart import policy  # noqa: PLC0415
    from ergobreak.autostart.base import Change  # noqa: PLC0415

    off = policy.read_switch()
    if off is None:
        return change
    note = f"{off.reason()}: at login it exits at once"
    return change + Change(notes=(note,))


def _enable(method: str, system: bool) -> Change:
    from ergobreak.autostart import select  # noqa: PLC0415
    from ergobreak.autostart.base import Entry, default_argv  # noqa: PLC0415

    change = select.backend(method).enable(Entry(default_argv()), system=system)
    if not system:
        # One way per user: two entries would start it twice at login.
        for other in select.methods():
            if other != method:
                backend = select.backend(other)
                st = backend.status()
                if any(f.scope == "user" and f.kind == "entry" for f in st.found) or (
                    other == "xdg" and st.enabled
                ):
                    change += backend.disable(system=False)
    return change


def _disable(args: argparse.Namespace) -> Change:
    from ergobreak.autostart import select  # noqa: PLC0415
    from ergobreak.autostart.base import Change  # noqa: PLC0415

    change = Change()
    for method in [args.method] if args.method else select.methods():
        if args.system and method == "systemd":
            continue  # per user only: nothing machine-wide to remove
        change += select.backend(method).disable(system=args.system)
    return change


def _status(
    args: argparse.Namespace, out: TextIO, lock: PolicyLock | None, off: TurnedOff | None
) -> int:
    from ergobreak.autostart import select  # noqa: PLC0415
    from ergobreak.autostart.base import default_argv, one_line  # noqa: PLC0415

    statuses = [b.status() for b in select.backends()]
    # Entries may stay in place; with ergobreak turned off, none of them starts it.
    enabled = off is None and any(s.enabled for s in statuses)
    system = off is None and any(s.system for s in statuses)
    notes = [n for s in statuses for n in s.notes]
    on = [s.method for s in statuses if s.enabled]
    if len(on) > 1:
        notes.append(f"started by {' and '.join(on)}: keep one (`autostart enable --method`)")
    if lock is not None and lock.enabled and not enabled and off is None:
        offs = [f.location for s in statuses for f in s.found if f.kind == "override"]
        where = f" by {', '.join(offs)}" if offs else ""
        notes.append(
            f"policy ({lock.where}) wants autostart on, but it is switched off{where}"
            " for this user (reported, not changed)"
        )
    if lock is not None and not lock.enabled and enabled:
        notes.append(
            f"policy ({lock.where}) keeps autostart off, but {' and '.join(on)} still starts"
            " it: remove that entry (`ergobreak autostart disable`, with --system as"
            " administrator), or turn ergobreak off with [enforced.machine] enabled = false"
        )
    argv = default_argv()
    if args.json:
        report = {
            "enabled": enabled,
            "system": system,
            "methods": [s.to_json() for s in statuses],
            "policy": lock.to_json() if lock is not None else None,
            "disabled_by_policy": off.to_json() if off is not None else None,
            "command": list(argv),
            "notes": notes,
        }
        json.dump(report, out, indent=2)
        out.write("\n")
    else:
        how = f"yes ({', '.join(on)})" if enabled else "no"
        if off is not None:
            how = f"no, disabled by policy ({off.where})"
        out.write(f"Starts at login for this user: {how}\n")
        for s in statuses:
            if not s.found:
                out.write(f"  {s.method:12} nothing ({_WHERE.get(s.method, '')})\n")
            for f in s.found:
                state = "on" if f.enabled else "off"
                out.write(f"  {s.method:12} {f.scope:7} {f.kind:9} {state:4} {f.location}\n")
                if f.command:
                    out.write(f"  {'':36}runs: {f.command}\n")
                if f.note:
                    out.write(f"  {'':36}{f.note}\n")
        if off is not None:
            out.write(
                f"Policy: {off.reason()}; an entry here runs `ergobreak run`, which exits at once\n"
            )
            if off.contact:
                out.write(f"  contact: {off.contact}\n")
        elif lock is not None:
            state = "on" if lock.enabled else "off"
            out.write(f"Policy: autostart kept {state} by {lock.where}\n")
        for note in notes:
            out.write(f"note: {note}\n")
        out.write(f"An entry written here would run: {one_line(argv)}\n")
    return EXIT_OK if (system if args.system else enabled) else EXIT_FAILURE
