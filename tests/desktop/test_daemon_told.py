"""A real ``ergobreak run`` on the headless desktop tells about its settings (issue 17):
a typo once, in a dunst bubble naming file:line and the fix; a broken policy file
that keeps the last good policy in force, across a restart too, and says so once; a
hand edit of a locked key, told once. Real policy files, owned by root and checked
as on a managed machine, in a private admin folder: the daemon is started through a
launcher that points ``ergobreak.paths.policy_dir`` there (no environment variable
can move the policy folder, by design)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress  # type: ignore[import-untyped]
from scaffold import require_root

from ergobreak import paths as paths_module

from .rig import Proc, Rig, wait_for
from .test_daemon_e2e import CONFIG, WATCHER, Daemon, arrivals, ours

WARNED = "check your settings"
POLICY_TOLD = "organization settings"
KEPT = "Your organization's settings could not be read; the previous ones stay in force."
POLICY = 'schema = 1\n[meta]\norganization = "Example Corp"\n[enforced.drill]\nevery = "40s"\n'
#: ``ergobreak ARGS`` with the admin policy folder at ARGV[1]
LAUNCHER = (
    "import sys; from pathlib import Path; from ergobreak import paths;"
    " where = Path(sys.argv.pop(1)); paths.policy_dir = lambda: where;"
    " from ergobreak.cli import main; sys.exit(main(sys.argv[1:]))"
)


class ManagedDaemon(Daemon):
    """The e2e tests' daemon, with its admin policy folder at ``etc``."""

    def __init__(self, rig: Rig, home: Path, etc: Path) -> None:
        super().__init__(rig, home)
        self.etc = etc
        self.policy = etc / "policy.toml"

    def start(self, *extra: str) -> Proc:
        argv = [sys.executable, "-c", LAUNCHER, str(self.etc), "run", "--config", str(self.config)]
        self.proc = self.rig.launch("ergobreak", [*argv, *extra])
        wait_for(lambda: self.cli("status")[0] == 0, 10, interval=0.05, what="the daemon's IPC")
        return self.proc

    def install_policy(self, text: str) -> None:
        self.etc.mkdir(parents=True, exist_ok=True, mode=0o755)
        self.policy.write_text(text, encoding="utf-8")
        self.policy.chmod(0o644)

    def operational(self) -> dict[str, Any]:
        """``status --json`` as IT collects it (no ``--personal``)."""
        code, out, err = self.cli("status", "--json")
        assert code == 0, err
        return dict(json.loads(out))

    def daemon_log(self) -> str:
        (log,) = (self.home / "state").glob("ergobreak/log/ergobreak.log")
        return log.read_text(errors="replace")


@pytest.fixture
def managed(
    desktop: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ManagedDaemon]:
    require_root("policy files the daemon trusts (owned by root)")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("ERGOBREAK_CONFIG", raising=False)
    etc = tmp_path / "etc" / "ergobreak"
    monkeypatch.setattr(paths_module, "policy_dir", lambda: etc)  # for doctor, in-process
    d = ManagedDaemon(desktop, tmp_path, etc)
    yield d
    if desktop.is_running("ergobreak"):
        d.stop()


def bodies(rig: Rig, summary: str) -> list[str]:
    """The bodies of this test's notifications whose summary has ``summary``."""
    rig.close_all_notifications()
    return [n["body"] for n in ours(rig) if summary in n["summary"]]


def test_a_typo_is_told_once_with_file_line_and_fix(desktop: Rig, managed: ManagedDaemon) -> None:
    managed.config.write_text(CONFIG.replace("[drill]\n", '[drill]\nevrey = "20m"\n'))
    managed.start()
    _, notice = arrivals(desktop, WARNED, 10)
    assert notice["body"] == (
        "config.toml:9: drill.evrey: unknown key (ignored) — did you mean drill.every?"
    )
    (warning,) = managed.operational()["warnings"]
    assert (warning["file"], warning["line"]) == (str(managed.config), 9)
    assert "WARNING" in managed.daemon_log()
    assert "drill.evrey: unknown key" in managed.daemon_log()
    # An unrelated reload (the policy changed, then a `reload`) does not repeat it.
    managed.install_policy("schema = 1\n[enforced.quiet]\nenabled = false\n")
    arrivals(desktop, "ergobreak", 10, body="Settings updated: quiet mode off")
    assert managed.cli("reload")[0] == 0  # every bubble of each reload is sent by now
    assert len(bodies(desktop, WARNED)) == 1


def test_a_broken_policy_keeps_the_last_good_one_and_says_so_once(
    desktop: Rig, managed: ManagedDaemon
) -> None:
    managed.install_policy(POLICY)
    managed.start()
    facts = managed.operational()
    assert (facts["policy_current"], facts["policy_errors"]) == (True, [])
    assert managed.status()["settings"]["drill_every"] == 40
    managed.policy.write_text(POLICY.replace('"40s"', '"40s'), encoding="utf-8")  # no quote
    _, notice = arrivals(desktop, POLICY_TOLD, 10)
    assert notice["body"].startswith(KEPT)
    assert "policy.toml:5:" in notice["body"]
    facts = managed.operational()
    assert facts["policy_current"] is False
    errors = facts["policy_errors"]
    assert isinstance(errors, list)
    assert {(e["file"], e["line"]) for e in errors} >= {(str(managed.policy), 5)}
    assert managed.status()["settings"]["drill_every"] == 40  # still enforced
    code, out, _err = managed.cli("reload")
    assert code == 0
    assert out.splitlines()[:2] == [
        "Settings reloaded: no changes",
        KEPT,
    ]
    # the path as people read it: under the (test's) home folder it starts with ~
    assert re.search(r"^  \S*/etc/ergobreak/policy\.toml:5:", out, re.M), out
    assert len(bodies(desktop, POLICY_TOLD)) == 1  # told once
    assert not [b for b in bodies(desktop, "ergobreak") if b.startswith("Settings updated")]
    assert "ERROR" in managed.daemon_log()
    assert not compliant(facts)
    _code, out, _err = managed.cli("doctor")
    assert "the last good policy" in out
    assert re.search(r"^error    policy    \S*/etc/ergobreak/policy\.toml:5:", out, re.M), out

    # A restart with the file still broken: the last good policy, from the state folder.
    managed.stop()
    desktop.mark_history()
    managed.start()
    assert managed.status()["settings"]["drill_every"] == 40
    assert managed.operational()["policy_current"] is False
    _, notice = arrivals(desktop, POLICY_TOLD, 10)
    assert notice["body"].startswith(KEPT)

    # Fixed: current again, and compliant.
    managed.install_policy(POLICY.replace('"40s"', '"50s"'))
    wait_for(lambda: managed.operational()["policy_current"] is True, 10, what="the fix")
    assert managed.status()["settings"]["drill_every"] == 50
    assert compliant(managed.operational())


def test_one_bad_entry_in_a_policy_d_file_shows_in_status(
    desktop: Rig, managed: ManagedDaemon
) -> None:
    managed.install_policy(POLICY)
    managed.start()
    extra = managed.etc / "policy.d" / "20-posture.toml"
    extra.parent.mkdir(mode=0o755)
    extra.write_text('schema = 1\n[enforced.posture]\nevery = "soon"\n', encoding="utf-8")
    extra.chmod(0o644)
    wait_for(lambda: managed.operational()["policy_errors"], 10, what="the bad entry")
    (error,) = managed.operational()["policy_errors"]
    assert (error["file"], error["line"], error["key"]) == (str(extra), 3, "enforced.posture.every")
    assert managed.operational()["policy_current"] is False
    arrivals(desktop, POLICY_TOLD, 10)


def test_a_hand_edit_of_a_locked_key_is_told_once(desktop: Rig, managed: ManagedDaemon) -> None:
    managed.install_policy(POLICY)
    managed.config.write_text(CONFIG.replace('every = "24s"\n', ""))
    managed.start()
    assert managed.operational()["warnings"] == []
    managed.config.write_text(CONFIG.replace('every = "24s"', 'every = "30s"'))
    _, notice = arrivals(desktop, WARNED, 10)
    assert notice["body"] == (
        "config.toml:9: drill.every is set by your organization; your value is ignored"
    )
    assert managed.cli("reload")[0] == 0
    assert len(bodies(desktop, WARNED)) == 1
    assert managed.status()["settings"]["drill_every"] == 40


def test_the_tray_menu_says_who_manages_it_while_the_last_good_policy_is_kept(
    desktop: Rig, managed: ManagedDaemon, sni_host: Rig
) -> None:
    managed.install_policy(POLICY)
    managed.policy.chmod(0o666)  # unsafe already at start: the policy kept before...
    proc = managed.start()
    assert managed.operational()["policy_current"] is False
    assert managed.operational()["organization"] is None  # ... was none: nothing to keep

    def labels() -> list[str]:
        items = desktop.bus.get_property(WATCHER, "RegisteredStatusNotifierItems")
        entry = next((i for i in items if f"-{proc.pid}-" in i), None)
        if entry is None:
            return []
        menu = DBusAddress("/MenuBar", entry.split("/")[0], "com.canonical.dbusmenu")
        _rev, (_root, _props, children) = desktop.bus.call(
            menu, "GetLayout", "iias", 0, -1, ["label"]
        )
        return [props.get("label", ("s", ""))[1] for _s, (_i, props, _k) in children]

    wait_for(lambda: any(label.startswith("Pause") for label in labels()), 10, what="the menu")
    assert not [label for label in labels() if label.startswith("Managed by")]
    managed.policy.chmod(0o644)  # fixed: read, kept as the last good policy
    wait_for(lambda: "Managed by Example Corp" in labels(), 10, what="the managed line")
    managed.policy.chmod(0o666)  # unsafe again: the kept policy still manages the menu
    wait_for(lambda: managed.operational()["policy_current"] is False, 10, what="the refusal")
    assert "Managed by Example Corp" in labels()
    assert managed.status()["settings"]["drill_every"] == 40


def compliant(facts: dict[str, Any]) -> bool:
    """The compliance one-liner of docs/deploying.md, run by jq on ``facts``."""
    jq = shutil.which("jq")
    assert jq, "jq missing: install Debian's jq package"
    guide = Path(__file__).parents[2] / "docs" / "deploying.md"
    (line,) = [
        ln
        for ln in guide.read_text(encoding="utf-8").splitlines()
        if ln.startswith("ergobreak status --json | jq ")
    ]
    command = line.split("|", 1)[1].replace(">/dev/null", "").split()
    program = line.split("'")[1]
    assert command[:2] == ["jq", "-e"]
    done = subprocess.run(
        [jq, "-e", program], input=json.dumps(facts), capture_output=True, text=True, check=False
    )
    return done.returncode == 0
