"""The wheel IT installs: what it carries, and that a ``pipx install`` of it works
in a fresh environment without a desktop (``--version``, ``config check`` on the
shipped examples, ``doctor``).

The build runs on a copy of the sources, so it never writes ``build/`` or
``*.egg-info`` into the work tree. It needs the package index (build
dependencies and ergobreak's own dependencies), like ``tests/run.sh``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

import ergobreak
from ergobreak import __version__

ROOT = Path(__file__).resolve().parent.parent
#: what the build reads besides top-level files (pyproject.toml, README.md, LICENSE...)
SOURCE_DIRS = ("ergobreak", "config", "packaging/linux")
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)
_built: dict[str, Path] = {}


def build_wheel(factory: pytest.TempPathFactory, version: str | None = None) -> Path:
    """Build the wheel once per test session (tests/test_ansible.py uses it too);
    ``version``: the same source as another version (an upgrade to deploy)."""
    key = version or "wheel"
    if key not in _built:
        base = factory.mktemp("wheel")
        src = base / "src"
        src.mkdir()
        for item in ROOT.iterdir():
            if item.is_file():
                shutil.copy2(item, src / item.name)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for name in SOURCE_DIRS:
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        if version is not None:
            init = src / "ergobreak" / "__init__.py"
            text = init.read_text(encoding="utf-8")
            assert f'__version__ = "{__version__}"' in text
            init.write_text(
                text.replace(f'__version__ = "{__version__}"', f'__version__ = "{version}"'),
                encoding="utf-8",
            )
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(base), str(src)],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        (wheel,) = base.glob("ergobreak-*.whl")
        _built[key] = wheel
    return _built[key]


def desktop_free_env(home: Path, **extra: str) -> dict[str, str]:
    """No display, no session bus, a fresh home: what an ssh session or CI has."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISPLAY", "WAYLAND", "DBUS", "XDG_", "ERGOBREAK", "PYTHON"))
        and k not in ("VIRTUAL_ENV",)
    }
    env.update(HOME=str(home), LC_ALL="C.UTF-8", **extra)
    return env


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory)


def test_launcher_passes_desktop_file_validate() -> None:
    validate = shutil.which("desktop-file-validate")
    assert validate, "desktop-file-validate missing: install desktop-file-utils"
    launcher = ROOT / "packaging" / "linux" / "ergobreak.desktop"
    done = subprocess.run([validate, str(launcher)], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "")


def test_packaged_icons_are_the_current_exports() -> None:
    """packaging/linux/icons holds hicolor-named copies of icons/ (run sync_icons.py)."""
    sys.path.insert(0, str(ROOT / "packaging" / "linux"))
    try:
        import sync_icons  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "packaging" / "linux"))
    pairs = sync_icons.pairs()
    assert {int(dst.parts[-3].split("x")[0]) for _, dst in pairs[:-1]} == set(ICON_SIZES)
    for src, dst in pairs:
        assert src.exists(), f"{src} missing: the tray's icons/make_icons.py exports it"
        assert dst.read_bytes() == src.read_bytes(), "run: python packaging/linux/sync_icons.py"


@pytest.mark.timeout(300)
def test_wheel_carries_package_data_and_desktop_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    content = {
        f"ergobreak/content/{p.name}" for p in (ROOT / "ergobreak" / "content").glob("*.toml")
    }
    assert content
    assert content <= names
    assert "ergobreak/py.typed" in names
    data = f"ergobreak-{ergobreak.__version__}.data/data/share"
    expected = {
        f"{data}/applications/ergobreak.desktop",
        f"{data}/icons/hicolor/scalable/apps/ergobreak.svg",
        f"{data}/ergobreak/examples/ergobreak.toml",
        f"{data}/ergobreak/examples/policy.example.toml",
        *(f"{data}/icons/hicolor/{n}x{n}/apps/ergobreak.png" for n in ICON_SIZES),
    }
    assert expected <= names, sorted(expected - names)
    entry_points = zipfile.ZipFile(wheel).read(
        f"ergobreak-{ergobreak.__version__}.dist-info/entry_points.txt"
    )
    assert b"ergobreak = ergobreak.cli:main" in entry_points


@pytest.mark.timeout(300)
def test_pipx_install_runs_without_a_desktop(wheel: Path, tmp_path: Path) -> None:
    pipx_home, bin_dir = tmp_path / "pipx", tmp_path / "bin"
    env = desktop_free_env(
        Path.home(),  # the real home: pip's download cache
        PIPX_HOME=str(pipx_home),
        PIPX_BIN_DIR=str(bin_dir),
        PIPX_MAN_DIR=str(tmp_path / "man"),
        PIPX_DEFAULT_PYTHON=sys.executable,
    )
    done = subprocess.run(
        [sys.executable, "-m", "pipx", "install", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    exe = bin_dir / "ergobreak"
    examples = pipx_home / "venvs" / "ergobreak" / "share" / "ergobreak" / "examples"
    home = tmp_path / "home"
    home.mkdir()
    run_env = desktop_free_env(home, PATH=f"{bin_dir}:/usr/bin:/bin")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(exe), *args], capture_output=True, text=True, env=run_env, check=False, timeout=60
        )

    version = run("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"ergobreak {ergobreak.__version__}"
    user = run("config", "check", str(examples / "ergobreak.toml"))
    assert user.returncode == 0, user.stdout + user.stderr
    assert "OK" in user.stdout
    policy = run("config", "check", "--policy", str(examples / "policy.example.toml"))
    assert policy.returncode == 0, policy.stdout + policy.stderr
    doctor = run("doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "config" in doctor.stdout
    status = run("autostart", "status", "--json")  # nothing set up: exit 1, valid JSON
    assert status.returncode == 1
    assert '"enabled": false' in status.stdout


def test_macos_install_script_passes_shellcheck() -> None:
    """Lint only: the script's behaviour on macOS is untested (docs/deploying.md)."""
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck missing: install Debian's shellcheck package"
    script = ROOT / "packaging" / "macos" / "install-ergobreak.sh"
    done = subprocess.run([shellcheck, str(script)], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "")


def guide_line(prefix: str) -> str:
    """The one line of docs/deploying.md that starts with ``prefix``."""
    text = (ROOT / "docs" / "deploying.md").read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if ln.startswith(prefix)]
    return line


@pytest.mark.timeout(120)
def test_compliance_one_liner_from_the_guide(tmp_path: Path) -> None:
    """Run the guide's one-liner against a real headless ergobreak, then with none."""
    jq = shutil.which("jq")
    assert jq, "jq missing: install Debian's jq package"
    one_liner = guide_line("ergobreak status --json | jq ")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = desktop_free_env(
        tmp_path,
        XDG_RUNTIME_DIR=str(runtime),
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    )

    def sh(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=30,
        )

    assert sh(one_liner).returncode != 0  # nothing running: not compliant
    daemon = subprocess.Popen(
        [sys.executable, "-m", "ergobreak", "run", "--no-tray"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        facts: dict[str, object] = {}
        for _ in range(100):
            status = sh("ergobreak status --json")
            if status.returncode == 0:
                facts = json.loads(status.stdout)
                break
            time.sleep(0.1)
        assert facts.get("running") is True, "ergobreak run --no-tray did not answer"
        compliant = facts.get("policy") is not None and facts.get("config_error") is None
        assert (sh(one_liner).returncode == 0) is compliant
        # the same filter on the same facts with a policy in force: compliant
        filter_only = one_liner.split("|", 1)[1]
        with_policy = json.dumps({**facts, "policy": "/etc/ergobreak/policy.toml"})
        assert sh(f"echo {shlex.quote(with_policy)} |{filter_only}").returncode == 0
        in_force = {**facts, "policy": "/etc/ergobreak/policy.toml"}
        error = {"file": "/etc/ergobreak/policy.toml", "line": 3, "message": "x"}
        for broken in (
            {**in_force, "config_error": "x"},
            {**in_force, "policy_current": False},  # the last good policy is kept
            {**in_force, "policy_errors": [error]},  # one bad entry
            {key: value for key, value in in_force.items() if key != "policy_current"},
        ):
            assert sh(f"echo {shlex.quote(json.dumps(broken))} |{filter_only}").returncode != 0
    finally:
        sh("ergobreak quit")
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
