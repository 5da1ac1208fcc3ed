"""Configuration: the schema, loading with precise diagnostics, and (later) layers."""

from ergobreak.config.diagnostics import ConfigError, Diagnostic
from ergobreak.config.loader import Loaded, load_file

__all__ = ["ConfigError", "Diagnostic", "Loaded", "load_file"]
