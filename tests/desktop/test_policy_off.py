"""A machine turned off by IT's policy (``[enforced.machine] enabled = false``), on the
headless desktop with a real tray host: ``ergobreak run --autostart`` (what a login
entry runs) exits at once with exit 0 and its one line, and no tray item ever
registers. The same launch with the switch on registers one: the watch can see it.

The policy file is real (root-owned when the suite runs as root, 0644, in 0755
folders); the process only has its policy folder pointed at it, as the tests never
write to ``/etc``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from jeepney.bus_messages import MatchRule  # type: ignore[import-untyped]

from .rig import SNI_WATCHER, WATCHER_API, Bus, Rig

#: ``ergobreak ARGS`` with its policy folder at ``argv[1]``
LAUNCH = (
    "import sys; from pathlib import Path; from ergobreak import paths;"
    " paths.policy_dir = lambda: Path(sys.argv[1]);"
    " from ergobreak.cli import main; sys.exit(main(sys.argv[2:]))"
)
POLICY = """\
schema = 1

[enforced.machine]
enabled = {enabled}
"""
#: `ergobreak run` under the switch is done well within this (it reads one small file)
AT_ONCE = 5.0


def write_policy(folder: Path, enabled: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in (folder.parent, folder):
        path.chmod(0o755)
    policy = folder / "policy.toml"
    policy.write_text(POLICY.format(enabled=str(enabled).lower()), encoding="utf-8")
    policy.chmod(0o644)
    return policy


def registrations(rig: Rig) -> Bus:
    """A connection that keeps every StatusNotifierItemRegistered signal from now on."""
    bus = rig.connect_bus()
    bus.call_bus("AddMatch", MatchRule(type="signal", interface=SNI_WATCHER))
    return bus


def registered_by(bus: Bus, pid: int, timeout: float) -> tuple[object, ...]:
    return bus.wait_signal(
        "StatusNotifierItemRegistered",
        lambda body: f"-{pid}-" in str(body[0]),
        interface=SNI_WATCHER,
        timeout=timeout,
    )


def test_a_machine_turned_off_by_policy_never_shows_the_tray(
    desktop: Rig, sni_host: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("ERGOBREAK_CONFIG", raising=False)
    folder = tmp_path / "etc" / "ergobreak"
    argv = [sys.executable, "-c", LAUNCH, str(folder), "run", "--autostart"]

    # control: switched on, the same launch puts its item in the tray
    write_policy(folder, enabled=True)
    with registrations(desktop) as bus:
        on = desktop.launch("ergobreak", argv)
        registered_by(bus, on.pid, timeout=15)
    desktop.stop("ergobreak")

    policy = write_policy(folder, enabled=False)
    with registrations(desktop) as bus:
        started = time.monotonic()
        off = desktop.launch("ergobreak-off", argv)
        assert off.popen is not None
        code = off.popen.wait(AT_ONCE * 2)
        took = time.monotonic() - started
        assert code == 0
        assert took < AT_ONCE, f"took {took:.1f}s to exit"
        with pytest.raises(TimeoutError):
            registered_by(bus, off.pid, timeout=0.5)  # buffered ones included
    lines = desktop.log_path("ergobreak-off").read_text(encoding="utf-8").splitlines()
    assert lines[-1] == (f"ergobreak is turned off by your organization (policy: {policy}:4)"), (
        lines
    )
    items = desktop.bus.get_property(WATCHER_API, "RegisteredStatusNotifierItems")
    assert not [i for i in items if f"-{off.pid}-" in i]
