"""``ergobreak doctor``: what works on this desktop, what is missing, and what to do.

Per category -- tray, idle source (with a live reading), notifications, lock/sleep
watchers, quiet detectors -- one line for each adapter used, OK or missing with a hint,
and under it one indented ``passed over: NAME (reason)`` per other candidate, in the
order they are tried; then the config. Everything is chosen, opened and started the
way ``ergobreak run`` does it, so the report lists only what the daemon would really
use, and the tray is OK only when a host really shows the icon. Missing adapters are
not failures (each has a fallback); a config with errors or a failed ``--notify`` is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ergobreak.cli.common import EXIT_FAILURE, EXIT_OK

if TYPE_CHECKING:
    from ergobreak.platform.edge import Edge

GNOME_TRAY_HINT = "GNOME shows tray icons only with the AppIndicator extension"
SWAY_TRAY_HINT = "sway shows tray icons in its bar: add a tray to swaybar, or waybar's tray module"
#: what the daemon does without a tray host (the icon waits for one: tray/backend.py)
NO_HOST_FALLBACK = (
    "no icon until a tray host appears (it then shows by itself);"
    " meanwhile `ergobreak status`, `pause`, `start`, `quit`"
)
NO_TRAY_FALLBACK = "no icon: use `ergobreak status`, `pause`, `start`, `quit`"
#: roles where every adapter that opens is used, not just the first
MANY = ("session", "quiet", "seated")
#: what the daemon does when none of a role of many opens
_NONE_WORKS = {
    "quiet": "no quiet source works here: prompts are never held",
    "seated": "no call or video is seen here: sitting still without input counts as away",
}
#: how a role of many says it is on now
_ACTIVE_WORDS = {
    "quiet": ("quiet NOW", "not quiet now"),
    "seated": ("in use NOW", "not in use now"),
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="check what works on this desktop: tray, notifications, idle, lock, quiet",
        description=(
            "Report, for this machine, which tray, notification, idle, lock/sleep and quiet"
            " adapters ergobreak would use, with a hint for anything missing."
        ),
    )
    doctor.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    doctor.add_argument("--notify", action="store_true", help="also send a test notification")
    doctor.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.platform import select  # noqa: PLC0415 - keep startup light

    checks: list[dict[str, Any]] = [tray_check()]
    # The report says everything the adapters would log as warnings; don't say it twice.
    platform_log = logging.getLogger("ergobreak.platform")
    level = platform_log.level
    platform_log.setLevel(logging.ERROR)
    edge = select.open_edge(lambda _request: None, stream=err)
    try:
        # As the daemon does: a watcher the bus refuses is then reported missing.
        edge.start(lambda _event: None)
        for choice in edge.choices:
            check = choice.to_json()
            check["tried"] = [{"name": n, "reason": r} for n, r in select.passed_over(choice)]
            if choice.role == "idle":
                idle = edge.read_idle()
                check["idle_seconds"] = None if idle is None else round(idle, 1)
                if choice.ok and choice.name != "none":
                    now = "unreadable" if idle is None else f"{check['idle_seconds']:g} s"
                    check["detail"] += f"; idle now {now}"
            checks.append(check)
        states: dict[tuple[str, str], bool] = {}
        for role, detectors in (("quiet", edge.quiet), ("seated", edge.seated)):
            for detector in detectors:
                key = (role, detector.name)
                states.setdefault(key, False)
                with contextlib.suppress(Exception):  # a flaky detector must not end the report
                    states[key] |= detector.active()
        for check in checks:
            if check["role"] in ("quiet", "seated") and check["ok"]:
                check["active"] = states.get((check["role"], check["name"]), False)
        notify = send_test(edge) if args.notify else None
    finally:
        edge.close()
        platform_log.setLevel(level)
    config = config_check()
    failed = config["ok"] is False or (notify is not None and not notify["ok"])
    if args.json:
        report = {
            "checks": checks,
            "paths": paths_used(checks),
            "config": config,
            "notify": notify,
            "ok": not failed,
        }
        out.write(json.dumps(report, indent=2) + "\n")
    else:
        write_text(out, checks, config, notify)
    return EXIT_FAILURE if failed else EXIT_OK


def tray_check() -> dict[str, Any]:
    """The tray backend ``ergobreak run`` would pick here, why, and what it can do."""
    from ergobreak.tray.backend import describe_backend  # noqa: PLC0415

    check: dict[str, Any] = {
        "role": "tray",
        "name": "?",
        "ok": False,
        "detail": "",
        "hint": None,
        "tried": [],
    }
    try:
        info = describe_backend()
    except Exception as exc:  # a tray bug must not hide the other checks
        check["detail"] = f"tray check failed: {exc!r}"
    else:
        shown = info["host"] is True
        detail = info["reason"]
        said = info["backend"] in ("none", "xorg") or (shown and info["backend"] == "sni")
        if not said:  # xorg's reason, and sni's when a host is up, say it already
            detail += f"; {info['host_detail']}"
        hint = None
        if not shown:
            hint = NO_TRAY_FALLBACK if info["backend"] == "none" else NO_HOST_FALLBACK
        check.update(
            name=info["backend"],
            ok=shown,
            detail=detail,
            hint=hint,
            tried=info["tried"],
            capabilities=info["capabilities"],
            host=info["host"],
        )
    if not check["ok"]:
        desktops = os.environ.get("XDG_CURRENT_DESKTOP", "").upper().split(":")
        where = GNOME_TRAY_HINT if "GNOME" in desktops else None
        where = SWAY_TRAY_HINT if "SWAY" in desktops else where
        check["hint"] = "; ".join(filter(None, [where, check["hint"]])) or None
    return check


def paths_used(checks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per category, what the daemon uses and what it passed over, and why (``--json``)."""
    paths: dict[str, dict[str, Any]] = {}
    for check in checks:
        role = paths.setdefault(check["role"], {"chosen": [], "tried": []})
        if check["ok"] or check["role"] not in MANY:
            role["chosen"].append(check["name"])
            role["tried"] += check.get("tried") or []
        else:
            role["tried"].append({"name": check["name"], "reason": check["detail"]})
    return paths


def send_test(edge: Edge) -> dict[str, Any]:
    from ergobreak.platform.base import Notification, Unavailable  # noqa: PLC0415

    note = Notification(
        title="ergobreak test notification",
        body="If you can read this, ergobreak's notifications reach you.",
        icon="ergobreak",
        timeout=10,
    )
    try:
        handle = edge.notifier.show(note)
    except Unavailable as exc:
        return {"ok": False, "backend": edge.notifier.name, "detail": str(exc)}
    shown_by = edge.notifier.name if handle > 0 else "console (fallback)"
    return {"ok": True, "backend": shown_by, "id": handle, "detail": f"sent via {shown_by}"}


def config_check() -> dict[str, Any]:
    from ergobreak.config import ConfigError, load  # noqa: PLC0415
    from ergobreak.paths import paths  # noqa: PLC0415

    path = paths().config_file
    used: Path | None = path if path.exists() else None
    where = str(path) if used else f"{path} (not there: defaults)"
    try:
        loaded = load(used)
    except ConfigError as exc:
        errors = [d.headline() for d in exc.diagnostics]
        return {"ok": False, "path": where, "detail": errors[0], "errors": errors}
    s = loaded.settings
    policy = {
        "posture_every_min": round(s.posture.every / 60) if s.posture.enabled else None,
        "drill_every_min": round(s.drill.every / 60) if s.drill.enabled else None,
        "max_snoozes": s.drill.max_snoozes,
        "quiet": s.quiet.enabled,
        "working_hours": s.schedule.enabled,
    }
    policy_errors = list(loaded.policy_errors)
    warnings = [d.headline() for d in loaded.diagnostics if d not in policy_errors]
    detail = ", ".join(f"{k}={v}" for k, v in policy.items())
    applied = [*map(str, loaded.policy_files), *loaded.policy_channels]  # files, registry, plists
    if applied:
        org = f" ({loaded.organization})" if loaded.organization else ""
        detail += "; policy: " + ", ".join(applied) + org
    return {
        "ok": True,
        "path": where,
        "detail": detail,
        "policy": policy,
        "warnings": warnings,
        "policy_errors": [d.headline() for d in policy_errors],
        "policy_current": not policy_errors,
        "policy_kept": _policy_kept() if policy_errors else None,
        "coach": coach_check(loaded.values),
    }


def coach_check(values: Mapping[str, object]) -> dict[str, Any]:
    """Whether a drill would open its coach window here: the setting, a display, Tk."""
    from ergobreak.coach.link import available  # noqa: PLC0415

    if values.get("drill.window") is not True:
        return {"state": "off", "detail": "off: drill.window = false"}
    ok, why = available()
    if not ok:
        return {"state": "missing", "detail": f"{why}; drills show in notifications"}
    import tkinter  # noqa: PLC0415 - the window's toolkit, found by available()

    return {"state": "OK", "detail": f"Tk {tkinter.TkVersion} {why}"}


def _policy_kept() -> str:
    """What a running ergobreak does while the policy files have errors."""
    from ergobreak.daemon.last_policy import NAME, LastPolicy  # noqa: PLC0415
    from ergobreak.paths import paths  # noqa: PLC0415

    kept = paths().state_dir / NAME
    if not LastPolicy(kept).texts():
        return "no earlier policy was kept: what can be read of these files applies"
    return f"the last good policy ({kept}) stays in force until these are fixed"


def _mark(ok: bool) -> str:
    return "OK" if ok else "missing"


def _write_check(out: TextIO, check: dict[str, Any]) -> None:
    detail = check["detail"]
    if check.get("active") is not None:
        on, off = _ACTIVE_WORDS[check["role"]]
        detail += "; " + (on if check["active"] else off)
    out.write(f"{_mark(check['ok']):8} {check['role']:9} {check['name']:13} {detail}\n")
    for candidate in check.get("tried") or ():
        _write_passed(out, candidate["name"], candidate["reason"])
    if check.get("hint") and check["ok"] is not True:
        out.write(f"{'':32}hint: {check['hint']}\n")


def _write_passed(out: TextIO, name: str, reason: str, indent: int = 32) -> None:
    out.write(f"{'':{indent}}passed over: {name} ({reason})\n")


def write_text(
    out: TextIO,
    checks: list[dict[str, Any]],
    config: dict[str, Any],
    notify: dict[str, Any] | None,
) -> None:
    roles = list(dict.fromkeys(check["role"] for check in checks))
    for role in roles:
        mine = [check for check in checks if check["role"] == role]
        used = [check for check in mine if check["ok"] or role not in MANY]
        if not used:
            detail = _NONE_WORKS.get(role, "nothing works here")
            used = [{"role": role, "name": "none", "ok": False, "detail": detail}]
        for check in used:
            _write_check(out, check)
        for check in mine:
            if check not in used:  # a role of many: those that did not open, and why
                _write_passed(out, check["name"], check["detail"])
                for reader in check.get("tried") or ():
                    _write_passed(out, reader["name"], reader["reason"], indent=34)
    mark = "OK" if config["ok"] else "error"
    out.write(f"{mark:8} {'config':9} {config['path']}\n{'':32}{config['detail']}\n")
    coach = config.get("coach")
    if coach is not None:  # read with the config: drill.window says whether to open it
        out.write(f"{coach['state']:8} {'coach':9} {'window':13} {coach['detail']}\n")
    for warning in config.get("warnings", ()):
        out.write(f"{'':32}{warning}\n")
    for problem in config.get("policy_errors", ()):
        out.write(f"{'error':8} {'policy':9} {problem}\n")
    if config.get("policy_kept"):
        out.write(f"{'':32}{config['policy_kept']}\n")
    if notify is not None:
        out.write(f"{_mark(notify['ok']):8} {'notify':9} {notify['detail']}\n")
