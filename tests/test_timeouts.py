"""The timeout backstop (tests/timeouts.py), in pytest runs of their own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

#: each test outlives a 1 s timeout in a way the SIGALRM alone does not end
HANGS = """
import time

import pytest


def test_swallows_the_timeout():
    for _ in range(2):
        try:
            time.sleep(60)
        except BaseException:
            pass


@pytest.fixture
def stuck_teardown():
    yield
    time.sleep(60)


def test_hangs_in_teardown_after_the_timeout(stuck_teardown):
    time.sleep(60)
"""


def run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """pytest with tests/timeouts.py on :data:`HANGS`: the result, and how long it took."""
    (tmp_path / "test_hangs.py").write_text(HANGS, encoding="utf-8")
    argv = [sys.executable, "-m", "pytest", "-p", "timeouts", "-p", "no:cacheprovider", *args]
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    started = time.monotonic()
    done = subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=50, check=False
    )
    return done, time.monotonic() - started


@pytest.mark.parametrize(
    "test", ["test_swallows_the_timeout", "test_hangs_in_teardown_after_the_timeout"]
)
def test_a_test_that_outlives_its_timeout_stops_the_run(tmp_path: Path, test: str) -> None:
    done, took = run(
        tmp_path, f"test_hangs.py::{test}", "-o", "timeout=1", "-o", "hard_stop_after=1"
    )
    assert done.returncode == 1
    assert f"test_hangs.py::{test} still running 1 s after its 1 s timeout" in done.stderr
    assert 'test_hangs.py", line' in done.stderr  # where it hangs, from the stacks
    assert took < 30
