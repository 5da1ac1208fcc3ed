"""One schema, every format: the generated ADMX/ADML, macOS profile, Jamf manifest and
docs table are current, well-formed, complete, and say what the schema and the
channels' mapping (config/channels.py) say."""

from __future__ import annotations

import json
import plistlib
import re
import shutil
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ergobreak.config import channels, generate
from ergobreak.config.channels import REG_TYPE_NUMBERS
from ergobreak.config.export import admx as admx_module
from ergobreak.config.export import describe, keytable, mdm
from ergobreak.config.export.admx import NAMESPACE
from ergobreak.config.kinds import ValueProblem
from ergobreak.config.schema import KEY_BY_NAME, KEYS
from ergobreak.config.values import format_toml
from ergobreak.core.content import EQUIPMENT_TAGS

ROOT = Path(__file__).resolve().parent.parent
NS = {"p": NAMESPACE}
USER_KEYS = [key for key in KEYS if not key.policy_only]
LIMIT_KEYS = [key for key in KEYS if key.kind in ("duration", "int")]


def run_generate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ergobreak.config.generate", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


# --- every file is current, and --check notices when one is not ---


def test_every_generated_file_is_current() -> None:
    done = run_generate("--check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_check_names_each_stale_file_and_a_run_writes_them(tmp_path: Path) -> None:
    for relative in generate.outputs():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / relative, tmp_path / relative)
    adml = tmp_path / generate.ADML
    adml.write_text(adml.read_text(encoding="utf-8").replace("Desk time", "Desk tim"))
    doc = tmp_path / generate.KEY_TABLE
    doc.write_text(doc.read_text(encoding="utf-8").replace("| 0 to 10 |", "| 0 to 11 |"))
    (tmp_path / generate.MANIFEST).unlink()

    stale = run_generate("--check", "--root", str(tmp_path))
    assert stale.returncode == 1
    named = {line.split()[3] for line in stale.stdout.splitlines()}
    assert named == {str(generate.ADML), str(generate.KEY_TABLE), str(generate.MANIFEST)}

    assert run_generate("--root", str(tmp_path)).returncode == 0
    assert run_generate("--check", "--root", str(tmp_path)).returncode == 0
    for relative in generate.outputs():
        assert (tmp_path / relative).read_bytes() == (ROOT / relative).read_bytes(), relative


def test_a_docs_page_without_the_markers_is_an_error(tmp_path: Path) -> None:
    page = tmp_path / generate.KEY_TABLE
    page.parent.mkdir(parents=True)
    page.write_text("# Configuration\n\nno table here\n", encoding="utf-8")
    done = run_generate("--check", "--root", str(tmp_path))
    assert done.returncode == 2
    assert "markers are missing" in done.stderr


# --- ADMX and ADML ---


def parse_xml(relative: Path) -> ET.Element:
    return ET.parse(ROOT / relative).getroot()  # noqa: S314 - our own generated file


@pytest.fixture(scope="module")
def admx() -> ET.Element:
    return parse_xml(generate.ADMX)


@pytest.fixture(scope="module")
def adml() -> ET.Element:
    return parse_xml(generate.ADML)


@pytest.fixture(scope="module")
def strings(adml: ET.Element) -> dict[str, str]:
    return {s.get("id", ""): s.text or "" for s in adml.iterfind(".//p:stringTable/p:string", NS)}


def text_of(strings: dict[str, str], reference: str | None) -> str:
    assert reference is not None
    match = re.fullmatch(r"\$\(string\.(.+)\)", reference)
    assert match, reference
    return strings[match.group(1)]


def test_the_templates_are_admx_and_adml_of_one_revision(
    admx: ET.Element, adml: ET.Element
) -> None:
    assert admx.tag == f"{{{NAMESPACE}}}policyDefinitions"
    assert adml.tag == f"{{{NAMESPACE}}}policyDefinitionResources"
    assert admx.get("schemaVersion") == adml.get("schemaVersion") == "1.0"
    # the order the ADMX schema requires
    children = [child.tag.split("}")[1] for child in admx]
    assert children == ["policyNamespaces", "resources", "supportedOn", "categories", "policies"]
    target = admx.find("p:policyNamespaces/p:target", NS)
    assert target is not None
    assert target.get("prefix") == "ergobreak"
    assert target.get("namespace") == "ergobreak.Policies"
    resources = admx.find("p:resources", NS)
    assert resources is not None
    assert float(adml.get("revision", "0")) >= float(resources.get("minRequiredRevision", "9"))
    assert [child.tag.split("}")[1] for child in adml] == [
        "displayName",
        "description",
        "resources",
    ]


def test_adml_has_every_string_the_admx_references_and_no_other(
    admx: ET.Element, strings: dict[str, str]
) -> None:
    referenced = set(re.findall(r"\$\(string\.([^)]+)\)", ET.tostring(admx, encoding="unicode")))
    assert referenced == set(strings)
    assert all(text.strip() for text in strings.values())


def test_every_presentation_exists_and_shows_its_policys_elements(
    admx: ET.Element, adml: ET.Element
) -> None:
    shown = {p.get("id"): p for p in adml.iterfind(".//p:presentationTable/p:presentation", NS)}
    used = set()
    for policy in admx.iterfind(".//p:policy", NS):
        elements = {e.get("id") for e in policy.iterfind("p:elements/*", NS)}
        reference = policy.get("presentation")
        if reference is None:
            assert not elements, policy.get("name")
            continue
        name = reference.removeprefix("$(presentation.").removesuffix(")")
        used.add(name)
        assert {box.get("refId") for box in shown[name]} == elements, name
    assert used == set(shown)


def test_categories_form_three_trees_with_a_category_per_table(admx: ET.Element) -> None:
    categories = {c.get("name", ""): c for c in admx.iterfind(".//p:category", NS)}
    parents: dict[str, str | None] = {}
    for name, category in categories.items():
        parent = category.find("p:parentCategory", NS)
        parents[name] = None if parent is None else parent.get("ref")
    roots = sorted(name for name, parent in parents.items() if parent is None)
    assert roots == ["ergobreak", "ergobreak_limits", "ergobreak_recommended"]
    assert all(parent is None or parent in categories for parent in parents.values())
    tables = {describe.table_of(key.name) for key in KEYS}
    assert {n for n, p in parents.items() if p == "ergobreak"} == tables | {"meta"}
    refs = {r.get("ref") for r in admx.iterfind(".//p:policy/p:parentCategory", NS)}
    assert refs == {name for name in categories if name not in roots}


def written_values(policy: ET.Element) -> list[tuple[str, str, str]]:
    """``(registry key, value name, registry type)`` of each value the policy writes."""
    key = policy.get("key", "")
    found = []
    if policy.get("valueName"):
        assert policy.find("p:enabledValue/p:decimal", NS) is not None
        found.append((key, policy.get("valueName", ""), "REG_DWORD"))
    types = {"decimal": "REG_DWORD", "text": "REG_SZ", "multiText": "REG_MULTI_SZ"}
    for element in policy.iterfind("p:elements/*", NS):
        tag = element.tag.split("}")[1]
        found.append((element.get("key", key), element.get("valueName", ""), types[tag]))
    return found


TABLE_OF_KEY = {channels.registry_subkey(table): table for table in channels.SUBKEYS}


@pytest.mark.parametrize("table", list(channels.SUBKEYS))
def test_every_value_appears_once_per_flavour_with_the_channels_type(
    admx: ET.Element, table: channels.Table
) -> None:
    names = []
    for policy in admx.iterfind(".//p:policy", NS):
        for key, name, reg_type in written_values(policy):
            if TABLE_OF_KEY[key] != table:
                continue
            names.append(name)
            spec = channels.value_type(name, table)
            assert spec is not None, name
            assert spec.registry == reg_type, name
    if table == "enforced":
        wanted = [*KEY_BY_NAME, *channels.META_NAMES]
    elif table == "defaults":
        wanted = [key.name for key in USER_KEYS]
    else:
        wanted = [f"{key.name}.{bound}" for key in LIMIT_KEYS for bound in ("min", "max")]
    assert sorted(names) == sorted(wanted)


def policies_of(admx: ET.Element, table: channels.Table) -> dict[str, ET.Element]:
    """Value name -> the policy writing it, in ``table``."""
    found = {}
    for policy in admx.iterfind(".//p:policy", NS):
        for key, name, _ in written_values(policy):
            if TABLE_OF_KEY[key] == table:
                found[name] = policy
    return found


@pytest.mark.parametrize("table", ["enforced", "defaults"])
def test_each_policy_shows_its_range_and_default(
    admx: ET.Element, adml: ET.Element, strings: dict[str, str], table: channels.Table
) -> None:
    boxes = {p.get("id"): p for p in adml.iterfind(".//p:presentation", NS)}
    policies = policies_of(admx, table)
    for key in KEYS if table == "enforced" else USER_KEYS:
        policy = policies[key.name]
        explain = text_of(strings, policy.get("explainText"))
        assert explain.startswith(key.doc), key.name
        assert f"Default: {describe.shown(key, key.builtin)}." in explain
        allowed = describe.range_text(key)
        if key.kind == "int":
            number = policy.find("p:elements/p:decimal", NS)
            assert number is not None
            assert (number.get("minValue"), number.get("maxValue")) == (
                str(key.min),
                str(key.max),
            )
        if allowed:
            assert f"Allowed: {allowed}." in explain, key.name
            name = str(policy.get("presentation"))[len("$(presentation.") : -1]
            label = "".join(boxes[name].itertext())
            assert f"({allowed})" in label, key.name


def test_limits_policies_bound_within_the_keys_range(
    admx: ET.Element, strings: dict[str, str]
) -> None:
    policies = policies_of(admx, "limits")
    for key in LIMIT_KEYS:
        policy = policies[f"{key.name}.min"]
        assert policies[f"{key.name}.max"] is policy
        assert f"within {describe.range_text(key)}" in text_of(strings, policy.get("explainText"))
        if key.kind == "int":
            bounds = {
                (e.get("minValue"), e.get("maxValue"))
                for e in policy.iterfind("p:elements/p:decimal", NS)
            }
            assert bounds == {(str(key.min), str(key.max))}


@pytest.mark.parametrize("table", ["enforced", "defaults", "limits"])
def test_each_boxs_preset_is_the_schemas_default_or_bound(
    admx: ET.Element, adml: ET.Element, table: channels.Table
) -> None:
    boxes = {p.get("id"): p for p in adml.iterfind(".//p:presentation", NS)}
    checked = 0
    for name, policy in policies_of(admx, table).items():
        spec = channels.value_type(name, table)
        assert spec is not None
        if spec.key is None or policy.get("presentation") is None:
            continue  # meta strings have no preset; a switch has no box
        box = boxes[str(policy.get("presentation"))[len("$(presentation.") : -1]]
        (element,) = (e for e in policy.iterfind("p:elements/*", NS) if e.get("valueName") == name)
        (shown,) = (b for b in box if b.get("refId") == element.get("id"))
        tag = shown.tag.split("}")[1]
        if tag == "multiTextBox":
            continue  # no preset: the help text gives the default
        preset: object = (
            int(shown.get("defaultValue", ""))
            if tag == "decimalTextBox"
            else shown.findtext("p:defaultValue", "", NS)
        )
        expected = {"min": spec.key.min, "max": spec.key.max}.get(
            spec.bound or "", spec.key.builtin
        )
        assert spec.key.parse(preset) == expected, name
        checked += 1
    assert checked >= len(LIMIT_KEYS)


def test_a_switch_is_enabled_for_true_and_disabled_for_false(admx: ET.Element) -> None:
    policy = policies_of(admx, "enforced")["machine.enabled"]
    assert policy.get("key") == r"Software\Policies\ergobreak"
    on, off = (
        policy.find(f"p:{state}/p:decimal", NS) for state in ("enabledValue", "disabledValue")
    )
    assert on is not None
    assert off is not None
    assert (on.get("value"), off.get("value")) == ("1", "0")
    raw = channels.decode_registry("machine.enabled", 0, REG_TYPE_NUMBERS["REG_DWORD"])
    assert KEY_BY_NAME["machine.enabled"].parse(raw) is False


# --- the macOS profile ---


@pytest.fixture(scope="module")
def profile() -> dict[str, Any]:
    data: dict[str, Any] = plistlib.loads((ROOT / generate.PROFILE).read_bytes())
    return data


def test_the_profile_is_a_configuration_of_managed_preferences(profile: dict[str, Any]) -> None:
    assert profile["PayloadType"] == "Configuration"
    assert profile["PayloadVersion"] == 1
    (payload,) = profile["PayloadContent"]
    assert payload["PayloadType"] == "com.apple.ManagedClient.preferences"
    assert set(payload["PayloadContent"]) == {channels.BUNDLE_ID}
    uuids = [profile["PayloadUUID"], payload["PayloadUUID"]]
    assert len({str(uuid.UUID(u)).upper() for u in uuids}) == 2
    assert uuids == [mdm.payload_uuid("profile"), mdm.payload_uuid("preferences")]


def test_the_profiles_forced_values_read_back_as_the_defaults(profile: dict[str, Any]) -> None:
    (payload,) = profile["PayloadContent"]
    (forced,) = payload["PayloadContent"][channels.BUNDLE_ID]["Forced"]
    settings = forced["mcx_preference_settings"]
    assert set(settings) == {key.name for key in USER_KEYS}
    for name, data in settings.items():
        key = KEY_BY_NAME[name]
        assert key.parse(channels.decode_plist(name, data)) == key.builtin, name


# --- the Jamf Pro manifest ---

JSON_TYPES: dict[str, type] = {"boolean": bool, "integer": int, "string": str, "array": list}


def check_value(schema: dict[str, Any], value: object) -> None:
    """The parts of JSON Schema the manifest uses: type, minimum/maximum, items' enum,
    minItems; raises AssertionError for a value the manifest would not accept."""
    wanted = JSON_TYPES[schema["type"]]
    assert isinstance(value, wanted), (schema, value)
    assert wanted is bool or not isinstance(value, bool), (schema, value)
    if isinstance(value, int) and not isinstance(value, bool):
        assert schema.get("minimum", value) <= value <= schema.get("maximum", value), value
    if isinstance(value, list):
        assert len(value) >= schema.get("minItems", 0), value
        for item in value:
            check_value(schema["items"], item)
            assert item in schema["items"].get("enum", [item]), item


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / generate.MANIFEST).read_text(encoding="utf-8"))
    return data


def configured(prop: dict[str, Any]) -> dict[str, Any]:
    """The "Configured" branch of an optional property (the other one is null)."""
    empty, value = prop["anyOf"]
    assert empty == {"type": "null", "title": "Not Configured"}
    assert value["title"] == "Configured"
    return dict(value)


def test_the_manifest_names_the_bundle_and_every_key_once(manifest: dict[str, Any]) -> None:
    assert channels.BUNDLE_ID in manifest["title"]
    assert manifest["description"]
    top = manifest["properties"]
    assert list(top) == [*KEY_BY_NAME, *channels.META_NAMES, "Recommended", "Limits"]
    assert list(top["Recommended"]["properties"]) == [key.name for key in USER_KEYS]
    limits = [f"{key.name}.{bound}" for key in LIMIT_KEYS for bound in ("min", "max")]
    assert list(top["Limits"]["properties"]) == limits
    orders = [p["property_order"] for p in top.values()]
    orders += [
        p["property_order"]
        for t in ("Recommended", "Limits")
        for p in top[t]["properties"].values()
    ]
    assert len(set(orders)) == len(orders)


@pytest.mark.parametrize("table", ["enforced", "defaults", "limits"])
def test_every_manifest_default_passes_its_schema_and_the_settings_parser(
    manifest: dict[str, Any], table: channels.Table
) -> None:
    group = {"enforced": manifest, "defaults": manifest["properties"]["Recommended"]}.get(
        table, manifest["properties"]["Limits"]
    )
    for name, prop in group["properties"].items():
        if name in ("Recommended", "Limits"):
            continue
        spec = channels.value_type(name, table)
        assert spec is not None, name
        assert prop["title"] == name
        assert prop["description"]
        value = configured(prop)
        assert value["type"] == spec.plist, name
        if spec.key is None:
            continue
        key = spec.key
        assert prop["options"]["infoText"], name
        check_value(value, value["default"])
        parsed = key.parse(channels.decode_plist(name, value["default"], table))
        expected = {"min": key.min, "max": key.max}.get(spec.bound or "", key.builtin)
        assert parsed == expected, name
        if key.kind == "int":
            assert (value["minimum"], value["maximum"]) == (key.min, key.max), name
        if key.kind == "duration":
            assert f"Allowed: {describe.range_text(key)}." in prop["description"], name
        assert prop["options"]["infoText"].startswith(f"In policy.toml: [{table}."), name
        pick = describe.choices(key)
        if pick:
            assert value["items"]["enum"] == list(pick), name


def test_the_manifests_check_refuses_what_the_parser_refuses(manifest: dict[str, Any]) -> None:
    top = manifest["properties"]
    for name, bad in (
        ("drill.max_snoozes", 11),
        ("drill.max_snoozes", True),
        ("drill.enabled", 1),
        ("schedule.days", []),
        ("schedule.days", ["someday"]),
        ("drill.every", 1800),
    ):
        with pytest.raises(AssertionError):
            check_value(configured(top[name]), bad)
        with pytest.raises(ValueProblem):
            KEY_BY_NAME[name].parse(channels.decode_plist(name, bad))


# --- the docs table ---


def test_the_docs_table_lists_every_user_key_with_its_default_and_range() -> None:
    rows = keytable.render().splitlines()[2:]
    assert [row.split("`")[1] for row in rows] == [key.name for key in USER_KEYS]
    for key, row in zip(USER_KEYS, rows, strict=True):
        assert row.split(" | ")[1] == f"`{format_toml(key.default)}`", key.name
        if key.min is not None and key.max is not None:
            assert f"{key.show(key.min)} to {key.show(key.max)}" in row, key.name
    doc = (ROOT / generate.KEY_TABLE).read_text(encoding="utf-8")
    assert f"{keytable.BEGIN}\n{keytable.render()}{keytable.END}" in doc


def test_the_docs_notes_name_what_the_schema_accepts() -> None:
    note = keytable.KIND_NOTES["equipment"]
    assert set(re.findall(r"`([a-z]+)`", note)) == set(EQUIPMENT_TAGS)


def test_the_deployment_guide_names_the_templates_folders_and_paths() -> None:
    guide = " ".join((ROOT / "docs" / "deploying.md").read_text(encoding="utf-8").split())
    for flavour in admx_module.FLAVOURS:
        assert flavour.title in guide, flavour.title
    for path in (generate.ADMX, generate.ADML, generate.PROFILE, generate.MANIFEST):
        assert path.name in guide, path
    for where in (
        channels.registry_origin("HKLM", "enforced", "drill.every"),
        channels.registry_origin("HKLM", "defaults", "schedule.hours"),
        channels.plist_origin(channels.machine_plist(), "enforced", "drill.every"),
    ):
        assert where in guide, where
