"""One real desktop shell's session, run as an ordinary user, for end-to-end tests.

A :class:`ShellSession` is what a login gives a user, made private: a state directory
with a home, XDG dirs and an ``XDG_RUNTIME_DIR`` (the user's, 0700), a session bus with
the standard session config (D-Bus activation works, e.g. dconf) that also lets the test
process's uid connect and monitor, and optionally a system bus. Shell modules
(``sway.py``, ``gnome.py``, ``kde.py``) start their compositor and servers in it with
:meth:`ShellSession.spawn`; tests run ergobreak in it with :meth:`run_ergobreak` and talk
to the daemon with :meth:`cli`, as the same user (its IPC is peer-checked).

Every process started here, and everything they start (found by a marker variable in
their environment, since compositors double-fork what they ``exec``), is stopped by PID
with its start time checked; :meth:`stop` raises if anything survives. Every process
gets SIGTERM if the thread that started it dies (``setpriv --pdeathsig``), so a killed
pytest leaves no shell behind.
"""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from desktop.rig import Bus, Proc, proc_stat, require, stop_processes, wait_for

from .monitor import Monitor
from .users import ShellUser, python_for, test_user

#: every process of a session carries this variable (value: its state dir)
MARKER = "ERGOBREAK_SHELL_SESSION"

SESSION_CONF = "/usr/share/dbus-1/session.conf"

#: the user's ergobreak config, relative to the state dir (the XDG default place)
CONFIG_FILE = "home/.config/ergobreak/config.toml"

_DOCTYPE = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
"""

_SESSION_BUS_CONF = (
    _DOCTYPE
    + """<!-- The standard session bus (activation, limits) that the test process may also use. -->
<busconfig>
  <include>{session_conf}</include>
  <policy context="default">
    <allow user="{tester}"/>
  </policy>
</busconfig>
"""
)

_SYSTEM_BUS_CONF = (
    _DOCTYPE
    + """<!-- A private stand-in for the system bus: no services, everyone may do anything. -->
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"""
)

#: what the user's processes see besides the session's own variables
_BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "SHELL": "/bin/sh",
    "LANG": "C.UTF-8",
    "NO_AT_BRIDGE": "1",
}


class SessionError(RuntimeError):
    """The session could not be started or stopped as promised."""


class ShellSession:
    """A private login session for ``shell`` ("sway", "gnome", ...); a context manager.

    ``env`` is what the shell module sets on top (XDG_CURRENT_DESKTOP, XDG_SESSION_TYPE,
    ...); ``system_bus`` adds a private system bus (GNOME and KDE need one).
    """

    def __init__(
        self,
        shell: str,
        env: Mapping[str, str] | None = None,
        *,
        system_bus: bool = False,
        timeout: float = 20.0,
        grace: float = 5.0,
    ) -> None:
        self.shell = shell
        self.user: ShellUser = test_user()
        self.timeout = timeout
        self.grace = grace
        self.want_system_bus = system_bus
        self.state_dir = Path()
        self.env: dict[str, str] = {}
        self._shell_env = dict(env or {})
        self.procs: list[Proc] = []  # everything spawned, in start order
        self.bus_procs: list[Proc] = []
        self.bus_address = ""
        self.system_bus_address = ""
        self._bus: Bus | None = None
        self._monitors: list[Monitor] = []
        self.started_at = 0.0

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> ShellSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> ShellSession:
        """Make the state dir and start the bus(es); on failure stop what started."""
        self.started_at = time.monotonic()
        try:
            self._make_dirs()
            if self.want_system_bus:
                self._start_system_bus()
            self._start_session_bus()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every process of the session by PID (the buses last); raise SessionError
        naming any survivor. The state dir is removed only when nothing survived."""
        for monitor in self._monitors:
            monitor.close()
        self._monitors.clear()
        if self._bus is not None:
            with contextlib.suppress(OSError):
                self._bus.close()
            self._bus = None
        others = [p for p in self.procs if p not in self.bus_procs]
        survivors = stop_processes(others, self.grace)
        survivors += stop_processes(self.members(), self.grace)  # double-forked ones
        survivors += stop_processes(self.bus_procs, self.grace)
        survivors += self.members()
        if survivors:
            raise SessionError(f"{self.shell}: still alive after stop: {survivors}")
        if self.state_dir.name:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def members(self) -> list[Proc]:
        """Every live process carrying this session's marker, spawned here or not."""
        if not self.state_dir.name:
            return []
        want = f"{MARKER}={self.state_dir}".encode()
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            st = proc_stat(pid)
            if st is None or st.state in "ZX":
                continue
            try:
                environ = Path(entry.path, "environ").read_bytes().split(b"\0")
                comm = Path(entry.path, "comm").read_text().strip()
            except OSError:
                continue
            if want in environ:
                found.append(Proc(self.shell, comm, pid, st.start))
        return found

    def belongs(self, pid: int | None) -> bool:
        """``pid`` is a live process of this session."""
        return pid is not None and any(p.pid == pid for p in self.members())

    # ------------------------------------------------------------------ files
    @property
    def home(self) -> Path:
        return self.state_dir / "home"

    @property
    def runtime_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    def write(self, relative: str | Path, text: str, mode: int = 0o644) -> Path:
        """Write a file under the state dir (parents made), owned by the user."""
        path = self.state_dir / relative
        made = [p for p in reversed(path.parents) if self.state_dir in p.parents]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
        self.user.own(*made, path)
        return path

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def log_tails(self, lines: int = 40) -> str:
        """The end of every log, for a failing test's report."""
        out = []
        for path in sorted(self.logs.glob("*.log")) if self.state_dir.name else ():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(out)

    def _make_dirs(self) -> None:
        self.state_dir = Path(tempfile.mkdtemp(prefix=f"ergobreak-{self.shell}-"))
        made = [self.state_dir]
        for sub in ("home", "home/.config", "home/.local/share", "home/.local/state"):
            made.append(self.state_dir / sub)
            made[-1].mkdir(parents=True, exist_ok=True)
        for sub in ("home/.cache", "run", "logs"):
            made.append(self.state_dir / sub)
            made[-1].mkdir(mode=0o700)
        self.runtime_dir.chmod(0o700)  # whatever the umask: XDG_RUNTIME_DIR must be 0700
        self.user.own(*made, self.state_dir / "home/.local")
        self.env = {
            **_BASE_ENV,
            "HOME": str(self.home),
            "USER": self.user.name,
            "LOGNAME": self.user.name,
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local/share"),
            "XDG_STATE_HOME": str(self.home / ".local/state"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            MARKER: str(self.state_dir),
            **self._shell_env,
        }

    # ------------------------------------------------------------------ processes
    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        pass_fds: Sequence[int] = (),
    ) -> Proc:
        """Start a long-running process as the user: session env (plus ``env``), stdin
        /dev/null, output to ``logs/NAME.log``, its own session, tracked for :meth:`stop`."""
        argv = [require(argv[0]), *argv[1:]]
        with open(self.log_path(name), "ab") as log:
            log.write(f"=== {time.strftime('%H:%M:%S')} {shlex.join(argv)}\n".encode())
            log.flush()
            popen = subprocess.Popen(
                self._as_user(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**self.env, **(env or {})},
                cwd=self.home,
                pass_fds=pass_fds,
                start_new_session=True,
            )
        st = proc_stat(popen.pid)
        proc = Proc(self.shell, name, popen.pid, st.start if st else -1, popen)
        self.procs.append(proc)
        return proc

    def run(
        self,
        *argv: str,
        env: Mapping[str, str] | None = None,
        timeout: float = 15.0,
        check: bool = True,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a short-lived client as the user (makoctl, wtype, grim, gsettings, ...)."""
        return subprocess.run(
            self._as_user([require(argv[0]), *argv[1:]]),
            env={**self.env, **(env or {})},
            cwd=self.home,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    def stop_proc(self, proc: Proc) -> None:
        """Stop one process started here (and its session members)."""
        survivors = stop_processes([proc], self.grace)
        if survivors:
            raise SessionError(f"still alive after stop: {survivors}")
        self.procs.remove(proc)

    def ready(self, proc: Proc, predicate: object, what: str, timeout: float | None = None) -> None:
        """Wait until ``predicate()`` holds, failing at once (with its log) if ``proc`` dies."""
        assert callable(predicate)

        def check() -> object:
            if not proc.alive():
                raise SessionError(f"{proc.name} died before {what}\n{self._tail(proc.name)}")
            return predicate()

        try:
            wait_for(check, timeout or self.timeout, interval=0.02, what=f"{proc.name}: {what}")
        except TimeoutError as exc:
            raise SessionError(f"{exc}\n{self._tail(proc.name)}") from None

    def _as_user(self, argv: Sequence[str]) -> list[str]:
        return [require("setpriv"), *self.user.become(), "--pdeathsig", "TERM", "--", *argv]

    def _tail(self, name: str) -> str:
        path = self.log_path(name)
        lines = path.read_text(errors="replace").splitlines()[-25:] if path.exists() else []
        return f"--- {path}\n" + "\n".join(lines)

    def _start_daemon_with_address(self, name: str, argv: Sequence[str]) -> str:
        """Start a dbus-daemon; return the address it prints once it listens."""
        read_fd, write_fd = os.pipe()
        try:
            proc = self.spawn(name, [*argv, f"--print-address={write_fd}"], pass_fds=[write_fd])
            self.bus_procs.append(proc)
            os.close(write_fd)
            write_fd = -1
            data = b""
            deadline = time.monotonic() + self.timeout
            while not data.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                    raise SessionError(
                        f"{name}: no address in {self.timeout:g}s\n{self._tail(name)}"
                    )
                chunk = os.read(read_fd, 1024)
                if not chunk:
                    raise SessionError(f"{name} exited before listening\n{self._tail(name)}")
                data += chunk
            return data.decode().strip()
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)

    def _start_session_bus(self) -> None:
        tester = "root" if os.geteuid() == 0 else self.user.name
        conf = self.write(
            "session-bus.conf",
            _SESSION_BUS_CONF.format(session_conf=SESSION_CONF, tester=tester),
        )
        socket = self.runtime_dir / "bus"
        self.bus_address = self._start_daemon_with_address(
            "dbus-session",
            [
                *("dbus-daemon", f"--config-file={conf}", "--nofork", "--nopidfile"),
                f"--address=unix:path={socket}",
            ],
        )
        self.env["DBUS_SESSION_BUS_ADDRESS"] = self.bus_address
        self._bus = Bus(self.bus_address)

    def _start_system_bus(self) -> None:
        socket = self.runtime_dir / "system_bus"
        conf = self.write("system-bus.conf", _SYSTEM_BUS_CONF.format(socket=socket))
        self.system_bus_address = self._start_daemon_with_address(
            "dbus-system",
            ["dbus-daemon", f"--config-file={conf}", "--nofork", "--nopidfile"],
        )
        self.env["DBUS_SYSTEM_BUS_ADDRESS"] = self.system_bus_address

    # ------------------------------------------------------------------ D-Bus
    @property
    def bus(self) -> Bus:
        """The test process's own connection to the session bus (not thread-safe)."""
        if self._bus is None:
            raise SessionError("the session bus is not running")
        return self._bus

    def connect_bus(self) -> Bus:
        """A separate connection to the session bus (close it, or use ``with``)."""
        return Bus(self.bus_address)

    def monitor(self, rules: Sequence[str] = ()) -> Monitor:
        """Watch the session bus from now on; closed by :meth:`stop` if not before."""
        monitor = Monitor(self.bus_address, rules)
        self._monitors.append(monitor)
        return monitor

    def wait_bus_name(self, name: str, timeout: float | None = None) -> int:
        """Wait until ``name`` is owned by a process of this session; return its PID."""

        def owner() -> int | None:
            pid = self.bus.owner_pid(name)
            return pid if self.belongs(pid) else None

        found = wait_for(owner, timeout or self.timeout, interval=0.02, what=f"{name} on the bus")
        assert found is not None
        return found

    # ------------------------------------------------------------------ ergobreak
    def ergobreak_argv(self, *args: str) -> list[str]:
        """``python -m ergobreak ARGS`` with an interpreter the user can run."""
        python, _ = python_for(self.user)
        return [python, "-m", "ergobreak", *args]

    def ergobreak_env(self) -> dict[str, str]:
        _, extra = python_for(self.user)
        return {**self.env, **extra}

    def run_ergobreak(
        self, config_text: str, *extra: str, name: str = "ergobreak", timeout: float = 15.0
    ) -> Proc:
        """Write the user's config file where ergobreak looks for it
        (``~/.config/ergobreak/config.toml``) and start ``ergobreak run`` on it as the
        user; wait until its IPC answers. (Not in ``~`` itself: the daemon watches the
        config's folder, and a home directory is never quiet.)"""
        config = self.write(CONFIG_FILE, config_text)
        argv = self.ergobreak_argv("run", "--config", str(config), *extra)
        proc = self.spawn(name, argv, env=self.ergobreak_env())
        self.ready(proc, lambda: self.cli("status")[0] == 0, "answers `status`", timeout)
        return proc

    def cli(self, *args: str, timeout: float = 20.0) -> tuple[int, str, str]:
        """``ergobreak ARGS`` as the user: exit code, stdout, stderr."""
        done = subprocess.run(
            self._as_user(self.ergobreak_argv(*args)),
            env=self.ergobreak_env(),
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return done.returncode, done.stdout, done.stderr
