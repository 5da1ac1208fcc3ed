"""The system-tray icon: one pystray-style API over StatusNotifierItem (pure-Python
D-Bus) or pystray's own backends, a live icon drawn in pure Python, and the full menu.

Modules, each importable without the others' heavy dependencies:

- :mod:`~ergobreak.tray.model`: ``TrayState`` -> menu model, tooltip (pure)
- :mod:`~ergobreak.tray.icon`: which badge look a state has, its pixels, cache
  (the drawing itself is :mod:`ergobreak.artwork`)
- :mod:`~ergobreak.tray.sni`, :mod:`~ergobreak.tray.dbusmenu`: the SNI item (jeepney)
- :mod:`~ergobreak.tray.xorg`: pystray's XEmbed backend with its defects fixed
- :mod:`~ergobreak.tray.facade`, :mod:`~ergobreak.tray.dispatch`: the common Icon API
- :mod:`~ergobreak.tray.backend`: backend choice and ``describe_backend()`` for doctor
- :mod:`~ergobreak.tray.controller`: ``TrayController``, what the daemon uses

Importing this package imports none of pystray, Pillow, jeepney or Xlib.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TrayController", "TrayState", "describe_backend"]


def __getattr__(name: str) -> Any:  # lazy: the daemon pays only for what it uses
    if name == "TrayController":
        from ergobreak.tray.controller import TrayController  # noqa: PLC0415

        return TrayController
    if name == "TrayState":
        from ergobreak.tray.model import TrayState  # noqa: PLC0415

        return TrayState
    if name == "describe_backend":
        from ergobreak.tray.backend import describe_backend  # noqa: PLC0415

        return describe_backend
    raise AttributeError(name)
