"""Linux: a call is in progress while another process records from a microphone.

The audio server knows: every recording is a *source output* of PulseAudio (or of
PipeWire through ``pipewire-pulse``, which speaks the same protocol on the same
socket). This module is a small client of PulseAudio's native protocol, written from
its sources (``src/pulsecore/native-common.h``, ``tagstruct.c``, ``pstream.c``,
``protocol-native.c`` and ``src/pulse/introspect.c``, protocol version 35):

* **Frames** (``pstream.c``): a descriptor of five big-endian u32 -- payload length,
  channel (``0xFFFFFFFF`` for a command packet, else audio data), two offset words,
  flags -- then the payload.
* **Packets** are tag structs (``tagstruct.c``): each value a one-byte type tag and its
  big-endian body; a command is ``u32 command, u32 tag, arguments``, its answer
  ``REPLY tag ...`` or ``ERROR tag code``.
* **Setup** (``context.c``): ``AUTH`` with our protocol version and the 256-byte cookie
  (sent with our credentials, which the server accepts for its own user), then
  ``SET_CLIENT_NAME`` with a property list. Both sides then write and read the fields
  of version min(ours, the server's).

The microphone is in use when some source output belongs to a client (a process, not
a module's loopback or echo canceller), is not corked (paused), is not a level meter
(a peak-detecting stream, as mixers such as pavucontrol open on every source: resample
method ``peaks`` on PulseAudio, property ``resample.peaks`` or ``stream.monitor`` on
PipeWire), and records from a source that is not the monitor of a sink (screen
recorders and visualisers record what is played, which is not a call; PipeWire also
marks such a stream ``stream.capture.sink``). That costs one request, two when
something records.

The connection stays open between calls (one small request per engine wake-up, no
thread, no polling); a lost server is noticed at the next call, which reconnects once
and otherwise raises :class:`Unavailable`. Every socket operation of a call, a
reconnect included, shares one deadline (0.5 s by default); a server that stops
answering is not asked again in the same call.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from ergobreak.core.events import SeatedReason
from ergobreak.platform.base import Unavailable

#: the protocol version this client writes and reads (PulseAudio 15.0+ and pipewire-pulse)
PROTOCOL_VERSION = 35
#: the low 16 bits of AUTH's version word are the version, the high ones flags (SHM, memfd)
VERSION_MASK = 0x0000FFFF
INVALID_INDEX = 0xFFFFFFFF
COOKIE_LENGTH = 256
#: a descriptor's channel for command packets (other channels carry audio)
CONTROL_CHANNEL = 0xFFFFFFFF
#: pstream.c's FRAME_SIZE_MAX_ALLOW: a larger frame means we lost the framing
MAX_FRAME = 16 * 1024 * 1024
DESCRIPTOR = struct.Struct(">5I")
#: what a call waits for the server at most, all its round trips together
TIMEOUT = 0.5
#: the resample method of a stream opened with PA_STREAM_PEAK_DETECT (a level meter)
PEAKS = "peaks"
#: stream properties PipeWire sets on a level meter (``resample.peaks``,
#: ``stream.monitor``: its pipewire-pulse reports no resample method) and on a stream
#: that records what a sink plays (``stream.capture.sink``)
NOT_A_MICROPHONE = ("resample.peaks", "stream.monitor", "stream.capture.sink")


class Command(IntEnum):
    """The commands used here, numbered as in ``native-common.h``."""

    ERROR = 0
    TIMEOUT = 1
    REPLY = 2
    AUTH = 8
    SET_CLIENT_NAME = 9
    GET_SERVER_INFO = 20
    GET_SOURCE_INFO_LIST = 24
    GET_SOURCE_OUTPUT_INFO_LIST = 32


#: type tags of ``tagstruct.h``
TAG_STRING = b"t"
TAG_STRING_NULL = b"N"
TAG_U32 = b"L"
TAG_U8 = b"B"
TAG_U64 = b"R"
TAG_S64 = b"r"
TAG_SAMPLE_SPEC = b"a"
TAG_ARBITRARY = b"x"
TAG_TRUE = b"1"
TAG_FALSE = b"0"
TAG_TIMEVAL = b"T"
TAG_USEC = b"U"
TAG_CHANNEL_MAP = b"m"
TAG_CVOLUME = b"v"
TAG_PROPLIST = b"P"
TAG_VOLUME = b"V"
TAG_FORMAT_INFO = b"f"

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_S64 = struct.Struct(">q")
#: PA_CHANNELS_MAX: a channel map or volume with more channels is malformed
_CHANNELS_MAX = 32


class ProtocolError(ValueError):
    """Bytes that are not what the protocol says (the connection is then unusable)."""


class ServerError(RuntimeError):
    """The server answered ``ERROR`` with a PulseAudio error code (``def.h``)."""

    def __init__(self, command: Command, code: int) -> None:
        super().__init__(f"{command.name} refused with error {code}{_ERRORS.get(code, '')}")
        self.code = code


#: the few error codes worth a word (``pa_error_code`` in ``def.h``)
_ERRORS = {1: " (access denied)", 3: " (invalid argument)", 19: " (not supported)"}


# --------------------------------------------------------------------------- tag structs


class TagWriter:
    """Builds a tag struct, the way ``pa_tagstruct_put*`` does."""

    def __init__(self) -> None:
        self._data = bytearray()

    def u32(self, value: int) -> TagWriter:
        self._data += TAG_U32 + _U32.pack(value)
        return self

    def string(self, value: str | None) -> TagWriter:
        if value is None:
            self._data += TAG_STRING_NULL
        else:
            self._data += TAG_STRING + value.encode() + b"\0"
        return self

    def arbitrary(self, value: bytes) -> TagWriter:
        self._data += TAG_ARBITRARY + _U32.pack(len(value)) + value
        return self

    def proplist(self, props: Mapping[str, str]) -> TagWriter:
        """String properties, each stored with its NUL as ``pa_proplist_sets`` does."""
        self._data += TAG_PROPLIST
        for key, value in props.items():
            raw = value.encode() + b"\0"
            self.string(key).u32(len(raw)).arbitrary(raw)
        self.string(None)
        return self

    def getvalue(self) -> bytes:
        return bytes(self._data)


class TagReader:
    """Reads a tag struct, checking each type tag as ``pa_tagstruct_get*`` does."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def eof(self) -> bool:
        return self._pos >= len(self._data)

    def _take(self, size: int) -> bytes:
        end = self._pos + size
        if end > len(self._data):
            raise ProtocolError(f"tag struct ends inside a value at byte {self._pos}")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def _tag(self, *expected: bytes) -> bytes:
        tag = self._take(1)
        if tag not in expected:
            want = " or ".join(repr(e.decode()) for e in expected)
            raise ProtocolError(f"expected tag {want} at byte {self._pos - 1}, got {tag!r}")
        return tag

    def u32(self) -> int:
        self._tag(TAG_U32)
        return int(_U32.unpack(self._take(4))[0])

    def u8(self) -> int:
        self._tag(TAG_U8)
        return self._take(1)[0]

    def u64(self) -> int:
        self._tag(TAG_U64)
        return int(_U64.unpack(self._take(8))[0])

    def s64(self) -> int:
        self._tag(TAG_S64)
        return int(_S64.unpack(self._take(8))[0])

    def usec(self) -> int:
        self._tag(TAG_USEC)
        return int(_U64.unpack(self._take(8))[0])

    def boolean(self) -> bool:
        return self._tag(TAG_TRUE, TAG_FALSE) == TAG_TRUE

    def string(self) -> str | None:
        if self._tag(TAG_STRING, TAG_STRING_NULL) == TAG_STRING_NULL:
            return None
        end = self._data.find(b"\0", self._pos)
        if end < 0:
            raise ProtocolError(f"unterminated string at byte {self._pos}")
        raw = self._take(end - self._pos + 1)[:-1]
        return raw.decode(errors="replace")

    def arbitrary(self, length: int | None = None) -> bytes:
        self._tag(TAG_ARBITRARY)
        size = int(_U32.unpack(self._take(4))[0])
        if length is not None and size != length:
            raise ProtocolError(f"arbitrary of {size} bytes where {length} were announced")
        return self._take(size)

    def sample_spec(self) -> tuple[int, int, int]:
        """(format, channels, rate)."""
        self._tag(TAG_SAMPLE_SPEC)
        fmt, channels = self._take(2)
        return fmt, channels, int(_U32.unpack(self._take(4))[0])

    def channel_map(self) -> tuple[int, ...]:
        self._tag(TAG_CHANNEL_MAP)
        return tuple(self._take(self._channels()))

    def cvolume(self) -> tuple[int, ...]:
        self._tag(TAG_CVOLUME)
        count = self._channels()
        return struct.unpack(f">{count}I", self._take(4 * count))

    def _channels(self) -> int:
        count = self._take(1)[0]
        if count > _CHANNELS_MAX:
            raise ProtocolError(f"{count} channels (at most {_CHANNELS_MAX})")
        return count

    def volume(self) -> int:
        self._tag(TAG_VOLUME)
        return int(_U32.unpack(self._take(4))[0])

    def proplist(self) -> dict[str, bytes]:
        """Key → raw value (strings keep their NUL, as on the wire)."""
        self._tag(TAG_PROPLIST)
        props: dict[str, bytes] = {}
        while (key := self.string()) is not None:
            length = self.u32()
            props[key] = self.arbitrary(length)
        return props

    def format_info(self) -> tuple[int, dict[str, bytes]]:
        """(encoding, properties)."""
        self._tag(TAG_FORMAT_INFO)
        return self.u8(), self.proplist()


def prop(props: Mapping[str, bytes], key: str) -> str | None:
    """A string property without its NUL, or None."""
    raw = props.get(key)
    return None if raw is None else raw.rstrip(b"\0").decode(errors="replace")


# --------------------------------------------------------------------------- replies


@dataclass(frozen=True, slots=True)
class ServerInfo:
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class Source:
    index: int
    name: str
    #: the sink this source is the monitor of, or :data:`INVALID_INDEX`
    monitor_of_sink: int


@dataclass(frozen=True, slots=True)
class SourceOutput:
    index: int
    name: str | None
    owner_module: int
    #: the client (a process's connection) recording, or :data:`INVALID_INDEX` for a module
    client: int
    source: int
    resample_method: str | None
    corked: bool
    properties: dict[str, bytes] = field(default_factory=dict)


def parse_server_info(reply: TagReader, version: int) -> ServerInfo:
    """``GET_SERVER_INFO``'s reply, field by field as ``introspect.c`` reads it."""
    name = reply.string() or "?"
    server_version = reply.string() or "?"
    reply.string()  # user name
    reply.string()  # host name
    reply.sample_spec()
    reply.string()  # default sink
    reply.string()  # default source
    reply.u32()  # cookie
    if version >= 15:
        reply.channel_map()
    _end(reply, "server info")
    return ServerInfo(name, server_version)


def parse_sources(reply: TagReader, version: int) -> list[Source]:
    """``GET_SOURCE_INFO_LIST``'s reply (``context_get_source_info_callback``)."""
    sources = []
    while not reply.eof():
        index = reply.u32()
        name = reply.string() or ""
        reply.string()  # description
        reply.sample_spec()
        reply.channel_map()
        reply.u32()  # owner module
        reply.cvolume()
        reply.boolean()  # mute
        monitor_of_sink = reply.u32()
        reply.string()  # monitor_of_sink_name
        reply.usec()  # latency
        reply.string()  # driver
        reply.u32()  # flags
        if version >= 13:
            reply.proplist()
            reply.usec()  # configured latency
        if version >= 15:
            reply.volume()  # base volume
            reply.u32()  # state
            reply.u32()  # n_volume_steps
            reply.u32()  # card
        if version >= 16:
            for _ in range(reply.u32()):  # ports
                reply.string()  # name
                reply.string()  # description
                reply.u32()  # priority
                if version >= 24:
                    reply.u32()  # available
                if version >= 34:
                    reply.string()  # availability group
                    reply.u32()  # type
            reply.string()  # active port
        if version >= 22:
            formats = reply.u8()
            if formats < 1:
                raise ProtocolError("a source with no formats")
            for _ in range(formats):
                reply.format_info()
        sources.append(Source(index, name, monitor_of_sink))
    return sources


def parse_source_outputs(reply: TagReader, version: int) -> list[SourceOutput]:
    """``GET_SOURCE_OUTPUT_INFO_LIST``'s reply (``context_get_source_output_info_callback``)."""
    outputs = []
    while not reply.eof():
        index = reply.u32()
        name = reply.string()
        owner_module = reply.u32()
        client = reply.u32()
        source = reply.u32()
        reply.sample_spec()
        reply.channel_map()
        reply.usec()  # buffer latency
        reply.usec()  # source latency
        resample_method = reply.string()
        reply.string()  # driver
        props = reply.proplist() if version >= 13 else {}
        corked = reply.boolean() if version >= 19 else False
        if version >= 22:
            reply.cvolume()
            reply.boolean()  # mute
            reply.boolean()  # has volume
            reply.boolean()  # volume writable
            reply.format_info()
        outputs.append(
            SourceOutput(index, name, owner_module, client, source, resample_method, corked, props)
        )
    return outputs


def _end(reply: TagReader, what: str) -> None:
    if not reply.eof():
        raise ProtocolError(f"bytes left after the {what}")


def recording_from_microphones(
    outputs: Sequence[SourceOutput], sources: Sequence[Source], *, own_client: int
) -> list[SourceOutput]:
    """The source outputs that mean "a microphone is in use" (see the module's doc)."""
    by_index = {source.index: source for source in sources}
    return [
        out
        for out in candidates(outputs, own_client=own_client)
        if (source := by_index.get(out.source)) is not None
        and source.monitor_of_sink == INVALID_INDEX
    ]


def candidates(outputs: Sequence[SourceOutput], *, own_client: int) -> list[SourceOutput]:
    """Running recordings by another client that are no level meter, whatever their source."""
    return [
        out
        for out in outputs
        if not out.corked
        and out.client not in (INVALID_INDEX, own_client)
        and not _meter_or_sink_capture(out)
    ]


def _meter_or_sink_capture(out: SourceOutput) -> bool:
    if out.resample_method == PEAKS:
        return True
    return any(prop(out.properties, key) in ("true", "1") for key in NOT_A_MICROPHONE)


# --------------------------------------------------------------------------- framing


def frame(payload: bytes) -> bytes:
    """A command packet: the descriptor, then the tag struct."""
    return DESCRIPTOR.pack(len(payload), CONTROL_CHANNEL, 0, 0, 0) + payload


def command(cmd: Command, tag: int, args: TagWriter | None = None) -> bytes:
    """The tag struct of one command: ``u32 command, u32 tag, arguments``."""
    head = TagWriter().u32(cmd).u32(tag).getvalue()
    return head + (args.getvalue() if args is not None else b"")


def auth_args(cookie: bytes) -> TagWriter:
    if len(cookie) != COOKIE_LENGTH:
        raise ValueError(f"a cookie has {COOKIE_LENGTH} bytes, not {len(cookie)}")
    return TagWriter().u32(PROTOCOL_VERSION).arbitrary(cookie)


def client_properties() -> dict[str, str]:
    return {
        "application.name": "ergobreak",
        "application.id": "ergobreak",
        "application.process.id": str(os.getpid()),
    }


# --------------------------------------------------------------------------- connection


class PulseConnection:
    """One authenticated connection to a PulseAudio-protocol server on a unix socket.

    Raises (from the constructor and :meth:`request`): ``OSError`` (socket, timeout,
    the server hung up), :class:`ProtocolError`, :class:`ServerError`.
    """

    def __init__(
        self, path: str, cookie: bytes, timeout: float = TIMEOUT, *, deadline: float | None = None
    ) -> None:
        """Connect and set up within ``timeout`` (or by ``deadline``, a monotonic time)."""
        self.path = path
        self._timeout = timeout
        self._tag = 0
        self._buffer = b""
        self._deadline = time.monotonic() + timeout if deadline is None else deadline
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.settimeout(self._remaining())
            self._sock.connect(path)
            reply = self._call(Command.AUTH, auth_args(cookie), credentials=True)
            self.version = min(PROTOCOL_VERSION, reply.u32() & VERSION_MASK)
            _end(reply, "AUTH reply")
            if self.version < 13:
                raise ProtocolError(f"protocol version {self.version} (13 or later needed)")
            reply = self._call(Command.SET_CLIENT_NAME, TagWriter().proplist(client_properties()))
            self.client_index = reply.u32()
            reply = self._call(Command.GET_SERVER_INFO)
            self.server = parse_server_info(reply, self.version)
        except BaseException:
            self._sock.close()
            raise

    def request(
        self, cmd: Command, args: TagWriter | None = None, *, deadline: float | None = None
    ) -> TagReader:
        """Send one command; return its reply's arguments (within the timeout, or by
        ``deadline``)."""
        self._deadline = time.monotonic() + self._timeout if deadline is None else deadline
        return self._call(cmd, args)

    def _call(
        self, cmd: Command, args: TagWriter | None = None, *, credentials: bool = False
    ) -> TagReader:
        self._tag = (self._tag + 1) & 0xFFFFFFFF
        tag = self._tag
        self._send(frame(command(cmd, tag, args)), credentials=credentials)
        while True:
            packet = TagReader(self._packet())
            answer, answer_tag = packet.u32(), packet.u32()
            if answer_tag != tag or answer not in (Command.REPLY, Command.ERROR):
                continue  # something the server sends on its own (none are asked for)
            if answer == Command.ERROR:
                raise ServerError(cmd, packet.u32())
            return packet

    def _send(self, data: bytes, *, credentials: bool) -> None:
        self._sock.settimeout(self._remaining())
        scm = getattr(socket, "SCM_CREDENTIALS", None)
        if credentials and scm is not None:
            # libpulse sends its uid/gid with AUTH; the server trusts them for its own user
            ucred = struct.pack("3i", os.getpid(), os.getuid(), os.getgid())
            sent = self._sock.sendmsg([data], [(socket.SOL_SOCKET, scm, ucred)])
            data = data[sent:]
        self._sock.sendall(data)

    def _packet(self) -> bytes:
        """The payload of the next command packet (audio frames are skipped)."""
        while True:
            head = self._read(DESCRIPTOR.size)
            length, channel, _hi, _lo, _flags = DESCRIPTOR.unpack(head)
            if length > MAX_FRAME:
                raise ProtocolError(f"a frame of {length} bytes")
            payload = self._read(length)
            if channel == CONTROL_CHANNEL:
                return payload

    def _read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._sock.settimeout(self._remaining())
            try:
                chunk = self._sock.recv(max(65536, size - len(self._buffer)))
            except TimeoutError:
                raise self._late() from None
            if not chunk:
                raise ConnectionResetError(f"the audio server at {self.path} hung up")
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _remaining(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise self._late()
        return left

    def _late(self) -> TimeoutError:
        return TimeoutError(f"no answer within {self._timeout:g} s")

    def close(self) -> None:
        self._sock.close()


# --------------------------------------------------------------------------- the detector


def server_socket(env: Mapping[str, str]) -> str:
    """The socket libpulse would use: ``$PULSE_SERVER``'s first unix entry, else
    ``$PULSE_RUNTIME_PATH/native``, else ``$XDG_RUNTIME_DIR/pulse/native``.

    Raises:
        Unavailable: PULSE_SERVER names only network servers, or no runtime dir is set.
    """
    server = env.get("PULSE_SERVER", "").strip()
    if server:
        for word in server.split():
            # "{machine-id}unix:/path" is meant for that machine only; ours, as a rule
            entry = word.partition("}")[2] if word.startswith("{") else word
            if entry.startswith("unix:"):
                return entry.removeprefix("unix:")
            if entry.startswith("/"):
                return entry
        raise Unavailable(
            f"PULSE_SERVER={server!r} names no unix socket; the microphone can only be "
            "watched on a local audio server (unix:/path)"
        )
    runtime = env.get("PULSE_RUNTIME_PATH") or (
        os.path.join(env["XDG_RUNTIME_DIR"], "pulse") if env.get("XDG_RUNTIME_DIR") else ""
    )
    if not runtime:
        raise Unavailable("XDG_RUNTIME_DIR is not set, so there is no audio server socket")
    return os.path.join(runtime, "native")


def cookie_files(env: Mapping[str, str]) -> list[str]:
    """Where libpulse looks for the cookie, in its order (``client-conf.c``)."""
    files = [env["PULSE_COOKIE"]] if env.get("PULSE_COOKIE") else []
    home = env.get("HOME", "")
    config = env.get("XDG_CONFIG_HOME") or (os.path.join(home, ".config") if home else "")
    if config:
        files.append(os.path.join(config, "pulse", "cookie"))
    if home:
        files.append(os.path.join(home, ".pulse-cookie"))
    return files


def read_cookie(env: Mapping[str, str]) -> bytes:
    """The first readable cookie, else zeros (servers that allow anonymous clients, or
    that trust our credentials, as PulseAudio does for its own user, need none)."""
    for path in cookie_files(env):
        try:
            with open(path, "rb") as f:
                data = f.read(COOKIE_LENGTH)
        except OSError:
            continue
        if len(data) == COOKIE_LENGTH:
            return data
    return bytes(COOKIE_LENGTH)


class PulseMicrophone:
    """``SeatedDetector``: a call while another process records from a microphone."""

    name = "microphone"
    reason: SeatedReason = "call"

    def __init__(self, path: str, cookie: bytes, timeout: float = TIMEOUT) -> None:
        """Connect now.

        Raises:
            Unavailable: nothing answers at ``path`` the way an audio server should.
        """
        self.path = path
        self._cookie = cookie
        self._timeout = timeout
        self._server = "audio server"
        self._conn: PulseConnection | None = None
        self._connect()

    @property
    def detail(self) -> str:
        state = "" if self._conn is not None else " (disconnected)"
        return f"capture streams of {self._server} at {self.path}{state}"

    def _connect(self, deadline: float | None = None) -> PulseConnection:
        try:
            conn = PulseConnection(self.path, self._cookie, self._timeout, deadline=deadline)
        except (OSError, ProtocolError, ServerError) as exc:
            raise Unavailable(
                f"no audio server answers at {self.path} ({exc}); the microphone is "
                "watched through PulseAudio or PipeWire's pipewire-pulse"
            ) from exc
        self._conn = conn
        self._server = f"{conn.server.name} {conn.server.version}"
        return conn

    def recording(self) -> list[SourceOutput]:
        """The streams that make it a call now; reconnects once if the server was lost.

        Raises:
            Unavailable: the server is gone (or answers nonsense) and does not come back.
        """
        deadline = time.monotonic() + self._timeout  # one for the whole call
        try:
            if self._conn is not None:
                try:
                    return self._query(self._conn, deadline)
                except TimeoutError:
                    raise  # a server that hangs: no second wait
                except (OSError, ProtocolError, ServerError):
                    self._drop()  # a restarted server: try a fresh connection right away
            return self._query(self._connect(deadline), deadline)
        except (OSError, ProtocolError, ServerError) as exc:
            self._drop()
            raise Unavailable(f"the audio server at {self.path} stopped answering: {exc}") from exc

    def _query(self, conn: PulseConnection, deadline: float) -> list[SourceOutput]:
        reply = conn.request(Command.GET_SOURCE_OUTPUT_INFO_LIST, deadline=deadline)
        outputs = candidates(
            parse_source_outputs(reply, conn.version), own_client=conn.client_index
        )
        if not outputs:
            return []  # the usual case: one request
        reply = conn.request(Command.GET_SOURCE_INFO_LIST, deadline=deadline)
        sources = parse_sources(reply, conn.version)
        return recording_from_microphones(outputs, sources, own_client=conn.client_index)

    def active(self) -> bool:
        return bool(self.recording())

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        self._drop()


def open_microphone(env: Mapping[str, str]) -> PulseMicrophone:
    """The microphone detector of the session's audio server.

    Raises:
        Unavailable: no PulseAudio-protocol server on the session's socket.
    """
    return PulseMicrophone(server_socket(env), read_cookie(env))
