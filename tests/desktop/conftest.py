"""Fixtures for tests that need a real (headless) desktop.

Every test under tests/desktop gets the ``desktop`` marker (and, like every test, the
suite's timeout: a stuck X or D-Bus call becomes a failure, not a hung CI job) and runs
with its environment pointed at one session-wide :class:`Rig` (Xvfb + private D-Bus +
openbox + dunst). Components that tests restart or that conflict (trayer vs. xfce4-panel
both want the XEmbed tray) are function-scoped fixtures. Nothing is ever skipped: a
missing program fails the test with the Debian package to install.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from .rig import Rig

HERE = Path(__file__).parent

#: started once per session and restored before each test if a test stopped one
SESSION_COMPONENTS = ("openbox", "dunst")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.desktop)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the rig's daemon logs to the report of a failing desktop test."""
    report = yield
    rig = getattr(item, "funcargs", {}).get("desktop")
    if report.failed and isinstance(rig, Rig) and rig.state_dir.is_dir():
        report.sections.append(("desktop rig logs", rig.log_tails()))
    return report


@pytest.fixture(scope="session")
def desktop() -> Iterator[Rig]:
    """The session's desktop: X, D-Bus, openbox and dunst (see :class:`Rig` for helpers)."""
    rig = Rig(SESSION_COMPONENTS)
    with rig:
        yield rig
    assert rig.leftovers() == [], "desktop processes survived the session"


@pytest.fixture(autouse=True)
def _desktop_baseline(desktop: Rig, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with the session components up, no popups, a fresh history view
    (:meth:`Rig.history` shows only this test's notifications) and os.environ pointing
    at the desktop (DISPLAY, DBUS_SESSION_BUS_ADDRESS, XDG dirs, PYSTRAY_BACKEND=xorg).
    Whatever else a test started on the session rig (``start``, ``launch``) is stopped
    after it, so one test's leftovers cannot break the next."""
    for component in SESSION_COMPONENTS:
        if not desktop.is_running(component):
            desktop.start(component)
    desktop.close_all_notifications()
    desktop.mark_history()
    desktop.bus.clear_signals()  # their NotificationClosed came before the reply
    for key, value in desktop.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    yield
    for name in reversed(list(desktop.procs)):
        if name not in ("x", "bus", *SESSION_COMPONENTS):
            desktop.stop(name)


def _component(rig: Rig, name: str) -> Iterator[Rig]:
    rig.start(name)
    yield rig
    rig.stop(name)  # raises if any of its processes survived


@pytest.fixture
def trayer(desktop: Rig) -> Iterator[Rig]:
    """trayer (XEmbed tray, owns _NET_SYSTEM_TRAY_S0) for this test only."""
    yield from _component(desktop, "trayer")


@pytest.fixture
def sni_host(desktop: Rig) -> Iterator[Rig]:
    """xfconfd + xfce4-panel with only the systray plugin: a StatusNotifierWatcher with a
    registered host (and an XEmbed tray), for this test only."""
    yield from _component(desktop, "xfce")
