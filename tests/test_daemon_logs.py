"""The daemon's log: private to the user, and a disk that fills up costs one line."""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from scaffold import fill_up, require_root, small_filesystem

from ergobreak.daemon.logs import LOG_NAME, FailSafeStream, PrivateLogFile, setup_logging

log = logging.getLogger("ergobreak.test")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """setup_logging replaces the ``ergobreak`` logger's handlers: put them back."""
    root = logging.getLogger("ergobreak")
    saved = (list(root.handlers), root.level, root.propagate)
    yield
    for handler in root.handlers:
        handler.close()
    root.handlers[:], root.level, root.propagate = saved


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)  # the usual one, under which files come out 0644
    yield
    os.umask(old)


@pytest.mark.usefixtures("umask_022")
def test_a_new_log_is_0600_in_0700_directories(tmp_path: Path) -> None:
    log_dir = tmp_path / "state" / "ergobreak" / "log"
    setup_logging(log_dir)
    log.warning("hello")
    assert (mode(log_dir), mode(log_dir.parent), mode(log_dir.parent.parent)) == (0o700,) * 3
    assert mode(log_dir / LOG_NAME) == 0o600
    assert "hello" in (log_dir / LOG_NAME).read_text()


@pytest.mark.usefixtures("umask_022")
def test_logs_left_readable_by_an_older_version_are_tightened(tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    log_dir.mkdir(mode=0o755)
    for name in (LOG_NAME, f"{LOG_NAME}.1", f"{LOG_NAME}.5"):
        (log_dir / name).write_text("old line\n")
        (log_dir / name).chmod(0o644)
    setup_logging(log_dir)
    assert mode(log_dir) == 0o700
    assert [mode(log_dir / n) for n in (LOG_NAME, f"{LOG_NAME}.1", f"{LOG_NAME}.5")] == [0o600] * 3


@pytest.mark.usefixtures("umask_022")
def test_rotated_logs_stay_private(tmp_path: Path) -> None:
    handler = PrivateLogFile(tmp_path / LOG_NAME, maxBytes=200, backupCount=2)
    try:
        for n in range(20):
            handler.emit(logging.makeLogRecord({"msg": f"line {n} " + "x" * 40}))
    finally:
        handler.close()
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == [LOG_NAME, f"{LOG_NAME}.1", f"{LOG_NAME}.2"]
    assert [mode(f) for f in files] == [0o600] * 3


def test_a_log_dir_of_another_user_is_not_written_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_root("giving a folder to another user")
    log_dir = tmp_path / "log"
    log_dir.mkdir(mode=0o755)
    os.chown(log_dir, 65534, 65534)  # nobody
    setup_logging(log_dir)
    assert not (log_dir / LOG_NAME).exists()
    assert capsys.readouterr().err == (
        f"ergobreak: cannot write logs to {log_dir}: not a directory of yours;"
        " running without a log\n"
    )


def test_a_full_disk_costs_one_line_not_a_traceback_per_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with small_filesystem(tmp_path / "disk", "64k") as disk:
        log_dir = disk / "log"
        setup_logging(log_dir)
        log.info("before")
        filler = fill_up(disk)
        for n in range(300):
            log.warning("record %d %s", n, "x" * 100)
        err = capsys.readouterr().err
        assert err == (
            f"ergobreak: cannot write the log {log_dir / LOG_NAME}: no space left on device;"
            " log lines are dropped until it works again\n"
        )
        filler.unlink()
        log.warning("after")
        text = (log_dir / LOG_NAME).read_text()
    assert capsys.readouterr().err == ""
    assert "before" in text
    assert "after" in text
    assert "log lines could not be written before this one" in text
    assert "Traceback" not in text


class FullDisk:
    """A stream that refuses every write as a full disk does."""

    def __init__(self) -> None:
        self.full = True
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.lines.append(text)

    def flush(self) -> None:
        pass


def test_a_failing_stream_reports_once_per_outage(capsys: pytest.CaptureFixture[str]) -> None:
    stream = FullDisk()
    handler = FailSafeStream(stream)
    for n in range(1000):
        handler.emit(logging.makeLogRecord({"msg": f"record {n}"}))
    first = capsys.readouterr().err
    assert first == (
        "ergobreak: cannot write the log to standard error: no space left on device;"
        " log lines are dropped until it works again\n"
    )
    stream.full = False
    handler.emit(logging.makeLogRecord({"msg": "back"}))
    assert stream.lines == ["back\n", "1000 log lines could not be written before this one\n"]
    stream.full = True
    handler.emit(logging.makeLogRecord({"msg": "again"}))
    assert capsys.readouterr().err == first  # a new outage is told again, once
