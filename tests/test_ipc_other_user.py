"""Another local user posing as ergobreak, with a real second user the tests create
(``useradd``, as root) and remove afterwards: the command line refuses a runtime
directory or socket of theirs and never sends them a command, and the daemon never
serves them."""

from __future__ import annotations

import json
import os
import pwd
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scaffold import cannot_run, cli, require_root

from ergobreak import paths
from ergobreak.commands import Request
from ergobreak.daemon import ipc, unixsocket
from ergobreak.daemon.instance import ensure_private_dir

#: what the other user runs: a socket at argv[1] (and, if it has to create the
#: directory, a key file beside it, as older ergobreaks used), open to everyone,
#: answering anything with escape sequences; it reports every connection and byte
IMPOSTOR = r"""
import json, os, select, socket, struct, sys
path = sys.argv[1]
parent = os.path.dirname(path)
if not os.path.isdir(parent):
    os.mkdir(parent)
    os.chmod(parent, 0o755)
    with open(os.path.join(parent, "ipc.key"), "wb") as key:
        key.write(b"k" * 32)
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.bind(path)
os.chmod(path, 0o666)
sock.listen()
print("ready", flush=True)
bait = json.dumps({"ok": True, "status": {"version": "\x1b[2J\x1b[31mowned"}}).encode()
while True:
    ready, _, _ = select.select([sock, sys.stdin], [], [])
    if sock in ready:  # a connection made before we were told to stop still counts
        conn, _ = sock.accept()
        conn.settimeout(5)
        try:
            heard = conn.recv(65536)
            conn.sendall(struct.pack(">I", len(bait)) + bait)
        except OSError:
            heard = b""
        print("heard", heard.hex(), flush=True)
        conn.close()
    if sys.stdin in ready:
        break
"""

#: what the other user runs to ask the daemon at argv[1] to quit; prints the reply (hex)
ASKER = r"""
import socket, struct, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(10)
sock.connect(sys.argv[1])
body = b'{"v": 1, "cmd": "quit", "args": {}}'
got = b""
try:
    sock.sendall(struct.pack(">I", len(body)) + body)
    while chunk := sock.recv(65536):
        got += chunk
except (BrokenPipeError, ConnectionResetError):
    pass
print(got.hex())
"""


@pytest.fixture(scope="module")
def other_user() -> Iterator[pwd.struct_passwd]:
    require_root("creating a second user")
    name = f"ebother{os.getpid()}"
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], check=True, capture_output=True)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory in /tmp everyone may write to, as /tmp itself (sticky, 1777)."""
    path = Path(tempfile.mkdtemp(prefix="ergobreak-test-", dir="/tmp"))
    path.chmod(0o1777)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def as_user(user: pwd.struct_passwd, script: str, *args: str, **popen: Any) -> Any:
    """``script`` in a child that becomes ``user`` first thing. (It starts as us, as
    the test's Python may live where other users cannot read; what the script uses
    is imported before the switch.)"""
    become = (
        "import json, os, select, socket, struct, sys\n"
        f"os.setgroups([]); os.setgid({user.pw_gid}); os.setuid({user.pw_uid})\n"
    )
    argv = [sys.executable, "-I", "-S", "-c", become + script, *args]
    return subprocess.Popen(argv, text=True, cwd="/", **popen)


class Impostor:
    """The other user's listening socket at ``path``, until :meth:`stop`."""

    def __init__(self, user: pwd.struct_passwd, path: Path) -> None:
        self.proc = as_user(
            user, IMPOSTOR, str(path), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        if not ready or self.proc.stdout.readline() != "ready\n":
            self.proc.kill()
            self.stop()
            pytest.fail(f"the impostor did not start (exit status {self.proc.returncode})")

    def stop(self) -> list[str]:
        """What it heard: one line per connection."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.close()
        with self.proc.stdout:
            heard: list[str] = self.proc.stdout.read().splitlines()
        assert self.proc.wait(10) in (0, -9), "the impostor failed"  # -9: killed
        return heard


@pytest.fixture
def squat(other_user: pwd.struct_passwd) -> Iterator[Path]:
    """Where ergobreak looks without XDG_RUNTIME_DIR, to be taken by the other user
    (and removed afterwards, if it is theirs)."""
    path = Path(f"/tmp/ergobreak-{os.getuid()}")
    if os.path.lexists(path):
        cannot_run(f"{path} exists already; this test has another user create it")
    try:
        yield path
    finally:
        if os.path.lexists(path) and path.lstat().st_uid == other_user.pw_uid:
            shutil.rmtree(path)


def test_a_runtime_dir_squatted_in_tmp_by_another_user_is_refused(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, other_user: pwd.struct_passwd, squat: Path
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert paths.paths().runtime_dir == squat
    impostor = Impostor(other_user, squat / "ctl.sock")
    try:
        owner = f"uid {other_user.pw_uid} ({other_user.pw_name})"
        refusal = (
            f"ergobreak: not connecting: {squat} belongs to {owner}, not to you, so someone"
            " may be posing as ergobreak: ask an administrator to remove it, or set"
            " XDG_RUNTIME_DIR to a private directory of yours\n"
        )
        for argv in (["status"], ["pause", "30m"], ["quit"]):
            assert cli(*argv) == (4, "", refusal)
        code, out, err = cli("status", "--json")
        assert (code, json.loads(out), err) == (4, {"running": False}, refusal)
    finally:
        heard = impostor.stop()
    assert heard == []  # never even connected


def test_a_socket_served_by_another_user_never_gets_a_command(
    isolated: Path, shared_dir: Path, other_user: pwd.struct_passwd
) -> None:
    runtime = ensure_private_dir(isolated / "run" / "ergobreak")
    impostor = Impostor(other_user, shared_dir / "ctl.sock")
    try:
        # their socket, moved into our private directory (it still listens)
        os.rename(shared_dir / "ctl.sock", unixsocket.socket_path(runtime))
        code, out, err = cli("status")
        assert (code, out) == (4, "")
        assert f"ctl.sock belongs to uid {other_user.pw_uid}" in err
        # even with a socket file that is ours, the process behind it is not
        os.chown(unixsocket.socket_path(runtime), os.getuid(), os.getgid())
        os.chmod(unixsocket.socket_path(runtime), 0o600)
        code, out, err = cli("status")
        assert (code, out) == (4, "")
        assert err == (
            f"ergobreak: not talking to the process behind {runtime}:"
            f" the other end runs as uid {other_user.pw_uid}, not as you\n"
        )
    finally:
        heard = impostor.stop()
    assert heard == ["heard "]  # one connection, not one byte


def test_the_daemon_serves_no_other_user(
    shared_dir: Path, other_user: pwd.struct_passwd, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> dict[str, Any]:
        seen.append(request)
        return {"ok": True}

    runtime = ensure_private_dir(shared_dir / "run")
    server = ipc.Server(runtime, handler)
    server.start()
    try:
        # as if the files were left open: only the peer check stands in the way
        runtime.chmod(0o711)
        unixsocket.socket_path(runtime).chmod(0o666)
        asked = as_user(other_user, ASKER, server.address, stdout=subprocess.PIPE)
        reply, _ = asked.communicate(timeout=20)
        assert (asked.returncode, reply) == (0, "\n")  # nothing came back
        assert seen == []
        assert f"refused: the other end runs as uid {other_user.pw_uid}" in caplog.text
        runtime.chmod(0o700)
        unixsocket.socket_path(runtime).chmod(0o600)
        assert ipc.send(runtime, Request("status")) == {"ok": True}
    finally:
        server.close()
