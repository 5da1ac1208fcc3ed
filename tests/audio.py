"""A private PulseAudio server for tests, with a virtual microphone and speaker.

``pulseaudio -n`` loads nothing but the script written here: the native protocol on a
socket in a private runtime dir, a null sink (``speaker``, whose monitor source is
``speaker.monitor``) and a null source (``microphone``, a virtual source that records
silence). No system bus, no session bus, no sound card, no autospawn. Every process is
started by the test and stopped by its PID (:class:`desktop.rig.Proc`), tied to the test
process with ``setpriv --pdeathsig`` so nothing outlives a killed run.

Use::

    with PulseServer(tmp_path) as server:
        rec = server.record(server.MICROPHONE)   # a real parecord client
        ...
        server.stop_client(rec)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from desktop.rig import PACKAGES, Proc, proc_stat, require, stop_processes, wait_for
from scaffold import require_root
from shells.users import ShellUser, test_user

PACKAGES.update({"pulseaudio": "pulseaudio", "parecord": "pulseaudio-utils"})
PACKAGES.setdefault("pactl", "pulseaudio-utils")

#: how long the server and its clients get to come up
READY = 10.0


class PulseServer:
    MICROPHONE = "microphone"
    SPEAKER = "speaker"
    MONITOR = "speaker.monitor"

    def __init__(self, base: Path, *, module_args: str = "", as_other_user: bool = False) -> None:
        """``module_args`` go to module-native-protocol-unix (``auth-cookie=...``).

        ``as_other_user``: the server and its clients run as the shells' test user
        (tests/shells/users.py), so our credentials do not let us in: only the cookie
        does. That takes root (skipped otherwise, failed in CI: scaffold.require_root).
        """
        self.base = base
        # a socket path has at most 107 bytes, and another user must reach every file:
        # all of the server's files live in a short directory of its own in /tmp
        self.root = Path(tempfile.mkdtemp(prefix="pa-"))
        self.runtime = self.root / "run"
        self.home = self.root / "home"
        self.socket = self.runtime / "pulse" / "native"
        self.module_args = module_args
        self.user: ShellUser | None = None
        if as_other_user:
            require_root("running an audio server as another user")
            self.user = test_user()
        self.server: Proc | None = None
        self.clients: list[Proc] = []
        self.log = base / "pulseaudio.log"

    # ------------------------------------------------------------------ server

    def env(self) -> dict[str, str]:
        """The environment of a client of this server (and nothing of the machine's)."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "PULSE_RUNTIME_PATH": str(self.runtime / "pulse"),
            "PULSE_SERVER": f"unix:{self.socket}",
        }

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        for path in (self.runtime, self.home):
            path.mkdir(mode=0o700, exist_ok=True)
        script = self.root / "default.pa"
        script.write_text(
            f"load-module module-native-protocol-unix {self.module_args}\n"
            f"load-module module-null-sink sink_name={self.SPEAKER}\n"
            f"load-module module-null-source source_name={self.MICROPHONE}\n"
        )
        argv = [
            require("pulseaudio"),
            "-n",
            "-F",
            str(script),
            "--daemonize=no",
            "--system=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--log-target=stderr",
        ]
        if self.user is not None:
            self.root.chmod(0o755)
            self.user.own(self.runtime, self.home, script)
        self.server = self._spawn("pulseaudio", argv)
        wait_for(self._answers, READY, what=f"pulseaudio on {self.socket}\n{self.tail()}")

    def _answers(self) -> bool:
        assert self.server is not None
        if not self.server.alive():
            raise RuntimeError(f"pulseaudio exited\n{self.tail()}")
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(self.socket))
            except OSError:
                return False
        return True

    def kill(self) -> None:
        """End the server at once (SIGKILL), as a crash would, and wait until it is gone."""
        assert self.server is not None
        self.server.signal(signal.SIGKILL)
        wait_for(lambda: not self.server or not self.server.alive(), READY, what="pulseaudio gone")
        if self.server.popen is not None:
            self.server.popen.wait(READY)

    def cookie(self) -> bytes:
        """The cookie the server made itself at its first start."""
        return (self.home / ".config" / "pulse" / "cookie").read_bytes()

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------------ clients

    def record(self, source: str) -> Proc:
        """A real recording client (``parecord``) on ``source``; returns once the server
        lists its stream (checked with ``pactl``, not with the code under test)."""
        before = set(self.source_outputs())
        proc = self._spawn("parecord", [require("parecord"), "-d", source, "/dev/null"])
        self.clients.append(proc)
        index = self.source_index(source)

        def listed() -> bool:
            if not proc.alive():
                raise RuntimeError(f"parecord exited\n{self.tail()}")
            return any(
                sid == index for out, sid in self.source_outputs().items() if out not in before
            )

        wait_for(listed, READY, what=f"a recording from {source}")
        return proc

    def stop_client(self, proc: Proc) -> None:
        """Stop a client by its PID and wait until the server no longer lists it."""
        count = len(self.source_outputs())
        assert stop_processes([proc]) == []
        self.clients.remove(proc)
        wait_for(lambda: len(self.source_outputs()) < count, READY, what="the stream gone")

    def pactl(self, *args: str) -> str:
        return subprocess.run(
            [*self._as_user(), require("pactl"), *args],
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
            timeout=READY,
        ).stdout

    def source_outputs(self) -> dict[int, int]:
        """Source output index → source index, as ``pactl`` lists them."""
        rows = (
            line.split("\t") for line in self.pactl("list", "short", "source-outputs").splitlines()
        )
        return {int(row[0]): int(row[1]) for row in rows if row and row[0]}

    def source_index(self, name: str) -> int:
        for line in self.pactl("list", "short", "sources").splitlines():
            index, source, *_ = line.split("\t")
            if source == name:
                return int(index)
        raise LookupError(f"no source {name} on the test server")

    # ------------------------------------------------------------------ plumbing

    def _spawn(self, name: str, argv: Sequence[str]) -> Proc:
        tie = [require("setpriv"), "--pdeathsig", "KILL", *self._become(), "--"]
        with open(self.log, "ab") as out:
            popen = subprocess.Popen(
                [*tie, *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env(),
                cwd=self.base,
                start_new_session=True,
            )
        st = proc_stat(popen.pid)
        return Proc("audio", name, popen.pid, st.start if st else -1, popen)

    def _become(self) -> list[str]:
        return self.user.become() if self.user is not None else []

    def _as_user(self) -> list[str]:
        return [require("setpriv"), *self._become(), "--"] if self.user is not None else []

    def close(self) -> None:
        procs = [*([self.server] if self.server else []), *self.clients]
        survivors = stop_processes(procs)
        self.clients.clear()
        shutil.rmtree(self.root, ignore_errors=True)
        assert survivors == [], f"audio processes survived: {survivors}"

    def __enter__(self) -> PulseServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def pulse_server(tmp_path: Path) -> Iterator[PulseServer]:
    """A started private PulseAudio server, stopped (with its clients) after the test."""
    with PulseServer(tmp_path / "pulse") as server:
        yield server
