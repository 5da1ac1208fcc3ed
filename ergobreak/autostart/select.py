"""Pick the autostart mechanisms for this OS at runtime (imports stay lazy)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from ergobreak.autostart.base import Autostart

#: per platform, the methods ``--method`` accepts; the first is the default
METHODS: dict[str, tuple[str, ...]] = {
    "linux": ("xdg", "systemd"),
    "win32": ("registry",),
    "darwin": ("launchagent",),
}
ALL_METHODS = ("xdg", "systemd", "registry", "launchagent")


def platform_key(platform: str | None = None) -> str:
    platform = platform or sys.platform
    if platform in ("win32", "darwin"):
        return platform
    return "linux"  # Linux and the BSDs: XDG desktops


def methods(platform: str | None = None) -> tuple[str, ...]:
    return METHODS[platform_key(platform)]


def backend(method: str, environ: Mapping[str, str] | None = None) -> Autostart:
    """The implementation of ``method`` for this machine's real paths or registry."""
    env = os.environ if environ is None else environ
    if method == "xdg":
        from ergobreak.autostart.xdg import XdgAutostart  # noqa: PLC0415

        return XdgAutostart.from_env(env)
    if method == "systemd":
        from ergobreak.autostart.systemd import SystemdUserUnit  # noqa: PLC0415

        return SystemdUserUnit.from_env(env)
    if method == "registry":
        from ergobreak.autostart.windows import WindowsRun, WinRegistry  # noqa: PLC0415

        return WindowsRun(WinRegistry())
    if method == "launchagent":
        from ergobreak.autostart.macos import LaunchAgents  # noqa: PLC0415

        return LaunchAgents.from_env()
    raise ValueError(f"unknown autostart method {method!r}")


def backends(platform: str | None = None) -> list[Autostart]:
    """Every mechanism of this OS, the default first (``status`` reports them all)."""
    return [backend(m) for m in methods(platform)]
