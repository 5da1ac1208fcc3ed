"""The systemd user unit: checked by the real ``systemd-analyze verify --user``
(Debian's systemd package, listed in tests/debian-packages.txt), and the enable,
disable and mask flows on a scratch config directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ergobreak.autostart.base import AutostartError, Entry
from ergobreak.autostart.systemd import (
    TARGET,
    UNIT,
    SystemdUserUnit,
    exec_start,
    quote_arg,
    render,
)

ANALYZE = shutil.which("systemd-analyze")


def program(tmp_path: Path, name: str) -> Path:
    """An executable to point ExecStart at: verify checks that it exists."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def verify(unit_dir: Path, tmp_path: Path) -> str:
    """``systemd-analyze verify --user``; returns its complaints ("" when clean)."""
    assert ANALYZE, "systemd-analyze missing: install Debian's systemd package"
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    done = subprocess.run(
        [ANALYZE, "verify", "--user", str(unit_dir / UNIT)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr.strip()


@pytest.fixture
def unit(tmp_path: Path) -> SystemdUserUnit:
    calls: list[str] = []
    return SystemdUserUnit(
        tmp_path / "cfg" / "systemd" / "user",
        system_dirs=[tmp_path / "etc" / "systemd" / "user"],
        reload=lambda: calls.append("reload") or "reloaded",  # type: ignore[func-returns-value]
    )


@pytest.mark.parametrize(
    "name",
    [
        "bin/ergobreak",
        "Ergo Break/bin/ergobreak",
        "$HOME 100%/bin/ergobreak",  # verify finds the file: no $ or % mangling
        'it\'s \\ "q"/ergobreak',  # systemd refuses these in a path: run through env
    ],
)
def test_unit_passes_systemd_analyze_verify(tmp_path: Path, name: str) -> None:
    exe = program(tmp_path, name)
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    args = (str(exe), "run", "--set", "x=$1 50%")
    (unit_dir / UNIT).write_text(render(Entry(args)), "utf-8")
    assert verify(unit_dir, tmp_path) == ""
    assert '"x=$$1 50%%"' in exec_start(args)
    assert exec_start(args).startswith("/usr/bin/env ") == ("'" in name)


def test_verify_notices_a_missing_program(tmp_path: Path) -> None:
    """The check above has teeth: a bad ExecStart fails it."""
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    (unit_dir / UNIT).write_text(render(Entry(("/nonexistent/ergobreak", "run"))), "utf-8")
    with pytest.raises(AssertionError, match="not executable"):
        verify(unit_dir, tmp_path)


def test_unit_is_bound_to_the_graphical_session() -> None:
    text = render(Entry(("/usr/local/bin/ergobreak", "run", "--autostart")))
    lines = text.splitlines()
    for line in (f"PartOf={TARGET}", f"After={TARGET}", f"WantedBy={TARGET}"):
        assert line in lines
    assert "Restart=on-failure" in lines
    assert "ExecStart=/usr/local/bin/ergobreak run --autostart" in lines


def test_exec_words_double_dollar_and_percent() -> None:
    assert quote_arg("/usr/bin/ergobreak") == "/usr/bin/ergobreak"
    assert quote_arg("$HOME") == '"$$HOME"'
    assert quote_arg("/a$b/x", executable=True) == '"/a$b/x"'
    assert quote_arg("50%") == '"50%%"'
    assert quote_arg('a "b"\\') == '"a \\"b\\"\\\\"'


def test_enable_writes_the_unit_and_the_wants_link(unit: SystemdUserUnit, tmp_path: Path) -> None:
    exe = program(tmp_path, "bin/ergobreak")
    change = unit.enable(Entry((str(exe), "run", "--autostart")))
    assert change.actions == (f"wrote {unit.unit}", f"linked {unit.wants}")
    assert change.notes == ("reloaded",)
    assert unit.wants.resolve() == unit.unit.resolve()
    assert verify(unit.unit.parent, tmp_path) == ""
    status = unit.status()
    assert status.enabled
    assert [(f.scope, f.kind) for f in status.found] == [("user", "entry")]
    assert not unit.enable(Entry((str(exe), "run", "--autostart"))).changed


def test_disable_removes_both(unit: SystemdUserUnit) -> None:
    unit.enable(Entry(("/bin/true",)))
    change = unit.disable()
    assert change.actions == (f"removed {unit.wants}", f"removed {unit.unit}")
    assert not unit.unit.exists()
    assert not unit.wants.is_symlink()
    assert not unit.status().enabled
    assert not unit.disable().changed


def test_a_masked_unit_is_reported_and_left_alone(unit: SystemdUserUnit) -> None:
    unit.unit.parent.mkdir(parents=True)
    unit.unit.symlink_to(os.devnull)
    status = unit.status()
    assert not status.enabled
    assert status.found[0].kind == "override"
    assert not unit.disable().changed
    assert unit.unit.is_symlink()


def test_a_unit_without_the_link_is_not_enabled(unit: SystemdUserUnit) -> None:
    unit.enable(Entry(("/bin/true",)))
    unit.wants.unlink()
    status = unit.status()
    assert not status.enabled
    assert "not enabled" in (status.found[0].note or "")


def test_system_scope_is_refused(unit: SystemdUserUnit) -> None:
    with pytest.raises(AutostartError, match="per user"):
        unit.enable(Entry(("/bin/true",)), system=True)
    with pytest.raises(AutostartError):
        unit.disable(system=True)


def test_an_admins_unit_is_reported(unit: SystemdUserUnit, tmp_path: Path) -> None:
    etc = tmp_path / "etc" / "systemd" / "user"
    (etc / f"{TARGET}.wants").mkdir(parents=True)
    (etc / UNIT).write_text(render(Entry(("/bin/true",))), "utf-8")
    (etc / f"{TARGET}.wants" / UNIT).symlink_to(etc / UNIT)
    status = unit.status()
    assert status.enabled
    assert status.system
