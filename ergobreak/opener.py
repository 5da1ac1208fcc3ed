"""Open files in the desktop's own apps: the config in an editor, reports in a browser.

xdg-open (Linux), ``os.startfile`` (Windows), ``open`` (macOS), started without
waiting so the engine thread never blocks on a GUI.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ergobreak.core.settings import Settings

log = logging.getLogger(__name__)


def open_path(path: Path) -> dict[str, Any]:
    try:
        if sys.platform == "win32":  # pragma: no cover - untested on real Windows
            os.startfile(path)  # type: ignore[attr-defined]  # noqa: S606
        else:
            tool = "open" if sys.platform == "darwin" else shutil.which("xdg-open")
            if tool is None:
                return {"ok": False, "error": f"no xdg-open here; the file is {path}"}
            subprocess.Popen(
                [tool, str(path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
    except OSError as exc:
        log.warning("cannot open %s: %s", path, exc)
        return {"ok": False, "error": f"cannot open {path}: {exc}"}
    return {"ok": True, "path": str(path)}


def open_config(config_file: Path) -> dict[str, Any]:
    """Open the user's config file, creating it from the commented template first."""
    if not config_file.exists():
        from ergobreak.atomic import write_atomic  # noqa: PLC0415
        from ergobreak.config.template import render  # noqa: PLC0415

        write_atomic(config_file, render(active=False))
    return open_path(config_file)


def open_report(state_dir: Path, settings: Settings | None = None) -> dict[str, Any]:
    """Write this week's report beside the history store, as ``ergobreak report`` does,
    and open it; its explanations quote ``settings`` (the ones in force).

    Runs on the engine thread, which waits for it: reading a week from SQLite and
    rendering the page takes tens of milliseconds (the browser starts detached).
    """
    from datetime import date  # noqa: PLC0415

    from ergobreak.content import default_content  # noqa: PLC0415
    from ergobreak.history.files import REPORT_NAME  # noqa: PLC0415
    from ergobreak.history.model import Period  # noqa: PLC0415
    from ergobreak.history.report import write_report  # noqa: PLC0415
    from ergobreak.history.store import FILENAME, HistoryError, HistoryStore  # noqa: PLC0415

    target = state_dir / REPORT_NAME
    # the drill names `ergobreak report` shows
    titles = {d.id: d.title for d in default_content().drills}
    try:
        with HistoryStore.open(state_dir / FILENAME, warn=log.warning) as store:
            week = Period.ending("week", date.today())
            write_report(store, week, target, titles=titles, settings=settings)
    except HistoryError as exc:
        return {"ok": False, "error": f"ergobreak report: {exc}"}
    except OSError as exc:
        return {
            "ok": False,
            "error": f"ergobreak report: cannot write {target}: {exc.strerror or exc}",
        }
    return open_path(target)


#: the heading each part of the safety text goes under, in the order shown
SAFETY_HEADINGS: dict[str, str] = {
    "onboarding": "About ergobreak",
    "stop_rules": "When to stop",
    "red_flags_emergency": "When to get emergency help",
    "red_flags_urgent": "When to see a doctor urgently",
    "footer": "During every drill",
    "help.hip_replacement": "After a hip replacement",
    "help.pregnancy": "During pregnancy",
    "help.knees": "If kneeling hurts",
    "help.balance": "If your balance is unsure",
    "help.back_pain": "With back pain",
}


def safety_sections() -> list[tuple[str, str]]:
    """(heading, text) for every part of the packaged safety text (content/safety.toml),
    stop rules and red flags first: what the tray's "About & safety" page and
    ``ergobreak safety`` show, from the installed package."""
    from ergobreak.content import safety_text  # noqa: PLC0415

    text = safety_text()
    order = [k for k in SAFETY_HEADINGS if k in text] + [
        k for k in text if k not in SAFETY_HEADINGS
    ]
    return [
        (SAFETY_HEADINGS.get(k, k.removeprefix("help.").replace("_", " ").capitalize()), text[k])
        for k in order
    ]


def open_safety(state_dir: Path) -> dict[str, Any]:
    """Write the safety text (:func:`safety_sections`) as a small HTML page and open it."""
    import html  # noqa: PLC0415

    from ergobreak.atomic import write_atomic  # noqa: PLC0415

    parts = [
        "<!doctype html><meta charset=utf-8><title>ergobreak: about and safety</title>",
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46em;margin:2em auto;"
        "padding:0 1em}h2{margin-top:1.5em}</style><h1>About ergobreak and safety</h1>",
    ]
    for title, text in safety_sections():
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in text.split("\n\n")]
    parts.append(
        "<p>Each drill's own safety note and sources: <code>ergobreak routines show ID</code>."
        " This page: <code>ergobreak safety</code>.</p>"
    )
    path = state_dir / "safety.html"
    write_atomic(path, "\n".join(parts) + "\n")
    return open_path(path)
