"""macOS: a configuration profile (``.mobileconfig``) and a Jamf Pro custom schema.

Both manage the preference domain :data:`~ergobreak.config.channels.BUNDLE_ID`,
which macOS writes to ``/Library/Managed Preferences`` (forced values, read as
``enforced``; a ``Recommended`` dict as ``defaults``; a ``Limits`` dict as
``limits``: :mod:`ergobreak.config.channels`).

The profile is an example to edit before upload: every user setting forced to
its built-in value. The policy-only keys (``machine.enabled``,
``autostart.enabled``) are left out, since setting one at all is a decision.
Its PayloadUUIDs are derived from names, so regenerating it is byte-identical.
"""

from __future__ import annotations

import itertools
import json
import plistlib
import uuid
from typing import Any

from ergobreak.config import channels
from ergobreak.config.channels import BUNDLE_ID, Table
from ergobreak.config.export import describe
from ergobreak.config.schema import KEYS, Key

PROFILE_IDENTIFIER = f"{BUNDLE_ID}.profile"


def payload_uuid(name: str) -> str:
    """A stable PayloadUUID for the payload called ``name`` (uuid5, upper case)."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.{PROFILE_IDENTIFIER}")).upper()


def forced_example() -> dict[str, Any]:
    """The profile's forced values: every user setting at its built-in value."""
    return {
        key.name: channels.encode_plist(key.name, key.builtin)
        for key in KEYS
        if not key.policy_only
    }


def profile() -> bytes:
    """The ``.mobileconfig``: one Custom Settings payload (ManagedClient preferences)."""
    preferences = {
        "PayloadType": "com.apple.ManagedClient.preferences",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{PROFILE_IDENTIFIER}.preferences",
        "PayloadUUID": payload_uuid("preferences"),
        "PayloadEnabled": True,
        "PayloadDisplayName": "ergobreak settings",
        "PayloadContent": {BUNDLE_ID: {"Forced": [{"mcx_preference_settings": forced_example()}]}},
    }
    top = {
        "PayloadContent": [preferences],
        "PayloadDisplayName": "ergobreak managed settings",
        "PayloadDescription": (
            "Forces ergobreak settings (org.ergobreak). An example: every setting is at"
            " its built-in value; delete the ones you do not want to lock, or move them"
            " into a Recommended dict (defaults users may change)."
        ),
        "PayloadIdentifier": PROFILE_IDENTIFIER,
        "PayloadScope": "System",
        "PayloadType": "Configuration",
        "PayloadUUID": payload_uuid("profile"),
        "PayloadVersion": 1,
    }
    return plistlib.dumps(top, sort_keys=True)


def manifest() -> bytes:
    """The Jamf Pro custom schema (Application & Custom Settings > Custom Schema), JSON."""
    properties: dict[str, Any] = {}
    order = itertools.count(5, 5)  # room to insert keys by hand in Jamf
    for key in KEYS:
        properties[key.name] = _property(key.name, key, "enforced", next(order))
    for name in channels.META_NAMES:
        properties[name] = _optional(
            name,
            describe.META_DOCS[name],
            f"In policy.toml: {describe.toml_place(name, 'enforced')}.",
            {"type": "string"},
            next(order),
        )
    groups: tuple[tuple[Table, str], ...] = (
        ("defaults", "Recommended: defaults users can change"),
        ("limits", "Limits: the range users choose within"),
    )
    for table, title in groups:
        subkey = channels.SUBKEYS[table]
        assert subkey is not None
        inner = {
            name: _property(name, spec.key, table, next(order))
            for name in channels.value_names(table)
            if (spec := channels.value_type(name, table)) is not None
            and spec.key is not None
            and not spec.key.policy_only
        }
        properties[subkey] = {
            "title": title,
            "description": f"The {subkey} dictionary of org.ergobreak.",
            "property_order": next(order),
            "type": "object",
            "options": {"remove_empty_properties": True},
            "properties": inner,
        }
    document = {
        "title": f"ergobreak ({BUNDLE_ID})",
        "description": "ergobreak break reminders: forced values (top level), recommended"
        " defaults (Recommended) and allowed ranges (Limits). Generated from ergobreak's"
        " settings schema (python -m ergobreak.config.generate).",
        "options": {"remove_empty_properties": True},
        "properties": properties,
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def _property(name: str, key: Key, table: Table, order: int) -> dict[str, Any]:
    spec = channels.value_type(name, table)
    assert spec is not None
    value: dict[str, Any] = {"type": spec.plist}
    if spec.bound is not None:
        bound = key.min if spec.bound == "min" else key.max
        value["default"] = channels.encode_plist(name, bound, table)
        word = "lowest" if spec.bound == "min" else "highest"
        doc = f"The {word} {key.name} users may choose. Allowed: {describe.range_text(key)}."
    else:
        value["default"] = channels.encode_plist(name, key.builtin, table)
        doc = " ".join([key.doc, *describe.facts(key)])
    info = f"In policy.toml: {describe.toml_place(name, table)}."
    if key.kind == "int":
        value["minimum"] = int(key.min or 0)
        value["maximum"] = int(key.max or 0)
    if spec.plist == "array":
        items: dict[str, Any] = {"type": "string"}
        pick = describe.choices(key)
        if pick:
            items["enum"] = list(pick)
        value["items"] = items
        if not describe.accepts_empty(key):
            value["minItems"] = 1
    return _optional(name, doc, info, value, order)


def _optional(name: str, doc: str, info: str, value: dict[str, Any], order: int) -> dict[str, Any]:
    """A property Jamf leaves out until it is configured (``anyOf`` null or the value)."""
    prop: dict[str, Any] = {
        "title": name,
        "description": doc,
        "property_order": order,
        "anyOf": [{"type": "null", "title": "Not Configured"}, {"title": "Configured", **value}],
        "options": {"infoText": info},
    }
    return prop
