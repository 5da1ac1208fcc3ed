"""Whether IT's policy fixes autostart: ``[enforced.autostart] enabled = true|false``.

Read through the config layers like every other setting, so the same files, the
same ownership checks and the same ``file:line`` apply. While the config schema
has no ``autostart.enabled`` key, the loader ignores that table (with a warning)
and nothing is locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    from ergobreak.config import ConfigError  # noqa: PLC0415 - keep startup light
    from ergobreak.config.layers import load  # noqa: PLC0415
    from ergobreak.paths import paths  # noqa: PLC0415

    try:
        effective = load(paths().config_file, with_content=False)
    except ConfigError:  # a broken user file: policy still applies without it
        try:
            effective = load(None, with_content=False)
        except ConfigError:
            return None
    return lock_of(effective)
