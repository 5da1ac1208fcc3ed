"""Policy from macOS managed preferences: what an MDM profile (Jamf, Intune, Kandji) forces.

macOS writes a profile's forced values for the bundle id to
``/Library/Managed Preferences/org.ergobreak.plist`` (the machine) and
``/Library/Managed Preferences/<user>/org.ergobreak.plist`` (one user: wins per key,
as MCX does). Top-level keys are enforced, a ``Recommended`` dict recommended, a
``Limits`` dict ``<key>.min`` / ``<key>.max`` (:mod:`~ergobreak.config.channels`).

Only root writes there; a file that is not root's, or that group or others may
write, is refused like a policy file (:func:`~ergobreak.config.policy.unsafe_reason`).
A file that cannot be read or parsed is a broken policy, never "no policy".
"""

from __future__ import annotations

import os
import plistlib
from dataclasses import dataclass
from pathlib import Path

from ergobreak.config import channels
from ergobreak.config.channels import Table
from ergobreak.config.loader import MAX_BYTES
from ergobreak.config.policy import unsafe_reason
from ergobreak.config.sources import Channel, ChannelEntry, ChannelRead
from ergobreak.tomlfile import Diagnostic, read_bytes


@dataclass(frozen=True, slots=True)
class ManagedPrefsSource:
    """One managed preferences file."""

    path: Path
    #: the folder up to which every directory must be root's (``/Library/Managed Preferences``)
    root: Path
    check_owner: bool = True

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def channel(self) -> Channel:
        return "managed preferences"

    def read(self) -> ChannelRead | None:
        if not os.path.lexists(self.path):
            return None
        if self.check_owner:
            reason = unsafe_reason(self.path, root=self.root)
            if reason is not None:
                return self._broken(f"refused: {reason}")
        raw, problems = read_bytes(self.path, max_bytes=MAX_BYTES)
        if raw is None:
            return self._broken(problems[0].message if problems else "nothing was read")
        try:
            data = plistlib.loads(raw)
        except Exception as exc:  # plistlib raises several kinds for a broken file
            return self._broken(f"not a valid property list ({type(exc).__name__}: {exc})")
        if not isinstance(data, dict):
            return self._broken(f"expected a <dict> at the top, got {type(data).__name__}")
        entries: list[ChannelEntry] = []
        notes: list[Diagnostic] = []
        for table, name in channels.SUBKEYS.items():
            if name is None:
                continue
            inner = data.get(name, {})
            if isinstance(inner, dict):
                entries += self._entries(inner, table)
            else:
                notes.append(
                    Diagnostic.plain(
                        f"{self.path}: {name}",
                        f"expected a <dict> of {table} values, got a {type(inner).__name__};"
                        " entry ignored",
                    )
                )
        top = {k: v for k, v in data.items() if k not in channels.SUBKEYS.values()}
        entries += self._entries(top, "enforced")
        return ChannelRead(self.name, "managed preferences", tuple(entries), notes=tuple(notes))

    def _entries(self, data: dict[object, object], table: Table) -> list[ChannelEntry]:
        return [
            ChannelEntry(table, name, channels.plist_origin(str(self.path), table, name), value)
            for name, value in data.items()
            if isinstance(name, str)  # a binary plist may have other keys: nothing names them
        ]

    def _broken(self, reason: str) -> ChannelRead:
        """A file that is there but cannot be used: a broken policy (``refused: ...``
        or ``cannot be read: ...``)."""
        error = reason if reason.startswith("refused: ") else f"cannot be read: {reason}"
        return ChannelRead(self.name, "managed preferences", error=error)


def managed_prefs_sources(
    folder: Path | None = None, user: str | None = None
) -> list[ManagedPrefsSource]:
    """The user's file, then the machine's (highest precedence first). The user is
    the login of this process's uid, never ``$USER``: that would let anyone pick
    another user's policy."""
    import pwd  # noqa: PLC0415 - POSIX only; this module is imported everywhere

    base = folder or Path(channels.MANAGED_PREFERENCES)
    login = user or pwd.getpwuid(os.getuid()).pw_name
    machine = base / channels.machine_plist().name
    mine = base / login / channels.user_plist(login).name
    return [ManagedPrefsSource(mine, base), ManagedPrefsSource(machine, base)]
