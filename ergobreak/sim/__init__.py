"""The simulation wing: the real core driven by scripted desk activity, no desktop.

- :mod:`~ergobreak.sim.trace`: desk-activity traces (``25m,active`` rows) compiled
  into timed inputs.
- :mod:`~ergobreak.sim.replay`: a trace through a :class:`~ergobreak.core.machine.DeskSession`,
  sampled every second or at the core's deadlines, and how ``ergobreak simulate``
  prints the result.
- :mod:`~ergobreak.sim.demo`: realistic break histories made by replaying varied
  workdays (``ergobreak report --demo``, the history tests).
- :mod:`~ergobreak.sim.testing`: helpers that make core tests read like observation logs.

It builds on ``core``, ``history`` and the content library; nothing but the CLI and
tests imports it, so the daemon never loads it.
"""
