r"""Group Policy / Intune templates: ``ergobreak.admx`` and its ``en-US`` ``ergobreak.adml``.

Three trees, like Chrome's: "ergobreak" (enforced: values under
``Software\Policies\ergobreak``), "ergobreak - Default Settings (users can
override)" (the ``Recommended`` subkey) and "ergobreak - Limits" (the ``Limits``
subkey, ``<key>.min`` / ``<key>.max``), each with a category per schema table.
Every policy is ``class="Both"``: Computer Configuration writes HKLM (which wins),
User Configuration HKCU (:mod:`ergobreak.config.channels`).

How each kind is offered: true/false keys as an enabled/disabled policy (1/0);
whole numbers as a decimal box with the key's range; durations as a text box
(the range in the label and the help text; the reader rejects a value outside
it); lists as a multi-line box (REG_MULTI_SZ, one item per line).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ergobreak.config import channels
from ergobreak.config.channels import Table
from ergobreak.config.export import describe
from ergobreak.config.schema import Key
from ergobreak.config.template import SECTIONS

#: the ADMX/ADML schema's namespace (Windows Vista and later)
NAMESPACE = "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"
#: this template's policy namespace and its prefix (unique among ADMX files)
POLICY_NAMESPACE = "ergobreak.Policies"
PREFIX = "ergobreak"
#: bump the minor when policies change, so GPMC takes the new ADML with the new ADMX
REVISION = "1.0"
SCHEMA_VERSION = "1.0"
SUPPORTED = "SUPPORTED_ergobreak"


@dataclass(frozen=True, slots=True)
class Flavour:
    """One tree of policies: the table it writes and how its names are marked."""

    table: Table
    root: str
    title: str
    suffix: str


FLAVOURS: tuple[Flavour, ...] = (
    Flavour("enforced", "ergobreak", "ergobreak", ""),
    Flavour(
        "defaults",
        "ergobreak_recommended",
        "ergobreak - Default Settings (users can override)",
        "_recommended",
    ),
    Flavour("limits", "ergobreak_limits", "ergobreak - Limits (users choose within)", "_limits"),
)

_META_TITLE = "Organization"

_EXPLAIN: dict[Table, str] = {
    "enforced": "Enabled: every user gets this value and cannot change it (it shows as"
    ' locked, "Managed by your organization").\nDisabled or Not configured: not managed'
    " here; the user's own setting, a recommended default or the built-in default applies.",
    "defaults": "Enabled: this becomes the default; users can still change it in their own"
    " settings.\nDisabled or Not configured: not managed here.",
}
_EXPLAIN_SWITCH: dict[Table, str] = {
    "enforced": "Enabled: true, locked for every user. Disabled: false, locked for every"
    " user.\nNot configured: not managed here.",
    "defaults": "Enabled: true by default. Disabled: false by default. Users can still"
    " change it in their own settings.\nNot configured: not managed here.",
}


def ident(name: str) -> str:
    """A value name as an ADMX item name: ``drill.every`` -> ``drill_every``."""
    return name.replace(".", "_")


def policy_name(flavour: Flavour, name: str) -> str:
    """The ADMX policy of value ``name`` in ``flavour``: ``drill_every_recommended``."""
    return ident(name) + flavour.suffix


@dataclass
class _Build:
    """The ADMX tree and, filled alongside, the ADML's strings and presentations."""

    strings: dict[str, str] = field(default_factory=dict)
    presentations: list[ET.Element] = field(default_factory=list)

    def string(self, string_id: str, text: str) -> str:
        if self.strings.setdefault(string_id, text) != text:
            raise ValueError(f"two texts for the ADML string {string_id}")
        return f"$(string.{string_id})"

    def presentation(self, presentation_id: str) -> ET.Element:
        element = ET.Element("presentation", id=presentation_id)
        self.presentations.append(element)
        return element


def render() -> tuple[bytes, bytes]:
    """``(admx, adml)``: the two files, UTF-8."""
    build = _Build()
    root = ET.Element(
        "policyDefinitions", revision=REVISION, schemaVersion=SCHEMA_VERSION, xmlns=NAMESPACE
    )
    spaces = ET.SubElement(root, "policyNamespaces")
    ET.SubElement(spaces, "target", prefix=PREFIX, namespace=POLICY_NAMESPACE)
    ET.SubElement(root, "resources", minRequiredRevision=REVISION)
    supported = ET.SubElement(ET.SubElement(root, "supportedOn"), "definitions")
    ET.SubElement(
        supported,
        "definition",
        name=SUPPORTED,
        displayName=build.string(SUPPORTED, "ergobreak releases that read registry policy"),
    )
    categories = ET.SubElement(root, "categories")
    policies = ET.SubElement(root, "policies")
    for flavour in FLAVOURS:
        ET.SubElement(
            categories,
            "category",
            name=flavour.root,
            displayName=build.string(flavour.root, flavour.title),
        )
        for table, keys in _tables(flavour):
            _category(build, categories, flavour, table)
            for key in keys:
                policies.append(_policy(build, flavour, table, key))
    flavour = FLAVOURS[0]
    _category(build, categories, flavour, "meta")
    for name in channels.META_NAMES:
        policies.append(_meta_policy(build, flavour, name))
    return _document(root), _document(_adml(build))


def _tables(flavour: Flavour) -> list[tuple[str, list[Key]]]:
    if flavour.table == "enforced":
        return describe.tables()
    if flavour.table == "defaults":
        return describe.tables(policy_only=False)
    limited = [
        (t, [k for k in keys if k in channels.limit_keys()]) for t, keys in describe.tables()
    ]
    return [(table, keys) for table, keys in limited if keys]


def _category(build: _Build, parent: ET.Element, flavour: Flavour, table: str) -> None:
    title = _META_TITLE if table == "meta" else describe.title(table)
    category = ET.SubElement(
        parent, "category", name=table + flavour.suffix, displayName=build.string(table, title)
    )
    intro = SECTIONS.get(table)
    if intro:
        category.set("explainText", build.string(f"{table}_Explain", intro))
    ET.SubElement(category, "parentCategory", ref=flavour.root)


def _start(
    build: _Build, flavour: Flavour, *, table: str, name: str, title: str, explain: str
) -> ET.Element:
    policy_id = policy_name(flavour, name)
    policy = ET.Element(
        "policy",
        name=policy_id,
        attrib={"class": "Both"},
        displayName=build.string(policy_id, title),
        explainText=build.string(f"{policy_id}_Explain", explain),
        key=channels.registry_subkey(flavour.table),
    )
    ET.SubElement(policy, "parentCategory", ref=table + flavour.suffix)
    ET.SubElement(policy, "supportedOn", ref=SUPPORTED)
    return policy


def _where(flavour: Flavour, names: list[str], reg_type: str) -> str:
    """Where the policy writes, and where the same values go in ``policy.toml``."""
    values = " and ".join(f"{channels.registry_subkey(flavour.table)}\\{n}" for n in names)
    toml = " and ".join(describe.toml_place(n, flavour.table) for n in names)
    return (
        f"Registry: {values} ({reg_type}), under HKEY_LOCAL_MACHINE (Computer Configuration,"
        f" wins) or HKEY_CURRENT_USER (User Configuration). In policy.toml: {toml}."
    )


def _policy(build: _Build, flavour: Flavour, table: str, key: Key) -> ET.Element:
    if flavour.table == "limits":
        return _limits_policy(build, flavour, table, key)
    spec = channels.value_type(key.name, flavour.table)
    assert spec is not None
    switch = key.kind == "bool"
    how = (_EXPLAIN_SWITCH if switch else _EXPLAIN)[flavour.table]
    explain = "\n\n".join(
        [key.doc, " ".join(describe.facts(key)), how, _where(flavour, [key.name], spec.registry)]
    )
    policy = _start(build, flavour, table=table, name=key.name, title=key.name, explain=explain)
    if switch:
        policy.set("valueName", key.name)
        ET.SubElement(ET.SubElement(policy, "enabledValue"), "decimal", value="1")
        ET.SubElement(ET.SubElement(policy, "disabledValue"), "decimal", value="0")
        return policy
    policy.set("presentation", f"$(presentation.{policy.get('name')})")
    elements = ET.SubElement(policy, "elements")
    box = build.presentation(str(policy.get("name")))
    element_id = ident(key.name)
    default = describe.shown(key, key.builtin)
    allowed = describe.range_text(key)
    label = f"{key.name} ({allowed})" if allowed else key.name
    if key.kind == "int":
        _number(elements, box, key, ids=(element_id, key.name), label=label, default=default)
    elif describe.is_list(key):
        multi = ET.SubElement(elements, "multiText", id=element_id, valueName=key.name)
        if not describe.accepts_empty(key):
            multi.set("required", "true")
        ET.SubElement(box, "multiTextBox", refId=element_id).text = f"{label}, one per line"
    else:
        ET.SubElement(elements, "text", id=element_id, valueName=key.name, required="true")
        _text_box(box, element_id, label, default)
    return policy


def _limits_policy(build: _Build, flavour: Flavour, table: str, key: Key) -> ET.Element:
    allowed = describe.range_text(key)
    names = [f"{key.name}.min", f"{key.name}.max"]
    reg_type = "REG_DWORD" if key.kind == "int" else "REG_SZ"
    low, high = key.show(key.min or 0), key.show(key.max or 0)
    explain = "\n\n".join(
        [
            key.doc,
            f"Enabled: every user's {key.name}, and the default, are kept within the minimum"
            f" and maximum set here; users may choose any value between them. Both bounds"
            f" must lie within {allowed}; to bound one side only, leave the other at its end"
            f" of that range ({low} or {high}).\nDisabled or Not configured: not managed here.",
            _where(flavour, names, reg_type),
        ]
    )
    title = f"{key.name}: allowed range"
    policy = _start(build, flavour, table=table, name=key.name, title=title, explain=explain)
    policy_id = str(policy.get("name"))
    policy.set("presentation", f"$(presentation.{policy_id})")
    elements = ET.SubElement(policy, "elements")
    box = build.presentation(policy_id)
    for name, word, default in zip(names, ("Minimum", "Maximum"), (low, high), strict=True):
        element_id = ident(name)
        label = f"{word} ({allowed})"
        if key.kind == "int":
            _number(elements, box, key, ids=(element_id, name), label=label, default=default)
        else:
            ET.SubElement(elements, "text", id=element_id, valueName=name, required="true")
            _text_box(box, element_id, label, default)
    return policy


def _meta_policy(build: _Build, flavour: Flavour, name: str) -> ET.Element:
    explain = "\n\n".join(
        [describe.META_DOCS[name], _EXPLAIN["enforced"], _where(flavour, [name], "REG_SZ")]
    )
    policy = _start(build, flavour, table="meta", name=name, title=name, explain=explain)
    policy_id = str(policy.get("name"))
    policy.set("presentation", f"$(presentation.{policy_id})")
    element_id = ident(name)
    elements = ET.SubElement(policy, "elements")
    ET.SubElement(elements, "text", id=element_id, valueName=name, required="true")
    _text_box(build.presentation(policy_id), element_id, name, None)
    return policy


def _number(
    elements: ET.Element,
    box: ET.Element,
    key: Key,
    *,
    ids: tuple[str, str],
    label: str,
    default: str,
) -> None:
    """A whole number within ``key``'s range: a decimal element (REG_DWORD) and its box."""
    element_id, value_name = ids
    ET.SubElement(
        elements,
        "decimal",
        id=element_id,
        valueName=value_name,
        required="true",
        minValue=str(int(key.min or 0)),
        maxValue=str(int(key.max or 0)),
    )
    ET.SubElement(box, "decimalTextBox", refId=element_id, defaultValue=default).text = label


def _text_box(parent: ET.Element, element_id: str, label: str, default: str | None) -> None:
    box = ET.SubElement(parent, "textBox", refId=element_id)
    ET.SubElement(box, "label").text = label
    if default is not None:
        ET.SubElement(box, "defaultValue").text = default


def _adml(build: _Build) -> ET.Element:
    root = ET.Element(
        "policyDefinitionResources",
        revision=REVISION,
        schemaVersion=SCHEMA_VERSION,
        xmlns=NAMESPACE,
    )
    ET.SubElement(root, "displayName").text = "ergobreak"
    ET.SubElement(root, "description").text = (
        "ergobreak break reminders: enforced values, recommended defaults and allowed ranges."
        " Generated from ergobreak's settings schema (python -m ergobreak.config.generate)."
    )
    resources = ET.SubElement(root, "resources")
    table = ET.SubElement(resources, "stringTable")
    for string_id, text in build.strings.items():
        ET.SubElement(table, "string", id=string_id).text = text
    ET.SubElement(resources, "presentationTable").extend(build.presentations)
    return root


def _document(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    text = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{text}\n'.encode()
