"""Per-test timeouts, a pytest plugin (tests/conftest.py loads it).

Every test, setup and teardown included, has pyproject's ``timeout`` or its own
``timeout`` marker; property tests get more in proportion when a Hypothesis profile
asks for more examples than :data:`TIMED_EXAMPLES`.

pytest-timeout fails a test in place when it runs past its timeout (SIGALRM), and the
run goes on. That alarm fires once, into the main thread's Python code: a teardown that
hangs after it, Hypothesis replaying the failed example, code that swallows the
failure, or a call stuck in C would still hang the run. So a watchdog, ``hard_stop_after``
seconds past the timeout, prints every thread's stack and ends pytest with exit code 1
(the desktop rig's processes die with it: ``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
from collections.abc import Generator

import pytest
from hypothesis import settings
from pytest_timeout import is_debugging

HARD_STOP_AFTER = "30"
#: examples per property test the timeouts are set for (the ``ci`` profile)
TIMED_EXAMPLES = 200


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "hard_stop_after",
        "seconds past a test's timeout before the whole run is stopped",
        default=HARD_STOP_AFTER,
    )


def timeout_of(item: pytest.Item) -> float:
    """The timeout pytest-timeout applies to ``item`` (0: none)."""
    marker = item.get_closest_marker("timeout")
    if marker is not None:
        value = marker.args[0] if marker.args else marker.kwargs.get("timeout")
    else:
        value = (
            item.config.getoption("timeout")
            or os.environ.get("PYTEST_TIMEOUT")
            or item.config.getini("timeout")
        )
    return float(value or 0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    scale = settings().max_examples / TIMED_EXAMPLES
    if scale <= 1:
        return
    for item in items:
        if isinstance(item, pytest.Function) and getattr(item.obj, "is_hypothesis_test", False):
            item.add_marker(pytest.mark.timeout(timeout_of(item) * scale), append=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    limit = timeout_of(item)
    watchdog = None
    if limit > 0:
        grace = float(item.config.getini("hard_stop_after"))
        watchdog = threading.Timer(limit + grace, _stop_the_run, (item, limit, grace))
        watchdog.daemon = True
        watchdog.start()
    try:
        return (yield)
    finally:
        if watchdog is not None:
            watchdog.cancel()


def _stop_the_run(item: pytest.Item, limit: float, grace: float) -> None:
    if is_debugging():  # a person at a breakpoint is not a hang
        return
    capture = item.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    sys.stderr.write(
        f"\n{item.nodeid} still running {grace:g} s after its {limit:g} s timeout:"
        " stopping the run. Every thread's stack:\n"
    )
    faulthandler.dump_traceback(sys.stderr, all_threads=True)
    sys.stderr.flush()
    os._exit(1)
