"""What IT's policy switches off on a machine, read by commands outside the daemon.

``[enforced.machine] enabled = false`` turns ergobreak off: ``ergobreak run``
exits at once with :meth:`TurnedOff.reason`, and ``ergobreak autostart status``
reports login start as disabled by policy. The key is policy-only (a user's file
or ``--set`` cannot turn it back on), so :func:`machine_switch` reads the policy
layers alone: a broken user file never hides it.

The feature switches (``history.enabled``, ``history.first_run_notice``,
``quiet.calls``, ``routines.floor``) are ordinary keys that policy may enforce;
:func:`in_force` gives the settings a command should honour.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ergobreak.config.layers import Effective, load
from ergobreak.tomlfile import ConfigError

#: the machine switch (policy only)
KEY = "machine.enabled"


@dataclass(frozen=True, slots=True)
class TurnedOff:
    """ergobreak is turned off on this machine by the policy entry at ``where``."""

    #: ``path:line`` of the policy entry
    where: str
    contact: str | None = None

    def reason(self) -> str:
        """The one line ``ergobreak run`` prints before it exits."""
        return f"ergobreak is turned off by your organization (policy: {self.where})"

    def to_json(self) -> dict[str, Any]:
        return {"where": self.where, "contact": self.contact}


def turned_off(effective: Effective) -> TurnedOff | None:
    """Whether the policy in ``effective`` turns ergobreak off."""
    if effective.values.get(KEY, True) is not False:
        return None
    origin = effective.origins.get(KEY)
    return TurnedOff(origin.where() if origin is not None else "policy", effective.contact)


def machine_switch() -> TurnedOff | None:
    """The machine switch as this machine's policy files set it (no user file read)."""
    return turned_off(load(None, with_content=False))


def in_force(config_file: Path) -> Effective:
    """The settings in force for a command: the user's file and policy; with a broken
    user file, policy alone (what the daemon falls back to as well)."""
    try:
        return load(config_file, with_content=False)
    except ConfigError:
        return load(None, with_content=False)
