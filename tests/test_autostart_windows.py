"""The Windows Run-key writer and reader against an in-memory registry.

Not tested here: the winreg adapter (:class:`WinRegistry`) itself and what Windows
does at login -- this suite runs on Linux. The StartupApproved encoding (``02...``
on, ``03...`` off) is from observation of Task Manager, not from Microsoft's
documentation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ergobreak.autostart.base import AutostartError, Entry, default_argv
from ergobreak.autostart.windows import (
    APPROVED_KEY,
    RUN_KEY,
    VALUE,
    Hive,
    WindowsRun,
    approved,
    command_line,
)

EXE = r"C:\Program Files\ergobreak\venv\Scripts\pythonw.exe"
ENTRY = Entry((EXE, "-m", "ergobreak", "run", "--autostart"))
OFF = bytes.fromhex("03000000d40d438dc83bd901")
ON = bytes(12).replace(b"\x00", b"\x02", 1)


class FakeRegistry:
    def __init__(self) -> None:
        self.values: dict[tuple[Hive, str, str], object] = {}

    def read(self, hive: Hive, key: str, name: str) -> object | None:
        return self.values.get((hive, key.lower(), name.lower()))

    def write_string(self, hive: Hive, key: str, name: str, data: str) -> None:
        self.values[hive, key.lower(), name.lower()] = data

    def delete(self, hive: Hive, key: str, name: str) -> bool:
        return self.values.pop((hive, key.lower(), name.lower()), None) is not None

    def set(self, hive: Hive, key: str, data: object) -> None:
        self.values[hive, key.lower(), VALUE] = data


@pytest.fixture
def reg() -> FakeRegistry:
    return FakeRegistry()


def test_startup_approved_decoding() -> None:
    assert approved(ON) is True
    assert approved(OFF) is False
    assert approved(bytes.fromhex("060000000000000000000000")) is None  # unknown: say so
    assert approved(b"") is None
    assert approved("02") is None


def test_command_line_quotes_paths_with_spaces() -> None:
    line = command_line(ENTRY.argv)
    assert line == f'"{EXE}" -m ergobreak run --autostart'


def test_default_command_prefers_pythonw(tmp_path: Path) -> None:
    scripts = tmp_path / "Scripts"
    scripts.mkdir()
    (scripts / "python.exe").write_bytes(b"")
    (scripts / "pythonw.exe").write_bytes(b"")
    argv = default_argv("ergobreak", str(scripts / "python.exe"), "win32")
    assert argv == (str(scripts / "pythonw.exe"), "-m", "ergobreak", "run", "--autostart")


def test_enable_for_the_user_writes_hkcu_once(reg: FakeRegistry) -> None:
    run = WindowsRun(reg)
    change = run.enable(ENTRY)
    assert change.actions == (rf"wrote HKCU\{RUN_KEY}\{VALUE} = {command_line(ENTRY.argv)}",)
    assert reg.read("HKCU", RUN_KEY, VALUE) == command_line(ENTRY.argv)
    assert run.status().enabled
    assert not run.enable(ENTRY).changed


def test_enable_for_everyone_writes_hklm(reg: FakeRegistry) -> None:
    run = WindowsRun(reg)
    run.enable(ENTRY, system=True)
    assert reg.read("HKLM", RUN_KEY, VALUE) == command_line(ENTRY.argv)
    assert reg.read("HKCU", RUN_KEY, VALUE) is None
    status = run.status()
    assert status.enabled
    assert status.system
    # a user's enable adds nothing on top of the machine-wide entry
    change = run.enable(ENTRY)
    assert not change.changed
    assert "already started" in change.notes[0]


def test_task_manager_switch_off_is_reported_not_deleted(reg: FakeRegistry) -> None:
    run = WindowsRun(reg)
    run.enable(ENTRY)
    reg.set("HKCU", APPROVED_KEY, OFF)
    status = run.status()
    assert not status.enabled
    entry, override = status.found
    assert (entry.kind, entry.enabled) == ("entry", False)
    assert override.kind == "override"
    assert "Task Manager" in (override.note or "")
    # re-enabling writes nothing over the user's choice and says where to undo it
    change = run.enable(ENTRY)
    assert "switches it off" in change.notes[-1]
    assert reg.read("HKCU", APPROVED_KEY, VALUE) == OFF


def test_the_switch_off_outlives_a_reinstall(reg: FakeRegistry) -> None:
    run = WindowsRun(reg)
    reg.set("HKCU", APPROVED_KEY, OFF)
    change = run.enable(ENTRY)
    assert change.changed
    assert not run.status().enabled


def test_disable_deletes_the_users_value(reg: FakeRegistry) -> None:
    run = WindowsRun(reg)
    run.enable(ENTRY)
    assert run.disable().actions == (rf"removed HKCU\{RUN_KEY}\{VALUE}",)
    assert not run.status().enabled
    assert not run.disable().changed


def test_a_user_cannot_remove_the_machine_entry(reg: FakeRegistry) -> None:
    run = WindowsRun(reg)
    run.enable(ENTRY, system=True)
    with pytest.raises(AutostartError, match="Task Manager"):
        run.disable()
    assert reg.read("HKLM", RUN_KEY, VALUE) is not None
    assert run.disable(system=True).changed
    assert reg.read("HKLM", RUN_KEY, VALUE) is None


def test_a_machine_entry_switched_off_machine_wide(reg: FakeRegistry) -> None:
    run = WindowsRun(reg)
    run.enable(ENTRY, system=True)
    reg.set("HKLM", APPROVED_KEY, OFF)
    status = run.status()
    assert not status.enabled
    assert not status.system
