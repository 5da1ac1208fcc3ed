"""packaging/ansible/deploy.yml, run for real: ``ansible-playbook -c local`` against a
scratch root. It installs the freshly built wheel with pipx, drops the launcher,
the icons, the policy (checked first, with --strict) and the system autostart entry;
a second run changes nothing; a broken policy is refused and the good one stays. A
newer wheel upgrades without a flag, an older one is kept back unless asked for, and
``ergobreak_state=absent`` removes everything the playbook put there.

Every path the playbook writes is a variable pointed into ``tmp_path``; only
``become`` (no sudo here: the suite runs as the user it is) and the apt step for
pipx (pipx comes from the test extra) are switched off.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_packaging import build_wheel, desktop_free_env

from ergobreak import __version__

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOK = ROOT / "packaging" / "ansible" / "deploy.yml"
POLICY = ROOT / "config" / "policy.example.toml"
BIN = Path(sys.executable).parent
#: the version of the "newer wheel" built from the same source
NEWER = __version__ + ".post1"


def playbook(tmp_path: Path, variables: dict[str, object]) -> subprocess.CompletedProcess[str]:
    extra = tmp_path / f"vars-{len(list(tmp_path.glob('vars-*')))}.json"
    extra.write_text(json.dumps(variables), encoding="utf-8")
    ansible = tmp_path / "ansible"
    env = desktop_free_env(
        Path.home(),  # pip's download cache for the pipx install
        ANSIBLE_HOME=str(ansible),
        ANSIBLE_LOCAL_TEMP=str(ansible / "tmp"),
        ANSIBLE_REMOTE_TEMP=str(ansible / "tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        PATH=f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    )
    return subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            str(PLAYBOOK),
            "-e",
            f"@{extra}",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=240,
    )


def recap(done: subprocess.CompletedProcess[str]) -> dict[str, int]:
    match = re.search(r"localhost\s*:\s*(.*)", done.stdout.split("PLAY RECAP")[-1])
    assert match, done.stdout + done.stderr
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def scratch_variables(root: Path, wheel: Path) -> dict[str, object]:
    """The playbook's variables for a scratch root: every path under ``root``, no
    become, no apt; the policy owned by whoever runs the tests."""
    variables: dict[str, object] = {
        "ergobreak_hosts": "localhost",
        "ergobreak_become": False,
        "ergobreak_install_pipx": False,
        "ergobreak_pipx": str(BIN / "pipx"),
        "ergobreak_package": str(wheel),
        "ergobreak_pipx_home": str(root / "opt" / "pipx"),
        "ergobreak_bin_dir": str(root / "usr" / "local" / "bin"),
        "ergobreak_share_dir": str(root / "usr" / "local" / "share"),
        "ergobreak_policy_dir": str(root / "etc" / "ergobreak"),
        "ergobreak_policy_src": str(POLICY),
        "ergobreak_xdg_dir": str(root / "etc" / "xdg"),
        "ansible_python_interpreter": sys.executable,
    }
    if os.geteuid() != 0:  # not root: the playbook's chown needs root; own it ourselves
        import grp
        import pwd

        variables["ergobreak_policy_owner"] = pwd.getpwuid(os.geteuid()).pw_name
        variables["ergobreak_policy_group"] = grp.getgrgid(os.getegid()).gr_name
    return variables


def installed_version(root: Path) -> str:
    exe = root / "usr" / "local" / "bin" / "ergobreak"
    done = subprocess.run(
        [str(exe), "--version"],
        capture_output=True,
        text=True,
        env=desktop_free_env(root),
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def task_lines(done: subprocess.CompletedProcess[str], task: str) -> str:
    """What the playbook printed for the task named ``task`` (up to the next task)."""
    part = done.stdout.split(f"TASK [{task}]", 1)
    assert len(part) == 2, done.stdout
    return part[1].split("TASK [", 1)[0]


@pytest.mark.timeout(300)
def test_playbook_deploys_into_a_scratch_root(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    wheel = build_wheel(tmp_path_factory)
    root = tmp_path / "root"
    owner = "root" if os.geteuid() == 0 else None
    variables = scratch_variables(root, wheel)

    first = playbook(tmp_path, variables)
    assert first.returncode == 0, first.stdout + first.stderr
    assert recap(first)["failed"] == 0

    exe = root / "usr" / "local" / "bin" / "ergobreak"
    policy = root / "etc" / "ergobreak" / "policy.toml"
    entry = root / "etc" / "xdg" / "autostart" / "ergobreak.desktop"
    share = root / "usr" / "local" / "share"

    # the policy: same bytes, 0644, root's when we are root
    assert policy.read_bytes() == POLICY.read_bytes()
    info = policy.stat()
    assert info.st_mode & 0o777 == 0o644
    assert info.st_uid == os.geteuid()
    if owner == "root":
        assert info.st_uid == 0
        assert info.st_gid == 0
    # the system autostart entry: valid, and runs the installed command
    validate = shutil.which("desktop-file-validate")
    assert validate, "desktop-file-validate missing: install desktop-file-utils"
    for desktop in (entry, share / "applications" / "ergobreak.desktop"):
        check = subprocess.run(
            [validate, str(desktop)], capture_output=True, text=True, check=False
        )
        assert (check.returncode, check.stdout) == (0, "")
    assert f"Exec={exe} run --autostart" in entry.read_text(encoding="utf-8").splitlines()
    assert (share / "icons" / "hicolor" / "48x48" / "apps" / "ergobreak.png").is_file()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "ergobreak.svg").is_file()

    home = tmp_path / "home"
    home.mkdir()
    env = desktop_free_env(home, XDG_CONFIG_DIRS=str(root / "etc" / "xdg"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(exe), *args], capture_output=True, text=True, env=env, check=False, timeout=60
        )

    checked = run("config", "check", "--policy", str(policy))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    status = run("autostart", "status", "--system")
    assert status.returncode == 0, status.stdout + status.stderr
    assert str(entry) in status.stdout
    assert "Starts at login for this user: yes" in status.stdout

    # idempotent: nothing changes on a second run
    second = playbook(tmp_path, variables)
    assert second.returncode == 0, second.stdout + second.stderr
    assert recap(second)["changed"] == 0, second.stdout

    # a broken policy never goes live: the run fails, the good file stays; nor does
    # one with a typo, a warning alone (the playbook validates with --strict)
    for name, text, said in (
        ("broken", "schema = 1\n[limits.drill]\nevery = { max = 5 }\n", "expected a duration"),
        (
            "typo",
            "schema = 1\n[enforced.quiett]\nenabled = true\n",
            "did you mean [enforced.quiet]?",
        ),
    ):
        bad = tmp_path / f"{name}.toml"
        bad.write_text(text, encoding="utf-8")
        refused = playbook(tmp_path, {**variables, "ergobreak_policy_src": str(bad)})
        assert refused.returncode != 0, name
        assert "failed to validate" in refused.stdout
        assert said in refused.stdout
        assert policy.read_bytes() == POLICY.read_bytes()


@pytest.mark.timeout(480)
def test_playbook_upgrades_a_newer_wheel_keeps_an_older_one_and_removes_it_all(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    old, new = build_wheel(tmp_path_factory), build_wheel(tmp_path_factory, NEWER)
    root = tmp_path / "root"
    variables = scratch_variables(root, old)
    first = playbook(tmp_path, variables)
    assert first.returncode == 0, first.stdout + first.stderr
    assert installed_version(root) == f"ergobreak {__version__}"

    # a newer wheel upgrades without any flag, and says how running copies follow
    upgrade = playbook(tmp_path, {**variables, "ergobreak_package": str(new)})
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    assert installed_version(root) == f"ergobreak {NEWER}"
    assert "changed:" in task_lines(
        upgrade, "Install ergobreak with pipx (or upgrade it to a newer version)"
    )
    said = task_lines(upgrade, "Say how running copies pick up a new version")
    assert f"ergobreak {NEWER} installed (was {__version__})" in said
    assert "`ergobreak quit`" in said
    # the same version again: nothing to do
    again = playbook(tmp_path, {**variables, "ergobreak_package": str(new)})
    assert recap(again)["changed"] == 0, again.stdout
    # an older wheel is kept back (and says so) unless a reinstall is asked for
    older = playbook(tmp_path, variables)
    assert older.returncode == 0, older.stdout + older.stderr
    assert recap(older)["changed"] == 0, older.stdout
    assert installed_version(root) == f"ergobreak {NEWER}"
    kept = task_lines(
        older, "Keep a newer installed version (ergobreak_reinstall=true to downgrade)"
    )
    assert f"ergobreak {NEWER} is installed, newer than {__version__}" in kept
    back = playbook(tmp_path, {**variables, "ergobreak_reinstall": True})
    assert back.returncode == 0, back.stdout + back.stderr
    assert installed_version(root) == f"ergobreak {__version__}"

    # absent: the command, its environment, launcher, icons, login entry and policy go
    entry = root / "etc" / "xdg" / "autostart" / "ergobreak.desktop"
    share = root / "usr" / "local" / "share"
    assert entry.is_file()
    gone = playbook(tmp_path, {**variables, "ergobreak_state": "absent"})
    assert gone.returncode == 0, gone.stdout + gone.stderr
    for path in (
        root / "usr" / "local" / "bin" / "ergobreak",
        root / "opt" / "pipx" / "venvs" / "ergobreak",
        entry,
        share / "applications" / "ergobreak.desktop",
        share / "icons" / "hicolor" / "48x48" / "apps" / "ergobreak.png",
        share / "icons" / "hicolor" / "scalable" / "apps" / "ergobreak.svg",
        root / "etc" / "ergobreak",
    ):
        assert not path.exists(), path
    # and again: nothing left to remove
    twice = playbook(tmp_path, {**variables, "ergobreak_state": "absent"})
    assert twice.returncode == 0, twice.stdout + twice.stderr
    assert recap(twice)["changed"] == 0, twice.stdout
    # a typo in the state is refused before anything is touched
    typo = playbook(tmp_path, {**variables, "ergobreak_state": "absnet"})
    assert typo.returncode != 0
    assert "ergobreak_state is present or absent, not absnet" in typo.stdout
