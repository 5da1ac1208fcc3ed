"""Giving memory back after start-up and each reload must not spawn processes:
``ctypes.util.find_library`` forks ``ldconfig -p`` every time it is asked."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_release_trims_the_heap_without_spawning_anything() -> None:
    probe = textwrap.dedent(
        """
        import os, sys
        spawned = []
        real_fork = os.fork
        def fork():
            spawned.append("fork")
            return real_fork()
        os.fork = fork
        import subprocess
        subprocess.Popen.__init__ = lambda *a, **k: spawned.append("popen") or 1 / 0
        from ergobreak.daemon import memory
        trim = memory._malloc_trim()
        for _ in range(3):
            memory.release()
        print(trim is not None, "ctypes.util" in sys.modules, spawned)
        """
    )
    out = (
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=30
        )
        .stdout.strip()
        .split(maxsplit=2)
    )
    assert out == ["True", "False", "[]"]
