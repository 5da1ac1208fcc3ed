"""ergobreak running in a shell session, seen the way the tests judge it: its own
``status --json --personal``, its history (``stats export``), the notifications it sent
(on the bus monitor) and how often it wakes up. Plus a user at the keyboard.

Shared by every shell's end-to-end module, so each says only what differs on its shell.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.rig import NOTIFICATIONS, Proc, wait_for
from desktop.test_daemon_e2e import CONFIG as DESKTOP_CONFIG

from .monitor import Message, Monitor
from .session import ShellSession

#: intervals in seconds, so each scenario takes seconds: the Xvfb end-to-end tests' own
CONFIG = DESKTOP_CONFIG


def configured(changes: dict[str, str], extra: str = "") -> str:
    """:data:`CONFIG` with ``{"section.key": "value"}`` changed (strings), plus ``extra``."""
    lines = CONFIG.splitlines()
    section = ""
    for i, line in enumerate(lines):
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line:
            key = f"{section}.{line.split('=')[0].strip()}"
            if key in changes:
                lines[i] = f'{key.split(".", 1)[1]} = "{changes.pop(key)}"'
    assert not changes, f"not in CONFIG: {changes}"
    return "\n".join(lines) + "\n" + extra


FIRST_RUN = "ergobreak history"  # summary of the one-time notice about the history


class Daemon:
    """``ergobreak run`` as the session's user; :meth:`start` it, :meth:`stop` it."""

    def __init__(self, session: ShellSession) -> None:
        self.session = session
        self.proc: Proc | None = None
        self.started_wall = 0.0

    def start(self, config: str = CONFIG, *extra: str) -> Proc:
        self.started_wall = time.time()
        self.proc = self.session.run_ergobreak(config, *extra)
        problem = self.status()["config_error"]
        assert problem is None, f"the test's own config is wrong: {problem}"
        return self.proc

    def stop(self) -> None:
        """Stop it and forget its state and history, so the next test starts afresh."""
        if self.proc is not None:
            self.session.stop_proc(self.proc)
            self.proc = None
        home = self.session.home
        for folder in (home / ".local/state/ergobreak", home / ".config/ergobreak"):
            shutil.rmtree(folder, ignore_errors=True)

    def cli(self, *args: str) -> tuple[int, str, str]:
        return self.session.cli(*args)

    def status(self) -> dict[str, Any]:
        code, out, err = self.cli("status", "--json", "--personal")
        assert code == 0, err
        return dict(json.loads(out))

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """History events recorded by this run (``stats export``), oldest first."""
        code, out, err = self.cli("stats", "export")
        assert code == 0, err
        events = json.loads(out)["events"]
        return [e for e in events if kind is None or e["kind"] == kind]

    def log(self) -> str:
        return self.session.log_path("ergobreak").read_text(errors="replace")

    def context_switches(self) -> dict[int, int]:
        """Voluntary + involuntary context switches so far, per thread id."""
        assert self.proc is not None
        counts = {}
        for status in Path(f"/proc/{self.proc.pid}/task").glob("*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue  # a thread that just ended
            counts[int(status.parent.name)] = sum(
                int(line.split()[1]) for line in text.splitlines() if "ctxt_switches" in line
            )
        return counts

    def wakeups_per_second(self, seconds: float) -> tuple[float, dict[str, int]]:
        """Context switches per second of all threads over ``seconds``, and the switches
        of each thread that had any (``"TID wchan"``: where it sleeps now)."""
        before = self.context_switches()
        time.sleep(seconds)  # the measurement window itself, not a wait for readiness
        after = self.context_switches()
        busy = {tid: n - before.get(tid, 0) for tid, n in after.items() if n > before.get(tid, 0)}
        named = {f"{tid} {_wchan(self.proc, tid)}": n for tid, n in busy.items()}
        return sum(busy.values()) / seconds, named


def _wchan(proc: Proc | None, tid: int) -> str:
    try:
        return Path(f"/proc/{proc.pid if proc else 0}/task/{tid}/wchan").read_text()
    except OSError:
        return "?"


def notify_calls(
    monitor: Monitor, summary: str = "", *, since: int = 0, body: str = ""
) -> list[Message]:
    """Notify calls to the notification server whose summary/body contain the texts,
    leaving out the first-run history notice."""
    return monitor.messages(
        lambda m: (
            summary in m.body[3] and body in m.body[4] and not m.body[3].startswith(FIRST_RUN)
        ),
        since=since,
        kind="method_call",
        interface=NOTIFICATIONS,
        member="Notify",
    )


def wait_notify(
    monitor: Monitor, summary: str, timeout: float, *, since: int = 0, body: str = ""
) -> tuple[Message, Message]:
    """The first Notify call matching (see :func:`notify_calls`) and the server's reply."""
    found = wait_for(
        lambda: notify_calls(monitor, summary, since=since, body=body),
        timeout,
        interval=0.05,
        what=f"a Notify call {summary!r}",
    )
    call = found[0]
    return call, monitor.reply_to(call)


class Typist:
    """A user at the keyboard: ``press()`` (the shell's own input path) every ``every``
    seconds while typing; starts paused."""

    def __init__(self, press: Callable[[], object], every: float = 0.7) -> None:
        self.press = press
        self.every = every
        self.presses = 0
        self.last_press = 0.0  # time.monotonic() of the last press
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()  # pause() returns only between presses
        self._typing = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="typist", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            with self._lock:
                if not self._typing.is_set():
                    continue
                try:
                    self.press()
                    self.presses += 1
                    self.last_press = time.monotonic()
                except Exception as exc:  # the test sees it in close()
                    self.errors.append(exc)

    def start(self) -> None:
        with self._lock:
            self.press()
            self.last_press = time.monotonic()
            self._typing.set()

    def pause(self) -> None:
        with self._lock:
            self._typing.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        assert not self.errors, f"typing failed: {self.errors[0]!r}"
