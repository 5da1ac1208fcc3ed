"""Suite-wide settings and fixtures. ``HYPOTHESIS_PROFILE=deep`` explores far more
examples; :mod:`timeouts` sets the time every test has."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings
from scaffold import isolate

pytest_plugins = ("timeouts", "audio")

settings.register_profile("ci", max_examples=200, deadline=None)
settings.register_profile("deep", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    """A developer may leave out the real shells (``-m "not shells"``); CI runs every
    test, so there a marker expression or ``-k`` that deselects anything is an error."""
    if os.environ.get("CI") and (config.option.markexpr or config.option.keyword):
        raise pytest.UsageError("CI runs the whole suite: drop -m/-k (CI is set)")


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Nothing real is read or written: config, policy, content, state and runtime
    files all lie under ``tmp_path`` (see :func:`scaffold.isolate`), which is returned."""
    isolate(tmp_path, monkeypatch)
    return tmp_path
