"""Configuration: the schema, layered loading with IT policy, precise diagnostics.

The daemon loads and reloads through :func:`try_load` (new :class:`Effective`
settings, or the list of diagnostics to report while keeping the last good ones).

- ``schema``: every key, its default and bounds; ``kinds``: how each kind of
  value is read and written;
- ``loader``: one user file on its own; ``policy``: IT policy files;
  ``layers``: all layers merged (:func:`load`, :func:`try_load`);
- ``values``: values as people write them (TOML literals, ``--set``);
- ``edit``, ``editor``, ``template``: changing and rendering the user's file.

Files are read through :mod:`ergobreak.tomlfile`; the drill rotation is chosen
by :mod:`ergobreak.content`.
"""

from ergobreak.config.layers import Effective, load, try_load
from ergobreak.config.loader import Loaded, load_file
from ergobreak.tomlfile import ConfigError, Diagnostic

__all__ = ["ConfigError", "Diagnostic", "Effective", "Loaded", "load", "load_file", "try_load"]
