"""Who runs the shells, and which Python runs ergobreak for them.

Shells must run as an ordinary user: sway refuses root and dbus-daemon refuses a uid with
no passwd entry. As root (CI) that is a system user made here on first use; otherwise it
is the developer themself. The checkout and its venv may sit under a 0700 /root, so for
another user ergobreak runs from Debian's ``/usr/bin/python3`` with a readable copy of the
package and its runtime dependencies (:func:`python_tree`).
"""

from __future__ import annotations

import atexit
import functools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

#: the system user the shells run as when the tests run as root
USER_NAME = "ergobreak-test"
#: Debian's interpreter, used when the test user cannot execute ours
SYSTEM_PYTHON = "/usr/bin/python3"
#: the package whose source (and runtime dependencies) the test user gets a copy of
PACKAGE = "ergobreak"


@dataclass(frozen=True)
class ShellUser:
    name: str
    uid: int
    gid: int

    @property
    def is_current(self) -> bool:
        return self.uid == os.geteuid()

    def become(self) -> list[str]:
        """argv prefix that runs a command as this user (nothing to change if current)."""
        if self.is_current:
            return []
        return [f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups"]

    def own(self, *paths: Path) -> None:
        """Hand files the tests wrote (as root) over to the user."""
        if self.is_current:
            return
        for path in paths:
            os.chown(path, self.uid, self.gid, follow_symlinks=False)


@functools.cache
def test_user() -> ShellUser:
    """The user shells run as: :data:`USER_NAME` (created if missing) under root, else us."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return ShellUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
    try:
        entry = pwd.getpwnam(USER_NAME)
    except KeyError:
        # another pytest may create it at the same moment: its success is ours too
        subprocess.run(
            [
                *("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent"),
                *("--shell", "/usr/sbin/nologin", USER_NAME),
            ],
            check=False,
            capture_output=True,
        )
        entry = pwd.getpwnam(USER_NAME)
    return ShellUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


def python_for(user: ShellUser) -> tuple[str, dict[str, str]]:
    """Interpreter and extra environment that run ``python -m ergobreak`` as ``user``."""
    if user.is_current:
        return sys.executable, {}
    return system_python(), {"PYTHONPATH": str(python_tree()), "PYTHONDONTWRITEBYTECODE": "1"}


@functools.cache
def system_python() -> str:
    """/usr/bin/python3, checked to be our CPython minor (compiled wheels must load)."""
    ours = f"{sys.version_info.major}.{sys.version_info.minor}"
    try:
        theirs = subprocess.run(
            [SYSTEM_PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError(f"{SYSTEM_PYTHON} cannot run ({exc}): apt-get install python3") from exc
    if theirs != ours:
        raise RuntimeError(
            f"the test user runs ergobreak with {SYSTEM_PYTHON} (Python {theirs}), but the "
            f"dependencies come from this venv (Python {ours}): run the tests with a "
            f"Python {theirs} venv"
        )
    return SYSTEM_PYTHON


@functools.cache
def python_tree() -> Path:
    """A world-readable directory holding ergobreak's source and its runtime dependencies
    (found through importlib.metadata, recursively), built once per test run."""
    root = Path(tempfile.mkdtemp(prefix="ergobreak-shells-python-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    source = Path(__import__(PACKAGE).__file__ or "").parent
    shutil.copytree(source, root / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    for dist in runtime_distributions(PACKAGE):
        _copy_distribution(dist, root)
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def runtime_distributions(name: str) -> list[metadata.Distribution]:
    """The distributions ``name`` needs at run time (not extras), transitively."""
    seen: dict[str, metadata.Distribution] = {}
    todo = [name]
    while todo:
        dist = metadata.distribution(todo.pop())
        for spec in dist.requires or ():
            req = Requirement(spec)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            key = req.name.lower().replace("_", "-")
            if key not in seen:
                seen[key] = metadata.distribution(req.name)
                todo.append(req.name)
    return list(seen.values())


def _copy_distribution(dist: metadata.Distribution, root: Path) -> None:
    base = Path(str(dist.locate_file(""))).resolve()
    for file in dist.files or ():
        if ".." in file.parts or file.suffix == ".pyc":
            continue  # console scripts live outside site-packages
        target = root / file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(base / file, target)
