"""Every file the command line writes, on a real read-only and a real full file system:
one line naming the file and the reason, a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from scaffold import cli, fill_up, make_read_only, small_filesystem

from ergobreak.cli.common import EXIT_FAILURE, os_error_line

pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture
def disk(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The user's config folders on a small file system of their own (the history
    stays where it was: only what a command writes is at stake here)."""
    with small_filesystem(isolated / "disk", "256k") as mounted:
        monkeypatch.setenv("ERGOBREAK_CONFIG", str(mounted / "config.toml"))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(mounted / "xdg"))
        yield mounted


#: the command, the name it gives itself, and the start of its line
WRITERS = [
    (("config", "init", "--force"), "config init", "cannot write {disk}/config.toml"),
    (("config", "set", "drill.every", "45m"), "config", "cannot write {disk}/config.toml"),
    (("report", "--out", "{disk}/report.html"), "report", "cannot write {disk}/report.html"),
    (("stats", "export", "--out", "{disk}/h.json"), "stats export", "cannot write {disk}/h.json"),
    # the folder it could not make (it writes one file there)
    (("autostart", "enable", "--method", "xdg"), "autostart enable", "{disk}/xdg"),
]
IDS = [" ".join(argv[:2]) for argv, _, _ in WRITERS]


def run(argv: tuple[str, ...], disk: Path) -> tuple[int, str, str]:
    return cli(*(part.format(disk=disk) for part in argv))


def prepare(disk: Path) -> None:
    """What the commands need before the disk stops taking writes: a config file to
    replace and a history to read."""
    (disk / "config.toml").write_text("schema = 1\n")
    assert cli("stats", "export")[0] == 0  # creates the history store


@pytest.mark.parametrize(("argv", "prog", "target"), WRITERS, ids=IDS)
def test_a_read_only_file_system_is_one_line(
    disk: Path, argv: tuple[str, ...], prog: str, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    prepare(disk)
    make_read_only(disk)
    code, _out, err = run(argv, disk)
    assert code == EXIT_FAILURE
    assert err == f"ergobreak {prog}: {target.format(disk=disk)}: read-only file system\n"


@pytest.mark.parametrize(("argv", "prog", "target"), WRITERS[:4], ids=IDS[:4])
def test_a_full_disk_is_one_line(disk: Path, argv: tuple[str, ...], prog: str, target: str) -> None:
    prepare(disk)
    fill_up(disk)
    code, _out, err = run(argv, disk)
    assert code == EXIT_FAILURE
    assert err == f"ergobreak {prog}: {target.format(disk=disk)}: no space left on device\n"


def test_config_edit_on_a_read_only_file_system(
    disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(disk)
    make_read_only(disk)
    monkeypatch.setenv("VISUAL", "true")
    code, _out, err = cli("config", "edit")
    assert (code, err) == (
        EXIT_FAILURE,
        f"ergobreak config edit: cannot write {disk / 'config.toml'}: read-only file system\n",
    )


def test_stats_clear_on_a_read_only_file_system(
    disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(disk / "state"))
    prepare(disk)
    make_read_only(disk)
    code, _out, err = cli("stats", "clear", "--yes")
    assert code == EXIT_FAILURE
    assert err.count("\n") == 1
    assert "Read-only file system" in err


def test_the_home_folder_reads_as_a_tilde() -> None:
    home = Path.home()
    exc = OSError(30, os.strerror(30), str(home / ".config" / "ergobreak" / ".config.toml.x.tmp"))
    line = os_error_line(
        "ergobreak config init", exc, writing=home / ".config/ergobreak/config.toml"
    )
    assert line == (
        "ergobreak config init: cannot write ~/.config/ergobreak/config.toml: read-only file system"
    )


def test_a_file_error_no_command_expected_is_still_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ergobreak.cli import routines

    def broken(*args: object) -> int:
        raise PermissionError(13, "Permission denied", "/somewhere/else")

    monkeypatch.setattr(routines, "run_list", broken)
    code, _out, err = cli("routines", "list")
    assert (code, err) == (EXIT_FAILURE, "ergobreak routines: /somewhere/else: permission denied\n")
