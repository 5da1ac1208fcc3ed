"""The report in a real browser: headless Chromium renders it offline, in light and
dark mode, and the screenshot shows the charts in their colours.

Needs Debian's ``chromium`` (listed in tests/debian-packages.txt). A missing
browser fails the test, naming the package, rather than skipping it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from ergobreak.history.model import Period
from ergobreak.history.report import render_report
from ergobreak.history.store import HistoryStore
from ergobreak.localtz import get_timezone
from ergobreak.sim.demo import fill_demo

FRIDAY = date(2026, 3, 6)
#: chart colours from the report's stylesheet (light, dark)
COLOURS = {
    "desk": ((0x3B, 0x7A, 0x8C), (0x6F, 0xB3, 0xC6)),
    "done": ((0x2F, 0x8F, 0x5B), (0x5C, 0xC4, 0x8A)),
    "skipped": ((0xD9, 0x82, 0x2B), (0xF0, 0xA0, 0x50)),
    "heat": ((0xC2, 0x45, 0x2D), (0xFF, 0x7A, 0x5C)),
}
BACKGROUND = ((0xF7, 0xF6, 0xF2), (0x15, 0x19, 0x1C))


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "headless Chromium is needed: install the Debian package 'chromium'"
        " (apt-get install --no-install-recommends chromium; tests/debian-packages.txt)"
    )


def screenshot(page: Path, png: Path, profile: Path, *, dark: bool) -> Image.Image:
    argv = [
        chromium(),
        "--headless",
        "--no-sandbox",  # tests run as root in CI
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        "--window-size=1280,2000",
        *(["--force-dark-mode"] if dark else []),
        page.as_uri(),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=90, check=False)
    assert png.exists(), f"no screenshot; chromium said:\n{done.stderr[-2000:]}"
    return Image.open(png).convert("RGB")


def near(a: Sequence[float], b: Sequence[float], tol: int = 6) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_report_renders_its_charts_in_chromium(tmp_path: Path, dark: bool) -> None:
    with HistoryStore.open_memory() as store:
        fill_demo(store, FRIDAY, 7, get_timezone("UTC"))
        summary = store.summary(Period.ending("week", FRIDAY))
    page = tmp_path / "report.html"
    page.write_text(render_report(summary), encoding="utf-8")
    png = tmp_path / f"report-{'dark' if dark else 'light'}.png"
    image = screenshot(page, png, tmp_path / "profile", dark=dark)
    assert image.size == (1280, 2000)
    scheme = 1 if dark else 0
    corner = image.getpixel((4, 4))
    assert isinstance(corner, tuple)
    assert near(corner, BACKGROUND[scheme])
    histogram = image.getcolors(maxcolors=1 << 24)
    assert histogram is not None
    counts: Counter[str] = Counter()
    for n, pixel in histogram:
        for name, pair in COLOURS.items():
            if isinstance(pixel, tuple) and near(pixel, pair[scheme]):
                counts[name] += n
    # Each chart painted real area in its own colour (a bar is ~60x300 px).
    assert counts["desk"] > 20_000, counts
    assert counts["done"] > 20_000, counts
    assert counts["heat"] > 1_000, counts
    assert counts["skipped"] > 1_000, counts
    # Not a blank or broken page: many distinct colours (text, charts, cards).
    assert len(histogram) > 50
