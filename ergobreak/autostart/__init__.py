"""Start ergobreak at login: XDG autostart, a systemd user unit, the Windows Run
keys or a macOS LaunchAgent, behind one small interface (:mod:`.base`).

Only ``ergobreak autostart enable`` writes an entry; nothing else (not ``ergobreak
run``) ever does, so an entry the user removed stays removed.
"""

from ergobreak.autostart.base import (
    Autostart,
    AutostartError,
    Change,
    Entry,
    Found,
    Status,
    default_argv,
)

__all__ = [
    "Autostart",
    "AutostartError",
    "Change",
    "Entry",
    "Found",
    "Status",
    "default_argv",
]
