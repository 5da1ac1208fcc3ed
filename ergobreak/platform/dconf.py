"""Read one key of the user's dconf settings (GSettings on GNOME) from the files.

GSettings keeps its values in dconf, whose databases are GVDB files: the user's own
(``$XDG_CONFIG_HOME/dconf/user``) and any system ones the profile names. Only
dconf-service writes them, and it tells the session bus after each write
(``ca.desrt.dconf.Writer.Notify``), so a reader needs no polling: read here at start
and again on each Notify (:class:`ergobreak.platform.dbus_dnd.DconfBanners`).

Why read the file and not run ``gsettings get``: a daemon should not spawn a
process per change (issue 20 counts them), and ``gsettings`` may not be installed;
the part of GVDB needed here is a small, stable layout (glib ``gvdb-format.h``).

What is not honoured: a system database's locks (an administrator forcing the key),
and schema defaults changed by vendor overrides -- a key no database holds reads as
None and the caller uses GNOME's stock default.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path

from ergobreak.platform.base import Unavailable

#: dconf databases are small (a busy desktop's is ~100 KB); refuse anything absurd
MAX_DB_BYTES = 8 * 1024 * 1024
#: a profile is a few lines
MAX_PROFILE_BYTES = 64 * 1024
_SIGNATURE = b"GVariant"
_HEADER = 24  # signature, version, options, root pointer
_ITEM = 24  # hash, parent, key start, key size, type, unused, value pointer
_NO_PARENT = 0xFFFFFFFF


def databases(env: Mapping[str, str]) -> list[Path]:
    """The database files the dconf profile lists, highest priority first, the user's
    (the writable one) first. ``DCONF_PROFILE`` is a profile name or a path; without
    it, the ``user`` profile if the system has one, else just ``user-db:user``."""
    home = Path(env.get("HOME") or Path.home())
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    profile = _profile_file(env.get("DCONF_PROFILE", ""), env)
    lines = _profile_lines(profile) if profile is not None else ["user-db:user"]
    found: list[Path] = []
    for entry in lines:
        kind, _, name = entry.partition(":")
        if kind == "user-db":
            found.append(config / "dconf" / name)
        elif kind == "system-db":
            found.append(Path("/etc/dconf/db") / name)
        elif kind == "file-db":
            found.append(Path(name))
        # service-db: kept by a service, not in a file we can read
    return found


def _profile_file(wanted: str, env: Mapping[str, str]) -> Path | None:
    if wanted.startswith("/"):
        path = Path(wanted)
        if not path.is_file():
            raise Unavailable(f"DCONF_PROFILE={wanted}: no such file")
        return path
    data_dirs = (env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":")
    dirs = [Path("/etc/dconf/profile"), *(Path(d) / "dconf" / "profile" for d in data_dirs if d)]
    for directory in dirs:
        path = directory / (wanted or "user")
        if path.is_file():
            return path
    if wanted:
        raise Unavailable(f"DCONF_PROFILE={wanted}: no such profile")
    return None


def _profile_lines(path: Path) -> list[str]:
    try:
        with path.open("rb") as file:
            text = file.read(MAX_PROFILE_BYTES).decode("utf-8", errors="replace")
    except OSError as exc:
        raise Unavailable(f"cannot read the dconf profile {path}: {exc.strerror}") from exc
    entries = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [entry for entry in entries if entry]


def read_bool(key: str, env: Mapping[str, str]) -> bool | None:
    """The boolean at ``key`` (``/org/gnome/...``) in the first database holding it,
    None if none does. Raises :class:`Unavailable` for a file that is not a GVDB
    database or a value that is not a boolean."""
    for path in databases(env):
        try:
            with path.open("rb") as file:
                data = file.read(MAX_DB_BYTES + 1)
        except FileNotFoundError:
            continue  # no setting written there yet
        except OSError as exc:
            raise Unavailable(f"cannot read {path}: {exc.strerror}") from exc
        if len(data) > MAX_DB_BYTES:
            raise Unavailable(f"{path} is over {MAX_DB_BYTES} bytes: not a dconf database")
        value = lookup(data, key, str(path))
        if value is None:
            continue
        if value[1] != b"b" or len(value[0]) != 1:
            raise Unavailable(f"{key} in {path} is not a boolean")
        return value[0] != b"\0"
    return None


def lookup(data: bytes, key: str, where: str = "the dconf database") -> tuple[bytes, bytes] | None:
    """The serialised value and GVariant type of ``key`` in a GVDB file, or None.

    dconf stores each path as a chain of items (``/``, ``org/``, ``gnome/``, ...), each
    naming its parent, so the full names are rebuilt by walking up; the hash buckets
    are not needed to find one key among a few hundred."""
    if data[:8] == _SIGNATURE:
        order = "<"
    elif data[:8] == b"raVGtnai":  # written on a machine of the other byte order
        order = ">"
    else:
        raise Unavailable(f"{where} is not a dconf (GVDB) database")
    try:
        start, end = struct.unpack_from(order + "II", data, 16)
        bloom, buckets = struct.unpack_from(order + "II", data, start)
        first = start + 8 + 4 * ((bloom & 0x07FFFFFF) + buckets)
        if not _HEADER <= start < first <= end <= len(data):
            raise struct.error(f"its hash table at {start}..{end} is out of bounds")
        count = (end - first) // _ITEM
        layout = order + "IIIHcxII"
        items = [struct.unpack_from(layout, data, first + i * _ITEM) for i in range(count)]
    except struct.error as exc:
        raise Unavailable(f"{where} is truncated: {exc}") from exc
    names: dict[int, str] = {}

    def name(index: int, depth: int = 0) -> str:
        if index not in names:
            _hash, parent, key_start, key_size, _type, _vs, _ve = items[index]
            own = data[key_start : key_start + key_size].decode("utf-8", "replace")
            if parent == _NO_PARENT or parent >= count or depth > 64:
                names[index] = own
            else:
                names[index] = name(parent, depth + 1) + own
        return names[index]

    for index, (_hash, _parent, _ks, _kz, kind, value_start, value_end) in enumerate(items):
        if kind == b"v" and name(index) == key:
            variant = data[value_start:value_end]
            body, sep, type_string = variant.rpartition(b"\0")
            if not sep:
                raise Unavailable(f"{key} in {where} is not a serialised variant")
            return body, type_string
    return None
