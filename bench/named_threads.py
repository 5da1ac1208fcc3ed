"""Run ``python -m ergobreak ...`` with each Python thread's name given to the kernel.

Python 3.11 leaves every thread's kernel name (``/proc/PID/task/TID/comm``) as the
process's, so a bench reading /proc cannot tell the engine from the IPC thread. This
launcher writes ``threading.Thread.name`` (first 15 bytes, the kernel's limit) to the
thread's own ``comm`` file when it starts -- a file write, no import -- and, when
``$ERGOBREAK_BENCH_THREADS`` names a file, appends ``TID<tab>full name`` to it (the
kernel keeps 15 bytes); then it runs ergobreak unchanged::

    python bench/named_threads.py run      # = python -m ergobreak run
"""

from __future__ import annotations

import os
import runpy
import sys
import threading

_bootstrap = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]


def name_this_thread(name: str, where: str = "") -> None:
    """Give the kernel ``name``; log it with ``where`` (the thread's target) for the bench:
    "Thread-2 (_receiver)" alone does not say whose receiver it is."""
    tid = threading.get_native_id()
    try:
        with open(f"/proc/self/task/{tid}/comm", "w") as comm:
            comm.write(name.encode()[:15].decode(errors="ignore"))
        if log := os.environ.get("ERGOBREAK_BENCH_THREADS"):
            with open(log, "a") as names:
                names.write(f"{tid}\t{name} [{where}]\n" if where else f"{tid}\t{name}\n")
    except OSError:
        pass  # not Linux, or /proc not mounted: the thread just keeps its name


def _named_bootstrap(self: threading.Thread) -> None:
    target = getattr(self, "_target", None)
    where = f"{target.__module__}.{target.__qualname__}" if callable(target) else ""
    name_this_thread(self.name, where)
    _bootstrap(self)


def main() -> None:
    threading.Thread._bootstrap_inner = _named_bootstrap  # type: ignore[attr-defined]
    name_this_thread("main")
    sys.argv = ["ergobreak", *sys.argv[1:]]
    runpy.run_module("ergobreak", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
