"""``ergobreak simulate``: shipped traces, the settings it says it used, and an
install without the source checkout."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_packaging import build_wheel

from ergobreak.cli import main
from ergobreak.sim.trace import find_trace, shipped_trace, shipped_traces


def simulate(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["simulate", *args], out, err)
    return code, out.getvalue(), err.getvalue()


def test_the_shipped_traces_are_package_data() -> None:
    assert set(shipped_traces()) == {"workday", "calls"}
    here = Path(__file__).resolve().parents[1] / "ergobreak" / "sim" / "traces"
    assert {p.stem for p in here.glob("*.csv")} == set(shipped_traces())
    assert shipped_trace("calls.csv") == (here / "calls.csv").read_text(encoding="utf-8")


def test_a_file_wins_over_a_shipped_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "calls").write_text("5m,idle\n", encoding="utf-8")
    assert [(r.seconds, r.what) for r in find_trace("calls")] == [(300, "idle")]


def test_the_calls_day_counts_calls_and_videos_as_sitting(isolated: Path) -> None:
    code, out, err = simulate("calls")
    assert code == 0, err
    assert out.splitlines()[0] == (
        f"settings: built-in defaults (no {isolated / 'home' / 'config.toml'})"
    )
    table = out.splitlines()[2:]
    # Only the coffee and lunch breaks, both locked: no call or video becomes one.
    assert [line.split()[0] for line in table if line[20:34].strip() == "natural_break"] == [
        "11:38:00",
        "12:51:00",
    ]
    assert "drill held while quiet (call)" in out
    assert "Standing hip-flexor stretch, 2m, after a 40m call" in out
    assert "after a 1h call" in out
    assert "skipped: Wall hip hinge" in out
    assert "2 natural breaks" in out


def test_it_names_the_settings_file_it_used(isolated: Path) -> None:
    config = isolated / "mine.toml"
    config.write_text('[drill]\nevery = "45m"\n', encoding="utf-8")
    code, out, err = simulate("workday", "--config", str(config))
    assert code == 0, err
    assert out.splitlines()[0] == f"settings: {config}"


def test_with_json_the_settings_line_goes_to_stderr(isolated: Path) -> None:
    code, out, err = simulate("calls", "--json")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [d["after_call"] for d in lines if "after_call" in d] == [2400, 1200, 3600]
    assert err.startswith("settings: built-in defaults")


def test_a_settings_file_that_is_not_there_is_an_error(isolated: Path) -> None:
    code, _, err = simulate("calls", "--config", str(isolated / "typo.toml"))
    assert code == 1
    assert "typo.toml: no such file" in err


def test_list_and_a_missing_trace(isolated: Path) -> None:
    code, out, _ = simulate("--list")
    assert code == 0
    assert "calls" in out
    assert "workday" in out
    code, _, err = simulate()
    assert code == 2
    assert "name a trace file or a shipped trace" in err
    code, _, err = simulate("no-such-day")
    assert code == 1
    assert 'no trace file "no-such-day"' in err
    assert "shipped: calls, workday" in err


@pytest.mark.timeout(300)
def test_simulate_runs_from_the_wheel_outside_a_checkout(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    wheel = build_wheel(tmp_path_factory)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"ergobreak/sim/traces/{n}.csv" for n in ("workday", "calls")} <= names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ERGOBREAK", "PYTHON"))},
        "PYTHONPATH": str(site),
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    where = run("-c", "import ergobreak.sim.trace as t; print(t.__file__)")
    assert where.stdout.strip().startswith(str(site)), where.stdout + where.stderr
    done = run("-m", "ergobreak", "simulate", "calls")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "after a 40m call" in done.stdout
