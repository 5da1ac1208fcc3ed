r"""Policy from the Windows registry: what Group Policy and Intune write.

Under ``HKLM\Software\Policies\ergobreak`` and ``HKCU\...`` (:data:`channels.HIVES`,
the machine first): values in the key are enforced, the ``Recommended`` subkey holds
recommended values, ``Limits`` holds ``<key>.min`` / ``<key>.max``
(:mod:`~ergobreak.config.channels`). The reader only reads; ``policy.py`` validates.

``winreg`` exists only on Windows and is imported only there
(:func:`system_registry`); a :class:`Registry` is anything shaped like it, so the
reader runs (and is tested) anywhere.
"""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, cast

from ergobreak.config import channels
from ergobreak.config.channels import Hive, Table
from ergobreak.config.sources import Channel, ChannelEntry, ChannelRead
from ergobreak.tomlfile import Diagnostic, near

#: more values than this in one key is not a policy anyone wrote by hand or by GPO
MAX_VALUES = 1000


class Registry(Protocol):
    """The part of ``winreg`` the reader uses."""

    HKEY_LOCAL_MACHINE: int
    HKEY_CURRENT_USER: int
    KEY_READ: int
    KEY_WOW64_64KEY: int

    def OpenKey(
        self, key: Any, sub_key: str, reserved: int = 0, access: int = ...
    ) -> AbstractContextManager[Any]: ...

    def QueryInfoKey(self, key: Any) -> tuple[int, int, int]: ...

    def EnumKey(self, key: Any, index: int) -> str: ...

    def EnumValue(self, key: Any, index: int) -> tuple[str, Any, int]: ...


def system_registry() -> Registry:  # pragma: no cover - Windows only
    """This machine's registry (Windows only)."""
    return cast(Registry, importlib.import_module("winreg"))


@dataclass(frozen=True, slots=True)
class RegistrySource:
    r"""One hive's policy key (``HKLM\Software\Policies\ergobreak``)."""

    registry: Registry
    hive: Hive

    @property
    def name(self) -> str:
        return channels.registry_key(self.hive, "enforced")

    @property
    def channel(self) -> Channel:
        return "registry"

    def read(self) -> ChannelRead | None:
        try:
            return self._read()
        except FileNotFoundError:
            return None  # no policy key: no registry policy
        except OSError as exc:  # access denied, a key deleted while read, ...
            reason = exc.strerror or str(exc)
            return ChannelRead(self.name, "registry", error=f"cannot be read: {reason}")

    def _read(self) -> ChannelRead:
        reg = self.registry
        hkey = reg.HKEY_LOCAL_MACHINE if self.hive == "HKLM" else reg.HKEY_CURRENT_USER
        # The 64-bit view, where Group Policy writes, also from a 32-bit Python.
        access = reg.KEY_READ | reg.KEY_WOW64_64KEY
        entries: list[ChannelEntry] = []
        notes: list[Diagnostic] = []
        subkeys = {name.lower(): table for table, name in channels.SUBKEYS.items() if name}
        with reg.OpenKey(hkey, channels.registry_subkey("enforced"), 0, access) as root:
            entries += self._values(root, "enforced")
            count = reg.QueryInfoKey(root)[0]
            for index in range(min(count, MAX_VALUES)):
                sub = reg.EnumKey(root, index)
                table = subkeys.get(sub.lower())
                if table is None:
                    close = near(sub, [n for n in channels.SUBKEYS.values() if n])
                    notes.append(
                        Diagnostic.plain(
                            f"{self.name}\\{sub}",
                            "unknown subkey (ignored)",
                            severity="warning",
                            hint=f"did you mean {close}?"
                            if close
                            else "the policy key has Recommended and Limits",
                        )
                    )
                    continue
                with reg.OpenKey(root, sub, 0, access) as key:
                    entries += self._values(key, table)
        return ChannelRead(self.name, "registry", tuple(entries), notes=tuple(notes))

    def _values(self, key: Any, table: Table) -> list[ChannelEntry]:
        """Every value of ``key``; names are matched without case, as Windows does."""
        known = {name.lower(): name for name in channels.value_names(table)}
        count = self.registry.QueryInfoKey(key)[1]
        if count > MAX_VALUES:
            raise OSError(f"{channels.registry_key(self.hive, table)} has {count} values")
        out = []
        for index in range(count):
            name, data, reg_type = self.registry.EnumValue(key, index)
            name = known.get(name.lower(), name) if name else "(Default)"
            where = channels.registry_origin(self.hive, table, name)
            out.append(ChannelEntry(table, name, where, data, reg_type))
        return out


def registry_sources(registry: Registry | None = None) -> list[RegistrySource]:
    """The registry's policy keys, highest precedence first (the machine's)."""
    reg = registry if registry is not None else system_registry()
    return [RegistrySource(reg, hive) for hive in channels.HIVES]
