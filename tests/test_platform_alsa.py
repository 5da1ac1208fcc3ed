"""platform/alsa.py on a fake /proc tree (this machine has no sound hardware, so no
/proc/asound: the status files are written here as the kernel's pcm.c writes them)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ergobreak.platform import alsa
from ergobreak.platform.base import SeatedDetector, Unavailable

CLOSED = "closed\n"
PREPARED = "state: PREPARED\nowner_pid   : 4242\n"
RUNNING = """\
state: RUNNING
owner_pid   : 4242
trigger_time: 1234.567890123
tstamp      : 1234.600000000
delay       : 512
avail       : 512
avail_max   : 1024
-----
hw_ptr      : 88200
appl_ptr    : 87688
"""


def substream(proc: Path, card: int, pcm: str, sub: int, status: str) -> Path:
    path = proc / "asound" / f"card{card}" / pcm / f"sub{sub}" / "status"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(status)
    return path


def test_only_a_running_capture_substream_is_a_call(tmp_path: Path) -> None:
    mic = substream(tmp_path, 0, "pcm0c", 0, CLOSED)
    speaker = substream(tmp_path, 0, "pcm0p", 0, RUNNING)  # playback: never a call
    usb = substream(tmp_path, 1, "pcm0c", 0, CLOSED)
    detector: SeatedDetector = alsa.open_microphone({}, proc=str(tmp_path))
    assert (detector.name, detector.reason) == ("microphone", "call")
    assert detector.detail == f"ALSA capture substreams in {tmp_path / 'asound'} (2 now)"
    assert detector.active() is False

    mic.write_text(PREPARED)  # open, not recording
    assert detector.active() is False
    usb.write_text(RUNNING)
    assert isinstance(detector, alsa.AlsaCapture)
    assert detector.running() == [str(usb)]
    assert detector.active() is True
    usb.write_text(CLOSED)
    assert detector.active() is False
    assert speaker.read_text() == RUNNING


def test_no_alsa_is_unavailable_and_losing_it_too(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="no ALSA"):
        alsa.open_microphone({}, proc=str(tmp_path))
    substream(tmp_path, 0, "pcm0c", 0, CLOSED)
    detector = alsa.AlsaCapture(str(tmp_path))
    assert detector.active() is False
    shutil.rmtree(tmp_path / "asound")
    with pytest.raises(Unavailable, match="went away"):
        detector.active()


def test_a_card_with_no_capture_device_is_no_call(tmp_path: Path) -> None:
    (tmp_path / "asound" / "card0" / "pcm0p").mkdir(parents=True)
    detector = alsa.AlsaCapture(str(tmp_path))
    assert detector.active() is False
    assert detector.detail.endswith("(0 now)")
