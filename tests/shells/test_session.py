"""The shell session harness itself, on bare sessions (buses only, no shell): whose the
processes are, what they see, that activation and monitoring work, that stop is total."""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterator

import pytest
from desktop.rig import Bus, proc_stat, wait_for

from .session import ShellSession
from .users import SYSTEM_PYTHON

DCONF = "ca.desrt.dconf"


@pytest.fixture(scope="module")
def bare() -> Iterator[ShellSession]:
    with ShellSession("bare", {"XDG_CURRENT_DESKTOP": "test"}, system_bus=True) as session:
        yield session


def uid_of(pid: int) -> int:
    return os.stat(f"/proc/{pid}").st_uid


def test_processes_run_as_the_test_user_in_a_private_runtime_dir(bare: ShellSession) -> None:
    runtime = bare.runtime_dir.stat()
    assert (runtime.st_uid, runtime.st_mode & 0o777) == (bare.user.uid, 0o700)
    assert bare.home.stat().st_uid == bare.user.uid
    if os.geteuid() == 0:
        assert pwd.getpwuid(bare.user.uid).pw_name == "ergobreak-test"
    for proc in bare.procs:  # the buses
        assert uid_of(proc.pid) == bare.user.uid, proc


def test_nothing_of_the_parent_session_leaks_in(
    bare: ShellSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    for leaky in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_PID", "SESSION_MANAGER"):
        monkeypatch.setenv(leaky, "from-the-parent")
    seen = dict(line.split("=", 1) for line in bare.run("env").stdout.splitlines() if "=" in line)
    assert "from-the-parent" not in seen.values()
    assert seen["XDG_RUNTIME_DIR"] == str(bare.runtime_dir)
    assert seen["DBUS_SESSION_BUS_ADDRESS"] == bare.bus_address
    assert seen["DBUS_SYSTEM_BUS_ADDRESS"] == bare.system_bus_address
    assert seen["HOME"] == str(bare.home)
    assert seen["XDG_CURRENT_DESKTOP"] == "test"


def test_dbus_activation_works_and_the_tests_can_monitor_it(bare: ShellSession) -> None:
    monitor = bare.monitor()
    bare.bus.call_bus("StartServiceByName", DCONF)
    pid = bare.wait_bus_name(DCONF, 10)
    assert bare.belongs(pid)
    assert uid_of(pid) == bare.user.uid
    calls = monitor.wait(member="StartServiceByName", kind="method_call")
    assert calls[0].body[0] == DCONF
    monitor.close()


def test_the_private_system_bus_takes_anyone(bare: ShellSession) -> None:
    with Bus(bare.system_bus_address) as system:
        assert system.call_bus("GetId")[0]
    code = "import os; print(os.environ['DBUS_SYSTEM_BUS_ADDRESS'])"
    out = bare.run("/usr/bin/python3", "-c", code).stdout.strip()
    assert out == bare.system_bus_address


def test_ergobreak_runs_as_the_test_user(bare: ShellSession) -> None:
    argv = bare.ergobreak_argv("--version")
    if not bare.user.is_current:
        assert argv[0] == SYSTEM_PYTHON  # ours may be unreadable for the user
    code, out, err = bare.cli("--version")
    assert code == 0, err
    assert out.strip()


def test_stop_ends_even_what_escaped_into_its_own_session() -> None:
    session = ShellSession("escape").start()
    try:
        session.spawn("forker", ["sh", "-c", "setsid sleep 300 & echo $! > escaped; wait"])
        pid_file = session.home / "escaped"
        wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), 5)
        escaped = int(pid_file.read_text())
        assert escaped in [p.pid for p in session.members()]
        before = proc_stat(escaped)
        assert before is not None
    finally:
        session.stop()
    after = proc_stat(escaped)
    assert after is None or after.start != before.start or after.state in "ZX"
    assert not session.state_dir.exists()
