"""Fakes of desktop adapters shared by the platform and doctor tests."""

from __future__ import annotations

from collections.abc import Callable

from ergobreak.core.events import Observation
from ergobreak.platform.base import Unavailable


class Watcher:
    """A session watcher whose subscription the bus may refuse; keeps what it was
    handed to report through."""

    def __init__(self, name: str, refuse: bool = False) -> None:
        self.name = name
        self.refuse = refuse
        self.emit: Callable[[Observation], None] | None = None
        self.stopped = False

    def start(self, emit: Callable[[Observation], None]) -> None:
        if self.refuse:
            raise Unavailable("AddMatch refused")
        self.emit = emit

    def stop(self) -> None:
        self.stopped = True
