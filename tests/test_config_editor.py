"""``config edit`` with scripted editors: good, bad, abandoned, fixed on the second try."""

from __future__ import annotations

import io
import stat
import sys
from pathlib import Path

import pytest

from ergobreak.config.editor import NoEditor, edit, editor_command
from ergobreak.config.template import render

TEMPLATE = render(active=False)


def script(tmp_path: Path, *bodies: str) -> list[str]:
    """An editor that, on its Nth run, replaces the file with ``bodies[N]``."""
    for i, body in enumerate(bodies):
        (tmp_path / f"body{i}").write_text(body)
    tool = tmp_path / "fake-editor"
    tool.write_text(
        "import sys, pathlib\n"
        f"d = pathlib.Path({str(tmp_path)!r})\n"
        "n = d / 'runs'\n"
        "i = int(n.read_text()) if n.exists() else 0\n"
        "n.write_text(str(i + 1))\n"
        "body = d / f'body{i}'\n"
        "if body.read_text() != 'KEEP':\n"
        "    pathlib.Path(sys.argv[-1]).write_text(body.read_text())\n"
    )
    return [sys.executable, str(tool)]


def run_edit(
    path: Path, command: list[str], answers: list[str] | None = None
) -> tuple[bool, str, str]:
    out, err = io.StringIO(), io.StringIO()
    replies = list(answers or [])
    outcome = edit(
        path,
        TEMPLATE,
        command=command,
        out=out,
        err=err,
        ask=(lambda prompt: replies.pop(0)) if answers is not None else None,
    )
    return outcome.saved, out.getvalue(), err.getvalue()


def test_a_good_edit_is_saved_with_the_file_mode_kept(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("schema = 1\n")
    config.chmod(0o640)
    saved, out, err = run_edit(config, script(tmp_path, 'schema = 1\n[drill]\nevery = "45m"\n'))
    assert saved
    assert 'every = "45m"' in config.read_text()
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert "Saved" in out
    assert err == ""
    assert [p.name for p in tmp_path.glob(".config.edit-*")] == []


def test_a_bad_edit_is_reported_with_the_real_file_and_line_and_not_saved(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("schema = 1\n")
    saved, out, err = run_edit(config, script(tmp_path, '[drill]\nevery = "twenty"\n'))
    assert not saved
    assert config.read_text() == "schema = 1\n"
    assert f'{config}:2:9: error: drill.every: expected a duration like "20m", got "twenty"' in err
    assert "Kept the previous settings" in out


def test_bad_then_fixed_on_the_second_try(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("schema = 1\n")
    command = script(tmp_path, "[drill\n", '[drill]\nevery = "40m"\n')
    saved, _, err = run_edit(config, command, answers=["e"])
    assert saved
    assert "invalid TOML" in err
    assert 'every = "40m"' in config.read_text()


def test_abandoning_keeps_the_previous_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[posture]\nevery = "25m"\n')
    saved, _, _ = run_edit(config, script(tmp_path, "[posture]\nevery = 3\n"), answers=["k"])
    assert not saved
    assert config.read_text() == '[posture]\nevery = "25m"\n'


def test_a_missing_file_starts_from_the_template(tmp_path: Path) -> None:
    config = tmp_path / "new" / "config.toml"
    saved, out, _ = run_edit(config, script(tmp_path, "KEEP"))
    assert saved  # the template itself is a valid file: creating it is the change
    assert config.read_text() == TEMPLATE
    assert "starting from the commented template" in out


def test_an_untouched_file_is_no_change(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("schema = 1\n")
    before = config.stat().st_mtime_ns
    saved, out, _ = run_edit(config, script(tmp_path, "KEEP"))
    assert not saved
    assert "No changes" in out
    assert config.stat().st_mtime_ns == before


def test_a_file_that_is_not_utf8_opens_with_its_bad_bytes_marked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b"schema = 1\n# caf\xe9\n")
    saved, out, _ = run_edit(config, script(tmp_path, "KEEP"))
    assert not saved
    assert f"{config} is not UTF-8 text: what cannot be read shows as \ufffd." in out
    fixer = tmp_path / "fixer"
    fixer.mkdir()
    saved, _, _ = run_edit(config, script(fixer, "schema = 1\n# cafe\n"))
    assert saved
    assert config.read_text() == "schema = 1\n# cafe\n"


def test_an_editor_that_fails_changes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("schema = 1\n")
    saved, _, err = run_edit(config, [sys.executable, "-c", "raise SystemExit(3)"])
    assert not saved
    assert "exited with status 3" in err
    assert config.read_text() == "schema = 1\n"


def test_editor_choice() -> None:
    assert editor_command({"VISUAL": "code --wait", "EDITOR": "vi"}) == ["code", "--wait"]
    assert editor_command({"EDITOR": "nano -w"}) == ["nano", "-w"]
    with pytest.raises(NoEditor, match="set \\$EDITOR"):
        editor_command({"PATH": "/nonexistent"})
