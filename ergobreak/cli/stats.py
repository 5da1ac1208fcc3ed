"""``ergobreak stats``: the local break history as a table, JSON or CSV; clear; export."""

from __future__ import annotations

import argparse
import io
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ergobreak.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, os_error_line, short_path

if TYPE_CHECKING:
    from ergobreak.history.store import HistoryStore


def db_option(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS if suppress else None,
        help="history store to use (default: history.db in the state directory)",
    )


def period_options(parser: argparse.ArgumentParser, default: str) -> None:
    group = parser.add_mutually_exclusive_group()
    spans = (("day", "today"), ("week", "the last 7 days"), ("month", "the last 30 days"))
    for name, days in spans:
        group.add_argument(
            f"--{name}",
            dest="period",
            action="store_const",
            const=name,
            help=f"{days}{' (default)' if name == default else ''}",
        )
    parser.set_defaults(period=default)
    parser.add_argument(
        "--until", metavar="DATE", help="last day of the period, e.g. 2026-01-09 (default: today)"
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    stats = sub.add_parser(
        "stats",
        help="your break history: desk time, drills, posture checks (stays on this machine)",
        description=(
            "Show the break history ergobreak keeps on this machine: desk time, drills"
            " done and offered, posture checks and the longest sitting stretch per day."
        ),
    )
    period_options(stats, "week")
    fmt = stats.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    fmt.add_argument("--csv", action="store_true", help="one CSV row per day")
    db_option(stats)
    stats.set_defaults(func=run)
    actions = stats.add_subparsers(dest="action", metavar="ACTION")
    clear = actions.add_parser(
        "clear",
        help="delete all recorded history",
        description="Delete all recorded break history (and the last report).",
    )
    clear.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    db_option(clear, suppress=True)
    clear.set_defaults(func=run_clear)
    export = actions.add_parser(
        "export",
        help="write all recorded history as JSON or CSV",
        description="Write everything in the history store, for your own scripts or records.",
    )
    export.add_argument("--format", choices=("json", "csv"), default="json", help="(default: json)")
    export.add_argument(
        "--table",
        choices=("events", "days", "stretches"),
        default="events",
        help="which table to write as CSV (default: events; JSON has them all)",
    )
    export.add_argument("--out", metavar="FILE", help="write to FILE (default: standard output)")
    db_option(export, suppress=True)
    export.set_defaults(func=run_export)


def db_path(args: argparse.Namespace) -> Path:
    from ergobreak.history.store import default_path  # noqa: PLC0415

    db = getattr(args, "db", None)
    return Path(db).expanduser() if db else default_path()


def history_switches(err: TextIO, command: str) -> bool:
    """Say why, when the settings in force switch history off; return whether the
    first-run notice may be shown."""
    from ergobreak.config.switches import in_force  # noqa: PLC0415
    from ergobreak.paths import paths  # noqa: PLC0415

    try:
        effective = in_force(paths().config_file)
    except Exception:  # the settings are the daemon's business; stats still reads
        return True
    values, origin = effective.values, effective.origins.get("history.enabled")
    if values.get("history.enabled", True) is False and origin is not None:
        by = {
            "enforced": "by your organization's policy at",
            "policy default": "by your organization's policy at",
        }.get(origin.layer, "in")
        err.write(
            f"ergobreak {command}: history is off, nothing new is recorded"
            f" (history.enabled = false, set {by} {short_path(origin.where())})\n"
        )
    return values.get("history.first_run_notice", True) is not False


def open_store(args: argparse.Namespace, err: TextIO, command: str) -> HistoryStore | None:
    """Open the store named by ``--db``; say when history is off; print the first-run
    notice once (unless the settings switch it off)."""
    from ergobreak.history.notice import first_run_notice  # noqa: PLC0415
    from ergobreak.history.store import HistoryError, HistoryStore  # noqa: PLC0415

    def warn(message: str) -> None:
        err.write(f"ergobreak: {message}\n")

    notice = history_switches(err, command)
    try:
        store = HistoryStore.open(db_path(args), warn=warn)
    except HistoryError as exc:
        err.write(f"ergobreak {command}: {exc}\n")
        return None
    try:
        if notice and store.claim_notice("cli"):
            err.write(first_run_notice(store.path) + "\n")
    except Exception as exc:  # read-only media: the notice is not worth failing for
        err.write(f"ergobreak {command}: note: {exc}\n")
    return store


def parse_until(args: argparse.Namespace, err: TextIO, command: str) -> date | None:
    if not args.until:
        return date.today()
    try:
        return date.fromisoformat(args.until)
    except ValueError:
        err.write(
            f'ergobreak {command}: --until expects a date like 2026-01-09, got "{args.until}"\n'
        )
        return None


def titles() -> dict[str, str]:
    from ergobreak.content import default_content  # noqa: PLC0415

    return {d.id: d.title for d in default_content().drills}


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.history.model import Period  # noqa: PLC0415
    from ergobreak.history.views import can_unicode, render_table, to_csv, to_json  # noqa: PLC0415

    until = parse_until(args, err, "stats")
    if until is None:
        return EXIT_USAGE
    store = open_store(args, err, "stats")
    if store is None:
        return EXIT_FAILURE
    with store:
        summary = store.summary(Period.ending(args.period, until))
    if args.json:
        out.write(to_json(summary))
    elif args.csv:
        out.write(to_csv(summary))
    else:
        unicode = can_unicode(getattr(out, "encoding", None))
        out.write(render_table(summary, unicode=unicode, titles=titles()))
    return EXIT_OK


def run_clear(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import sqlite3  # noqa: PLC0415

    from ergobreak.history.files import REPORT_NAME  # noqa: PLC0415

    path = db_path(args)
    if not args.yes:
        if not sys.stdin.isatty():
            err.write(
                f"ergobreak stats clear: this deletes all break history in {path};"
                " add --yes to confirm\n"
            )
            return EXIT_USAGE
        err.write(f"Delete all break history in {path}? [y/N] ")
        err.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            err.write("Nothing deleted.\n")
            return EXIT_OK
    store = open_store(args, err, "stats clear")
    if store is None:
        return EXIT_FAILURE
    try:
        with store:
            store.clear()
    except sqlite3.Error as exc:  # read-only media, a full disk
        err.write(f"ergobreak stats clear: cannot write {short_path(path)}: {exc}\n")
        return EXIT_FAILURE
    removed = []
    extras = [path.parent / REPORT_NAME, *sorted(path.parent.glob(f"{path.name}.corrupt-*"))]
    for extra in extras:
        try:
            if extra.is_file():
                extra.unlink()
                removed.append(extra.name)
        except OSError as exc:
            err.write(f"ergobreak stats clear: could not delete {extra}: {exc.strerror or exc}\n")
    out.write(f"Break history in {path} deleted.")
    out.write(f" Also deleted: {', '.join(removed)}.\n" if removed else "\n")
    return EXIT_OK


def run_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.history.files import write_private  # noqa: PLC0415

    store = open_store(args, err, "stats export")
    if store is None:
        return EXIT_FAILURE
    buf = io.StringIO()
    with store:
        if args.format == "json":
            store.export_json(buf)
        else:
            store.export_csv(buf, args.table)
    if not args.out:
        out.write(buf.getvalue())
        return EXIT_OK
    target = Path(args.out).expanduser()
    try:
        write_private(target, buf.getvalue())
    except OSError as exc:
        err.write(os_error_line("ergobreak stats export", exc, writing=target) + "\n")
        return EXIT_FAILURE
    err.write(f"Wrote {target}\n")
    return EXIT_OK
