"""Configuration: the schema, layered loading with IT policy, precise diagnostics.

The daemon loads and reloads through :func:`try_load` (new :class:`Effective`
settings, or the list of diagnostics to report while keeping the last good ones).
"""

from ergobreak.config.layers import Effective, load, try_load
from ergobreak.config.loader import Loaded, load_file
from ergobreak.tomlfile import ConfigError, Diagnostic

__all__ = ["ConfigError", "Diagnostic", "Effective", "Loaded", "load", "load_file", "try_load"]
