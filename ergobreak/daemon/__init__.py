"""The running daemon: engine loop, persistence, single instance and IPC.

The composition root that wires these to the desktop is :mod:`ergobreak.app`.
"""
