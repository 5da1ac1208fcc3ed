"""Whether IT's policy fixes autostart (``[enforced.autostart] enabled = true|false``)
or turns ergobreak off altogether (``[enforced.machine] enabled = false``).

Read through the config layers like every other setting, so the same files, the
same ownership checks and the same ``file:line`` apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ergobreak.config.switches import TurnedOff

KEY = "autostart.enabled"


@dataclass(frozen=True, slots=True)
class PolicyLock:
    enabled: bool
    #: ``path:line`` of the policy entry
    where: str
    contact: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "where": self.where, "contact": self.contact}


def lock_of(effective: Any) -> PolicyLock | None:
    """The lock in an :class:`ergobreak.config.layers.Effective`, if policy sets one."""
    origin = effective.locked.get(KEY)
    value = effective.values.get(KEY)
    if origin is None or not isinstance(value, bool):
        return None
    return PolicyLock(value, origin.where(), effective.contact)


def read_lock() -> PolicyLock | None:
    """The lock in force on this machine (the user's file cannot change it)."""
    from ergobreak.config.switches import in_force  # noqa: PLC0415 - keep startup light
    from ergobreak.paths import paths  # noqa: PLC0415

    return lock_of(in_force(paths().config_file))


def read_switch() -> TurnedOff | None:
    """Whether this machine's policy turns ergobreak off (then nothing starts at login)."""
    from ergobreak.config.switches import machine_switch  # noqa: PLC0415

    return machine_switch()
