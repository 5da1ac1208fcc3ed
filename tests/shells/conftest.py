"""Fixtures and hooks for the real-shell tests.

Every test under tests/shells gets the ``shells`` marker (``-m 'not shells'`` leaves them
out locally; CI runs them all). A failing test's report carries the logs of the shell
session it used: any fixture value that is a :class:`ShellSession` or has one as
``.session`` (a shell object such as :class:`shells.sway.Sway`).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from .session import ShellSession

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.shells)


def sessions_of(item: pytest.Item) -> list[ShellSession]:
    found = []
    for value in getattr(item, "funcargs", {}).values():
        session = value if isinstance(value, ShellSession) else getattr(value, "session", None)
        if isinstance(session, ShellSession) and session not in found:
            found.append(session)
    return found


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the shell session's logs to the report of a failing test."""
    report = yield
    if report.failed:
        for session in sessions_of(item):
            if session.state_dir.name and session.logs.is_dir():
                report.sections.append((f"{session.shell} session logs", session.log_tails()))
    return report
