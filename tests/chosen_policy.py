"""One policy that sets a value of every kind the schema has, in each policy table:
written as ``policy.toml`` here, and through the OS channels by the tests that use it.
Each limit has both bounds, as the ADMX's limit policies require."""

from __future__ import annotations

from typing import Any

from ergobreak.config.channels import Table
from ergobreak.config.schema import KEY_BY_NAME
from ergobreak.config.values import format_toml

#: (table, value name, value as TOML writes it); limits are ``<key>.min`` / ``<key>.max``
CHOSEN: tuple[tuple[Table, str, Any], ...] = (
    ("enforced", "activity.idle_pause", "2m"),
    ("enforced", "activity.natural_break", "6m"),
    ("enforced", "posture.every", "25m"),
    ("enforced", "drill.every", "45m"),
    ("enforced", "drill.start_after_idle", "15s"),
    ("enforced", "drill.max_snoozes", 3),
    ("enforced", "drill.window", False),
    ("enforced", "drill.text_size", 120),
    ("enforced", "drill.high_contrast", True),
    ("enforced", "quiet.calls", False),
    ("enforced", "schedule.days", ["mon", "wed", "fri"]),
    ("enforced", "schedule.hours", ["08:00-12:00", "13:00-16:30"]),
    ("enforced", "history.keep_days", 30),
    ("enforced", "autostart.enabled", True),
    ("enforced", "routines.categories", ["hip_flexor", "hinge", "glutes"]),
    ("enforced", "routines.exclude_tags", ["kneeling"]),
    ("enforced", "meta.organization", "Example Corp"),
    ("enforced", "meta.contact", "it@example.com"),
    ("defaults", "activity.prompt_gap", "4m"),
    ("defaults", "drill.prelude", "2m"),
    ("defaults", "drill.snooze", "10m"),
    ("defaults", "drill.reduced_motion", True),
    ("defaults", "quiet.catch_up_delay", "20s"),
    ("defaults", "history.first_run_notice", False),
    ("defaults", "routines.equipment", ["wall", "band"]),
    ("defaults", "routines.only", ["hinge_wall", "glute_bridge", "hipflexor_standing"]),
    ("defaults", "routines.floor", True),
    ("limits", "posture.every.min", "15m"),
    ("limits", "posture.every.max", "40m"),
    ("limits", "drill.snooze.min", "6m"),
    ("limits", "drill.snooze.max", "15m"),
    ("limits", "drill.max_snoozes.min", 1),
    ("limits", "drill.max_snoozes.max", 5),
)


def parsed(table: Table, name: str, raw: Any) -> Any:
    """``raw`` in the schema's form (what the channels' encoders take)."""
    if name.startswith("meta."):
        return raw
    key = KEY_BY_NAME[name.rpartition(".")[0] if table == "limits" else name]
    return key.parse(raw, bounded=table != "limits")


def as_toml(chosen: tuple[tuple[Table, str, Any], ...] = CHOSEN) -> str:
    """The policy as ``policy.toml`` writes it."""
    lines = ["schema = 1"]
    for table in ("meta", "enforced", "defaults"):
        lines.append(f"[{table}]")
        for where, name, raw in chosen:
            meta = name.startswith("meta.")
            if (table == "meta") == meta and (meta or where == table):
                shown = name.removeprefix("meta.") if meta else name
                lines.append(f"{shown} = {format_toml(raw)}")
    lines.append("[limits]")
    bounds: dict[str, list[str]] = {}
    for where, name, raw in chosen:
        if where == "limits":
            key, _, bound = name.rpartition(".")
            bounds.setdefault(key, []).append(f"{bound} = {format_toml(raw)}")
    lines += [f"{key} = {{ {', '.join(b)} }}" for key, b in bounds.items()]
    return "\n".join(lines) + "\n"
