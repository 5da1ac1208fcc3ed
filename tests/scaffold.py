"""Scaffolding many test modules share: isolation from the machine's real files, the
command line run in-process, and small real file systems that fill up or refuse writes.

The ``isolated`` fixture (tests/conftest.py) applies :func:`isolate`; modules that use
it say so with ``pytestmark = pytest.mark.usefixtures("isolated")``.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from ergobreak import paths
from ergobreak.cli import main
from ergobreak.content import default_content, library
from ergobreak.core.content import Drill

#: the built-in drills in the order the default ``[routines]`` settings rotate them
DEFAULT_ROTATION = [
    "hipflexor_standing",
    "hinge_wall",
    "hip_circles_march",
    "glute_squeeze_backlift",
    "figure4_seated",
    "good_morning_bw",
    "leg_swings",
    "hip_abduction_standing",
]


def builtin_drill(drill_id: str) -> Drill:
    """A shipped drill by id (the test fails at once if it is gone)."""
    drill = default_content().drill(drill_id)
    assert drill is not None, drill_id
    return drill


def isolate(tmp: Path, mp: pytest.MonkeyPatch) -> None:
    """Point every file ergobreak reads or writes under ``tmp``: the user's config file
    (``tmp/home/config.toml``, not created), the XDG folders (state and history among
    them), the runtime folder, the admin policy folder (``tmp/etc/ergobreak``) and no
    content folders at all."""
    mp.setenv(paths.CONFIG_ENV, str(tmp / "home" / "config.toml"))
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        mp.setenv(var, str(tmp / "home" / var.lower()))
    mp.setenv("XDG_RUNTIME_DIR", str(tmp / "run"))
    mp.setattr(paths, "policy_dir", lambda: tmp / "etc" / "ergobreak")
    mp.setattr(library, "content_dirs", lambda: ())


class Out(io.TextIOWrapper):
    """A text stream with a chosen encoding, like a terminal's stdout."""

    def __init__(self, encoding: str = "utf-8") -> None:
        super().__init__(io.BytesIO(), encoding=encoding)

    def text(self) -> str:
        self.flush()
        buffer = self.buffer
        assert isinstance(buffer, io.BytesIO)
        return buffer.getvalue().decode(self.encoding)


def cli(*argv: str, encoding: str | None = None) -> tuple[int, str, str]:
    """``ergobreak ARGV`` in-process: exit code, standard output, standard error.

    Without ``encoding`` the streams are plain ``StringIO`` (no encoding, so output
    that depends on the terminal's takes its ASCII form); with one, stdout is a
    terminal-like stream in that encoding.
    """
    if encoding is None:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), out, err)
        return code, out.getvalue(), err.getvalue()
    term, term_err = Out(encoding), Out()
    code = main(list(argv), term, term_err)
    return code, term.text(), term_err.text()


def cannot_run(why: str) -> NoReturn:
    """A test that cannot run on this machine: skipped for a developer, a failure in CI
    (``CI`` set), where every test must run and a skip would hide a missing set-up."""
    if os.environ.get("CI"):
        pytest.fail(f"cannot run in CI: {why}")
    pytest.skip(why)


def require_root(what: str) -> None:
    """Skip (fail in CI) unless the tests run as root, which ``what`` takes."""
    if os.geteuid() != 0:
        cannot_run(f"{what} takes root")


@contextlib.contextmanager
def small_filesystem(where: Path, size: str = "64k") -> Iterator[Path]:
    """A real tmpfs of ``size`` mounted at ``where`` (created) for the block: a disk that
    fills up, or (after :func:`make_read_only`) refuses every write. Unmounted after,
    even when the test fails. Takes root, as mounting does (skipped otherwise)."""
    require_root("mounting a small file system")
    where.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where))
    try:
        yield where
    finally:
        subprocess.run(["umount", "--lazy", str(where)], check=True, capture_output=True)


def make_read_only(mounted: Path) -> None:
    """Remount a :func:`small_filesystem` read-only, keeping what was written to it."""
    _mount("-o", "remount,ro", str(mounted))


def _mount(*argv: str) -> None:
    subprocess.run(["mount", *argv], check=True, capture_output=True)


def fill_up(mounted: Path) -> Path:
    """Write to a :func:`small_filesystem` until it is full; returns the file written
    (remove it to make room again)."""
    filler = mounted / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
    finally:
        os.close(fd)
    return filler
