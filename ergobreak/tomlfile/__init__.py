"""A TOML file as a person wrote it: reading it, where each key sits, and
diagnostics that point into it (``path:line:col: error: key: message``).

The ground floor under :mod:`ergobreak.config` and :mod:`ergobreak.content`; it
imports only the standard library (and ``tomli`` on Python 3.10). Every TOML
text ergobreak reads goes through :func:`parse_toml`, every file through
:func:`read_text` (other files through :func:`read_bytes`), each with a size limit.
"""

from ergobreak.tomlfile.diagnostics import ConfigError, Diagnostic, Severity
from ergobreak.tomlfile.positions import PathKey, Positions, Where
from ergobreak.tomlfile.read import parse_toml, read_bytes, read_text
from ergobreak.tomlfile.wording import Hints, found, near

__all__ = [
    "ConfigError",
    "Diagnostic",
    "Hints",
    "PathKey",
    "Positions",
    "Severity",
    "Where",
    "found",
    "near",
    "parse_toml",
    "read_bytes",
    "read_text",
]
