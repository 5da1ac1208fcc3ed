"""The coach's protocol and drawing, without a display: messages round-trip, bad
lines are refused with ProtocolError (never a crash), shapes become canvas items."""

from __future__ import annotations

import json

import pytest

from ergobreak.artwork.shapes import Arc, Disc, Rect, Stroke
from ergobreak.coach import canvas
from ergobreak.coach.protocol import (
    MAX_LINE,
    Close,
    End,
    Open,
    ProtocolError,
    Show,
    StepInfo,
    Told,
    decode,
    decode_request,
    encode,
    encode_request,
)
from ergobreak.commands import Request

OPEN = Open(
    drill="hip_hinge",
    title="Hip hinge",
    safety="Stop if it hurts.",
    steps=(StepInfo("Hinge at the hips.", 20.0, None, "hinge"), StepInfo("Left.", 10, "left")),
    stop_rules="Stop if pain builds.",
    focus=True,
    text_size=150,
    high_contrast=True,
)
SHOW = Show(step=1, steps=2, step_left=12.5, step_length=20, drill_left=40, drill_length=50)


@pytest.mark.parametrize("message", [OPEN, SHOW, End("skipped"), Told("Noted."), Close()])
def test_every_message_round_trips_as_one_line(message: object) -> None:
    line = encode(message)  # type: ignore[arg-type]
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert decode(line) == message
    assert decode(line.encode()) == message


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        "[1, 2]",
        '{"msg": "launch"}',
        '{"msg": "show", "step": "1"}',
        '{"msg": "show", "step": true, "steps": 2, "step_left": 1, "step_length": 1,'
        ' "drill_left": 1, "drill_length": 1}',
        '{"msg": "show", "step": 1, "steps": 2, "step_left": NaN, "step_length": 1,'
        ' "drill_left": 1, "drill_length": 1}',
        '{"msg": "end", "outcome": "exploded"}',
        '{"msg": "open", "drill": "x", "title": "x", "safety": "x", "stop_rules": "x",'
        ' "steps": [{"text": "a", "seconds": 1, "side": "up"}]}',
        '{"msg": "open", "drill": "x", "title": "x", "safety": "x", "stop_rules": "x", "steps": 3}',
        '{"msg": "told"}',
        '{"msg": "told", "text": "' + "a" * MAX_LINE + '"}',
        b"\xff\xfe",
    ],
)
def test_a_bad_line_is_a_protocol_error(line: str | bytes) -> None:
    with pytest.raises(ProtocolError):
        decode(line)


def test_requests_travel_in_the_command_wire_form() -> None:
    line = encode_request(Request("skip"))
    assert json.loads(line) == {"v": 1, "cmd": "skip", "args": {}}
    assert decode_request(line) == Request("skip")
    with pytest.raises(ProtocolError, match="unknown command"):
        decode_request('{"v": 1, "cmd": "rm_rf"}')
    with pytest.raises(ProtocolError, match="seconds"):
        decode_request('{"v": 1, "cmd": "pause", "args": {"seconds": -1}}')


def test_shapes_become_canvas_items_with_alpha_blended_over_the_background() -> None:
    white = (255, 255, 255, 255)
    items = canvas.items(
        [
            Disc(10, 10, 5, (0, 0, 0, 255)),
            Arc(50, 50, 20, 4, 0, 90, (255, 0, 0, 128)),
            Arc(50, 50, 20, 4, 0, 360, (0, 0, 255, 255)),
            Rect(0, 0, 4, 2, (0, 255, 0, 255)),
            Stroke(((0, 0), (3, 4)), 2, (0, 0, 0, 255), closed=True),
        ],
        white,
        dx=1,
    )
    assert items[0] == ("oval", (6, 5, 16, 15), {"fill": "#000000", "outline": ""})
    kind, box, options = items[1]
    # a quarter clockwise from 12 o'clock is Tk's 0..90 counterclockwise from 3
    assert (kind, box, options["start"], options["extent"]) == ("arc", (31, 30, 71, 70), 0, 90)
    assert options["outline"] == "#ff7f7f"
    assert items[2][0:2] == ("oval", (31, 30, 71, 70))
    assert items[3] == ("rectangle", (1, 0, 5, 2), {"fill": "#00ff00", "outline": ""})
    assert items[4][1] == (1, 0, 4, 4, 1, 0)
