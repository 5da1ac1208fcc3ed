"""What every exported format says about a key: its table, range, choices and default.

All from the schema (bounds, docs, relations) and the content's vocabularies, so
the ADMX, the Jamf manifest and the docs cannot describe a key differently.
"""

from __future__ import annotations

from ergobreak.config import channels
from ergobreak.config.kinds import Kind, ValueProblem
from ergobreak.config.schema import KEYS, RELATIONS, Key
from ergobreak.core.content import CATEGORIES, EQUIPMENT_TAGS, TAGS
from ergobreak.core.settings import WEEKDAYS

#: the values a list kind's items are chosen from (other list kinds are free text)
CHOICES: dict[Kind, tuple[str, ...]] = {
    "days": WEEKDAYS,
    "categories": CATEGORIES,
    "equipment": EQUIPMENT_TAGS,
    "tags": TAGS,
}

#: the policy-only meta values: what each says, for IT's templates
META_DOCS: dict[str, str] = {
    "meta.organization": 'Your organization\'s name: users see "Managed by <name>" on managed'
    ' settings (without it: "Managed by your organization").',
    "meta.contact": "Where users ask about the managed settings: a web page, an e-mail"
    " address or a phone number.",
}


def tables(*, policy_only: bool = True) -> list[tuple[str, list[Key]]]:
    """The schema's tables in schema order, each with its keys."""
    grouped: dict[str, list[Key]] = {}
    for key in KEYS:
        if policy_only or not key.policy_only:
            grouped.setdefault(table_of(key.name), []).append(key)
    return list(grouped.items())


def table_of(name: str) -> str:
    """``drill`` for ``drill.every``."""
    return name.rsplit(".", 1)[0]


def title(table: str) -> str:
    """A table as a heading: ``Drill``."""
    return table.capitalize()


def range_text(key: Key) -> str | None:
    """``10s to 8h``, ``0 to 10``, or ``None`` for a key without bounds."""
    if key.min is None or key.max is None:
        return None
    return f"{key.show(key.min)} to {key.show(key.max)}"


def relations(key: Key) -> list[tuple[str, str]]:
    """What ``key`` must be compared with another key: ``[("longer", "activity.idle_pause")]``."""
    found: list[tuple[str, str]] = []
    for shorter, longer, reported in RELATIONS:
        if reported == key.name:
            found.append(("shorter", longer) if key.name == shorter else ("longer", shorter))
    return found


def toml_place(name: str, table: channels.Table) -> str:
    """Where value ``name`` of ``table`` goes in a policy file: ``[enforced.drill] every``,
    ``[limits.drill] every = { min = ... }``, ``[meta] contact``."""
    spec = channels.value_type(name, table)
    if spec is None:
        raise KeyError(f"{table}: {name}")
    if spec.key is None:
        return f"[meta] {name.split('.', 1)[1]}"
    section, leaf = spec.key.name.rsplit(".", 1)
    place = f"[{table}.{section}] {leaf}"
    return f"{place} = {{ {spec.bound} = ... }}" if spec.bound else place


def choices(key: Key) -> tuple[str, ...] | None:
    """The values a list key's items are chosen from, or ``None``."""
    return CHOICES.get(key.kind)


def is_list(key: Key) -> bool:
    """A key carried as a list (REG_MULTI_SZ, <array>)."""
    spec = channels.value_type(key.name)
    return spec is not None and spec.plist == "array"


def accepts_empty(key: Key) -> bool:
    """Whether a list key may be empty (asked of the schema's own parser)."""
    try:
        key.parse([])
    except ValueProblem:
        return False
    return True


def shown(key: Key, value: object) -> str:
    """A value in the channel's form, for prose: ``30m``, ``true``, ``mon, tue``, ``(none)``."""
    raw = channels.encode_plist(key.name, value)
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, list):
        return ", ".join(str(item) for item in raw) if raw else "(none)"
    return str(raw)


def facts(key: Key) -> list[str]:
    """Sentences on what a key accepts and its default, for templates' help texts."""
    lines: list[str] = []
    allowed = range_text(key)
    if allowed:
        lines.append(f"Allowed: {allowed}.")
    for word, other in relations(key):
        lines.append(f"Must be {word} than {other}.")
    if key.kind == "duration":
        lines.append("Write a duration with a unit: 90s, 20m, 1h30m.")
    pick = choices(key)
    if pick:
        lines.append(f"Choose from: {', '.join(pick)}.")
    elif is_list(key):
        lines.append(f"Items are {key.expected.removeprefix('a ')}.")
    if is_list(key) and not accepts_empty(key):
        lines.append("At least one item.")
    lines.append(f"Default: {shown(key, key.builtin)}.")
    return lines
