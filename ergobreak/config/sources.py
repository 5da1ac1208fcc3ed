"""Policy from the operating system's own channels, behind one small Protocol.

A :class:`PolicySource` is one place the OS keeps policy (a registry root, a managed
preferences file). It reads what is there as :class:`ChannelEntry` values in the
channel's own types and says nothing about their meaning: ``policy.py`` validates
them exactly like ``policy.toml`` (:mod:`~ergobreak.config.channels` decodes, the
schema parses) and merges them over the policy files.

A channel read whole can be kept as text (:func:`kept_text`) and read back
(:func:`from_kept`), so a daemon keeps a registry or plist policy as its last good
policy the way it keeps policy files (``daemon/last_policy.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ergobreak.config import channels
from ergobreak.config.channels import Table
from ergobreak.tomlfile import Diagnostic

Channel = Literal["policy file", "registry", "managed preferences"]
#: the prefix of a kept channel's name (``registry:HKLM\...``): it never starts a file path
KEPT_PREFIX: dict[Channel, str] = {"registry": "registry:", "managed preferences": "plist:"}


@dataclass(frozen=True, slots=True)
class ChannelEntry:
    """One value as the channel holds it."""

    table: Table
    #: the value name (``drill.every``, ``drill.every.min`` in Limits)
    name: str
    #: where it is, as Origins and diagnostics name it (``HKLM\...\Recommended\drill.every``)
    where: str
    data: object
    #: the registry type number (``winreg.REG_SZ``); ``None``: a managed preference
    reg_type: int | None = None

    def decode(self) -> object:
        """The raw form the schema's parser takes.

        Raises:
            ValueProblem: a value of the wrong channel type.
        """
        if self.reg_type is not None:
            return channels.decode_registry(self.name, self.data, self.reg_type, self.table)
        return channels.decode_plist(self.name, self.data, self.table)


@dataclass(frozen=True, slots=True)
class ChannelRead:
    """What one source holds: its entries, or why it could not be read."""

    #: the source as people name it: ``HKLM\Software\Policies\ergobreak``, a plist's path
    name: str
    channel: Channel
    entries: tuple[ChannelEntry, ...] = ()
    #: the source exists but could not be read whole (access denied, a broken plist):
    #: a broken policy, so a running daemon keeps its last good one
    error: str | None = None
    #: what the reader met on the way (an unknown subkey, ``Recommended`` not a dict)
    notes: tuple[Diagnostic, ...] = ()


class PolicySource(Protocol):
    """One OS policy channel's source."""

    @property
    def name(self) -> str: ...

    @property
    def channel(self) -> Channel: ...

    def read(self) -> ChannelRead | None:
        """What the source holds now; ``None`` when it is not there (no policy)."""
        ...


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A policy source that was found, and whether it applies."""

    name: str
    channel: Channel
    #: why it does not apply (``None``: applied; rejected entries are policy errors)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "status": "applied" if self.error is None else "error",
            "error": self.error,
        }


def fingerprint(sources: Sequence[PolicySource]) -> tuple[tuple[str, str], ...]:
    """What ``sources`` hold now, to notice a change: Group Policy and MDMs rewrite
    them with no signal ergobreak could wait on."""
    seen: list[tuple[str, str]] = []
    for source in sources:
        try:
            read = source.read()
        except Exception as exc:  # a broken reader is reported when the policy is loaded
            seen.append((source.name, repr(exc)))
            continue
        if read is not None:
            seen.append((read.name, repr((read.error, read.entries, read.notes))))
    return tuple(seen)


def kept_name(read: ChannelRead) -> str:
    return KEPT_PREFIX[read.channel] + read.name


def kept_channel(name: str) -> Channel | None:
    """The channel a kept policy's name belongs to (``None``: a policy file)."""
    for channel, prefix in KEPT_PREFIX.items():
        if name.startswith(prefix):
            return channel
    return None


def kept_text(read: ChannelRead) -> str:
    """The known entries as canonical JSON: exact channel types (a REG_DWORD 1 and a
    ``<true/>`` stay apart), so reading it back validates exactly as the first time."""
    rows: list[list[Any]] = [
        [e.table, e.name, e.where, e.data, e.reg_type]
        for e in read.entries
        if channels.value_type(e.name, e.table) is not None and _plain(e.data)
    ]
    return json.dumps({"entries": rows}, sort_keys=True, ensure_ascii=False, indent=0) + "\n"


def from_kept(name: str, text: str) -> ChannelRead:
    """A channel as :func:`kept_text` wrote it (an error read when the text is damaged)."""
    channel = kept_channel(name)
    assert channel is not None
    source = name[len(KEPT_PREFIX[channel]) :]
    try:
        rows = json.loads(text)["entries"]
        entries = tuple(_entry(row) for row in rows)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        return ChannelRead(source, channel, error=f"the kept copy is damaged ({exc})")
    return ChannelRead(source, channel, entries)


def _entry(row: Sequence[Any]) -> ChannelEntry:
    table, name, where, data, reg_type = row
    if table not in channels.SUBKEYS or not isinstance(name, str) or not isinstance(where, str):
        raise ValueError(f"not an entry: {row!r}")
    if reg_type is not None and (isinstance(reg_type, bool) or not isinstance(reg_type, int)):
        raise ValueError(f"not a registry type: {reg_type!r}")
    return ChannelEntry(table, name, where, data, reg_type)


def _plain(data: object) -> bool:
    """JSON keeps it as it is: a string, a number, true/false, or a list of strings."""
    if isinstance(data, list):
        return all(isinstance(item, str) for item in data)
    return isinstance(data, (str, int))
