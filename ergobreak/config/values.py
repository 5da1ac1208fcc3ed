"""Setting values as people write them: TOML literals, prose, ``--set`` items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ergobreak.config.loader import MAX_BYTES
from ergobreak.config.schema import KEY_BY_NAME, Key, to_toml
from ergobreak.tomlfile import Diagnostic, parse_toml


def format_toml(value: Any) -> str:
    """A TOML literal: ``true``, ``"30m"``, ``["mon", "tue"]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(format_toml(v) for v in value) + "]"
    return str(value)


def show_value(spec: Key | str, value: Any) -> str:
    """A parsed value for prose ("at most 1h", "at most 3")."""
    key = KEY_BY_NAME[spec] if isinstance(spec, str) else spec
    shown = to_toml(key.name, value)
    return shown if isinstance(shown, str) else format_toml(shown)


def parse_cli_value(text: str) -> object:
    """A value typed on the command line: a TOML literal, or a bare word as a string."""
    data, _ = parse_toml(f"v = {text.strip()}", "command line", max_bytes=MAX_BYTES)
    return data["v"] if data is not None else text.strip()


def parse_cli_sets(items: Sequence[str]) -> tuple[dict[str, Any], list[Diagnostic]]:
    """``--set drill.every=45m`` items: TOML values, or bare words taken as strings."""
    raw: dict[str, Any] = {}
    diags: list[Diagnostic] = []
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            diags.append(
                Diagnostic.plain(
                    "command line", f'expected --set KEY=VALUE (e.g. drill.every=45m), got "{item}"'
                )
            )
            continue
        raw[key] = parse_cli_value(text)
    return raw, diags
