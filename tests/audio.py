"""Private audio servers for tests, each with a virtual microphone and speaker:
PulseAudio, and PipeWire with its PulseAudio-protocol server (what ``pipewire-pulse``
runs).

- :class:`PulseServer`: ``pulseaudio -n`` loads nothing but the script written here:
  the native protocol on a socket in a private runtime dir, a null sink (``speaker``,
  whose monitor source is ``speaker.monitor``) and a null source (``microphone``, a
  virtual source that records silence).
- :class:`PipeWireServer`: two ``pipewire`` processes as a desktop runs them, the core
  (with the same two null nodes) and the PulseAudio-protocol server. No session manager
  is installed here, so :meth:`PipeWireServer.record` does its one job for each stream:
  the stream's port configuration and its links to the source (``pw-cli``, ``pw-link``).

Neither needs a system bus, a session bus or a sound card. Every process is started by
the test and stopped by its PID (:class:`desktop.rig.Proc`), tied to the test process
with ``setpriv --pdeathsig`` so nothing outlives a killed run. The fixtures
``pulse_server`` and ``pipewire_server`` (registered for the whole suite in
tests/conftest.py) give a started server and stop it, with its clients, after the test.

Use::

    rec = pulse_server.record(pulse_server.MICROPHONE)   # a real parecord client
    ...
    pulse_server.stop_client(rec)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from desktop.rig import PACKAGES, Proc, proc_stat, require, stop_processes, wait_for
from scaffold import require_root
from shells.users import ShellUser, test_user

PACKAGES.update(
    {
        "pulseaudio": "pulseaudio",
        "parecord": "pulseaudio-utils",
        "pactl": "pulseaudio-utils",
        "pipewire": "pipewire-bin",  # its protocol-pulse module: libpipewire-0.3-modules
        "pw-cli": "pipewire-bin",
        "pw-link": "pipewire-bin",
        "pw-dump": "pipewire-bin",
        "pw-record": "pipewire-bin",
    }
)

Server = TypeVar("Server", bound="AudioServer")

#: how long a server and its clients get to come up
READY = 10.0


class AudioServer:
    """What both servers share: the clients' side (``parecord``, ``pactl``) and plumbing."""

    #: what the server calls itself in GET_SERVER_INFO (name and version)
    server_name = ""
    MICROPHONE = "microphone"
    SPEAKER = "speaker"
    MONITOR = "speaker.monitor"

    def __init__(self, base: Path, *, as_other_user: bool = False) -> None:
        """``as_other_user``: the server and its clients run as the shells' test user
        (tests/shells/users.py), so our credentials do not let us in: only the cookie
        does. That takes root (skipped otherwise, failed in CI: scaffold.require_root).
        """
        self.base = base
        # a socket path has at most 107 bytes, and another user must reach every file:
        # all of the server's files live in a short directory of its own in /tmp
        self.root = Path(tempfile.mkdtemp(prefix="audio-"))
        self.runtime = self.root / "run"
        self.home = self.root / "home"
        self.socket = self.runtime / "pulse" / "native"
        self.user: ShellUser | None = None
        if as_other_user:
            require_root("running an audio server as another user")
            self.user = test_user()
        self.servers: list[Proc] = []
        self.clients: list[Proc] = []
        self.log = base / "audio.log"

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
        (self.runtime / "pulse").mkdir(mode=0o700, exist_ok=True)
        if self.user is not None:
            self.root.chmod(0o755)
            self.user.own(self.runtime, self.runtime / "pulse", self.home)
        self._start()
        wait_for(self._answers, READY, what=f"an audio server on {self.socket}\n{self.tail()}")

    def _start(self) -> None:
        raise NotImplementedError

    def _answers(self) -> bool:
        for proc in self.servers:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited\n{self.tail()}")
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(self.socket))
            except OSError:
                return False
        return True

    def kill(self) -> None:
        """End the server at once (SIGKILL), as a crash would, and wait until it is gone."""
        for proc in reversed(self.servers):
            proc.signal(signal.SIGKILL)
            wait_for(_gone(proc), READY, what=f"{proc.name} gone")
            if proc.popen is not None:
                proc.popen.wait(READY)
        self.servers.clear()
        self.socket.unlink(missing_ok=True)

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------------ clients

    def record(self, source: str, argv: Sequence[str] | None = None) -> Proc:
        """A real recording client on ``source`` (``parecord``, or ``argv``); returns once
        the server lists its stream on that source (seen with ``pactl``, not with the code
        under test)."""
        before = set(self.source_outputs())
        argv = argv or ["parecord", "-d", source, "/dev/null"]
        proc = self._spawn(argv[0], [require(argv[0]), *argv[1:]])
        self.clients.append(proc)
        self._route(proc, source)
        index = self.source_index(source)

        def listed() -> bool:
            if not proc.alive():
                raise RuntimeError(f"parecord exited\n{self.tail()}")
            return any(
                sid == index for out, sid in self.source_outputs().items() if out not in before
            )

        wait_for(listed, READY, what=f"a recording from {source}")
        return proc

    def _route(self, proc: Proc, source: str) -> None:
        """Connect a new stream to ``source`` where a session manager would."""

    def stop_client(self, proc: Proc) -> None:
        """Stop a client by its PID and wait until the server no longer lists it."""
        count = len(self.source_outputs())
        assert stop_processes([proc]) == []
        self.clients.remove(proc)
        wait_for(lambda: len(self.source_outputs()) < count, READY, what="the stream gone")

    def run(self, *argv: str) -> str:
        """A client tool, as the server's user, in the clients' environment."""
        return subprocess.run(
            [*self._as_user(), require(argv[0]), *argv[1:]],
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
            timeout=READY,
        ).stdout

    def source_outputs(self) -> dict[int, int]:
        """Source output index → source index, as ``pactl`` lists them."""
        listing = self.run("pactl", "list", "short", "source-outputs")
        rows = (line.split("\t") for line in listing.splitlines())
        return {int(row[0]): int(row[1]) for row in rows if row and row[0]}

    def source_index(self, name: str) -> int:
        for line in self.run("pactl", "list", "short", "sources").splitlines():
            index, source, *_ = line.split("\t")
            if source == name:
                return int(index)
        raise LookupError(f"no source {name} on the test server")

    def cookie(self) -> bytes:
        """The cookie the server made itself at its first start."""
        return (self.home / ".config" / "pulse" / "cookie").read_bytes()

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
                cwd=self.root,
                start_new_session=True,
            )
        st = proc_stat(popen.pid)
        return Proc("audio", name, popen.pid, st.start if st else -1, popen)

    def _become(self) -> list[str]:
        return self.user.become() if self.user is not None else []

    def _as_user(self) -> list[str]:
        return [require("setpriv"), *self._become(), "--"] if self.user is not None else []

    def _write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text)
        path.chmod(0o644)
        return path

    def close(self) -> None:
        survivors = stop_processes([*self.servers, *self.clients])
        self.servers.clear()
        self.clients.clear()
        shutil.rmtree(self.root, ignore_errors=True)
        assert survivors == [], f"audio processes survived: {survivors}"

    def __enter__(self: Server) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _gone(proc: Proc) -> Callable[[], bool]:
    return lambda: not proc.alive()


class PulseServer(AudioServer):
    server_name = "pulseaudio"

    def _start(self) -> None:
        script = self._write(
            "default.pa",
            "load-module module-native-protocol-unix\n"
            f"load-module module-null-sink sink_name={self.SPEAKER}\n"
            f"load-module module-null-source source_name={self.MICROPHONE}\n",
        )
        argv = [
            require("pulseaudio"),
            *("-n", "-F", str(script)),
            *("--daemonize=no", "--system=no", "--exit-idle-time=-1"),
            *("--use-pid-file=no", "--log-target=stderr"),
        ]
        self.servers.append(self._spawn("pulseaudio", argv))


#: the nodes of a PipeWire core with no session manager and no sound card
_NULL_NODE = (
    "{{ factory = adapter args = {{ factory.name = support.null-audio-sink "
    "node.name = {name} media.class = {klass} audio.position = [ FL FR ] "
    "adapter.auto-port-config = {{ mode = dsp monitor = true position = preserve }} }} }}"
)
_SPA_LIBS = """context.spa-libs = {
    audio.convert.* = audioconvert/libspa-audioconvert
    support.*       = support/libspa-support
}
"""
#: what a session manager sets on a capture stream before linking it (dsp: one port per
#: channel, as the null nodes have)
PORT_CONFIG = json.dumps(
    {
        "direction": "Input",
        "mode": "dsp",
        "monitor": False,
        "control": False,
        "format": {
            "mediaType": "audio",
            "mediaSubtype": "raw",
            "format": "F32P",
            "rate": 48000,
            "channels": 2,
            "position": ["FL", "FR"],
        },
    }
)


class PipeWireServer(AudioServer):
    server_name = "PulseAudio (on PipeWire"

    def _start(self) -> None:
        core = self._write(
            "core.conf",
            "context.properties = { core.daemon = true core.name = pipewire-0 }\n"
            + _SPA_LIBS
            + "context.modules = [\n"
            + "".join(
                f"    {{ name = libpipewire-module-{m} }}\n"
                for m in (
                    "protocol-native",
                    "metadata",
                    "spa-node-factory",
                    "client-node",
                    "adapter",
                    "link-factory",
                    "access",
                )
            )
            + "]\ncontext.objects = [\n"
            "    { factory = metadata args = { metadata.name = default } }\n"
            "    { factory = spa-node-factory args = { factory.name = support.node.driver "
            "node.name = Dummy-Driver priority.driver = 20000 } }\n"
            f"    {_NULL_NODE.format(name=self.MICROPHONE, klass='Audio/Source/Virtual')}\n"
            f"    {_NULL_NODE.format(name=self.SPEAKER, klass='Audio/Sink')}\n"
            "]\n",
        )
        pulse = self._write(
            "pulse.conf",
            "context.properties = { }\n"
            + _SPA_LIBS
            + "context.modules = [\n"
            + "".join(
                f"    {{ name = libpipewire-module-{m} }}\n"
                for m in ("protocol-native", "client-node", "adapter", "metadata")
            )
            + "    { name = libpipewire-module-protocol-pulse args = { server.address = "
            f'[ "unix:{self.socket}" ] }} }}\n'
            "]\n",
        )
        pipewire = require("pipewire")
        self.servers.append(self._spawn("pipewire", [pipewire, "-c", str(core)]))
        wait_for(
            (self.runtime / "pipewire-0").exists, READY, what=f"pipewire's socket\n{self.tail()}"
        )
        self.servers.append(self._spawn("pipewire-pulse", [pipewire, "-c", str(pulse)]))

    def record_native(self, source: str, **properties: object) -> Proc:
        """A native PipeWire client (``pw-record``) on ``source``, with extra stream
        ``properties`` (``{"resample.peaks": True}``: what a level meter sets)."""
        target = source.split(".", maxsplit=1)[0]
        props = json.dumps(properties)
        argv = ["pw-record", "--target", target, "-P", props, "/dev/null"]
        return self.record(source, argv)

    def _dump(self) -> list[dict[str, Any]]:
        objects: list[dict[str, Any]] = json.loads(self.run("pw-dump"))
        return objects

    def _route(self, proc: Proc, source: str) -> None:
        def stream_node() -> int | None:
            # a PulseAudio client's node carries its process id; a native client's node
            # names its client object, which does
            objects = [(o, (o.get("info") or {}).get("props") or {}) for o in self._dump()]
            mine = {
                str(o["id"])
                for o, props in objects
                if o["type"].endswith(":Client")
                and str(props.get("application.process.id")) == str(proc.pid)
            }
            for o, props in objects:
                if o["type"].endswith(":Node") and (
                    str(props.get("application.process.id")) == str(proc.pid)
                    or str(props.get("client.id")) in mine
                ):
                    return int(o["id"])
            return None

        node = wait_for(stream_node, READY, what=f"the PipeWire node of {proc.name} {proc.pid}")
        self.run("pw-cli", "set-param", str(node), "PortConfig", PORT_CONFIG)

        def input_ports() -> dict[str, int]:
            ports = {}
            for obj in self._dump():
                props = (obj.get("info") or {}).get("props") or {}
                if (
                    obj["type"].endswith(":Port")
                    and str(props.get("node.id")) == str(node)
                    and props.get("port.direction") == "in"
                ):
                    ports[str(props.get("audio.channel"))] = int(obj["id"])
            return ports if len(ports) == 2 else {}

        ports = wait_for(input_ports, READY, what=f"the input ports of node {node}")
        node_name, kind = (
            source.split(".", maxsplit=1)[0],
            "monitor" if source.endswith(".monitor") else "capture",
        )
        for channel, port in ports.items():
            self.run("pw-link", f"{node_name}:{kind}_{channel}", str(port))


@pytest.fixture
def pulse_server(tmp_path: Path) -> Iterator[AudioServer]:
    """A started private PulseAudio server, stopped (with its clients) after the test."""
    with PulseServer(tmp_path / "pulse") as server:
        yield server


@pytest.fixture
def pipewire_server(tmp_path: Path) -> Iterator[PipeWireServer]:
    """A started private PipeWire (core and PulseAudio-protocol server), stopped (with
    its clients) after the test."""
    with PipeWireServer(tmp_path / "pipewire") as server:
        yield server
