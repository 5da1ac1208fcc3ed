r"""The OS channels merged with policy.toml (issue 19, items 2-4): the channel wins key by
key and bound by bound; ``config show --origin``, ``status --json`` and ``doctor`` name
each value's channel and the rejected entries; a running daemon keeps a registry policy
as its last good policy; and the round trip from the ADMX's own definitions (registry
values as Group Policy writes them) to the same settings as policy.toml."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from chosen_policy import CHOSEN, as_toml, parsed
from fake_desk import start_app
from fake_winreg import REG, FakeRegistry
from scaffold import cli, require_root

from ergobreak.cli.control import operational
from ergobreak.config import channels, layers
from ergobreak.config.channels import Table
from ergobreak.config.layers import Effective, load
from ergobreak.config.managed_prefs import managed_prefs_sources
from ergobreak.config.origin import Origin
from ergobreak.config.registry import registry_sources
from ergobreak.daemon.last_policy import NAME as LAST_POLICY
from ergobreak.paths import paths

pytestmark = pytest.mark.usefixtures("isolated")

HKLM = r"HKLM\Software\Policies\ergobreak"
HKCU = r"HKCU\Software\Policies\ergobreak"
ADMX = Path(__file__).parent.parent / "packaging" / "windows" / "admx" / "ergobreak.admx"
NS = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
FILE_POLICY = (
    'schema = 1\n[meta]\norganization = "Example Corp"\n'
    '[enforced.drill]\nevery = "1h"\nmax_snoozes = 1\n'
    '[defaults.posture]\nevery = "25m"\n'
    '[limits.drill]\nsnooze = { min = "6m", max = "20m" }\n'
)


@pytest.fixture(autouse=True)
def _root() -> None:
    require_root("policy files the daemon trusts (owned by root)")


def install_policy(text: str) -> Path:
    path = paths().policy_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    return path


def registry(*values: tuple[str, str, Any, str]) -> FakeRegistry:
    reg = FakeRegistry()
    for key, name, data, type_name in values:
        reg.set(key, name, data, REG[type_name])
    return reg


def use_registry(monkeypatch: pytest.MonkeyPatch, reg: FakeRegistry) -> None:
    """This machine's policy channels are ``reg``'s keys (as on Windows)."""
    monkeypatch.setattr(layers, "os_policy_sources", lambda: registry_sources(reg))


# ------------------------------------------------------------------ precedence


def test_the_registry_wins_over_policy_toml_key_by_key_and_bound_by_bound() -> None:
    toml = install_policy(FILE_POLICY)
    reg = registry(
        (HKCU, "drill.every", "50m", "REG_SZ"),
        (HKLM, "drill.every", "45m", "REG_SZ"),
        (HKLM + r"\Limits", "drill.snooze.max", "15m", "REG_SZ"),
        (HKCU, "meta.organization", "Example Team", "REG_SZ"),
    )
    e = load(None, policy_sources=registry_sources(reg))
    assert [d.headline() for d in e.diagnostics] == []
    assert (e.values["drill.every"], e.origins["drill.every"]) == (
        45 * 60,
        Origin("enforced", HKLM + r"\drill.every"),
    )
    assert e.origins["drill.max_snoozes"] == Origin("enforced", str(toml), 6)
    assert e.origins["posture.every"] == Origin("policy default", str(toml), 8)
    limit = e.limits["drill.snooze"]
    assert (limit.min, limit.max) == (6 * 60, 15 * 60)
    assert limit.min_origin == Origin("limit", str(toml), 10)
    assert limit.max_origin == Origin("limit", HKLM + r"\Limits\drill.snooze.max")
    assert e.organization == "Example Team"
    assert [(s.name, s.channel, s.error) for s in e.policy_sources] == [
        (HKLM, "registry", None),
        (HKCU, "registry", None),
        (str(toml), "policy file", None),
    ]


def test_managed_preferences_win_over_policy_toml_the_users_over_the_machines(
    tmp_path: Path,
) -> None:
    import plistlib

    toml = install_policy(FILE_POLICY)
    base = tmp_path / "Managed Preferences"
    (base / "alice").mkdir(parents=True)
    base.chmod(0o755)
    machine = base / "org.ergobreak.plist"
    machine.write_bytes(
        plistlib.dumps({"drill.every": "45m", "Recommended": {"posture.every": "40m"}})
    )
    mine = base / "alice" / "org.ergobreak.plist"
    mine.write_bytes(plistlib.dumps({"drill.every": "50m", "Limits": {"drill.snooze.max": "15m"}}))
    e = load(None, policy_sources=managed_prefs_sources(base, "alice"))
    assert [d.headline() for d in e.diagnostics] == []
    assert e.origins["drill.every"] == Origin("enforced", f"{mine}: drill.every")
    assert e.origins["posture.every"] == Origin(
        "policy default", f"{machine}: Recommended/posture.every"
    )
    assert e.origins["drill.max_snoozes"] == Origin("enforced", str(toml), 6)
    assert e.limits["drill.snooze"].max_origin == Origin(
        "limit", f"{mine}: Limits/drill.snooze.max"
    )
    assert e.limits["drill.snooze"].min_origin == Origin("limit", str(toml), 10)


def test_a_registry_error_is_a_policy_error_next_to_the_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install_policy(FILE_POLICY.replace('"1h"', '"1 hour"'))
    reg = registry((HKLM, "drill.every", 45, "REG_DWORD"))
    use_registry(monkeypatch, reg)
    e = load(None)
    assert [(d.path, d.key) for d in e.policy_errors] == [
        (str(paths().policy_file), "enforced.drill.every"),
        (HKLM + r"\drill.every", None),
    ]
    assert not e.policy_current


# ------------------------------------------------------- show, status, doctor


def test_config_show_origin_names_the_registry_value_of_every_managed_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    toml = install_policy(FILE_POLICY)
    reg = registry(
        (HKLM, "drill.every", "45m", "REG_SZ"),
        (HKLM + r"\Recommended", "drill.prelude", "2m", "REG_SZ"),
        (HKLM + r"\Limits", "drill.snooze.max", "15m", "REG_SZ"),
    )
    use_registry(monkeypatch, reg)
    config = paths().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[drill]\nevery = "20m"\nsnooze = "30m"\n', encoding="utf-8")
    code, out, _err = cli("config", "show", "--origin")
    assert code == 0
    lines = out.splitlines()
    assert f"# policy: {toml} (Example Corp)" in lines
    assert f"# policy: {HKLM} (registry) (Example Corp)" in lines
    by_key = {ln.split(" = ")[0]: ln for ln in lines if " = " in ln and not ln.startswith("#")}
    assert by_key["every"].endswith(f"# enforced  {HKLM}\\drill.every (locked)")
    assert by_key["prelude"].endswith(f"# policy default  {HKLM}\\Recommended\\drill.prelude")
    assert by_key["snooze"].endswith(
        f'# limit  {HKLM}\\Limits\\drill.snooze.max (6m to 15m; user  {config}:3 asked for "30m")'
    )
    assert by_key["max_snoozes"].endswith(f"# enforced  {toml}:6 (locked)")
    assert f'#   drill.every = "20m"  (user  {config}:2) locked by {HKLM}\\drill.every' in lines
    code, out, _err = cli("config", "show", "--json")
    data = json.loads(out)
    assert data["origins"]["drill.every"] == {
        "layer": "enforced",
        "path": HKLM + r"\drill.every",
        "line": None,
    }
    assert data["policy_sources"][HKLM] == {
        "channel": "registry",
        "status": "applied",
        "error": None,
    }


def test_status_json_lists_the_sources_and_the_rejected_registry_entries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    toml = install_policy(FILE_POLICY)
    reg = registry(
        (HKLM, "drill.every", "45m", "REG_SZ"),
        (HKLM, "posture.every", 25, "REG_DWORD"),
        (HKLM, "drill.evrey", "45m", "REG_SZ"),
    )
    reg.key(HKCU).denied = True
    use_registry(monkeypatch, reg)
    rig = start_app()
    status = operational(rig.request("status")["status"])
    assert status["policy_sources"] == {
        HKLM: {"channel": "registry", "status": "applied", "error": None},
        HKCU: {
            "channel": "registry",
            "status": "error",
            "error": "cannot be read: Access is denied",
        },
        str(toml): {"channel": "policy file", "status": "applied", "error": None},
    }
    assert [(e["file"], e["message"]) for e in status["policy_errors"]] == [
        (HKCU, "policy cannot be read: Access is denied; other policies still apply"),
        (
            HKLM + r"\posture.every",
            'expected REG_SZ (a duration like "20m"), got REG_DWORD integer 25; entry ignored',
        ),
    ]
    assert status["policy"] == f"{toml}, {HKLM}"
    assert any(w["file"] == HKLM + r"\drill.evrey" for w in status["warnings"])
    _code, out, _err = cli("doctor")
    assert f"policy: {toml}, {HKLM} (Example Corp)" in out
    assert f"error    policy    {HKCU}: error: policy cannot be read: Access is denied" in out


# ---------------------------------------------------------- last good policy


def test_a_registry_key_that_becomes_unreadable_keeps_its_last_good_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reg = registry(
        (HKLM, "drill.every", "1h", "REG_SZ"),
        (HKLM + r"\Limits", "posture.every.max", "40m", "REG_SZ"),
    )
    use_registry(monkeypatch, reg)
    rig = start_app()
    assert rig.engine.core.settings.drill.every == 3600
    saved = paths().state_dir / LAST_POLICY
    kept = json.loads(saved.read_text(encoding="utf-8"))["files"]
    assert [f["path"] for f in kept] == [f"registry:{HKLM}"]
    reg.key(HKLM).denied = True  # e.g. a GPO refresh rewriting the key's permissions
    assert rig.request("reload")["policy_current"] is False
    assert rig.engine.core.settings.drill.every == 3600  # still enforced
    # A new daemon with the key still unreadable: the kept copy applies, from its origins.
    rig = start_app(None)
    assert rig.engine.core.settings.drill.every == 3600
    assert rig.app.effective is not None
    assert rig.app.effective.origins["drill.every"] == Origin("enforced", HKLM + r"\drill.every")
    assert rig.app.effective.limits["posture.every"].max == 40 * 60
    status = rig.request("status")["status"]
    assert status["policy_current"] is False
    assert status["policy_sources"][HKLM]["status"] == "error"
    # Readable again, with a new value: in force, and kept.
    reg.key(HKLM).denied = False
    reg.set(HKLM, "drill.every", "45m", REG["REG_SZ"])
    assert rig.request("reload")["changes"] == "drills every 45 min"
    assert '"45m"' in json.loads(saved.read_text(encoding="utf-8"))["files"][0]["text"]


def test_a_registry_value_that_goes_bad_keeps_the_last_good_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reg = registry((HKLM, "drill.every", "1h", "REG_SZ"))
    use_registry(monkeypatch, reg)
    rig = start_app()
    reg.set(HKLM, "drill.every", 60, REG["REG_DWORD"])
    assert rig.request("reload")["policy_current"] is False
    assert rig.engine.core.settings.drill.every == 3600


# ------------------------------------------------------------ ADMX round trip


def admx_registry(chosen: dict[tuple[Table, str], Any], hive: str) -> tuple[FakeRegistry, set[Any]]:
    """The registry as Group Policy writes it when each ADMX policy that ``chosen``
    sets is enabled with those values: a policy's own ``valueName`` takes its
    ``enabledValue`` / ``disabledValue``; each element its type's registry value."""
    reg = FakeRegistry()
    written: set[Any] = set()
    root = ET.parse(ADMX).getroot()  # noqa: S314 - our own generated file
    for policy in root.iterfind("p:policies/p:policy", NS):
        key = policy.get("key", "")
        table = next(t for t in channels.SUBKEYS if channels.registry_subkey(t) == key)
        where = f"{hive}\\{key}"
        name = policy.get("valueName")
        if name is not None:  # a true/false policy: enabled or disabled
            if (table, name) not in chosen:
                continue
            state = "enabledValue" if chosen[table, name] else "disabledValue"
            (decimal,) = policy.iterfind(f"p:{state}/p:decimal", NS)
            reg.set(where, name, int(decimal.get("value", "")), REG["REG_DWORD"])
            written.add((table, name))
            continue
        elements = list(policy.iterfind("p:elements/*", NS))
        names = [(table, element.get("valueName", "")) for element in elements]
        if not any(n in chosen for n in names):
            continue
        for element, entry in zip(elements, names, strict=True):
            tag = element.tag.split("}")[1]
            if entry not in chosen:
                assert element.get("required") != "true", (
                    f"{entry} is required by {policy.get('name')}"
                )
                continue
            value = chosen[entry]
            if tag == "text":
                reg.set(where, entry[1], str(value), REG["REG_SZ"])
            elif tag == "decimal":
                low, high = int(element.get("minValue", "0")), int(element.get("maxValue", "0"))
                assert low <= value <= high, f"the ADMX would refuse {entry} = {value}"
                reg.set(where, entry[1], int(value), REG["REG_DWORD"])
            elif tag == "multiText":
                reg.set(where, entry[1], [str(item) for item in value], REG["REG_MULTI_SZ"])
            else:
                raise AssertionError(f"no round trip for an ADMX {tag} element yet")
            written.add(entry)
    return reg, written


@pytest.mark.parametrize("hive", ["HKLM", "HKCU"])
def test_registry_values_written_from_the_admx_read_as_the_same_policy_toml(
    tmp_path: Path, hive: str
) -> None:
    chosen = {(table, name): raw for table, name, raw in CHOSEN}
    reg, written = admx_registry(chosen, hive)
    assert written == set(chosen)  # every chosen value has its place in the ADMX
    toml = tmp_path / "policy.toml"
    toml.write_text(as_toml(), encoding="utf-8")
    from_admx: Effective = load(None, policy_files=[], policy_sources=registry_sources(reg))
    from_toml = load(None, policy_files=[toml])
    assert [d.headline() for d in from_admx.diagnostics] == []
    assert from_admx.settings == from_toml.settings
    assert dict(from_admx.values) == dict(from_toml.values)
    assert set(from_admx.locked) == set(from_toml.locked)
    assert from_admx.content == from_toml.content
    assert (from_admx.organization, from_admx.contact) == (
        from_toml.organization,
        from_toml.contact,
    )
    # and what the ADMX writes is what channels.py encodes, value by value
    for (table, name), raw in chosen.items():
        data, reg_type = channels.encode_registry(name, parsed(table, name, raw), table)
        key = reg.key(channels.registry_key(hive, table), create=False)  # type: ignore[arg-type]
        assert key.values[name] == (data, reg_type), name


def test_the_reader_knows_every_value_name_the_admx_writes() -> None:
    reg = FakeRegistry()
    root = ET.parse(ADMX).getroot()  # noqa: S314 - our own generated file
    count = 0
    for policy in root.iterfind("p:policies/p:policy", NS):
        key = policy.get("key", "")
        assert key in {channels.registry_subkey(t) for t in channels.SUBKEYS}
        names = [policy.get("valueName")] + [
            e.get("valueName") for e in policy.iterfind("p:elements/*", NS)
        ]
        for name in filter(None, names):
            reg.set(f"HKLM\\{key}", name, "", REG["REG_SZ"])
            count += 1
    e = load(None, policy_files=[], policy_sources=registry_sources(reg))
    assert count > 60
    assert not [d for d in e.diagnostics if "unknown" in d.message]


def test_a_running_daemon_applies_a_registry_change_within_the_poll(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ergobreak.app import CHANNEL_POLL

    reg = registry((HKLM, "drill.every", "1h", "REG_SZ"))
    use_registry(monkeypatch, reg)
    rig = start_app()
    reg.set(HKLM, "drill.every", "45m", REG["REG_SZ"])  # a Group Policy refresh
    rig.clock.advance(CHANNEL_POLL / 2)
    rig.engine.step()
    rig.engine.step()
    assert rig.engine.core.settings.drill.every == 3600  # not read again yet
    rig.clock.advance(CHANNEL_POLL / 2)
    rig.engine.step()  # reads the registry, sees the change, asks for a reload
    rig.engine.step()  # the reload
    assert rig.engine.core.settings.drill.every == 45 * 60
    assert any(n.body == "Settings updated: drills every 45 min" for n in rig.notifier.shown)


def test_config_set_refuses_a_key_the_registry_locks_naming_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ergobreak.cli.common import EXIT_LOCKED

    use_registry(monkeypatch, registry((HKLM, "drill.every", "45m", "REG_SZ")))
    code, _out, err = cli("config", "set", "drill.every", "20m")
    assert code == EXIT_LOCKED
    assert err == (
        "ergobreak config: drill.every is set by your organization's policy"
        f" ({HKLM}\\drill.every) and cannot be changed here\n"
    )
