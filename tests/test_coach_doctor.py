"""``ergobreak doctor``'s coach window line: what a drill would open here, truthfully."""

from __future__ import annotations

import io
import sys
import tkinter

import pytest

from ergobreak.cli import doctor

ON = {"drill.window": True}


def test_the_coach_line_says_off_missing_or_which_tk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":5")
    assert doctor.coach_check({"drill.window": False}) == {
        "state": "off",
        "detail": "off: drill.window = false",
    }
    assert doctor.coach_check(ON) == {"state": "OK", "detail": f"Tk {tkinter.TkVersion} on :5"}
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert doctor.coach_check(ON) == {
        "state": "missing",
        "detail": "no display; drills show in notifications",
    }


def test_the_coach_line_follows_the_config_in_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":5")
    config = {"ok": True, "path": "config.toml", "detail": "defaults"}
    out = io.StringIO()
    doctor.write_text(out, [], {**config, "coach": doctor.coach_check(ON)}, None)
    lines = out.getvalue().splitlines()
    assert lines[-1] == f"OK       coach     window        Tk {tkinter.TkVersion} on :5"


def test_without_tk_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":5")
    monkeypatch.setitem(sys.modules, "tkinter", None)  # as if python3-tk were missing
    assert doctor.coach_check(ON) == {
        "state": "missing",
        "detail": "no Tk: install python3-tk; drills show in notifications",
    }
