"""Windows and macOS ctypes wrappers against fake function tables, and the Linux camera
detector against real processes holding a file open.

The Windows/macOS tests check our side of each call (struct layout, arguments, the
32-bit tick wrap, error results); they cannot show the OS answers as documented --
those adapters are untested on real machines (docs/platforms.md).
"""

from __future__ import annotations

import ctypes
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ergobreak.platform import macos, windows
from ergobreak.platform.base import Unavailable
from ergobreak.platform.camera import CameraInUse
from ergobreak.platform.timejump import TimeJump


def _target(ref: Any) -> Any:
    """The object behind ``ctypes.byref(obj)``, as a real DLL would write through it."""
    return ref._obj


class FakeWin32:
    def __init__(self, last_input: int, now: int, state: int = 5, hresult: int = 0) -> None:
        self.last_input = last_input
        self.now = now
        self.state = state
        self.hresult = hresult
        self.ok = 1
        self.sizes: list[int] = []
        self.unbiased = 0
        self.ticks64 = 0

    def GetLastInputInfo(self, ref: Any) -> int:
        info = _target(ref)
        assert isinstance(info, windows.LASTINPUTINFO)
        self.sizes.append(info.cbSize)
        info.dwTime = self.last_input
        return self.ok

    def GetTickCount(self) -> int:
        return self.now

    def SHQueryUserNotificationState(self, ref: Any) -> int:
        value = _target(ref)
        assert isinstance(value, ctypes.c_int)
        value.value = self.state
        return self.hresult

    def QueryUnbiasedInterruptTime(self, ref: Any) -> int:
        _target(ref).value = self.unbiased
        return 1

    def GetTickCount64(self) -> int:
        return self.ticks64

    def table(self) -> windows.Win32:
        return windows.Win32(
            GetLastInputInfo=self.GetLastInputInfo,
            GetTickCount=self.GetTickCount,
            SHQueryUserNotificationState=self.SHQueryUserNotificationState,
            QueryUnbiasedInterruptTime=self.QueryUnbiasedInterruptTime,
            GetTickCount64=self.GetTickCount64,
        )


def test_windows_idle_from_last_input_tick() -> None:
    fake = FakeWin32(last_input=1_000_000, now=1_012_500)
    idle = windows.WindowsIdle(fake.table())
    assert idle.idle_seconds() == 12.5
    assert fake.sizes[-1] == ctypes.sizeof(windows.LASTINPUTINFO) == 8


def test_windows_idle_survives_the_49_day_tick_wrap() -> None:
    fake = FakeWin32(last_input=0xFFFF_FC18, now=2_000)  # input 1 s before the wrap
    assert windows.WindowsIdle(fake.table()).idle_seconds() == 3.0


def test_windows_idle_failure_is_unavailable() -> None:
    fake = FakeWin32(0, 0)
    idle = windows.WindowsIdle(fake.table())
    fake.ok = 0
    with pytest.raises(Unavailable, match="GetLastInputInfo failed"):
        idle.idle_seconds()


@pytest.mark.parametrize(
    ("state", "quiet"),
    [(1, False), (2, True), (3, True), (4, True), (5, False), (6, True), (7, True)],
)
def test_windows_busy_states(state: int, quiet: bool) -> None:
    busy = windows.WindowsBusy(FakeWin32(0, 0, state=state).table())
    assert busy.active() is quiet
    assert state in windows.QUNS_NAMES


def test_windows_busy_error_hresult() -> None:
    fake = FakeWin32(0, 0)
    busy = windows.WindowsBusy(fake.table())
    fake.hresult = -2147467259  # E_FAIL as a signed HRESULT
    with pytest.raises(Unavailable, match="HRESULT 0x80004005"):
        busy.active()


def test_windows_sleep_clocks_feed_the_time_jump() -> None:
    fake = FakeWin32(0, 0)
    clocks = windows.sleep_clocks(fake.table())
    assert clocks is not None
    jump = TimeJump(*clocks)
    fake.unbiased += 60 * 10**7  # 60 s awake, in 100 ns units
    fake.ticks64 += 60_000 + 3_600_000  # plus an hour asleep
    assert jump.check() == pytest.approx(3600.0)


def test_windows_loader_refuses_other_platforms() -> None:
    with pytest.raises(Unavailable, match="not Windows"):
        windows.load_win32()
    assert windows.sleep_clocks() is None


def test_macos_idle_calls_coregraphics_with_hid_state_and_any_input() -> None:
    calls: list[tuple[int, int]] = []

    def seconds_since(state: int, event_type: int) -> float:
        calls.append((state, event_type))
        return 42.25

    idle = macos.MacIdle(seconds_since)
    assert idle.idle_seconds() == 42.25
    assert calls[-1] == (1, 0xFFFFFFFF)


@pytest.mark.parametrize("bad", [float("nan"), -1.0, float("inf")])
def test_macos_nonsense_reading_is_unavailable(bad: float) -> None:
    answers = iter([1.0, bad])
    idle = macos.MacIdle(lambda _s, _t: next(answers))
    with pytest.raises(Unavailable, match="idle time"):
        idle.idle_seconds()


def test_macos_loader_refuses_other_platforms() -> None:
    with pytest.raises(Unavailable, match="not macOS"):
        macos.load_seconds_since()


# --------------------------------------------------------------------------- camera


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """A real process holding a stand-in camera device open, stopped by PID after."""
    device = tmp_path / "video0"
    device.write_bytes(b"")
    code = "import sys; f = open(sys.argv[1], 'rb'); print('open', flush=True); sys.stdin.read()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(device)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"open\n"  # the file is open from here on
        yield device, proc
    finally:
        proc.kill()
        proc.wait(5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


def test_camera_in_use_while_a_process_holds_the_device(
    holder: tuple[Path, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    device, proc = holder
    camera = CameraInUse(devices=str(tmp_path / "video*"))
    assert camera.holders() == [proc.pid]
    assert camera.active()
    assert camera.detail == f"watching {device}"
    assert proc.stdin is not None
    proc.stdin.close()  # the call ends: the process exits and lets go
    proc.wait(5)
    assert not camera.active()


def test_camera_with_no_device_is_not_quiet(tmp_path: Path) -> None:
    camera = CameraInUse(devices=str(tmp_path / "video*"))
    assert camera.holders() == []
    assert not camera.active()
    assert camera.detail == f"no {tmp_path / 'video*'} device now"


def test_camera_needs_proc(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="no per-process fd lists"):
        CameraInUse(proc=str(tmp_path))
