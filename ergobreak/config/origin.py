"""Where a setting's value came from: its layer and, for files, ``path:line``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Layer = Literal["default", "policy default", "user", "command line", "enforced", "limit"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a value came from: its layer and, for files, ``path:line``."""

    layer: Layer
    path: str | None = None
    line: int | None = None

    def where(self) -> str:
        if self.path is None:
            return self.layer
        return f"{self.path}:{self.line}" if self.line else self.path
