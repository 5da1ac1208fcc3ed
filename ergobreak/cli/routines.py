"""``ergobreak routines``: list the drill library and show one drill step by step."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ergobreak.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from ergobreak.core.duration import format_amount, format_clock

if TYPE_CHECKING:
    from ergobreak.content import Library, Selection
    from ergobreak.core.content import Drill
    from ergobreak.tomlfile import Diagnostic


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    routines = sub.add_parser(
        "routines",
        help="list the 2-minute drills, or show one step by step",
        description="The drill library: built-in drills plus custom content files.",
    )
    routines.set_defaults(func=_help(routines))
    actions = routines.add_subparsers(dest="action", metavar="ACTION")

    listing = actions.add_parser(
        "list",
        help="every drill, numbered by its place in your rotation",
        description="List every drill (id, title, category, tags, seconds); '#' is its place"
        " in the rotation your [routines] settings give, '-' means left out.",
    )
    listing.add_argument("--json", action="store_true", help="a JSON array, one object per drill")
    listing.add_argument("--config", metavar="FILE", help="settings file (TOML)")
    listing.set_defaults(func=run_list)

    show = actions.add_parser(
        "show",
        help="one drill: timed steps, safety note and sources",
        description="Show a drill's steps with start times, its safety note and its sources.",
    )
    show.add_argument("id", metavar="ID", help="drill id, e.g. hinge_wall")
    shape = show.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="one JSON object")
    shape.add_argument(
        "--html",
        action="store_true",
        help="a standalone HTML page: the safety note, then each step with its picture",
    )
    show.set_defaults(func=run_show)

    safety = sub.add_parser(
        "safety",
        help="the safety notes: when to stop, red flags, when to see a professional",
        description="Print the safety notes that come with ergobreak: stop rules, red"
        " flags, and advice for a hip replacement, pregnancy, knees, balance and back pain.",
    )
    safety.set_defaults(func=run_safety)


def _help(parser: argparse.ArgumentParser) -> Any:
    def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        parser.print_help(out)
        return EXIT_USAGE

    return run


def _seconds(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _tags(drill: Drill) -> list[str]:
    from ergobreak.core.content import TAGS  # noqa: PLC0415

    return sorted(drill.tags, key=lambda tag: (TAGS.index(tag) if tag in TAGS else len(TAGS), tag))


def _write_diags(diags: Sequence[Diagnostic], err: TextIO) -> None:
    for diag in diags:
        err.write(diag.format() + "\n")


def _library(err: TextIO) -> Library:
    from ergobreak.artwork import figure  # noqa: PLC0415
    from ergobreak.content import load_library  # noqa: PLC0415

    library, diags = load_library(known_poses=figure.names())
    _write_diags(diags, err)
    return library


def run_list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.config import ConfigError, load  # noqa: PLC0415 - keep startup light
    from ergobreak.content import SelectionError, selection  # noqa: PLC0415
    from ergobreak.paths import paths  # noqa: PLC0415

    found = paths(args.config).config_file
    config: Path | None = found if args.config or found.exists() else None
    try:
        loaded = load(config, with_content=False)
    except ConfigError as exc:
        _write_diags(exc.diagnostics, err)
        return EXIT_FAILURE
    _write_diags(loaded.diagnostics, err)
    library = _library(err)
    text = None
    if config is not None:
        try:
            text = config.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
    chosen: Selection | None
    try:
        chosen = selection(library, loaded.filters, path=str(config) if config else None, text=text)
    except SelectionError as exc:
        _write_diags(exc.diagnostics, err)
        chosen = None
    else:
        _write_diags(list(chosen.diagnostics), err)

    place = {drill.id: n for n, drill in enumerate(chosen.drills, start=1)} if chosen else {}
    left_out = dict(chosen.left_out) if chosen else {}
    if args.json:
        rows = [
            {
                "id": drill.id,
                "title": drill.title,
                "category": drill.category,
                "tags": _tags(drill),
                "seconds": _seconds(drill.seconds),
                "rotation": place.get(drill.id),
                "left_out": left_out.get(drill.id),
                "origin": library.origin(drill.id),
            }
            for drill in library.drills
        ]
        out.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK if chosen else EXIT_FAILURE

    table = [("#", "id", "category", "seconds", "tags", "title")]
    for drill in library.drills:
        table.append(
            (
                str(place.get(drill.id, "-")),
                drill.id,
                drill.category,
                str(_seconds(drill.seconds)),
                ", ".join(_tags(drill)),
                drill.title + ("" if library.origin(drill.id) == "built-in" else " (custom)"),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    for row in table:
        cells = [
            cell.rjust(w) if i in (0, 3) else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=False))
        ]
        out.write("  ".join([*cells, row[-1]]).rstrip() + "\n")
    source = str(config) if config else "default settings"
    if chosen:
        out.write(f"\nRotation: {len(chosen.drills)} of {len(library.drills)} drills ({source}).\n")
    else:
        out.write(f"\nNo rotation: see the error above ({source}).\n")
    if left_out and chosen:
        out.write("Left out:\n")
        width = max(len(ident) for ident in left_out)
        for ident, why in left_out.items():
            out.write(f"  {ident.ljust(width)}  {why}\n")
    return EXIT_OK if chosen else EXIT_FAILURE


def run_show(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ergobreak.content import safety_text, sources  # noqa: PLC0415

    library = _library(err)
    drill = library.drill(args.id)
    if drill is None:
        near = library.suggest(args.id)
        hint = f" (did you mean {near}?)" if near else ""
        err.write(
            f"ergobreak routines show: no routine named {args.id!r}{hint};"
            " see: ergobreak routines list\n"
        )
        return EXIT_FAILURE
    known = sources()
    footer = safety_text()["footer"]
    origin = library.origin(drill.id)
    cited: list[dict[str, Any]] = []
    for ref in drill.sources:
        src = known.get(ref)
        if src is None:
            cited.append({"id": None, "title": ref, "urls": []})
        else:
            cited.append({"id": src.id, "title": src.title, "urls": list(src.urls)})
    steps = [
        {
            "start": _seconds(start),
            "seconds": _seconds(step.seconds),
            "side": step.side,
            "pose": step.pose,
            "text": step.text,
        }
        for start, step in zip(drill.offsets, drill.steps, strict=True)
    ]
    if args.json:
        doc = {
            "id": drill.id,
            "title": drill.title,
            "category": drill.category,
            "summary": drill.summary,
            "tags": _tags(drill),
            "seconds": _seconds(drill.seconds),
            "steps": steps,
            "safety": drill.safety,
            "footer": footer,
            "sources": cited,
            "origin": origin,
        }
        out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK

    if args.html:
        out.write(drill_page(drill, footer))
        return EXIT_OK

    out.write(f"{drill.title} ({drill.id})\n")
    out.write(f"{drill.category}, {format_clock(drill.seconds)}, tags: {', '.join(_tags(drill))}\n")
    if origin != "built-in":
        out.write(f"from {origin}\n")
    if drill.summary:
        out.write(f"{drill.summary}\n")
    out.write("\n")
    for start, step in zip(drill.offsets, drill.steps, strict=True):
        side = step.side or ""
        out.write(
            f"  {format_clock(start):>5}  {_seconds(step.seconds):>3} s  {side:<5}  {step.text}\n"
        )
    out.write(f"  {format_clock(drill.seconds):>5}  done\n\n")
    out.write(f"Safety: {drill.safety}\n{footer}\n")
    if cited:
        out.write("\nSources:\n")
        for item in cited:
            label = f"{item['id']}  " if item["id"] else ""
            out.write(f"  {label}{item['title']}\n")
            for url in item["urls"]:
                out.write(f"      {url}\n")
    out.write("\nStop rules, red flags and when to see a professional: ergobreak safety\n")
    return EXIT_OK


PICTURE = 160  # px: the coach window's figure size, readable on paper too

_PAGE_STYLE = (
    "body{font-family:sans-serif;max-width:44em;margin:2em auto;padding:0 1em;color:#222}"
    ".safety{border-left:4px solid #e07020;padding:.5em 1em;background:#fdf3ea}"
    "ol{padding:0;list-style:none}li{display:flex;gap:1em;align-items:center;margin:1em 0}"
    ".side{font-weight:bold}.length{color:#555}"
)


def drill_page(drill: Drill, footer: str) -> str:
    """A drill as a standalone HTML page: its title, the safety note first, then each
    step with its picture (mirrored for its side), side, text and length."""
    from html import escape  # noqa: PLC0415

    from ergobreak.artwork.figure import Look, known, scene  # noqa: PLC0415
    from ergobreak.artwork.shapes import to_svg  # noqa: PLC0415

    look = Look.standard()
    items = []
    for number, step in enumerate(drill.steps, 1):
        picture = ""
        if step.pose is not None and known(step.pose):
            shapes = scene(step.pose, 0.0, side=step.side, size=PICTURE, look=look, still=True)
            picture = to_svg(shapes, PICTURE, title=f"Step {number}").strip()
        side = f'<p class="side">{escape(step.side.capitalize())}</p>' if step.side else ""
        items.append(
            f"<li>{picture}<div><p>Step {number} of {len(drill.steps)}</p>{side}"
            f"<p>{escape(step.text)}</p>"
            f'<p class="length">{escape(format_amount(step.seconds))}</p></div></li>'
        )
    title = escape(drill.title)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            f'<head><meta charset="utf-8"/><title>{title}</title>',
            f"<style>{_PAGE_STYLE}</style></head>",
            "<body>",
            f"<h1>{title}</h1>",
            f'<p class="safety"><strong>Safety:</strong> {escape(drill.safety)}</p>',
            f"<p>{escape(drill.summary)}</p>" if drill.summary else "",
            "<ol>",
            *items,
            "</ol>",
            f"<p>{escape(footer)}</p>",
            "</body>",
            "</html>",
            "",
        ]
    )


def drill_sheet(drill: Drill, size: float = 120) -> str:
    """One SVG strip: the key pose of each step of ``drill``, left to right."""
    from ergobreak.artwork.figure import Look, known, sheet  # noqa: PLC0415
    from ergobreak.artwork.shapes import to_svg  # noqa: PLC0415

    steps = [(s.pose, s.side) for s in drill.steps if s.pose is not None and known(s.pose)]
    shapes = sheet(steps, size, Look.standard())
    return to_svg(shapes, size, title=drill.title, width=size * len(steps))


def write_sheets(folder: Path) -> int:
    """docs/poses/<drill>.svg for every shipped drill (docs/content.md shows them)."""
    from ergobreak.content import builtin_library  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    drills = builtin_library().drills
    for drill in drills:
        (folder / f"{drill.id}.svg").write_text(drill_sheet(drill), encoding="utf-8")
    return len(drills)


def run_safety(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """The packaged safety text: stop rules, red flags, when to see a professional."""
    import textwrap  # noqa: PLC0415

    from ergobreak.opener import safety_sections  # noqa: PLC0415

    for i, (heading, text) in enumerate(safety_sections()):
        out.write(("\n" if i else "") + heading + "\n")
        for paragraph in text.split("\n\n"):
            out.write(textwrap.fill(paragraph, 78, initial_indent="  ", subsequent_indent="  "))
            out.write("\n")
    out.write("\nEach drill's own safety note and sources: ergobreak routines show ID\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ergobreak.cli.routines --sheets docs/poses``: regenerate the docs' sheets."""
    parser = argparse.ArgumentParser(prog="python -m ergobreak.cli.routines")
    parser.add_argument("--sheets", metavar="DIR", type=Path, required=True)
    args = parser.parse_args(argv)
    count = write_sheets(args.sheets)
    sys.stdout.write(f"wrote {count} drill sheets to {args.sheets}\n")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
