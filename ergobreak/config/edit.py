"""Change one key of the user's config file, keeping every comment and the order.

Edits go through tomlkit (a round-trip TOML library); the result is validated
before it replaces the file atomically, so a bad value never reaches disk.
A key that the init template lists as a comment (``# every = "30m"``) is
uncommented in place rather than appended at the end of its table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Table

from ergobreak.atomic import write_atomic
from ergobreak.config.kinds import ValueProblem
from ergobreak.config.loader import MAX_BYTES, check_text, suggest, write_target
from ergobreak.config.schema import KEY_BY_NAME, to_toml
from ergobreak.config.values import format_toml, parse_cli_value
from ergobreak.tomlfile import ConfigError, Diagnostic, parse_toml, read_text


@dataclass(frozen=True, slots=True)
class Edit:
    key: str
    old: Any
    new: Any
    text: str


def _cli_error(key: str | None, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError([Diagnostic.plain("command line", message, key=key, hint=hint)])


def parse_value(key: str, text: str) -> Any:
    """A value typed on the command line: a TOML literal, or a bare word as a string.

    Raises:
        ConfigError: unknown key or a value the schema rejects.
    """
    spec = KEY_BY_NAME.get(key)
    if spec is None:
        near = suggest(key)
        raise _cli_error(key, "unknown key", f"did you mean {near}?" if near else None)
    if spec.policy_only:
        raise _cli_error(key, "only IT policy can set this", spec.user_hint)
    try:
        parsed = spec.parse(parse_cli_value(text))
    except ValueProblem as exc:
        raise _cli_error(key, str(exc)) from None
    return to_toml(key, parsed)


def _table_span(lines: list[str], table: str) -> tuple[int, int] | None:
    header = re.compile(r"^\s*\[\s*" + re.escape(table) + r"\s*\]\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        return None
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(r"^\s*\[", lines[i])), len(lines)
    )
    return start, end


def _uncomment(text: str, key: str, value: Any) -> str | None:
    table, leaf = key.split(".", 1)
    lines = text.splitlines(keepends=True)
    span = _table_span(lines, table)
    if span is None:
        return None
    pattern = re.compile(r"^(\s*)#\s*" + re.escape(leaf) + r"\s*=")
    for i in range(span[0] + 1, span[1]):
        match = pattern.match(lines[i])
        if match:
            ending = "\n" if lines[i].endswith("\n") else ""
            lines[i] = f"{match.group(1)}{leaf} = {format_toml(value)}{ending}"
            return "".join(lines)
    return None


def set_in_text(text: str, key: str, value: Any) -> str:
    """Return ``text`` with ``key`` set to ``value`` (TOML form), comments kept."""
    doc = tomlkit.parse(text)
    table_name, leaf = key.split(".", 1)
    table = doc.get(table_name)
    if table is not None and not isinstance(table, (Table, dict)):
        raise _cli_error(key, f"{table_name} is not a table in this file")
    if isinstance(table, (Table, dict)) and leaf in table:
        table[leaf] = value
        return tomlkit.dumps(doc)
    uncommented = _uncomment(text, key, value)
    if uncommented is not None:
        return uncommented
    if table is None:
        new_table = tomlkit.table()
        new_table[leaf] = value
        doc[table_name] = new_table
    else:
        table[leaf] = value
    return tomlkit.dumps(doc)


def unset_in_text(text: str, key: str) -> str:
    doc = tomlkit.parse(text)
    table_name, leaf = key.split(".", 1)
    table = doc.get(table_name)
    if isinstance(table, (Table, dict)) and leaf in table:
        del table[leaf]
    return tomlkit.dumps(doc)


def validate_text(text: str, path: str) -> list[Diagnostic]:
    """Every diagnostic for a user file's text on its own (no policy, no content)."""
    return check_text(text, path)[1]


def _current(text: str, path: str, key: str) -> Any:
    data, _ = parse_toml(text, path, max_bytes=MAX_BYTES)
    if data is None:
        return None
    table, leaf = key.split(".", 1)
    section = data.get(table)
    return section.get(leaf) if isinstance(section, dict) else None


def _same_newlines(new: str, old: str) -> str:
    """Lines tomlkit adds end in ``\n``; keep a CRLF file CRLF throughout."""
    if "\r\n" in old and old.count("\r\n") == old.count("\n"):
        return re.sub(r"(?<!\r)\n", "\r\n", new)
    return new


def apply(
    path: Path,
    key: str,
    value: Any | None,
    *,
    template: str,
    validate: Callable[[str], Sequence[Diagnostic]] | None = None,
) -> Edit:
    """Set (or with ``value=None`` unset) ``key`` in the file at ``path`` atomically.

    Through a symbolic link, the file it points at is replaced (atomically, in
    that file's folder) and the link stays. A missing file starts from
    ``template`` (unsetting in a missing file writes nothing). The file is only
    replaced when the result validates: with :func:`validate_text`, and with
    ``validate`` (e.g. a full load with policy and drill selection) when given.
    A file that already has errors is not edited: a round-trip editor cannot be
    trusted with text it cannot parse.

    Raises:
        ConfigError: the current file or the result has errors (file untouched).
        OSError: the file cannot be written.
    """
    target = write_target(path)
    if path.is_symlink() and not target.exists():
        raise ConfigError(
            [Diagnostic.plain(str(path), "a symbolic link to a file that does not exist")]
        )
    exists = target.exists()
    if exists:
        text, problems = read_text(target, max_bytes=MAX_BYTES)
        if text is None:
            raise ConfigError(problems)
    elif value is None:
        return Edit(key=key, old=None, new=None, text="")
    else:
        text = template
    before = validate_text(text, str(path))
    if any(d.severity == "error" for d in before):
        raise ConfigError(before)
    old = _current(text, str(path), key)
    new_text = unset_in_text(text, key) if value is None else set_in_text(text, key, value)
    new_text = _same_newlines(new_text, text)
    after = list(validate_text(new_text, str(path)))
    if not any(d.severity == "error" for d in after) and validate is not None:
        after = list(validate(new_text))
    if any(d.severity == "error" for d in after):
        raise ConfigError(after)
    if new_text != text or not exists:
        write_atomic(target, new_text)
    return Edit(key=key, old=old, new=value, text=new_text)
