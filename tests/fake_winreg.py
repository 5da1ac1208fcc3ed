r"""A ``winreg``-shaped registry in memory: keys, values with their types, missing keys
(``FileNotFoundError``, as winreg raises), keys one may not read (``PermissionError``).

Paths are matched without case, as Windows does. ``FakeRegistry.set(r"HKLM\Software\
Policies\ergobreak\Recommended", "drill.every", "45m", REG["REG_SZ"])`` makes the keys
on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ergobreak.config.channels import REG_TYPE_NUMBERS as REG

HIVES = {"HKLM": 0x80000002, "HKCU": 0x80000001}


@dataclass
class FakeKey:
    name: str
    values: dict[str, tuple[Any, int]] = field(default_factory=dict)
    subkeys: dict[str, FakeKey] = field(default_factory=dict)
    denied: bool = False

    def child(self, name: str) -> FakeKey | None:
        return next((k for n, k in self.subkeys.items() if n.lower() == name.lower()), None)


class FakeRegistry:
    HKEY_LOCAL_MACHINE = HIVES["HKLM"]
    HKEY_CURRENT_USER = HIVES["HKCU"]
    KEY_READ = 0x20019
    KEY_WOW64_64KEY = 0x0100

    def __init__(self) -> None:
        self.roots = {number: FakeKey(hive) for hive, number in HIVES.items()}
        #: the access masks keys were opened with
        self.opened: list[int] = []

    def key(self, path: str, *, create: bool = True) -> FakeKey:
        hive, *parts = path.split("\\")
        key = self.roots[HIVES[hive]]
        for part in parts:
            found = key.child(part)
            if found is None:
                assert create, path
                found = key.subkeys[part] = FakeKey(part)
            key = found
        return key

    def set(self, path: str, name: str, data: Any, reg_type: int) -> None:
        self.key(path).values[name] = (data, reg_type)

    # --- winreg's API ---

    @contextmanager
    def OpenKey(
        self, key: Any, sub_key: str, reserved: int = 0, access: int = 0x20019
    ) -> Iterator[FakeKey]:
        self.opened.append(access)
        at = self.roots[key] if isinstance(key, int) else key
        for part in sub_key.split("\\"):
            found = at.child(part)
            if found is None:
                raise FileNotFoundError(2, "The system cannot find the file specified")
            at = found
        if at.denied:
            raise PermissionError(13, "Access is denied")
        yield at

    def QueryInfoKey(self, key: FakeKey) -> tuple[int, int, int]:
        return len(key.subkeys), len(key.values), 0

    def EnumKey(self, key: FakeKey, index: int) -> str:
        return list(key.subkeys)[index]

    def EnumValue(self, key: FakeKey, index: int) -> tuple[str, Any, int]:
        name, (data, reg_type) = list(key.values.items())[index]
        return name, data, reg_type


__all__ = ["REG", "FakeKey", "FakeRegistry"]
