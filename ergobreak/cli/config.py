"""``ergobreak config``: check, show, paths, init, set, unset."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ergobreak.cli.common import (
    EXIT_FAILURE,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    os_error_line,
    short_path,
)

if TYPE_CHECKING:
    from ergobreak.config.layers import Effective
    from ergobreak.config.origin import Origin
    from ergobreak.tomlfile import Diagnostic


def _user_file(args: argparse.Namespace) -> Path:
    from ergobreak.paths import paths  # noqa: PLC0415

    return paths(args.config).config_file


def _unusable_user_file(args: argparse.Namespace, prog: str, *, creating: bool) -> str | None:
    """The one line to print when the user's file cannot be what the command uses:
    named on purpose (``--config``, ``$ERGOBREAK_CONFIG``) but missing (unless the
    command is ``creating`` it), or a symbolic link to nothing."""
    import os  # noqa: PLC0415

    from ergobreak.config.loader import missing_user_file  # noqa: PLC0415
    from ergobreak.paths import CONFIG_ENV  # noqa: PLC0415

    named_by = None
    if not creating:
        named_by = (
            "--config" if args.config else f"${CONFIG_ENV}" if os.environ.get(CONFIG_ENV) else None
        )
    problem = missing_user_file(_user_file(args), named_by=named_by)
    return f"{prog}: {problem}" if problem else None


def _print_diags(diags: list[Diagnostic] | tuple[Diagnostic, ...], err: TextIO) -> None:
    for diag in diags:
        err.write(diag.format() + "\n")


def _origin_text(origin: Origin) -> str:
    if origin.path is None:
        return origin.layer
    where = short_path(origin.path) + (f":{origin.line}" if origin.line else "")
    return f"{origin.layer}  {where}"


# ---------------------------------------------------------------------- check


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.config.layers import load  # noqa: PLC0415
    from ergobreak.tomlfile import ConfigError  # noqa: PLC0415

    drafts = [Path(p) for p in args.policy] if args.policy else None
    targets: list[Path | None] = [Path(f) for f in args.files] or (
        [None] if drafts else [_user_file(args)]
    )
    if not args.files and not drafts:
        unusable = _unusable_user_file(args, "ergobreak config check", creating=False)
        if unusable:
            err.write(unusable + "\n")
            return EXIT_USAGE
    all_diags: list[Diagnostic] = []
    advisory: list[Diagnostic] = []  # notes --strict does not count
    ok = True
    for target in targets:
        if target is not None and not target.exists():
            from ergobreak.tomlfile import Diagnostic  # noqa: PLC0415

            if args.files:
                all_diags.append(Diagnostic.plain(str(target), "file not found"))
                ok = False
                continue
        try:
            effective = load(target, policy_files=drafts)
        except ConfigError as exc:
            all_diags += exc.diagnostics
            ok = False
            continue
        all_diags += effective.diagnostics
        if effective.errors:
            ok = False
        if drafts:
            advisory += _draft_permission_notes(drafts)
    all_diags += advisory
    seen: set[str] = set()
    unique = []
    for diag in all_diags:
        if diag.headline() not in seen:
            seen.add(diag.headline())
            unique.append(diag)
    errors = sum(d.severity == "error" for d in unique)
    warnings = len(unique) - errors
    strict_failed = args.strict and any(
        d.severity == "warning" and d not in advisory for d in unique
    )
    ok = ok and not strict_failed
    if args.json:
        json.dump(
            {
                "ok": ok,
                "strict": args.strict,
                "files": [str(t) for t in targets if t is not None],
                "policy": [str(d) for d in drafts or []],
                "errors": errors,
                "warnings": warnings,
                "diagnostics": [d.to_json() for d in unique],
            },
            out,
            indent=2,
        )
        out.write("\n")
    else:
        _print_diags(unique, err)
        checked = ", ".join(short_path(t) for t in targets if t is not None)
        if drafts:
            checked = ", ".join([*(short_path(p) for p in drafts), checked]).strip(", ")
        verdict = "OK" if ok else "invalid"
        extra = []
        if errors:
            extra.append(f"{errors} error{'s' * (errors != 1)}")
        if warnings:
            extra.append(f"{warnings} warning{'s' * (warnings != 1)}")
        if strict_failed:
            extra.append("warnings fail with --strict")
        out.write(
            f"{checked or 'defaults'}: {verdict}"
            + (f" ({', '.join(extra)})" if extra else "")
            + "\n"
        )
    return EXIT_OK if ok else EXIT_FAILURE


def _draft_permission_notes(drafts: list[Path]) -> list[Diagnostic]:
    """A draft is not installed yet: its ownership is a note, not an error (and not
    a failure with ``--strict``: installing it sets the owner)."""
    from ergobreak.config.policy import unsafe_reason  # noqa: PLC0415
    from ergobreak.tomlfile import Diagnostic  # noqa: PLC0415

    notes = []
    for draft in drafts:
        reason = unsafe_reason(draft)
        if reason and draft.exists():
            notes.append(
                Diagnostic.plain(
                    str(draft),
                    f"once installed this would be refused: {reason}",
                    severity="warning",
                    hint="install policy files as root:root, mode 0644",
                )
            )
    return notes


# ----------------------------------------------------------------------- show


def _show(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.config.layers import load  # noqa: PLC0415
    from ergobreak.config.values import parse_cli_sets  # noqa: PLC0415
    from ergobreak.tomlfile import ConfigError  # noqa: PLC0415

    cli, problems = parse_cli_sets(args.set or [])
    if problems:
        _print_diags(problems, err)
        return EXIT_FAILURE
    unusable = _unusable_user_file(args, "ergobreak config show", creating=False)
    if unusable:
        err.write(unusable + "\n")
        return EXIT_USAGE
    user = _user_file(args)
    drafts = [Path(p) for p in args.policy] if args.policy else None
    try:
        effective = load(user, policy_files=drafts, cli=cli)
    except ConfigError as exc:
        _print_diags(exc.diagnostics, err)
        err.write("ergobreak config show: the settings above have errors; nothing shown\n")
        return EXIT_FAILURE
    _print_diags(effective.diagnostics, err)
    if args.json:
        json.dump(show_json(effective), out, indent=2)
        out.write("\n")
    else:
        out.write(show_text(effective, origin=args.origin))
    return EXIT_OK


def show_json(e: Effective) -> dict[str, Any]:
    from ergobreak.config.policy import describe_limit  # noqa: PLC0415
    from ergobreak.config.schema import to_toml  # noqa: PLC0415

    def origin(o: Origin) -> dict[str, Any]:
        return {"layer": o.layer, "path": o.path, "line": o.line}

    return {
        "user_file": str(e.user_file) if e.user_file else None,
        "user_file_exists": bool(e.user_file and e.user_file.exists()),
        "policy_files": [str(p) for p in e.policy_files],
        "policy_sources": {s.name: s.to_json() for s in e.policy_sources},
        "organization": e.organization,
        "contact": e.contact,
        "values": {k: to_toml(k, v) for k, v in e.values.items()},
        "origins": {k: origin(o) for k, o in e.origins.items()},
        "locked": {k: origin(o) for k, o in e.locked.items()},
        "limits": {
            k: {"range": describe_limit(k, lim), **origin(lim.origin)}
            for k, lim in e.limits.items()
        },
        "ignored": [
            {
                "key": i.key,
                "value": to_toml(i.key, i.value),
                "from": origin(i.origin),
                "locked_by": origin(i.locked_by),
            }
            for i in e.ignored
        ],
        "clamped": [
            {
                "key": c.key,
                "wanted": to_toml(c.key, c.wanted),
                "value": to_toml(c.key, c.value),
                "from": origin(c.origin),
                "limit": origin(c.limit.origin),
            }
            for c in e.clamped
        ],
        "rotation": [d.id for d in e.content.drills] if e.content else None,
        "diagnostics": [d.to_json() for d in e.diagnostics],
    }


def show_text(e: Effective, *, origin: bool) -> str:
    from ergobreak.config.policy import describe_limit  # noqa: PLC0415
    from ergobreak.config.schema import to_toml  # noqa: PLC0415
    from ergobreak.config.values import format_toml  # noqa: PLC0415
    from ergobreak.tray.model import managed_label  # noqa: PLC0415

    lines = ["# Effective ergobreak settings"]
    if e.managed:
        lines.insert(0, f"# {managed_label(e.organization or '')}")
    if e.user_file is not None:
        state = "" if e.user_file.exists() else " (not found: defaults apply)"
        lines.append(f"# user file: {short_path(e.user_file)}{state}")
    org = f" ({e.organization})" if e.organization else ""
    for path in e.policy_files:
        lines.append(f"# policy: {path}{org}")
    for source in reversed(e.policy_sources):  # as they apply: the last one wins
        if source.channel != "policy file":
            state = f": not applied: {source.error}" if source.error else org
            lines.append(f"# policy: {source.name} ({source.channel}){state}")
    table = None
    clamped = {c.key: c for c in e.clamped}
    width = 32  # long values (lists) simply push their comment further right
    for key, value in e.values.items():
        section, leaf = key.split(".", 1)
        if section != table:
            table = section
            lines += ["", f"[{section}]"]
        text = f"{leaf} = {format_toml(to_toml(key, value))}"
        if origin:
            note = _origin_text(e.origins[key])
            if key in e.locked:
                note += " (locked)"
            if key in clamped:
                c = clamped[key]
                note = (
                    f"{_origin_text(e.origins[key])}"
                    f" ({describe_limit(key, c.limit)}; {_origin_text(c.origin)} asked for"
                    f" {format_toml(to_toml(key, c.wanted))})"
                )
            elif key in e.limits:
                note += f" (policy range: {describe_limit(key, e.limits[key])})"
            text = f"{text:<{width}}  # {note}"
        lines.append(text)
    if origin and e.ignored:
        lines += ["", "# Ignored because policy locks them:"]
        for item in e.ignored:
            lines.append(
                f"#   {item.key} = {format_toml(to_toml(item.key, item.value))}"
                f"  ({_origin_text(item.origin)}) locked by {short_path(item.locked_by.where())}"
            )
    if origin and e.content is not None:
        lines += ["", "# Drill rotation: " + ", ".join(d.id for d in e.content.drills)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- paths


def _paths(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.paths import paths  # noqa: PLC0415

    p = paths(args.config).as_dict()
    if args.json:
        json.dump(p, out, indent=2)
        out.write("\n")
        return EXIT_OK
    width = max(len(k) for k in p)
    for name, value in p.items():
        mark = "" if Path(value).exists() else "  (not present)"
        out.write(f"{name.replace('_', ' '):<{width}}  {value}{mark}\n")
    return EXIT_OK


# ----------------------------------------------------------------------- init


def _init(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.atomic import write_atomic  # noqa: PLC0415
    from ergobreak.config.loader import write_target  # noqa: PLC0415
    from ergobreak.config.template import render  # noqa: PLC0415

    path = _user_file(args)
    unusable = _unusable_user_file(args, "ergobreak config init", creating=True)
    if unusable:
        err.write(unusable + "\n")
        return EXIT_USAGE
    if path.exists() and not args.force:
        err.write(f"ergobreak config init: {path} already exists (use --force to replace it)\n")
        return EXIT_FAILURE
    try:
        write_atomic(write_target(path), render(active=False))
    except OSError as exc:
        err.write(os_error_line("ergobreak config init", exc, writing=path) + "\n")
        return EXIT_FAILURE
    out.write(
        f"Wrote {path}\nEvery setting is listed there, commented out with its default;"
        " uncomment a line to change it, or use `ergobreak config set KEY VALUE`.\n"
    )
    return EXIT_OK


# ------------------------------------------------------------------ set/unset


def _set(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return _edit(args, out, err, unset=False)


def _unset(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return _edit(args, out, err, unset=True)


def _edit(args: argparse.Namespace, out: TextIO, err: TextIO, *, unset: bool) -> int:
    from ergobreak.config.edit import apply, parse_value  # noqa: PLC0415
    from ergobreak.config.layers import load  # noqa: PLC0415
    from ergobreak.config.policy import describe_limit  # noqa: PLC0415
    from ergobreak.config.template import render  # noqa: PLC0415
    from ergobreak.config.values import format_toml  # noqa: PLC0415
    from ergobreak.tomlfile import ConfigError  # noqa: PLC0415

    key = args.key
    path = _user_file(args)
    unusable = _unusable_user_file(args, "ergobreak config", creating=True)
    if unusable:
        err.write(unusable + "\n")
        return EXIT_USAGE
    try:
        value = None if unset else parse_value(key, args.value)
        if unset:
            from ergobreak.config.schema import KEY_BY_NAME  # noqa: PLC0415

            if key not in KEY_BY_NAME:
                parse_value(key, "x")  # raises the unknown-key error with a suggestion
        policy = load(None, with_content=False)
    except ConfigError as exc:
        _print_diags(exc.diagnostics, err)
        return EXIT_FAILURE
    locked = policy.locked.get(key)
    if locked is not None:
        err.write(
            f"ergobreak config: {key} is set by your organization's policy"
            f" ({locked.where()}) and cannot be changed here\n"
        )
        return EXIT_LOCKED

    warnings: list[Diagnostic] = []

    def full_check(text: str) -> list[Diagnostic]:
        """The edited file with policy and drill selection, as the daemon would load it
        (its own warnings, such as a suspicious value, are kept to show)."""
        try:
            checked = load(path, user_text=text)
        except ConfigError as exc:
            return list(exc.diagnostics)
        warnings[:] = [d for d in checked.warnings if d.path == str(path)]
        return []

    try:
        edit = apply(path, key, value, template=render(active=False), validate=full_check)
    except ConfigError as exc:
        _print_diags(exc.diagnostics, err)
        err.write(f"ergobreak config: {path} was not changed\n")
        return EXIT_FAILURE
    except OSError as exc:
        err.write(os_error_line("ergobreak config", exc, writing=path) + "\n")
        return EXIT_FAILURE
    _print_diags(warnings, err)
    if unset and edit.old is None:
        out.write(f"{key} is not set in {short_path(path)}: nothing to change\n")
    elif unset:
        out.write(
            f"{key} removed from {short_path(path)}: the default or IT's recommendation applies\n"
        )
    else:
        out.write(f"{key} = {format_toml(value)} in {short_path(path)}\n")
        limit = policy.limits.get(key)
        if limit is not None:
            span = describe_limit(key, limit)
            out.write(f"note: your organization's policy keeps {key} within {span}\n")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cfg = sub.add_parser(
        "config",
        help="check, show and edit settings",
        description="Settings: built-in defaults < IT policy [defaults] < your config.toml"
        " < --set < IT policy [enforced], within IT policy [limits].",
    )
    cmds = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--config", metavar="FILE", help="user config file (default: per OS; $ERGOBREAK_CONFIG)"
        )

    check = cmds.add_parser(
        "check", help="validate config files (exit 0 valid, 1 errors, 2 no such --config file)"
    )
    check.add_argument("files", nargs="*", metavar="FILE", help="user config files to check")
    check.add_argument(
        "--policy",
        action="append",
        metavar="FILE",
        help="check a draft policy as IT would deploy it",
    )
    check.add_argument("--json", action="store_true")
    check.add_argument(
        "--strict",
        action="store_true",
        help="every warning is an error (exit 1); for deploy checks",
    )
    common(check)
    check.set_defaults(func=_check)

    show = cmds.add_parser("show", help="the settings in force")
    show.add_argument("--origin", action="store_true", help="say where each value comes from")
    show.add_argument("--json", action="store_true")
    show.add_argument(
        "--policy",
        action="append",
        metavar="FILE",
        help="use this policy instead of the installed one",
    )
    show.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="a value for this command only"
    )
    common(show)
    show.set_defaults(func=_show)

    paths_ = cmds.add_parser("paths", help="every path ergobreak uses on this OS")
    paths_.add_argument("--json", action="store_true")
    common(paths_)
    paths_.set_defaults(func=_paths)

    init = cmds.add_parser("init", help="write a commented config file")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    common(init)
    init.set_defaults(func=_init)

    set_ = cmds.add_parser("set", help="set one value (keeps comments)")
    set_.add_argument("key", metavar="KEY", help="e.g. drill.every")
    set_.add_argument("value", metavar="VALUE", help='e.g. 45m, true, ["mon", "tue"]')
    common(set_)
    set_.set_defaults(func=_set)

    unset = cmds.add_parser("unset", help="remove one value (back to the default)")
    unset.add_argument("key", metavar="KEY")
    common(unset)
    unset.set_defaults(func=_unset)

    edit = cmds.add_parser(
        "edit", help="edit in $VISUAL/$EDITOR; saved only if valid (like visudo)"
    )
    common(edit)
    edit.set_defaults(func=_edit_in_editor)


def _edit_in_editor(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import sys  # noqa: PLC0415

    from ergobreak.config.editor import NoEditor, edit, editor_command  # noqa: PLC0415
    from ergobreak.config.template import render  # noqa: PLC0415

    try:
        command = editor_command()
    except NoEditor as exc:
        err.write(f"ergobreak config edit: {exc}\n")
        return EXIT_FAILURE

    def ask(prompt: str) -> str:
        out.write(prompt)
        out.flush()
        return sys.stdin.readline()

    interactive = sys.stdin is not None and sys.stdin.isatty()
    path = _user_file(args)
    unusable = _unusable_user_file(args, "ergobreak config edit", creating=True)
    if unusable:
        err.write(unusable + "\n")
        return EXIT_USAGE
    try:
        outcome = edit(
            path,
            render(active=False),
            command=command,
            out=out,
            err=err,
            ask=ask if interactive else None,
        )
    except OSError as exc:  # the editor did not start, or the file could not be saved
        err.write(os_error_line("ergobreak config edit", exc, writing=path) + "\n")
        return EXIT_FAILURE
    if outcome.editor_failed is not None:  # the editor's own status (a signal: 128 + its number)
        status = outcome.editor_failed
        return status if 0 < status < 256 else 128 - status if status < 0 else EXIT_FAILURE
    has_errors = any(d.severity == "error" for d in outcome.diagnostics)
    return EXIT_FAILURE if has_errors and not outcome.saved else EXIT_OK
