"""Reading dconf's GVDB databases: a real database written by dconf-service 0.40
(``gsettings set`` of show-banners false, show-in-lock-screen true, clock-format 12h,
text-scaling-factor 1.25: tests/snapshots/dconf/user), damaged copies of it, and
dconf profiles. The desktop suite follows live writes (tests/desktop/test_gnome_dnd.py).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from ergobreak.platform import dconf
from ergobreak.platform.base import Unavailable

REAL = Path(__file__).parent / "snapshots" / "dconf" / "user"
BANNERS = "/org/gnome/desktop/notifications/show-banners"


def home_with(tmp_path: Path, data: bytes, name: str = "user") -> dict[str, str]:
    config = tmp_path / "config"
    (config / "dconf").mkdir(parents=True, exist_ok=True)
    (config / "dconf" / name).write_bytes(data)
    return {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(config), "XDG_DATA_DIRS": str(tmp_path)}


def test_values_of_a_real_database() -> None:
    data = REAL.read_bytes()
    assert dconf.lookup(data, BANNERS) == (b"\0", b"b")
    assert dconf.lookup(data, "/org/gnome/desktop/notifications/show-in-lock-screen") == (
        b"\1",
        b"b",
    )
    assert dconf.lookup(data, "/org/gnome/desktop/interface/clock-format") == (b"12h\0", b"s")
    assert dconf.lookup(data, "/org/gnome/desktop/notifications/") is None  # a directory
    assert dconf.lookup(data, "/org/gnome/desktop/notifications/show") is None


def test_read_bool_from_the_users_database(tmp_path: Path) -> None:
    env = home_with(tmp_path, REAL.read_bytes())
    assert dconf.read_bool(BANNERS, env) is False
    assert dconf.read_bool("/org/gnome/desktop/notifications/show-in-lock-screen", env) is True
    assert dconf.read_bool("/org/gnome/desktop/privacy/remember-app-usage", env) is None
    with pytest.raises(Unavailable, match="is not a boolean"):
        dconf.read_bool("/org/gnome/desktop/interface/clock-format", env)
    assert dconf.read_bool(BANNERS, {**env, "XDG_CONFIG_HOME": str(tmp_path / "none")}) is None


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: b"not a database", "is not a dconf"),
        (lambda data: data[:40], "truncated"),
        (lambda data: b"GVariant" + b"\0" * 16, "truncated"),
    ],
)
def test_a_damaged_database_is_unavailable(
    tmp_path: Path, damage: Callable[[bytes], bytes], message: str
) -> None:
    env = home_with(tmp_path, damage(REAL.read_bytes()))
    with pytest.raises(Unavailable, match=message):
        dconf.read_bool(BANNERS, env)


def test_a_database_of_the_other_byte_order(tmp_path: Path) -> None:
    """Every 32- and 16-bit field swapped, as a big-endian machine writes it."""
    swapped = swap_gvdb(REAL.read_bytes())
    assert swapped[:8] == b"raVGtnai"
    assert dconf.lookup(swapped, BANNERS) == (b"\0", b"b")


def swap_gvdb(data: bytes) -> bytes:
    out = bytearray(data)

    def swap(fmt: str, offset: int) -> tuple[int, ...]:
        values = struct.unpack_from("<" + fmt, data, offset)
        struct.pack_into(">" + fmt, out, offset, *values)
        return values

    out[:8] = b"raVGtnai"
    swap("II", 8)
    start, end = swap("II", 16)
    bloom, buckets = swap("II", start)
    swap("I" * ((bloom & 0x07FFFFFF) + buckets), start + 8)
    first = start + 8 + 4 * ((bloom & 0x07FFFFFF) + buckets)
    for index in range((end - first) // 24):
        offset = first + index * 24
        swap("IIIH", offset)
        swap("II", offset + 16)
    return bytes(out)


def test_dconf_profile_lists_the_databases_in_order(tmp_path: Path) -> None:
    env = home_with(tmp_path, REAL.read_bytes(), name="work")
    other = tmp_path / "other.db"
    profile_dir = tmp_path / "dconf" / "profile"
    profile_dir.mkdir(parents=True)
    (profile_dir / "office").write_text(
        f"# the office profile\nuser-db:work\nservice-db:ignored\nsystem-db:site\nfile-db:{other}\n"
    )
    env = {**env, "DCONF_PROFILE": "office"}
    config = Path(env["XDG_CONFIG_HOME"])
    assert dconf.databases(env) == [config / "dconf" / "work", Path("/etc/dconf/db/site"), other]
    assert dconf.read_bool(BANNERS, env) is False  # from "work", the first that has it
    with pytest.raises(Unavailable, match="DCONF_PROFILE=nowhere: no such profile"):
        dconf.databases({**env, "DCONF_PROFILE": "nowhere"})
    with pytest.raises(Unavailable, match="no such file"):
        dconf.databases({**env, "DCONF_PROFILE": str(tmp_path / "missing")})
    by_path = {**env, "DCONF_PROFILE": str(profile_dir / "office")}
    assert dconf.databases(by_path) == dconf.databases(env)
