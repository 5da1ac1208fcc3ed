"""XDG autostart files: the writer, the reader, and the user/system/Hidden flows.

Every file written here goes through the real ``desktop-file-validate``
(desktop-file-utils, listed in tests/debian-packages.txt).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ergobreak.autostart.base import Entry
from ergobreak.autostart.xdg import (
    FILE_NAME,
    XdgAutostart,
    escape,
    exec_value,
    hidden_copy,
    is_on,
    parse,
    render,
    split_exec,
    system_dirs,
    unescape,
    user_dir,
)

ROOT = Path(__file__).resolve().parent.parent
VALIDATE = shutil.which("desktop-file-validate")
ENTRY = Entry(("/usr/local/bin/ergobreak", "run", "--autostart"))
#: argument vectors with every character class the Exec quoting rules treat specially
NASTY = [
    ("/opt/Ergo Break/bin/ergobreak", "run", "--autostart"),
    ("/home/jo/it's $HOME/`x`/a\\b/ergobreak", "--set", 'x="1 2"', "100%"),
    ("/home/jürgen/.local/bin/ergobreak", "run", "--autostart"),
    ("/usr/bin/python3", "-m", "ergobreak", "run", "--autostart", "#;&|<>*?()~"),
    ("/usr/bin/env", "", "tab\there"),
]


def validate(path: Path) -> None:
    assert VALIDATE, "desktop-file-validate missing: install desktop-file-utils"
    done = subprocess.run([VALIDATE, str(path)], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, ""), done.stderr  # no errors, no hints


def argv_of(path: Path) -> list[str]:
    return split_exec(parse(path.read_text(encoding="utf-8"))["Exec"])


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """user autostart dir, a distribution's system dir, the base system dir."""
    return tmp_path / "home" / "autostart", tmp_path / "xdg-distro", tmp_path / "xdg"


@pytest.fixture
def xdg(dirs: tuple[Path, Path, Path]) -> XdgAutostart:
    user, distro, base = dirs
    return XdgAutostart(user, [distro, base])


def write_system(xdg: XdgAutostart, entry: Entry = ENTRY) -> Path:
    assert xdg.enable(entry, system=True).changed
    return xdg.system_target


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ the format


@pytest.mark.parametrize("argv", NASTY)
def test_generated_files_pass_desktop_file_validate_and_keep_argv(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    for hidden in (False, True):
        path = tmp_path / f"{hidden}-{FILE_NAME}"
        path.write_text(render(Entry(argv), hidden=hidden), encoding="utf-8")
        validate(path)
        assert argv_of(path) == list(argv)
        assert is_on(parse(path.read_text(encoding="utf-8"))) is not hidden


@given(st.lists(st.text(st.characters(exclude_categories=["Cs"])), min_size=1, max_size=5))
def test_exec_quoting_round_trips(argv: list[str]) -> None:
    assert split_exec(unescape(escape(exec_value(argv)))) == argv


def test_exec_quoting_follows_the_spec_examples() -> None:
    # A literal backslash in a quoted argument takes four in the file, a dollar "\\$".
    line = render(Entry(("/bin/x", "a\\b", "$v", "50%"))).splitlines()
    assert 'Exec=/bin/x "a\\\\\\\\b" "\\\\$v" 50%%' in line


def test_render_writes_keys_with_the_spec_escapes_not_configparser_style() -> None:
    text = render(Entry(("/bin/x",), comment=" two\nlines"))
    assert "Comment=\\stwo\\nlines" in text.splitlines()
    assert " = " not in text
    assert "TryExec=/bin/x" in text.splitlines()
    assert parse(text)["Comment"] == " two\nlines"


def test_hidden_copy_keeps_the_system_file_and_switches_it_off(tmp_path: Path) -> None:
    system = """\
# shipped by IT
[Desktop Entry]
Type=Application
Name=ergobreak
Name[de]=ergobreak (Pausen)
Exec=/usr/local/bin/ergobreak run --autostart
X-GNOME-Autostart-enabled=true
Hidden=false
Actions=settings;

[Desktop Action settings]
Name=Settings
Exec=/usr/local/bin/ergobreak run
"""
    copy = hidden_copy(system)
    path = tmp_path / FILE_NAME
    path.write_text(copy, encoding="utf-8")
    validate(path)
    keys = parse(copy)
    assert keys["Hidden"] == "true"
    assert keys["X-GNOME-Autostart-enabled"] == "false"
    assert not is_on(keys)
    assert "# shipped by IT" in copy
    assert "Name[de]=ergobreak (Pausen)" in copy
    assert copy.count("Hidden=") == 1
    assert copy.count("X-GNOME-Autostart-enabled=") == 1
    # the switch-off lands in [Desktop Entry], not in the action group after it
    assert copy.index("Hidden=true") < copy.index("[Desktop Action settings]")


def test_is_on_reads_both_switches() -> None:
    assert is_on({})
    assert not is_on({"Hidden": "true"})
    assert not is_on({"X-GNOME-Autostart-enabled": "false"})


def test_directories_follow_the_xdg_variables() -> None:
    env = {"XDG_CONFIG_HOME": "/h/cfg", "XDG_CONFIG_DIRS": "/etc/xdg/xdg-ubuntu:/etc/xdg"}
    assert user_dir(env) == Path("/h/cfg/autostart")
    assert system_dirs(env) == [Path("/etc/xdg/xdg-ubuntu/autostart"), Path("/etc/xdg/autostart")]
    assert system_dirs({}) == [Path("/etc/xdg/autostart")]
    # --system writes to the base directory, not a distribution's overlay
    assert XdgAutostart.from_env(env).system_target == Path("/etc/xdg/autostart") / FILE_NAME


# ------------------------------------------------------------------ the flows


def test_nothing_installed(xdg: XdgAutostart) -> None:
    status = xdg.status()
    assert not status.enabled
    assert status.found == ()
    assert not xdg.disable().changed


def test_user_enable_writes_a_valid_file_once(xdg: XdgAutostart) -> None:
    change = xdg.enable(ENTRY)
    assert change.actions == (f"wrote {xdg.user_file}",)
    validate(xdg.user_file)
    assert argv_of(xdg.user_file) == list(ENTRY.argv)
    assert xdg.status().enabled
    again = xdg.enable(ENTRY)
    assert not again.changed
    assert "up to date" in again.notes[0]


def test_user_enable_updates_a_stale_path(xdg: XdgAutostart) -> None:
    xdg.enable(Entry(("/old/venv/bin/ergobreak", "run", "--autostart")))
    assert xdg.enable(ENTRY).changed
    assert argv_of(xdg.user_file) == list(ENTRY.argv)


def test_user_disable_deletes_the_user_entry(xdg: XdgAutostart) -> None:
    xdg.enable(ENTRY)
    assert xdg.disable().actions == (f"removed {xdg.user_file}",)
    assert not xdg.user_file.exists()
    assert not xdg.status().enabled


def test_system_entry_applies_to_users_without_a_file(xdg: XdgAutostart) -> None:
    system = write_system(xdg)
    validate(system)
    status = xdg.status()
    assert status.enabled
    assert status.system
    assert [(f.scope, f.kind) for f in status.found] == [("system", "entry")]
    change = xdg.enable(ENTRY)  # for this user: nothing to add
    assert not change.changed
    assert "already started" in change.notes[0]
    assert not xdg.user_file.exists()


def test_disabling_a_system_entry_writes_a_hidden_user_copy(xdg: XdgAutostart) -> None:
    system = write_system(xdg)
    before = system.read_bytes()
    change = xdg.disable()
    assert change.actions
    assert "Hidden=true" in change.actions[0]
    validate(xdg.user_file)
    assert system.read_bytes() == before  # the system entry is IT's: untouched
    status = xdg.status()
    assert not status.enabled
    assert status.system
    kinds = {(f.scope, f.kind, f.enabled) for f in status.found}
    assert kinds == {("system", "entry", True), ("user", "override", False)}
    # idempotent: the override stays as it is
    again = xdg.disable()
    assert not again.changed
    assert "already switched off" in again.notes[0]


def test_user_entry_over_a_system_entry_is_replaced_by_the_override(xdg: XdgAutostart) -> None:
    write_system(xdg)
    xdg.user_file.parent.mkdir(parents=True)
    xdg.user_file.write_text(render(ENTRY), encoding="utf-8")
    change = xdg.disable()
    assert change.actions[0] == f"removed {xdg.user_file}"
    assert "Hidden=true" in change.actions[1]
    assert not is_on(parse(xdg.user_file.read_text(encoding="utf-8")))


def test_user_enable_removes_only_its_own_override(xdg: XdgAutostart) -> None:
    write_system(xdg)
    xdg.disable()
    change = xdg.enable(ENTRY)
    assert change.actions == (
        f"removed {xdg.user_file}: the system entry {xdg.system_target} applies",
    )
    assert xdg.status().enabled


def test_system_enable_leaves_a_users_override_in_place(xdg: XdgAutostart) -> None:
    write_system(xdg)
    xdg.disable()
    override = xdg.user_file.read_bytes()
    change = xdg.enable(Entry(("/new/bin/ergobreak", "run", "--autostart")), system=True)
    assert change.actions == (f"wrote {xdg.system_target}",)
    assert "left in place" in change.notes[0]
    assert xdg.user_file.read_bytes() == override
    assert not xdg.status().enabled


def test_system_disable_removes_the_base_entry_only(
    xdg: XdgAutostart, dirs: tuple[Path, Path, Path]
) -> None:
    _, distro, _ = dirs
    write_system(xdg)
    distro.mkdir(parents=True)
    (distro / FILE_NAME).write_text(render(ENTRY), encoding="utf-8")
    change = xdg.disable(system=True)
    assert change.actions == (f"removed {xdg.system_target}",)
    assert "not ours to remove" in change.notes[0]
    assert (distro / FILE_NAME).exists()


def test_first_system_directory_wins(xdg: XdgAutostart, dirs: tuple[Path, Path, Path]) -> None:
    _, distro, _ = dirs
    write_system(xdg)
    distro.mkdir(parents=True)
    (distro / FILE_NAME).write_text(render(ENTRY, hidden=True), encoding="utf-8")
    status = xdg.status()
    assert not status.enabled
    assert status.found[0].location == str(distro / FILE_NAME)


def test_status_never_writes_and_nothing_comes_back_after_disable(
    xdg: XdgAutostart, tmp_path: Path
) -> None:
    xdg.enable(ENTRY)
    xdg.disable()
    before = snapshot(tmp_path)
    for _ in range(3):
        assert not xdg.status().enabled
    assert snapshot(tmp_path) == before
    assert not xdg.user_file.exists()


def test_status_says_when_the_program_is_gone(xdg: XdgAutostart) -> None:
    xdg.enable(Entry(("/nonexistent/bin/ergobreak", "run", "--autostart")))
    notes = xdg.status().notes
    assert notes
    assert "/nonexistent/bin/ergobreak is not an executable file" in notes[0]


def test_only_the_autostart_command_writes_entries() -> None:
    """Never re-create an entry the user removed: no other module (not `ergobreak run`,
    not the tray) even imports the autostart package."""
    importers = []
    for path in (ROOT / "ergobreak").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("ergobreak/autostart/") or rel == "ergobreak/cli/autostart.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(
                n == "ergobreak.autostart" or n.startswith("ergobreak.autostart.") for n in names
            ):
                importers.append(rel)
    assert importers == []
