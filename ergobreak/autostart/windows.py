"""Windows: the ``ergobreak`` value under ``HKCU`` / ``HKLM``
``Software\\Microsoft\\Windows\\CurrentVersion\\Run``.

All logic works on a :class:`Registry` (three calls); :class:`WinRegistry` is the
thin winreg adapter, so everything else is tested on any OS with a dict.

Task Manager's "Startup apps" does not touch the Run value: it writes a 12-byte
value of the same name under ``...\\Explorer\\StartupApproved\\Run`` in the same hive.
Observed (not documented by Microsoft, unverified here): first byte ``02`` = on,
``03`` = off (the other bytes hold when it was switched off). The value outlives
the Run value, so a user's "off" still applies after a re-install: ``status``
reports it and nothing here deletes it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from typing import Literal, Protocol

from ergobreak.autostart.base import APP, AutostartError, Change, Entry, Found, Scope, Status

Hive = Literal["HKCU", "HKLM"]
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
VALUE = APP


class Registry(Protocol):
    def read(self, hive: Hive, key: str, name: str) -> object | None:
        """The value's data (``str`` for REG_SZ, ``bytes`` for REG_BINARY), or None."""
        ...

    def write_string(self, hive: Hive, key: str, name: str, data: str) -> None: ...

    def delete(self, hive: Hive, key: str, name: str) -> bool:
        """True if the value was there."""
        ...


class WinRegistry:
    """The real registry (64-bit view, so 32- and 64-bit Pythons agree)."""

    def __init__(self) -> None:
        import winreg  # noqa: PLC0415 - Windows only

        self._w = winreg

    def _hive(self, hive: Hive) -> int:
        w = self._w
        return int(w.HKEY_CURRENT_USER if hive == "HKCU" else w.HKEY_LOCAL_MACHINE)

    def read(self, hive: Hive, key: str, name: str) -> object | None:
        w = self._w
        try:
            with w.OpenKey(self._hive(hive), key, 0, w.KEY_READ | w.KEY_WOW64_64KEY) as k:
                data, _kind = w.QueryValueEx(k, name)
        except FileNotFoundError:
            return None
        return data  # type: ignore[no-any-return]

    def write_string(self, hive: Hive, key: str, name: str, data: str) -> None:
        w = self._w
        access = w.KEY_SET_VALUE | w.KEY_WOW64_64KEY
        with w.CreateKeyEx(self._hive(hive), key, 0, access) as k:
            w.SetValueEx(k, name, 0, w.REG_SZ, data)

    def delete(self, hive: Hive, key: str, name: str) -> bool:
        w = self._w
        try:
            with w.OpenKey(self._hive(hive), key, 0, w.KEY_SET_VALUE | w.KEY_WOW64_64KEY) as k:
                w.DeleteValue(k, name)
        except FileNotFoundError:
            return False
        return True


def approved(data: object) -> bool | None:
    """StartupApproved data: True = on (``02...``), False = off (``03...``), None = unknown."""
    if not isinstance(data, bytes | bytearray) or not data:
        return None
    return {0x02: True, 0x03: False}.get(data[0])


def command_line(argv: Sequence[str]) -> str:
    """The Run value: one command line, quoted the way the C runtime splits it."""
    return subprocess.list2cmdline(list(argv))


class WindowsRun:
    method = "registry"

    def __init__(self, registry: Registry) -> None:
        self.reg = registry

    def _found(self, hive: Hive) -> tuple[Found | None, Found | None]:
        scope: Scope = "user" if hive == "HKCU" else "system"
        command = self.reg.read(hive, RUN_KEY, VALUE)
        state = approved(self.reg.read(hive, APPROVED_KEY, VALUE))
        where = rf"{hive}\{APPROVED_KEY}\{VALUE}"
        override = None
        if state is False:
            note = "switched off in Task Manager > Startup apps"
            override = Found(scope, "override", where, False, None, note)
        if not isinstance(command, str):
            return None, override
        entry = Found(scope, "entry", rf"{hive}\{RUN_KEY}\{VALUE}", state is not False, command)
        return entry, override

    def status(self) -> Status:
        found: list[Found] = []
        enabled = False
        for hive in ("HKLM", "HKCU"):
            entry, override = self._found(hive)
            found += [f for f in (entry, override) if f is not None]
            enabled = enabled or (entry is not None and entry.enabled)
        return Status(self.method, enabled, tuple(found))

    def enable(self, entry: Entry, *, system: bool = False) -> Change:
        hive: Hive = "HKLM" if system else "HKCU"
        notes: list[str] = []
        machine, _ = self._found("HKLM")
        if not system and machine is not None and machine.enabled:
            return Change(notes=(f"already started at login by {machine.location}",))
        data = command_line(entry.argv)
        where = rf"{hive}\{RUN_KEY}\{VALUE}"
        _, override = self._found(hive)
        if override is not None:
            notes.append(
                f"{override.location} switches it off ({override.note}); turn it back on there"
            )
        if self.reg.read(hive, RUN_KEY, VALUE) == data:
            return Change(notes=(f"{where} is up to date", *notes))
        self.reg.write_string(hive, RUN_KEY, VALUE, data)
        return Change((f"wrote {where} = {data}",), tuple(notes))

    def disable(self, *, system: bool = False) -> Change:
        machine, _ = self._found("HKLM")
        if not system and machine is not None and machine.enabled:
            # Removing the user's value would change nothing: say what would.
            raise AutostartError(
                f"{machine.location} starts ergobreak for every user of this computer;"
                " switch it off for yourself in Task Manager > Startup apps, or ask IT"
            )
        hive: Hive = "HKLM" if system else "HKCU"
        if self.reg.delete(hive, RUN_KEY, VALUE):
            return Change((rf"removed {hive}\{RUN_KEY}\{VALUE}",))
        return Change(notes=("not started at login by a Run key: nothing to do",))
