"""The scheduler core: a pure state machine (timestamped inputs in, effects and the
next deadline out). Standard library only; no clock, thread, file or desktop API.
The theory of operation is the docstring of :mod:`ergobreak.core.machine`."""
