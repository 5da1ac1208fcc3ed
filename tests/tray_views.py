"""Tray test helpers: real core Views for every state a tray shows.

Shared by tests/test_tray_*.py and tests/desktop/test_tray_*.py (pytest puts tests/
on sys.path).
"""

from __future__ import annotations

from datetime import datetime, timezone

from ergobreak.core import events as ev
from ergobreak.core.machine import View
from ergobreak.sim.testing import make_machine

UTC = timezone.utc
#: Monday 2026-01-05 10:00 UTC
WALL = datetime(2026, 1, 5, 10, 0, tzinfo=UTC).timestamp()


def real_views() -> dict[str, View]:
    """Views from the real core, driven through a drill cycle by samples and commands."""
    m = make_machine()
    views = {}
    t = 0.0
    m.sample(t, WALL, 0)
    while t < 1500:
        t += 30
        m.sample(t, WALL + t, 0)
    views["working"] = m.view(t)
    while m.view(t).state != "prompt":
        t += 30
        m.sample(t, WALL + t, 0)
    views["prompt"] = m.view(t)
    m.handle(t, WALL + t, ev.Snooze(), idle=0)
    views["snoozed"] = m.view(t)
    m.handle(t, WALL + t, ev.Start(), idle=0)
    views["drill"] = m.view(t)
    m.handle(t, WALL + t, ev.Pause(seconds=1800), idle=0)
    views["paused"] = m.view(t)
    m.handle(t, WALL + t, ev.Resume(), idle=0)
    m.sample(t + 600, WALL + t + 600, 600)
    views["away"] = m.view(t + 600)
    return views


VIEWS = real_views()
