"""Quiet (R7): prompts held while a quiet source is on, then one catch-up.

Quiet sources (``fullscreen``, ``dnd``, ``camera``, ...) come and go on their own;
quiet lasts while any is on and ``catch_up_delay`` after the last goes off, so a
prompt does not land the moment a call ends. A prompt that falls due meanwhile is
*deferred*: announced once per kind, then offered by the ordinary rules once quiet
is over. The machine clears what was deferred when nothing holds it any more.
"""

from __future__ import annotations

import math

from ergobreak.core import effects as fx
from ergobreak.core.settings import QuietSettings


class QuietHold:
    __slots__ = ("deferred", "ended_at", "settings", "sources")

    def __init__(self, settings: QuietSettings) -> None:
        self.settings = settings
        self.sources: set[str] = set()
        #: when the last source went off
        self.ended_at = -math.inf
        #: the kinds of prompt held back (each announced once)
        self.deferred: set[fx.PromptKind] = set()

    def configure(self, settings: QuietSettings) -> None:
        self.settings = settings
        if not settings.enabled:
            self.deferred.clear()

    def turn(self, t: float, source: str, on: bool) -> bool:
        """A source went on or off at ``t``; ``True`` when quiet (enabled) just began."""
        was = bool(self.sources)
        if on:
            self.sources.add(source)
        else:
            self.sources.discard(source)
        now = bool(self.sources)
        if was and not now:
            self.ended_at = t
        return now and not was and self.settings.enabled

    @property
    def shown(self) -> bool:
        """Quiet as the tray shows it: a source is on and quiet is enabled."""
        return bool(self.sources) and self.settings.enabled

    @property
    def catch_up_at(self) -> float:
        """When the catch-up delay after the last source went off ends."""
        return self.ended_at + self.settings.catch_up_delay

    def holding(self, t: float) -> bool:
        """Prompts due at ``t`` are held back."""
        if not self.settings.enabled:
            return False
        return bool(self.sources) or t < self.catch_up_at

    def settled(self, t: float) -> bool:
        """No source is on and the catch-up delay is over: quiet changes nothing
        until a source turns on again."""
        return not self.sources and t >= self.catch_up_at

    def defer(self, kind: fx.PromptKind) -> fx.Deferred | None:
        """Hold a due prompt; the effect that announces it, the first time only."""
        if kind in self.deferred:
            return None
        self.deferred.add(kind)
        return fx.Deferred(kind=kind, sources=tuple(sorted(self.sources)))
