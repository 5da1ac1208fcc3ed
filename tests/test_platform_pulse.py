"""platform/pulse.py: the PulseAudio native protocol byte for byte, and the microphone
detector against a real PulseAudio server with a real recording client (tests/audio.py).

The wire bytes here are written out by hand from tagstruct.c / pstream.c, not with the
module's own writer, so a codec bug cannot hide behind itself.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from audio import AudioServer, PipeWireServer, PulseServer

from ergobreak.platform import pulse
from ergobreak.platform.base import SeatedDetector, Unavailable
from ergobreak.platform.pulse import (
    INVALID_INDEX,
    Command,
    ProtocolError,
    PulseConnection,
    PulseMicrophone,
    ServerError,
    Source,
    SourceOutput,
    TagReader,
    TagWriter,
)

# --------------------------------------------------------------------------- hand-made bytes


def u32(value: int) -> bytes:
    return b"L" + struct.pack(">I", value)


def u8(value: int) -> bytes:
    return b"B" + bytes([value])


def s(value: str | None) -> bytes:
    return b"N" if value is None else b"t" + value.encode() + b"\0"


def usec(value: int) -> bytes:
    return b"U" + struct.pack(">Q", value)


def boolean(value: bool) -> bytes:
    return b"1" if value else b"0"


def spec(fmt: int = 3, channels: int = 2, rate: int = 44100) -> bytes:
    return b"a" + bytes([fmt, channels]) + struct.pack(">I", rate)


def cmap(*positions: int) -> bytes:
    return b"m" + bytes([len(positions), *positions])


def cvol(*values: int) -> bytes:
    return b"v" + bytes([len(values)]) + b"".join(struct.pack(">I", v) for v in values)


def volume(value: int) -> bytes:
    return b"V" + struct.pack(">I", value)


def proplist(**props: str) -> bytes:
    body = b""
    for key, value in props.items():
        raw = value.encode() + b"\0"
        body += s(key.replace("_", ".")) + u32(len(raw)) + b"x" + struct.pack(">I", len(raw)) + raw
    return b"P" + body + b"N"


def format_info(encoding: int = 1) -> bytes:
    return b"f" + u8(encoding) + proplist()


def source_output(
    version: int,
    *,
    index: int = 7,
    client: int = 3,
    source: int = 1,
    module: int = INVALID_INDEX,
    resample: str | None = None,
    corked: bool = False,
) -> bytes:
    """One entry of GET_SOURCE_OUTPUT_INFO_LIST as protocol-native.c writes it."""
    data = (
        u32(index)
        + s("Recording")
        + u32(module)
        + u32(client)
        + u32(source)
        + spec()
        + cmap(1, 2)
        + usec(1000)
        + usec(2000)
        + s(resample)
        + s("protocol-native.c")
    )
    if version >= 13:
        data += proplist(application_name="meet")
    if version >= 19:
        data += boolean(corked)
    if version >= 22:
        data += cvol(65536, 65536) + boolean(False) + boolean(True) + boolean(True) + format_info()
    return data


def source_entry(
    version: int, *, index: int = 1, name: str = "mic", monitor_of: int = INVALID_INDEX
) -> bytes:
    """One entry of GET_SOURCE_INFO_LIST as protocol-native.c writes it."""
    data = (
        u32(index)
        + s(name)
        + s("A microphone")
        + spec()
        + cmap(1, 2)
        + u32(4)
        + cvol(65536, 65536)
        + boolean(False)
        + u32(monitor_of)
        + s(None if monitor_of == INVALID_INDEX else "speaker")
        + usec(0)
        + s("module-alsa-card.c")
        + u32(0x23)
    )
    if version >= 13:
        data += proplist(device_class="sound") + usec(20000)
    if version >= 15:
        data += volume(65536) + u32(0) + u32(65537) + u32(INVALID_INDEX)
    if version >= 16:
        ports = [("analog-input-mic", "Microphone", 8700), ("analog-input-line", "Line In", 8100)]
        data += u32(len(ports))
        for port, description, priority in ports:
            data += s(port) + s(description) + u32(priority)
            if version >= 24:
                data += u32(2)
            if version >= 34:
                data += s(None) + u32(3)
        data += s("analog-input-mic")
    if version >= 22:
        data += u8(2) + format_info(1) + format_info(1)
    return data


# --------------------------------------------------------------------------- the codec


def test_the_auth_packet_is_byte_for_byte_what_libpulse_sends() -> None:
    cookie = bytes(range(256))
    packet = pulse.frame(pulse.command(Command.AUTH, 1, pulse.auth_args(cookie)))
    payload = u32(8) + u32(1) + u32(35) + b"x" + struct.pack(">I", 256) + cookie
    assert packet == struct.pack(">5I", len(payload), 0xFFFFFFFF, 0, 0, 0) + payload


def test_the_client_name_is_a_proplist_of_nul_terminated_strings() -> None:
    written = TagWriter().proplist({"application.name": "ergobreak"}).getvalue()
    assert written == proplist(application_name="ergobreak")
    assert TagReader(written).proplist() == {"application.name": b"ergobreak\0"}


def test_a_cookie_has_256_bytes() -> None:
    with pytest.raises(ValueError, match="256"):
        pulse.auth_args(b"short")


@pytest.mark.parametrize("version", [13, 15, 16, 19, 22, 24, 34, 35])
def test_source_outputs_parse_exactly_per_version(version: int) -> None:
    data = source_output(version, index=7, corked=True) + source_output(version, index=8)
    outputs = pulse.parse_source_outputs(TagReader(data), version)
    assert [o.index for o in outputs] == [7, 8]
    assert [o.corked for o in outputs] == ([True, False] if version >= 19 else [False, False])
    assert (outputs[1].client, outputs[1].source, outputs[1].name) == (3, 1, "Recording")
    assert pulse.prop(outputs[1].properties, "application.name") == "meet"


@pytest.mark.parametrize("version", [13, 15, 16, 19, 22, 24, 34, 35])
def test_sources_parse_exactly_per_version(version: int) -> None:
    data = source_entry(version, index=0, name="speaker.monitor", monitor_of=0)
    data += source_entry(version, index=1, name="mic")
    sources = pulse.parse_sources(TagReader(data), version)
    assert sources == [Source(0, "speaker.monitor", 0), Source(1, "mic", INVALID_INDEX)]


def test_a_reply_written_for_another_version_is_refused_not_misread() -> None:
    # v35 bytes read as v22: the port's extra fields land where the next entry should be
    with pytest.raises(ProtocolError):
        pulse.parse_sources(TagReader(source_entry(35)), 22)
    with pytest.raises(ProtocolError):
        pulse.parse_source_outputs(TagReader(source_output(22)), 19)


@pytest.mark.parametrize(
    ("data", "read", "message"),
    [
        (b"L\0\0", TagReader.u32, "ends inside"),
        (b"t" + b"no end", TagReader.string, "unterminated"),
        (b"B\1", TagReader.u32, "expected tag 'L'"),
        (b"m" + bytes([33]) + bytes(33), TagReader.channel_map, "33 channels"),
        (b"x" + struct.pack(">I", 5) + b"abc", TagReader.arbitrary, "ends inside"),
        (b"2", TagReader.boolean, "expected tag '1' or '0'"),
    ],
)
def test_malformed_bytes_are_protocol_errors(
    data: bytes, read: Callable[[TagReader], object], message: str
) -> None:
    with pytest.raises(ProtocolError, match=message):
        read(TagReader(data))


def test_server_info_is_read_to_its_end() -> None:
    data = s("pulseaudio") + s("16.1") + s("root") + s("vm") + spec() + s("spk") + s("mic")
    data += u32(0x1234) + cmap(1, 2)
    info = pulse.parse_server_info(TagReader(data), 35)
    assert (info.name, info.version) == ("pulseaudio", "16.1")
    with pytest.raises(ProtocolError, match="left"):
        pulse.parse_server_info(TagReader(data), 14)  # a v14 server sends no channel map


def _out(**kw: object) -> SourceOutput:
    fields: dict[str, object] = {
        "index": 1,
        "name": "rec",
        "owner_module": INVALID_INDEX,
        "client": 5,
        "source": 1,
        "resample_method": None,
        "corked": False,
    }
    fields.update(kw)
    return SourceOutput(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("output", "counts"),
    [
        (_out(), True),
        (_out(corked=True), False),  # paused
        (_out(client=INVALID_INDEX, owner_module=9), False),  # a module's loopback
        (_out(client=2), False),  # our own connection
        (_out(resample_method="peaks"), False),  # a mixer's level meter
        (_out(resample_method="speex-float-1"), True),
        (_out(properties={"resample.peaks": b"true\0"}), False),  # PipeWire's meters
        (_out(properties={"stream.monitor": b"1\0"}), False),
        (_out(properties={"stream.capture.sink": b"true\0"}), False),  # records a sink
        (_out(properties={"stream.monitor": b"false\0", "media.role": b"phone\0"}), True),
        (_out(source=0), False),  # the speaker's monitor
        (_out(source=42), False),  # a source that went away between the two lists
    ],
)
def test_what_counts_as_a_microphone_in_use(output: SourceOutput, counts: bool) -> None:
    sources = [Source(0, "speaker.monitor", 0), Source(1, "mic", INVALID_INDEX)]
    found = pulse.recording_from_microphones([output], sources, own_client=2)
    assert found == ([output] if counts else [])


# --------------------------------------------------------------------------- environment


def test_the_socket_comes_from_pulse_server_then_the_runtime_dir() -> None:
    assert pulse.server_socket({"PULSE_SERVER": "unix:/a/native"}) == "/a/native"
    assert pulse.server_socket({"PULSE_SERVER": "tcp:h {abc}unix:/b/native"}) == "/b/native"
    assert pulse.server_socket({"PULSE_SERVER": "/c/native"}) == "/c/native"
    assert pulse.server_socket({"PULSE_RUNTIME_PATH": "/d", "XDG_RUNTIME_DIR": "/e"}) == "/d/native"
    assert pulse.server_socket({"XDG_RUNTIME_DIR": "/run/user/7"}) == "/run/user/7/pulse/native"
    with pytest.raises(Unavailable, match="no unix socket"):
        pulse.server_socket({"PULSE_SERVER": "tcp:localhost:4713"})
    with pytest.raises(Unavailable, match="XDG_RUNTIME_DIR"):
        pulse.server_socket({})


def test_the_cookie_is_read_where_libpulse_looks(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".config" / "pulse").mkdir(parents=True)
    env = {"HOME": str(home)}
    assert pulse.read_cookie(env) == bytes(256)  # none: anonymous / credentials
    (home / ".pulse-cookie").write_bytes(b"\1" * 256)
    assert pulse.read_cookie(env) == b"\1" * 256
    (home / ".config" / "pulse" / "cookie").write_bytes(b"\2" * 256)
    assert pulse.read_cookie(env) == b"\2" * 256
    (tmp_path / "short").write_bytes(b"\3" * 10)  # not a cookie: skipped
    (tmp_path / "mine").write_bytes(b"\4" * 300)
    assert pulse.read_cookie({**env, "PULSE_COOKIE": str(tmp_path / "short")}) == b"\2" * 256
    assert pulse.read_cookie({**env, "PULSE_COOKIE": str(tmp_path / "mine")}) == b"\4" * 256


# --------------------------------------------------------------------------- a scripted server


class FakeServer:
    """A unix socket that answers each packet with what ``script`` returns for it."""

    def __init__(self, path: Path, script: Callable[[int, int, TagReader], list[bytes]]) -> None:
        self.path = path
        self.script = script
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(str(path))
        self.listener.listen(4)
        self.received: list[int] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
                while len(data) >= 20:
                    length = struct.unpack(">I", data[:4])[0]
                    if len(data) < 20 + length:
                        break
                    packet, data = TagReader(data[20 : 20 + length]), data[20 + length :]
                    cmd, tag = packet.u32(), packet.u32()
                    self.received.append(cmd)
                    for answer in self.script(cmd, tag, packet):
                        conn.sendall(answer)

    def close(self) -> None:
        self.listener.close()


def reply(tag: int, body: bytes = b"", command: int = Command.REPLY) -> bytes:
    payload = u32(command) + u32(tag) + body
    return struct.pack(">5I", len(payload), 0xFFFFFFFF, 0, 0, 0) + payload


SERVER_INFO = s("pulseaudio") + s("16.1") + s("u") + s("h") + spec() + s("a") + s("b") + u32(1)


def standard(cmd: int, tag: int, args: TagReader, outputs: bytes = b"") -> list[bytes]:
    """Setup answers as a v32 server gives them (SHM flag set: it must be masked)."""
    if cmd == Command.AUTH:
        return [reply(tag, u32(32 | 0x80000000))]
    if cmd == Command.SET_CLIENT_NAME:
        return [reply(tag, u32(4))]
    if cmd == Command.GET_SERVER_INFO:
        return [reply(tag, SERVER_INFO + cmap(1, 2))]
    return []


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="pf-"))
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def test_a_connection_negotiates_the_lower_version_and_skips_what_it_did_not_ask(
    sock_dir: Path,
) -> None:
    audio = struct.pack(">5I", 4, 0, 0, 0, 0) + b"\0\0\0\0"  # a memblock on channel 0

    def script(cmd: int, tag: int, args: TagReader) -> list[bytes]:
        if cmd == Command.GET_SOURCE_OUTPUT_INFO_LIST:
            event = reply(0xFFFFFFFF, u32(0x10) + u32(1), command=66)  # SUBSCRIBE_EVENT
            return [audio, event, reply(tag + 1, b""), reply(tag, source_output(32))]
        return standard(cmd, tag, args)

    server = FakeServer(sock_dir / "native", script)
    try:
        conn = PulseConnection(str(server.path), bytes(256))
        assert (conn.version, conn.client_index, conn.server.name) == (32, 4, "pulseaudio")
        outputs = pulse.parse_source_outputs(
            conn.request(Command.GET_SOURCE_OUTPUT_INFO_LIST), conn.version
        )
        assert [o.index for o in outputs] == [7]
        assert server.received == [8, 9, 20, 32]
        conn.close()
    finally:
        server.close()


def test_a_refusal_and_a_silent_server_are_errors_within_the_timeout(sock_dir: Path) -> None:
    def refuse(cmd: int, tag: int, args: TagReader) -> list[bytes]:
        return [reply(tag, u32(1), command=Command.ERROR)]  # PA_ERR_ACCESS

    server = FakeServer(sock_dir / "refuses", refuse)
    with pytest.raises(ServerError, match="AUTH refused with error 1 \\(access denied\\)"):
        PulseConnection(str(server.path), bytes(256))
    server.close()

    silent = FakeServer(sock_dir / "silent", lambda cmd, tag, args: [])
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        PulseConnection(str(silent.path), bytes(256), timeout=0.2)
    assert 0.2 <= time.monotonic() - start < 1.0  # the deadline holds (load may add a bit)
    silent.close()


def test_a_server_that_hangs_mid_call_costs_one_timeout_not_two(sock_dir: Path) -> None:
    """The reconnect is for a server that went away, not for one that stopped answering."""
    server = FakeServer(sock_dir / "hangs", standard)  # sets up, then answers nothing
    try:
        detector = PulseMicrophone(str(server.path), bytes(256), timeout=0.3)
        start = time.monotonic()
        with pytest.raises(Unavailable, match=r"hangs stopped answering: no answer within 0\.3 s"):
            detector.active()
        assert 0.3 <= time.monotonic() - start < 0.55
        assert server.received == [8, 9, 20, 32]  # no second connection was tried
        assert detector.detail.endswith("(disconnected)")
    finally:
        server.close()


def test_an_old_server_is_refused(sock_dir: Path) -> None:
    def old(cmd: int, tag: int, args: TagReader) -> list[bytes]:
        return [reply(tag, u32(12))]

    server = FakeServer(sock_dir / "old", old)
    with pytest.raises(Unavailable, match="protocol version 12"):
        PulseMicrophone(str(server.path), bytes(256))
    server.close()


# --------------------------------------------------------------------------- the real servers


@pytest.fixture(params=["pulseaudio", "pipewire"])
def server(request: pytest.FixtureRequest) -> AudioServer:
    """Each real server in turn: PulseAudio, and PipeWire's PulseAudio-protocol server."""
    fixture = {"pulseaudio": "pulse_server", "pipewire": "pipewire_server"}[request.param]
    started: AudioServer = request.getfixturevalue(fixture)
    return started


def test_a_microphone_recording_is_a_call_a_monitor_recording_is_not(
    server: AudioServer,
) -> None:
    detector: SeatedDetector = pulse.open_microphone(server.env())
    try:
        assert (detector.name, detector.reason) == ("microphone", "call")
        assert detector.detail.startswith(f"capture streams of {server.server_name}")
        assert detector.detail.endswith(f" at {server.socket}")
        assert detector.active() is False

        recorder = server.record(server.MICROPHONE)
        assert detector.active() is True
        server.stop_client(recorder)
        assert detector.active() is False

        screen = server.record(server.MONITOR)
        assert detector.active() is False  # a screen recorder or visualiser: no call
        recorder = server.record(server.MICROPHONE)
        assert detector.active() is True
        server.stop_client(recorder)
        assert detector.active() is False
        server.stop_client(screen)
    finally:
        detector.close()


def test_native_pipewire_clients_count_and_level_meters_do_not(
    pipewire_server: PipeWireServer,
) -> None:
    """pw-record is a PipeWire client, not a PulseAudio one: pipewire-pulse lists its
    stream all the same. Marked as a level meter (as pavucontrol's are on PipeWire) or as
    a capture of a sink, it is no call."""
    server = pipewire_server
    detector = pulse.open_microphone(server.env())
    try:
        recorder = server.record_native(server.MICROPHONE)
        assert detector.active() is True
        server.stop_client(recorder)
        assert detector.active() is False

        for meter in ({"resample.peaks": True}, {"stream.monitor": True}):
            recorder = server.record_native(server.MICROPHONE, **meter)
            assert detector.active() is False, meter
            server.stop_client(recorder)
        recorder = server.record_native(server.MONITOR)
        assert detector.active() is False  # the monitor source, no property needed
        server.stop_client(recorder)
        recorder = server.record_native(server.MONITOR, **{"stream.capture.sink": True})
        assert detector.active() is False
        server.stop_client(recorder)
    finally:
        detector.close()


def test_a_call_check_is_one_cheap_round_trip(server: AudioServer) -> None:
    threads = set(threading.enumerate())
    detector = pulse.open_microphone(server.env())
    try:
        assert set(threading.enumerate()) == threads  # no thread of its own
        start = time.perf_counter()
        for _ in range(100):
            assert detector.active() is False
        idle = (time.perf_counter() - start) / 100
        recorder = server.record(server.MICROPHONE)
        start = time.perf_counter()
        for _ in range(100):
            assert detector.active() is True
        busy = (time.perf_counter() - start) / 100
        server.stop_client(recorder)
        # measured here (docs/platforms.md): well under a millisecond either way
        assert idle < 0.01, idle
        assert busy < 0.02, busy
    finally:
        detector.close()


def test_a_lost_server_is_unavailable_and_a_new_one_is_found_again(server: AudioServer) -> None:
    detector = pulse.open_microphone(server.env())
    try:
        assert detector.active() is False
        server.kill()
        with pytest.raises(Unavailable, match="no audio server answers"):
            detector.active()
        assert detector.detail.endswith("(disconnected)")
        server.start()
        assert detector.active() is False
        recorder = server.record(server.MICROPHONE)
        assert detector.active() is True
        server.stop_client(recorder)
    finally:
        detector.close()


def test_no_server_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="PulseAudio or PipeWire's pipewire-pulse"):
        pulse.open_microphone({"XDG_RUNTIME_DIR": str(tmp_path)})


def test_a_server_of_another_user_takes_our_cookie(tmp_path: Path) -> None:
    """Credentials do not help across users: the cookie must be right (and a wrong one
    is refused), as for a server run by another account."""
    with PulseServer(tmp_path / "pulse", as_other_user=True) as server:
        cookie = server.cookie()
        right = tmp_path / "right"
        right.write_bytes(cookie)
        wrong = tmp_path / "wrong"
        wrong.write_bytes(bytes(b ^ 0xFF for b in cookie))
        with pytest.raises(Unavailable, match="access denied"):
            pulse.open_microphone({**server.env(), "PULSE_COOKIE": str(wrong)})
        detector = pulse.open_microphone({**server.env(), "PULSE_COOKIE": str(right)})
        try:
            recorder = server.record(server.MICROPHONE)
            assert detector.active() is True
            server.stop_client(recorder)
            assert detector.active() is False
        finally:
            detector.close()
