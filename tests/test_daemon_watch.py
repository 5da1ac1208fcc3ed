"""Config watching with real inotify: editor-style saves are noticed once, quickly."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ergobreak.daemon.watch import InotifyWatcher, StatWatcher, watch_config


class Calls:
    def __init__(self) -> None:
        self.count = 0
        self.event = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.event.set()

    def wait(self, timeout: float = 3.0) -> bool:
        ok = self.event.wait(timeout)
        self.event.clear()
        return ok


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[tuple[Path, Path, Path, Calls, InotifyWatcher]]:
    user = tmp_path / "home" / "ergobreak" / "config.toml"
    user.parent.mkdir(parents=True)
    policy = tmp_path / "etc" / "ergobreak" / "policy.toml"  # /etc/ergobreak absent at first
    (tmp_path / "etc").mkdir()
    calls = Calls()
    watcher = InotifyWatcher([user, policy, policy.parent / "policy.d" / "*.toml"], calls)
    watcher.start()
    yield tmp_path, user, policy, calls, watcher
    watcher.stop()


def test_a_plain_save_is_noticed_once(tree: tuple[Path, Path, Path, Calls, InotifyWatcher]) -> None:
    _, user, _, calls, _ = tree
    started = time.monotonic()
    user.write_text("schema = 1\n")
    assert calls.wait()
    assert time.monotonic() - started < 2.0
    time.sleep(0.5)  # let any stragglers arrive: still one call for one save
    assert calls.count == 1


def test_an_editor_style_rename_is_noticed(
    tree: tuple[Path, Path, Path, Calls, InotifyWatcher],
) -> None:
    _, user, _, calls, _ = tree
    tmp = user.with_name(".config.toml.swp")
    tmp.write_text("[drill]\nevery = '45m'\n")
    os.replace(tmp, user)
    assert calls.wait()


def test_other_files_in_the_folder_are_ignored(
    tree: tuple[Path, Path, Path, Calls, InotifyWatcher],
) -> None:
    _, user, _, calls, _ = tree
    (user.parent / "notes.txt").write_text("hello")
    assert not calls.wait(0.8)


def test_a_policy_folder_created_later_is_picked_up(
    tree: tuple[Path, Path, Path, Calls, InotifyWatcher],
) -> None:
    _, _, policy, calls, watcher = tree
    policy.parent.mkdir()
    assert calls.wait()  # the folder appearing is a change
    assert policy.parent in watcher.watched
    policy.write_text("schema = 1\n")
    assert calls.wait()
    dropin = policy.parent / "policy.d"
    dropin.mkdir()
    assert calls.wait()
    (dropin / "10-site.toml").write_text("schema = 1\n")
    assert calls.wait()


def test_no_events_means_no_wakeups(tree: tuple[Path, Path, Path, Calls, InotifyWatcher]) -> None:
    *_, watcher = tree
    # The thread blocks in select(): its context switches stay flat while idle.
    tid = watcher._thread.native_id

    def switches() -> int:
        status = Path(f"/proc/self/task/{tid}/status").read_text()
        return sum(int(line.split()[1]) for line in status.splitlines() if "ctxt_switches" in line)

    before = switches()
    time.sleep(1.0)
    assert switches() - before <= 1


def test_the_stat_fallback_sees_changes_at_wakeups(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    dropin = tmp_path / "policy.d"
    dropin.mkdir()
    watcher = StatWatcher([user, dropin / "*.toml"])
    assert not watcher.changed()
    user.write_text("schema = 1\n")
    assert watcher.changed()
    assert not watcher.changed()
    (dropin / "a.toml").write_text("x")
    assert watcher.changed()


def test_watch_config_prefers_inotify_on_linux(tmp_path: Path) -> None:
    watcher = watch_config([tmp_path / "c.toml"], lambda: None)
    try:
        assert watcher.name == "inotify"
    finally:
        watcher.stop()
