"""Windows: a call while an app uses the microphone or the camera, as the privacy
consent store records it (the data behind the taskbar's "in use" indicators).

Every app that asked for a capability has a key under
``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\CapabilityAccessManager\\ConsentStore\\<capability>``:
packaged (Store) apps directly, desktop programs under ``NonPackaged`` (named after
their path, ``\\`` written as ``#``). Each holds two QWORD FILETIMEs,
``LastUsedTimeStart`` and ``LastUsedTimeStop``; while the app holds the device,
``LastUsedTimeStop`` is 0 and ``LastUsedTimeStart`` is not. Windows 10 1903 or later.

Read at each call: one key open per app that ever asked (a few dozen), no thread, no
process started. ``winreg`` is imported when a detector is made (tests hand in a fake).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from ergobreak.core.events import SeatedReason
from ergobreak.platform.base import Unavailable

CONSENT_STORE = r"Software\Microsoft\Windows\CurrentVersion\CapabilityAccessManager\ConsentStore"
NON_PACKAGED = "NonPackaged"
START = "LastUsedTimeStart"
STOP = "LastUsedTimeStop"

Capability = Literal["microphone", "webcam"]
#: the detector's name for each capability key
NAMES: dict[Capability, str] = {"microphone": "microphone", "webcam": "camera"}


class ConsentStore:
    """``SeatedDetector``: a call while some app uses ``capability`` now."""

    reason: SeatedReason = "call"

    def __init__(self, capability: Capability, winreg: Any = None) -> None:
        """``winreg`` is a parameter for tests only (the real module otherwise).

        Raises:
            Unavailable: not Windows, or no consent store (Windows before 10 1903).
        """
        if winreg is None:
            try:
                winreg = importlib.import_module("winreg")
            except ImportError as exc:
                raise Unavailable("the privacy consent store exists only on Windows") from exc
        self._reg = winreg
        self.capability = capability
        self.name = NAMES[capability]
        self.path = f"{CONSENT_STORE}\\{capability}"
        try:
            self._reg.OpenKey(self._reg.HKEY_CURRENT_USER, self.path).Close()
        except OSError as exc:
            raise Unavailable(
                f"no HKCU\\{self.path} ({exc}); Windows 10 1903 or later records "
                f"{self.name} use there"
            ) from exc

    @property
    def detail(self) -> str:
        return f"apps using the {self.name} in HKCU\\{self.path}"

    def users(self) -> list[str]:
        """The apps using the device now: packaged names, ``NonPackaged\\C:#...#app.exe``.

        Raises:
            Unavailable: the consent store cannot be read any more.
        """
        reg = self._reg
        try:
            root = reg.OpenKey(reg.HKEY_CURRENT_USER, self.path)
        except OSError as exc:
            raise Unavailable(f"cannot read HKCU\\{self.path}: {exc}") from exc
        found = []
        try:
            for name in _subkeys(reg, root):
                if name == NON_PACKAGED:
                    found += [f"{name}\\{app}" for app in self._in_use_under(root, name)]
                elif self._in_use(root, name):
                    found.append(name)
        finally:
            root.Close()
        return found

    def _in_use_under(self, root: Any, name: str) -> list[str]:
        try:
            key = self._reg.OpenKey(root, name)
        except OSError:
            return []
        try:
            return [app for app in _subkeys(self._reg, key) if self._in_use(key, app)]
        finally:
            key.Close()

    def _in_use(self, parent: Any, name: str) -> bool:
        try:
            key = self._reg.OpenKey(parent, name)
        except OSError:
            return False  # removed while we looked
        try:
            start = _qword(self._reg, key, START)
            stop = _qword(self._reg, key, STOP)
        finally:
            key.Close()
        return stop == 0 and start not in (None, 0)

    def active(self) -> bool:
        return bool(self.users())

    def close(self) -> None:
        pass


def _subkeys(reg: Any, key: Any) -> Iterator[str]:
    index = 0
    while True:
        try:
            yield str(reg.EnumKey(key, index))
        except OSError:
            return  # ERROR_NO_MORE_ITEMS
        index += 1


def _qword(reg: Any, key: Any, value: str) -> int | None:
    """A QWORD value, or None when it is missing or of another type."""
    try:
        data, kind = reg.QueryValueEx(key, value)
    except OSError:
        return None
    return int(data) if kind == reg.REG_QWORD else None


def open_microphone(env: Mapping[str, str], winreg: Any = None) -> ConsentStore:
    """Apps using the microphone (``env`` is unused: the store is per user).

    Raises:
        Unavailable: not Windows 10 1903 or later.
    """
    del env
    return ConsentStore("microphone", winreg)


def open_camera(env: Mapping[str, str], winreg: Any = None) -> ConsentStore:
    """Apps using the camera (``webcam`` key), named ``camera``.

    Raises:
        Unavailable: not Windows 10 1903 or later.
    """
    del env
    return ConsentStore("webcam", winreg)
