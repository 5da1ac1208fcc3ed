""" "How was it?" against the real ``ergobreak run`` on the headless desktop: the real
command line over IPC, the history written by the daemon's recorder thread and read by
``ergobreak stats``, and the answers' own file carried over a restart (SIGTERM), then
with history switched off."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from scaffold import cli

from ergobreak.content.library import safety_text

from .rig import Rig, wait_for
from .test_daemon_e2e import CONFIG, Daemon


def test_feedback_is_noted_recorded_and_kept_over_a_restart(
    desktop: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("ERGOBREAK_CONFIG", raising=False)
    daemon = Daemon(desktop, tmp_path)
    daemon.config.write_text(CONFIG.replace('every = "24s"', 'every = "1h"'))
    try:
        proc = daemon.start()
        assert cli("start", "hinge_wall")[0] == 0
        assert cli("skip")[0] == 0  # stopped: the drill ended skipped
        assert cli("feedback", "easy") == (
            0,
            "Noted: easy. Next time: Bodyweight good morning instead.\n",
            "",
        )
        code, out, err = cli("feedback", "hurt", "--drill", "good_morning_bw")
        assert (code, err) == (0, "")
        assert out.startswith("Noted: it hurt. Bodyweight good morning is left out of your drills")
        assert out.endswith(f".\n{safety_text()['stop_rules']}\n")
        code, out, err = cli("stats")
        assert code == 0, err
        felt = next(line for line in out.splitlines() if line.startswith("How they felt"))
        assert "Wall hip hinge: 1 easy" in felt
        assert "Bodyweight good morning: 1 hurt" in felt

        proc.signal(signal.SIGTERM)
        wait_for(lambda: not proc.alive(), 10, what="the daemon to exit on SIGTERM")
        assert (tmp_path / "state" / "ergobreak" / "feedback.json").is_file()
        daemon.stop()
        daemon.start("--set", "history.enabled=false")
        # a new session: no drill has ended in it yet
        code, out, err = cli("feedback", "right")
        assert (code, out) == (1, "")
        assert err.startswith("ergobreak feedback: No drill has ended since ergobreak started")
        # the good morning still rests after the restart, so Easy cannot lead to it
        assert cli("feedback", "easy", "--drill", "hinge_wall") == (
            0,
            "Noted: easy. Bodyweight good morning is left out for now (it hurt),"
            " so Wall hip hinge stays.\n",
            "",
        )
    finally:
        if desktop.is_running("ergobreak"):
            daemon.stop()
