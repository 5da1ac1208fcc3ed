"""macOS: a call while an input device is running for some process (CoreAudio).

The HAL says, per audio device, whether any process does I/O on it
(``kAudioDevicePropertyDeviceIsRunningSomewhere``). We ask it for every device that
has input streams (``kAudioDevicePropertyStreams`` on the input scope): the list of
``kAudioHardwarePropertyDevices`` of the system object, read at each call, so devices
plugged in later count. Three property reads per device, no thread, no listener.

A device with both input and output streams (most USB and Bluetooth headsets) also
runs while it only plays sound: music on a headset reads as a call. The built-in
microphone is a device of its own.

Untested on a real Mac: the unit tests hand in a fake :class:`Hal`, which checks
the calls (objects, selectors, scopes, sizes) but not the OS.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Mapping
from typing import Any, Protocol

from ergobreak.core.events import SeatedReason
from ergobreak.platform.base import Unavailable
from ergobreak.platform.macos import load_framework

FRAMEWORK = "/System/Library/Frameworks/CoreAudio.framework/CoreAudio"


def fourcc(code: str) -> int:
    """A four-character code as CoreAudio's headers write it (``'dev#'``)."""
    raw = code.encode("ascii")
    if len(raw) != 4:
        raise ValueError(f"a four-character code has 4 characters: {code!r}")
    return int.from_bytes(raw, "big")


#: kAudioObjectSystemObject
SYSTEM_OBJECT = 1
#: kAudioHardwarePropertyDevices = 'dev#': the AudioObjectIDs of all devices
DEVICES = fourcc("dev#")
#: kAudioDevicePropertyStreams = 'stm#': a device's streams in a scope
STREAMS = fourcc("stm#")
#: kAudioDevicePropertyDeviceIsRunningSomewhere = 'gone': a UInt32, nonzero while any
#: process does I/O on the device
RUNNING_SOMEWHERE = fourcc("gone")
#: kAudioObjectPropertyScopeGlobal = 'glob', kAudioObjectPropertyScopeInput = 'inpt'
SCOPE_GLOBAL = fourcc("glob")
SCOPE_INPUT = fourcc("inpt")
#: kAudioObjectPropertyElementMain (formerly ...ElementMaster)
ELEMENT_MAIN = 0
#: kAudioHardwareBadObjectError = '!obj': a device unplugged between two calls
BAD_OBJECT = fourcc("!obj")

_U32 = struct.Struct("=I")  # AudioObjectID and UInt32 in the machine's byte order


class CoreAudioError(OSError):
    """A HAL call returned a nonzero OSStatus."""

    def __init__(self, call: str, status: int) -> None:
        super().__init__(f"{call} returned OSStatus {status}")
        self.status = status


class Hal(Protocol):
    """The two HAL calls used (on the main element): sizes and data of one property.

    Both raise :class:`CoreAudioError` for a nonzero OSStatus.
    """

    def size(self, obj: int, selector: int, scope: int) -> int: ...

    def data(self, obj: int, selector: int, scope: int, size: int) -> bytes: ...


class _Address(ctypes.Structure):
    _fields_ = [
        ("mSelector", ctypes.c_uint32),
        ("mScope", ctypes.c_uint32),
        ("mElement", ctypes.c_uint32),
    ]


class CtypesHal:
    """The real HAL: AudioObjectGetPropertyDataSize / AudioObjectGetPropertyData."""

    def __init__(self) -> None:
        lib = load_framework("CoreAudio", FRAMEWORK)
        # (object, address, qualifier size, qualifier, in/out data size[, data])
        head: list[Any] = [
            ctypes.c_uint32,
            ctypes.POINTER(_Address),
            ctypes.c_uint32,
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_uint32),
        ]
        self._size: Any = lib.AudioObjectGetPropertyDataSize
        self._size.argtypes = head
        self._size.restype = ctypes.c_int32
        self._data: Any = lib.AudioObjectGetPropertyData
        self._data.argtypes = [*head, ctypes.c_void_p]
        self._data.restype = ctypes.c_int32

    def size(self, obj: int, selector: int, scope: int) -> int:
        address = _Address(selector, scope, ELEMENT_MAIN)
        out = ctypes.c_uint32(0)
        status = self._size(obj, ctypes.byref(address), 0, None, ctypes.byref(out))
        if status:
            raise CoreAudioError("AudioObjectGetPropertyDataSize", status)
        return out.value

    def data(self, obj: int, selector: int, scope: int, size: int) -> bytes:
        address = _Address(selector, scope, ELEMENT_MAIN)
        buffer = ctypes.create_string_buffer(size)
        io_size = ctypes.c_uint32(size)
        status = self._data(obj, ctypes.byref(address), 0, None, ctypes.byref(io_size), buffer)
        if status:
            raise CoreAudioError("AudioObjectGetPropertyData", status)
        return buffer.raw[: io_size.value]


def _u32s(raw: bytes) -> list[int]:
    return [value for (value,) in _U32.iter_unpack(raw[: len(raw) - len(raw) % 4])]


class CoreAudioInput:
    """``SeatedDetector``: a call while an input device runs for some process."""

    name = "microphone"
    reason: SeatedReason = "call"

    def __init__(self, hal: Hal | None = None) -> None:
        """``hal`` is a parameter for tests only.

        Raises:
            Unavailable: not macOS, or the HAL does not answer.
        """
        self._hal = hal if hal is not None else CtypesHal()
        self._inputs = 0
        self.running_inputs()  # fails now rather than at the first wake-up

    @property
    def detail(self) -> str:
        count = f"{self._inputs} input device" + ("" if self._inputs == 1 else "s")
        return f"CoreAudio input devices running for any process ({count} now)"

    def input_devices(self) -> list[int]:
        """Devices with at least one input stream.

        Raises:
            CoreAudioError: the system object's device list cannot be read.
        """
        size = self._hal.size(SYSTEM_OBJECT, DEVICES, SCOPE_GLOBAL)
        devices = _u32s(self._hal.data(SYSTEM_OBJECT, DEVICES, SCOPE_GLOBAL, size)) if size else []
        inputs = []
        for device in devices:
            try:
                if self._hal.size(device, STREAMS, SCOPE_INPUT) > 0:
                    inputs.append(device)
            except CoreAudioError:
                continue  # unplugged while we looked
        return inputs

    def running_inputs(self) -> list[int]:
        """The input devices some process runs now.

        Raises:
            Unavailable: the HAL stopped answering.
        """
        try:
            inputs = self.input_devices()
        except CoreAudioError as exc:
            raise Unavailable(f"CoreAudio lists no devices: {exc}") from exc
        self._inputs = len(inputs)
        running = []
        for device in inputs:
            try:
                raw = self._hal.data(device, RUNNING_SOMEWHERE, SCOPE_GLOBAL, _U32.size)
            except CoreAudioError:
                continue  # unplugged since the list was read
            values = _u32s(raw)
            if values and values[0]:
                running.append(device)
        return running

    def active(self) -> bool:
        return bool(self.running_inputs())

    def close(self) -> None:
        pass


def open_microphone(env: Mapping[str, str], hal: Hal | None = None) -> CoreAudioInput:
    """Input devices running for any process (``env`` is unused).

    Raises:
        Unavailable: not macOS, or CoreAudio does not answer.
    """
    del env
    return CoreAudioInput(hal)
