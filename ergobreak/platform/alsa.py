"""Linux without an audio server: a call while an ALSA capture substream is running.

The kernel lists every PCM substream under ``/proc/asound/cardN/pcmMc/subK/status``
(``c`` for capture). A closed substream's status reads ``closed``; an open one lists
its fields, ``state: RUNNING`` while samples flow (``SETUP``/``PREPARED`` while a
program holds it open without recording). A running capture substream is a program
recording from a microphone or a line input.

It is the fallback under :mod:`ergobreak.platform.pulse`: where PulseAudio or PipeWire
runs, it holds the hardware itself, so a recording from a sink's monitor never shows
here, but the server's own capture of the card does (while any client records from it).
Cost: one glob of the capture substreams and a read of each status file.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping

from ergobreak.core.events import SeatedReason
from ergobreak.platform.base import Unavailable

#: relative to /proc: every capture substream's status file
CAPTURE_STATUS = os.path.join("asound", "card*", "pcm*c", "sub*", "status")


class AlsaCapture:
    """``SeatedDetector``: a call while a capture substream of a sound card is running."""

    name = "microphone"
    reason: SeatedReason = "call"

    def __init__(self, proc: str = "/proc") -> None:
        """``proc`` is a parameter for tests only.

        Raises:
            Unavailable: the kernel has no ALSA (no ``/proc/asound``).
        """
        self._root = os.path.join(proc, "asound")
        self._pattern = os.path.join(proc, CAPTURE_STATUS)
        if not os.path.isdir(self._root):
            raise Unavailable(f"{self._root} does not exist: this kernel has no ALSA sound")

    @property
    def detail(self) -> str:
        count = len(glob.glob(self._pattern))
        return f"ALSA capture substreams in {self._root} ({count} now)"

    def running(self) -> list[str]:
        """Status files of the capture substreams running now.

        Raises:
            Unavailable: ``/proc/asound`` went away (the sound modules were unloaded).
        """
        found = []
        for path in sorted(glob.glob(self._pattern)):
            try:
                with open(path, encoding="ascii", errors="replace") as f:
                    text = f.read(4096)
            except OSError:
                continue  # a card unplugged while we looked
            if _running(text):
                found.append(path)
        if not found and not os.path.isdir(self._root):
            raise Unavailable(f"{self._root} went away")
        return found

    def active(self) -> bool:
        return bool(self.running())

    def close(self) -> None:
        pass


def _running(status: str) -> bool:
    for line in status.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "state":
            return value.strip() == "RUNNING"
    return False


def open_microphone(env: Mapping[str, str], proc: str = "/proc") -> AlsaCapture:
    """The ALSA capture detector (``env`` is unused: ALSA has no session).

    Raises:
        Unavailable: no ALSA in this kernel.
    """
    del env
    return AlsaCapture(proc)
