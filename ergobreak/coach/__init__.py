"""The drill coach: a small Tk window, in a process of its own, that guides a drill.

The daemon starts it for one drill (``link.py``) and tells it what the core decided
(``protocol.py``: JSON lines on its stdin); the window (``window.py``, drawing with
``canvas.py``) sends the user's buttons back as command requests on its stdout. The
daemon never imports Tk: only ``python -m ergobreak.coach`` does.
"""
