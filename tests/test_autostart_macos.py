"""The LaunchAgent writer and reader, on scratch directories with a fake launchctl.

Not tested here: launchd itself, ``plutil -lint`` and the ``launchctl`` output
format (from observation) -- this suite runs on Linux.
"""

from __future__ import annotations

import plistlib
from collections.abc import Sequence
from pathlib import Path

import pytest

from ergobreak.autostart.base import Entry
from ergobreak.autostart.macos import LABEL, LaunchAgents, agent, disabled_labels, render

ENTRY = Entry(("/usr/local/bin/ergobreak", "run", "--autostart"))


class FakeLaunchctl:
    """Keeps `launchctl disable/enable gui/<uid>/<label>` state like launchd does."""

    def __init__(self) -> None:
        self.disabled: set[str] = set()
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, args: Sequence[str]) -> str:
        self.calls.append(tuple(args))
        verb, target = args[0], args[1]
        label = target.rsplit("/", 1)[-1]
        if verb == "disable":
            self.disabled.add(label)
        elif verb == "enable":
            self.disabled.discard(label)
        elif verb == "print-disabled":
            lines = [f'\t"{name}" => disabled' for name in sorted(self.disabled)]
            return "disabled services = {\n" + "\n".join(lines) + "\n}\n"
        return ""


@pytest.fixture
def ctl() -> FakeLaunchctl:
    return FakeLaunchctl()


@pytest.fixture
def agents(tmp_path: Path, ctl: FakeLaunchctl) -> LaunchAgents:
    return LaunchAgents(
        tmp_path / "home" / "Library" / "LaunchAgents",
        tmp_path / "Library" / "LaunchAgents",
        uid=501,
        launchctl=ctl,
    )


def test_plist_round_trips_with_the_keys_launchd_needs() -> None:
    data = plistlib.loads(render(ENTRY))
    assert data == agent(ENTRY)
    assert data["Label"] == LABEL
    assert data["ProgramArguments"] == list(ENTRY.argv)
    assert data["RunAtLoad"] is True
    assert data["KeepAlive"] == {"SuccessfulExit": False}
    assert data["ProcessType"] == "Interactive"
    assert data["LimitLoadToSessionType"] == "Aqua"
    assert render(ENTRY).startswith(b"<?xml")


def test_print_disabled_parsing_both_formats() -> None:
    text = 'disabled services = {\n\t"org.ergobreak.agent" => disabled\n\t"com.x" => enabled\n}\n'
    assert disabled_labels(text) == {"org.ergobreak.agent": True, "com.x": False}
    old = '{\n\t"org.ergobreak.agent" => true\n\t"com.x" => false\n}\n'
    assert disabled_labels(old) == {"org.ergobreak.agent": True, "com.x": False}
    assert disabled_labels("") == {}


def test_user_enable_and_disable(agents: LaunchAgents) -> None:
    change = agents.enable(ENTRY)
    assert change.actions == (f"wrote {agents.user_file}",)
    assert plistlib.loads(agents.user_file.read_bytes())["ProgramArguments"] == list(ENTRY.argv)
    assert agents.status().enabled
    assert not agents.enable(ENTRY).changed
    assert agents.disable().actions == (f"removed {agents.user_file}",)
    assert not agents.status().enabled
    assert not agents.disable().changed


def test_system_agent_switched_off_for_one_user(agents: LaunchAgents, ctl: FakeLaunchctl) -> None:
    agents.enable(ENTRY, system=True)
    status = agents.status()
    assert status.enabled
    assert status.system
    change = agents.disable()
    assert change.actions == (
        f"launchctl disable gui/501/{LABEL}: switches {agents.system_file} off for you",
    )
    assert agents.system_file.exists()
    status = agents.status()
    assert not status.enabled
    assert status.found[-1].kind == "override"
    # IT re-deploying does not undo the user's choice; the user's own enable does
    again = agents.enable(ENTRY, system=True)
    assert "left in place" in again.notes[-1]
    assert LABEL in ctl.disabled
    assert agents.enable(ENTRY).actions == (f"launchctl enable gui/501/{LABEL}",)
    assert agents.status().enabled


def test_user_enable_over_a_system_agent_adds_nothing(agents: LaunchAgents) -> None:
    agents.enable(ENTRY, system=True)
    change = agents.enable(ENTRY)
    assert not change.changed
    assert "already started" in change.notes[0]
    assert not agents.user_file.exists()


def test_a_disabled_plist_is_off(agents: LaunchAgents) -> None:
    agents.enable(ENTRY)
    data = plistlib.loads(agents.user_file.read_bytes())
    data["Disabled"] = True
    agents.user_file.write_bytes(plistlib.dumps(data))
    assert not agents.status().enabled


def test_the_packaged_template_is_what_enable_writes() -> None:
    """packaging/macos/org.ergobreak.agent.plist, for MDM packages, cannot drift."""
    template = Path(__file__).resolve().parent.parent / "packaging" / "macos" / f"{LABEL}.plist"
    assert template.read_bytes() == render(ENTRY)
