"""ergobreak on sway 1.7 + waybar (tray) + mako, headless, end to end.

Assertions are on the D-Bus traffic between ergobreak and the shell's own servers, on
what mako shows (``makoctl list``) and on the daemon's own ``status``/history; input is
``wtype`` and buttons are ``makoctl invoke``, the paths a user's keyboard and click take.
Intervals are seconds long (as in tests/desktop/test_daemon_e2e.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from desktop.rig import NOTIFICATIONS, SNI_WATCHER, count_pixels_near

from .sway import BAR_HEIGHT, BAR_RGB, DESKTOP_RGB, SCREEN, Sway


@pytest.fixture(scope="module")
def sway() -> Iterator[Sway]:
    """One sway session for the module; tests leave it as they found it."""
    with Sway() as shell:
        yield shell


def test_sway_starts_with_its_tray_and_notification_server(sway: Sway) -> None:
    s = sway.session
    assert sway.wayland_display.startswith("wayland-")
    names = {"waybar": SNI_WATCHER, "mako": NOTIFICATIONS}
    for comm, name in names.items():
        pid = s.bus.owner_pid(name)
        assert s.belongs(pid), name
        assert Path(f"/proc/{pid}/comm").read_text().strip() == comm
    assert "org_kde_kwin_idle" in sway.wayland_globals()  # what an idle source can use
    shot = sway.screenshot()
    width, height = SCREEN
    assert count_pixels_near(shot, BAR_RGB, 4, (0, 0, width, BAR_HEIGHT)) > width * 20
    below = (0, BAR_HEIGHT + 10, width, height)
    assert count_pixels_near(shot, DESKTOP_RGB, 4, below) > width * (height - 100)
    print(f"sway ready in {sway.timings}")
