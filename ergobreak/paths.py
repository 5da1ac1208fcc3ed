"""Every path ergobreak uses, per OS, in one place (``ergobreak config paths`` prints them).

User paths come from platformdirs. Policy paths are fixed, admin-owned locations:
no environment variable can move them (platformdirs' site dirs follow
``$XDG_CONFIG_DIRS``, which any user can set).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP = "ergobreak"
#: environment variable naming another *user* config file (never policy)
CONFIG_ENV = "ERGOBREAK_CONFIG"


def _dirs() -> platformdirs.PlatformDirs:
    return platformdirs.PlatformDirs(APP, appauthor=False, roaming=True)


def _program_data() -> Path:  # pragma: no cover - untested on real Windows
    """%ProgramData% as Windows defines it, not as the (user-set) environment says."""
    try:
        import ctypes  # noqa: PLC0415

        buf = ctypes.create_unicode_buffer(260)
        csidl_common_appdata = 0x23
        shell32 = ctypes.windll.shell32  # type: ignore[attr-defined]
        if shell32.SHGetFolderPathW(None, csidl_common_appdata, None, 0, buf) == 0:
            return Path(buf.value)
    except (OSError, AttributeError):
        pass
    return Path(r"C:\ProgramData")


def policy_dir() -> Path:
    if sys.platform == "win32":  # pragma: no cover - untested on real Windows
        return _program_data() / APP
    if sys.platform == "darwin":
        return Path("/Library/Application Support") / APP
    return Path("/etc") / APP


@dataclass(frozen=True, slots=True)
class Paths:
    config_file: Path
    config_dir: Path
    user_content_dir: Path
    policy_file: Path
    policy_d: Path
    policy_content_dir: Path
    state_dir: Path
    log_dir: Path
    runtime_dir: Path

    def as_dict(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in self.__dataclass_fields__}


def runtime_dir() -> Path:
    dirs = _dirs()
    if sys.platform.startswith("linux") and os.environ.get("XDG_RUNTIME_DIR"):
        return Path(os.environ["XDG_RUNTIME_DIR"]) / APP
    if sys.platform.startswith("linux"):
        # No XDG_RUNTIME_DIR (a bare ssh session, a container): a private
        # per-user directory under /tmp, checked for ownership when created.
        return Path("/tmp") / f"{APP}-{os.getuid()}"  # noqa: S108
    return Path(dirs.user_runtime_dir)


def paths(config_override: str | os.PathLike[str] | None = None) -> Paths:
    """Resolve paths; ``config_override`` (``--config``) beats ``$ERGOBREAK_CONFIG``."""
    dirs = _dirs()
    config_dir = Path(dirs.user_config_dir)
    chosen = config_override or os.environ.get(CONFIG_ENV) or None
    config_file = Path(chosen).expanduser() if chosen else config_dir / "config.toml"
    pdir = policy_dir()
    state = Path(dirs.user_state_dir)
    if sys.platform == "darwin":
        state = Path(dirs.user_data_dir) / "state"
    return Paths(
        config_file=config_file,
        config_dir=config_dir,
        user_content_dir=config_dir / "content",
        policy_file=pdir / "policy.toml",
        policy_d=pdir / "policy.d",
        policy_content_dir=pdir / "content",
        state_dir=state,
        log_dir=Path(dirs.user_log_dir),
        runtime_dir=runtime_dir(),
    )
