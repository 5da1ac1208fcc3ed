"""The OS policy channels' mapping: registry values and managed preferences <-> schema keys.

Group Policy / Intune write the Windows registry, an MDM writes macOS managed
preferences. Both carry the same three policy tables as ``policy.toml``:

- values directly under the root = ``enforced``;
- a ``Recommended`` subkey (registry) or dict (plist) = ``defaults``;
- a ``Limits`` subkey or dict with ``<key>.min`` / ``<key>.max`` = ``limits``
  (duration and int keys only).

Value names are the schema's key names (``drill.every``) plus ``meta.organization``
and ``meta.contact``. This module is the one place that spells these rules: the
template generators write by it, the readers read by it. :func:`decode_registry`
and :func:`decode_plist` turn a channel's value into the raw form the schema's
parser takes (:meth:`~ergobreak.config.schema.Key.parse`), so a channel's value is
validated exactly like the same value in ``policy.toml``; a value of the wrong
channel type is a :class:`~ergobreak.config.kinds.ValueProblem` of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, Literal

from ergobreak.config import kinds
from ergobreak.config.kinds import Kind, ValueProblem
from ergobreak.config.schema import KEY_BY_NAME, KEYS, Key
from ergobreak.tomlfile import found

#: the macOS preference domain (bundle id) the MDM profile manages
BUNDLE_ID = "org.ergobreak"

Table = Literal["defaults", "enforced", "limits"]
Hive = Literal["HKLM", "HKCU"]
Bound = Literal["min", "max"]

#: registry hives in order of precedence, highest first (Chrome's convention: the
#: machine wins; ``HKCU\Software\Policies`` is writable only by admins and GPO)
HIVES: tuple[Hive, ...] = ("HKLM", "HKCU")
#: the policy key under each hive
POLICY_KEY = r"Software\Policies\ergobreak"
#: the subkey (registry) or dict (plist) of each table; ``enforced`` is the root itself
SUBKEYS: dict[Table, str | None] = {"enforced": None, "defaults": "Recommended", "limits": "Limits"}

#: meta value names (plain strings), next to the schema's keys
META_NAMES: tuple[str, ...] = ("meta.organization", "meta.contact")
#: kinds a ``Limits`` entry may bound
LIMIT_KINDS: frozenset[Kind] = frozenset({"duration", "int"})

#: managed preferences: machine-wide file, and per user folder below it
MANAGED_PREFERENCES = PurePosixPath("/Library/Managed Preferences")

RegType = Literal["REG_DWORD", "REG_SZ", "REG_MULTI_SZ"]
PlistType = Literal["boolean", "integer", "string", "array"]

#: winreg's type numbers (``winreg.REG_SZ`` ...), fixed by the Windows API, so the
#: mapping can be used (and tested) where ``winreg`` does not exist
REG_TYPE_NUMBERS: dict[str, int] = {
    "REG_NONE": 0,
    "REG_SZ": 1,
    "REG_EXPAND_SZ": 2,
    "REG_BINARY": 3,
    "REG_DWORD": 4,
    "REG_DWORD_BIG_ENDIAN": 5,
    "REG_LINK": 6,
    "REG_MULTI_SZ": 7,
    "REG_QWORD": 11,
}
_REG_TYPE_NAMES = {number: name for name, number in REG_TYPE_NUMBERS.items()}

_LIST_KINDS: frozenset[Kind] = frozenset(
    {"days", "hours", "categories", "routine_ids", "equipment", "tags"}
)


@dataclass(frozen=True, slots=True)
class ValueType:
    """How one value name is carried: its key (``None`` for meta), bound, and types."""

    name: str
    #: the schema key; ``None`` for ``meta.*``
    key: Key | None
    #: for a ``Limits`` entry: which bound of ``key``
    bound: Bound | None
    registry: RegType
    plist: PlistType

    @property
    def expected(self) -> str:
        """What a value looks like, for messages: ``a duration like "20m"``."""
        return self.key.expected if self.key else "a string"


def _types(kind: Kind | None) -> tuple[RegType, PlistType]:
    if kind == "bool":
        return "REG_DWORD", "boolean"
    if kind == "int":
        return "REG_DWORD", "integer"
    if kind in _LIST_KINDS:
        return "REG_MULTI_SZ", "array"
    return "REG_SZ", "string"  # durations (config syntax, "30m") and meta strings


def value_names(table: Table) -> Iterator[str]:
    """Every value name a table may hold, in schema order (meta only in ``enforced``'s root)."""
    if table == "limits":
        for key in limit_keys():
            yield f"{key.name}.min"
            yield f"{key.name}.max"
        return
    yield from (key.name for key in KEYS)
    if table == "enforced":
        yield from META_NAMES


def limit_keys() -> tuple[Key, ...]:
    """The keys a ``Limits`` entry may bound."""
    return tuple(key for key in KEYS if key.kind in LIMIT_KINDS)


def value_type(name: str, table: Table = "enforced") -> ValueType | None:
    """How value ``name`` of ``table`` is carried, or ``None`` when no such value exists.

    In ``limits`` the names are ``<key>.min`` / ``<key>.max``; meta names belong to
    the root (``enforced``) only.
    """
    if table == "limits":
        base, _, bound = name.rpartition(".")
        key = KEY_BY_NAME.get(base)
        if key is None or key.kind not in LIMIT_KINDS or bound not in ("min", "max"):
            return None
        registry, plist = _types(key.kind)
        return ValueType(name, key, "min" if bound == "min" else "max", registry, plist)
    if name in META_NAMES:
        if table != "enforced":
            return None
        registry, plist = _types(None)
        return ValueType(name, None, None, registry, plist)
    key = KEY_BY_NAME.get(name)
    if key is None:
        return None
    registry, plist = _types(key.kind)
    return ValueType(name, key, None, registry, plist)


def _type_of(name: str, table: Table) -> ValueType:
    found_type = value_type(name, table)
    if found_type is None:
        raise KeyError(f"{table}: {name}")
    return found_type


# --- Windows registry ---


def registry_key(hive: Hive, table: Table) -> str:
    r"""``table``'s full key: ``HKLM\Software\Policies\ergobreak\Recommended``."""
    subkey = SUBKEYS[table]
    return f"{hive}\\{POLICY_KEY}" + (f"\\{subkey}" if subkey else "")


def registry_subkey(table: Table) -> str:
    r"""``table``'s key below the hive: ``Software\Policies\ergobreak\Limits``."""
    subkey = SUBKEYS[table]
    return POLICY_KEY + (f"\\{subkey}" if subkey else "")


def registry_origin(hive: Hive, table: Table, name: str) -> str:
    r"""What an Origin's path says for a registry value: ``HKLM\...\ergobreak\drill.every``."""
    return f"{registry_key(hive, table)}\\{name}"


def encode_registry(name: str, value: Any, table: Table = "enforced") -> tuple[Any, int]:
    """A value in the schema's form (seconds, weekday numbers, ...) as registry
    ``(data, type number)``, as Group Policy would write it."""
    spec = _type_of(name, table)
    raw = _toml_form(spec, value)
    if spec.registry == "REG_DWORD":
        return int(raw), REG_TYPE_NUMBERS["REG_DWORD"]
    if spec.registry == "REG_MULTI_SZ":
        return [str(item) for item in raw], REG_TYPE_NUMBERS["REG_MULTI_SZ"]
    return str(raw), REG_TYPE_NUMBERS["REG_SZ"]


def decode_registry(name: str, data: object, reg_type: int, table: Table = "enforced") -> Any:
    """A registry value as the raw form the schema's parser takes.

    Raises:
        ValueProblem: the value has the wrong registry type (or a DWORD that is
            not 0 or 1 for a true/false key).
    """
    spec = _type_of(name, table)
    type_name = _REG_TYPE_NAMES.get(reg_type, f"registry type {reg_type}")
    if type_name != spec.registry:
        raise ValueProblem(
            f"expected {spec.registry} ({spec.expected}), got {type_name} {_show_data(data)}"
        )
    if spec.registry == "REG_DWORD":
        if not isinstance(data, int) or isinstance(data, bool):
            raise ValueProblem(f"expected {spec.registry}, got {found(data)}")
        if spec.key is not None and spec.key.kind == "bool":
            if data not in (0, 1):
                raise ValueProblem(f"expected REG_DWORD 0 (false) or 1 (true), got {data}")
            return data == 1
        return data
    if spec.registry == "REG_MULTI_SZ":
        if not isinstance(data, list):
            raise ValueProblem(f"expected {spec.registry}, got {found(data)}")
        # the Group Policy editor's multi-line box may leave blank lines: not items
        return [item for item in data if not (isinstance(item, str) and not item.strip())]
    if not isinstance(data, str):
        raise ValueProblem(f"expected {spec.registry}, got {found(data)}")
    return data


def _show_data(data: object) -> str:
    if isinstance(data, list):
        return "[" + ", ".join(found(item) for item in data) + "]"
    return found(data)


# --- macOS managed preferences ---


def machine_plist() -> PurePosixPath:
    """The machine-wide managed preferences file."""
    return MANAGED_PREFERENCES / f"{BUNDLE_ID}.plist"


def user_plist(user: str) -> PurePosixPath:
    """A user's managed preferences file (wins over the machine file per key, as MCX does)."""
    return MANAGED_PREFERENCES / user / f"{BUNDLE_ID}.plist"


def plist_origin(path: PurePosixPath | str, table: Table, name: str) -> str:
    """What an Origin's path says for a managed preference:
    ``/Library/Managed Preferences/org.ergobreak.plist: Recommended/drill.every``."""
    subkey = SUBKEYS[table]
    return f"{path}: " + (f"{subkey}/{name}" if subkey else name)


def encode_plist(name: str, value: Any, table: Table = "enforced") -> Any:
    """A value in the schema's form as a plist value (bool, int, str or list of str)."""
    spec = _type_of(name, table)
    raw = _toml_form(spec, value)
    if spec.plist == "array":
        return [str(item) for item in raw]
    return raw


_PLIST_PYTHON: dict[PlistType, type] = {
    "boolean": bool,
    "integer": int,
    "string": str,
    "array": list,
}


def decode_plist(name: str, data: object, table: Table = "enforced") -> Any:
    """A managed preference as the raw form the schema's parser takes.

    Raises:
        ValueProblem: the value has the wrong plist type.
    """
    spec = _type_of(name, table)
    wanted = _PLIST_PYTHON[spec.plist]
    right = isinstance(data, wanted) and (wanted is bool or not isinstance(data, bool))
    if not right:
        raise ValueProblem(f"expected <{spec.plist}> ({spec.expected}), got {_plist_found(data)}")
    return list(data) if isinstance(data, list) else data


#: the plist element of each type plistlib reads (bool is checked first: it is an int)
_PLIST_TAGS: tuple[tuple[type, str], ...] = (
    (int, "integer"),
    (float, "real"),
    (str, "string"),
    (list, "array"),
    (dict, "dict"),
    (bytes, "data"),
    (datetime, "date"),
)


def _plist_found(data: object) -> str:
    """A plist value as messages show it: ``<integer> 30``, ``<true/>``, ``<array>``."""
    if isinstance(data, bool):
        return f"<{str(data).lower()}/>"
    tag = next((tag for kind, tag in _PLIST_TAGS if isinstance(data, kind)), type(data).__name__)
    if isinstance(data, (int, float)):
        return f"<{tag}> {data}"
    return f'<{tag}> "{data}"' if isinstance(data, str) else f"<{tag}>"


def _toml_form(spec: ValueType, value: Any) -> Any:
    if spec.key is None:
        return str(value)
    return kinds.toml_form(spec.key.kind, value)
