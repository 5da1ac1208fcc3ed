"""The composed app in-process (tests/fake_desk.py): the real App, Engine and core on a
fake clock and a fake edge, so the wiring of ``ergobreak run`` is tested without a desktop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_desk import ALWAYS_ON_CONFIG, AppRig, start_app
from fuzzing import ISSUE_TOML

from ergobreak import app as app_module
from ergobreak import opener
from ergobreak.commands import Request
from ergobreak.config import layers
from ergobreak.config.layers import Effective
from ergobreak.daemon.engine import Reply
from ergobreak.paths import paths
from ergobreak.platform.base import Notification
from ergobreak.platform.edge import Lost
from ergobreak.tray.backend import Choice as TrayChoice

pytestmark = pytest.mark.usefixtures("isolated")

DRILLS_45 = ALWAYS_ON_CONFIG + '\n[drill]\nevery = "45m"\n'
BROKEN = ALWAYS_ON_CONFIG + '\n[drill]\nevery = "often"\n'
PROBLEM = "ergobreak: config problem"


def test_prompts_reach_the_notifier_through_on_step() -> None:
    rig = start_app()
    rig.work(30 * 60 + 30)
    titles = rig.notifier.titles()
    assert titles[0] == "Posture check"
    assert titles[1].startswith("2-minute drill: ")
    prompt = rig.notifier.shown[1]
    assert [a.label for a in prompt.actions] == ["Start now", "Snooze 5 min", "Skip"]


def test_a_reload_changes_the_schedule_and_says_what_changed() -> None:
    rig = start_app()
    rig.write_config(DRILLS_45)
    assert rig.request("reload") == {
        "ok": True,
        "changes": "drills every 45 min",
        "warnings": [],
        "policy_current": True,
    }
    assert rig.engine.core.settings.drill.every == 45 * 60
    assert rig.notifier.shown[-1].body == "Settings updated: drills every 45 min"
    rig.work(40 * 60)
    assert not any(t.startswith("2-minute drill") for t in rig.notifier.titles())
    rig.work(6 * 60)
    assert rig.notifier.titles()[-1].startswith("2-minute drill: ")


def test_a_broken_config_keeps_the_old_settings_and_is_reported_once() -> None:
    rig = start_app(DRILLS_45)
    rig.write_config(BROKEN)
    first, second = rig.request("reload"), rig.request("reload")
    assert first["ok"] is False
    assert second["ok"] is False
    assert "drill.every" in first["error"]
    assert rig.engine.core.settings.drill.every == 45 * 60
    assert rig.notifier.titles() == [PROBLEM]
    assert rig.request("status")["status"]["config_error"] == first["error"]
    rig.write_config(DRILLS_45)
    assert rig.request("reload")["ok"] is True
    assert rig.notifier.shown[-1].body == "Settings fixed."
    assert rig.request("status")["status"]["config_error"] is None


def test_a_broken_config_at_start_runs_on_the_defaults_and_says_so() -> None:
    rig = start_app(BROKEN)
    assert rig.notifier.titles() == [PROBLEM]
    assert rig.engine.core.settings.drill.every == 30 * 60
    assert rig.engine.config_error is not None
    assert "drill.every" in rig.engine.config_error


HOSTILE = {
    **{case: ALWAYS_ON_CONFIG.encode() + data for case, data in ISSUE_TOML.items()},
    "a 48 MB file": b"",
}


def save_hostile(path: Path, case: str) -> None:
    """Save a hostile config where the app reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(HOSTILE[case])
        if not HOSTILE[case]:
            f.truncate(48 << 20)  # sparse: no time or disk to write it


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_config_saved_into_a_running_app_keeps_it_prompting(case: str) -> None:
    rig = start_app(DRILLS_45)
    save_hostile(rig.config_file, case)
    first, second = rig.request("reload"), rig.request("reload")
    assert first["ok"] is False
    assert second == first
    assert first["error"].startswith(f"{rig.config_file}")
    assert rig.notifier.titles() == [PROBLEM]  # told once
    assert rig.engine.core.settings.drill.every == 45 * 60
    rig.work(46 * 60)
    assert rig.notifier.titles()[-1].startswith("2-minute drill: ")
    assert rig.request("status")["status"]["config_error"] == first["error"]


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_config_at_start_runs_on_the_defaults_and_says_so(case: str) -> None:
    save_hostile(paths().config_file, case)
    rig = start_app(None)
    assert rig.notifier.titles() == [PROBLEM]
    assert rig.engine.core.settings.drill.every == 30 * 60
    assert rig.engine.config_error is not None
    assert rig.engine.config_error.startswith(str(rig.config_file))


def test_a_bug_while_loading_is_a_config_problem_not_a_dead_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = layers.load

    def buggy(user_file: Path | None = None, **kwargs: Any) -> Effective:
        if user_file is not None:
            raise KeyError("a bug")
        return real(user_file, **kwargs)

    monkeypatch.setattr("ergobreak.app.load", buggy)
    rig = start_app(DRILLS_45)  # at start: the defaults, and a message
    assert rig.notifier.titles() == [PROBLEM]
    assert "ergobreak failed while checking this file (KeyError: 'a bug')" in str(
        rig.engine.config_error
    )
    assert rig.request("reload")["ok"] is False  # on reload: the settings in force stay
    assert rig.notifier.titles() == [PROBLEM]
    assert rig.engine.core.settings.drill.every == 30 * 60  # the defaults
    rig.work(31 * 60)
    assert rig.request("status")["ok"] is True
    assert rig.engine.failures == 0


def test_an_internal_error_is_told_once_and_the_app_goes_on() -> None:
    rig = start_app()

    class BrokenHistory:
        def record(self, *args: object) -> None:
            raise OSError("history broke")

    rig.app.recorder = BrokenHistory()  # type: ignore[assignment]
    rig.work(31 * 60)
    titles = rig.notifier.titles()
    assert titles.count("ergobreak: internal error") == 1
    notice = next(n for n in rig.notifier.shown if n.title == "ergobreak: internal error")
    assert "(OSError: history broke); it carries on." in notice.body
    assert str(rig.app.paths.log_dir / "ergobreak.log") in notice.body
    assert titles[-1].startswith("2-minute drill: ")


def test_open_report_writes_this_weeks_report_and_opens_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[Path] = []

    def open_path(path: Path) -> dict[str, Any]:
        opened.append(path)
        return {"ok": True, "path": str(path)}

    monkeypatch.setattr(opener, "open_path", open_path)
    rig = start_app()
    reply = rig.request("open_report")
    target = rig.app.paths.state_dir / "report.html"
    assert reply == {"ok": True, "path": str(target)}
    assert opened == [target]
    assert "Your week of breaks" in target.read_text(encoding="utf-8")


def test_notify_test_goes_to_the_notifier() -> None:
    rig = start_app()
    assert rig.request("notify_test") == {"ok": True}
    assert rig.notifier.shown[-1] == Notification(title="ergobreak", body="Notifications work.")


# --------------------------------------------------------------------------- session end


class BrokenTray:
    """A tray whose loop fails once it is up, as pystray's does when its X server or
    bus goes away; ``during`` runs just before (the edge's report, or nothing)."""

    during: Callable[[], None] = staticmethod(lambda: None)

    def __init__(self, on_request: object, choice: object) -> None:
        pass

    def run(self, setup: Callable[[], None]) -> None:
        setup()  # starts the engine thread
        type(self).during()
        raise ConnectionResetError("the tray's connection closed")

    def show(self, state: object) -> None:
        pass

    def stop(self) -> None:
        pass


def run_with_broken_tray(
    rig: AppRig, monkeypatch: pytest.MonkeyPatch, during: Callable[[], None]
) -> threading.Thread:
    """``_run_with_tray`` as ``ergobreak run`` calls it, on a thread of the test's."""
    monkeypatch.setattr("ergobreak.tray.controller.TrayController", BrokenTray)
    monkeypatch.setattr(BrokenTray, "during", staticmethod(during))
    monkeypatch.setattr(app_module, "_later", lambda seconds, fn: None)
    monkeypatch.setattr(app_module, "SESSION_END_GRACE", 0.2)
    choice = TrayChoice("xorg", "a test")
    main = threading.Thread(target=app_module._run_with_tray, args=(rig.app, choice, 0.0))
    main.start()
    return main


def test_the_session_ending_stops_the_engine() -> None:
    rig = start_app()
    rig.app.on_lost(Lost("system bus", "lost it; reconnecting", ends_session=False))
    rig.engine.step()
    assert rig.request("status")["ok"]  # a bus that comes back is no reason to stop
    rig.app.on_lost(Lost("display", "the X display :0 went away", ends_session=True))
    assert rig.app.session_ended.is_set()
    engine = threading.Thread(target=rig.engine.run)
    engine.start()
    engine.join(10)
    assert not engine.is_alive()  # it was told to stop


def test_a_tray_that_goes_with_the_session_ends_quietly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rig = start_app()
    lost = Lost("display", "the X display :0 went away", ends_session=True)
    main = run_with_broken_tray(rig, monkeypatch, lambda: rig.app.on_lost(lost))
    main.join(10)
    assert not main.is_alive()  # the engine stopped, and the main thread with it
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_tray_that_fails_on_its_own_leaves_the_scheduler_running(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rig = start_app()
    main = run_with_broken_tray(rig, monkeypatch, lambda: None)
    failed = threading.Event()
    handler = logging.Handler()
    handler.setLevel(logging.WARNING)
    handler.emit = lambda record: failed.set()  # type: ignore[method-assign]
    logging.getLogger("ergobreak").addHandler(handler)
    try:
        assert failed.wait(10)
    finally:
        logging.getLogger("ergobreak").removeHandler(handler)
    reply = Reply()
    rig.engine.post(Request("status"), reply)
    assert reply.done.wait(10)  # still answering, from its own thread
    assert main.is_alive()
    rig.engine.stop()
    main.join(10)
    assert not main.is_alive()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "the tray icon stopped; ergobreak goes on without it"
    ]
