"""Posture cues and drills: the shipped data (``*.toml`` here), custom content
files, the library, and the rotation the ``[routines]`` settings choose.

- :mod:`~ergobreak.content.files` reads and checks one content file
  (rules in :mod:`~ergobreak.content.checker`);
- :mod:`~ergobreak.content.library` holds the built-in and custom library;
- :mod:`~ergobreak.content.rotation` orders drills so categories alternate;
- :mod:`~ergobreak.content.selection` applies ``[routines]`` (:class:`Filters`).

Content reads TOML through :mod:`ergobreak.tomlfile` and never imports
:mod:`ergobreak.config` (config imports content, to choose the rotation).
Everything here is documented for users in ``docs/content.md``.
"""

from ergobreak.content.library import Library, builtin_library, load_library, safety_text, sources
from ergobreak.content.selection import (
    Filters,
    Selection,
    SelectionError,
    default_content,
    select,
    selection,
)

__all__ = [
    "Filters",
    "Library",
    "Selection",
    "SelectionError",
    "builtin_library",
    "default_content",
    "load_library",
    "safety_text",
    "select",
    "selection",
    "sources",
]
