"""platform/consent_store.py with a fake ``winreg``: a dict tree laid out as Windows
lays out the consent store (packaged apps, ``NonPackaged`` desktop programs)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from ergobreak.platform import consent_store
from ergobreak.platform.base import SeatedDetector, Unavailable

REG_DWORD = 4
REG_QWORD = 11
#: a FILETIME of 2026 (100 ns since 1601)
WHEN = 134_000_000_000_000_000


class Node:
    def __init__(self, **values: tuple[object, int]) -> None:
        self.keys: dict[str, Node] = {}
        self.values = dict(values)

    def add(self, path: str, node: Node | None = None) -> Node:
        parent = self
        *parents, last = path.split("\\")
        for part in parents:
            parent = parent.keys.setdefault(part, Node())
        parent.keys[last] = node if node is not None else Node()
        return parent.keys[last]


class Handle:
    def __init__(self, reg: FakeWinreg, node: Node) -> None:
        self.reg, self.node = reg, node
        reg.open += 1

    def Close(self) -> None:
        self.reg.open -= 1


class FakeWinreg:
    """The part of ``winreg`` the adapter uses; keys are matched case-insensitively."""

    REG_DWORD = REG_DWORD
    REG_QWORD = REG_QWORD

    def __init__(self) -> None:
        self.HKEY_CURRENT_USER = Node()
        self.open = 0

    def OpenKey(self, key: Node | Handle, sub: str) -> Handle:
        node = key.node if isinstance(key, Handle) else key
        for part in sub.split("\\"):
            match = [v for k, v in node.keys.items() if k.lower() == part.lower()]
            if not match:
                raise FileNotFoundError(2, "The system cannot find the file specified")
            node = match[0]
        return Handle(self, node)

    def EnumKey(self, key: Handle, index: int) -> str:
        names = list(key.node.keys)
        if index >= len(names):
            raise OSError(259, "No more data is available")
        return names[index]

    def QueryValueEx(self, key: Handle, name: str) -> tuple[object, int]:
        if name not in key.node.values:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return key.node.values[name]


def app(start: int, stop: int) -> Node:
    return Node(LastUsedTimeStart=(start, REG_QWORD), LastUsedTimeStop=(stop, REG_QWORD))


def store(reg: FakeWinreg, capability: str) -> Node:
    return reg.HKEY_CURRENT_USER.add(f"{consent_store.CONSENT_STORE}\\{capability}")


@pytest.fixture
def reg() -> FakeWinreg:
    reg = FakeWinreg()
    mic = store(reg, "microphone")
    mic.add("Microsoft.WindowsSoundRecorder_8wekyb3d8bbwe", app(WHEN, WHEN + 10))
    mic.add("NonPackaged\\C:#Program Files#Zoom#bin#Zoom.exe", app(WHEN, WHEN + 99))
    mic.add("MicrosoftTeams_8wekyb3d8bbwe", Node(Value=("Allow", 1)))  # never used
    cam = store(reg, "webcam")
    cam.add("Microsoft.WindowsCamera_8wekyb3d8bbwe", app(WHEN, WHEN + 5))
    return reg


def test_an_app_using_the_microphone_now_is_a_call(reg: FakeWinreg) -> None:
    detector: SeatedDetector = consent_store.open_microphone({}, winreg=reg)
    assert (detector.name, detector.reason) == ("microphone", "call")
    assert detector.detail == (
        "apps using the microphone in HKCU\\Software\\Microsoft\\Windows\\CurrentVersion"
        "\\CapabilityAccessManager\\ConsentStore\\microphone"
    )
    assert detector.active() is False

    mic = reg.HKEY_CURRENT_USER.add(f"{consent_store.CONSENT_STORE}\\microphone\\NonPackaged")
    mic.keys["C:#Program Files#Zoom#bin#Zoom.exe"] = app(WHEN + 100, 0)
    assert isinstance(detector, consent_store.ConsentStore)
    assert detector.users() == ["NonPackaged\\C:#Program Files#Zoom#bin#Zoom.exe"]
    assert detector.active() is True
    mic.keys["C:#Program Files#Zoom#bin#Zoom.exe"] = app(WHEN + 100, WHEN + 200)
    assert detector.active() is False
    assert reg.open == 0  # every key closed again


def test_a_packaged_app_counts_and_the_camera_is_its_own_detector(reg: FakeWinreg) -> None:
    microphone = consent_store.ConsentStore("microphone", reg)
    camera = consent_store.open_camera({}, winreg=reg)
    assert (camera.name, camera.reason, camera.capability) == ("camera", "call", "webcam")
    cam = reg.HKEY_CURRENT_USER.add(f"{consent_store.CONSENT_STORE}\\webcam")
    cam.keys["Microsoft.WindowsCamera_8wekyb3d8bbwe"] = app(WHEN + 1, 0)
    assert camera.users() == ["Microsoft.WindowsCamera_8wekyb3d8bbwe"]
    assert microphone.active() is False  # the camera in use says nothing of the mic
    assert reg.open == 0


@pytest.mark.parametrize(
    ("values", "in_use"),
    [
        ({"LastUsedTimeStart": (WHEN, REG_QWORD), "LastUsedTimeStop": (0, REG_QWORD)}, True),
        ({"LastUsedTimeStart": (0, REG_QWORD), "LastUsedTimeStop": (0, REG_QWORD)}, False),
        ({"LastUsedTimeStop": (0, REG_QWORD)}, False),  # never started
        ({"LastUsedTimeStart": (WHEN, REG_QWORD)}, False),  # no stop value: not the format
        ({"LastUsedTimeStart": (WHEN, REG_QWORD), "LastUsedTimeStop": (0, REG_DWORD)}, False),
        ({"LastUsedTimeStart": (WHEN, REG_QWORD), "LastUsedTimeStop": (1, REG_QWORD)}, False),
    ],
)
def test_in_use_means_started_and_stop_zero(values: dict[str, Any], in_use: bool) -> None:
    reg = FakeWinreg()
    store(reg, "microphone").add("NonPackaged\\C:#app.exe", Node(**values))
    assert consent_store.ConsentStore("microphone", reg).active() is in_use


def test_no_consent_store_is_unavailable_and_losing_it_too(reg: FakeWinreg) -> None:
    empty = FakeWinreg()
    with pytest.raises(Unavailable, match="Windows 10 1903 or later"):
        consent_store.open_microphone({}, winreg=empty)
    detector = consent_store.ConsentStore("microphone", reg)
    del reg.HKEY_CURRENT_USER.keys["Software"]
    with pytest.raises(Unavailable, match="cannot read"):
        detector.active()


def test_winreg_is_imported_only_on_windows() -> None:
    assert "winreg" not in sys.modules
    with pytest.raises(Unavailable, match="only on Windows"):
        consent_store.open_microphone({})
