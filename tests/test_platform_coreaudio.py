"""platform/coreaudio.py with a fake HAL (no Mac here): the property addresses asked,
byte for byte, and what makes a call."""

from __future__ import annotations

import struct

import pytest

from ergobreak.platform import coreaudio
from ergobreak.platform.base import SeatedDetector, Unavailable
from ergobreak.platform.coreaudio import CoreAudioError

WHO = 0x77686F3F  # kAudioHardwareUnknownPropertyError 'who?'


class FakeHal:
    """Properties keyed by (object, selector, scope); a missing one is 'who?'."""

    def __init__(self) -> None:
        self.props: dict[tuple[int, int, int], bytes] = {}
        self.calls: list[tuple[str, int, int, int]] = []

    def set(self, obj: int, selector: str, scope: str, *values: int) -> None:
        key = (obj, coreaudio.fourcc(selector), coreaudio.fourcc(scope))
        self.props[key] = struct.pack(f"={len(values)}I", *values)

    def size(self, obj: int, selector: int, scope: int) -> int:
        self.calls.append(("size", obj, selector, scope))
        if (obj, selector, scope) not in self.props:
            raise CoreAudioError("AudioObjectGetPropertyDataSize", WHO)
        return len(self.props[obj, selector, scope])

    def data(self, obj: int, selector: int, scope: int, size: int) -> bytes:
        self.calls.append(("data", obj, selector, scope))
        if (obj, selector, scope) not in self.props:
            raise CoreAudioError("AudioObjectGetPropertyData", WHO)
        return self.props[obj, selector, scope][:size]


def test_the_four_character_codes_are_the_headers() -> None:
    assert coreaudio.DEVICES == 0x64657623  # 'dev#'
    assert coreaudio.STREAMS == 0x73746D23  # 'stm#'
    assert coreaudio.RUNNING_SOMEWHERE == 0x676F6E65  # 'gone'
    assert coreaudio.SCOPE_GLOBAL == 0x676C6F62  # 'glob'
    assert coreaudio.SCOPE_INPUT == 0x696E7074  # 'inpt'
    assert (coreaudio.SYSTEM_OBJECT, coreaudio.ELEMENT_MAIN) == (1, 0)
    with pytest.raises(ValueError, match="4 characters"):
        coreaudio.fourcc("dev")


@pytest.fixture
def hal() -> FakeHal:
    hal = FakeHal()
    hal.set(1, "dev#", "glob", 40, 41, 42)  # mic, speakers, headset
    hal.set(40, "stm#", "inpt", 400)
    hal.set(41, "stm#", "inpt")  # output only: no input streams
    hal.set(42, "stm#", "inpt", 420, 421)
    for device in (40, 41, 42):
        hal.set(device, "gone", "glob", 0)
    return hal


def test_an_input_device_running_somewhere_is_a_call(hal: FakeHal) -> None:
    detector: SeatedDetector = coreaudio.open_microphone({}, hal=hal)
    assert (detector.name, detector.reason) == ("microphone", "call")
    assert (
        detector.detail == "CoreAudio input devices running for any process (2 input devices now)"
    )
    assert detector.active() is False
    hal.set(41, "gone", "glob", 1)  # the speakers play: no call
    assert detector.active() is False
    hal.set(42, "gone", "glob", 1)
    assert isinstance(detector, coreaudio.CoreAudioInput)
    assert detector.running_inputs() == [42]
    hal.set(42, "gone", "glob", 0)
    assert detector.active() is False


def test_each_property_is_asked_at_the_right_address(hal: FakeHal) -> None:
    detector = coreaudio.CoreAudioInput(hal)
    hal.calls.clear()
    detector.active()
    dev, stm, gone = coreaudio.DEVICES, coreaudio.STREAMS, coreaudio.RUNNING_SOMEWHERE
    glob, inpt = coreaudio.SCOPE_GLOBAL, coreaudio.SCOPE_INPUT
    assert hal.calls == [
        ("size", 1, dev, glob),
        ("data", 1, dev, glob),
        ("size", 40, stm, inpt),
        ("size", 41, stm, inpt),
        ("size", 42, stm, inpt),
        ("data", 40, gone, glob),
        ("data", 42, gone, glob),
    ]


def test_a_device_unplugged_meanwhile_is_skipped(hal: FakeHal) -> None:
    detector = coreaudio.CoreAudioInput(hal)
    hal.set(40, "gone", "glob", 1)
    del hal.props[42, coreaudio.STREAMS, coreaudio.SCOPE_INPUT]
    del hal.props[40, coreaudio.RUNNING_SOMEWHERE, coreaudio.SCOPE_GLOBAL]
    assert detector.active() is False
    assert detector.detail.endswith("(1 input device now)")  # 40 is still listed


def test_no_device_list_is_unavailable(hal: FakeHal) -> None:
    detector = coreaudio.CoreAudioInput(hal)
    del hal.props[1, coreaudio.DEVICES, coreaudio.SCOPE_GLOBAL]
    with pytest.raises(Unavailable, match="OSStatus 2003332927"):
        detector.active()
    with pytest.raises(Unavailable, match="lists no devices"):
        coreaudio.CoreAudioInput(hal)


def test_no_devices_at_all_is_no_call() -> None:
    hal = FakeHal()
    hal.props[1, coreaudio.DEVICES, coreaudio.SCOPE_GLOBAL] = b""
    assert coreaudio.CoreAudioInput(hal).active() is False


def test_the_real_hal_is_macos_only() -> None:
    with pytest.raises(Unavailable, match="not macOS"):
        coreaudio.open_microphone({})
